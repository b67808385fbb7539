/* envelope_scan.c - one strict yajl pass over an envelope (see envelope_scan.h).
 *
 * The callbacks keep a depth counter: depth 1 is the envelope object, depth 2 the inside of
 * `data`. Decoded texts are copied into env's arena (decoded text is never longer than the
 * raw text plus a terminator, so len + 64 bytes always suffice). yajl's own allocations come
 * from a small arena on the stack, so a typical request allocates nothing. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>
#include "envelope_scan.h"

#define MAX_DEPTH 2048 /* jansson's own limit: deeper texts are refused the same way */
#define TOP_NAMES 16   /* top-level member names checked for repeats here; more: jansson */

enum top_key { TOP_OTHER, TOP_DATA, TOP_SIGN, TOP_UNION_ID, TOP_SERVICE_NAME };

struct scan_state {
    struct plk_envelope *env;
    struct envelope_scan *out;
    yajl_handle h;
    const char *text;
    int depth;
    enum top_key top; /* the top-level member whose value comes next */
    unsigned ntop;
    int in_data;               /* inside the data object or array (depth >= 2) */
    struct plk_member *member; /* data member whose value comes next (depth 2), or NULL */
    struct plk_member *open;   /* data member whose container value is open */
    enum plk_status st;        /* set by a callback that stops the parse */
    size_t root_end;           /* offset just past the whole value; 0: at the very end */
    /* last: not cleared, filled up to ntop */
    const char *top_names[TOP_NAMES];
    size_t top_lens[TOP_NAMES];
};

/* --- yajl's allocations: a bump arena on the caller's stack, malloc beyond it ------------ */

struct yajl_arena {
    size_t used;
    _Alignas(16) char buf[4096];
};

#define BLOCK_HDR 16 /* each block keeps its size in front, for realloc */

static int in_arena(const struct yajl_arena *a, const void *p)
{
    return (const char *)p >= a->buf && (const char *)p < a->buf + sizeof a->buf;
}

static void *arena_malloc(void *ctx, size_t n)
{
    struct yajl_arena *a = ctx;
    size_t need = BLOCK_HDR + ((n + 15) & ~(size_t)15);
    if (need <= sizeof a->buf - a->used) {
        char *p = a->buf + a->used;
        memcpy(p, &n, sizeof n);
        a->used += need;
        return p + BLOCK_HDR;
    }
    return malloc(n);
}

static void arena_free(void *ctx, void *p)
{
    if (!in_arena(ctx, p))
        free(p);
}

static void *arena_realloc(void *ctx, void *p, size_t n)
{
    size_t old;
    void *q;
    if (p == NULL)
        return arena_malloc(ctx, n);
    if (!in_arena(ctx, p))
        return realloc(p, n);
    memcpy(&old, (char *)p - BLOCK_HDR, sizeof old);
    if ((q = arena_malloc(ctx, n)) != NULL)
        memcpy(q, p, old < n ? old : n);
    return q;
}

/* --- texts ------------------------------------------------------------------------------- */

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        uint64_t word;
        if (n - i >= 8 && (memcpy(&word, s + i, 8), (word & 0x8080808080808080u) == 0)) {
            i += 8; /* eight ASCII bytes at once */
            continue;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            k = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return 0;
        if (n - i <= k)
            return 0;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t j = 2; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* Copy n bytes into the arena, NUL-terminated. */
static char *keep(struct scan_state *s, const void *p, size_t n)
{
    struct plk_envelope *env = s->env;
    char *q;
    if (n + 1 > env->arena_cap - env->arena_used)
        return NULL; /* cannot happen: the arena is sized from the text */
    q = env->arena + env->arena_used;
    memcpy(q, p, n);
    q[n] = '\0';
    env->arena_used += n + 1;
    return q;
}

static int stop(struct scan_state *s, enum plk_status st, const char *what)
{
    s->st = st;
    snprintf(s->out->detail, sizeof s->out->detail, "%s (at byte %zu)", what,
             yajl_get_bytes_consumed(s->h));
    return 0;
}

/* The slot a scalar at the current position is read into, or NULL when nobody keeps it. */
static struct plk_value *slot(struct scan_state *s)
{
    if (s->depth == 0) {
        /* the root scalar: only its kind matters (a string is handled apart) */
        s->root_end = yajl_get_bytes_consumed(s->h);
        return NULL;
    }
    if (s->depth == 1) {
        switch (s->top) {
        case TOP_SIGN:
            s->out->has_sign = 1;
            return &s->out->sign;
        case TOP_UNION_ID:
            s->out->has_union_id = 1;
            return &s->out->union_id;
        case TOP_SERVICE_NAME:
            s->out->has_service_name = 1;
            return &s->out->service_name;
        case TOP_DATA: /* a scalar data: kept for its kind, refused by envelope.c */
            s->out->has_data = 1;
            return &s->out->data_scalar;
        default:
            return NULL;
        }
    }
    if (s->depth == 2 && s->member) {
        struct plk_value *v = &s->member->v;
        s->member = NULL;
        return v;
    }
    return NULL;
}

/* --- callbacks ---------------------------------------------------------------------------- */

static int on_scalar(struct scan_state *s, enum plk_kind kind, int64_t b)
{
    struct plk_value *v = slot(s);
    if (s->depth == 0)
        s->out->root_kind = kind;
    if (v) {
        v->kind = kind;
        v->i = b;
        v->d = (double)b;
        v->text = kind == PLK_K_BOOL ? (b ? "true" : "false") : "null";
        v->len = strlen(v->text);
    }
    return 1;
}

static int on_null(void *ctx)
{
    return on_scalar(ctx, PLK_K_NULL, 0);
}

static int on_boolean(void *ctx, int b)
{
    return on_scalar(ctx, PLK_K_BOOL, b != 0);
}

/* Integer text (grammar already checked by yajl) to int64; 0 on overflow. */
static int parse_int(const char *p, size_t n, int64_t *out)
{
    int neg = p[0] == '-';
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, acc = 0;
    for (size_t i = (size_t)neg; i < n; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (acc > (limit - d) / 10)
            return 0;
        acc = acc * 10 + d;
    }
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 1;
}

static int on_number(void *ctx, const char *p, size_t n)
{
    struct scan_state *s = ctx;
    struct plk_value *v = slot(s);
    struct plk_value tmp;
    int is_real = 0;

    for (size_t i = 0; i < n; i++)
        if (p[i] == '.' || p[i] == 'e' || p[i] == 'E') {
            is_real = 1;
            break;
        }
    if (s->depth == 0)
        s->out->root_kind = is_real ? PLK_K_REAL : PLK_K_INT;
    if (v == NULL)
        v = &tmp; /* not kept, but its range is checked all the same */
    v->len = n;
    if (is_real) {
        /* strtod needs a terminated copy; the copy is also the text the view keeps */
        char *text = keep(s, p, n);
        if (text == NULL)
            return stop(s, PLK_E_NOMEM, "out of memory");
        v->kind = PLK_K_REAL;
        v->text = text;
        v->i = 0;
        v->d = strtod(text, NULL);
        if (isinf(v->d))
            return stop(s, PLK_E_NOT_JSON, "real number overflow");
        return 1;
    }
    v->kind = PLK_K_INT;
    v->text = p; /* the raw digits: canonical already, JSON has no leading zeros or '+' */
    if (!parse_int(p, n, &v->i))
        return stop(s, PLK_E_NOT_JSON, "too big integer");
    v->d = (double)v->i;
    if (v->i == 0 && n == 2) { /* "-0" */
        v->text = "0";
        v->len = 1;
    }
    return 1;
}

static int on_string(void *ctx, const unsigned char *p, size_t n)
{
    struct scan_state *s = ctx;
    struct plk_value *v;

    if (!utf8_valid(p, n))
        return stop(s, PLK_E_BAD_UTF8, "invalid UTF-8 in a string");
    if (s->depth == 0) {
        s->out->root_kind = PLK_K_STR;
        s->root_end = yajl_get_bytes_consumed(s->h);
        v = &s->out->root_string;
    } else if ((v = slot(s)) == NULL) {
        return 1;
    }
    v->kind = PLK_K_STR;
    v->i = 0;
    v->d = 0;
    if ((v->text = keep(s, p, n)) == NULL)
        return stop(s, PLK_E_NOMEM, "out of memory");
    v->len = n;
    return 1;
}

static int is_name(const unsigned char *p, size_t n, const char *want, size_t want_len)
{
    return n == want_len && memcmp(p, want, n) == 0;
}

#define IS(p, n, lit) is_name((p), (n), lit, sizeof lit - 1)

static int top_key(struct scan_state *s, const unsigned char *p, size_t n)
{
    const char *name;
    for (unsigned i = 0; i < s->ntop; i++)
        if (s->top_lens[i] == n && memcmp(s->top_names[i], p, n) == 0)
            return stop(s, PLK_E_DUP_KEY, "duplicate object key");
    if (s->ntop == TOP_NAMES) {
        s->out->needs_tree = 1; /* jansson checks the rest for repeats */
    } else if ((name = keep(s, p, n)) == NULL) {
        return stop(s, PLK_E_NOMEM, "out of memory");
    } else {
        s->top_lens[s->ntop] = n;
        s->top_names[s->ntop++] = name;
    }
    switch (n) {
    case 4:
        s->top = IS(p, n, "data") ? TOP_DATA : IS(p, n, "sign") ? TOP_SIGN : TOP_OTHER;
        break;
    case 8:
        s->top = IS(p, n, "union_id") ? TOP_UNION_ID : TOP_OTHER;
        break;
    case 12:
        s->top = IS(p, n, "service_name") ? TOP_SERVICE_NAME : TOP_OTHER;
        break;
    default:
        s->top = TOP_OTHER;
    }
    return 1;
}

static int data_key(struct scan_state *s, const unsigned char *p, size_t n)
{
    struct plk_envelope *env = s->env;
    struct plk_member *m;
    for (unsigned i = 0; i < env->nmembers; i++)
        if (env->members[i].name_len == n && memcmp(env->members[i].name, p, n) == 0)
            return stop(s, PLK_E_DUP_KEY, "duplicate object key");
    if (env->nmembers == PLK_ENV_MEMBERS) {
        s->out->overflow = 1;
        s->out->needs_tree = 1;
        s->member = NULL;
        return 1;
    }
    m = &env->members[env->nmembers];
    if ((m->name = keep(s, p, n)) == NULL)
        return stop(s, PLK_E_NOMEM, "out of memory");
    m->name_len = n;
    memset(&m->v, 0, sizeof m->v);
    env->nmembers++;
    s->member = m;
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *p, size_t n)
{
    struct scan_state *s = ctx;
    if (!utf8_valid(p, n))
        return stop(s, PLK_E_BAD_UTF8, "invalid UTF-8 in a member name");
    if (memchr(p, '\0', n) != NULL) /* "\u0000" in a name: jansson refuses it too */
        return stop(s, PLK_E_NOT_JSON, "NUL byte in object key not supported");
    if (s->depth == 1)
        return top_key(s, p, n);
    if (s->depth == 2 && s->in_data && s->out->data_kind == PLK_K_OBJ)
        return data_key(s, p, n);
    return 1;
}

static int on_open(struct scan_state *s, enum plk_kind kind)
{
    size_t at = yajl_get_bytes_consumed(s->h) - 1; /* the bracket itself */

    if (s->depth >= MAX_DEPTH)
        return stop(s, PLK_E_NOT_JSON, "maximum parsing depth reached");
    if (s->depth == 0) {
        s->out->root_kind = kind;
    } else if (s->depth == 1 && s->top == TOP_DATA) {
        s->in_data = 1;
        s->out->has_data = 1;
        s->out->data_kind = kind;
        s->out->data_text = s->text + at;
        if (kind == PLK_K_ARR)
            s->out->needs_tree = 1; /* envelope D: the view describes objects only */
    } else {
        /* a container inside data or beside it: jansson checks its names */
        s->out->needs_tree = 1;
        if (s->depth == 1) { /* a sign or union_id that is a container: its kind refuses it */
            struct plk_value *v = slot(s);
            if (v) {
                memset(v, 0, sizeof *v);
                v->kind = kind;
            }
        } else if (s->depth == 2 && s->member) {
            s->open = s->member;
            s->member = NULL;
            s->open->v.kind = kind;
            s->open->v.text = s->text + at;
        }
    }
    s->depth++;
    return 1;
}

static int on_close(struct scan_state *s)
{
    size_t end = yajl_get_bytes_consumed(s->h);
    s->depth--;
    if (s->depth == 0)
        s->root_end = end;
    if (s->depth == 1 && s->in_data) {
        s->in_data = 0;
        s->out->data_len = (size_t)(s->text + end - s->out->data_text);
    } else if (s->depth == 2 && s->open) {
        s->open->v.len = (size_t)(s->text + end - s->open->v.text);
        s->open = NULL;
    }
    return 1;
}

static int on_start_map(void *ctx)
{
    return on_open(ctx, PLK_K_OBJ);
}

static int on_start_array(void *ctx)
{
    return on_open(ctx, PLK_K_ARR);
}

static int on_end(void *ctx)
{
    return on_close(ctx);
}

static const yajl_callbacks callbacks = {
    on_null,      on_boolean, NULL,   NULL,           on_number, on_string,
    on_start_map, on_map_key, on_end, on_start_array, on_end,
};

static int only_whitespace(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
            return 0;
    return 1;
}

/* Does the text escape a UTF-16 surrogate (\uD800-\uDFFF)? yajl decodes lone ones leniently,
 * so such texts are left to jansson's stricter decoder. */
static int has_surrogate_escape(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (end - p >= 4 && p[1] == 'u' && (p[2] == 'd' || p[2] == 'D') &&
            strchr("89abcdefABCDEF", p[3]) != NULL && p[3] != '\0')
            return 1;
        p += 2; /* skip the escaped character, "\\" included */
        if (p >= end)
            break;
    }
    return 0;
}

enum plk_status envelope_scan(struct plk_envelope *env, const char *text, size_t len,
                              struct envelope_scan *out)
{
    struct yajl_arena arena;
    yajl_alloc_funcs funcs = {arena_malloc, arena_realloc, arena_free, &arena};
    struct scan_state s;
    yajl_status ys;

    /* yajl takes \v and \f for whitespace; JSON does not (nor inside strings, raw) */
    if (memchr(text, '\v', len) != NULL || memchr(text, '\f', len) != NULL) {
        memset(out, 0, sizeof *out);
        snprintf(out->detail, sizeof out->detail, "control character in the text");
        return PLK_E_NOT_JSON;
    }

    memset(out, 0, offsetof(struct envelope_scan, detail));
    out->detail[0] = '\0';
    memset(&s, 0, offsetof(struct scan_state, top_names));
    arena.used = 0;
    env->nmembers = 0;
    s.env = env;
    s.out = out;
    s.text = text;
    s.st = PLK_OK;
    if ((s.h = yajl_alloc(&callbacks, &funcs, &s)) == NULL)
        return PLK_E_NOMEM;
    yajl_config(s.h, yajl_dont_validate_strings, 1); /* utf8_valid() is the stricter check */
    ys = yajl_parse(s.h, (const unsigned char *)text, len);
    if (ys == yajl_status_ok)
        ys = yajl_complete_parse(s.h);
    if (ys != yajl_status_ok && s.st == PLK_OK) {
        unsigned char *msg = yajl_get_error(s.h, 0, NULL, 0);
        s.st = PLK_E_NOT_JSON;
        snprintf(out->detail, sizeof out->detail, "%s (at byte %zu)",
                 msg ? (const char *)msg : "not JSON", yajl_get_bytes_consumed(s.h));
        yajl_free_error(s.h, msg);
    }
    yajl_free(s.h);
    /* yajl takes an unfinished string after the value for the start of more text: only
     * whitespace may follow the value */
    if (s.st == PLK_OK && s.root_end > 0 && !only_whitespace(text + s.root_end, len - s.root_end)) {
        s.st = PLK_E_NOT_JSON;
        snprintf(out->detail, sizeof out->detail, "end of file expected (at byte %zu)", s.root_end);
    }
    if (s.st == PLK_OK && has_surrogate_escape(text, len))
        out->needs_tree = 1;
    return s.st;
}
