/* admin/admin.c - the admin API (/admin/v1): token, routing and the request plumbing.
 *
 * The HTTP front hands a request over (admin/admin.h); this file checks the bearer token
 * (admin/token.c), routes on the path to a resource's handlers (admin/parks.c,
 * admin/plates.c, admin/cards.c; the outbox routes in admin/outbox.c), parses the query and
 * the JSON body, and holds the reply, paging and list helpers they share (admin/internal.h).
 * The routes and their bodies are documented with examples in docs/admin-api.md. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "admin/admin.h"
#include "admin/internal.h"
#include "admin/outbox.h"
#include "admin/token.h"
#include "log.h"
#include "parklink/text.h"
#include "admission/registry.h"
#include "store/store.h"

#define LIST_DEFAULT 50
#define LIST_MAX 1000
static struct {
    struct store_session *s; /* the admin thread's: reads, and the token at start-up */
    int ready;
} adm;

int admin_init(struct store *st, const char *given_token, char *token_out, size_t token_out_len)
{
    char err[256];

    admin_cleanup();
    if ((adm.s = store_session_open(st, err, sizeof err)) == NULL) {
        log_error("admin: %s", err);
        return -1;
    }
    if (admin_token_init(adm.s, given_token, token_out, token_out_len) != 0)
        return -1;
    adm.ready = 1;
    return 0;
}

void admin_cleanup(void)
{
    adm.ready = 0;
    store_session_close(adm.s);
    adm.s = NULL;
}

/* ---- replies ---- */

void admin_reply_json(struct admin_reply *out, int status, json_t *j)
{
    static const char unbuilt[] = "{\"error\":\"internal error: the reply could not be built\"}";

    out->status = status;
    out->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (out->body == NULL) {
        /* json_pack() refuses a text that is not UTF-8: a bug here, not a reason to die */
        log_error("admin: a %d reply could not be built (no memory, or not UTF-8)", status);
        out->status = 500;
        if ((out->body = strdup(unbuilt)) == NULL)
            abort(); /* out of memory: server policy */
    }
}

void admin_reply_verror(struct admin_reply *out, int status, const char *fmt, va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof msg, fmt, ap);
    plk_utf8_repair(msg, strlen(msg)); /* it may quote the request's bytes, or be cut short */
    admin_reply_json(out, status, json_pack("{s:s}", "error", msg));
}

void admin_reply_error(struct admin_reply *out, int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    admin_reply_verror(out, status, fmt, ap);
    va_end(ap);
}

void admin_send(struct req *r, int status, json_t *j)
{
    admin_reply_json(r->out, status, j);
}

void admin_error(struct req *r, int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    admin_reply_verror(r->out, status, fmt, ap);
    va_end(ap);
}

void admin_committed(struct req *r, int status, json_t *j)
{
    if (registry_reload() != 0) {
        json_decref(j);
        admin_error(r, 500,
                    "the change was committed, but reloading the admission snapshot "
                    "failed; see the server log");
        return;
    }
    admin_send(r, status, j);
}

void admin_store_error(struct req *r, enum store_result sr, const char *what)
{
    switch (sr) {
    case STORE_NOT_FOUND:
        admin_error(r, 404, "no %s", what);
        break;
    case STORE_CONFLICT:
        admin_error(r, 409, "%s already exists", what);
        break;
    case STORE_IN_USE:
        admin_error(r, 409, "%s is still referenced", what);
        break;
    case STORE_BUSY: /* nothing was written; the same request may succeed later */
        admin_error(r, 503,
                    "the database is locked by another process; nothing was written, "
                    "retry later");
        break;
    case STORE_FULL:
        admin_error(r, 503, "the disk is full; nothing was written, retry once there is room");
        break;
    default:
        admin_error(r, 500, "internal store error (%s); see the server log", store_strerror(sr));
        break;
    }
}

void admin_deleted_id(struct req *r, enum store_result sr, int64_t id, const char *what)
{
    if (sr == STORE_OK)
        admin_committed(r, 200, json_pack("{s:b,s:I}", "deleted", 1, "id", (json_int_t)id));
    else if (sr == STORE_NOT_FOUND)
        admin_error(r, 404, "no %s with id %" PRId64, what, id);
    else
        admin_store_error(r, sr, what);
}

void admin_bad_method(struct req *r)
{
    admin_error(r, 405, "method %s is not allowed here", r->method);
}

int admin_bad(struct req *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    return -1;
}

json_t *admin_msg_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

/* ---- query string and lists ---- */

const char *admin_param(const struct req *r, const char *name)
{
    return admin_param_find(r->params, r->nparams, name);
}

char *admin_decode(const char *s, size_t n)
{
    int len = 0;
    char *d = curl_easy_unescape(NULL, s, (int)n, &len);

    if (d != NULL && strlen(d) != (size_t)len) {
        curl_free(d);
        d = NULL;
    }
    return d;
}

int admin_is_utf8(const char *s, size_t n)
{
    json_t *text = json_stringn(s, n); /* jansson checks UTF-8; NULL when it is not */

    json_decref(text);
    return text != NULL;
}

int admin_parse_query(const char *q, size_t n, struct admin_param *out, int max, int *count)
{
    size_t i = 0;

    *count = 0;
    while (q != NULL && i < n) {
        size_t j = i, eq;

        while (j < n && q[j] != '&')
            j++;
        if (j > i) {
            if (*count == max)
                return -1;
            for (eq = i; eq < j && q[eq] != '='; eq++)
                ;
            out[*count].key = admin_decode(q + i, eq - i);
            out[*count].val = admin_decode(q + eq + (eq < j), j - eq - (eq < j));
            if (out[*count].key == NULL || out[*count].val == NULL ||
                !admin_is_utf8(out[*count].key, strlen(out[*count].key)) ||
                !admin_is_utf8(out[*count].val, strlen(out[*count].val))) {
                curl_free(out[*count].key);
                curl_free(out[*count].val);
                return -2;
            }
            (*count)++;
        }
        i = j + 1;
    }
    return 0;
}

const char *admin_param_find(const struct admin_param *params, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(params[i].key, name) == 0)
            return params[i].val;
    return NULL;
}

static int parse_query(struct req *r, const char *q, size_t n)
{
    switch (admin_parse_query(q, n, r->params, ADMIN_MAX_PARAMS, &r->nparams)) {
    case -1:
        return admin_bad(r, "too many query parameters (at most %d)", ADMIN_MAX_PARAMS);
    case -2:
        return admin_bad(r, "bad percent-encoding in the query string (or not UTF-8)");
    default:
        return 0;
    }
}

int admin_check_params(struct req *r, const char *const *allowed)
{
    for (int i = 0; i < r->nparams; i++) {
        int ok = 0;

        for (int k = 0; allowed[k] != NULL && !ok; k++)
            ok = strcmp(r->params[i].key, allowed[k]) == 0;
        if (!ok)
            return admin_bad(r, "unknown query parameter '%s'", r->params[i].key);
    }
    return 0;
}

int admin_parse_num(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    long long v;

    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int admin_page_params(struct req *r, struct store_query *q, int text_key)
{
    const char *limit = admin_param(r, "limit"), *offset = admin_param(r, "offset");
    const char *after = admin_param(r, "after");

    q->limit = LIST_DEFAULT;
    q->state = -1;
    if (limit != NULL && admin_parse_num(limit, 1, LIST_MAX, &q->limit) != 0)
        return admin_bad(r, "query parameter 'limit' must be an integer 1-%d", LIST_MAX);
    if (offset != NULL && admin_parse_num(offset, 0, INT64_MAX, &q->offset) != 0)
        return admin_bad(r, "query parameter 'offset' must be a non-negative integer");
    if (after != NULL && text_key)
        q->after_key = after;
    else if (after != NULL && admin_parse_num(after, 0, INT64_MAX, &q->after_id) != 0)
        return admin_bad(r, "query parameter 'after' must be a non-negative integer (an id)");
    return 0;
}

int admin_list_query(struct req *r, const char *const *params, struct store_query *q, int text_key,
                     char plate[STORE_PLATE_MAX + 1])
{
    if (admin_check_params(r, params) != 0 || admin_page_params(r, q, text_key) != 0 ||
        (plate != NULL && admin_plate_param(r, plate, &q->plate) != 0)) {
        admin_error(r, 400, "%s", r->err);
        return -1;
    }
    return 0;
}

void admin_acc_add(struct list_acc *a, json_t *item, json_t *key)
{
    json_array_append_new(a->items, item);
    json_decref(a->last);
    a->last = key;
}
void admin_send_list(struct req *r, enum store_result sr, struct list_acc *a,
                     const struct store_query *q, int64_t total)
{
    json_t *j;

    if (sr != STORE_OK) {
        json_decref(a->items);
        json_decref(a->last);
        admin_store_error(r, sr, "list");
        return;
    }
    j = json_pack("{s:o,s:I,s:I,s:I}", "items", a->items, "total", (json_int_t)total, "limit",
                  (json_int_t)q->limit, "offset", (json_int_t)q->offset);
    if ((int64_t)json_array_size(json_object_get(j, "items")) == q->limit && a->last != NULL)
        json_object_set(j, "next_after", a->last);
    json_decref(a->last);
    admin_send(r, 200, j);
}
int admin_id_key(const char *key, int64_t *id)
{
    return admin_parse_num(key, 1, INT64_MAX, id) == 0;
}

/* ---- entry ---- */

static const struct route {
    const char *name;
    void (*collection)(struct req *r);
    void (*item)(struct req *r);
} routes[] = {
    {"vendors", admin_vendors_collection, admin_vendors_item},
    {"parks", admin_parks_collection, admin_parks_item},
    {"blacklist", admin_blacklist_collection, admin_blacklist_item},
    {"members", admin_members_collection, admin_members_item},
    {"reservations", admin_reservations_collection, admin_reservations_item},
    {"cards", admin_cards_collection, admin_cards_item},
    {"screen-texts", admin_screen_texts_collection, admin_screen_texts_item},
};

/* Does the Authorization header carry the admin token? */
static int authorized(const struct admin_request *rq, const char **why)
{
    const char *a = rq->authorization;
    size_t n = a ? rq->authorization_len : 0;

    while (n > 0 && (*a == ' ' || *a == '\t')) {
        a++;
        n--;
    }
    while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t'))
        n--;
    if (n < 7 || strncasecmp(a, "bearer ", 7) != 0) {
        *why = "missing bearer token: send 'Authorization: Bearer <admin token>'";
        return 0;
    }
    a += 7;
    n -= 7;
    while (n > 0 && *a == ' ') {
        a++;
        n--;
    }
    if (!admin_token_check(a, n)) {
        *why = "wrong admin token";
        return 0;
    }
    return 1;
}

int admin_token_matches(const char *authorization, size_t len)
{
    struct admin_request rq = {.authorization = authorization, .authorization_len = len};
    const char *why;

    return adm.ready && authorized(&rq, &why);
}

void admin_handle(const struct admin_request *rq, struct admin_reply *out)
{
    struct req r = {.method = rq->method ? rq->method : "", .s = adm.s, .out = out};
    const char *p = rq->path ? rq->path : "", *why = NULL;
    size_t n = rq->path ? rq->path_len : 0, seg_len, rest;
    const struct route *route = NULL;
    json_error_t jerr;

    out->status = 500;
    out->body = NULL;
    if (!adm.ready) {
        admin_error(&r, 503, "the admin API is not initialised");
        goto out;
    }
    if (!authorized(rq, &why)) {
        admin_error(&r, 401, "%s", why);
        goto out;
    }
    /* the outbox, commands, questions, vendors' delivery settings: admin/outbox.c */
    if (admin_outbox_owns(rq->path, rq->path_len)) {
        admin_outbox_handle(adm.s, rq, out);
        goto out;
    }
    /* path: /{resource}[/{key}][/] */
    while (n > 0 && p[n - 1] == '/')
        n--;
    if (n == 0 || p[0] != '/') {
        admin_error(&r, 404,
                    "unknown admin path; resources: vendors, parks, blacklist, "
                    "members, reservations, cards, screen-texts");
        goto out;
    }
    p++;
    n--;
    for (seg_len = 0; seg_len < n && p[seg_len] != '/'; seg_len++)
        ;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strlen(routes[i].name) == seg_len && memcmp(routes[i].name, p, seg_len) == 0)
            route = &routes[i];
    }
    rest = seg_len < n ? n - seg_len - 1 : 0;
    if (route == NULL || (rest > 0 && memchr(p + seg_len + 1, '/', rest) != NULL)) {
        admin_error(&r, 404,
                    "unknown admin path '/%.*s'; resources: vendors, parks, "
                    "blacklist, members, reservations, cards, screen-texts",
                    (int)(n > 200 ? 200 : n), p);
        goto out;
    }
    if (rest > 0 && (r.key = admin_decode(p + seg_len + 1, rest)) == NULL) {
        admin_error(&r, 404, "bad percent-encoding in the path");
        goto out;
    }
    if (r.key != NULL && !admin_is_utf8(r.key, strlen(r.key))) {
        /* no stored key is anything but UTF-8 (the reply shows the bytes as '?') */
        admin_error(&r, 404, "no %s '%s': the key is not UTF-8", route->name, r.key);
        goto out;
    }
    if (parse_query(&r, rq->query, rq->query ? rq->query_len : 0) != 0) {
        admin_error(&r, 400, "%s", r.err);
        goto out;
    }
    if (strcmp(r.method, "POST") == 0 || strcmp(r.method, "PUT") == 0 ||
        strcmp(r.method, "PATCH") == 0) {
        if (rq->body == NULL || rq->body_len == 0) {
            admin_error(&r, 400, "the request body must be a JSON object");
            goto out;
        }
        r.body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (r.body == NULL) {
            admin_error(&r, 400, "invalid JSON body: %s (line %d, column %d)", jerr.text, jerr.line,
                        jerr.column);
            goto out;
        }
        if (!json_is_object(r.body)) {
            admin_error(&r, 400, "the request body must be a JSON object");
            goto out;
        }
    }
    if (r.key != NULL)
        route->item(&r);
    else
        route->collection(&r);
out:
    json_decref(r.body);
    curl_free(r.key);
    for (int i = 0; i < r.nparams; i++) {
        curl_free(r.params[i].key);
        curl_free(r.params[i].val);
    }
}
