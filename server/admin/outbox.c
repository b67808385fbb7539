/* admin/outbox.c - the outbox routes of the admin API (see admin/outbox.h).
 *
 * Same conventions as admin/admin.c (docs/admin-api.md): JSON in and out, {"error": "..."} naming
 * the field, lists with limit/offset/after and a total. Message fields are checked against
 * the service row (plk_service_validate, through outbox_prepare), never by hand. Times of
 * the outbox are unix milliseconds (fields ending in _ms): a scaled retry schedule goes
 * below a second. A question is written to the outbox like any message, then handed to the
 * delivery thread; the answer comes back through admin_request.later, so no thread waits. */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "admin/internal.h"
#include "admin/outbox.h"
#include "admin/write.h"
#include "log.h"
#include "outbox/delivery.h"
#include "outbox/outbox.h"
#include "outbox/receivers.h"
#include "parklink/envelope.h"
#include "parklink/services.h"
#include "store/store_outbox.h"

#define LIST_DEFAULT 50
#define LIST_MAX 1000
#define BULK_MAX 10000
#define ASK_TIMEOUT_MIN 100
#define ASK_TIMEOUT_MAX 60000
#define MAX_PARAMS 16

struct ctx {
    struct store_session *s;
    const struct admin_request *rq;
    struct admin_reply *out;
    const char *method;
    char *seg[4]; /* decoded path segments */
    int nseg;
    struct admin_param params[MAX_PARAMS];
    int nparams;
    json_t *body;
};

/* ---- replies ---- */

static void reply(struct ctx *c, int status, json_t *j)
{
    admin_reply_json(c->out, status, j);
}

static void reply_error(struct ctx *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_error(struct ctx *c, int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    admin_reply_verror(c->out, status, fmt, ap);
    va_end(ap);
}

static void reply_store(struct ctx *c, enum store_result sr)
{
    reply_error(c, 500, "internal store error (%s); see the server log", store_strerror(sr));
}

/* ---- path and query ---- */

/* Split the path into decoded segments; -1 if there are too many or one does not decode. */
static int split_path(struct ctx *c, const char *p, size_t n)
{
    size_t i = 0;

    while (n > 0 && p[n - 1] == '/')
        n--;
    while (i < n) {
        size_t j;

        if (p[i] == '/') {
            i++;
            continue;
        }
        for (j = i; j < n && p[j] != '/'; j++)
            ;
        if (c->nseg == 4 || (c->seg[c->nseg] = admin_decode(p + i, j - i)) == NULL)
            return -1;
        if (!admin_is_utf8(c->seg[c->nseg], strlen(c->seg[c->nseg]))) {
            curl_free(c->seg[c->nseg]);
            return -1;
        }
        c->nseg++;
        i = j;
    }
    return 0;
}

static const char *param(const struct ctx *c, const char *name)
{
    return admin_param_find(c->params, c->nparams, name);
}

/* Refuse unknown query parameters; 0 ok, -1 replied. */
static int only_params(struct ctx *c, const char *const *allowed)
{
    for (int i = 0; i < c->nparams; i++) {
        int ok = 0;

        for (int k = 0; allowed[k] != NULL && !ok; k++)
            ok = strcmp(c->params[i].key, allowed[k]) == 0;
        if (!ok) {
            reply_error(c, 400, "unknown query parameter '%s'", c->params[i].key);
            return -1;
        }
    }
    return 0;
}

/* Parse the JSON body into c->body (an object); -1 replied. */
static int need_body(struct ctx *c)
{
    json_error_t jerr;

    if (c->rq->body == NULL || c->rq->body_len == 0) {
        reply_error(c, 400, "the request body must be a JSON object");
        return -1;
    }
    c->body = json_loadb(c->rq->body, c->rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (c->body == NULL) {
        reply_error(c, 400, "invalid JSON body: %s (line %d, column %d)", jerr.text, jerr.line,
                    jerr.column);
        return -1;
    }
    if (!json_is_object(c->body)) {
        reply_error(c, 400, "the request body must be a JSON object");
        return -1;
    }
    return 0;
}

static int method_is(const struct ctx *c, const char *m)
{
    return strcmp(c->method, m) == 0;
}

static void reply_method(struct ctx *c)
{
    reply_error(c, 405, "method %s is not allowed here", c->method);
}

static int url_ok(const char *s)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *query = NULL;
    int ok = 0;

    if (u != NULL && curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK)
        ok = strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0;
    curl_free(scheme);
    curl_free(query);
    curl_url_cleanup(u);
    return ok && strlen(s) <= STORE_URL_MAX;
}

/* ---- views ---- */

static const char *state_name(int s)
{
    return s == STORE_OUTBOX_DELIVERED ? "delivered" : s == STORE_OUTBOX_DEAD ? "dead" : "pending";
}

static json_t *msg_json(const struct store_outbox_msg *m, int with_body)
{
    json_t *j = json_pack(
        "{s:I,s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:b}", "id", (json_int_t)m->id,
        "union_id", m->union_id, "park_id", m->park_id, "service_name", m->service_name, "kind",
        m->kind == STORE_OUTBOX_QUESTION ? "question" : "notice", "state", state_name(m->state),
        "attempts", m->attempts, "created_ms", (json_int_t)m->created, "next_at_ms",
        (json_int_t)(m->state == STORE_OUTBOX_PENDING ? m->next_at : 0), "delivered_at_ms",
        (json_int_t)m->delivered_at, "polled_at_ms", (json_int_t)m->polled_at, "last_error",
        m->last_error, "origin", m->origin, "notify_url", m->url, "in_flight",
        m->state == STORE_OUTBOX_PENDING && m->claimed_until > 0);

    if (j != NULL && with_body) {
        json_t *parsed = json_loadb(m->body, m->body_len, 0, NULL);

        json_object_set_new(j, "body", json_stringn(m->body, m->body_len));
        json_object_set_new(j, "message", parsed ? parsed : json_null());
    }
    return j;
}

struct outbox_list_acc {
    json_t *items;
    int64_t last;
};

static int on_row(void *arg, const struct store_outbox_msg *m)
{
    struct outbox_list_acc *a = arg;

    json_array_append_new(a->items, msg_json(m, 0));
    a->last = m->id;
    return 0;
}

struct show_acc {
    json_t *msg;
    json_t *history;
};

static int on_show_row(void *arg, const struct store_outbox_msg *m)
{
    ((struct show_acc *)arg)->msg = msg_json(m, 1);
    return 0;
}

static int on_attempt(void *arg, const struct store_outbox_attempt *a)
{
    json_array_append_new(((struct show_acc *)arg)->history,
                          json_pack("{s:I,s:i,s:i,s:s,s:s,s:s}", "at_ms", (json_int_t)a->at,
                                    "http_status", a->http_status, "duration_ms", a->duration_ms,
                                    "url", a->url, "error", a->error, "response", a->response));
    return 0;
}

/* ---- /outbox ---- */

static void outbox_list(struct ctx *c)
{
    static const char *const allowed[] = {"limit",   "offset",       "after", "union_id",
                                          "park_id", "service_name", "state", NULL};
    struct store_outbox_query q = {.limit = LIST_DEFAULT, .state = -1};
    struct outbox_list_acc a = {json_array(), 0};
    const char *s;
    enum store_result sr;
    int64_t total = 0;
    json_t *j;

    if (only_params(c, allowed) != 0)
        goto out;
    if ((s = param(c, "limit")) != NULL && admin_parse_num(s, 1, LIST_MAX, &q.limit) != 0) {
        reply_error(c, 400, "query parameter 'limit' must be an integer 1-%d", LIST_MAX);
        goto out;
    }
    if ((s = param(c, "offset")) != NULL && admin_parse_num(s, 0, INT64_MAX, &q.offset) != 0) {
        reply_error(c, 400, "query parameter 'offset' must be a non-negative integer");
        goto out;
    }
    if ((s = param(c, "after")) != NULL && admin_parse_num(s, 0, INT64_MAX, &q.after_id) != 0) {
        reply_error(c, 400, "query parameter 'after' must be a non-negative integer (an id)");
        goto out;
    }
    if ((s = param(c, "state")) != NULL) {
        if (strcmp(s, "pending") == 0)
            q.state = STORE_OUTBOX_PENDING;
        else if (strcmp(s, "delivered") == 0)
            q.state = STORE_OUTBOX_DELIVERED;
        else if (strcmp(s, "dead") == 0)
            q.state = STORE_OUTBOX_DEAD;
        else {
            reply_error(c, 400, "query parameter 'state' must be pending, delivered or dead");
            goto out;
        }
    }
    q.union_id = param(c, "union_id");
    q.park_id = param(c, "park_id");
    q.service_name = param(c, "service_name");
    sr = store_outbox_list(c->s, &q, on_row, &a, &total);
    if (sr != STORE_OK) {
        reply_store(c, sr);
        goto out;
    }
    j = json_pack("{s:O,s:I,s:I,s:I}", "items", a.items, "total", (json_int_t)total, "limit",
                  (json_int_t)q.limit, "offset", (json_int_t)q.offset);
    if ((int64_t)json_array_size(a.items) == q.limit)
        json_object_set_new(j, "next_after", json_integer(a.last));
    reply(c, 200, j);
out:
    json_decref(a.items);
}

static void outbox_item(struct ctx *c, int64_t id)
{
    struct show_acc a = {NULL, json_array()};
    enum store_result sr = store_outbox_get(c->s, id, on_show_row, on_attempt, &a);

    if (sr == STORE_NOT_FOUND) {
        reply_error(c, 404, "no outbox message with id %" PRId64, id);
    } else if (sr != STORE_OK || a.msg == NULL) {
        reply_store(c, sr);
    } else {
        json_object_set(a.msg, "history", a.history);
        reply(c, 200, a.msg);
        a.msg = NULL;
    }
    json_decref(a.msg);
    json_decref(a.history);
}

static void outbox_replay(struct ctx *c, int64_t id)
{
    enum store_result sr = admin_write(
        c->s, &(struct admin_op){.kind = AW_OUTBOX_REPLAY, .id = id, .now = outbox_now_ms()});
    struct show_acc a = {NULL, NULL};

    if (sr == STORE_NOT_FOUND) {
        reply_error(c, 404, "no outbox message with id %" PRId64, id);
    } else if (sr == STORE_CONFLICT) {
        reply_error(c, 409,
                    "outbox message %" PRId64 " is not a dead notice; only those are "
                    "replayed",
                    id);
    } else if (sr != STORE_OK) {
        reply_store(c, sr);
    } else if (store_outbox_get(c->s, id, on_show_row, NULL, &a) != STORE_OK || !a.msg) {
        reply_error(c, 500, "the message was replayed, but reading it back failed");
    } else {
        outbox_committed(json_string_value(json_object_get(a.msg, "union_id")),
                         json_string_value(json_object_get(a.msg, "park_id")));
        json_object_del(a.msg, "body");
        json_object_del(a.msg, "message");
        reply(c, 200, a.msg);
    }
}

static void outbox_route(struct ctx *c)
{
    int64_t id = 0;

    if (c->nseg == 1) {
        if (method_is(c, "GET"))
            outbox_list(c);
        else
            reply_method(c);
        return;
    }
    if (admin_parse_num(c->seg[1], 1, INT64_MAX, &id) != 0) {
        reply_error(c, 404, "no outbox message with id '%s'", c->seg[1]);
        return;
    }
    if (c->nseg == 2) {
        if (method_is(c, "GET"))
            outbox_item(c, id);
        else
            reply_method(c);
    } else if (c->nseg == 3 && strcmp(c->seg[2], "replay") == 0) {
        if (method_is(c, "POST"))
            outbox_replay(c, id);
        else
            reply_method(c);
    } else {
        reply_error(c, 404, "unknown admin path");
    }
}

/* ---- building messages: /commands and /ask ---- */

/* An admin-style text for a field the service row refused. */
static void field_error(char *out, size_t cap, const char *pfx, enum plk_status st,
                        const struct plk_field *f, const char *detail)
{
    if (f == NULL) {
        snprintf(out, cap, "%s%s", pfx, detail && detail[0] ? detail : plk_strerror(st));
        return;
    }
    switch (st) {
    case PLK_E_FIELD_MISSING:
        snprintf(out, cap, "field '%s%s' is required", pfx, f->name);
        break;
    case PLK_E_FIELD_TYPE:
        snprintf(out, cap, "field '%s%s' must be %s", pfx, f->name, plk_field_type_name(f->type));
        break;
    case PLK_E_FIELD_TOO_LONG:
        snprintf(out, cap, "field '%s%s' is longer than %u characters", pfx, f->name,
                 (unsigned)f->max_len);
        break;
    case PLK_E_FIELD_ENUM:
        snprintf(out, cap, "field '%s%s' must be one of %s", pfx, f->name,
                 f->allowed ? f->allowed : "?");
        break;
    case PLK_E_FIELD_RANGE:
        if (f->allowed)
            snprintf(out, cap, "field '%s%s' must be one of %s", pfx, f->name, f->allowed);
        else
            snprintf(out, cap, "field '%s%s' has more than %u digits", pfx, f->name,
                     (unsigned)f->max_len);
        break;
    case PLK_E_FIELD_NUL:
        snprintf(out, cap, "field '%s%s' holds U+0000", pfx, f->name);
        break;
    default:
        snprintf(out, cap, "field '%s%s': %s", pfx, f->name, detail);
        break;
    }
}

/* Prepare one message of row svc from the admin body item o: the park decides the vendor
 * (a union_id given must be its owner). 0, or an HTTP status with err set. */
static int build(struct ctx *c, const struct plk_service *svc, json_t *o, const char *pfx,
                 const char *origin, struct outbox_msg *out, char *err, size_t errlen)
{
    const char *park_field = plk_service_field(svc, "park_id") ? "park_id" : "comid";
    const json_t *pv = json_object_get(o, park_field), *nu = json_object_get(o, "notify_url");
    struct store_park *park = malloc(sizeof *park);
    struct store_vendor *v = malloc(sizeof *v);
    const struct plk_field *bad = NULL;
    char uid[PLK_UNION_ID_MAX + 1] = "", detail[192], park_id[STORE_PARK_ID_MAX + 1];
    struct outbox_spec spec;
    json_t *data = NULL;
    enum store_result sr;
    enum plk_status st;
    int rc = 400;

    if (park == NULL || v == NULL)
        goto fail_mem;
    if (!json_is_object(o)) {
        snprintf(err, errlen, "%smust be a JSON object", pfx[0] ? pfx : "the body ");
        goto out;
    }
    if (json_is_integer(pv))
        snprintf(park_id, sizeof park_id, "%" JSON_INTEGER_FORMAT, json_integer_value(pv));
    else if (json_is_string(pv) && json_string_length(pv) <= STORE_PARK_ID_MAX)
        snprintf(park_id, sizeof park_id, "%s", json_string_value(pv));
    else {
        snprintf(err, errlen, "field '%s%s' is required (a car-park id)", pfx, park_field);
        goto out;
    }
    sr = store_park_get(c->s, park_id, park);
    if (sr == STORE_NOT_FOUND) {
        snprintf(err, errlen, "field '%s%s': unknown park %s", pfx, park_field, park_id);
        goto out;
    }
    if (sr != STORE_OK) {
        rc = 500;
        snprintf(err, errlen, "internal store error (%s)", store_strerror(sr));
        goto out;
    }
    if (json_object_get(o, "union_id") != NULL &&
        (plk_union_id_text(json_object_get(o, "union_id"), uid) != PLK_OK ||
         strcmp(uid, park->union_id) != 0)) {
        snprintf(err, errlen, "field '%sunion_id' must be the park's vendor (%s)", pfx,
                 park->union_id);
        goto out;
    }
    if (nu != NULL && !json_is_null(nu) &&
        (!json_is_string(nu) || !url_ok(json_string_value(nu)))) {
        snprintf(err, errlen, "field '%snotify_url' must be an http:// or https:// URL", pfx);
        goto out;
    }
    if ((sr = store_vendor_get(c->s, park->union_id, v)) != STORE_OK) {
        rc = 500;
        snprintf(err, errlen, "the park's vendor %s cannot be read (%s)", park->union_id,
                 store_strerror(sr));
        goto out;
    }
    if ((data = json_deep_copy(o)) == NULL)
        goto fail_mem;
    json_object_del(data, "notify_url");
    /* the vendor's id goes where the row keeps it: the library places it */
    json_object_del(data, "union_id");
    spec = (struct outbox_spec){
        .svc = svc,
        .union_id = park->union_id,
        .ukey = v->ukey,
        .data = data,
        .notify_url = json_is_string(nu) ? json_string_value(nu) : NULL,
        .origin = origin,
    };
    st = outbox_prepare(&spec, out, &bad, detail, sizeof detail);
    if (st != PLK_OK) {
        field_error(err, errlen, pfx, st, bad, detail);
        goto out;
    }
    rc = 0;
    goto out;
fail_mem:
    rc = 500;
    snprintf(err, errlen, "out of memory");
out:
    json_decref(data);
    free(park);
    free(v);
    return rc;
}

static int is_command(const struct plk_service *svc)
{
    return svc != NULL && svc->dir == PLK_DIR_P2V && !(svc->flags & PLK_SVC_QUESTION) &&
           strncmp(svc->section, "11.", 3) == 0;
}

static int is_question(const struct plk_service *svc)
{
    return svc != NULL && svc->dir == PLK_DIR_P2V && (svc->flags & PLK_SVC_QUESTION) &&
           svc->service_name[0];
}

/* "a, b, c" of the rows pred accepts. */
static void names_of(int (*pred)(const struct plk_service *), char *out, size_t cap)
{
    size_t n = 0, count;
    const struct plk_service *t = plk_services(&count);

    out[0] = '\0';
    for (size_t i = 0; i < count; i++)
        if (pred(&t[i]) && n < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", t[i].service_name);
}

static void commands(struct ctx *c, const char *name)
{
    const struct plk_service *svc = plk_service_by_name(name, PLK_DIR_P2V);
    json_t *items, *one[1] = {NULL}, *ids;
    struct outbox_msg *m = NULL;
    size_t n = 0, built = 0;
    char err[512], pfx[32];
    enum store_result sr;
    int rc;

    if (!is_command(svc)) {
        names_of(is_command, err, sizeof err);
        reply_error(c, 404, "no command '%s'; commands: %s", name, err);
        return;
    }
    if (!method_is(c, "POST")) {
        reply_method(c);
        return;
    }
    if (only_params(c, (const char *const[]){NULL}) != 0 || need_body(c) != 0)
        return;
    items = json_object_get(c->body, "items");
    if (items != NULL) {
        if (!json_is_array(items) || json_array_size(items) == 0 ||
            json_array_size(items) > BULK_MAX || json_object_size(c->body) != 1) {
            reply_error(c, 400, "field 'items' must be an array of 1-%d messages (and alone)",
                        BULK_MAX);
            return;
        }
        n = json_array_size(items);
    } else {
        one[0] = c->body;
        n = 1;
    }
    if ((m = calloc(n, sizeof *m)) == NULL) {
        reply_error(c, 500, "out of memory");
        return;
    }
    for (built = 0; built < n; built++) {
        json_t *o = items ? json_array_get(items, built) : one[0];

        if (items)
            snprintf(pfx, sizeof pfx, "items[%zu].", built);
        else
            pfx[0] = '\0';
        if ((rc = build(c, svc, o, pfx, "admin: command", &m[built], err, sizeof err)) != 0) {
            reply_error(c, rc, "%s", err);
            goto out;
        }
    }
    sr = outbox_enqueue(c->s, m, n);
    if (sr != STORE_OK) {
        reply_store(c, sr);
        goto out;
    }
    if (!items) {
        reply(c, 202,
              json_pack("{s:I,s:s,s:s}", "id", (json_int_t)m[0].row.id, "state", "pending",
                        "service_name", svc->service_name));
    } else {
        ids = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(ids, json_integer(m[i].row.id));
        reply(c, 202,
              json_pack("{s:o,s:s,s:s}", "ids", ids, "state", "pending", "service_name",
                        svc->service_name));
    }
out:
    for (size_t i = 0; i < built; i++)
        outbox_msg_cleanup(&m[i]);
    free(m);
}

/* ---- /ask: a question answered later ---- */

struct ask {
    struct delivery_ask a;
    struct admin_reply *out;
    void (*later)(void *arg);
    void *later_arg;
    pthread_mutex_t mu; /* synchronous callers (no later) wait on cv */
    pthread_cond_t cv;
    int done;
};

static char *base64(const char *s, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);

    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    return out;
}

/* The reply of an answered question (delivery thread). */
static json_t *ask_json(const struct delivery_ask *a)
{
    json_t *j, *parsed;

    if (a->outcome != 200) {
        j = json_pack("{s:s,s:I,s:s}", "error", a->error, "id", (json_int_t)a->id, "via",
                      a->via_poll ? "poll" : "push");
        if (a->http_status)
            json_object_set_new(j, "http_status", json_integer(a->http_status));
        return j;
    }
    j = json_pack("{s:I,s:I,s:s,s:s}", "id", (json_int_t)a->id, "http_status",
                  (json_int_t)a->http_status, "via", a->via_poll ? "poll" : "push", "content_type",
                  a->content_type);
    parsed = a->answer ? json_loadb(a->answer, a->answer_len, 0, NULL) : NULL;
    if (parsed != NULL) {
        json_object_set_new(j, "answer", parsed);
    } else if (a->answer != NULL) {
        json_t *text = json_stringn(a->answer, a->answer_len);
        char *b64;

        if (text != NULL && memchr(a->answer, '\0', a->answer_len) == NULL) {
            json_object_set_new(j, "answer_text", text);
        } else {
            json_decref(text);
            b64 = base64(a->answer, a->answer_len);
            json_object_set_new(j, "answer_base64", json_string(b64 ? b64 : ""));
            free(b64);
        }
        json_object_set_new(j, "answer_bytes", json_integer((json_int_t)a->answer_len));
    } else {
        json_object_set_new(j, "answer", json_null());
    }
    return j;
}

static void on_answer(struct delivery_ask *a)
{
    struct ask *k = (struct ask *)a;
    json_t *j = ask_json(a);

    k->out->status = a->outcome;
    k->out->body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (k->out->body == NULL) {
        log_error("admin: out of memory building a reply");
        abort();
    }
    free(a->answer);
    free(a->body);
    if (k->later != NULL) {
        void (*later)(void *) = k->later;
        void *arg = k->later_arg;

        pthread_mutex_destroy(&k->mu);
        pthread_cond_destroy(&k->cv);
        free(k);
        later(arg);
        return;
    }
    pthread_mutex_lock(&k->mu);
    k->done = 1;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

static void ask(struct ctx *c, const char *name)
{
    const struct plk_service *svc = plk_service_by_name(name, PLK_DIR_P2V);
    static const char *const allowed[] = {"timeout_ms", NULL};
    struct outbox_msg m = {0};
    int64_t timeout = OUTBOX_TIMEOUT_MS;
    char err[512];
    enum store_result sr;
    struct ask *k;
    int rc;

    if (!is_question(svc)) {
        names_of(is_question, err, sizeof err);
        reply_error(c, 404, "no question '%s'; questions: %s", name, err);
        return;
    }
    if (!method_is(c, "POST")) {
        reply_method(c);
        return;
    }
    if (only_params(c, allowed) != 0)
        return;
    if (param(c, "timeout_ms") != NULL &&
        admin_parse_num(param(c, "timeout_ms"), ASK_TIMEOUT_MIN, ASK_TIMEOUT_MAX, &timeout) != 0) {
        reply_error(c, 400, "query parameter 'timeout_ms' must be an integer %d-%d",
                    ASK_TIMEOUT_MIN, ASK_TIMEOUT_MAX);
        return;
    }
    if (need_body(c) != 0)
        return;
    if ((rc = build(c, svc, c->body, "", "admin: ask", &m, err, sizeof err)) != 0) {
        reply_error(c, rc, "%s", err);
        return;
    }
    /* written first like every message: the question and its outcome stay on record */
    if ((sr = outbox_enqueue(c->s, &m, 1)) != STORE_OK) {
        outbox_msg_cleanup(&m);
        reply_store(c, sr);
        return;
    }
    if ((k = calloc(1, sizeof *k)) == NULL) {
        outbox_msg_cleanup(&m);
        reply_error(c, 500, "out of memory");
        return;
    }
    k->a.id = m.row.id;
    snprintf(k->a.union_id, sizeof k->a.union_id, "%s", m.row.union_id);
    snprintf(k->a.park_id, sizeof k->a.park_id, "%s", m.row.park_id);
    snprintf(k->a.service_name, sizeof k->a.service_name, "%s", m.row.service_name);
    k->a.body = m.body; /* handed over: freed in on_answer */
    k->a.body_len = strlen(m.body);
    k->a.timeout_ms = (unsigned)timeout;
    k->a.done = on_answer;
    k->out = c->out;
    k->later = c->rq->later;
    k->later_arg = c->rq->later_arg;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    if (k->later != NULL && c->rq->deferred != NULL) {
        *c->rq->deferred = 1;
        delivery_ask(&k->a); /* k, and c->out's job, may be gone when this returns */
        return;
    }
    k->later = NULL;
    delivery_ask(&k->a);
    pthread_mutex_lock(&k->mu);
    while (!k->done)
        pthread_cond_wait(&k->cv, &k->mu);
    pthread_mutex_unlock(&k->mu);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k);
}

/* ---- /vendors/{union_id}/delivery ---- */

static json_t *delivery_json(const struct store_delivery *d)
{
    json_t *urls = json_loads(d->urls[0] ? d->urls : "{}", 0, NULL);

    return json_pack("{s:s,s:s,s:o,s:I}", "union_id", d->union_id, "mode",
                     d->mode == STORE_DELIVERY_POLL ? "poll" : "push", "urls",
                     urls ? urls : json_object(), "updated", (json_int_t)d->updated);
}

/* Apply the body to d (PUT: from the defaults; PATCH: over what is stored). 0, -1 replied. */
static int parse_delivery(struct ctx *c, struct store_delivery *d, int full)
{
    const char *k;
    json_t *v, *mode = json_object_get(c->body, "mode"), *urls = json_object_get(c->body, "urls");
    json_t *cur = full ? json_object() : json_loads(d->urls[0] ? d->urls : "{}", 0, NULL);
    char *text;
    int rc = -1;

    if (cur == NULL)
        cur = json_object();
    json_object_foreach (c->body, k, v) {
        if (strcmp(k, "mode") != 0 && strcmp(k, "urls") != 0 && strcmp(k, "union_id") != 0 &&
            strcmp(k, "updated") != 0) {
            reply_error(c, 400, "unknown field '%s'", k);
            goto out;
        }
    }
    if (full)
        d->mode = STORE_DELIVERY_PUSH;
    if (mode != NULL) {
        if (json_is_string(mode) && strcmp(json_string_value(mode), "push") == 0)
            d->mode = STORE_DELIVERY_PUSH;
        else if (json_is_string(mode) && strcmp(json_string_value(mode), "poll") == 0)
            d->mode = STORE_DELIVERY_POLL;
        else {
            reply_error(c, 400, "field 'mode' must be \"push\" or \"poll\"");
            goto out;
        }
    }
    if (urls != NULL && !json_is_null(urls)) {
        if (!json_is_object(urls)) {
            reply_error(c, 400, "field 'urls' must be an object {\"service_name\": \"URL\"}");
            goto out;
        }
        json_object_foreach (urls, k, v) {
            const struct plk_service *svc = plk_service_by_name(k, PLK_DIR_P2V);

            if (svc == NULL || svc->service_name[0] == '\0') {
                reply_error(c, 400, "field 'urls.%s': not the service_name of a callback", k);
                goto out;
            }
            if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
                json_object_del(cur, k);
            } else if (!json_is_string(v) || !url_ok(json_string_value(v))) {
                reply_error(c, 400, "field 'urls.%s' must be an http:// or https:// URL", k);
                goto out;
            } else {
                json_object_set(cur, k, v);
            }
        }
    }
    text = json_dumps(cur, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL || strlen(text) > STORE_OUTBOX_URLS_MAX) {
        reply_error(c, 400, "field 'urls': too many URLs (%d bytes at most)",
                    STORE_OUTBOX_URLS_MAX);
        free(text);
        goto out;
    }
    snprintf(d->urls, sizeof d->urls, "%s", text);
    free(text);
    rc = 0;
out:
    json_decref(cur);
    return rc;
}

static void delivery(struct ctx *c, const char *key)
{
    struct store_delivery *d = calloc(1, sizeof *d);
    struct store_vendor *v = malloc(sizeof *v);
    char uid[PLK_UNION_ID_MAX + 1];
    json_t *kv = json_string(key); /* NULL too when key is not UTF-8: then no union_id */
    enum store_result sr;

    if (d == NULL || v == NULL) {
        reply_error(c, 500, "out of memory");
        goto out;
    }
    if (kv == NULL || plk_union_id_text(kv, uid) != PLK_OK ||
        (sr = store_vendor_get(c->s, uid, v)) == STORE_NOT_FOUND) {
        reply_error(c, 404, "no vendor with union_id '%s'", key);
        goto out;
    }
    if (sr != STORE_OK) {
        reply_store(c, sr);
        goto out;
    }
    sr = store_delivery_get(c->s, uid, d);
    if (sr == STORE_NOT_FOUND) {
        snprintf(d->union_id, sizeof d->union_id, "%s", uid);
        snprintf(d->urls, sizeof d->urls, "{}");
    } else if (sr != STORE_OK) {
        reply_store(c, sr);
        goto out;
    }
    if (method_is(c, "GET")) {
        reply(c, 200, delivery_json(d));
        goto out;
    }
    if (!method_is(c, "PUT") && !method_is(c, "PATCH")) {
        reply_method(c);
        goto out;
    }
    if (need_body(c) != 0 || parse_delivery(c, d, method_is(c, "PUT")) != 0)
        goto out;
    sr = admin_write(c->s, &(struct admin_op){.kind = AW_DELIVERY_PUT, .row.delivery = d});
    if (sr == STORE_FOREIGN_KEY) {
        reply_error(c, 404, "no vendor with union_id %s", uid);
        goto out;
    }
    if (sr != STORE_OK) {
        reply_store(c, sr);
        goto out;
    }
    receivers_put(d);
    delivery_settings_changed(uid);
    reply(c, 200, delivery_json(d));
out:
    json_decref(kv);
    free(d);
    free(v);
}

/* ---- entry ---- */

static int seg_is(const char *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);

    return n >= l + 1 && p[0] == '/' && memcmp(p + 1, lit, l) == 0 &&
           (n == l + 1 || p[l + 1] == '/');
}

int admin_outbox_owns(const char *path, size_t len)
{
    const char *p = path;
    size_t n = path ? len : 0;

    if (seg_is(p, n, "outbox") || seg_is(p, n, "commands") || seg_is(p, n, "ask"))
        return 1;
    /* /vendors/{union_id}/delivery */
    if (seg_is(p, n, "vendors")) {
        const char *slash = memchr(p + 9, '/', n > 9 ? n - 9 : 0);

        if (slash != NULL) {
            size_t rest = n - (size_t)(slash - p);

            while (rest > 0 && slash[rest - 1] == '/')
                rest--;
            return rest == 9 && memcmp(slash, "/delivery", 9) == 0;
        }
    }
    return 0;
}

void admin_outbox_handle(struct store_session *s, const struct admin_request *rq,
                         struct admin_reply *out)
{
    struct ctx c = {.s = s, .rq = rq, .out = out, .method = rq->method ? rq->method : ""};

    out->status = 500;
    out->body = NULL;
    if (split_path(&c, rq->path, rq->path_len) != 0 || c.nseg == 0) {
        reply_error(&c, 404, "unknown admin path");
        goto out;
    }
    if (admin_parse_query(rq->query, rq->query ? rq->query_len : 0, c.params, MAX_PARAMS,
                          &c.nparams) != 0) {
        reply_error(&c, 400,
                    "bad query string (bad percent-encoding, or more than %d "
                    "parameters)",
                    MAX_PARAMS);
        goto out;
    }
    if (strcmp(c.seg[0], "outbox") == 0)
        outbox_route(&c);
    else if (strcmp(c.seg[0], "commands") == 0 && c.nseg == 2)
        commands(&c, c.seg[1]);
    else if (strcmp(c.seg[0], "ask") == 0 && c.nseg == 2)
        ask(&c, c.seg[1]);
    else if (strcmp(c.seg[0], "vendors") == 0 && c.nseg == 3)
        delivery(&c, c.seg[1]);
    else
        reply_error(&c, 404, "unknown admin path");
out:
    json_decref(c.body);
    for (int i = 0; i < c.nseg; i++)
        curl_free(c.seg[i]);
    for (int i = 0; i < c.nparams; i++) {
        curl_free(c.params[i].key);
        curl_free(c.params[i].val);
    }
}
