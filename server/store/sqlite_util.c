/* sqlite_util.c - statement helpers every file of the SQLite backend shares.
 *
 * sqlite.c, sqlite_orders.c and sqlite_outbox.c each keep their own prepared statements and
 * locking; the mapping of SQLite errors to store results, running a statement to its end and
 * copying a text column live here once. Backend-private (sqlite_internal.h). */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "store/sqlite_internal.h"

enum store_result store_sqlite_result(int extended_rc, int sys_errno)
{
    switch (extended_rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
        return STORE_CONFLICT;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return STORE_FOREIGN_KEY;
    default:
        break;
    }
    switch (extended_rc & 0xff) {
    case SQLITE_BUSY: /* with the busy timeout spent */
    case SQLITE_LOCKED:
        return STORE_BUSY;
    case SQLITE_FULL: /* ENOSPC on a write, or max_page_count */
        return STORE_FULL;
    case SQLITE_IOERR: /* a write the file system refused for want of room */
        if (sys_errno == ENOSPC || sys_errno == EFBIG || sys_errno == EDQUOT)
            return STORE_FULL;
        return STORE_ERROR;
    default:
        return STORE_ERROR;
    }
}

enum store_result store_sqlite_error(sqlite3 *db, const char *what)
{
    int rc = sqlite3_extended_errcode(db), sys = sqlite3_system_errno(db);
    enum store_result r = store_sqlite_result(rc, sys);

    if (r != STORE_CONFLICT && r != STORE_FOREIGN_KEY)
        log_error("sqlite: %s: %s (%s; sqlite code %d, errno %d)", what, sqlite3_errmsg(db),
                  store_strerror(r), rc, sys);
    return r;
}

void store_sqlite_reset(sqlite3_stmt *q)
{
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
}

enum store_result store_sqlite_exec(sqlite3 *db, sqlite3_stmt *q, const char *what)
{
    enum store_result r = STORE_OK;
    int rc;

    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        r = store_sqlite_error(db, what);
    store_sqlite_reset(q);
    return r;
}

void store_sqlite_col_text(sqlite3_stmt *q, int i, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(q, i) : 0;

    if (n >= size)
        n = size - 1;
    if (n > 0)
        memcpy(out, t, n);
    out[n] = '\0';
}
