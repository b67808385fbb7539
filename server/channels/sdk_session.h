/* sdk_session.h - login sessions of the SDK's HTTP mode (spec 12.3 login, 12.4).
 *
 * A terminal logs in through bpd/upload.do with a message signed by its vendor's key and
 * gets a token (32 lower-case hex characters); every later upload and each download.do
 * long-poll names it. A new login of the same (park_id, local_id) replaces the earlier
 * token, as the reference's gateway does. Each vendor and each park has a quota: a login
 * past it ends the OLDEST session of the same vendor (park), never another vendor's; idle
 * sessions expire; a session ends when its vendor's key changes or its vendor or park is
 * deleted (sdk_session_revoke_stale). Sessions live in memory: after a restart a terminal
 * logs in again ("error:token无效" tells it to). Thread-safe (a read-write lock). */
#ifndef PARKLINK_SDK_SESSION_H
#define PARKLINK_SDK_SESSION_H

#include <stdint.h>

#include "parklink/status.h"

struct snapshot;

#define SDK_TOKEN_LEN 32
#define SDK_LOCAL_ID_MAX 196 /* spec 12.1 */

struct sdk_session {
    char token[SDK_TOKEN_LEN + 1];
    char union_id[21];
    char park_id[65];
    char local_id[SDK_LOCAL_ID_MAX + 1];
    char ukey[65];   /* the vendor key the login was signed with */
    int64_t created; /* unix seconds */
    int64_t used;    /* unix seconds of the login or the last request naming the token */
};

struct sdk_session_limits {
    unsigned max;        /* sessions in the whole table (--sdk-sessions-max) */
    unsigned per_vendor; /* per union_id (--sdk-sessions-per-vendor) */
    unsigned per_park;   /* per park_id (--sdk-sessions-per-park) */
    unsigned idle_s;     /* a session unused this long ends; 0 = never (--sdk-session-idle) */
};

/* The defaults of the options above. */
#define SDK_SESSIONS_MAX 100000
#define SDK_SESSIONS_PER_VENDOR 10000
#define SDK_SESSIONS_PER_PARK 256
#define SDK_SESSION_IDLE_S 3600

/* Set the limits (zeros: the defaults; idle_s 0 means never) and forget every session.
 * Before the workers start, or in tests. */
void sdk_session_init(const struct sdk_session_limits *lim);

/* Tests: the clock sessions read (unix seconds); NULL = time(). */
void sdk_session_set_clock(int64_t (*now)(void));

/* Open a session for a terminal of vendor union_id, signed with ukey, at park park_id
 * (local_id may be ""). Writes the new token. Never refuses for room: past a quota the
 * oldest session of the same vendor (or park) ends; when the whole table is full, idle
 * sessions are reaped first, then the oldest session of the vendor holding the most ends.
 * 0 ok; -1 when randomness or memory fails. */
int sdk_session_login(const char *union_id, const char *park_id, const char *local_id,
                      const char *ukey, char token[SDK_TOKEN_LEN + 1]);

/* Copy the session named by token into out and mark it used now. PLK_OK, or why there is
 * none: PLK_E_SESSION_UNKNOWN (never issued, replaced by a newer login of the terminal, or
 * forgotten), PLK_E_SESSION_EVICTED (quota), PLK_E_SESSION_IDLE, PLK_E_SESSION_REVOKED
 * (key changed, vendor or park deleted). Ends of the last few thousand sessions are
 * remembered for that answer. */
enum plk_status sdk_session_get(const char *token, struct sdk_session *out);

/* Is s still backed by snap: its vendor exists with the same key, its park exists and
 * belongs to that vendor? Pure. */
int sdk_session_valid(const struct sdk_session *s, const struct snapshot *snap);

/* End every session snap no longer backs (sdk_session_valid) and every idle one; for each
 * ended one call ended(arg, token) after the table's lock is released (long-poll holders
 * end with it). Returns how many ended. Any thread. */
unsigned sdk_session_revoke_stale(const struct snapshot *snap,
                                  void (*ended)(void *arg, const char *token), void *arg);

/* Sessions now in the table: whole, of one vendor, of one park (tests, metrics). */
unsigned sdk_session_count(const char *union_id, const char *park_id);

/* Forget every session (shutdown, tests). */
void sdk_session_cleanup(void);

#endif
