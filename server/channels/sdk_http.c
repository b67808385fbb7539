/* sdk_http.c - POST /bpd/upload.do: SDK login and acknowledgements (see sdk_http.h).
 *
 * The same checks as the vendor pipeline, in the same order (body cap, envelope, vendor,
 * sign, rate limit), except that after login the vendor comes from the session token, not
 * from a union_id. An acknowledgement is recorded by the delivery thread (never a store
 * write on a worker) and answered when it is durable; the request waits meanwhile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "http/worker.h"
#include "log.h"
#include "metrics.h"
#include "outbox/delivery.h"
#include "channels/longpoll.h"
#include "channels/sdk_http.h"
#include "channels/sdk_session.h"
#include "parklink/envelope.h"
#include "parklink/services.h"
#include "http/ratelimit.h"
#include "admission/registry.h"
#include "http/reply.h"

#define UPLOAD_PATH "/bpd/upload.do"
#define DOWNLOAD_PATH "/bpd/download.do"

static size_t body_cap = 65536;

struct upload {
    struct delivery_ack ack; /* first: the job the delivery thread sends back */
    struct http_worker *w;
    h2o_req_t *req; /* NULL once the request is gone */
    struct upload **hook;
    uint64_t start_ns;
};

void sdk_http_init(size_t body_max)
{
    body_cap = body_max;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int path_is(h2o_iovec_t path, const char *lit)
{
    return path.len == strlen(lit) && memcmp(path.base, lit, path.len) == 0;
}

int sdk_http_match(h2o_iovec_t path)
{
    return path_is(path, UPLOAD_PATH) || path_is(path, DOWNLOAD_PATH);
}

/* Send a JSON object (taken) as the reply and count it under bpd_upload. */
static void send_json(struct http_worker *w, h2o_req_t *req, int status, json_t *o, uint64_t start)
{
    const struct plk_service *svc = plk_service_by_id("bpd_upload");
    json_t *st = json_object_get(o, "state");
    size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT);
    char *buf = h2o_mem_alloc_pool(&req->pool, n ? n : 1);

    json_dumpb(o, buf, n, JSON_COMPACT);
    if (svc != NULL)
        metrics_record(w->metrics, svc->index,
                       json_is_integer(st) ? (int)json_integer_value(st) : 0, now_ns() - start);
    json_decref(o);
    reply_send_raw(req, status, REPLY_JSON_TYPE, buf, n);
}

/* {"state":state,"errmsg":errmsg[,"service_name":name]} */
static void send_state(struct http_worker *w, h2o_req_t *req, int status, int state,
                       const char *errmsg, const char *name, uint64_t start)
{
    json_t *o = json_pack("{s:i,s:s}", "state", state, "errmsg", errmsg);

    if (name != NULL && o != NULL)
        json_object_set_new(o, "service_name", json_string(name));
    if (o == NULL)
        h2o_fatal("out of memory");
    send_json(w, req, status, o, start);
}

static const char *text_of(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return NULL;
}

/* ---- login ---- */

static void login(struct http_worker *w, h2o_req_t *req, struct plk_envelope *env, uint64_t start)
{
    const struct snapshot *snap = registry_current(&w->reader);
    const struct vendor *v = env->union_id[0] ? snapshot_vendor(snap, env->union_id) : NULL;
    const struct park *p;
    const char *park_id, *local_id;
    char pbuf[32], lbuf[32], token[SDK_TOKEN_LEN + 1];
    json_t *o;

    if (v == NULL) {
        send_state(w, req, 200, 0, plk_errmsg(PLK_E_UNKNOWN_VENDOR), "login", start);
        return;
    }
    if (plk_envelope_verify(env, v->ukey) != PLK_OK) {
        send_state(w, req, 200, 0, "error:签名错误", "login", start);
        return;
    }
    park_id = text_of(json_object_get(env->data, "park_id"), pbuf, sizeof pbuf);
    if (park_id == NULL || park_id[0] == '\0') {
        send_state(w, req, 200, 0, "未识别到park_id标记", "login", start);
        return;
    }
    p = snapshot_park(snap, park_id);
    if (p == NULL || strcmp(p->union_id, v->union_id) != 0) {
        send_state(w, req, 200, 0, "车场不存在", "login", start);
        return;
    }
    local_id = text_of(json_object_get(env->data, "local_id"), lbuf, sizeof lbuf);
    if (local_id != NULL && strlen(local_id) > SDK_LOCAL_ID_MAX) {
        send_state(w, req, 200, 0, "字段 local_id 超长(最多196个字符)", "login", start);
        return;
    }
    if (sdk_session_login(v->union_id, p->park_id, local_id ? local_id : "", v->ukey, token) != 0) {
        send_state(w, req, 200, 0, plk_errmsg(PLK_E_NOMEM), "login", start);
        return;
    }
    o = json_pack("{s:i,s:s,s:s,s:s}", "state", 1, "errmsg", "登录成功", "token", token,
                  "service_name", "login");
    if (o == NULL)
        h2o_fatal("out of memory");
    send_json(w, req, 200, o, start);
}

/* ---- acknowledgements ---- */

static void on_ack_done(struct outbox_worker_msg *m)
{
    struct upload *u = H2O_STRUCT_FROM_MEMBER(struct upload, ack.wm, m);
    struct delivery_ack *a = &u->ack;

    if (u->req != NULL) {
        json_t *o;
        const char *msg = a->store_error  ? plk_errmsg(PLK_E_IO)
                          : a->found == 0 ? "无待确认的消息"
                          : a->found == 2 ? "已确认过"
                                          : "已确认";

        *u->hook = NULL;
        o = json_pack("{s:i,s:s,s:s}", "state", a->store_error ? 0 : 1, "errmsg", msg,
                      "service_name", a->service_name);
        if (o != NULL && !a->store_error && a->found != 0)
            json_object_set_new(o, "message_id", json_integer((json_int_t)a->acked_id));
        if (o == NULL)
            h2o_fatal("out of memory");
        send_json(u->w, u->req, 200, o, u->start_ns);
    }
    http_worker_end(u->w);
    free(a->answer);
    free(u);
}

static void on_dispose(void *p)
{
    struct upload *u = *(struct upload **)p;

    if (u != NULL)
        u->req = NULL;
}

static void acknowledge(struct http_worker *w, h2o_req_t *req, struct plk_envelope *env,
                        const struct sdk_session *s, const char *name, uint64_t start)
{
    const json_t *state = json_object_get(env->data, "state");
    const json_t *id = json_object_get(env->data, "message_id");
    const json_t *msg = json_object_get(env->data, "errmsg");
    struct upload *u = calloc(1, sizeof *u);
    struct delivery_ack *a;

    if (u == NULL || (u->ack.answer = malloc(env->data_len + 1)) == NULL)
        h2o_fatal("out of memory");
    a = &u->ack;
    if (id == NULL)
        id = json_object_get(env->root, "message_id");
    a->wm.run = on_ack_done;
    a->receiver = &w->outbox_done;
    snprintf(a->union_id, sizeof a->union_id, "%s", s->union_id);
    snprintf(a->park_id, sizeof a->park_id, "%s", s->park_id);
    snprintf(a->service_name, sizeof a->service_name, "%s", name);
    if (json_is_integer(id))
        a->message_id = json_integer_value(id);
    else if (json_is_string(id))
        a->message_id = strtoll(json_string_value(id), NULL, 10);
    a->ok = (json_is_integer(state) && json_integer_value(state) == 1) ||
            (json_is_string(state) && strcmp(json_string_value(state), "1") == 0);
    if (json_is_string(msg))
        snprintf(a->error, sizeof a->error, "%s", json_string_value(msg));
    memcpy(a->answer, env->data_text, env->data_len);
    a->answer[env->data_len] = '\0';
    a->answer_len = env->data_len;

    u->w = w;
    u->req = req;
    u->start_ns = start;
    u->hook = h2o_mem_alloc_shared(&req->pool, sizeof *u->hook, on_dispose);
    *u->hook = u;
    http_worker_begin(w);
    delivery_ack(a);
}

void sdk_http_upload(struct http_worker *w, h2o_req_t *req)
{
    uint64_t start = now_ns();
    struct plk_envelope env;
    struct sdk_session s;
    const struct plk_service *row;
    const struct snapshot *snap;
    const struct vendor *v;
    const json_t *top_name, *token;
    const char *name;
    enum plk_status st;

    st = plk_envelope_parse(&env, req->entity.base, req->entity.len, body_cap,
                            PLK_ENV_UNION_ID_OPTIONAL);
    if (st != PLK_OK) {
        send_state(w, req, st == PLK_E_TOO_LARGE ? 413 : 200, 0,
                   st == PLK_E_NOT_JSON ? "数据格式错误!" : plk_errmsg(st), NULL, start);
        return;
    }
    /* the SDK names the message at the top level; the parkInfo wrapper (12.7) names the
     * chapter-11 message inside data, and that one is what it acknowledges */
    top_name = json_object_get(env.root, "service_name");
    name = env.service_name;
    if (json_is_string(top_name) && strcmp(json_string_value(top_name), "parkInfo") != 0)
        name = json_string_value(top_name);
    if (name == NULL) {
        send_state(w, req, 200, 0, "未识别到service_name标记", NULL, start);
        goto out;
    }
    if (strcmp(name, "login") == 0) {
        login(w, req, &env, start);
        goto out;
    }
    token = json_object_get(env.root, "token");
    if (!json_is_string(token)) {
        send_state(w, req, 200, 0, "未识别到token标记", name, start);
        goto out;
    }
    snap = registry_current(&w->reader);
    if ((st = sdk_session_get(json_string_value(token), &s)) != PLK_OK) {
        send_state(w, req, 200, 0, plk_errmsg(st), name, start);
        goto out;
    }
    /* the sweep after each publish ends sessions of a changed key; this closes the moment
     * between the publish and the sweep */
    if (!sdk_session_valid(&s, snap) || (v = snapshot_vendor(snap, s.union_id)) == NULL) {
        send_state(w, req, 200, 0, plk_errmsg(PLK_E_SESSION_REVOKED), name, start);
        goto out;
    }
    if (plk_envelope_verify(&env, v->ukey) != PLK_OK) {
        send_state(w, req, 200, 0, "error:签名错误", name, start);
        goto out;
    }
    if (ratelimit_enabled() && !ratelimit_allow(v->union_id, (int64_t)time(NULL))) {
        send_state(w, req, 429, 0, "request_over_times", name, start);
        goto out;
    }
    row = plk_service_by_name(name, PLK_DIR_P2V);
    if (row == NULL) {
        char msg[128];

        snprintf(msg, sizeof msg, "接口暂未开放: %.64s", name);
        send_state(w, req, 200, 0, msg, name, start);
        goto out;
    }
    acknowledge(w, req, &env, &s, row->service_name, start);
out:
    plk_envelope_cleanup(&env);
}

void sdk_http_serve(struct http_worker *w, h2o_req_t *req)
{
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        metrics_http(w->metrics, METRICS_HTTP_E405);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("POST"));
        reply_send(req, 405, 0, "请求方法不允许", NULL, 0);
        return;
    }
    metrics_http(w->metrics, METRICS_HTTP_UNIONAPI);
    if (path_is(req->path_normalized, UPLOAD_PATH))
        sdk_http_upload(w, req);
    else
        longpoll_download(w, req);
}
