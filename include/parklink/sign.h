/* sign.h - Bolink signatures (spec 01-protocol.md, 1.2).
 *
 * Current scheme: sign = upper(hex(md5(DATA_TEXT + "key=" + KEY))) over the exact bytes of
 * the `data` value. Legacy scheme: names sorted, empty values dropped, "k=v" joined by "&",
 * then "key=" + KEY ("&key=" in the AMP variant). Verification compares in constant time.
 * MD5 comes from OpenSSL's EVP interface. All functions are thread-safe. */
#ifndef PARKLINK_SIGN_H
#define PARKLINK_SIGN_H

#include <stddef.h>
#include <jansson.h>
#include "parklink/status.h"

#define PLK_SIGN_LEN 32

enum plk_sign_scheme {
    PLK_SIGN_CURRENT = 0,   /* DATA_TEXT + "key=" + KEY */
    PLK_SIGN_LEGACY,        /* sorted k=v&k=v + "key=" + KEY */
    PLK_SIGN_LEGACY_AMP,    /* sorted k=v&k=v + "&key=" + KEY */
};

/* Sign `text` (len bytes) followed by "key=" and `key`: writes 32 upper-case hex digits and
 * a NUL into out. */
void plk_sign(const char *text, size_t len, const char *key, char out[PLK_SIGN_LEN + 1]);

/* md5 of prefix + suffix, upper-case hex (the building block; used by 2.4's KEY+timestamp). */
void plk_md5_hex2(const char *a, size_t alen, const char *b, size_t blen,
                  char out[PLK_SIGN_LEN + 1]);

/* Check `sign` (len bytes; upper or lower case hex accepted) against text + "key=" + key.
 * Returns PLK_OK, PLK_E_BAD_SIGN_FORMAT or PLK_E_SIGN_MISMATCH. Constant time in the
 * compared digits. */
/* sign (sign_len bytes) as 32 upper-case hex digits into out; PLK_E_BAD_SIGN_FORMAT when it
 * is not 32 hexadecimal digits of either case. */
enum plk_status plk_sign_normalize(const char *sign, size_t sign_len, char out[PLK_SIGN_LEN + 1]);

enum plk_status plk_sign_verify(const char *text, size_t len, const char *key,
                                const char *sign, size_t sign_len);

/* plk_sign_verify() for a sign already normalized (32 upper-case hex digits). */
enum plk_status plk_sign_matches(const char *text, size_t len, const char *key,
                                 const char sign[PLK_SIGN_LEN]);

/* Build the legacy link string of a flat JSON object: every member except "sign" whose value
 * is not empty/null/"null", names sorted by byte value, "name=value" joined by "&". Numbers
 * are written as their JSON text, true/false as words; nested objects/arrays are written as
 * compact JSON. Returns a malloc'd string (caller frees) or NULL on allocation failure. */
char *plk_sign_legacy_text(const json_t *flat);

/* Sign a flat object with a legacy scheme (PLK_SIGN_LEGACY or PLK_SIGN_LEGACY_AMP). */
enum plk_status plk_sign_legacy(const json_t *flat, const char *key, enum plk_sign_scheme scheme,
                                char out[PLK_SIGN_LEN + 1]);

#endif
