/* sqlite_engine.h - what the SQLite engine (sqlite_engine.c) shows beyond its vtable.
 *
 * The pure error mapping (unit-tested code by code) and, for tests that check the
 * connection's settings, the SQLite connection behind a session. Private to server/store/
 * and its tests. */
#ifndef PARKLINK_STORE_SQLITE_ENGINE_H
#define PARKLINK_STORE_SQLITE_ENGINE_H

#include <sqlite3.h>

#include "store/store.h"

/* How long a session's connection waits for another one's lock (ms). */
#define STORE_SQLITE_BUSY_MS 5000

/* The store result of a failed SQLite call: extended_rc its extended result code, sys_errno
 * the errno under it (sqlite3_system_errno; 0 if none). Unique/primary-key violations are
 * STORE_CONFLICT, foreign-key ones STORE_FOREIGN_KEY; a busy or locked database (the busy
 * timeout spent) STORE_BUSY; SQLITE_FULL, or an I/O error over ENOSPC, EFBIG or EDQUOT,
 * STORE_FULL; anything else (other constraints included: a bug) STORE_ERROR. Pure. */
enum store_result store_sqlite_result(int extended_rc, int sys_errno);

/* The connection of a session opened on a SQLite database (NULL for another engine). For
 * tests and diagnostics only: statements run on it bypass the core's transaction depth. */
sqlite3 *store_sqlite_session_db(struct store_session *s);

#endif
