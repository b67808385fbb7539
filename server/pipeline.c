/* pipeline.c - every vendor request, one fixed order of checks (DESIGN decisions 1-5).
 *
 * The order matters: cheap checks that need nothing come first, nothing is decoded twice,
 * the vendor's key is known before the signature is checked, the signature is checked
 * before any field of `data` is trusted, and ownership before any handler can write. The
 * service table's flags decide which steps apply; handlers never repeat them. */
#include <openssl/crypto.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <h2o.h>

#include "api/handlers.h"
#include "config.h"
#include "http_worker.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "ratelimit.h"
#include "readers.h"
#include "registry.h"
#include "replay.h"
#include "reply.h"
#include "router.h"
#include "wallclock.h"

/* Texts of refusals that exist only in the server (the protocol's own texts are in
 * lib/status.c, plk_errmsg()). */
#define MSG_NOT_OPEN "接口暂未开放"
#define MSG_RATE_LIMITED "请求过于频繁，请稍后再试"

static size_t body_max;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int pipeline_init(const struct config *cfg)
{
    body_max = cfg->body_max;
    if (router_init() != 0 || handlers_init() != 0)
        return -1;
    return 0;
}

void pipeline_cleanup(void)
{
    replay_cleanup();
    handlers_cleanup();
    router_cleanup();
}

void *pipeline_alloc(struct api_call *call, size_t size)
{
    return h2o_mem_alloc_pool(&call->req->pool, size);
}

const char *pipeline_quote(struct api_call *call, const char *s, size_t *len)
{
    return reply_quote(&call->req->pool, s, len);
}

void pipeline_reply(struct api_call *call, int state, const char *errmsg)
{
    call->state = state;
    call->errmsg = errmsg;
    call->data = NULL;
    call->data_len = 0;
    call->members = NULL;
    call->members_len = 0;
}

void pipeline_reply_data(struct api_call *call, int state, const char *errmsg, const char *data,
                         size_t len)
{
    call->state = state;
    call->errmsg = errmsg;
    call->data = data;
    call->data_len = len;
    call->members = NULL;
    call->members_len = 0;
}

void pipeline_reply_members(struct api_call *call, const char *members, size_t len)
{
    call->members = members;
    call->members_len = len;
}

/* reply_build's {"state":N,"errmsg":Q[,"data":D]} with ",MEMBERS" spliced in after Q. */
static h2o_iovec_t splice_members(h2o_mem_pool_t *pool, h2o_iovec_t body,
                                  const struct api_call *call)
{
    size_t tail = 1 + (call->data ? sizeof ",\"data\":" - 1 + call->data_len : 0);
    size_t head = body.len - tail;
    char *out = h2o_mem_alloc_pool(pool, body.len + 1 + call->members_len);

    memcpy(out, body.base, head);
    out[head] = ',';
    memcpy(out + head + 1, call->members, call->members_len);
    memcpy(out + head + 1 + call->members_len, body.base + head, tail);
    return h2o_iovec_init(out, body.len + 1 + call->members_len);
}

int pipeline_reply_json(struct api_call *call, int state, const char *errmsg, json_t *data)
{
    size_t need = json_dumpb(data, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    char *buf;

    if (need == 0) {
        json_decref(data);
        pipeline_reply(call, 0, plk_errmsg(PLK_E_NOMEM));
        return -1;
    }
    buf = pipeline_alloc(call, need);
    json_dumpb(data, buf, need, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(data);
    pipeline_reply_data(call, state, errmsg, buf, need);
    return 0;
}

const char *pipeline_text(struct api_call *call, const char *name, char *buf, size_t cap)
{
    struct plk_value v;
    char num[32];

    if (!plk_envelope_member(&call->env, name, &v, num) ||
        (v.kind != PLK_K_STR && v.kind != PLK_K_INT) || v.len >= cap)
        return NULL;
    memcpy(buf, v.text, v.len);
    buf[v.len] = '\0';
    return buf;
}

int64_t pipeline_int(struct api_call *call, const char *name, int64_t fallback)
{
    struct plk_value v;
    char num[32];

    if (!plk_envelope_member(&call->env, name, &v, num))
        return fallback;
    if (v.kind == PLK_K_INT)
        return v.i;
    if (v.kind == PLK_K_REAL) /* 1.0: the schema accepted it as an integer */
        return v.d > -9.2e18 && v.d < 9.2e18 ? (int64_t)v.d : fallback;
    if (v.kind == PLK_K_STR && v.len > 0)
        return strtoll(v.text, NULL, 10);
    return fallback;
}

/* errmsg = the table's text for st, then ": detail" when there is one. */
static void fail(struct api_call *call, enum plk_status st, const char *detail)
{
    const char *msg = plk_errmsg(st);

    if (detail && detail[0]) {
        size_t n = strlen(msg) + strlen(detail) + 3;
        char *buf = pipeline_alloc(call, n);
        snprintf(buf, n, "%s: %s", msg, detail);
        msg = buf;
    }
    pipeline_reply(call, 0, msg);
}

/* A schema failure names the field: 字段 car_number 缺失 / 类型错误 / 超长 / 取值无效 /
 * 超出范围 / 含有NUL字符 (the words are lib/status.c's, plk_field_errmsg). */
static void fail_field(struct api_call *call, enum plk_status st, const struct plk_field *f)
{
    const char *what = plk_field_errmsg(st);
    char *buf;
    size_t n;

    if (what == NULL || f == NULL) {
        fail(call, st, NULL);
        return;
    }
    n = strlen(f->name) + strlen(what) + 96;
    buf = pipeline_alloc(call, n);
    if (st == PLK_E_FIELD_TOO_LONG)
        snprintf(buf, n, "字段 %s %s(最多%u个字符)", f->name, what, (unsigned)f->max_len);
    else if ((st == PLK_E_FIELD_ENUM || st == PLK_E_FIELD_RANGE) && f->allowed)
        snprintf(buf, n, "字段 %s %s(可选 %.32s)", f->name, what, f->allowed);
    else if (st == PLK_E_FIELD_RANGE)
        snprintf(buf, n, "字段 %s %s(最多%u位数字)", f->name, what, (unsigned)f->max_len);
    else
        snprintf(buf, n, "字段 %s %s", f->name, what);
    pipeline_reply(call, 0, buf);
}

/* No json_t tree unless a step needs one: park_check's requests are answered from the
 * envelope's flat view alone. */
static unsigned envelope_flags(const struct plk_service *svc)
{
    if (svc && (svc->flags & PLK_SVC_UNSIGNED))
        return PLK_ENV_LAZY | PLK_ENV_SIGN_OPTIONAL | PLK_ENV_UNION_ID_OPTIONAL;
    return PLK_ENV_LAZY;
}

static enum plk_status verify_sign(struct api_call *call)
{
    char want[PLK_SIGN_LEN + 1];
    enum plk_status st;

    if (!(call->svc->flags & PLK_SVC_LEGACY_SIGN))
        return plk_envelope_verify(&call->env, call->vendor->ukey); /* constant time */
    /* legacy endpoints sign the sorted k=v text of data (spec 1.2.6) */
    if (call->env.sign[0] == '\0')
        return PLK_E_NO_SIGN;
    st = plk_sign_legacy(plk_envelope_data(&call->env), call->vendor->ukey, PLK_SIGN_LEGACY, want);
    if (st != PLK_OK)
        return st;
    return CRYPTO_memcmp(want, call->env.sign, PLK_SIGN_LEN) == 0 ? PLK_OK : PLK_E_SIGN_MISMATCH;
}

/* Is there a park to check: park_id present (not null), or required by the row? */
static int park_given(struct api_call *call, const struct plk_service *svc)
{
    const struct plk_field *f = plk_service_field(svc, "park_id");
    struct plk_value v;
    char num[32];

    return f == NULL || f->required ||
           (plk_envelope_member(&call->env, "park_id", &v, num) && v.kind != PLK_K_NULL);
}

/* A struct api_call (~3.5 KB, the envelope's flat view inline) is more than h2o's pool
 * takes from its chunks, so from the pool it would be a malloc and a free per request.
 * Each worker keeps the last one given back for its next request instead. Sanitizer builds
 * allocate each afresh, so a use after the call ended is still caught. */
#if defined(__SANITIZE_ADDRESS__)
#define KEEP_SPARE_CALL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KEEP_SPARE_CALL 0
#endif
#endif
#ifndef KEEP_SPARE_CALL
#define KEEP_SPARE_CALL 1
#endif

static struct api_call *call_take(struct http_worker *w)
{
    struct api_call *call = w->spare_call;

    if (call != NULL) {
        w->spare_call = NULL;
        return call;
    }
    return h2o_mem_alloc(sizeof *call); /* aborts when out of memory, as the pool would */
}

/* Give back a call that is finished and whose request is done with it. */
static void call_give(struct http_worker *w, struct api_call *call)
{
    if (KEEP_SPARE_CALL && w->spare_call == NULL)
        w->spare_call = call;
    else
        free(call);
}

/* A PENDING call's request is freed: after its reply, or before it (client gone). */
static void on_request_dispose(void *p)
{
    struct api_call *call = *(struct api_call **)p;

    if (!call->finished) {
        if (call->on_abandon)
            call->on_abandon(call);
        metrics_record(call->worker->metrics, call->stats_slot, 0, now_ns() - call->start_ns);
        plk_envelope_cleanup(&call->env);
        call->finished = 1;
        http_worker_end(call->worker);
    }
    call_give(call->worker, call);
}

void pipeline_run(struct http_worker *w, h2o_req_t *req, const struct route *route)
{
    struct api_call *call = call_take(w);
    const struct plk_service *svc = route->svc;
    const struct plk_field *bad = NULL;
    api_handler_fn handler;
    enum plk_status st;

    memset(call, 0, offsetof(struct api_call, env));
    plk_envelope_init(&call->env);
    call->http_status = 200;
    call->start_ns = now_ns();
    call->now = wallclock_now();
    call->req = req;
    call->worker = w;
    call->store = readers_get(w->index);
    call->stats_slot = svc ? svc->index : METRICS_UNROUTED;
    http_worker_begin(w);

    /* 1. route: http.c matched the path to a row (or to neworder/uploadData, whose row is
     *    chosen by service_name once the envelope is decoded, step 3b). */

    /* 2. body cap: before any decoding. h2o already refused bodies whose Content-Length
     *    (or chunked size) passed the cap; this catches the exact entity. */
    if (req->entity.len > body_max) {
        char detail[96];
        snprintf(detail, sizeof detail, "%zu 字节，上限 %zu 字节", req->entity.len, body_max);
        fail(call, PLK_E_TOO_LARGE, detail);
        call->http_status = 413;
        metrics_http(w->metrics, METRICS_HTTP_E413);
        goto done;
    }

    /* 3. envelope: decode once, find the raw `data` span the signature covers. */
    st = plk_envelope_parse(&call->env, req->entity.base, req->entity.len, 0, envelope_flags(svc));
    if (st != PLK_OK) {
        fail(call, st, call->env.detail);
        goto done;
    }
    /* 3b. route, second half: neworder/uploadData is dispatched on service_name. */
    if (route->upload_data) {
        if (call->env.service_name == NULL) {
            fail(call, PLK_E_NO_SERVICE_NAME, NULL);
            goto done;
        }
        if ((svc = router_by_name(call->env.service_name)) == NULL) {
            fail(call, PLK_E_UNKNOWN_SERVICE, call->env.service_name);
            goto done;
        }
        call->stats_slot = svc->index;
    }
    call->svc = svc;

    /* 4. vendor: the snapshot current now serves the whole request. */
    call->snap = registry_current(&w->reader);
    if (!(svc->flags & PLK_SVC_UNSIGNED) || call->env.union_id[0]) {
        call->vendor = snapshot_vendor(call->snap, call->env.union_id);
        if (call->vendor == NULL) {
            fail(call, PLK_E_UNKNOWN_VENDOR, call->env.union_id);
            goto done;
        }
    }

    /* 5. sign: over the raw data text with the vendor's ukey, compared in constant time.
     *    The reply text is the reference's own (签名错误), without detail. */
    if (!(svc->flags & PLK_SVC_UNSIGNED)) {
        if ((st = verify_sign(call)) != PLK_OK) {
            fail(call, st, NULL);
            goto done;
        }
    }

    /* 5b. rate limit: after the signature, so only a vendor's own authenticated requests
     *     spend its budget. */
    if (call->vendor && ratelimit_enabled() &&
        !ratelimit_allow(call->vendor->union_id, call->now)) {
        pipeline_reply(call, 0, MSG_RATE_LIMITED);
        call->http_status = 429;
        metrics_http(w->metrics, METRICS_HTTP_E429);
        goto done;
    }

    /* 6. schema: required fields, types, lengths, allowed values of the row. */
    if ((st = plk_service_validate_envelope(svc, &call->env, &bad)) != PLK_OK) {
        fail_field(call, st, bad);
        goto done;
    }

    /* 7. park ownership: a vendor may touch only its own parks (DESIGN decision 5). Where
     *    park_id is optional (4.1 selects by park, order or plate) and absent, the handler
     *    limits itself to the vendor's parks. */
    if ((svc->flags & PLK_SVC_PARK_SCOPED) && park_given(call, svc)) {
        char park_id[80];
        if (pipeline_text(call, "park_id", park_id, sizeof park_id) == NULL ||
            (call->park = snapshot_park(call->snap, park_id)) == NULL) {
            fail(call, PLK_E_UNKNOWN_PARK, NULL);
            goto done;
        }
        if (strcmp(call->park->union_id, call->vendor ? call->vendor->union_id : "") != 0) {
            call->park = NULL;
            fail(call, PLK_E_FOREIGN_PARK, NULL);
            goto done;
        }
    }

    /* 7b. replay window: only for a vendor that opted in, on rows whose data carries rand or
     *     a timestamp (flag PLK_SVC_REPLAY, derived from the table). Last before the handler:
     *     a request refused by any earlier step is not remembered. One flag test otherwise
     *     (park_check has no such field). */
    if ((svc->flags & PLK_SVC_REPLAY) && call->vendor && call->vendor->replay_window_s > 0 &&
        (st = replay_check(call->vendor->union_id, call->vendor->replay_window_s, svc, &call->env,
                           call->now)) != PLK_OK) {
        fail(call, st, NULL);
        goto done;
    }

    /* 8. handler: business logic only. A row without one is refused honestly. */
    if ((handler = handlers_get(svc)) == NULL) {
        size_t n = strlen(MSG_NOT_OPEN) + strlen(svc->id) + 3;
        char *msg = pipeline_alloc(call, n);
        snprintf(msg, n, "%s: %s", MSG_NOT_OPEN, svc->id);
        pipeline_reply(call, 0, msg);
        goto done;
    }
    if (handlers_need_tree(svc) && plk_envelope_data(&call->env) == NULL) {
        fail(call, PLK_E_NOMEM, NULL);
        goto done;
    }
    if (handler(call) == API_PENDING) {
        struct api_call **hook;
        call->snap = NULL;
        call->vendor = NULL;
        call->park = NULL;
        hook = h2o_mem_alloc_shared(&req->pool, sizeof *hook, on_request_dispose);
        *hook = call;
        return;
    }

done:
    /* 9. reply and 10. stats; the reply is copied into the request's pool */
    pipeline_finish(call);
    call_give(w, call);
}

void pipeline_finish(struct api_call *call)
{
    h2o_req_t *req = call->req;
    struct http_worker *w = call->worker;
    h2o_iovec_t body;

    /* the body is copied into the pool first: errmsg or data may point into the envelope,
     * which is released before the send */
    body = reply_build(&req->pool, call->state, call->errmsg, call->data, call->data_len);
    if (call->members_len > 0)
        body = splice_members(&req->pool, body, call);
    metrics_record(w->metrics, call->stats_slot, call->state, now_ns() - call->start_ns);
    plk_envelope_cleanup(&call->env);
    call->finished = 1;
    http_worker_end(w);
    /* business replies are HTTP 200; HTTP-level refusals (413, 429) keep the JSON shape */
    reply_send_raw(req, call->http_status, REPLY_JSON_TYPE, body.base, body.len);
}
