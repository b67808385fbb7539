/* sqlite_internal.h - what the SQLite backend's sub-interfaces share with sqlite.c.
 *
 * sqlite.c owns the handle (one connection, one mutex); a sub-interface file such as
 * sqlite_orders.c reaches that connection through the accessors below and hangs its own
 * vtable off store_ops (st->ops->orders ...). Backend-private: nothing above server/store/
 * includes this. */
#ifndef PARKLINK_STORE_SQLITE_INTERNAL_H
#define PARKLINK_STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

#include "store/store.h"

struct store;
struct store_tx;

/* How long a connection of the SQLite backend waits for another one's lock (ms). */
#define STORE_SQLITE_BUSY_MS 5000

/* The connection of a SQLite store handle and the mutex every user of it must hold. */
sqlite3 *store_sqlite_db(struct store *st, pthread_mutex_t **lock);

/* The connection of a session opened on a SQLite handle (sqlite_orders.c). A sub-interface
 * op given a store_tx inside the writer's batch runs its statements on it: they are part of
 * the open transaction (the batch already holds the handle's lock; do not take it again). */
sqlite3 *store_sqlite_tx_db(struct store_tx *tx);

/* A statement for sql prepared once per session and cached under the pointer sql (so pass a
 * string with static storage). Reset and clear it after use. NULL (logged) if it does not
 * prepare. */
sqlite3_stmt *store_sqlite_tx_stmt(struct store_tx *tx, const char *sql);

/* The store result of a failed SQLite call: extended_rc its extended result code, sys_errno
 * the errno under it (sqlite3_system_errno; 0 if none). Unique/primary-key violations are
 * STORE_CONFLICT, foreign-key ones STORE_FOREIGN_KEY; a busy or locked database (the busy
 * timeout spent) STORE_BUSY; SQLITE_FULL, or an I/O error over ENOSPC, EFBIG or EDQUOT,
 * STORE_FULL; anything else (other constraints included: a bug) STORE_ERROR. Pure.
 * (sqlite_util.c) */
enum store_result store_sqlite_result(int extended_rc, int sys_errno);

/* Map the connection's last error with store_sqlite_result; every result but STORE_CONFLICT
 * and STORE_FOREIGN_KEY (expected outcomes) is logged with `what`. */
enum store_result store_sqlite_error(sqlite3 *db, const char *what);

/* Reset a statement and clear its bindings, ready for its next use. */
void store_sqlite_reset(sqlite3_stmt *q);

/* Step q to its end, ignoring rows, then reset it; a failure is mapped as above. */
enum store_result store_sqlite_exec(sqlite3 *db, sqlite3_stmt *q, const char *what);

/* Copy text column i into out (size bytes, always NUL-terminated, truncated to fit). */
void store_sqlite_col_text(sqlite3_stmt *q, int i, char *out, size_t size);

/* The order sub-interface of the SQLite backend (sqlite_orders.c). */
extern const struct store_order_ops store_sqlite_order_ops;

#endif
