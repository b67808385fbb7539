/* envelope.h - parse and build the signed request envelope (spec 01-protocol.md, 1.4).
 *
 * A body is a JSON object {"union_id"?, "sign", "data", ...} or a JSON string holding such an
 * object (double encoding, DESIGN decision 3). Parsing locates the exact byte span of the
 * `data` value as received - the text the signature covers - and never re-serialises it.
 * `union_id` may stand at the top level, inside `data`, or both (then they must agree).
 * Values are decoded with jansson (strict: valid UTF-8, no duplicate member names); the raw
 * span is found with jsmn token offsets. */
#ifndef PARKLINK_ENVELOPE_H
#define PARKLINK_ENVELOPE_H

#include <stddef.h>
#include <jansson.h>
#include "parklink/status.h"
#include "parklink/sign.h"

#define PLK_UNION_ID_MAX 20 /* digits of a 64-bit id */

enum plk_envelope_flags {
    PLK_ENV_UNION_ID_OPTIONAL = 1 << 0, /* callbacks 5.1, 5.3...: union_id may be absent */
    PLK_ENV_SIGN_OPTIONAL = 1 << 1,     /* unsigned messages (6.4) */
    PLK_ENV_DATA_ARRAY_OK = 1 << 2,     /* envelope D (9.1): data may be an array */
};

struct plk_envelope {
    json_t *root;            /* owned: the decoded envelope object */
    json_t *data;            /* borrowed from root: the `data` value */
    const char *data_text;   /* the raw bytes of `data` as received (points into the body,
                                or into `inner` for a double-encoded body) */
    size_t data_len;
    char sign[PLK_SIGN_LEN + 1];          /* as sent, upper-cased; "" if absent */
    char union_id[PLK_UNION_ID_MAX + 1];  /* normalised decimal text; "" if absent */
    const char *service_name;             /* data.service_name, else top-level; or NULL */
    char *inner;             /* owned: decoded text of a double-encoded body, or NULL */
    char detail[160];        /* on error: what exactly was wrong, for the errmsg */
};

/* Parse `body` (len bytes, need not be NUL-terminated). Bodies over max_len (0 = no cap) fail
 * with PLK_E_TOO_LARGE before any parsing. On success env owns its values until
 * plk_envelope_cleanup(); env->data_text points into `body` (keep it alive) or env->inner.
 * On failure env holds nothing to free, but env->detail says what was wrong; calling
 * plk_envelope_cleanup() anyway is safe. Thread-safe. */
enum plk_status plk_envelope_parse(struct plk_envelope *env, const char *body, size_t len,
                                   size_t max_len, unsigned flags);

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

#endif
