/* services.c - expands lib/services.def into the service table and checks data against it.
 *
 * The table is static data; lookups are linear scans over ~70 rows (the server builds its
 * own hash/route index once at start). The validator implements the type rules of
 * spec/README.md "Conventions": numbers and money are accepted as JSON numbers or numeric
 * strings, ids typed String are accepted as numbers too. */
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <stdlib.h>
#include "parklink/services.h"

#define V2P PLK_DIR_V2P
#define P2V PLK_DIR_P2V
#define GET PLK_DIR_GET
#define BOTH PLK_DIR_BOTH
#define STR PLK_T_STR
#define INT PLK_T_INT
#define NUM PLK_T_NUM
#define OBJ PLK_T_OBJ
#define ARR PLK_T_ARR
#define ANY PLK_T_ANY
#define SIGNED PLK_SVC_SIGNED
#define LEGACY_SIGN PLK_SVC_LEGACY_SIGN
#define PARK_SCOPED PLK_SVC_PARK_SCOPED
#define WRITES PLK_SVC_WRITES
#define IDEMPOTENT PLK_SVC_IDEMPOTENT
#define UPLOAD_DATA PLK_SVC_UPLOAD_DATA
#define UNION_TOP PLK_SVC_UNION_TOP
#define UNSIGNED PLK_SVC_UNSIGNED
#define QUESTION PLK_SVC_QUESTION
#define NO_UNION_ID PLK_SVC_NO_UNION_ID
#define KEY_TIME_SIGN PLK_SVC_KEY_TIME_SIGN
#define ABSENT_OK PLK_FIELD_ABSENT_OK
#define OPEN_ENUM PLK_FIELD_OPEN_ENUM

/* pass 1: one field array per service */
#define SERVICE(id, section, dir, path, sname, flags, env, title, title_zh)                        \
    static const struct plk_field fields_##id[] = {
#define FIELD(name, type, req, max, allowed, meaning) {name, type, req, max, allowed, meaning, 0, 0},
#define FIELDX(name, type, req, max, allowed, meaning, role)                                       \
    {name, type, req, max, allowed, meaning, PLK_REPLAY_##role, 0},
#define FIELDF(name, type, req, max, allowed, flags, meaning)                                      \
    {name, type, req, max, allowed, meaning, 0, flags},
#define END(id)                                                                                    \
    {                                                                                              \
        NULL, PLK_T_ANY, 0, 0, NULL, NULL, 0, 0                                                    \
    }                                                                                              \
    }                                                                                              \
    ;
#include "services.def"
#undef SERVICE
#undef FIELD
#undef FIELDX
#undef FIELDF
#undef END

/* pass 2: the table */
#define SERVICE(id, section, dir, path, sname, flags, env, title, title_zh)                        \
    {                                                                                              \
        0,     #id,      section,     dir,                                                         \
        path,  sname,    flags,       env,                                                         \
        title, title_zh, fields_##id, sizeof(fields_##id) / sizeof(fields_##id[0]) - 1},
#define FIELD(name, type, req, max, allowed, meaning)
#define FIELDX(name, type, req, max, allowed, meaning, role)
#define FIELDF(name, type, req, max, allowed, flags, meaning)
#define END(id)
static struct plk_service table[] = {
#include "services.def"
};
#undef SERVICE
#undef FIELD
#undef FIELDX
#undef FIELDF
#undef END

#define NSERVICES (sizeof(table) / sizeof(table[0]))

/* Row indexes are assigned at load time so the .def file need not number its rows. */
__attribute__((constructor)) static void number_rows(void)
{
    for (size_t i = 0; i < NSERVICES; i++) {
        table[i].index = (unsigned)i;
        for (size_t k = 0; k < table[i].nfields; k++)
            if (table[i].fields[k].replay != PLK_REPLAY_NONE)
                table[i].flags |= PLK_SVC_REPLAY;
    }
}

const struct plk_service *plk_services(size_t *n)
{
    if (n)
        *n = NSERVICES;
    return table;
}

const struct plk_service *plk_service_by_id(const char *id)
{
    for (size_t i = 0; i < NSERVICES; i++)
        if (strcmp(table[i].id, id) == 0)
            return &table[i];
    return NULL;
}

const struct plk_service *plk_service_by_path(const char *path, size_t len)
{
    for (size_t i = 0; i < NSERVICES; i++) {
        const struct plk_service *s = &table[i];
        if ((s->flags & PLK_SVC_UPLOAD_DATA) || s->path[0] == '\0')
            continue;
        if (strlen(s->path) == len && memcmp(s->path, path, len) == 0)
            return s;
    }
    return NULL;
}

const struct plk_service *plk_service_by_name(const char *service_name, enum plk_direction dir)
{
    for (size_t i = 0; i < NSERVICES; i++) {
        const struct plk_service *s = &table[i];
        if (s->dir == dir && s->service_name[0] && strcmp(s->service_name, service_name) == 0)
            return s;
    }
    return NULL;
}

const struct plk_field *plk_service_field(const struct plk_service *svc, const char *name)
{
    for (size_t i = 0; i < svc->nfields; i++)
        if (strcmp(svc->fields[i].name, name) == 0)
            return &svc->fields[i];
    return NULL;
}

int plk_field_enforced(const struct plk_field *f)
{
    return f->required && !(f->flags & PLK_FIELD_ABSENT_OK);
}

const char *plk_field_type_name(enum plk_field_type t)
{
    static const char *const names[] = {"string", "integer", "number", "object", "array", "any"};
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

const char *plk_direction_name(enum plk_direction d)
{
    static const char *const names[] = {"V->P", "P->V", "GET", "both"};
    return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : "?";
}

/* Number of UTF-8 code points in s (len bytes); the input is already valid UTF-8. */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

static int is_int_text(const char *s, size_t len)
{
    size_t i = 0;
    if (len > 0 && s[0] == '-')
        i = 1;
    if (i == len || len - i > 19)
        return 0;
    for (; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_num_text(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return 0;
    char buf[65], *end;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (isspace((unsigned char)buf[0]))
        return 0;
    strtod(buf, &end);
    return *end == '\0';
}

/* Text form of a scalar for length and enum checks: strings as they are, integers in their
 * canonical form, reals in the shortest form that reads back the same. Returns 0 if v has no
 * text form. */
static int scalar_text(const struct plk_value *v, char *buf, size_t cap, const char **s,
                       size_t *len)
{
    if (v->kind == PLK_K_STR || v->kind == PLK_K_INT) {
        *s = v->text;
        *len = v->len;
        return 1;
    }
    if (v->kind == PLK_K_REAL) {
        /* 0.99 counts 4 characters, not the 19 of "%.17g" (5.12 prints a maximum of 15 for
         * recharge_money and sends 0.99) */
        int n = 0;
        for (int prec = 15; prec <= 17; prec++) {
            n = snprintf(buf, cap, "%.*g", prec, v->d);
            if (strtod(buf, NULL) == v->d)
                break;
        }
        *s = buf;
        *len = (size_t)n;
        return 1;
    }
    return 0;
}

static int allowed_has(const char *allowed, const char *s, size_t len)
{
    const char *p = allowed;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && memcmp(p, s, len) == 0)
            return 1;
        if (!bar)
            break;
        p = bar + 1;
    }
    return 0;
}

/* Decimal digits of |n|. */
static unsigned digits_of(long long n)
{
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    unsigned d = 1;
    while (u >= 10) {
        u /= 10;
        d++;
    }
    return d;
}

/* Does every allowed value of an integer field read as a non-negative integer? */
static int allowed_non_negative(const char *allowed)
{
    for (const char *p = allowed; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != '|')
            return 0;
    return 1;
}

/* An integer field's range: at most max_len digits (the sign is not a character of the
 * number), and not negative where every allowed value is a non-negative integer. */
static enum plk_status check_int_range(const struct plk_field *f, long long n)
{
    if (f->max_len && digits_of(n) > f->max_len)
        return PLK_E_FIELD_RANGE;
    if (n < 0 && f->allowed && allowed_non_negative(f->allowed))
        return PLK_E_FIELD_RANGE;
    return PLK_OK;
}

static enum plk_status check_field(const struct plk_field *f, const struct plk_value *v)
{
    char buf[64];
    const char *s = NULL;
    size_t len = 0;
    int has_text = scalar_text(v, buf, sizeof buf, &s, &len);
    int is_number = v->kind == PLK_K_INT || v->kind == PLK_K_REAL;
    long long n = 0;
    enum plk_status st;

    /* U+0000 would cut the text wherever it is used as a C string: refused in any field */
    if (v->kind == PLK_K_STR && memchr(v->text, '\0', v->len) != NULL)
        return PLK_E_FIELD_NUL;
    switch (f->type) {
    case PLK_T_STR:
        if (v->kind != PLK_K_STR && !is_number)
            return PLK_E_FIELD_TYPE;
        break;
    case PLK_T_INT:
        if (v->kind == PLK_K_INT) {
            n = v->i;
        } else if (v->kind == PLK_K_REAL) { /* 1.0 is an integer written with a decimal point */
            if (!(v->d > -9.2e18 && v->d < 9.2e18) || v->d != (double)(long long)v->d)
                return PLK_E_FIELD_TYPE; /* a fraction, or beyond 64 bits (no cast then) */
            n = (long long)v->d;
        } else if (v->kind == PLK_K_STR && is_int_text(s, len)) {
            n = strtoll(s, NULL, 10);
        } else {
            return PLK_E_FIELD_TYPE;
        }
        if ((st = check_int_range(f, n)) != PLK_OK)
            return st;
        if (f->allowed && !(f->flags & PLK_FIELD_OPEN_ENUM) && !allowed_has(f->allowed, s, len))
            return PLK_E_FIELD_ENUM;
        return PLK_OK;
    case PLK_T_NUM:
        if (is_number)
            break;
        if (v->kind != PLK_K_STR || !is_num_text(s, len))
            return PLK_E_FIELD_TYPE;
        break;
    case PLK_T_OBJ:
        return v->kind == PLK_K_OBJ ? PLK_OK : PLK_E_FIELD_TYPE;
    case PLK_T_ARR:
        return v->kind == PLK_K_ARR ? PLK_OK : PLK_E_FIELD_TYPE;
    case PLK_T_ANY:
        break;
    }
    if (!has_text)
        return PLK_OK;
    if (f->max_len && utf8_chars(s, len) > f->max_len)
        return PLK_E_FIELD_TOO_LONG;
    if (f->allowed && !(f->flags & PLK_FIELD_OPEN_ENUM) && !allowed_has(f->allowed, s, len))
        return PLK_E_FIELD_ENUM;
    return PLK_OK;
}

/* The one validation loop; `get` finds a member of data by name (0: absent). */
typedef int (*member_fn)(void *ctx, const char *name, struct plk_value *out, char buf[32]);

static enum plk_status validate(const struct plk_service *svc, member_fn get, void *ctx,
                                const struct plk_field **bad)
{
    for (size_t i = 0; i < svc->nfields; i++) {
        const struct plk_field *f = &svc->fields[i];
        struct plk_value v;
        char buf[32];
        enum plk_status st = PLK_OK;
        if (!get(ctx, f->name, &v, buf) || v.kind == PLK_K_NULL ||
            (v.kind == PLK_K_STR && v.len == 0)) {
            if (plk_field_enforced(f))
                st = PLK_E_FIELD_MISSING;
        } else {
            st = check_field(f, &v);
        }
        if (st != PLK_OK) {
            if (bad)
                *bad = f;
            return st;
        }
    }
    return PLK_OK;
}

static int json_member(void *ctx, const char *name, struct plk_value *out, char buf[32])
{
    const json_t *v = json_object_get(ctx, name);
    if (v == NULL)
        return 0;
    plk_value_of_json(v, out, buf);
    return 1;
}

static int envelope_member(void *ctx, const char *name, struct plk_value *out, char buf[32])
{
    return plk_envelope_member(ctx, name, out, buf);
}

enum plk_status plk_service_validate(const struct plk_service *svc, const json_t *data,
                                     const struct plk_field **bad)
{
    if (!json_is_object(data))
        return PLK_E_DATA_NOT_OBJECT;
    return validate(svc, json_member, (void *)data, bad);
}

enum plk_status plk_service_validate_envelope(const struct plk_service *svc,
                                              struct plk_envelope *env,
                                              const struct plk_field **bad)
{
    if (!env->view && !json_is_object(plk_envelope_data(env)))
        return PLK_E_DATA_NOT_OBJECT;
    return validate(svc, envelope_member, env, bad);
}
