/* client.c - libparklink's HTTP client: libcurl transfers and signed requests per service row.
 *
 * The transfer half is a thin, capped wrapper over one curl easy handle per call (no shared
 * state, so callers may use it from any thread). The request half reads a row of the service
 * table and decides where union_id and service_name go, validates, serialises `data` once and
 * signs exactly those bytes (spec 01-protocol.md 1.2 and 1.4). Nothing here aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "parklink/client.h"
#include "parklink/envelope.h"
#include "parklink/sign.h"

/* jansson flags for every text this file serialises: compact, order kept, UTF-8 unescaped,
 * the same real formatting as plk_envelope_build(). */
#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

/* ---------------------------------------------------------------------------------------- */
/* transfers                                                                                */

enum plk_status plk_client_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? PLK_OK : PLK_E_HTTP;
}

void plk_client_global_cleanup(void)
{
    curl_global_cleanup();
}

struct sink {
    char *buf;
    size_t len, cap, max;
    int over, nomem;
};

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;

    if (n > s->max - s->len) {
        s->over = 1;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        if (cap > s->max + 1)
            cap = s->max + 1;
        char *nb = realloc(s->buf, cap);
        if (nb == NULL) {
            s->nomem = 1;
            return 0;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, ptr, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

static void set_error(struct plk_client_reply *reply, const char *msg)
{
    snprintf(reply->error, sizeof reply->error, "%s", msg);
}

/* Header text "Name: value" in a malloc'd string; NULL on allocation failure. */
static char *header_line(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *h = malloc(n);
    if (h)
        snprintf(h, n, "%s: %s", name, value);
    return h;
}

static int has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

enum plk_status plk_client_request(const char *method, const char *url, const char *body,
                                   size_t len, const struct plk_client_options *opt,
                                   struct plk_client_reply *reply)
{
    static const struct plk_client_options defaults;
    enum plk_status st = PLK_E_HTTP;
    struct curl_slist *headers = NULL, *h;
    char errbuf[CURL_ERROR_SIZE] = "";
    char *auth = NULL, *ctype = NULL;
    struct sink sink = {0};
    CURL *curl = NULL;
    CURLcode rc;

    if (reply == NULL)
        return PLK_E_INVALID_ARG;
    plk_client_reply_cleanup(reply);
    if (opt == NULL)
        opt = &defaults;
    if (method == NULL || url == NULL || method[0] == '\0' || has_crlf(opt->bearer) ||
        has_crlf(opt->content_type) || has_crlf(method)) {
        set_error(reply, "bad method, url, bearer token or content type");
        return PLK_E_INVALID_ARG;
    }
    sink.max = opt->max_reply ? opt->max_reply : PLK_CLIENT_MAX_REPLY;

    curl = curl_easy_init();
    if (curl == NULL) {
        set_error(reply, "curl_easy_init failed");
        goto out;
    }
    /* "Expect:" suppresses curl's 100-continue round trip on bodies over 1 KiB. */
    h = curl_slist_append(headers, "Expect:");
    if (h)
        headers = h;
    if (h && (h = curl_slist_append(headers, "Accept: application/json")))
        headers = h;
    if (h && body) {
        ctype = header_line("Content-Type",
                            opt->content_type ? opt->content_type : PLK_CLIENT_CONTENT_TYPE);
        h = ctype ? curl_slist_append(headers, ctype) : NULL;
        if (h)
            headers = h;
    }
    if (h && opt->bearer) {
        size_t n = strlen(opt->bearer) + sizeof "Bearer ";
        char *v = malloc(n);
        if (v) {
            snprintf(v, n, "Bearer %s", opt->bearer);
            auth = header_line("Authorization", v);
            free(v);
        }
        h = auth ? curl_slist_append(headers, auth) : NULL;
        if (h)
            headers = h;
    }
    if (h == NULL) {
        st = PLK_E_NOMEM;
        set_error(reply, "out of memory");
        goto out;
    }

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     opt->timeout_ms > 0 ? opt->timeout_ms : PLK_CLIENT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "libparklink");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)sink.max);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, opt->verbose ? 1L : 0L);
    if (body) {
        /* POSTFIELDS sends the bytes as they are (no copy, no form encoding); a custom
         * method keeps the body. */
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }

    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
    if (rc == CURLE_OK) {
        st = PLK_OK;
        reply->body = sink.buf;
        reply->len = sink.len;
        sink.buf = NULL;
        if (reply->body == NULL) { /* an empty reply still gets a string */
            reply->body = calloc(1, 1);
            if (reply->body == NULL) {
                st = PLK_E_NOMEM;
                set_error(reply, "out of memory");
            }
        }
    } else if (sink.over || rc == CURLE_FILESIZE_EXCEEDED) {
        st = PLK_E_TOO_LARGE;
        snprintf(reply->error, sizeof reply->error, "reply larger than %zu bytes", sink.max);
    } else if (sink.nomem) {
        st = PLK_E_NOMEM;
        set_error(reply, "out of memory");
    } else {
        st = PLK_E_HTTP;
        set_error(reply, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
out:
    free(sink.buf);
    free(auth);
    free(ctype);
    curl_slist_free_all(headers);
    if (curl)
        curl_easy_cleanup(curl);
    return st;
}

enum plk_status plk_client_post(const char *url, const char *body, size_t len,
                                const struct plk_client_options *opt,
                                struct plk_client_reply *reply)
{
    return plk_client_request("POST", url, body ? body : "", body ? len : 0, opt, reply);
}

void plk_client_reply_cleanup(struct plk_client_reply *reply)
{
    if (reply == NULL)
        return;
    free(reply->body);
    memset(reply, 0, sizeof *reply);
}

enum plk_status plk_client_reply_json(const struct plk_client_reply *reply, json_t **json,
                                      int *state)
{
    enum plk_status st = PLK_E_REPLY;
    json_t *root = NULL, *v;

    if (json)
        *json = NULL;
    if (state)
        *state = -1;
    if (reply == NULL || reply->body == NULL)
        return PLK_E_REPLY;
    root = json_loadb(reply->body, reply->len, 0, NULL);
    if (!json_is_object(root))
        goto out;
    v = json_object_get(root, "state");
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 1000) {
        if (state)
            *state = (int)json_integer_value(v);
        st = PLK_OK;
    } else if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= 4 &&
               strspn(json_string_value(v), "0123456789") == json_string_length(v)) {
        if (state)
            *state = atoi(json_string_value(v));
        st = PLK_OK;
    }
    if (json) {
        *json = root;
        root = NULL;
    }
out:
    json_decref(root);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* URLs                                                                                     */

char *plk_client_url(const char *url_base, const struct plk_service *svc)
{
    static const char unionapi[] = "/unionapi";
    const char *tail, *prefix = "";
    size_t blen, n;
    char *url;

    if (url_base == NULL || svc == NULL)
        return NULL;
    blen = strlen(url_base);
    while (blen > 0 && url_base[blen - 1] == '/')
        blen--;
    if (blen >= sizeof unionapi - 1 &&
        memcmp(url_base + blen - (sizeof unionapi - 1), unionapi, sizeof unionapi - 1) == 0) {
        blen -= sizeof unionapi - 1;
        while (blen > 0 && url_base[blen - 1] == '/')
            blen--;
    }

    if (svc->flags & PLK_SVC_UPLOAD_DATA) {
        tail = "/unionapi/neworder/uploadData";
    } else if (svc->path[0] == '\0') {
        tail = ""; /* callbacks: base is the receiver's own URL, taken as given */
        blen = strlen(url_base);
    } else if (svc->path[0] == '/') {
        tail = svc->path;
    } else if (strncmp(svc->path, "http://", 7) == 0 || strncmp(svc->path, "https://", 8) == 0) {
        tail = strchr(strstr(svc->path, "://") + 3, '/');
        if (tail == NULL)
            tail = "/";
    } else {
        prefix = "/unionapi/";
        tail = svc->path;
    }
    n = blen + strlen(prefix) + strlen(tail) + 1;
    url = malloc(n);
    if (url)
        snprintf(url, n, "%.*s%s%s", (int)blen, url_base, prefix, tail);
    return url;
}

/* ---------------------------------------------------------------------------------------- */
/* building a request for a service row                                                     */

static int envelope_in(const struct plk_service *svc, const char *letters)
{
    return svc->envelope && svc->envelope[0] && strchr(letters, svc->envelope[0]) != NULL;
}

/* Describe a validation failure of field f in rq->detail. */
static void field_detail(struct plk_client_request *rq, enum plk_status st,
                         const struct plk_field *f, const char *where)
{
    const char *name = f ? f->name : "?", *type;
    switch (st) {
    case PLK_E_FIELD_MISSING:
        snprintf(rq->detail, sizeof rq->detail, "%sfield \"%s\" is required", where, name);
        break;
    case PLK_E_FIELD_TYPE:
        type = f ? plk_field_type_name(f->type) : "?";
        snprintf(rq->detail, sizeof rq->detail, "%sfield \"%s\" must be %s %s", where, name,
                 strchr("aeiou", type[0]) ? "an" : "a", type);
        break;
    case PLK_E_FIELD_TOO_LONG:
        snprintf(rq->detail, sizeof rq->detail, "%sfield \"%s\" is longer than %u characters",
                 where, name, f ? (unsigned)f->max_len : 0u);
        break;
    case PLK_E_FIELD_ENUM:
        snprintf(rq->detail, sizeof rq->detail, "%sfield \"%s\" must be one of %s", where, name,
                 f && f->allowed ? f->allowed : "?");
        break;
    case PLK_E_FIELD_RANGE:
        if (f && f->allowed)
            snprintf(rq->detail, sizeof rq->detail, "%sfield \"%s\" must be one of %s", where, name,
                     f->allowed);
        else
            snprintf(rq->detail, sizeof rq->detail,
                     "%sfield \"%s\" is out of range (at most %u digits)", where, name,
                     f ? (unsigned)f->max_len : 0u);
        break;
    case PLK_E_FIELD_NUL:
        snprintf(rq->detail, sizeof rq->detail, "%sfield \"%s\" holds U+0000", where, name);
        break;
    case PLK_E_DATA_NOT_OBJECT:
        snprintf(rq->detail, sizeof rq->detail, "%sdata must be a JSON object", where);
        break;
    default:
        snprintf(rq->detail, sizeof rq->detail, "%s%s", where, plk_strerror(st));
        break;
    }
}

/* Validate data (an object, or for envelope D an array of objects) against the row. */
static enum plk_status validate(struct plk_client_request *rq, const struct plk_service *svc,
                                const json_t *data)
{
    enum plk_status st;
    const struct plk_field *bad = NULL;

    if (json_is_array(data) && envelope_in(svc, "D")) {
        size_t i;
        json_t *el;
        json_array_foreach(data, i, el)
        {
            char where[32];
            st = plk_service_validate(svc, el, &bad);
            if (st != PLK_OK) {
                snprintf(where, sizeof where, "data[%zu]: ", i);
                rq->bad_field = bad;
                field_detail(rq, st, bad, where);
                return st;
            }
        }
        return PLK_OK;
    }
    st = plk_service_validate(svc, data, &bad);
    if (st != PLK_OK) {
        rq->bad_field = bad;
        field_detail(rq, st, bad, "");
    }
    return st;
}

/* New object: k1/v1 and k2/v2 (those with a name) first, then the other members of src. */
static json_t *object_with_front(const json_t *src, const char *k1, json_t *v1, const char *k2,
                                 json_t *v2)
{
    json_t *o = json_object();
    const char *k;
    json_t *v;

    if (o == NULL)
        goto fail;
    if (k1 && json_object_set(o, k1, v1) != 0)
        goto fail;
    if (k2 && json_object_set(o, k2, v2) != 0)
        goto fail;
    json_object_foreach((json_t *)src, k, v)
    {
        if ((k1 && strcmp(k, k1) == 0) || (k2 && strcmp(k, k2) == 0))
            continue; /* a null placeholder in src does not override the value put first */
        if (json_object_set(o, k, v) != 0)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* Where the row keeps union_id and service_name. */
struct placement {
    int uid_top;   /* union_id at the top level */
    int uid_data;  /* union_id inside data */
    int uid_need;  /* a union_id must be known */
    int sname_top; /* service_name at the top level */
};

static struct placement placement_of(const struct plk_service *svc)
{
    struct placement p = {0};
    const struct plk_field *f = plk_service_field(svc, "union_id");

    if ((svc->flags & (PLK_SVC_NO_UNION_ID | PLK_SVC_UNSIGNED)) || envelope_in(svc, "PS")) {
        /* plain bodies, SDK messages (the token identifies the sender) and callbacks
         * without union_id carry it only if their schema lists it */
        p.uid_data = f != NULL;
        p.uid_need = f && f->required;
    } else if ((svc->flags & PLK_SVC_UNION_TOP) || envelope_in(svc, "BCD")) {
        p.uid_top = p.uid_need = 1;
        p.uid_data = f != NULL;
    } else {
        p.uid_data = p.uid_need = 1;
    }
    p.sname_top = envelope_in(svc, "DS");
    return p;
}

/* Normalise the given union_id text; "" when NULL. */
static enum plk_status given_union_id(struct plk_client_request *rq, const char *union_id,
                                      char out[PLK_UNION_ID_MAX + 1])
{
    enum plk_status st;
    json_t *s;

    out[0] = '\0';
    if (union_id == NULL)
        return PLK_OK;
    s = json_string(union_id);
    if (s == NULL)
        return PLK_E_BAD_UNION_ID; /* not UTF-8 */
    st = plk_union_id_text(s, out);
    json_decref(s);
    if (st != PLK_OK)
        snprintf(rq->detail, sizeof rq->detail, "union_id \"%.40s\" is not a positive integer",
                 union_id);
    return st;
}

/* Serialise members of `top` as `"k":v,` text (for splicing after the opening brace). */
static char *top_members_text(const json_t *top)
{
    json_t *copy = json_deep_copy(top);
    char *text, *inner = NULL;
    size_t n;

    if (copy == NULL)
        return NULL;
    text = json_dumps(copy, DUMP_FLAGS);
    json_decref(copy);
    if (text == NULL)
        return NULL;
    n = strlen(text); /* "{...}" */
    inner = malloc(n + 1);
    if (inner) {
        if (n > 2)
            snprintf(inner, n + 1, "%.*s,", (int)(n - 2), text + 1);
        else
            inner[0] = '\0';
    }
    free(text);
    return inner;
}

/* body = "{" + extra + rest-of-body-after-"{"; takes ownership of body. */
static char *splice_front(char *body, const char *extra)
{
    size_t blen, elen;
    char *out;

    if (body == NULL || extra[0] == '\0' || body[0] != '{')
        return body;
    blen = strlen(body);
    elen = strlen(extra);
    out = malloc(blen + elen + 1);
    if (out) {
        out[0] = '{';
        memcpy(out + 1, extra, elen);
        memcpy(out + 1 + elen, body + 1, blen); /* includes the NUL */
    }
    free(body);
    return out;
}

static json_t *union_id_value(const struct plk_service *svc, const char *uid)
{
    const struct plk_field *f = plk_service_field(svc, "union_id");
    if ((f && f->type == PLK_T_STR) || strlen(uid) > 18) /* > 18 digits may not fit int64 */
        return json_string(uid);
    return json_integer((json_int_t)strtoll(uid, NULL, 10));
}

enum plk_status plk_client_prepare(struct plk_client_request *rq, const char *url_base,
                                   const struct plk_service *svc, const char *union_id,
                                   const char *key, const json_t *data, const json_t *top)
{
    enum plk_status st = PLK_E_NOMEM;
    char uid[PLK_UNION_ID_MAX + 1], have[PLK_UNION_ID_MAX + 1] = "";
    json_t *msg = NULL, *extra = NULL, *tmp, *v;
    char *top_text = NULL, *body = NULL;
    struct placement where;
    int is_obj;

    if (rq == NULL)
        return PLK_E_INVALID_ARG;
    memset(rq, 0, sizeof *rq);
    if (url_base == NULL || svc == NULL || data == NULL) {
        snprintf(rq->detail, sizeof rq->detail, "no URL, service or data");
        return PLK_E_INVALID_ARG;
    }
    if (svc->dir == PLK_DIR_GET) {
        snprintf(rq->detail, sizeof rq->detail,
                 "%s is a browser redirect (GET with a query string), not a JSON call", svc->id);
        return PLK_E_INVALID_ARG;
    }
    if (svc->path[0] == '\0' && !(svc->flags & PLK_SVC_UPLOAD_DATA) && svc->dir != PLK_DIR_P2V) {
        snprintf(rq->detail, sizeof rq->detail, "%s has no HTTP address in the reference", svc->id);
        return PLK_E_INVALID_ARG;
    }
    if (key == NULL && !(svc->flags & PLK_SVC_UNSIGNED)) {
        snprintf(rq->detail, sizeof rq->detail, "%s is signed: a key is required", svc->id);
        return PLK_E_INVALID_ARG;
    }
    is_obj = json_is_object(data);
    if (!is_obj && !(json_is_array(data) && envelope_in(svc, "D"))) {
        snprintf(rq->detail, sizeof rq->detail, "data must be a JSON object");
        return PLK_E_DATA_NOT_OBJECT;
    }
    if (top != NULL && !json_is_object(top)) {
        snprintf(rq->detail, sizeof rq->detail, "top-level members must be a JSON object");
        return PLK_E_INVALID_ARG;
    }
    if (top && (json_object_get(top, "union_id") || json_object_get(top, "sign") ||
                json_object_get(top, "data"))) {
        snprintf(rq->detail, sizeof rq->detail,
                 "union_id, sign and data cannot be given as extra top-level members");
        return PLK_E_INVALID_ARG;
    }
    /* a row that carries no union_id ignores the given one (it may come from a shared
     * environment); otherwise a union_id already in data must agree with it */
    where = placement_of(svc);
    if (!where.uid_top && !where.uid_data)
        union_id = NULL;
    st = given_union_id(rq, union_id, uid);
    if (st != PLK_OK)
        return st;
    v = is_obj && (where.uid_top || where.uid_data) ? json_object_get(data, "union_id") : NULL;
    if (v && !json_is_null(v)) {
        st = plk_union_id_text(v, have);
        if (st != PLK_OK) {
            snprintf(rq->detail, sizeof rq->detail, "data.union_id is not a positive integer");
            return st;
        }
        if (uid[0] && strcmp(uid, have) != 0) {
            snprintf(rq->detail, sizeof rq->detail, "union_id %s given, but data.union_id is %s",
                     uid, have);
            return PLK_E_UNION_ID_CONFLICT;
        }
        if (!uid[0])
            memcpy(uid, have, sizeof uid);
    }
    if (!uid[0] && where.uid_need) {
        snprintf(rq->detail, sizeof rq->detail, "%s needs a union_id", svc->id);
        return PLK_E_NO_UNION_ID;
    }

    /* the message: data with union_id / service_name added in front where they belong */
    st = PLK_E_NOMEM;
    if (is_obj) {
        json_t *jid = NULL, *jname = NULL;
        const char *kid = NULL, *kname = NULL;
        const json_t *sn = json_object_get(data, "service_name");
        if (where.uid_data && uid[0] && !have[0]) {
            kid = "union_id";
            if ((jid = union_id_value(svc, uid)) == NULL)
                goto out;
        }
        if (svc->service_name[0] && !where.sname_top && sn == NULL) {
            kname = "service_name";
            if ((jname = json_string(svc->service_name)) == NULL) {
                json_decref(jid);
                goto out;
            }
        }
        msg = object_with_front(data, kid, jid, kname, jname);
        json_decref(jid);
        json_decref(jname);
    } else {
        msg = json_deep_copy(data);
    }
    if (msg == NULL)
        goto out;
    if (svc->service_name[0]) {
        const json_t *sn = where.sname_top ? (top ? json_object_get(top, "service_name") : NULL)
                                           : json_object_get(msg, "service_name");
        if (sn && !(json_is_string(sn) && strcmp(json_string_value(sn), svc->service_name) == 0)) {
            st = PLK_E_UNKNOWN_SERVICE;
            snprintf(rq->detail, sizeof rq->detail, "service_name must be \"%s\" for %s",
                     svc->service_name, svc->id);
            goto out;
        }
    }
    st = validate(rq, svc, msg);
    if (st != PLK_OK)
        goto out;

    /* top-level extras (not signed): caller's, service_name (D, S), timestamp (C) */
    st = PLK_E_NOMEM;
    extra = top ? json_deep_copy(top) : json_object();
    if (extra == NULL)
        goto out;
    if (where.sname_top && svc->service_name[0] && !json_object_get(extra, "service_name")) {
        tmp = json_string(svc->service_name);
        if (tmp == NULL || json_object_set_new(extra, "service_name", tmp) != 0)
            goto out;
    }
    if (envelope_in(svc, "C") && !json_object_get(extra, "timestamp")) {
        tmp = json_integer((json_int_t)time(NULL));
        if (tmp == NULL || json_object_set_new(extra, "timestamp", tmp) != 0)
            goto out;
    }
    top_text = top_members_text(extra);
    if (top_text == NULL)
        goto out;

    if (svc->flags & PLK_SVC_UNSIGNED) {
        body = json_dumps(msg, DUMP_FLAGS);
    } else if (svc->flags & PLK_SVC_LEGACY_SIGN) {
        /* flat object: fields, union_id, rand ... and the legacy sign beside them */
        char sign[PLK_SIGN_LEN + 1];
        st = plk_sign_legacy(msg, key, PLK_SIGN_LEGACY, sign);
        if (st != PLK_OK) {
            snprintf(rq->detail, sizeof rq->detail, "legacy sign: %s", plk_strerror(st));
            goto out;
        }
        st = PLK_E_NOMEM;
        tmp = json_string(sign);
        if (tmp == NULL || json_object_set_new(msg, "sign", tmp) != 0)
            goto out;
        body = json_dumps(msg, DUMP_FLAGS);
    } else {
        body = plk_envelope_build(msg, where.uid_top ? uid : NULL, key);
    }
    body = splice_front(body, top_text);
    if (body == NULL)
        goto out;
    rq->url = plk_client_url(url_base, svc);
    if (rq->url == NULL)
        goto out;
    rq->body = body;
    rq->len = strlen(body);
    body = NULL;
    st = PLK_OK;
out:
    if (st == PLK_E_NOMEM)
        snprintf(rq->detail, sizeof rq->detail, "out of memory");
    if (st != PLK_OK) {
        free(rq->url);
        rq->url = NULL;
    }
    free(body);
    free(top_text);
    json_decref(extra);
    json_decref(msg);
    return st;
}

/* Text of a query-string value: strings as they are, everything else as compact JSON. */
static char *query_value(const json_t *v)
{
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
}

/* 2.4: union_id, timestamp (ms) and is_private_cloud where absent, then the sign. */
static enum plk_status key_time_sign(struct plk_client_request *rq, json_t *q,
                                     const char *union_id, const char *key)
{
    char ts[32], sign[PLK_SIGN_LEN + 1];
    const json_t *t;

    if (key == NULL) {
        snprintf(rq->detail, sizeof rq->detail, "2.4 is signed with the vendor key: a key is "
                                                "required");
        return PLK_E_INVALID_ARG;
    }
    if (json_object_get(q, "union_id") == NULL && union_id != NULL)
        json_object_set_new(q, "union_id", json_string(union_id));
    if (json_object_get(q, "timestamp") == NULL) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        json_object_set_new(q, "timestamp",
                            json_integer((json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000));
    }
    if (json_object_get(q, "is_private_cloud") == NULL)
        json_object_set_new(q, "is_private_cloud", json_integer(1));
    t = json_object_get(q, "timestamp");
    if (json_is_integer(t))
        snprintf(ts, sizeof ts, "%" JSON_INTEGER_FORMAT, json_integer_value(t));
    else if (json_is_string(t))
        snprintf(ts, sizeof ts, "%s", json_string_value(t));
    else
        ts[0] = '\0';
    plk_md5_hex2(key, strlen(key), ts, strlen(ts), sign);
    json_object_set_new(q, "sign", json_string(sign));
    return PLK_OK;
}

enum plk_status plk_client_link(struct plk_client_request *rq, const char *url_base,
                                const struct plk_service *svc, const char *union_id,
                                const char *key, const json_t *data)
{
    enum plk_status st = PLK_E_NOMEM;
    json_t *q = NULL, *v;
    char *base = NULL, *link = NULL;
    const char *name;
    size_t len, cap;
    CURL *curl = NULL;

    if (rq == NULL)
        return PLK_E_INVALID_ARG;
    memset(rq, 0, sizeof *rq);
    if (url_base == NULL || svc == NULL || svc->dir != PLK_DIR_GET || !json_is_object(data)) {
        snprintf(rq->detail, sizeof rq->detail, "a GET row and a data object are required");
        return PLK_E_INVALID_ARG;
    }
    q = json_deep_copy(data);
    if (q == NULL)
        goto out;
    if (svc->flags & PLK_SVC_KEY_TIME_SIGN) {
        st = key_time_sign(rq, q, union_id, key);
        if (st != PLK_OK)
            goto out;
    }
    st = validate(rq, svc, q);
    if (st != PLK_OK)
        goto out;
    st = PLK_E_NOMEM;
    base = plk_client_url(url_base, svc);
    curl = curl_easy_init();
    if (base == NULL || curl == NULL)
        goto out;
    len = strlen(base);
    cap = len + 2;
    link = malloc(cap);
    if (link == NULL)
        goto out;
    memcpy(link, base, len + 1);
    json_object_foreach(q, name, v) {
        char *text = query_value(v), *ek = NULL, *ev = NULL, *bigger;
        if (text)
            ek = curl_easy_escape(curl, name, 0), ev = curl_easy_escape(curl, text, 0);
        free(text);
        if (ek == NULL || ev == NULL) {
            curl_free(ek);
            curl_free(ev);
            goto out;
        }
        cap = len + strlen(ek) + strlen(ev) + 3;
        bigger = realloc(link, cap);
        if (bigger == NULL) {
            curl_free(ek);
            curl_free(ev);
            goto out;
        }
        link = bigger;
        len += (size_t)snprintf(link + len, cap - len, "%c%s=%s", strchr(link, '?') ? '&' : '?',
                                ek, ev);
        curl_free(ek);
        curl_free(ev);
    }
    rq->body = strdup("");
    if (rq->body == NULL)
        goto out;
    rq->url = link;
    link = NULL;
    st = PLK_OK;
out:
    if (st == PLK_E_NOMEM && rq->detail[0] == '\0')
        snprintf(rq->detail, sizeof rq->detail, "out of memory");
    curl_easy_cleanup(curl);
    free(link);
    free(base);
    json_decref(q);
    return st;
}

void plk_client_request_cleanup(struct plk_client_request *rq)
{
    if (rq == NULL)
        return;
    free(rq->url);
    free(rq->body);
    memset(rq, 0, sizeof *rq);
}

enum plk_status plk_client_call(const char *url_base, const struct plk_service *svc,
                                const char *union_id, const char *key, const json_t *data,
                                const json_t *top, const struct plk_client_options *opt,
                                struct plk_client_reply *reply)
{
    struct plk_client_request rq;
    enum plk_status st;

    if (reply == NULL)
        return PLK_E_INVALID_ARG;
    plk_client_reply_cleanup(reply);
    st = plk_client_prepare(&rq, url_base, svc, union_id, key, data, top);
    if (st != PLK_OK) {
        reply->bad_field = rq.bad_field;
        snprintf(reply->error, sizeof reply->error, "%s", rq.detail);
        goto out;
    }
    st = plk_client_post(rq.url, rq.body, rq.len, opt, reply);
out:
    plk_client_request_cleanup(&rq);
    return st;
}
