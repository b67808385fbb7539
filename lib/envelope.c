/* envelope.c - parse the request envelope and find the raw `data` span; build signed bodies.
 *
 * envelope_scan.cpp reads the text once with simdjson: grammar, strict UTF-8, repeated member
 * names, the byte span of the top-level `data` (what the signature covers, spec 1.2.2: never
 * re-serialise) and a flat view of data's direct members. jansson builds the json_t tree at
 * once by default; with PLK_ENV_LAZY only when asked, or when the scan met something only
 * jansson can finish (nested containers, surrogate escapes). Error texts are jansson's, so
 * every caller sees the same detail whichever reader refused first. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "envelope_scan.h"
#include "parklink/envelope.h"

#define DECODE_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

static void set_detail(struct plk_envelope *env, const char *text)
{
    snprintf(env->detail, sizeof env->detail, "%s", text);
}

/* Decode text strictly; maps jansson's error to our status and a detail. */
static enum plk_status decode(struct plk_envelope *env, const char *text, size_t len, json_t **out)
{
    json_error_t err;
    *out = json_loadb(text, len, DECODE_FLAGS, &err);
    if (*out)
        return PLK_OK;
    snprintf(env->detail, sizeof env->detail, "%.100s (at byte %ld)", err.text, (long)err.position);
    switch (json_error_code(&err)) {
    case json_error_invalid_utf8:
        return PLK_E_BAD_UTF8;
    case json_error_duplicate_key:
        return PLK_E_DUP_KEY;
    case json_error_out_of_memory:
        return PLK_E_NOMEM;
    default:
        return PLK_E_NOT_JSON;
    }
}

/* Room for the decoded texts of a scan of len bytes: inside the struct when it fits. */
static enum plk_status reserve_arena(struct plk_envelope *env, size_t len)
{
    size_t need = len + 64;
    env->arena_used = 0;
    if (env->arena && env->arena_cap >= need)
        return PLK_OK;
    if (env->arena && env->arena != env->inline_text)
        free(env->arena);
    env->arena = need <= sizeof env->inline_text ? env->inline_text : malloc(need);
    env->arena_cap =
        env->arena ? (env->arena == env->inline_text ? sizeof env->inline_text : need) : 0;
    return env->arena ? PLK_OK : PLK_E_NOMEM;
}

/* The scan; when it refuses, jansson's reading of the same text names the problem. */
static enum plk_status scan(struct plk_envelope *env, const char *text, size_t len,
                            struct envelope_scan *sc)
{
    enum plk_status st;
    json_t *v;

    if ((st = reserve_arena(env, len)) != PLK_OK)
        return st;
    if ((st = envelope_scan_text(env, text, len, sc)) == PLK_OK)
        return PLK_OK;
    if (st != PLK_E_NOMEM && st != PLK_E_FIELD_NUL) { /* jansson would take a NUL name for
                                                        bad JSON: the scan's reason is exact */
        enum plk_status jst = decode(env, text, len, &v);
        if (jst != PLK_OK)
            return jst;
        json_decref(v); /* jansson alone would accept it: the scan's stricter reason holds */
    }
    set_detail(env, sc->detail);
    return st;
}

/* --- the flat view -------------------------------------------------------------------------- */

void plk_value_of_json(const json_t *v, struct plk_value *out, char buf[32])
{
    memset(out, 0, sizeof *out);
    switch (json_typeof(v)) {
    case JSON_STRING:
        out->kind = PLK_K_STR;
        out->text = json_string_value(v);
        out->len = json_string_length(v);
        break;
    case JSON_INTEGER:
        out->kind = PLK_K_INT;
        out->i = json_integer_value(v);
        out->d = (double)out->i;
        out->len = (size_t)snprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        out->text = buf;
        break;
    case JSON_REAL:
        out->kind = PLK_K_REAL;
        out->d = json_real_value(v);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        out->kind = PLK_K_BOOL;
        out->i = json_is_true(v);
        break;
    case JSON_OBJECT:
        out->kind = PLK_K_OBJ;
        break;
    case JSON_ARRAY:
        out->kind = PLK_K_ARR;
        break;
    default:
        out->kind = PLK_K_NULL;
        break;
    }
}

const json_t *plk_envelope_data(struct plk_envelope *env)
{
    if (env->data == NULL && env->data_text)
        env->data = json_loadb(env->data_text, env->data_len, DECODE_FLAGS, NULL);
    return env->data;
}

/* data's own member `name`, from the view or the tree; 0 when absent. */
static int data_member(struct plk_envelope *env, const char *name, struct plk_value *out,
                       char buf[32])
{
    const json_t *data, *v;

    if (env->view) {
        size_t n = strlen(name);
        for (unsigned i = 0; i < env->nmembers; i++)
            if (env->members[i].name_len == n && memcmp(env->members[i].name, name, n) == 0) {
                *out = env->members[i].v;
                return 1;
            }
        return 0;
    }
    if ((data = plk_envelope_data(env)) == NULL || (v = json_object_get(data, name)) == NULL)
        return 0;
    plk_value_of_json(v, out, buf);
    return 1;
}

int plk_envelope_member(struct plk_envelope *env, const char *name, struct plk_value *out,
                        char buf[32])
{
    int found = data_member(env, name, out, buf);

    if (found && out->kind != PLK_K_NULL)
        return 1;
    /* spec 1.4: union_id at the top level, in data, or both - data means the same either
     * way, so the envelope's (normalised, agreed) union_id stands in for an absent one */
    if (env->union_id[0] && strcmp(name, "union_id") == 0) {
        memset(out, 0, sizeof *out);
        out->kind = PLK_K_INT;
        out->text = env->union_id;
        out->len = strlen(env->union_id);
        out->i = strtoll(env->union_id, NULL, 10);
        out->d = (double)out->i;
        return 1;
    }
    return found; /* absent, or null */
}

/* --- the envelope's own members --------------------------------------------------------- */

enum plk_status plk_union_id_of(const struct plk_value *v, char out[PLK_UNION_ID_MAX + 1])
{
    const char *s = v->text;
    size_t n = v->len;

    if (v->kind == PLK_K_INT) {
        if (v->i <= 0)
            return PLK_E_BAD_UNION_ID;
        memcpy(out, s, n); /* canonical digits, at most 19 */
        out[n] = '\0';
        return PLK_OK;
    }
    if (v->kind != PLK_K_STR)
        return PLK_E_BAD_UNION_ID;
    while (n > 1 && *s == '0') { /* "007" and 7 name the same vendor */
        s++;
        n--;
    }
    if (n == 0 || n > PLK_UNION_ID_MAX || (n == 1 && *s == '0'))
        return PLK_E_BAD_UNION_ID;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return PLK_E_BAD_UNION_ID;
    /* the same id must be expressible as a JSON integer (64-bit) */
    if (n > 19 || (n == 19 && memcmp(s, "9223372036854775807", 19) > 0))
        return PLK_E_BAD_UNION_ID;
    memcpy(out, s, n);
    out[n] = '\0';
    return PLK_OK;
}

enum plk_status plk_union_id_text(const json_t *v, char out[PLK_UNION_ID_MAX + 1])
{
    struct plk_value val;
    char buf[32];

    if (v == NULL)
        return PLK_E_BAD_UNION_ID;
    plk_value_of_json(v, &val, buf);
    return plk_union_id_of(&val, out);
}

static enum plk_status read_union_id(struct plk_envelope *env, const struct envelope_scan *sc,
                                     unsigned flags)
{
    char top[PLK_UNION_ID_MAX + 1] = "", in[PLK_UNION_ID_MAX + 1] = "", buf[32];
    struct plk_value vd;

    if (sc->has_union_id && sc->union_id.kind != PLK_K_NULL &&
        plk_union_id_of(&sc->union_id, top) != PLK_OK) {
        set_detail(env, "top-level union_id is not a positive integer");
        return PLK_E_BAD_UNION_ID;
    }
    if (data_member(env, "union_id", &vd, buf) && vd.kind != PLK_K_NULL &&
        plk_union_id_of(&vd, in) != PLK_OK) {
        set_detail(env, "data.union_id is not a positive integer");
        return PLK_E_BAD_UNION_ID;
    }
    if (top[0] && in[0] && strcmp(top, in) != 0) {
        snprintf(env->detail, sizeof env->detail, "top-level union_id %s, data.union_id %s", top,
                 in);
        return PLK_E_UNION_ID_CONFLICT;
    }
    strcpy(env->union_id, top[0] ? top : in);
    if (env->union_id[0] == '\0' && !(flags & PLK_ENV_UNION_ID_OPTIONAL)) {
        set_detail(env, "union_id neither at top level nor in data");
        return PLK_E_NO_UNION_ID;
    }
    return PLK_OK;
}

static enum plk_status read_sign(struct plk_envelope *env, const struct envelope_scan *sc,
                                 unsigned flags)
{
    const struct plk_value *v = &sc->sign;

    if (!sc->has_sign || v->kind == PLK_K_NULL)
        return (flags & PLK_ENV_SIGN_OPTIONAL) ? PLK_OK : PLK_E_NO_SIGN;
    if (v->kind != PLK_K_STR || plk_sign_normalize(v->text, v->len, env->sign) != PLK_OK) {
        env->sign[0] = '\0';
        set_detail(env, "sign must be a string of 32 hexadecimal digits");
        return PLK_E_BAD_SIGN_FORMAT;
    }
    return PLK_OK;
}

/* data.service_name, else the top-level one; a string or nothing. */
static const char *read_service_name(struct plk_envelope *env, const struct envelope_scan *sc)
{
    struct plk_value v;
    char buf[32];

    if (data_member(env, "service_name", &v, buf) && v.kind == PLK_K_STR)
        return v.text;
    if (sc->has_service_name && sc->service_name.kind == PLK_K_STR)
        return sc->service_name.text;
    return NULL;
}

/* Prepare env for a parse: every field but the large view, which is filled as needed. */
static void reset(struct plk_envelope *env)
{
    memset(env, 0, offsetof(struct plk_envelope, members));
}

void plk_envelope_init(struct plk_envelope *env)
{
    reset(env);
}

enum plk_status plk_envelope_parse(struct plk_envelope *env, const char *body, size_t len,
                                   size_t max_len, unsigned flags)
{
    struct envelope_scan sc;
    enum plk_kind data_kind;
    enum plk_status st;
    const char *text = body;
    size_t text_len = len;

    reset(env);
    if (max_len && len > max_len) {
        snprintf(env->detail, sizeof env->detail, "body is %zu bytes, the limit is %zu", len,
                 max_len);
        return PLK_E_TOO_LARGE;
    }
    if (len == 0)
        return PLK_E_EMPTY;
    if ((st = scan(env, text, text_len, &sc)) != PLK_OK)
        goto fail;
    if (sc.root_kind == PLK_K_STR) {
        /* double-encoded: the body is a JSON string whose content is the envelope */
        text_len = sc.root_string.len;
        if ((env->inner = malloc(text_len + 1)) == NULL) {
            st = PLK_E_NOMEM;
            goto fail;
        }
        memcpy(env->inner, sc.root_string.text, text_len + 1);
        text = env->inner;
        if ((st = scan(env, text, text_len, &sc)) != PLK_OK)
            goto fail;
    }
    if (sc.root_kind != PLK_K_OBJ) {
        st = PLK_E_NOT_OBJECT;
        goto fail;
    }
    if (!sc.has_data) {
        st = PLK_E_NO_DATA;
        goto fail;
    }
    data_kind = sc.data_text ? sc.data_kind : sc.data_scalar.kind;
    if (data_kind != PLK_K_OBJ && !((flags & PLK_ENV_DATA_ARRAY_OK) && data_kind == PLK_K_ARR)) {
        st = PLK_E_DATA_NOT_OBJECT;
        goto fail;
    }
    env->data_text = sc.data_text;
    env->data_len = sc.data_len;
    env->view = data_kind == PLK_K_OBJ && !sc.overflow;
    if (!(flags & PLK_ENV_LAZY) || sc.needs_tree) {
        if ((st = decode(env, text, text_len, &env->root)) != PLK_OK)
            goto fail;
        env->data = json_object_get(env->root, "data");
    }
    if ((st = read_sign(env, &sc, flags)) != PLK_OK)
        goto fail;
    if ((st = read_union_id(env, &sc, flags)) != PLK_OK)
        goto fail;
    env->service_name = read_service_name(env, &sc);
    return PLK_OK;
fail : {
    char detail[sizeof env->detail];
    memcpy(detail, env->detail, sizeof detail);
    plk_envelope_cleanup(env);
    memcpy(env->detail, detail, sizeof detail);
    return st;
}
}

void plk_envelope_cleanup(struct plk_envelope *env)
{
    if (env->root)
        json_decref(env->root);
    else
        json_decref(env->data); /* decoded alone (PLK_ENV_LAZY), or NULL */
    free(env->inner);
    if (env->arena && env->arena != env->inline_text)
        free(env->arena);
    reset(env);
    env->nmembers = 0;
}

enum plk_status plk_envelope_verify(const struct plk_envelope *env, const char *key)
{
    if (env->data_text == NULL)
        return PLK_E_NO_DATA;
    if (env->sign[0] == '\0')
        return PLK_E_NO_SIGN;
    return plk_sign_matches(env->data_text, env->data_len, key, env->sign); /* normalized */
}

/* Does any real in v lose digits at 15 significant digits? Reals are written with 15 digits
 * (0.1 stays "0.1") unless one of them needs 17 to read back the same value. */
static int needs_full_precision(const json_t *v, int depth)
{
    const char *name;
    json_t *m;
    size_t i;

    if (depth > 64)
        return 1;
    if (json_is_real(v)) {
        char buf[40];
        snprintf(buf, sizeof buf, "%.15g", json_real_value(v));
        return strtod(buf, NULL) != json_real_value(v);
    }
    if (json_is_object(v)) {
        json_object_foreach ((json_t *)v, name, m)
            if (needs_full_precision(m, depth + 1))
                return 1;
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, m)
            if (needs_full_precision(m, depth + 1))
                return 1;
    }
    return 0;
}

char *plk_envelope_build(const json_t *data, const char *union_id, const char *key)
{
    char sign[PLK_SIGN_LEN + 1];
    char *text, *body = NULL;
    size_t tlen, cap;
    int digits = union_id && union_id[0] && strspn(union_id, "0123456789") == strlen(union_id);

    text = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
                                JSON_REAL_PRECISION(needs_full_precision(data, 0) ? 17 : 15));
    if (text == NULL)
        return NULL;
    tlen = strlen(text);
    plk_sign(text, tlen, key, sign);
    cap = tlen + (union_id ? strlen(union_id) : 0) + 64;
    body = malloc(cap);
    if (body) {
        if (union_id)
            snprintf(body, cap,
                     digits ? "{\"union_id\":%s,\"sign\":\"%s\",\"data\":%s}"
                            : "{\"union_id\":\"%s\",\"sign\":\"%s\",\"data\":%s}",
                     union_id, sign, text);
        else
            snprintf(body, cap, "{\"sign\":\"%s\",\"data\":%s}", sign, text);
    }
    free(text);
    return body;
}
