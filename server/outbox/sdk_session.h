/* sdk_session.h - login sessions of the SDK's HTTP mode (spec 12.3 login, 12.4).
 *
 * A terminal logs in through bpd/upload.do with a message signed by its vendor's key and
 * gets a token (32 lower-case hex characters); every later upload and each download.do
 * long-poll names it. A new login of the same (park_id, local_id) replaces the earlier
 * token, as the reference's gateway does. Sessions live in memory: after a restart a
 * terminal logs in again ("error:token无效" tells it to). Thread-safe (a read-write lock). */
#ifndef PARKLINK_SDK_SESSION_H
#define PARKLINK_SDK_SESSION_H

#include <stdint.h>

#define SDK_TOKEN_LEN 32
#define SDK_LOCAL_ID_MAX 196 /* spec 12.1 */
#define SDK_SESSIONS_MAX 100000

struct sdk_session {
    char token[SDK_TOKEN_LEN + 1];
    char union_id[21];
    char park_id[65];
    char local_id[SDK_LOCAL_ID_MAX + 1];
    int64_t created; /* unix seconds */
};

/* Open a session for a terminal of vendor union_id at park park_id (local_id may be "").
 * Writes the new token. 0 ok; -1 when SDK_SESSIONS_MAX sessions exist or randomness fails. */
int sdk_session_login(const char *union_id, const char *park_id, const char *local_id,
                      char token[SDK_TOKEN_LEN + 1]);

/* Copy the session named by token into out: 0, or -1 when there is none. */
int sdk_session_get(const char *token, struct sdk_session *out);

/* Forget every session (shutdown, tests). */
void sdk_session_cleanup(void);

#endif
