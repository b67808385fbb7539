/* admin_token.h - the admin API's bearer token: how it is kept on disk and checked.
 *
 * A token chosen by a person (--admin-token) is stored as PBKDF2-HMAC-SHA256 with a random
 * salt; the random token generated at first start (256 bits) as its SHA-256. Requests are
 * checked against an HMAC of the verified token held in memory only, so the slow KDF runs at
 * start-up (and, without --admin-token, once at the first right token). docs/server.md. */
#ifndef PARKLINK_ADMIN_TOKEN_H
#define PARKLINK_ADMIN_TOKEN_H

#include <stddef.h>

struct store_session;

/* The settings row of the token record, and the one older versions kept (a bare SHA-256). */
#define ADMIN_TOKEN_SETTING "admin_token_hash"
#define ADMIN_TOKEN_LEGACY_SETTING "admin_token_sha256"
#define ADMIN_TOKEN_MAX 256

/* Load or set the token on session s (start-up: written on s directly, before the writer
 * runs; see admin_init in admin.h for the contract): given is
 * the chosen token or NULL; token_out receives it in clear when given or generated. A record
 * of the given token with the same KDF parameters is kept as it is (no write). 0 ok, -1
 * error (logged). */
int admin_token_init(struct store_session *s, const char *given, char *token_out,
                     size_t token_out_len);

/* Is t (n bytes) the admin token? Constant-time; thread-safe. A legacy SHA-256 record is
 * replaced by a PBKDF2 one at its first right token, written through the writer (any thread
 * may ask). */
int admin_token_check(const char *t, size_t n);

/* How many times the KDF ran in this process (tests: requests must not run it). */
unsigned long admin_token_kdf_runs(void);

#endif
