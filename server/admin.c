/* admin.c - the admin API (/admin/v1): vendors, parks, blacklist, members, reservations,
 * monthly cards and lane screen texts.
 *
 * The HTTP front hands a request over (admin.h); this file checks the bearer token against
 * the stored SHA-256, routes on the path, validates the JSON body field by field (every
 * error names the field), calls the store, and after every committed change reloads the
 * registry so the next park_check sees it. Replies are JSON built with jansson. The routes
 * and their bodies are documented with examples in docs/admin-api.md. */
#include <inttypes.h>
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

#include "admin.h"
#include "admin_outbox.h"
#include "log.h"
#include "parklink/envelope.h"
#include "registry.h"
#include "store/store.h"
#include "store/store_orders.h"

#define TOKEN_SETTING "admin_token_sha256"
#define TOKEN_RANDOM_BYTES 32
#define TOKEN_MAX 256
#define LIST_DEFAULT 50
#define LIST_MAX 1000
#define BULK_MAX 100000
#define PLATE_MAX_CHARS 16
#define PLOTS_MAX 10000000
#define MAX_PARAMS 16

static struct {
    struct store *st;
    unsigned char hash[32];
    int ready;
} adm;

struct param {
    char *key, *val;
};

/* One request being handled. */
struct req {
    const char *method;
    char *key; /* decoded item segment (/vendors/{key}), or NULL */
    struct param params[MAX_PARAMS];
    int nparams;
    json_t *body; /* for POST/PUT/PATCH: the decoded object */
    struct admin_reply *out;
    char err[320]; /* validation message for a 400 */
};

/* ---- token ---- */

static int sha256(const char *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;

    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

static void hex(const unsigned char *buf, size_t len, char *out)
{
    size_t n = 0;

    OPENSSL_buf2hexstr_ex(out, len * 2 + 1, &n, buf, len, '\0');
}

static int token_ok(const char *t, size_t n)
{
    if (n == 0 || n > TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < 0x21 || t[i] > 0x7e)
            return 0;
    }
    return 1;
}

static void copy_out(char *out, size_t len, const char *s)
{
    if (out != NULL && len > 0)
        snprintf(out, len, "%s", s);
}

int admin_init(struct store *st, const char *given_token, char *token_out, size_t token_out_len)
{
    char stored[STORE_SETTING_MAX + 1], hexhash[65];
    unsigned char raw[TOKEN_RANDOM_BYTES];
    char token[TOKEN_RANDOM_BYTES * 2 + 1];
    enum store_result r;
    long n = 0;
    unsigned char *buf = NULL;
    int rc = -1;

    adm.ready = 0;
    adm.st = st;
    copy_out(token_out, token_out_len, "");
    if (given_token != NULL) {
        if (!token_ok(given_token, strlen(given_token))) {
            log_error("admin: the admin token must be 1-%d printable ASCII characters without "
                      "spaces",
                      TOKEN_MAX);
            goto out;
        }
        if (sha256(given_token, strlen(given_token), adm.hash) != 0)
            goto out;
        hex(adm.hash, sizeof(adm.hash), hexhash);
        if (store_setting_put(st, TOKEN_SETTING, hexhash) != STORE_OK)
            goto out;
        copy_out(token_out, token_out_len, given_token);
        rc = 0;
        goto out;
    }
    r = store_setting_get(st, TOKEN_SETTING, stored, sizeof(stored));
    if (r == STORE_OK) {
        buf = OPENSSL_hexstr2buf(stored, &n);
        if (buf == NULL || n != 32) {
            log_error("admin: the stored admin token hash is corrupt; set a new token with "
                      "--admin-token");
            goto out;
        }
        memcpy(adm.hash, buf, 32);
        rc = 0;
        goto out;
    }
    if (r != STORE_NOT_FOUND)
        goto out;
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        log_error("admin: no randomness for the admin token");
        goto out;
    }
    hex(raw, sizeof(raw), token);
    if (sha256(token, strlen(token), adm.hash) != 0)
        goto out;
    hex(adm.hash, sizeof(adm.hash), hexhash);
    if (store_setting_put(st, TOKEN_SETTING, hexhash) != STORE_OK)
        goto out;
    fprintf(stderr, "parklinkd: admin token (shown once): %s\n", token);
    copy_out(token_out, token_out_len, token);
    rc = 0;
out:
    OPENSSL_free(buf);
    OPENSSL_cleanse(raw, sizeof(raw));
    adm.ready = rc == 0;
    return rc;
}

/* ---- replies ---- */

void admin_reply_json(struct admin_reply *out, int status, json_t *j)
{
    out->status = status;
    out->body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (out->body == NULL) {
        log_error("admin: out of memory building a reply");
        abort();
    }
}

void admin_reply_error(struct admin_reply *out, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    admin_reply_json(out, status, json_pack("{s:s}", "error", msg));
}

static void reply(struct req *r, int status, json_t *j)
{
    admin_reply_json(r->out, status, j);
}

static void reply_error(struct req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_error(struct req *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    admin_reply_error(r->out, status, "%s", msg);
}

/* A change committed: make it visible to park_check before answering. */
static void reply_committed(struct req *r, int status, json_t *j)
{
    if (registry_reload() != 0) {
        json_decref(j);
        reply_error(r, 500,
                    "the change was committed, but reloading the admission snapshot "
                    "failed; see the server log");
        return;
    }
    reply(r, status, j);
}

static void reply_store(struct req *r, enum store_result sr, const char *what)
{
    switch (sr) {
    case STORE_NOT_FOUND:
        reply_error(r, 404, "no %s", what);
        break;
    case STORE_CONFLICT:
        reply_error(r, 409, "%s already exists", what);
        break;
    case STORE_IN_USE:
        reply_error(r, 409, "%s is still referenced", what);
        break;
    default:
        reply_error(r, 500, "internal store error (%s); see the server log", store_strerror(sr));
        break;
    }
}

static void reply_method(struct req *r)
{
    reply_error(r, 405, "method %s is not allowed here", r->method);
}

/* Record a validation error; returns -1 for `return bad(...)`. */
static int bad(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct req *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- field readers: 0 absent (or null), 1 present and valid, -1 invalid (r->err) ---- */

static int no_controls(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    }
    return 1;
}

static int get_str(struct req *r, json_t *o, const char *pfx, const char *name, size_t min,
                   size_t max, const char **out)
{
    json_t *v = json_object_get(o, name);
    size_t n;

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return bad(r, "field '%s%s' must be a string", pfx, name);
    n = json_string_length(v);
    if (n < min || n > max)
        return bad(r, "field '%s%s' must be %zu-%zu bytes long", pfx, name, min, max);
    if (!no_controls(json_string_value(v), n))
        return bad(r, "field '%s%s' must not contain control characters", pfx, name);
    *out = json_string_value(v);
    return 1;
}

static int get_int(struct req *r, json_t *o, const char *pfx, const char *name, int64_t min,
                   int64_t max, int64_t *out)
{
    json_t *v = json_object_get(o, name);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return bad(r, "field '%s%s' must be an integer %" PRId64 "-%" PRId64, pfx, name, min, max);
    *out = json_integer_value(v);
    return 1;
}

static int get_bool(struct req *r, json_t *o, const char *name, int *out)
{
    json_t *v = json_object_get(o, name);

    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 1;
    }
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = (int)json_integer_value(v);
        return 1;
    }
    return bad(r, "field '%s' must be true or false", name);
}

static int missing(struct req *r, const char *pfx, const char *name)
{
    return bad(r, "field '%s%s' is required", pfx, name);
}

/* Reject members not in allowed (the read-only created/updated/id/rev are tolerated so a
 * GET result can be sent back). */
static int check_fields(struct req *r, json_t *o, const char *pfx, const char *const *allowed)
{
    static const char *const readonly[] = {"id", "created", "updated", "rev", NULL};
    const char *k;
    json_t *v;

    json_object_foreach(o, k, v) {
        int ok = 0;

        for (int i = 0; allowed[i] != NULL && !ok; i++)
            ok = strcmp(k, allowed[i]) == 0;
        for (int i = 0; readonly[i] != NULL && !ok; i++)
            ok = strcmp(k, readonly[i]) == 0;
        if (!ok)
            return bad(r, "unknown field '%s%s'", pfx, k);
    }
    return 0;
}

static int union_id_field(struct req *r, json_t *o, const char *name,
                          char out[STORE_UNION_ID_MAX + 1])
{
    json_t *v = json_object_get(o, name);

    if (v == NULL || json_is_null(v))
        return 0;
    if (plk_union_id_text(v, out) != PLK_OK)
        return bad(r, "field '%s' must be a positive integer or a string of 1-%d digits", name,
                   STORE_UNION_ID_MAX);
    return 1;
}

/* A union_id from the path: same rules as the field. */
static int union_id_key(const char *key, char out[STORE_UNION_ID_MAX + 1])
{
    json_t *v = json_string(key);
    int ok = v != NULL && plk_union_id_text(v, out) == PLK_OK;

    json_decref(v);
    return ok;
}

static int park_id_ok(const char *s, size_t n)
{
    return n >= 1 && n <= STORE_PARK_ID_MAX && no_controls(s, n) && memchr(s, '/', n) == NULL;
}

static int park_id_field(struct req *r, json_t *o, const char *pfx, const char *name,
                         char out[STORE_PARK_ID_MAX + 1])
{
    const char *s = NULL;
    int rc = get_str(r, o, pfx, name, 1, STORE_PARK_ID_MAX, &s);

    if (rc != 1)
        return rc;
    if (!park_id_ok(s, strlen(s)))
        return bad(r, "field '%s%s' must be 1-%d characters without '/'", pfx, name,
                   STORE_PARK_ID_MAX);
    snprintf(out, STORE_PARK_ID_MAX + 1, "%s", s);
    return 1;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

/* Normalise and check a plate (text from JSON or a query: valid UTF-8 is checked here). */
static int plate_text(struct req *r, const char *pfx, const char *name, const char *s, size_t n,
                      char out[STORE_PLATE_MAX + 1])
{
    json_t *utf8 = json_stringn(s, n); /* NULL when s is not valid UTF-8 */
    int len;

    json_decref(utf8);
    if (utf8 == NULL || !no_controls(s, n))
        return bad(r, "field '%s%s' must be valid UTF-8 text without control characters", pfx,
                   name);
    len = n <= 4 * PLATE_MAX_CHARS + 16 ? registry_plate_norm(s, n, out) : -1;
    if (len < 0 || utf8_chars(out, (size_t)len) > PLATE_MAX_CHARS)
        return bad(r, "field '%s%s' must be a plate of 1-%d characters", pfx, name,
                   PLATE_MAX_CHARS);
    return 1;
}

static int plate_field(struct req *r, json_t *o, const char *pfx, char out[STORE_PLATE_MAX + 1])
{
    json_t *v = json_object_get(o, "plate");

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return bad(r, "field '%splate' must be a string", pfx);
    return plate_text(r, pfx, "plate", json_string_value(v), json_string_length(v), out);
}

static int color_field(struct req *r, json_t *o, const char *pfx, int allow_any, int *out)
{
    json_t *v = json_object_get(o, "color");

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < (allow_any ? -1 : 0) ||
        json_integer_value(v) > 7)
        return bad(r, "field '%scolor' must be an integer 0-7%s", pfx,
                   allow_any ? " (or -1 for any colour)" : "");
    *out = (int)json_integer_value(v);
    return 1;
}

static int url_ok(const char *s)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    int ok = 0;

    if (u != NULL && curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK)
        ok = strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0;
    curl_free(scheme);
    curl_url_cleanup(u);
    return ok;
}

/* ---- JSON views of rows ---- */

static json_t *vendor_json(const struct store_vendor *v)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "union_id", v->union_id, "ukey", v->ukey, "name",
                     v->name, "callback_url", v->callback_url, "created", (json_int_t)v->created,
                     "updated", (json_int_t)v->updated);
}

static json_t *msg_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

static json_t *park_json(const struct store_park *p)
{
    return json_pack("{s:s,s:s,s:s,s:i,s:i,s:s,s:b,s:b,s:{s:o,s:o,s:o},s:I,s:I}", "park_id",
                     p->park_id, "union_id", p->union_id, "name", p->name, "total_plot",
                     p->total_plot, "empty_plot", p->empty_plot, "policy",
                     p->members_only ? "members_only" : "open", "has_prepay", p->has_prepay,
                     "suspended", p->suspended, "reason_msg", "1", msg_or_null(p->reason_msg[1]),
                     "2", msg_or_null(p->reason_msg[2]), "99", msg_or_null(p->reason_msg[3]),
                     "created", (json_int_t)p->created, "updated", (json_int_t)p->updated);
}

static json_t *blacklist_json(const struct store_blacklist *e)
{
    return json_pack("{s:I,s:s,s:i,s:s,s:I,s:I,s:I}", "id", (json_int_t)e->id, "plate", e->plate,
                     "color", e->color, "reason", e->reason, "valid_from",
                     (json_int_t)e->valid_from, "valid_until", (json_int_t)e->valid_until,
                     "created", (json_int_t)e->created);
}

static json_t *member_json(const struct store_member *m)
{
    return json_pack("{s:I,s:s,s:i,s:o,s:I,s:I,s:I}", "id", (json_int_t)m->id, "plate", m->plate,
                     "color", m->color, "park_id", msg_or_null(m->park_id), "valid_until",
                     (json_int_t)m->valid_until, "created", (json_int_t)m->created, "updated",
                     (json_int_t)m->updated);
}

static const char *res_state_name(int state)
{
    return state == STORE_RES_CANCELLED ? "cancelled" : "active";
}

static json_t *reservation_json(const struct store_reservation *v)
{
    return json_pack("{s:I,s:s,s:i,s:s,s:I,s:I,s:s,s:I,s:I}", "id", (json_int_t)v->id, "plate",
                     v->plate, "color", v->color, "park_id", v->park_id, "start",
                     (json_int_t)v->start, "end", (json_int_t)v->end, "state",
                     res_state_name(v->state), "created", (json_int_t)v->created, "updated",
                     (json_int_t)v->updated);
}

/* ---- query string and lists ---- */

static const char *param(const struct req *r, const char *name)
{
    for (int i = 0; i < r->nparams; i++) {
        if (strcmp(r->params[i].key, name) == 0)
            return r->params[i].val;
    }
    return NULL;
}

/* Percent-decode with libcurl; NULL if the result holds a NUL byte (or on no memory). */
static char *decode(const char *s, size_t n)
{
    int len = 0;
    char *d = curl_easy_unescape(NULL, s, (int)n, &len);

    if (d != NULL && strlen(d) != (size_t)len) {
        curl_free(d);
        d = NULL;
    }
    return d;
}

static int parse_query(struct req *r, const char *q, size_t n)
{
    size_t i = 0;

    while (q != NULL && i < n) {
        size_t j = i, eq;

        while (j < n && q[j] != '&')
            j++;
        if (j > i) {
            if (r->nparams == MAX_PARAMS)
                return bad(r, "too many query parameters (at most %d)", MAX_PARAMS);
            for (eq = i; eq < j && q[eq] != '='; eq++)
                ;
            r->params[r->nparams].key = decode(q + i, eq - i);
            r->params[r->nparams].val = decode(q + eq + (eq < j), j - eq - (eq < j));
            if (r->params[r->nparams].key == NULL || r->params[r->nparams].val == NULL) {
                curl_free(r->params[r->nparams].key);
                curl_free(r->params[r->nparams].val);
                return bad(r, "bad percent-encoding in the query string");
            }
            r->nparams++;
        }
        i = j + 1;
    }
    return 0;
}

static int check_params(struct req *r, const char *const *allowed)
{
    for (int i = 0; i < r->nparams; i++) {
        int ok = 0;

        for (int k = 0; allowed[k] != NULL && !ok; k++)
            ok = strcmp(r->params[i].key, allowed[k]) == 0;
        if (!ok)
            return bad(r, "unknown query parameter '%s'", r->params[i].key);
    }
    return 0;
}

static int parse_num(const char *s, int64_t min, int64_t max, int64_t *out)
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

/* limit, offset, after -> q. text_key: after is a key (vendors, parks), else an id. */
static int page_params(struct req *r, struct store_query *q, int text_key)
{
    const char *limit = param(r, "limit"), *offset = param(r, "offset");
    const char *after = param(r, "after");

    q->limit = LIST_DEFAULT;
    q->state = -1;
    if (limit != NULL && parse_num(limit, 1, LIST_MAX, &q->limit) != 0)
        return bad(r, "query parameter 'limit' must be an integer 1-%d", LIST_MAX);
    if (offset != NULL && parse_num(offset, 0, INT64_MAX, &q->offset) != 0)
        return bad(r, "query parameter 'offset' must be a non-negative integer");
    if (after != NULL && text_key)
        q->after_key = after;
    else if (after != NULL && parse_num(after, 0, INT64_MAX, &q->after_id) != 0)
        return bad(r, "query parameter 'after' must be a non-negative integer (an id)");
    return 0;
}

struct list_acc {
    json_t *items;
    json_t *last; /* key of the last row, for next_after */
};

static void acc_add(struct list_acc *a, json_t *item, json_t *key)
{
    json_array_append_new(a->items, item);
    json_decref(a->last);
    a->last = key;
}

static int on_vendor_row(void *arg, const struct store_vendor *v)
{
    acc_add(arg, vendor_json(v), json_string(v->union_id));
    return 0;
}

static int on_park_row(void *arg, const struct store_park *p)
{
    acc_add(arg, park_json(p), json_string(p->park_id));
    return 0;
}

static int on_blacklist_row(void *arg, const struct store_blacklist *e)
{
    acc_add(arg, blacklist_json(e), json_integer(e->id));
    return 0;
}

static int on_member_row(void *arg, const struct store_member *m)
{
    acc_add(arg, member_json(m), json_integer(m->id));
    return 0;
}

static int on_reservation_row(void *arg, const struct store_reservation *v)
{
    acc_add(arg, reservation_json(v), json_integer(v->id));
    return 0;
}

/* Answer a list: {"items":[...],"total":N,"limit":L,"offset":O[,"next_after":K]}. */
static void reply_list(struct req *r, enum store_result sr, struct list_acc *a,
                       const struct store_query *q, int64_t total)
{
    json_t *j;

    if (sr != STORE_OK) {
        json_decref(a->items);
        json_decref(a->last);
        reply_store(r, sr, "list");
        return;
    }
    j = json_pack("{s:o,s:I,s:I,s:I}", "items", a->items, "total", (json_int_t)total, "limit",
                  (json_int_t)q->limit, "offset", (json_int_t)q->offset);
    if ((int64_t)json_array_size(json_object_get(j, "items")) == q->limit && a->last != NULL)
        json_object_set(j, "next_after", a->last);
    json_decref(a->last);
    reply(r, 200, j);
}

/* ---- vendors ---- */

static const char *const vendor_fields[] = {"union_id", "ukey", "name", "callback_url", NULL};

/* Fill v from the body over what it holds; full: ukey required. */
static int parse_vendor(struct req *r, json_t *o, struct store_vendor *v, int full)
{
    const char *s = NULL;
    int rc;

    if (check_fields(r, o, "", vendor_fields) != 0)
        return -1;
    rc = get_str(r, o, "", "ukey", 1, STORE_UKEY_MAX, &s);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        for (const char *p = s; *p; p++) {
            if (*p < 0x21 || *p > 0x7e)
                return bad(r,
                           "field 'ukey' must be 1-%d printable ASCII characters without "
                           "spaces",
                           STORE_UKEY_MAX);
        }
        snprintf(v->ukey, sizeof(v->ukey), "%s", s);
    } else if (full) {
        return missing(r, "", "ukey");
    }
    rc = get_str(r, o, "", "name", 0, STORE_NAME_MAX, &s);
    if (rc < 0)
        return -1;
    if (rc == 1)
        snprintf(v->name, sizeof(v->name), "%s", s);
    rc = get_str(r, o, "", "callback_url", 0, STORE_URL_MAX, &s);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        if (s[0] != '\0' && !url_ok(s))
            return bad(r, "field 'callback_url' must be an http:// or https:// URL (or \"\")");
        snprintf(v->callback_url, sizeof(v->callback_url), "%s", s);
    }
    return 0;
}

/* The body's union_id, when present, must name the vendor of the path. */
static int same_union_id(struct req *r, json_t *o, const char *want)
{
    char uid[STORE_UNION_ID_MAX + 1];
    int rc = union_id_field(r, o, "union_id", uid);

    if (rc < 0)
        return -1;
    if (rc == 1 && strcmp(uid, want) != 0)
        return bad(r, "field 'union_id' (%s) does not match the path (%s)", uid, want);
    return 0;
}

static void reply_vendor(struct req *r, int status, const char *union_id)
{
    struct store_vendor v;
    enum store_result sr = store_vendor_get(adm.st, union_id, &v);

    if (sr != STORE_OK) {
        reply_store(r, sr, "vendor");
        return;
    }
    reply_committed(r, status, vendor_json(&v));
}

static void vendors_collection(struct req *r)
{
    static const char *const params[] = {"limit", "offset", "after", NULL};
    struct store_vendor v = {0};
    struct store_query q = {0};
    struct list_acc a = {json_array(), NULL};
    enum store_result sr;
    int64_t total = 0;

    if (strcmp(r->method, "GET") == 0) {
        if (check_params(r, params) != 0 || page_params(r, &q, 1) != 0) {
            json_decref(a.items);
            reply_error(r, 400, "%s", r->err);
            return;
        }
        sr = store_vendor_list(adm.st, &q, on_vendor_row, &a, &total);
        reply_list(r, sr, &a, &q, total);
        return;
    }
    json_decref(a.items);
    if (strcmp(r->method, "POST") != 0) {
        reply_method(r);
        return;
    }
    if (union_id_field(r, r->body, "union_id", v.union_id) < 0 ||
        parse_vendor(r, r->body, &v, 1) != 0) {
        reply_error(r, 400, "%s", r->err);
        return;
    }
    if (v.union_id[0] == '\0') {
        reply_error(r, 400, "field 'union_id' is required");
        return;
    }
    sr = store_vendor_put(adm.st, &v, STORE_INSERT, NULL);
    if (sr == STORE_CONFLICT) {
        reply_error(r, 409, "vendor %s already exists", v.union_id);
        return;
    }
    if (sr != STORE_OK) {
        reply_store(r, sr, "vendor");
        return;
    }
    reply_vendor(r, 201, v.union_id);
}

static void vendors_item(struct req *r)
{
    struct store_vendor v = {0};
    char uid[STORE_UNION_ID_MAX + 1];
    enum store_result sr;
    int created = 0;

    if (!union_id_key(r->key, uid)) {
        reply_error(r, 404, "no vendor with union_id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") == 0) {
        sr = store_vendor_get(adm.st, uid, &v);
        if (sr == STORE_NOT_FOUND)
            reply_error(r, 404, "no vendor with union_id %s", uid);
        else if (sr != STORE_OK)
            reply_store(r, sr, "vendor");
        else
            reply(r, 200, vendor_json(&v));
    } else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0) {
        int full = r->method[1] == 'U';

        if (!full) {
            sr = store_vendor_get(adm.st, uid, &v);
            if (sr != STORE_OK) {
                if (sr == STORE_NOT_FOUND)
                    reply_error(r, 404, "no vendor with union_id %s", uid);
                else
                    reply_store(r, sr, "vendor");
                return;
            }
        }
        if (same_union_id(r, r->body, uid) != 0 || parse_vendor(r, r->body, &v, full) != 0) {
            reply_error(r, 400, "%s", r->err);
            return;
        }
        snprintf(v.union_id, sizeof(v.union_id), "%s", uid);
        sr = store_vendor_put(adm.st, &v, full ? STORE_UPSERT : STORE_UPDATE, &created);
        if (sr == STORE_NOT_FOUND)
            reply_error(r, 404, "no vendor with union_id %s", uid);
        else if (sr != STORE_OK)
            reply_store(r, sr, "vendor");
        else
            reply_vendor(r, created ? 201 : 200, uid);
    } else if (strcmp(r->method, "DELETE") == 0) {
        sr = store_vendor_delete(adm.st, uid);
        if (sr == STORE_NOT_FOUND)
            reply_error(r, 404, "no vendor with union_id %s", uid);
        else if (sr == STORE_IN_USE)
            reply_error(r, 409, "vendor %s still owns parks; delete them first", uid);
        else if (sr != STORE_OK)
            reply_store(r, sr, "vendor");
        else
            reply_committed(r, 200, json_pack("{s:b,s:s}", "deleted", 1, "union_id", uid));
    } else {
        reply_method(r);
    }
}

/* ---- parks ---- */

static const char *const park_fields[] = {"park_id",    "union_id", "name",       "total_plot",
                                          "empty_plot", "policy",   "has_prepay", "suspended",
                                          "reason_msg", NULL};

static int parse_reason_msgs(struct req *r, json_t *o, struct store_park *p)
{
    static const char *const keys[4] = {NULL, "1", "2", "99"};
    json_t *m = json_object_get(o, "reason_msg");
    const char *k;
    json_t *v;

    if (m == NULL || json_is_null(m))
        return 0;
    if (!json_is_object(m))
        return bad(r, "field 'reason_msg' must be an object with keys \"1\", \"2\", \"99\"");
    json_object_foreach(m, k, v) {
        if (strcmp(k, "1") != 0 && strcmp(k, "2") != 0 && strcmp(k, "99") != 0)
            return bad(r, "unknown field 'reason_msg.%s' (the keys are \"1\", \"2\", \"99\")", k);
    }
    for (int i = 1; i < 4; i++) {
        char name[8];
        const char *s = NULL;
        int rc;

        snprintf(name, sizeof(name), "%s", keys[i]);
        if (json_object_get(m, name) == NULL)
            continue;
        rc = get_str(r, m, "reason_msg.", name, 0, STORE_TEXT_MAX, &s);
        if (rc < 0)
            return -1;
        snprintf(p->reason_msg[i], sizeof(p->reason_msg[i]), "%s", rc == 1 ? s : "");
    }
    return 0;
}

/* Fill p from the body over what it holds; full: union_id required. */
static int parse_park(struct req *r, json_t *o, struct store_park *p, int full)
{
    const char *s = NULL;
    int64_t n = 0;
    int rc;

    if (check_fields(r, o, "", park_fields) != 0)
        return -1;
    rc = union_id_field(r, o, "union_id", p->union_id);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return missing(r, "", "union_id");
    rc = get_str(r, o, "", "name", 0, STORE_NAME_MAX, &s);
    if (rc < 0)
        return -1;
    if (rc == 1)
        snprintf(p->name, sizeof(p->name), "%s", s);
    rc = get_int(r, o, "", "total_plot", 0, PLOTS_MAX, &n);
    if (rc < 0)
        return -1;
    if (rc == 1)
        p->total_plot = (int)n;
    rc = get_int(r, o, "", "empty_plot", 0, PLOTS_MAX, &n);
    if (rc < 0)
        return -1;
    if (rc == 1)
        p->empty_plot = (int)n;
    if (p->empty_plot > p->total_plot)
        return bad(r, "field 'empty_plot' (%d) must not exceed 'total_plot' (%d)", p->empty_plot,
                   p->total_plot);
    rc = get_str(r, o, "", "policy", 1, 32, &s);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        if (strcmp(s, "open") == 0)
            p->members_only = 0;
        else if (strcmp(s, "members_only") == 0)
            p->members_only = 1;
        else
            return bad(r, "field 'policy' must be \"open\" or \"members_only\"");
    }
    if (get_bool(r, o, "has_prepay", &p->has_prepay) < 0 ||
        get_bool(r, o, "suspended", &p->suspended) < 0)
        return -1;
    return parse_reason_msgs(r, o, p);
}

static void reply_park(struct req *r, int status, const char *park_id)
{
    struct store_park p;
    enum store_result sr = store_park_get(adm.st, park_id, &p);

    if (sr != STORE_OK) {
        reply_store(r, sr, "park");
        return;
    }
    reply_committed(r, status, park_json(&p));
}

static void park_put_result(struct req *r, enum store_result sr, const struct store_park *p,
                            int status)
{
    if (sr == STORE_FOREIGN_KEY)
        reply_error(r, 400, "field 'union_id': unknown owning vendor %s", p->union_id);
    else if (sr == STORE_CONFLICT)
        reply_error(r, 409, "park %s already exists", p->park_id);
    else if (sr == STORE_NOT_FOUND)
        reply_error(r, 404, "no park with park_id %s", p->park_id);
    else if (sr != STORE_OK)
        reply_store(r, sr, "park");
    else
        reply_park(r, status, p->park_id);
}

static void parks_collection(struct req *r)
{
    static const char *const params[] = {"limit", "offset", "after", "union_id", NULL};
    struct store_park p = {0};
    struct store_query q = {0};
    struct list_acc a = {json_array(), NULL};
    char uid[STORE_UNION_ID_MAX + 1];
    enum store_result sr;
    int64_t total = 0;

    if (strcmp(r->method, "GET") == 0) {
        if (check_params(r, params) != 0 || page_params(r, &q, 1) != 0) {
            json_decref(a.items);
            reply_error(r, 400, "%s", r->err);
            return;
        }
        if (param(r, "union_id") != NULL) {
            if (!union_id_key(param(r, "union_id"), uid)) {
                json_decref(a.items);
                reply_error(r, 400, "query parameter 'union_id' must be 1-%d digits",
                            STORE_UNION_ID_MAX);
                return;
            }
            q.union_id = uid;
        }
        sr = store_park_list(adm.st, &q, on_park_row, &a, &total);
        reply_list(r, sr, &a, &q, total);
        return;
    }
    json_decref(a.items);
    if (strcmp(r->method, "POST") != 0) {
        reply_method(r);
        return;
    }
    if (park_id_field(r, r->body, "", "park_id", p.park_id) < 0 ||
        parse_park(r, r->body, &p, 1) != 0) {
        reply_error(r, 400, "%s", r->err);
        return;
    }
    if (p.park_id[0] == '\0') {
        reply_error(r, 400, "field 'park_id' is required");
        return;
    }
    park_put_result(r, store_park_put(adm.st, &p, STORE_INSERT, NULL), &p, 201);
}

static void parks_item(struct req *r)
{
    struct store_park p = {0};
    enum store_result sr;
    int created = 0;

    if (!park_id_ok(r->key, strlen(r->key))) {
        reply_error(r, 404, "no park with park_id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") == 0) {
        sr = store_park_get(adm.st, r->key, &p);
        if (sr == STORE_NOT_FOUND)
            reply_error(r, 404, "no park with park_id %s", r->key);
        else if (sr != STORE_OK)
            reply_store(r, sr, "park");
        else
            reply(r, 200, park_json(&p));
    } else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0) {
        int full = r->method[1] == 'U';
        char pid[STORE_PARK_ID_MAX + 1] = "";

        if (!full) {
            sr = store_park_get(adm.st, r->key, &p);
            if (sr != STORE_OK) {
                if (sr == STORE_NOT_FOUND)
                    reply_error(r, 404, "no park with park_id %s", r->key);
                else
                    reply_store(r, sr, "park");
                return;
            }
        }
        if (park_id_field(r, r->body, "", "park_id", pid) < 0 ||
            parse_park(r, r->body, &p, full) != 0) {
            reply_error(r, 400, "%s", r->err);
            return;
        }
        if (pid[0] != '\0' && strcmp(pid, r->key) != 0) {
            reply_error(r, 400, "field 'park_id' (%s) does not match the path (%s)", pid, r->key);
            return;
        }
        snprintf(p.park_id, sizeof(p.park_id), "%s", r->key);
        sr = store_park_put(adm.st, &p, full ? STORE_UPSERT : STORE_UPDATE, &created);
        park_put_result(r, sr, &p, created ? 201 : 200);
    } else if (strcmp(r->method, "DELETE") == 0) {
        sr = store_park_delete(adm.st, r->key);
        if (sr == STORE_NOT_FOUND)
            reply_error(r, 404, "no park with park_id %s", r->key);
        else if (sr != STORE_OK)
            reply_store(r, sr, "park");
        else
            reply_committed(r, 200, json_pack("{s:b,s:s}", "deleted", 1, "park_id", r->key));
    } else {
        reply_method(r);
    }
}

/* ---- blacklist ---- */

static const char *const blacklist_fields[] = {"plate",      "color",       "reason",
                                               "valid_from", "valid_until", NULL};

static int parse_blacklist(struct req *r, json_t *o, const char *pfx, struct store_blacklist *e)
{
    const char *s = NULL;
    int rc;

    if (!json_is_object(o))
        return bad(r, "%s must be a JSON object", pfx[0] ? pfx : "the body");
    if (check_fields(r, o, pfx, blacklist_fields) != 0)
        return -1;
    rc = plate_field(r, o, pfx, e->plate);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return missing(r, pfx, "plate");
    e->color = 0;
    if (color_field(r, o, pfx, 1, &e->color) < 0)
        return -1;
    rc = get_str(r, o, pfx, "reason", 0, STORE_TEXT_MAX, &s);
    if (rc < 0)
        return -1;
    snprintf(e->reason, sizeof(e->reason), "%s", rc == 1 ? s : "");
    if (get_int(r, o, pfx, "valid_from", 0, INT64_MAX / 2, &e->valid_from) < 0 ||
        get_int(r, o, pfx, "valid_until", 0, INT64_MAX / 2, &e->valid_until) < 0)
        return -1;
    if (e->valid_until != 0 && e->valid_until <= e->valid_from)
        return bad(r,
                   "bad time window: field '%svalid_until' must be 0 (open-ended) or later "
                   "than 'valid_from'",
                   pfx);
    return 0;
}

static void blacklist_bulk(struct req *r, json_t *entries)
{
    size_t n = json_array_size(entries), failed = 0;
    struct store_blacklist *e = NULL;
    enum store_result sr;
    json_t *ids;
    char pfx[48];

    if (check_fields(r, r->body, "", (const char *const[]){"entries", NULL}) != 0) {
        reply_error(r, 400, "%s (a bulk body holds only 'entries')", r->err);
        return;
    }
    if (!json_is_array(entries) || n == 0 || n > BULK_MAX) {
        reply_error(r, 400, "field 'entries' must be an array of 1-%d blacklist entries", BULK_MAX);
        return;
    }
    e = calloc(n, sizeof(*e));
    if (e == NULL) {
        reply_error(r, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(pfx, sizeof(pfx), "entries[%zu].", i);
        if (parse_blacklist(r, json_array_get(entries, i), pfx, &e[i]) != 0) {
            reply_error(r, 400, "%s", r->err);
            goto out;
        }
    }
    sr = store_blacklist_add_bulk(adm.st, e, n, &failed);
    if (sr == STORE_CONFLICT) {
        reply_error(r, 409,
                    "entries[%zu]: plate %s colour %d is already on the blacklist (or "
                    "repeated in this request); nothing was added",
                    failed, e[failed].plate, e[failed].color);
        goto out;
    }
    if (sr != STORE_OK) {
        reply_store(r, sr, "blacklist entry");
        goto out;
    }
    ids = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(ids, json_integer(e[i].id));
    reply_committed(r, 201, json_pack("{s:I,s:o}", "inserted", (json_int_t)n, "ids", ids));
out:
    free(e);
}

/* An optional ?plate= filter, normalised like stored plates. */
static int plate_param(struct req *r, char out[STORE_PLATE_MAX + 1], const char **filter)
{
    const char *p = param(r, "plate");

    *filter = NULL;
    if (p == NULL)
        return 0;
    if (plate_text(r, "", "plate", p, strlen(p), out) < 0) {
        snprintf(r->err, sizeof(r->err),
                 "query parameter 'plate' must be a plate of 1-%d "
                 "characters",
                 PLATE_MAX_CHARS);
        return -1;
    }
    *filter = out;
    return 0;
}

static void blacklist_collection(struct req *r)
{
    static const char *const params[] = {"limit", "offset", "after", "plate", NULL};
    struct store_blacklist e = {0};
    struct store_query q = {0};
    struct list_acc a = {json_array(), NULL};
    char plate[STORE_PLATE_MAX + 1];
    enum store_result sr;
    int64_t total = 0;

    if (strcmp(r->method, "GET") == 0) {
        if (check_params(r, params) != 0 || page_params(r, &q, 0) != 0 ||
            plate_param(r, plate, &q.plate) != 0) {
            json_decref(a.items);
            reply_error(r, 400, "%s", r->err);
            return;
        }
        sr = store_blacklist_list(adm.st, &q, on_blacklist_row, &a, &total);
        reply_list(r, sr, &a, &q, total);
        return;
    }
    json_decref(a.items);
    if (strcmp(r->method, "POST") != 0) {
        reply_method(r);
        return;
    }
    if (json_object_get(r->body, "entries") != NULL) {
        blacklist_bulk(r, json_object_get(r->body, "entries"));
        return;
    }
    if (parse_blacklist(r, r->body, "", &e) != 0) {
        reply_error(r, 400, "%s", r->err);
        return;
    }
    sr = store_blacklist_add(adm.st, &e);
    if (sr == STORE_CONFLICT)
        reply_error(r, 409, "plate %s colour %d is already on the blacklist", e.plate, e.color);
    else if (sr != STORE_OK)
        reply_store(r, sr, "blacklist entry");
    else
        reply_committed(r, 201, blacklist_json(&e));
}

static int id_key(const char *key, int64_t *id)
{
    return parse_num(key, 1, INT64_MAX, id) == 0;
}

static void blacklist_item(struct req *r)
{
    struct store_blacklist e;
    enum store_result sr;
    int64_t id = 0;

    if (!id_key(r->key, &id)) {
        reply_error(r, 404, "no blacklist entry with id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") == 0) {
        sr = store_blacklist_get(adm.st, id, &e);
        if (sr == STORE_OK)
            reply(r, 200, blacklist_json(&e));
        else if (sr == STORE_NOT_FOUND)
            reply_error(r, 404, "no blacklist entry with id %" PRId64, id);
        else
            reply_store(r, sr, "blacklist entry");
    } else if (strcmp(r->method, "DELETE") == 0) {
        sr = store_blacklist_delete(adm.st, id);
        if (sr == STORE_OK)
            reply_committed(r, 200, json_pack("{s:b,s:I}", "deleted", 1, "id", (json_int_t)id));
        else if (sr == STORE_NOT_FOUND)
            reply_error(r, 404, "no blacklist entry with id %" PRId64, id);
        else
            reply_store(r, sr, "blacklist entry");
    } else {
        reply_method(r);
    }
}

/* ---- members ---- */

static const char *const member_fields[] = {"plate", "color", "park_id", "valid_until", NULL};

/* Fill m from the body over what it holds; full: plate required. park_id null = city-wide. */
static int parse_member(struct req *r, json_t *o, struct store_member *m, int full)
{
    json_t *pv;
    int rc;

    if (check_fields(r, o, "", member_fields) != 0)
        return -1;
    rc = plate_field(r, o, "", m->plate);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return missing(r, "", "plate");
    if (color_field(r, o, "", 0, &m->color) < 0)
        return -1;
    pv = json_object_get(o, "park_id");
    if (pv != NULL && json_is_null(pv))
        m->park_id[0] = '\0';
    else if (park_id_field(r, o, "", "park_id", m->park_id) < 0)
        return -1;
    if (get_int(r, o, "", "valid_until", 0, INT64_MAX / 2, &m->valid_until) < 0)
        return -1;
    return 0;
}

static void member_result(struct req *r, enum store_result sr, const struct store_member *m,
                          int status)
{
    if (sr == STORE_FOREIGN_KEY)
        reply_error(r, 400, "field 'park_id': unknown park %s", m->park_id);
    else if (sr == STORE_CONFLICT)
        reply_error(r, 409, "plate %s colour %d is already a member %s%s", m->plate, m->color,
                    m->park_id[0] ? "of park " : "city-wide", m->park_id);
    else if (sr == STORE_NOT_FOUND)
        reply_error(r, 404, "no member with id %" PRId64, m->id);
    else if (sr != STORE_OK)
        reply_store(r, sr, "member");
    else
        reply_committed(r, status, member_json(m));
}

static void members_collection(struct req *r)
{
    static const char *const params[] = {"limit", "offset", "after", "plate", "park_id", NULL};
    struct store_member m = {0};
    struct store_query q = {0};
    struct list_acc a = {json_array(), NULL};
    char plate[STORE_PLATE_MAX + 1];
    enum store_result sr;
    int64_t total = 0;

    if (strcmp(r->method, "GET") == 0) {
        if (check_params(r, params) != 0 || page_params(r, &q, 0) != 0 ||
            plate_param(r, plate, &q.plate) != 0) {
            json_decref(a.items);
            reply_error(r, 400, "%s", r->err);
            return;
        }
        q.park_id = param(r, "park_id"); /* "" = city-wide members */
        sr = store_member_list(adm.st, &q, on_member_row, &a, &total);
        reply_list(r, sr, &a, &q, total);
        return;
    }
    json_decref(a.items);
    if (strcmp(r->method, "POST") != 0) {
        reply_method(r);
        return;
    }
    if (parse_member(r, r->body, &m, 1) != 0) {
        reply_error(r, 400, "%s", r->err);
        return;
    }
    member_result(r, store_member_add(adm.st, &m), &m, 201);
}

static void members_item(struct req *r)
{
    struct store_member m;
    enum store_result sr;
    int64_t id = 0;

    if (!id_key(r->key, &id)) {
        reply_error(r, 404, "no member with id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "PATCH") == 0) {
        sr = store_member_get(adm.st, id, &m);
        if (sr == STORE_NOT_FOUND) {
            reply_error(r, 404, "no member with id %" PRId64, id);
        } else if (sr != STORE_OK) {
            reply_store(r, sr, "member");
        } else if (r->method[0] == 'G') {
            reply(r, 200, member_json(&m));
        } else if (parse_member(r, r->body, &m, 0) != 0) {
            reply_error(r, 400, "%s", r->err);
        } else {
            member_result(r, store_member_update(adm.st, &m), &m, 200);
        }
    } else if (strcmp(r->method, "DELETE") == 0) {
        sr = store_member_delete(adm.st, id);
        if (sr == STORE_OK)
            reply_committed(r, 200, json_pack("{s:b,s:I}", "deleted", 1, "id", (json_int_t)id));
        else if (sr == STORE_NOT_FOUND)
            reply_error(r, 404, "no member with id %" PRId64, id);
        else
            reply_store(r, sr, "member");
    } else {
        reply_method(r);
    }
}

/* ---- reservations ---- */

static const char *const reservation_fields[] = {"plate", "color", "park_id", "start",
                                                 "end",   "state", NULL};

static int state_value(const char *s, int *out)
{
    if (strcmp(s, "active") == 0)
        *out = STORE_RES_ACTIVE;
    else if (strcmp(s, "cancelled") == 0)
        *out = STORE_RES_CANCELLED;
    else
        return -1;
    return 0;
}

/* Fill v from the body over what it holds; full: plate, park_id, start, end required. */
static int parse_reservation(struct req *r, json_t *o, struct store_reservation *v, int full)
{
    const char *s = NULL;
    int rc;

    if (check_fields(r, o, "", reservation_fields) != 0)
        return -1;
    rc = plate_field(r, o, "", v->plate);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return missing(r, "", "plate");
    if (color_field(r, o, "", 0, &v->color) < 0)
        return -1;
    rc = park_id_field(r, o, "", "park_id", v->park_id);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return missing(r, "", "park_id");
    rc = get_int(r, o, "", "start", 0, INT64_MAX / 2, &v->start);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return missing(r, "", "start");
    rc = get_int(r, o, "", "end", 0, INT64_MAX / 2, &v->end);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return missing(r, "", "end");
    if (v->end <= v->start)
        return bad(r, "bad time window: field 'end' must be later than 'start'");
    rc = get_str(r, o, "", "state", 1, 16, &s);
    if (rc < 0)
        return -1;
    if (rc == 1 && state_value(s, &v->state) != 0)
        return bad(r, "field 'state' must be \"active\" or \"cancelled\"");
    return 0;
}

static void reservation_result(struct req *r, enum store_result sr,
                               const struct store_reservation *v, int status)
{
    if (sr == STORE_FOREIGN_KEY)
        reply_error(r, 400, "field 'park_id': unknown park %s", v->park_id);
    else if (sr == STORE_NOT_FOUND)
        reply_error(r, 404, "no reservation with id %" PRId64, v->id);
    else if (sr != STORE_OK)
        reply_store(r, sr, "reservation");
    else
        reply_committed(r, status, reservation_json(v));
}

static void reservations_collection(struct req *r)
{
    static const char *const params[] = {"limit",   "offset", "after", "plate",
                                         "park_id", "state",  NULL};
    struct store_reservation v = {0};
    struct store_query q = {0};
    struct list_acc a = {json_array(), NULL};
    char plate[STORE_PLATE_MAX + 1];
    enum store_result sr;
    int64_t total = 0;

    if (strcmp(r->method, "GET") == 0) {
        if (check_params(r, params) != 0 || page_params(r, &q, 0) != 0 ||
            plate_param(r, plate, &q.plate) != 0) {
            json_decref(a.items);
            reply_error(r, 400, "%s", r->err);
            return;
        }
        q.park_id = param(r, "park_id");
        if (param(r, "state") != NULL && state_value(param(r, "state"), &q.state) != 0) {
            json_decref(a.items);
            reply_error(r, 400, "query parameter 'state' must be active or cancelled");
            return;
        }
        sr = store_reservation_list(adm.st, &q, on_reservation_row, &a, &total);
        reply_list(r, sr, &a, &q, total);
        return;
    }
    json_decref(a.items);
    if (strcmp(r->method, "POST") != 0) {
        reply_method(r);
        return;
    }
    if (parse_reservation(r, r->body, &v, 1) != 0) {
        reply_error(r, 400, "%s", r->err);
        return;
    }
    reservation_result(r, store_reservation_add(adm.st, &v), &v, 201);
}

static void reservations_item(struct req *r)
{
    struct store_reservation v;
    enum store_result sr;
    int64_t id = 0;

    if (!id_key(r->key, &id)) {
        reply_error(r, 404, "no reservation with id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "PATCH") == 0) {
        sr = store_reservation_get(adm.st, id, &v);
        if (sr == STORE_NOT_FOUND) {
            reply_error(r, 404, "no reservation with id %" PRId64, id);
        } else if (sr != STORE_OK) {
            reply_store(r, sr, "reservation");
        } else if (r->method[0] == 'G') {
            reply(r, 200, reservation_json(&v));
        } else if (parse_reservation(r, r->body, &v, 0) != 0) {
            reply_error(r, 400, "%s", r->err);
        } else {
            reservation_result(r, store_reservation_update(adm.st, &v), &v, 200);
        }
    } else if (strcmp(r->method, "DELETE") == 0) {
        sr = store_reservation_delete(adm.st, id);
        if (sr == STORE_OK)
            reply_committed(r, 200, json_pack("{s:b,s:I}", "deleted", 1, "id", (json_int_t)id));
        else if (sr == STORE_NOT_FOUND)
            reply_error(r, 404, "no reservation with id %" PRId64, id);
        else
            reply_store(r, sr, "reservation");
    } else {
        reply_method(r);
    }
}

/* ---- monthly cards and lane screen texts (spec 10.6, 10.5; store_orders.h) ---- */

static const char *const card_fields[] = {"park_id",     "plate",      "color",
                                          "type",        "valid_from", "valid_until",
                                          "region_id",   "rule_id_sub", "company_id",
                                          "company_name", NULL};

/* "YYYY-MM-DD", a real calendar date. */
static int date_ok(const char *s)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, n = 0;

    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        s[4] != '-' || s[7] != '-' || y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

static int date_field(struct req *r, json_t *o, const char *name, char out[STORE_DATE_MAX + 1])
{
    const char *s = NULL;
    int rc = get_str(r, o, "", name, 10, 10, &s);

    if (rc == 1 && !date_ok(s))
        return bad(r, "field '%s' must be a date YYYY-MM-DD", name);
    if (rc == 1)
        snprintf(out, STORE_DATE_MAX + 1, "%s", s);
    return rc;
}

static int code_field(struct req *r, json_t *o, const char *name, char *out, size_t max)
{
    const char *s = NULL;
    int rc = get_str(r, o, "", name, 0, max, &s);

    if (rc == 1)
        snprintf(out, max + 1, "%s", s);
    return rc;
}

/* Fill c from the body over what it holds; full: park_id, plate, valid_from/until required. */
static int parse_card(struct req *r, json_t *o, struct store_card *c, int full)
{
    int64_t type = 0;
    int rc;

    if (check_fields(r, o, "", card_fields) != 0)
        return -1;
    rc = park_id_field(r, o, "", "park_id", c->park_id);
    if (rc < 0 || (rc == 0 && full))
        return rc < 0 ? -1 : missing(r, "", "park_id");
    rc = plate_field(r, o, "", c->plate);
    if (rc < 0 || (rc == 0 && full))
        return rc < 0 ? -1 : missing(r, "", "plate");
    if (color_field(r, o, "", 0, &c->color) < 0)
        return -1;
    rc = get_int(r, o, "", "type", 1, 4, &type);
    if (rc < 0)
        return -1;
    if (rc == 1)
        c->type = (int)type;
    else if (full)
        c->type = 1;
    rc = date_field(r, o, "valid_from", c->valid_from);
    if (rc < 0 || (rc == 0 && full))
        return rc < 0 ? -1 : missing(r, "", "valid_from");
    rc = date_field(r, o, "valid_until", c->valid_until);
    if (rc < 0 || (rc == 0 && full))
        return rc < 0 ? -1 : missing(r, "", "valid_until");
    if (strcmp(c->valid_until, c->valid_from) < 0)
        return bad(r, "bad validity: 'valid_until' must not be before 'valid_from'");
    if (code_field(r, o, "region_id", c->region_id, STORE_CODE_MAX) < 0 ||
        code_field(r, o, "rule_id_sub", c->rule_id_sub, STORE_CODE_MAX) < 0 ||
        code_field(r, o, "company_id", c->company_id, STORE_CODE_MAX) < 0 ||
        code_field(r, o, "company_name", c->company_name, STORE_NAME_MAX) < 0)
        return -1;
    return 0;
}

static json_t *card_json(const struct store_card *c)
{
    return json_pack("{s:I,s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "id",
                     (json_int_t)c->id, "park_id", c->park_id, "plate", c->plate, "color",
                     c->color, "type", c->type, "valid_from", c->valid_from, "valid_until",
                     c->valid_until, "region_id", c->region_id, "rule_id_sub", c->rule_id_sub,
                     "company_id", c->company_id, "company_name", c->company_name, "created",
                     (json_int_t)c->created, "updated", (json_int_t)c->updated);
}

static int on_card_row(void *arg, const struct store_card *c)
{
    acc_add(arg, card_json(c), json_integer(c->id));
    return 0;
}

static void card_result(struct req *r, enum store_result sr, const struct store_card *c,
                        int status)
{
    if (sr == STORE_FOREIGN_KEY)
        reply_error(r, 400, "field 'park_id': unknown park %s", c->park_id);
    else if (sr == STORE_CONFLICT)
        reply_error(r, 409, "plate %s colour %d already has a card at park %s", c->plate,
                    c->color, c->park_id);
    else if (sr == STORE_NOT_FOUND)
        reply_error(r, 404, "no card with id %" PRId64, c->id);
    else if (sr != STORE_OK)
        reply_store(r, sr, "card");
    else
        reply(r, status, card_json(c));
}

/* Card and screen ops run on a session of the admin's store handle, opened per request. */
static struct store_tx *admin_tx(struct req *r)
{
    struct store_tx *tx = store_tx_open(adm.st);

    if (tx == NULL)
        reply_error(r, 500, "cannot open a store session; see the server log");
    return tx;
}

static void cards_collection(struct req *r)
{
    static const char *const params[] = {"limit", "offset", "after", "plate",
                                         "park_id", "type", NULL};
    struct store_card c = {0};
    struct store_query pq = {0};
    struct store_card_query q = {0};
    struct list_acc a = {NULL, NULL};
    char plate[STORE_PLATE_MAX + 1];
    struct store_tx *tx;
    int64_t total = 0, type = 0;
    enum store_result sr;

    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0) {
        reply_method(r);
        return;
    }
    if (strcmp(r->method, "GET") == 0 &&
        (check_params(r, params) != 0 || page_params(r, &pq, 0) != 0 ||
         plate_param(r, plate, &q.plate) != 0 ||
         (param(r, "type") != NULL && parse_num(param(r, "type"), 1, 4, &type) != 0 &&
          bad(r, "query parameter 'type' must be 1-4") != 0))) {
        reply_error(r, 400, "%s", r->err);
        return;
    }
    if (strcmp(r->method, "POST") == 0 && parse_card(r, r->body, &c, 1) != 0) {
        reply_error(r, 400, "%s", r->err);
        return;
    }
    if ((tx = admin_tx(r)) == NULL)
        return;
    if (strcmp(r->method, "GET") == 0) {
        q.park_id = param(r, "park_id");
        q.type = (int)type;
        q.limit = pq.limit;
        q.offset = pq.offset;
        q.after_id = pq.after_id;
        a.items = json_array();
        sr = store_card_list(tx, &q, on_card_row, &a, &total);
        reply_list(r, sr, &a, &pq, total);
    } else {
        card_result(r, store_card_add(tx, &c), &c, 201);
    }
    store_tx_close(tx);
}

static void cards_item(struct req *r)
{
    struct store_card c;
    struct store_tx *tx;
    enum store_result sr;
    int64_t id = 0;

    if (!id_key(r->key, &id)) {
        reply_error(r, 404, "no card with id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "PATCH") != 0 &&
        strcmp(r->method, "DELETE") != 0) {
        reply_method(r);
        return;
    }
    if ((tx = admin_tx(r)) == NULL)
        return;
    if (strcmp(r->method, "DELETE") == 0) {
        sr = store_card_delete(tx, id);
        if (sr == STORE_OK)
            reply(r, 200, json_pack("{s:b,s:I}", "deleted", 1, "id", (json_int_t)id));
        else if (sr == STORE_NOT_FOUND)
            reply_error(r, 404, "no card with id %" PRId64, id);
        else
            reply_store(r, sr, "card");
    } else if ((sr = store_card_get(tx, id, &c)) != STORE_OK) {
        if (sr == STORE_NOT_FOUND)
            reply_error(r, 404, "no card with id %" PRId64, id);
        else
            reply_store(r, sr, "card");
    } else if (r->method[0] == 'G') {
        reply(r, 200, card_json(&c));
    } else if (parse_card(r, r->body, &c, 0) != 0) {
        reply_error(r, 400, "%s", r->err);
    } else {
        card_result(r, store_card_update(tx, &c), &c, 200);
    }
    store_tx_close(tx);
}

static const char *const screen_fields[] = {"park_id", "entry", "leaving", "exit", NULL};

static json_t *screen_json(const struct store_screen *s)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:I}", "park_id", s->park_id, "entry", s->text[0],
                     "leaving", s->text[1], "exit", s->text[2], "updated",
                     (json_int_t)s->updated);
}

static void screen_texts_collection(struct req *r)
{
    reply_error(r, 405, "address one park: /screen-texts/{park_id}");
}

static void screen_texts_item(struct req *r)
{
    static const char *const names[3] = {"entry", "leaving", "exit"};
    struct store_screen s;
    struct store_park p;
    struct store_tx *tx;
    enum store_result sr;

    if (!park_id_ok(r->key, strlen(r->key)) ||
        (sr = store_park_get(adm.st, r->key, &p)) == STORE_NOT_FOUND) {
        reply_error(r, 404, "no park with park_id '%s'", r->key);
        return;
    }
    if (sr != STORE_OK) {
        reply_store(r, sr, "park");
        return;
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "PUT") != 0 &&
        strcmp(r->method, "DELETE") != 0) {
        reply_method(r);
        return;
    }
    memset(&s, 0, sizeof s);
    snprintf(s.park_id, sizeof s.park_id, "%s", r->key);
    if (strcmp(r->method, "PUT") == 0) {
        const char *t = NULL;
        char pid[STORE_PARK_ID_MAX + 1] = "";

        if (check_fields(r, r->body, "", screen_fields) != 0 ||
            park_id_field(r, r->body, "", "park_id", pid) < 0) {
            reply_error(r, 400, "%s", r->err);
            return;
        }
        if (pid[0] != '\0' && strcmp(pid, r->key) != 0) {
            reply_error(r, 400, "field 'park_id' (%s) does not match the path (%s)", pid, r->key);
            return;
        }
        for (int i = 0; i < 3; i++) {
            int rc = get_str(r, r->body, "", names[i], 0, STORE_TEXT_MAX, &t);
            if (rc < 0) {
                reply_error(r, 400, "%s", r->err);
                return;
            }
            snprintf(s.text[i], sizeof s.text[i], "%s", rc == 1 ? t : "");
        }
    }
    if ((tx = admin_tx(r)) == NULL)
        return;
    if (strcmp(r->method, "GET") == 0)
        sr = store_screen_get(tx, r->key, &s);
    else if (strcmp(r->method, "PUT") == 0)
        sr = store_screen_put(tx, &s);
    else
        sr = store_screen_delete(tx, r->key);
    store_tx_close(tx);
    if (sr == STORE_NOT_FOUND && r->method[0] == 'D')
        reply_error(r, 404, "park %s has no screen texts", r->key);
    else if (sr != STORE_OK)
        reply_store(r, sr, "screen texts");
    else if (r->method[0] == 'D')
        reply(r, 200, json_pack("{s:b,s:s}", "deleted", 1, "park_id", r->key));
    else
        reply(r, 200, screen_json(&s));
}

/* ---- entry ---- */

static const struct route {
    const char *name;
    void (*collection)(struct req *r);
    void (*item)(struct req *r);
} routes[] = {
    {"vendors", vendors_collection, vendors_item},
    {"parks", parks_collection, parks_item},
    {"blacklist", blacklist_collection, blacklist_item},
    {"members", members_collection, members_item},
    {"reservations", reservations_collection, reservations_item},
    {"cards", cards_collection, cards_item},
    {"screen-texts", screen_texts_collection, screen_texts_item},
};

/* Does the Authorization header carry the admin token? */
static int authorized(const struct admin_request *rq, const char **why)
{
    const char *a = rq->authorization;
    size_t n = a ? rq->authorization_len : 0;
    unsigned char h[32];

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
    if (n == 0 || n > TOKEN_MAX || sha256(a, n, h) != 0 || CRYPTO_memcmp(h, adm.hash, 32) != 0) {
        *why = "wrong admin token";
        return 0;
    }
    return 1;
}

void admin_handle(const struct admin_request *rq, struct admin_reply *out)
{
    struct req r = {.method = rq->method ? rq->method : "", .out = out};
    const char *p = rq->path ? rq->path : "", *why = NULL;
    size_t n = rq->path ? rq->path_len : 0, seg_len, rest;
    const struct route *route = NULL;
    json_error_t jerr;

    out->status = 500;
    out->body = NULL;
    if (!adm.ready) {
        reply_error(&r, 503, "the admin API is not initialised");
        goto out;
    }
    if (!authorized(rq, &why)) {
        reply_error(&r, 401, "%s", why);
        goto out;
    }
    /* the outbox, commands, questions, vendors' delivery settings: admin_outbox.c */
    if (admin_outbox_owns(rq->path, rq->path_len)) {
        admin_outbox_handle(adm.st, rq, out);
        goto out;
    }
    /* path: /{resource}[/{key}][/] */
    while (n > 0 && p[n - 1] == '/')
        n--;
    if (n == 0 || p[0] != '/') {
        reply_error(&r, 404,
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
        reply_error(&r, 404,
                    "unknown admin path '/%.*s'; resources: vendors, parks, "
                    "blacklist, members, reservations, cards, screen-texts",
                    (int)(n > 200 ? 200 : n), p);
        goto out;
    }
    if (rest > 0 && (r.key = decode(p + seg_len + 1, rest)) == NULL) {
        reply_error(&r, 404, "bad percent-encoding in the path");
        goto out;
    }
    if (parse_query(&r, rq->query, rq->query ? rq->query_len : 0) != 0) {
        reply_error(&r, 400, "%s", r.err);
        goto out;
    }
    if (strcmp(r.method, "POST") == 0 || strcmp(r.method, "PUT") == 0 ||
        strcmp(r.method, "PATCH") == 0) {
        if (rq->body == NULL || rq->body_len == 0) {
            reply_error(&r, 400, "the request body must be a JSON object");
            goto out;
        }
        r.body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (r.body == NULL) {
            reply_error(&r, 400, "invalid JSON body: %s (line %d, column %d)", jerr.text, jerr.line,
                        jerr.column);
            goto out;
        }
        if (!json_is_object(r.body)) {
            reply_error(&r, 400, "the request body must be a JSON object");
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
