/* vendors.c - vendors and parks (store.h), on sql.h.
 *
 * Every write runs at a new revision (sql_bump_revision) in the caller's transaction or one
 * of its own. Puts are UPDATE-then-INSERT ... ON CONFLICT DO NOTHING so that no expected
 * outcome comes from a failing statement; a vendor still owning parks is found by a query
 * before the DELETE. A park's members and reservations go with it by ON DELETE CASCADE, and
 * the plate tables' triggers leave their tombstones at the delete's revision. */
#include <stddef.h>

#include "store/catalog_rows.h"
#include "store/list.h"
#include "store/sql.h"
#include "store/store.h"

static const char SQL_VENDOR_GET[] = "SELECT " VENDOR_COLS " FROM vendors WHERE union_id = ?1";
static const char SQL_VENDOR_UPDATE[] =
    "UPDATE vendors SET ukey = ?2, name = ?3, callback_url = ?4, updated = ?5, rev = ?6, "
    "replay_window_s = ?7 WHERE union_id = ?1";
static const char SQL_VENDOR_INSERT[] =
    "INSERT INTO vendors (union_id, ukey, name, callback_url, created, updated, rev, "
    "replay_window_s) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7) ON CONFLICT DO NOTHING";
static const char SQL_VENDOR_PARKS[] = "SELECT 1 FROM parks WHERE union_id = ?1 LIMIT 1";
static const char SQL_VENDOR_DELETE[] = "DELETE FROM vendors WHERE union_id = ?1";

static const char SQL_VENDOR_EXISTS[] = "SELECT 1 FROM vendors WHERE union_id = ?1";
static const char SQL_PARK_GET[] = "SELECT " PARK_COLS " FROM parks WHERE park_id = ?1";
static const char SQL_PARK_UPDATE[] =
    "UPDATE parks SET union_id = ?2, name = ?3, total_plot = ?4, empty_plot = ?5, "
    "members_only = ?6, has_prepay = ?7, suspended = ?8, msg_nonmember = ?9, "
    "msg_blacklist = ?10, msg_other = ?11, updated = ?12, rev = ?13 WHERE park_id = ?1";
static const char SQL_PARK_INSERT[] =
    "INSERT INTO parks (park_id, union_id, name, total_plot, empty_plot, members_only, "
    "has_prepay, suspended, msg_nonmember, msg_blacklist, msg_other, created, updated, rev) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13) "
    "ON CONFLICT DO NOTHING";
static const char SQL_PARK_DELETE[] = "DELETE FROM parks WHERE park_id = ?1";

static struct list_table vendor_list = {
    .table = "vendors",
    .cols = VENDOR_COLS,
    .key = "union_id",
    .text_key = 1,
    .once = PTHREAD_ONCE_INIT,
};

static struct list_table park_list = {
    .table = "parks",
    .cols = PARK_COLS,
    .key = "park_id",
    .text_key = 1,
    .conds = {"union_id = ?"},
    .nconds = 1,
    .once = PTHREAD_ONCE_INIT,
};

/* Binds a put statement's parameters from a row (same numbering for UPDATE and INSERT). */
typedef void (*bind_row_fn)(struct sql_stmt *q, const void *row, int64_t now, int64_t rev);

/* What a put writes: its statements, binder, and the row its foreign key must find. */
struct put_spec {
    const char *update, *insert;
    bind_row_fn bind;
    const char *ref_sql; /* NULL, or a lookup of ref_key: STORE_FOREIGN_KEY without a row */
    const char *ref_key;
};

/* STORE_OK when spec has no reference or its row exists, else STORE_FOREIGN_KEY. */
static enum store_result ref_known(struct store_session *s, const struct put_spec *spec)
{
    struct sql_stmt *q;
    enum store_result r;

    if (spec->ref_sql == NULL)
        return STORE_OK;
    if ((q = sql_prepare(s, spec->ref_sql)) == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, spec->ref_key);
    r = sql_one(q, "reference lookup", NULL, NULL);
    return r == STORE_NOT_FOUND ? STORE_FOREIGN_KEY : r;
}

/* Write a text-keyed row under mode at a new revision; *created (if not NULL) tells whether
 * it was inserted. */
static enum store_result put_row(struct store_session *s, const struct put_spec *spec,
                                 const void *row, enum store_put_mode mode, int *created,
                                 const char *what)
{
    int64_t rev = 0, now = sql_now_s();
    struct sql_stmt *q;
    enum store_result r;
    int own;

    if (created != NULL)
        *created = 0;
    if ((r = sql_tx_begin(s, STORE_TX_WRITE, &own)) != STORE_OK)
        return r;
    r = sql_bump_revision(s, &rev);
    if (r == STORE_OK)
        r = ref_known(s, spec);
    if (r == STORE_OK && mode != STORE_INSERT) {
        if ((q = sql_prepare(s, spec->update)) == NULL)
            return sql_tx_end(s, own, STORE_ERROR);
        spec->bind(q, row, now, rev);
        r = sql_exec(q, what);
        if (r == STORE_OK && sql_changes(q) == 0)
            r = STORE_NOT_FOUND;
    } else if (r == STORE_OK) {
        r = STORE_NOT_FOUND;
    }
    if (r == STORE_NOT_FOUND && mode != STORE_UPDATE) {
        if ((q = sql_prepare(s, spec->insert)) == NULL)
            return sql_tx_end(s, own, STORE_ERROR);
        spec->bind(q, row, now, rev);
        r = sql_exec(q, what);
        if (r == STORE_OK && sql_changes(q) == 0)
            r = STORE_CONFLICT;
        else if (r == STORE_OK && created != NULL)
            *created = 1;
    }
    return sql_tx_end(s, own, r);
}

/* Delete the row keyed `key` by del at a new revision: STORE_NOT_FOUND when there is none,
 * STORE_IN_USE when in_use (if not NULL) finds a row still referencing it. */
static enum store_result delete_row(struct store_session *s, const char *in_use, const char *del,
                                    const char *key, const char *what)
{
    int64_t rev = 0;
    struct sql_stmt *q;
    enum store_result r;
    int own;

    if ((r = sql_tx_begin(s, STORE_TX_WRITE, &own)) != STORE_OK)
        return r;
    r = sql_bump_revision(s, &rev);
    if (r == STORE_OK && in_use != NULL) {
        q = sql_prepare(s, in_use);
        if (q != NULL)
            sql_bind_text(q, 1, key);
        r = sql_one(q, what, NULL, NULL);
        r = r == STORE_OK ? STORE_IN_USE : r == STORE_NOT_FOUND ? STORE_OK : r;
    }
    if (r == STORE_OK) {
        if ((q = sql_prepare(s, del)) == NULL)
            return sql_tx_end(s, own, STORE_ERROR);
        sql_bind_text(q, 1, key);
        r = sql_exec(q, what);
        if (r == STORE_FOREIGN_KEY)
            r = STORE_IN_USE;
        else if (r == STORE_OK && sql_changes(q) == 0)
            r = STORE_NOT_FOUND;
    }
    return sql_tx_end(s, own, r);
}

/* A keyed single-row read. */
static enum store_result get_row(struct store_session *s, const char *sql, const char *key,
                                 void (*read)(struct sql_stmt *q, void *out), void *out,
                                 const char *what)
{
    struct sql_stmt *q = sql_prepare(s, sql);

    if (q != NULL)
        sql_bind_text(q, 1, key);
    return sql_one(q, what, read, out);
}

/* ---- vendors ---- */

static void bind_vendor(struct sql_stmt *q, const void *row, int64_t now, int64_t rev)
{
    const struct store_vendor *v = row;

    sql_bind_text(q, 1, v->union_id);
    sql_bind_text(q, 2, v->ukey);
    sql_bind_text(q, 3, v->name);
    sql_bind_text(q, 4, v->callback_url);
    sql_bind_int(q, 5, now);
    sql_bind_int(q, 6, rev);
    sql_bind_int(q, 7, v->replay_window_s);
}

enum store_result store_vendor_get(struct store_session *s, const char *union_id,
                                   struct store_vendor *out)
{
    return get_row(s, SQL_VENDOR_GET, union_id, catalog_read_vendor, out, "vendor get");
}

enum store_result store_vendor_put(struct store_session *s, const struct store_vendor *v,
                                   enum store_put_mode mode, int *created)
{
    struct put_spec spec = {SQL_VENDOR_UPDATE, SQL_VENDOR_INSERT, bind_vendor, NULL, NULL};

    return put_row(s, &spec, v, mode, created, "vendor put");
}

enum store_result store_vendor_delete(struct store_session *s, const char *union_id)
{
    return delete_row(s, SQL_VENDOR_PARKS, SQL_VENDOR_DELETE, union_id, "vendor delete");
}

enum store_result store_vendor_list(struct store_session *s, const struct store_query *q,
                                    store_vendor_cb cb, void *arg, int64_t *total)
{
    struct catalog_emit e = {.cb.vendor = cb, .arg = arg};

    return list_rows(s, &vendor_list, 0, NULL, q, catalog_emit_vendor, &e, total, "vendor list");
}

/* ---- parks ---- */

/* "" is stored as SQL NULL: no reason_msg override. */
static const char *or_null(const char *v)
{
    return v[0] != '\0' ? v : NULL;
}

static void bind_park(struct sql_stmt *q, const void *row, int64_t now, int64_t rev)
{
    const struct store_park *p = row;

    sql_bind_text(q, 1, p->park_id);
    sql_bind_text(q, 2, p->union_id);
    sql_bind_text(q, 3, p->name);
    sql_bind_int(q, 4, p->total_plot);
    sql_bind_int(q, 5, p->empty_plot);
    sql_bind_int(q, 6, p->members_only ? 1 : 0);
    sql_bind_int(q, 7, p->has_prepay ? 1 : 0);
    sql_bind_int(q, 8, p->suspended ? 1 : 0);
    for (int i = 1; i <= 3; i++)
        sql_bind_text(q, 8 + i, or_null(p->reason_msg[i]));
    sql_bind_int(q, 12, now);
    sql_bind_int(q, 13, rev);
}

enum store_result store_park_get(struct store_session *s, const char *park_id,
                                 struct store_park *out)
{
    return get_row(s, SQL_PARK_GET, park_id, catalog_read_park, out, "park get");
}

enum store_result store_park_put(struct store_session *s, const struct store_park *p,
                                 enum store_put_mode mode, int *created)
{
    struct put_spec spec = {SQL_PARK_UPDATE, SQL_PARK_INSERT, bind_park, SQL_VENDOR_EXISTS,
                            p->union_id};

    return put_row(s, &spec, p, mode, created, "park put");
}

enum store_result store_park_delete(struct store_session *s, const char *park_id)
{
    return delete_row(s, NULL, SQL_PARK_DELETE, park_id, "park delete");
}

enum store_result store_park_list(struct store_session *s, const struct store_query *q,
                                  store_park_cb cb, void *arg, int64_t *total)
{
    struct catalog_emit e = {.cb.park = cb, .arg = arg};
    struct list_arg a[1] = {{.text = q->union_id}};

    return list_rows(s, &park_list, q->union_id != NULL ? 1u : 0u, a, q, catalog_emit_park, &e,
                     total, "park list");
}
