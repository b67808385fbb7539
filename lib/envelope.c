/* envelope.c - parse the request envelope and find the raw `data` span; build signed bodies.
 *
 * Two readers over the same bytes: jansson decodes and validates (strict UTF-8, duplicate
 * member names rejected, exact error position), then jsmn's token offsets give the byte span
 * of the top-level `data` value, which is what the signature covers (spec 1.2.2: never
 * re-serialise). jsmn runs only on text jansson has accepted, so its lenient corners never
 * decide anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>
#include "parklink/envelope.h"

#define STACK_TOKENS 256

static void set_detail(struct plk_envelope *env, const char *text)
{
    snprintf(env->detail, sizeof env->detail, "%s", text);
}

/* Decode text strictly; maps jansson's error to our status and a detail. */
static enum plk_status decode(struct plk_envelope *env, const char *text, size_t len,
                              json_t **out)
{
    json_error_t err;
    *out = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
                      &err);
    if (*out)
        return PLK_OK;
    snprintf(env->detail, sizeof env->detail, "%.100s (at byte %ld)", err.text,
             (long)err.position);
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

/* Is the raw key token (without quotes) the name `want`? Escaped names ("d\u0061ta") are
 * decoded by jansson rather than by hand. */
static int key_is(const char *text, const jsmntok_t *k, const char *want)
{
    size_t n = (size_t)(k->end - k->start);
    const char *s = text + k->start;
    if (memchr(s, '\\', n) == NULL)
        return strlen(want) == n && memcmp(s, want, n) == 0;
    json_t *v = json_loadb(s - 1, n + 2, JSON_DECODE_ANY, NULL);
    int same = json_is_string(v) && strcmp(json_string_value(v), want) == 0;
    json_decref(v);
    return same;
}

/* Find the byte span of the top-level member `data` of the object in text. */
static enum plk_status find_data_span(struct plk_envelope *env, const char *text, size_t len)
{
    jsmntok_t stack_toks[STACK_TOKENS], *toks = stack_toks;
    jsmn_parser p;
    enum plk_status st = PLK_E_NO_DATA;
    int n;

    jsmn_init(&p);
    n = jsmn_parse(&p, text, len, toks, STACK_TOKENS);
    if (n == JSMN_ERROR_NOMEM) {
        jsmn_init(&p);
        n = jsmn_parse(&p, text, len, NULL, 0);
        if (n <= 0)
            return PLK_E_NOT_JSON;
        toks = malloc((size_t)n * sizeof *toks);
        if (toks == NULL)
            return PLK_E_NOMEM;
        jsmn_init(&p);
        n = jsmn_parse(&p, text, len, toks, (unsigned)n);
    }
    if (n < 1 || toks[0].type != JSMN_OBJECT) {
        st = PLK_E_NOT_OBJECT;
        goto out;
    }
    /* walk the pairs of the top-level object; skip each value's subtree by offsets */
    int i = 1, pairs = toks[0].size;
    for (int k = 0; k < pairs && i < n; k++) {
        const jsmntok_t *key = &toks[i], *val = &toks[i + 1];
        if (i + 1 >= n)
            break;
        if (key_is(text, key, "data")) {
            env->data_text = text + val->start;
            env->data_len = (size_t)(val->end - val->start);
            st = PLK_OK;
            goto out;
        }
        int end = val->end;
        i += 2;
        while (i < n && toks[i].start < end)
            i++;
    }
out:
    if (toks != stack_toks)
        free(toks);
    return st;
}

enum plk_status plk_union_id_text(const json_t *v, char out[PLK_UNION_ID_MAX + 1])
{
    if (json_is_integer(v)) {
        json_int_t id = json_integer_value(v);
        if (id <= 0)
            return PLK_E_BAD_UNION_ID;
        snprintf(out, PLK_UNION_ID_MAX + 1, "%" JSON_INTEGER_FORMAT, id);
        return PLK_OK;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
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
    return PLK_E_BAD_UNION_ID;
}

static enum plk_status read_union_id(struct plk_envelope *env, unsigned flags)
{
    char top[PLK_UNION_ID_MAX + 1] = "", in[PLK_UNION_ID_MAX + 1] = "";
    const json_t *vt = json_object_get(env->root, "union_id");
    const json_t *vd = json_is_object(env->data) ? json_object_get(env->data, "union_id") : NULL;

    if (vt && !json_is_null(vt) && plk_union_id_text(vt, top) != PLK_OK) {
        set_detail(env, "top-level union_id is not a positive integer");
        return PLK_E_BAD_UNION_ID;
    }
    if (vd && !json_is_null(vd) && plk_union_id_text(vd, in) != PLK_OK) {
        set_detail(env, "data.union_id is not a positive integer");
        return PLK_E_BAD_UNION_ID;
    }
    if (top[0] && in[0] && strcmp(top, in) != 0) {
        snprintf(env->detail, sizeof env->detail, "top-level union_id %s, data.union_id %s",
                 top, in);
        return PLK_E_UNION_ID_CONFLICT;
    }
    strcpy(env->union_id, top[0] ? top : in);
    if (env->union_id[0] == '\0' && !(flags & PLK_ENV_UNION_ID_OPTIONAL)) {
        set_detail(env, "union_id neither at top level nor in data");
        return PLK_E_NO_UNION_ID;
    }
    return PLK_OK;
}

static enum plk_status read_sign(struct plk_envelope *env, unsigned flags)
{
    const json_t *v = json_object_get(env->root, "sign");
    if (v == NULL || json_is_null(v)) {
        if (flags & PLK_ENV_SIGN_OPTIONAL)
            return PLK_OK;
        return PLK_E_NO_SIGN;
    }
    if (!json_is_string(v) || json_string_length(v) != PLK_SIGN_LEN) {
        set_detail(env, "sign must be a string of 32 hexadecimal digits");
        return PLK_E_BAD_SIGN_FORMAT;
    }
    const char *s = json_string_value(v);
    for (int i = 0; i < PLK_SIGN_LEN; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'f')
            c = (char)(c - 'a' + 'A');
        else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
            set_detail(env, "sign must be a string of 32 hexadecimal digits");
            return PLK_E_BAD_SIGN_FORMAT;
        }
        env->sign[i] = c;
    }
    env->sign[PLK_SIGN_LEN] = '\0';
    return PLK_OK;
}

enum plk_status plk_envelope_parse(struct plk_envelope *env, const char *body, size_t len,
                                   size_t max_len, unsigned flags)
{
    enum plk_status st;
    const char *text = body;
    size_t text_len = len;

    memset(env, 0, sizeof *env);
    if (max_len && len > max_len) {
        snprintf(env->detail, sizeof env->detail, "body is %zu bytes, the limit is %zu", len,
                 max_len);
        return PLK_E_TOO_LARGE;
    }
    if (len == 0)
        return PLK_E_EMPTY;
    if ((st = decode(env, text, text_len, &env->root)) != PLK_OK)
        goto fail;
    if (json_is_string(env->root)) {
        /* double-encoded: the body is a JSON string whose content is the envelope */
        text_len = json_string_length(env->root);
        env->inner = malloc(text_len + 1);
        if (env->inner == NULL) {
            st = PLK_E_NOMEM;
            goto fail;
        }
        memcpy(env->inner, json_string_value(env->root), text_len + 1);
        json_decref(env->root);
        env->root = NULL;
        text = env->inner;
        if ((st = decode(env, text, text_len, &env->root)) != PLK_OK)
            goto fail;
    }
    if (!json_is_object(env->root)) {
        st = PLK_E_NOT_OBJECT;
        goto fail;
    }
    env->data = json_object_get(env->root, "data");
    if (env->data == NULL) {
        st = PLK_E_NO_DATA;
        goto fail;
    }
    if (!json_is_object(env->data) &&
        !((flags & PLK_ENV_DATA_ARRAY_OK) && json_is_array(env->data))) {
        st = PLK_E_DATA_NOT_OBJECT;
        goto fail;
    }
    if ((st = find_data_span(env, text, text_len)) != PLK_OK)
        goto fail;
    if ((st = read_sign(env, flags)) != PLK_OK)
        goto fail;
    if ((st = read_union_id(env, flags)) != PLK_OK)
        goto fail;
    const json_t *sn = json_is_object(env->data) ? json_object_get(env->data, "service_name")
                                                 : NULL;
    if (!json_is_string(sn))
        sn = json_object_get(env->root, "service_name");
    env->service_name = json_is_string(sn) ? json_string_value(sn) : NULL;
    return PLK_OK;
fail: {
    char detail[sizeof env->detail];
    memcpy(detail, env->detail, sizeof detail);
    plk_envelope_cleanup(env);
    memcpy(env->detail, detail, sizeof detail);
    return st;
}
}

void plk_envelope_cleanup(struct plk_envelope *env)
{
    json_decref(env->root);
    free(env->inner);
    memset(env, 0, sizeof *env);
}

enum plk_status plk_envelope_verify(const struct plk_envelope *env, const char *key)
{
    if (env->data_text == NULL)
        return PLK_E_NO_DATA;
    if (env->sign[0] == '\0')
        return PLK_E_NO_SIGN;
    return plk_sign_verify(env->data_text, env->data_len, key, env->sign, PLK_SIGN_LEN);
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
        json_object_foreach((json_t *)v, name, m)
            if (needs_full_precision(m, depth + 1))
                return 1;
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, m)
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
            snprintf(body, cap, digits ? "{\"union_id\":%s,\"sign\":\"%s\",\"data\":%s}"
                                       : "{\"union_id\":\"%s\",\"sign\":\"%s\",\"data\":%s}",
                     union_id, sign, text);
        else
            snprintf(body, cap, "{\"sign\":\"%s\",\"data\":%s}", sign, text);
    }
    free(text);
    return body;
}
