/* envelope.h - parse and build the signed request envelope (spec 01-protocol.md, 1.4).
 *
 * A body is a JSON object {"union_id"?, "sign", "data", ...} or a JSON string holding such an
 * object (double encoding, DESIGN decision 3). Parsing locates the exact byte span of the
 * `data` value as received - the text the signature covers - and never re-serialises it.
 * `union_id` may stand at the top level, inside `data`, or both (then they must agree).
 * One strict pass with simdjson (valid UTF-8, no duplicate member names, exact grammar, no
 * U+0000 in any string at any depth: PLK_E_FIELD_NUL names where) finds the
 * span and reads the envelope's own members and the direct members of `data` into a flat view
 * (struct plk_value) without building a tree; jansson builds the json_t tree when a caller
 * wants one - at once by default, or only when asked (PLK_ENV_LAZY, the server's hot path). */
#ifndef PARKLINK_ENVELOPE_H
#define PARKLINK_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "parklink/status.h"
#include "parklink/sign.h"

#define PLK_UNION_ID_MAX 20 /* digits of a 64-bit id */
#define PLK_ENV_MEMBERS 48  /* direct members of `data` kept in the flat view */
#define PLK_ENV_INLINE 512  /* bytes of decoded text kept inside the struct (else malloc) */

enum plk_envelope_flags {
    PLK_ENV_UNION_ID_OPTIONAL = 1 << 0, /* callbacks 5.1, 5.3...: union_id may be absent */
    PLK_ENV_SIGN_OPTIONAL = 1 << 1,     /* unsigned messages (6.4) */
    PLK_ENV_DATA_ARRAY_OK = 1 << 2,     /* envelope D (9.1): data may be an array */
    PLK_ENV_LAZY = 1 << 3,              /* build no json_t tree unless plk_envelope_data() asks;
                                           root stays NULL */
};

/* One JSON value seen by the scan, without a tree. */
enum plk_kind { PLK_K_NULL, PLK_K_BOOL, PLK_K_INT, PLK_K_REAL, PLK_K_STR, PLK_K_OBJ, PLK_K_ARR };

struct plk_value {
    enum plk_kind kind;
    const char *text; /* STR: decoded, NUL-terminated; INT: canonical decimal ("-0" is "0"),
                         not terminated;
                         REAL: as sent; OBJ/ARR: the raw span (not NUL-terminated) */
    size_t len;       /* bytes of text */
    int64_t i;        /* INT value; BOOL 0/1 */
    double d;         /* REAL value (INT too, converted) */
};

struct plk_member {
    const char *name; /* decoded, NUL-terminated */
    size_t name_len;
    struct plk_value v;
};

struct plk_envelope {
    json_t *root;          /* owned: the decoded envelope object; NULL with PLK_ENV_LAZY */
    json_t *data;          /* the `data` tree: borrowed from root, or owned when root is
                              NULL; NULL with PLK_ENV_LAZY until plk_envelope_data() */
    const char *data_text; /* the raw bytes of `data` as received (points into the body,
                              or into `inner` for a double-encoded body) */
    size_t data_len;
    char sign[PLK_SIGN_LEN + 1];         /* as sent, upper-cased; "" if absent */
    char union_id[PLK_UNION_ID_MAX + 1]; /* normalised decimal text; "" if absent */
    const char *service_name;            /* data.service_name, else top-level; or NULL */
    char *inner;                         /* owned: decoded text of a double-encoded body, or NULL */
    char detail[160];                    /* on error: what exactly was wrong, for the errmsg */
    /* the flat view of data's direct members, in the order sent */
    unsigned char view; /* members holds every direct member of data (data is an object
                           of at most PLK_ENV_MEMBERS members) */
    unsigned nmembers;
    char *arena; /* decoded texts of the view: `inline_text` or owned */
    size_t arena_used, arena_cap;
    /* large parts last: a parse clears only what comes before them. The struct holds
     * pointers into itself: parse into the place it is used, never copy it. */
    struct plk_member members[PLK_ENV_MEMBERS];
    char inline_text[PLK_ENV_INLINE];
};

/* Make a never-parsed envelope safe to clean up, without clearing its large parts (a parse
 * needs no prior init). */
void plk_envelope_init(struct plk_envelope *env);

/* Parse `body` (len bytes, need not be NUL-terminated). Bodies over max_len (0 = no cap) fail
 * with PLK_E_TOO_LARGE before any parsing. On success env owns its values until
 * plk_envelope_cleanup(); env->data_text points into `body` (keep it alive) or env->inner.
 * On failure env holds nothing to free, but env->detail says what was wrong; calling
 * plk_envelope_cleanup() anyway is safe. Thread-safe. */
enum plk_status plk_envelope_parse(struct plk_envelope *env, const char *body, size_t len,
                                   size_t max_len, unsigned flags);

/* The `data` tree (decoded on first call with PLK_ENV_LAZY). NULL only when out of memory. */
const json_t *plk_envelope_data(struct plk_envelope *env);

/* A direct member of `data` by name, from the flat view (or from the tree when data is not
 * flat). Returns 0 when absent. *out stays valid while env is; `buf` (>= 32 bytes) holds the
 * text of a number taken from a tree. `union_id` absent (or null) in data is the envelope's
 * top-level one (an integer), so every reader and the validator see data as spec 1.4 means
 * it; the tree (plk_envelope_data) holds only what was sent. */
int plk_envelope_member(struct plk_envelope *env, const char *name, struct plk_value *out,
                        char buf[32]);

/* The flat view of one json_t scalar or container (texts point into v, or into buf for
 * numbers). */
void plk_value_of_json(const json_t *v, struct plk_value *out, char buf[32]);

/* Free what plk_envelope_parse() allocated. Safe on a zeroed or failed envelope. */
void plk_envelope_cleanup(struct plk_envelope *env);

/* Verify env's sign over its raw data text with `key` (current scheme). */
enum plk_status plk_envelope_verify(const struct plk_envelope *env, const char *key);

/* Build a signed body for an outgoing message: serialises `data` once (compact, member order
 * kept, UTF-8 unescaped), signs exactly those bytes with `key`, and returns a malloc'd body
 * {"union_id":<id>,"sign":"...","data":<text>} (union_id omitted when NULL; written as a
 * number when it is all digits). Returns NULL on allocation failure. */
char *plk_envelope_build(const json_t *data, const char *union_id, const char *key);

/* Normalise a union_id value (integer or digit string) into out. PLK_E_BAD_UNION_ID if it is
 * neither, or empty/too long. */
enum plk_status plk_union_id_text(const json_t *v, char out[PLK_UNION_ID_MAX + 1]);
enum plk_status plk_union_id_of(const struct plk_value *v, char out[PLK_UNION_ID_MAX + 1]);

#endif
