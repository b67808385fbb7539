/* sqlite.c - the SQLite backend of the store interface (store.h), the default one-node store.
 *
 * One connection per store handle, in WAL mode with synchronous=FULL (a committed write
 * survives power loss), foreign keys on, and a busy timeout for other processes. Threads:
 * every op takes the handle's mutex, so one handle is safe to share but serialises its users;
 * a thread that wants parallel reads opens its own handle (WAL lets readers of different
 * connections run beside one writer). Hot statements are prepared once at open; list queries,
 * whose WHERE clause depends on the filters given, are prepared per call (values are always
 * bound, never pasted into SQL). Row callbacks run under the mutex: they must not call back
 * into the same store handle. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store/migrations.h"
#include "store/sqlite_internal.h"
#include "store/store.h"
#include "store/store_outbox.h"

#define BUSY_TIMEOUT_MS STORE_SQLITE_BUSY_MS
/* The WAL file is cut back to this size whenever it starts over (docs/server.md, "The WAL") */
#define WAL_SIZE_LIMIT 16777216 /* 16 MiB */

#define VENDOR_COLS "union_id, ukey, name, callback_url, created, updated, replay_window_s"
#define PARK_COLS                                                                                  \
    "park_id, union_id, name, total_plot, empty_plot, members_only, has_prepay, suspended, "       \
    "msg_nonmember, msg_blacklist, msg_other, created, updated"
#define BL_COLS "id, plate, color, reason, valid_from, valid_until, created, rev"
#define MEM_COLS "id, plate, color, park_id, valid_until, created, updated, rev"
#define RES_COLS "id, plate, color, park_id, start_at, end_at, state, created, updated, rev"

enum stmt_id {
    S_BEGIN_WRITE,
    S_BEGIN_READ,
    S_COMMIT,
    S_ROLLBACK,
    S_BUMP_REV,
    S_GET_REV,
    S_VENDOR_GET,
    S_VENDOR_INSERT,
    S_VENDOR_UPDATE,
    S_VENDOR_DELETE,
    S_PARK_GET,
    S_PARK_INSERT,
    S_PARK_UPDATE,
    S_PARK_DELETE,
    S_BL_INSERT,
    S_BL_GET,
    S_BL_DELETE,
    S_MEM_INSERT,
    S_MEM_UPDATE,
    S_MEM_GET,
    S_MEM_DELETE,
    S_RES_INSERT,
    S_RES_UPDATE,
    S_RES_GET,
    S_RES_DELETE,
    S_SET_GET,
    S_SET_PUT,
    S_LOAD_VENDORS,
    S_LOAD_PARKS,
    S_LOAD_BL_ALL,
    S_LOAD_BL_SINCE,
    S_LOAD_MEM_ALL,
    S_LOAD_MEM_SINCE,
    S_LOAD_RES_ALL,
    S_LOAD_RES_SINCE,
    S_LOAD_TOMBSTONES,
    S__COUNT
};

static const char *const stmt_sql[S__COUNT] = {
    [S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [S_BEGIN_READ] = "BEGIN",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_BUMP_REV] = "UPDATE revision SET rev = rev + 1 WHERE id = 1 RETURNING rev",
    [S_GET_REV] = "SELECT rev FROM revision WHERE id = 1",
    [S_VENDOR_GET] = "SELECT " VENDOR_COLS " FROM vendors WHERE union_id = ?1",
    [S_VENDOR_INSERT] = "INSERT INTO vendors (union_id, ukey, name, callback_url, created, "
                        "updated, rev, replay_window_s) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
    [S_VENDOR_UPDATE] = "UPDATE vendors SET ukey = ?2, name = ?3, callback_url = ?4, "
                        "updated = ?5, rev = ?6, replay_window_s = ?7 WHERE union_id = ?1",
    [S_VENDOR_DELETE] = "DELETE FROM vendors WHERE union_id = ?1",
    [S_PARK_GET] = "SELECT " PARK_COLS " FROM parks WHERE park_id = ?1",
    [S_PARK_INSERT] = "INSERT INTO parks (park_id, union_id, name, total_plot, empty_plot, "
                      "members_only, has_prepay, suspended, msg_nonmember, msg_blacklist, "
                      "msg_other, created, updated, rev) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                      "?8, ?9, ?10, ?11, ?12, ?12, ?13)",
    [S_PARK_UPDATE] = "UPDATE parks SET union_id = ?2, name = ?3, total_plot = ?4, "
                      "empty_plot = ?5, members_only = ?6, has_prepay = ?7, suspended = ?8, "
                      "msg_nonmember = ?9, msg_blacklist = ?10, msg_other = ?11, "
                      "updated = ?12, rev = ?13 WHERE park_id = ?1",
    [S_PARK_DELETE] = "DELETE FROM parks WHERE park_id = ?1",
    [S_BL_INSERT] = "INSERT INTO blacklist (plate, color, reason, valid_from, valid_until, "
                    "created, rev) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_BL_GET] = "SELECT " BL_COLS " FROM blacklist WHERE id = ?1",
    [S_BL_DELETE] = "DELETE FROM blacklist WHERE id = ?1",
    [S_MEM_INSERT] = "INSERT INTO members (plate, color, park_id, valid_until, created, "
                     "updated, rev) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
    [S_MEM_UPDATE] = "UPDATE members SET plate = ?2, color = ?3, park_id = ?4, "
                     "valid_until = ?5, updated = ?6, rev = ?7 WHERE id = ?1",
    [S_MEM_GET] = "SELECT " MEM_COLS " FROM members WHERE id = ?1",
    [S_MEM_DELETE] = "DELETE FROM members WHERE id = ?1",
    [S_RES_INSERT] = "INSERT INTO reservations (plate, color, park_id, start_at, end_at, "
                     "state, created, updated, rev) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, "
                     "?8)",
    [S_RES_UPDATE] = "UPDATE reservations SET plate = ?2, color = ?3, park_id = ?4, "
                     "start_at = ?5, end_at = ?6, state = ?7, updated = ?8, rev = ?9 "
                     "WHERE id = ?1",
    [S_RES_GET] = "SELECT " RES_COLS " FROM reservations WHERE id = ?1",
    [S_RES_DELETE] = "DELETE FROM reservations WHERE id = ?1",
    [S_SET_GET] = "SELECT value FROM settings WHERE key = ?1",
    [S_SET_PUT] = "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [S_LOAD_VENDORS] = "SELECT " VENDOR_COLS " FROM vendors",
    [S_LOAD_PARKS] = "SELECT " PARK_COLS " FROM parks",
    [S_LOAD_BL_ALL] = "SELECT " BL_COLS " FROM blacklist",
    [S_LOAD_BL_SINCE] = "SELECT " BL_COLS " FROM blacklist WHERE rev > ?1",
    [S_LOAD_MEM_ALL] = "SELECT " MEM_COLS " FROM members",
    [S_LOAD_MEM_SINCE] = "SELECT " MEM_COLS " FROM members WHERE rev > ?1",
    [S_LOAD_RES_ALL] = "SELECT " RES_COLS " FROM reservations",
    [S_LOAD_RES_SINCE] = "SELECT " RES_COLS " FROM reservations WHERE rev > ?1",
    [S_LOAD_TOMBSTONES] = "SELECT kind, id FROM tombstones WHERE rev > ?1",
};

struct sqlite_store {
    struct store base;
    sqlite3 *db;
    pthread_mutex_t lock;
    sqlite3_stmt *stmt[S__COUNT];
};

/* Row reader + user callback, for the generic row loop. */
struct emit_ctx {
    union {
        store_vendor_cb vendor;
        store_park_cb park;
        store_blacklist_cb blacklist;
        store_member_cb member;
        store_reservation_cb reservation;
    } cb;
    void *arg;
};

typedef int (*emit_fn)(sqlite3_stmt *q, struct emit_ctx *e);

static struct sqlite_store *to_sqlite(struct store *st)
{
    return (struct sqlite_store *)st;
}

static void log_db(struct sqlite_store *s, const char *what)
{
    log_error("sqlite: %s: %s", what, sqlite3_errmsg(s->db));
}

static enum store_result map_error(struct sqlite_store *s, const char *what)
{
    return store_sqlite_error(s->db, what);
}

static void done(sqlite3_stmt *q)
{
    store_sqlite_reset(q);
}

/* Run a statement that returns no rows (or whose rows are ignored). */
static enum store_result run(struct sqlite_store *s, sqlite3_stmt *q, const char *what)
{
    return store_sqlite_exec(s->db, q, what);
}

static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
    sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

/* "" (or NULL) is stored as SQL NULL: city-wide member, no reason_msg override. */
static void bind_text_or_null(sqlite3_stmt *q, int i, const char *v)
{
    if (v == NULL || v[0] == '\0')
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

static void col_text(sqlite3_stmt *q, int i, char *out, size_t size)
{
    store_sqlite_col_text(q, i, out, size);
}

static void read_vendor(sqlite3_stmt *q, struct store_vendor *v)
{
    col_text(q, 0, v->union_id, sizeof(v->union_id));
    col_text(q, 1, v->ukey, sizeof(v->ukey));
    col_text(q, 2, v->name, sizeof(v->name));
    col_text(q, 3, v->callback_url, sizeof(v->callback_url));
    v->created = sqlite3_column_int64(q, 4);
    v->updated = sqlite3_column_int64(q, 5);
    v->replay_window_s = sqlite3_column_int(q, 6);
}

static void read_park(sqlite3_stmt *q, struct store_park *p)
{
    col_text(q, 0, p->park_id, sizeof(p->park_id));
    col_text(q, 1, p->union_id, sizeof(p->union_id));
    col_text(q, 2, p->name, sizeof(p->name));
    p->total_plot = sqlite3_column_int(q, 3);
    p->empty_plot = sqlite3_column_int(q, 4);
    p->members_only = sqlite3_column_int(q, 5);
    p->has_prepay = sqlite3_column_int(q, 6);
    p->suspended = sqlite3_column_int(q, 7);
    p->reason_msg[0][0] = '\0';
    col_text(q, 8, p->reason_msg[1], sizeof(p->reason_msg[1]));
    col_text(q, 9, p->reason_msg[2], sizeof(p->reason_msg[2]));
    col_text(q, 10, p->reason_msg[3], sizeof(p->reason_msg[3]));
    p->created = sqlite3_column_int64(q, 11);
    p->updated = sqlite3_column_int64(q, 12);
}

static void read_blacklist(sqlite3_stmt *q, struct store_blacklist *e)
{
    e->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, e->plate, sizeof(e->plate));
    e->color = sqlite3_column_int(q, 2);
    col_text(q, 3, e->reason, sizeof(e->reason));
    e->valid_from = sqlite3_column_int64(q, 4);
    e->valid_until = sqlite3_column_int64(q, 5);
    e->created = sqlite3_column_int64(q, 6);
    e->rev = sqlite3_column_int64(q, 7);
}

static void read_member(sqlite3_stmt *q, struct store_member *m)
{
    m->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, m->plate, sizeof(m->plate));
    m->color = sqlite3_column_int(q, 2);
    col_text(q, 3, m->park_id, sizeof(m->park_id));
    m->valid_until = sqlite3_column_int64(q, 4);
    m->created = sqlite3_column_int64(q, 5);
    m->updated = sqlite3_column_int64(q, 6);
    m->rev = sqlite3_column_int64(q, 7);
}

static void read_reservation(sqlite3_stmt *q, struct store_reservation *r)
{
    r->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, r->plate, sizeof(r->plate));
    r->color = sqlite3_column_int(q, 2);
    col_text(q, 3, r->park_id, sizeof(r->park_id));
    r->start = sqlite3_column_int64(q, 4);
    r->end = sqlite3_column_int64(q, 5);
    r->state = sqlite3_column_int(q, 6);
    r->created = sqlite3_column_int64(q, 7);
    r->updated = sqlite3_column_int64(q, 8);
    r->rev = sqlite3_column_int64(q, 9);
}

static int emit_vendor(sqlite3_stmt *q, struct emit_ctx *e)
{
    struct store_vendor row;

    read_vendor(q, &row);
    return e->cb.vendor(e->arg, &row);
}

static int emit_park(sqlite3_stmt *q, struct emit_ctx *e)
{
    struct store_park row;

    read_park(q, &row);
    return e->cb.park(e->arg, &row);
}

static int emit_blacklist(sqlite3_stmt *q, struct emit_ctx *e)
{
    struct store_blacklist row;

    read_blacklist(q, &row);
    return e->cb.blacklist(e->arg, &row);
}

static int emit_member(sqlite3_stmt *q, struct emit_ctx *e)
{
    struct store_member row;

    read_member(q, &row);
    return e->cb.member(e->arg, &row);
}

static int emit_reservation(sqlite3_stmt *q, struct emit_ctx *e)
{
    struct store_reservation row;

    read_reservation(q, &row);
    return e->cb.reservation(e->arg, &row);
}

/* Step q to the end, handing each row to emit. Resets q. */
static enum store_result each_row(struct sqlite_store *s, sqlite3_stmt *q, emit_fn emit,
                                  struct emit_ctx *e, const char *what)
{
    enum store_result r = STORE_OK;
    int rc;

    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (emit(q, e) != 0) {
            r = STORE_ABORTED;
            break;
        }
    }
    if (r == STORE_OK && rc != SQLITE_DONE)
        r = map_error(s, what);
    done(q);
    return r;
}

/* Step a keyed single-row SELECT: STORE_OK with the row read, or STORE_NOT_FOUND. */
static enum store_result one_row(struct sqlite_store *s, sqlite3_stmt *q, const char *what,
                                 void (*read)(sqlite3_stmt *, void *), void *out)
{
    enum store_result r;
    int rc = sqlite3_step(q);

    if (rc == SQLITE_ROW) {
        read(q, out);
        r = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        r = STORE_NOT_FOUND;
    } else {
        r = map_error(s, what);
    }
    done(q);
    return r;
}

/* Start a write transaction under the handle's lock; with bump, raise the revision first
 * and return it in *rev. On failure the lock is released. */
static enum store_result tx_begin(struct sqlite_store *s, int bump, int64_t *rev)
{
    enum store_result r;

    pthread_mutex_lock(&s->lock);
    r = run(s, s->stmt[S_BEGIN_WRITE], "begin");
    if (r != STORE_OK)
        goto out;
    if (bump) {
        sqlite3_stmt *q = s->stmt[S_BUMP_REV];

        if (sqlite3_step(q) == SQLITE_ROW) {
            *rev = sqlite3_column_int64(q, 0);
        } else {
            r = map_error(s, "bump revision");
        }
        done(q);
        if (r != STORE_OK)
            run(s, s->stmt[S_ROLLBACK], "rollback");
    }
out:
    if (r != STORE_OK)
        pthread_mutex_unlock(&s->lock);
    return r;
}

/* Commit when r is STORE_OK, else roll back; release the lock. Returns the final result. */
static enum store_result tx_end(struct sqlite_store *s, enum store_result r)
{
    if (r == STORE_OK) {
        r = run(s, s->stmt[S_COMMIT], "commit"); /* busy, full or an error: mapped */
    }
    if (r != STORE_OK && !sqlite3_get_autocommit(s->db))
        run(s, s->stmt[S_ROLLBACK], "rollback");
    pthread_mutex_unlock(&s->lock);
    return r;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- vendors ---- */

static void read_vendor_any(sqlite3_stmt *q, void *out)
{
    read_vendor(q, out);
}

static enum store_result op_vendor_get(struct store *st, const char *union_id,
                                       struct store_vendor *out)
{
    struct sqlite_store *s = to_sqlite(st);
    sqlite3_stmt *q = s->stmt[S_VENDOR_GET];
    enum store_result r;

    pthread_mutex_lock(&s->lock);
    bind_text(q, 1, union_id);
    r = one_row(s, q, "vendor get", read_vendor_any, out);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static void bind_vendor(sqlite3_stmt *q, const struct store_vendor *v, int64_t now, int64_t rev)
{
    bind_text(q, 1, v->union_id);
    bind_text(q, 2, v->ukey);
    bind_text(q, 3, v->name);
    bind_text(q, 4, v->callback_url);
    sqlite3_bind_int64(q, 5, now);
    sqlite3_bind_int64(q, 6, rev);
    sqlite3_bind_int(q, 7, v->replay_window_s);
}

/* Binds the columns of a put statement from a row; rows of different tables share the
 * update-then-insert logic of put_row below. */
typedef void (*bind_row_fn)(sqlite3_stmt *q, const void *row, int64_t now, int64_t rev);

/* Write a row keyed by text under mode (STORE_INSERT / UPDATE / UPSERT), in one transaction
 * at a new revision; *created (if not NULL) tells whether it was inserted. */
static enum store_result put_row(struct sqlite_store *s, enum stmt_id update, enum stmt_id insert,
                                 bind_row_fn bind, const void *row, enum store_put_mode mode,
                                 int *created, const char *what)
{
    int64_t rev = 0, now = now_s();
    enum store_result r;

    if (created != NULL)
        *created = 0;
    r = tx_begin(s, 1, &rev);
    if (r != STORE_OK)
        return r;
    r = STORE_NOT_FOUND;
    if (mode != STORE_INSERT) {
        bind(s->stmt[update], row, now, rev);
        r = run(s, s->stmt[update], what);
        if (r == STORE_OK && sqlite3_changes(s->db) == 0)
            r = STORE_NOT_FOUND;
    }
    if (r == STORE_NOT_FOUND && mode != STORE_UPDATE) {
        bind(s->stmt[insert], row, now, rev);
        r = run(s, s->stmt[insert], what);
        if (r == STORE_OK && created != NULL)
            *created = 1;
    }
    return tx_end(s, r);
}

/* Delete the row whose text key is `key` at a new revision; a row still referenced is
 * STORE_IN_USE, a missing one STORE_NOT_FOUND. */
static enum store_result delete_row(struct sqlite_store *s, enum stmt_id del, const char *key,
                                    const char *what)
{
    int64_t rev = 0;
    enum store_result r = tx_begin(s, 1, &rev);

    if (r != STORE_OK)
        return r;
    bind_text(s->stmt[del], 1, key);
    r = run(s, s->stmt[del], what);
    if (r == STORE_FOREIGN_KEY)
        r = STORE_IN_USE;
    else if (r == STORE_OK && sqlite3_changes(s->db) == 0)
        r = STORE_NOT_FOUND;
    return tx_end(s, r);
}

static void bind_vendor_row(sqlite3_stmt *q, const void *row, int64_t now, int64_t rev)
{
    bind_vendor(q, row, now, rev);
}

static enum store_result op_vendor_put(struct store *st, const struct store_vendor *v,
                                       enum store_put_mode mode, int *created)
{
    return put_row(to_sqlite(st), S_VENDOR_UPDATE, S_VENDOR_INSERT, bind_vendor_row, v, mode,
                   created, "vendor put");
}

static enum store_result op_vendor_delete(struct store *st, const char *union_id)
{
    return delete_row(to_sqlite(st), S_VENDOR_DELETE, union_id, "vendor delete");
}

/* ---- generic list ---- */

struct filter {
    const char *cond; /* SQL condition with one "?" (or none when kind is F_BARE) */
    enum { F_TEXT, F_INT, F_BARE } kind;
    const char *text;
    int64_t num;
};

static void bind_filters(sqlite3_stmt *q, const struct filter *f, int nf, int *idx)
{
    for (int i = 0; i < nf; i++) {
        if (f[i].kind == F_TEXT)
            bind_text(q, (*idx)++, f[i].text);
        else if (f[i].kind == F_INT)
            sqlite3_bind_int64(q, (*idx)++, f[i].num);
    }
}

/* SELECT cols FROM table WHERE filters [AND key > cursor] ORDER BY key LIMIT OFFSET, and the
 * matching count, both in one read transaction so they agree. */
static enum store_result list_rows(struct sqlite_store *s, const char *table, const char *cols,
                                   const char *key, int text_key, const struct store_query *q,
                                   const struct filter *f, int nf, emit_fn emit, struct emit_ctx *e,
                                   int64_t *total)
{
    char where[512], sql[1024], cursor[64] = "";
    size_t wl = 0;
    sqlite3_stmt *sel = NULL, *cnt = NULL;
    enum store_result r = STORE_ERROR;
    int idx, in_tx = 0;

    where[0] = '\0';
    for (int i = 0; i < nf; i++)
        wl += (size_t)snprintf(where + wl, sizeof(where) - wl, " AND %s", f[i].cond);
    pthread_mutex_lock(&s->lock);
    if (run(s, s->stmt[S_BEGIN_READ], "begin") != STORE_OK)
        goto out;
    in_tx = 1;
    if (total != NULL) {
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE 1%s", table, where);
        if (sqlite3_prepare_v2(s->db, sql, -1, &cnt, NULL) != SQLITE_OK) {
            log_db(s, "prepare count");
            goto out;
        }
        idx = 1;
        bind_filters(cnt, f, nf, &idx);
        if (sqlite3_step(cnt) != SQLITE_ROW) {
            r = map_error(s, "count");
            goto out;
        }
        *total = sqlite3_column_int64(cnt, 0);
    }
    if (text_key ? q->after_key != NULL : q->after_id > 0)
        snprintf(cursor, sizeof(cursor), " AND %s > ?", key);
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE 1%s%s ORDER BY %s LIMIT ? OFFSET ?", cols,
             table, where, cursor, key);
    if (sqlite3_prepare_v2(s->db, sql, -1, &sel, NULL) != SQLITE_OK) {
        log_db(s, "prepare list");
        goto out;
    }
    idx = 1;
    bind_filters(sel, f, nf, &idx);
    if (text_key && q->after_key != NULL)
        bind_text(sel, idx++, q->after_key);
    else if (!text_key && q->after_id > 0)
        sqlite3_bind_int64(sel, idx++, q->after_id);
    sqlite3_bind_int64(sel, idx++, q->limit > 0 ? q->limit : -1);
    sqlite3_bind_int64(sel, idx++, q->offset > 0 ? q->offset : 0);
    r = each_row(s, sel, emit, e, "list");
out:
    sqlite3_finalize(cnt);
    sqlite3_finalize(sel);
    if (in_tx)
        run(s, s->stmt[S_COMMIT], "commit");
    pthread_mutex_unlock(&s->lock);
    return r;
}

static enum store_result op_vendor_list(struct store *st, const struct store_query *q,
                                        store_vendor_cb cb, void *arg, int64_t *total)
{
    struct emit_ctx e = {.cb.vendor = cb, .arg = arg};

    return list_rows(to_sqlite(st), "vendors", VENDOR_COLS, "union_id", 1, q, NULL, 0, emit_vendor,
                     &e, total);
}

/* ---- parks ---- */

static void read_park_any(sqlite3_stmt *q, void *out)
{
    read_park(q, out);
}

static enum store_result op_park_get(struct store *st, const char *park_id, struct store_park *out)
{
    struct sqlite_store *s = to_sqlite(st);
    sqlite3_stmt *q = s->stmt[S_PARK_GET];
    enum store_result r;

    pthread_mutex_lock(&s->lock);
    bind_text(q, 1, park_id);
    r = one_row(s, q, "park get", read_park_any, out);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static void bind_park(sqlite3_stmt *q, const struct store_park *p, int64_t now, int64_t rev)
{
    bind_text(q, 1, p->park_id);
    bind_text(q, 2, p->union_id);
    bind_text(q, 3, p->name);
    sqlite3_bind_int(q, 4, p->total_plot);
    sqlite3_bind_int(q, 5, p->empty_plot);
    sqlite3_bind_int(q, 6, p->members_only ? 1 : 0);
    sqlite3_bind_int(q, 7, p->has_prepay ? 1 : 0);
    sqlite3_bind_int(q, 8, p->suspended ? 1 : 0);
    bind_text_or_null(q, 9, p->reason_msg[1]);
    bind_text_or_null(q, 10, p->reason_msg[2]);
    bind_text_or_null(q, 11, p->reason_msg[3]);
    sqlite3_bind_int64(q, 12, now);
    sqlite3_bind_int64(q, 13, rev);
}

static void bind_park_row(sqlite3_stmt *q, const void *row, int64_t now, int64_t rev)
{
    bind_park(q, row, now, rev);
}

static enum store_result op_park_put(struct store *st, const struct store_park *p,
                                     enum store_put_mode mode, int *created)
{
    return put_row(to_sqlite(st), S_PARK_UPDATE, S_PARK_INSERT, bind_park_row, p, mode, created,
                   "park put");
}

/* Members and reservations of the park go by ON DELETE CASCADE; their triggers leave
 * tombstones at this revision. */
static enum store_result op_park_delete(struct store *st, const char *park_id)
{
    return delete_row(to_sqlite(st), S_PARK_DELETE, park_id, "park delete");
}

static enum store_result op_park_list(struct store *st, const struct store_query *q,
                                      store_park_cb cb, void *arg, int64_t *total)
{
    struct emit_ctx e = {.cb.park = cb, .arg = arg};
    struct filter f[1];
    int nf = 0;

    if (q->union_id != NULL)
        f[nf++] = (struct filter){.cond = "union_id = ?", .kind = F_TEXT, .text = q->union_id};
    return list_rows(to_sqlite(st), "parks", PARK_COLS, "park_id", 1, q, f, nf, emit_park, &e,
                     total);
}

/* ---- blacklist ---- */

static void read_blacklist_any(sqlite3_stmt *q, void *out)
{
    read_blacklist(q, out);
}

static enum store_result insert_blacklist(struct sqlite_store *s, struct store_blacklist *e,
                                          int64_t now, int64_t rev)
{
    sqlite3_stmt *q = s->stmt[S_BL_INSERT];
    enum store_result r;

    bind_text(q, 1, e->plate);
    sqlite3_bind_int(q, 2, e->color);
    bind_text(q, 3, e->reason);
    sqlite3_bind_int64(q, 4, e->valid_from);
    sqlite3_bind_int64(q, 5, e->valid_until);
    sqlite3_bind_int64(q, 6, now);
    sqlite3_bind_int64(q, 7, rev);
    r = run(s, q, "blacklist insert");
    if (r == STORE_OK) {
        e->id = sqlite3_last_insert_rowid(s->db);
        e->created = now;
        e->rev = rev;
    }
    return r;
}

static enum store_result op_blacklist_add(struct store *st, struct store_blacklist *e)
{
    struct sqlite_store *s = to_sqlite(st);
    int64_t rev = 0;
    enum store_result r = tx_begin(s, 1, &rev);

    if (r != STORE_OK)
        return r;
    r = insert_blacklist(s, e, now_s(), rev);
    return tx_end(s, r);
}

static enum store_result op_blacklist_add_bulk(struct store *st, struct store_blacklist *e,
                                               size_t n, size_t *failed_at)
{
    struct sqlite_store *s = to_sqlite(st);
    int64_t rev = 0, now = now_s();
    enum store_result r = tx_begin(s, 1, &rev);

    if (r != STORE_OK)
        return r;
    for (size_t i = 0; i < n; i++) {
        r = insert_blacklist(s, &e[i], now, rev);
        if (r != STORE_OK) {
            if (failed_at != NULL)
                *failed_at = i;
            break;
        }
    }
    return tx_end(s, r);
}

static enum store_result op_blacklist_get(struct store *st, int64_t id, struct store_blacklist *out)
{
    struct sqlite_store *s = to_sqlite(st);
    sqlite3_stmt *q = s->stmt[S_BL_GET];
    enum store_result r;

    pthread_mutex_lock(&s->lock);
    sqlite3_bind_int64(q, 1, id);
    r = one_row(s, q, "blacklist get", read_blacklist_any, out);
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* DELETE by id in its own revision; shared by the three plate tables. */
static enum store_result delete_by_id(struct sqlite_store *s, enum stmt_id sid, int64_t id,
                                      const char *what)
{
    int64_t rev = 0;
    enum store_result r = tx_begin(s, 1, &rev);

    if (r != STORE_OK)
        return r;
    sqlite3_bind_int64(s->stmt[sid], 1, id);
    r = run(s, s->stmt[sid], what);
    if (r == STORE_OK && sqlite3_changes(s->db) == 0)
        r = STORE_NOT_FOUND;
    return tx_end(s, r);
}

static enum store_result op_blacklist_delete(struct store *st, int64_t id)
{
    return delete_by_id(to_sqlite(st), S_BL_DELETE, id, "blacklist delete");
}

static enum store_result op_blacklist_list(struct store *st, const struct store_query *q,
                                           store_blacklist_cb cb, void *arg, int64_t *total)
{
    struct emit_ctx e = {.cb.blacklist = cb, .arg = arg};
    struct filter f[1];
    int nf = 0;

    if (q->plate != NULL)
        f[nf++] = (struct filter){.cond = "plate = ?", .kind = F_TEXT, .text = q->plate};
    return list_rows(to_sqlite(st), "blacklist", BL_COLS, "id", 0, q, f, nf, emit_blacklist, &e,
                     total);
}

/* ---- members ---- */

static void read_member_any(sqlite3_stmt *q, void *out)
{
    read_member(q, out);
}

static enum store_result op_member_add(struct store *st, struct store_member *m)
{
    struct sqlite_store *s = to_sqlite(st);
    sqlite3_stmt *q = s->stmt[S_MEM_INSERT];
    int64_t rev = 0, now = now_s();
    enum store_result r = tx_begin(s, 1, &rev);

    if (r != STORE_OK)
        return r;
    bind_text(q, 1, m->plate);
    sqlite3_bind_int(q, 2, m->color);
    bind_text_or_null(q, 3, m->park_id);
    sqlite3_bind_int64(q, 4, m->valid_until);
    sqlite3_bind_int64(q, 5, now);
    sqlite3_bind_int64(q, 6, rev);
    r = run(s, q, "member insert");
    if (r == STORE_OK) {
        m->id = sqlite3_last_insert_rowid(s->db);
        m->created = m->updated = now;
        m->rev = rev;
    }
    return tx_end(s, r);
}

static enum store_result op_member_update(struct store *st, struct store_member *m)
{
    struct sqlite_store *s = to_sqlite(st);
    sqlite3_stmt *q = s->stmt[S_MEM_UPDATE];
    int64_t rev = 0, now = now_s();
    enum store_result r = tx_begin(s, 1, &rev);

    if (r != STORE_OK)
        return r;
    sqlite3_bind_int64(q, 1, m->id);
    bind_text(q, 2, m->plate);
    sqlite3_bind_int(q, 3, m->color);
    bind_text_or_null(q, 4, m->park_id);
    sqlite3_bind_int64(q, 5, m->valid_until);
    sqlite3_bind_int64(q, 6, now);
    sqlite3_bind_int64(q, 7, rev);
    r = run(s, q, "member update");
    if (r == STORE_OK && sqlite3_changes(s->db) == 0)
        r = STORE_NOT_FOUND;
    if (r == STORE_OK) {
        m->updated = now;
        m->rev = rev;
    }
    return tx_end(s, r);
}

static enum store_result op_member_get(struct store *st, int64_t id, struct store_member *out)
{
    struct sqlite_store *s = to_sqlite(st);
    sqlite3_stmt *q = s->stmt[S_MEM_GET];
    enum store_result r;

    pthread_mutex_lock(&s->lock);
    sqlite3_bind_int64(q, 1, id);
    r = one_row(s, q, "member get", read_member_any, out);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static enum store_result op_member_delete(struct store *st, int64_t id)
{
    return delete_by_id(to_sqlite(st), S_MEM_DELETE, id, "member delete");
}

static enum store_result op_member_list(struct store *st, const struct store_query *q,
                                        store_member_cb cb, void *arg, int64_t *total)
{
    struct emit_ctx e = {.cb.member = cb, .arg = arg};
    struct filter f[2];
    int nf = 0;

    if (q->plate != NULL)
        f[nf++] = (struct filter){.cond = "plate = ?", .kind = F_TEXT, .text = q->plate};
    if (q->park_id != NULL && q->park_id[0] == '\0')
        f[nf++] = (struct filter){.cond = "park_id IS NULL", .kind = F_BARE};
    else if (q->park_id != NULL)
        f[nf++] = (struct filter){.cond = "park_id = ?", .kind = F_TEXT, .text = q->park_id};
    return list_rows(to_sqlite(st), "members", MEM_COLS, "id", 0, q, f, nf, emit_member, &e, total);
}

/* ---- reservations ---- */

static void read_reservation_any(sqlite3_stmt *q, void *out)
{
    read_reservation(q, out);
}

static void bind_reservation(sqlite3_stmt *q, int first, const struct store_reservation *v)
{
    bind_text(q, first, v->plate);
    sqlite3_bind_int(q, first + 1, v->color);
    bind_text(q, first + 2, v->park_id);
    sqlite3_bind_int64(q, first + 3, v->start);
    sqlite3_bind_int64(q, first + 4, v->end);
    sqlite3_bind_int(q, first + 5, v->state);
}

static enum store_result op_reservation_add(struct store *st, struct store_reservation *v)
{
    struct sqlite_store *s = to_sqlite(st);
    sqlite3_stmt *q = s->stmt[S_RES_INSERT];
    int64_t rev = 0, now = now_s();
    enum store_result r = tx_begin(s, 1, &rev);

    if (r != STORE_OK)
        return r;
    bind_reservation(q, 1, v);
    sqlite3_bind_int64(q, 7, now);
    sqlite3_bind_int64(q, 8, rev);
    r = run(s, q, "reservation insert");
    if (r == STORE_OK) {
        v->id = sqlite3_last_insert_rowid(s->db);
        v->created = v->updated = now;
        v->rev = rev;
    }
    return tx_end(s, r);
}

static enum store_result op_reservation_update(struct store *st, struct store_reservation *v)
{
    struct sqlite_store *s = to_sqlite(st);
    sqlite3_stmt *q = s->stmt[S_RES_UPDATE];
    int64_t rev = 0, now = now_s();
    enum store_result r = tx_begin(s, 1, &rev);

    if (r != STORE_OK)
        return r;
    sqlite3_bind_int64(q, 1, v->id);
    bind_reservation(q, 2, v);
    sqlite3_bind_int64(q, 8, now);
    sqlite3_bind_int64(q, 9, rev);
    r = run(s, q, "reservation update");
    if (r == STORE_OK && sqlite3_changes(s->db) == 0)
        r = STORE_NOT_FOUND;
    if (r == STORE_OK) {
        v->updated = now;
        v->rev = rev;
    }
    return tx_end(s, r);
}

static enum store_result op_reservation_get(struct store *st, int64_t id,
                                            struct store_reservation *out)
{
    struct sqlite_store *s = to_sqlite(st);
    sqlite3_stmt *q = s->stmt[S_RES_GET];
    enum store_result r;

    pthread_mutex_lock(&s->lock);
    sqlite3_bind_int64(q, 1, id);
    r = one_row(s, q, "reservation get", read_reservation_any, out);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static enum store_result op_reservation_delete(struct store *st, int64_t id)
{
    return delete_by_id(to_sqlite(st), S_RES_DELETE, id, "reservation delete");
}

static enum store_result op_reservation_list(struct store *st, const struct store_query *q,
                                             store_reservation_cb cb, void *arg, int64_t *total)
{
    struct emit_ctx e = {.cb.reservation = cb, .arg = arg};
    struct filter f[3];
    int nf = 0;

    if (q->plate != NULL)
        f[nf++] = (struct filter){.cond = "plate = ?", .kind = F_TEXT, .text = q->plate};
    if (q->park_id != NULL)
        f[nf++] = (struct filter){.cond = "park_id = ?", .kind = F_TEXT, .text = q->park_id};
    if (q->state >= 0)
        f[nf++] = (struct filter){.cond = "state = ?", .kind = F_INT, .num = q->state};
    return list_rows(to_sqlite(st), "reservations", RES_COLS, "id", 0, q, f, nf, emit_reservation,
                     &e, total);
}

/* ---- settings, revision ---- */

static enum store_result op_setting_get(struct store *st, const char *key, char *out, size_t len)
{
    struct sqlite_store *s = to_sqlite(st);
    sqlite3_stmt *q = s->stmt[S_SET_GET];
    enum store_result r;
    int rc;

    pthread_mutex_lock(&s->lock);
    bind_text(q, 1, key);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        col_text(q, 0, out, len);
        r = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        r = STORE_NOT_FOUND;
    } else {
        r = map_error(s, "setting get");
    }
    done(q);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static enum store_result op_setting_put(struct store *st, const char *key, const char *value)
{
    struct sqlite_store *s = to_sqlite(st);
    enum store_result r = tx_begin(s, 0, NULL);

    if (r != STORE_OK)
        return r;
    bind_text(s->stmt[S_SET_PUT], 1, key);
    bind_text(s->stmt[S_SET_PUT], 2, value);
    r = run(s, s->stmt[S_SET_PUT], "setting put");
    return tx_end(s, r);
}

/* Read the revision with the lock held (inside or outside a transaction). */
static enum store_result read_rev(struct sqlite_store *s, int64_t *rev)
{
    sqlite3_stmt *q = s->stmt[S_GET_REV];
    enum store_result r = STORE_OK;

    if (sqlite3_step(q) == SQLITE_ROW)
        *rev = sqlite3_column_int64(q, 0);
    else
        r = map_error(s, "revision");
    done(q);
    return r;
}

static enum store_result op_revision(struct store *st, int64_t *rev)
{
    struct sqlite_store *s = to_sqlite(st);
    enum store_result r;

    pthread_mutex_lock(&s->lock);
    r = read_rev(s, rev);
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* ---- snapshot load ---- */

/* One plate table: every row when since is 0, else the changed ones (uses the rev index). */
static enum store_result load_table(struct sqlite_store *s, enum stmt_id all, enum stmt_id since,
                                    int64_t since_rev, emit_fn emit, struct emit_ctx *e,
                                    const char *what)
{
    sqlite3_stmt *q = s->stmt[since_rev > 0 ? since : all];

    if (since_rev > 0)
        sqlite3_bind_int64(q, 1, since_rev);
    return each_row(s, q, emit, e, what);
}

static enum store_result op_load(struct store *st, int64_t since_rev,
                                 const struct store_load_cbs *cbs, void *arg, int64_t *rev)
{
    struct sqlite_store *s = to_sqlite(st);
    struct emit_ctx e = {.arg = arg};
    enum store_result r;
    int in_tx = 0;

    pthread_mutex_lock(&s->lock);
    r = run(s, s->stmt[S_BEGIN_READ], "begin");
    if (r != STORE_OK)
        goto out;
    in_tx = 1;
    r = read_rev(s, rev);
    if (r == STORE_OK && cbs->vendor != NULL) {
        e.cb.vendor = cbs->vendor;
        r = each_row(s, s->stmt[S_LOAD_VENDORS], emit_vendor, &e, "load vendors");
    }
    if (r == STORE_OK && cbs->park != NULL) {
        e.cb.park = cbs->park;
        r = each_row(s, s->stmt[S_LOAD_PARKS], emit_park, &e, "load parks");
    }
    if (r == STORE_OK && cbs->blacklist != NULL) {
        e.cb.blacklist = cbs->blacklist;
        r = load_table(s, S_LOAD_BL_ALL, S_LOAD_BL_SINCE, since_rev, emit_blacklist, &e,
                       "load blacklist");
    }
    if (r == STORE_OK && cbs->member != NULL) {
        e.cb.member = cbs->member;
        r = load_table(s, S_LOAD_MEM_ALL, S_LOAD_MEM_SINCE, since_rev, emit_member, &e,
                       "load members");
    }
    if (r == STORE_OK && cbs->reservation != NULL) {
        e.cb.reservation = cbs->reservation;
        r = load_table(s, S_LOAD_RES_ALL, S_LOAD_RES_SINCE, since_rev, emit_reservation, &e,
                       "load reservations");
    }
    if (r == STORE_OK && cbs->tombstone != NULL && since_rev > 0) {
        sqlite3_stmt *q = s->stmt[S_LOAD_TOMBSTONES];
        int rc;

        sqlite3_bind_int64(q, 1, since_rev);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            if (cbs->tombstone(arg, (enum store_kind)sqlite3_column_int(q, 0),
                               sqlite3_column_int64(q, 1)) != 0) {
                r = STORE_ABORTED;
                break;
            }
        }
        if (r == STORE_OK && rc != SQLITE_DONE)
            r = map_error(s, "load tombstones");
        done(q);
    }
out:
    if (in_tx)
        run(s, s->stmt[S_COMMIT], "commit");
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* ---- open, migrate, close ---- */

static void op_close(struct store *st)
{
    struct sqlite_store *s = to_sqlite(st);

    store_sqlite_outbox_close(s->base.outbox);
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = op_close,
    .vendor_get = op_vendor_get,
    .vendor_put = op_vendor_put,
    .vendor_delete = op_vendor_delete,
    .vendor_list = op_vendor_list,
    .park_get = op_park_get,
    .park_put = op_park_put,
    .park_delete = op_park_delete,
    .park_list = op_park_list,
    .blacklist_add = op_blacklist_add,
    .blacklist_add_bulk = op_blacklist_add_bulk,
    .blacklist_get = op_blacklist_get,
    .blacklist_delete = op_blacklist_delete,
    .blacklist_list = op_blacklist_list,
    .member_add = op_member_add,
    .member_update = op_member_update,
    .member_get = op_member_get,
    .member_delete = op_member_delete,
    .member_list = op_member_list,
    .reservation_add = op_reservation_add,
    .reservation_update = op_reservation_update,
    .reservation_get = op_reservation_get,
    .reservation_delete = op_reservation_delete,
    .reservation_list = op_reservation_list,
    .setting_get = op_setting_get,
    .setting_put = op_setting_put,
    .revision = op_revision,
    .load = op_load,
    .orders = &store_sqlite_order_ops,
};

sqlite3 *store_sqlite_db(struct store *st, pthread_mutex_t **lock)
{
    *lock = &to_sqlite(st)->lock;
    return to_sqlite(st)->db;
}

/* Run one SQL text (possibly several statements); 0 ok, -1 with err set. */
static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen, const char *what)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Bring the schema to store_sqlite_migration_count, one transaction per migration. */
static int migrate(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    int64_t version = 0;
    char sql[64], what[64];

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        snprintf(err, errlen, "reading schema version: %s", sqlite3_errmsg(db));
        sqlite3_finalize(q);
        return -1;
    }
    version = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (version > (int64_t)store_sqlite_migration_count) {
        snprintf(err, errlen,
                 "database schema version %" PRId64 " is newer than this parklinkd "
                 "understands (%zu); upgrade parklinkd",
                 version, store_sqlite_migration_count);
        return -1;
    }
    for (size_t i = (size_t)version; i < store_sqlite_migration_count; i++) {
        snprintf(what, sizeof(what), "schema migration %zu", i + 1);
        if (exec_sql(db, "BEGIN IMMEDIATE", err, errlen, what) != 0)
            return -1;
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
        if (exec_sql(db, store_sqlite_migrations[i], err, errlen, what) != 0 ||
            exec_sql(db, sql, err, errlen, what) != 0 ||
            exec_sql(db, "COMMIT", err, errlen, what) != 0) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return 0;
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* A database that does not exist yet is created here, empty and 0600 (it will hold every
 * vendor's ukey): SQLite gives its -wal and -shm files the mode of the database file, so they
 * are 0600 too. An existing file keeps its mode; one that others may read is logged. */
static int create_private(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    int fd;

    if (strcmp(path, ":memory:") == 0)
        return 0;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        return close(fd) == 0 ? 0 : -1;
    if (errno != EEXIST) {
        snprintf(err, errlen, "cannot open SQLite database %s: %s", path, strerror(errno));
        return -1;
    }
    if (stat(path, &sb) == 0 && (sb.st_mode & 077) != 0)
        log_warn("sqlite: %s is readable by others (mode %03o) and holds the vendors' keys: "
                 "chmod 600 it (and its -wal, -shm)",
                 path, (unsigned)(sb.st_mode & 0777));
    return 0;
}

/* Read back what the open asked for: synchronous=FULL (2) and, for a file, journal_mode=WAL.
 * A committed write survives power loss only with both; anything else refuses the open. */
static int check_durable(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    int sync = -1;
    char mode[16] = "";
    sqlite3_stmt *q = NULL;

    if (sqlite3_prepare_v2(db, "PRAGMA synchronous", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        sync = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        store_sqlite_col_text(q, 0, mode, sizeof mode);
    sqlite3_finalize(q);
    if (sync != 2 || (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)) {
        snprintf(err, errlen,
                 "%s: not durable (synchronous=%d, journal_mode=%s; parklinkd needs 2 (FULL) "
                 "and wal)",
                 path, sync, mode);
        return -1;
    }
    return 0;
}

/* Open (creating if needed) and migrate the SQLite database at path. See store_open. */
struct store *store_sqlite_open(const char *path, char *err, size_t errlen)
{
    struct sqlite_store *s = calloc(1, sizeof(*s));
    sqlite3_stmt *q = NULL;
    int ok = 0;

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &sqlite_ops;
    pthread_mutex_init(&s->lock, NULL);
    if (create_private(path, err, errlen) != 0)
        goto out;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open SQLite database %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    /* journal_mode answers the mode it ended up in: anything but wal (an in-memory database
     * answers "memory") means readers would block on the writer */
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        snprintf(err, errlen, "%s: setting WAL mode: %s", path, sqlite3_errmsg(s->db));
        goto out;
    }
    if (strcmp((const char *)sqlite3_column_text(q, 0), "wal") != 0 &&
        strcmp((const char *)sqlite3_column_text(q, 0), "memory") != 0) {
        snprintf(err, errlen, "%s: cannot use WAL mode (journal_mode is %s)", path,
                 sqlite3_column_text(q, 0));
        goto out;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (exec_sql(s->db,
                 "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                 "PRAGMA journal_size_limit = " STR(WAL_SIZE_LIMIT),
                 err, errlen, path) != 0 ||
        check_durable(s->db, path, err, errlen) != 0)
        goto out;
    if (migrate(s->db, err, errlen) != 0)
        goto out;
    for (int i = 0; i < S__COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "preparing statement %d: %s", i, sqlite3_errmsg(s->db));
            goto out;
        }
    }
    if ((s->base.outbox = store_sqlite_outbox_open(s->db, &s->lock, err, errlen)) == NULL)
        goto out;
    ok = 1;
out:
    sqlite3_finalize(q);
    if (!ok) {
        op_close(&s->base);
        return NULL;
    }
    return &s->base;
}
