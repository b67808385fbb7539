/* plates.c - the plate tables of store.h: city blacklist, members, reservations, on sql.h.
 *
 * Rows are keyed by an id the database assigns (RETURNING id). Every write runs at a new
 * revision (sql_bump_revision) in the caller's transaction or one of its own, and deletes
 * leave tombstones (triggers). Expected outcomes come from queries, never from a failing
 * statement: a duplicate is an INSERT ... ON CONFLICT DO NOTHING that returned no id (or a
 * lookup before an UPDATE), an unknown park a lookup first. A member's park_id "" is stored
 * as SQL NULL (city-wide). */
#include <stddef.h>

#include "store/catalog_rows.h"
#include "store/list.h"
#include "store/sql.h"
#include "store/store.h"

static const char SQL_PARK_EXISTS[] = "SELECT 1 FROM parks WHERE park_id = ?1";

static const char SQL_BL_INSERT[] =
    "INSERT INTO blacklist (plate, color, reason, valid_from, valid_until, created, rev) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING RETURNING id";
static const char SQL_BL_GET[] = "SELECT " BL_COLS " FROM blacklist WHERE id = ?1";
static const char SQL_BL_DELETE[] = "DELETE FROM blacklist WHERE id = ?1";

static const char SQL_MEM_INSERT[] =
    "INSERT INTO members (plate, color, park_id, valid_until, created, updated, rev) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) ON CONFLICT DO NOTHING RETURNING id";
static const char SQL_MEM_EXISTS[] = "SELECT 1 FROM members WHERE id = ?1";
static const char SQL_MEM_TAKEN[] =
    "SELECT 1 FROM members WHERE plate = ?1 AND color = ?2 AND coalesce(park_id, '') = ?3 "
    "AND id <> ?4";
static const char SQL_MEM_UPDATE[] =
    "UPDATE members SET plate = ?2, color = ?3, park_id = ?4, valid_until = ?5, updated = ?6, "
    "rev = ?7 WHERE id = ?1";
static const char SQL_MEM_GET[] = "SELECT " MEM_COLS " FROM members WHERE id = ?1";
static const char SQL_MEM_DELETE[] = "DELETE FROM members WHERE id = ?1";

static const char SQL_RES_INSERT[] =
    "INSERT INTO reservations (plate, color, park_id, start_at, end_at, state, created, "
    "updated, rev) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8) RETURNING id";
static const char SQL_RES_UPDATE[] =
    "UPDATE reservations SET plate = ?2, color = ?3, park_id = ?4, start_at = ?5, end_at = ?6, "
    "state = ?7, updated = ?8, rev = ?9 WHERE id = ?1";
static const char SQL_RES_GET[] = "SELECT " RES_COLS " FROM reservations WHERE id = ?1";
static const char SQL_RES_DELETE[] = "DELETE FROM reservations WHERE id = ?1";

static struct list_table blacklist_list = {
    .table = "blacklist",
    .cols = BL_COLS,
    .key = "id",
    .conds = {"plate = ?"},
    .nconds = 1,
    .once = PTHREAD_ONCE_INIT,
};

enum { MEM_PLATE = 1, MEM_CITY = 2, MEM_PARK = 4 };
static struct list_table member_list = {
    .table = "members",
    .cols = MEM_COLS,
    .key = "id",
    .conds = {"plate = ?", "park_id IS NULL", "park_id = ?"},
    .nconds = 3,
    .once = PTHREAD_ONCE_INIT,
};

enum { RES_PLATE = 1, RES_PARK = 2, RES_STATE = 4 };
static struct list_table reservation_list = {
    .table = "reservations",
    .cols = RES_COLS,
    .key = "id",
    .conds = {"plate = ?", "park_id = ?", "state = ?"},
    .nconds = 3,
    .once = PTHREAD_ONCE_INIT,
};

static void read_id(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

/* Begin the op's write transaction and raise the revision (*rev). */
static enum store_result write_begin(struct store_session *s, int *own, int64_t *rev)
{
    enum store_result r = sql_tx_begin(s, STORE_TX_WRITE, own);

    if (r == STORE_OK && (r = sql_bump_revision(s, rev)) != STORE_OK)
        return sql_tx_end(s, *own, r);
    return r;
}

/* STORE_OK when park_id is "" (none) or names a park, else STORE_FOREIGN_KEY. */
static enum store_result park_known(struct store_session *s, const char *park_id)
{
    struct sql_stmt *q;
    enum store_result r;

    if (park_id[0] == '\0')
        return STORE_OK;
    if ((q = sql_prepare(s, SQL_PARK_EXISTS)) == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, park_id);
    r = sql_one(q, "park lookup", NULL, NULL);
    return r == STORE_NOT_FOUND ? STORE_FOREIGN_KEY : r;
}

/* Run an INSERT ... RETURNING id: *id, or STORE_CONFLICT when it returned none. */
static enum store_result insert_returning(struct sql_stmt *q, int64_t *id, const char *what)
{
    enum store_result r = sql_one(q, what, read_id, id);

    return r == STORE_NOT_FOUND ? STORE_CONFLICT : r;
}

/* One row by id. */
static enum store_result get_by_id(struct store_session *s, const char *sql, int64_t id,
                                   void (*read)(struct sql_stmt *q, void *out), void *out,
                                   const char *what)
{
    struct sql_stmt *q = sql_prepare(s, sql);

    if (q != NULL)
        sql_bind_int(q, 1, id);
    return sql_one(q, what, read, out);
}

/* DELETE by id at a new revision; STORE_NOT_FOUND when no row had it. */
static enum store_result delete_by_id(struct store_session *s, const char *sql, int64_t id,
                                      const char *what)
{
    int64_t rev = 0;
    struct sql_stmt *q;
    enum store_result r;
    int own;

    if ((r = write_begin(s, &own, &rev)) != STORE_OK)
        return r;
    if ((q = sql_prepare(s, sql)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    sql_bind_int(q, 1, id);
    r = sql_exec(q, what);
    if (r == STORE_OK && sql_changes(q) == 0)
        r = STORE_NOT_FOUND;
    return sql_tx_end(s, own, r);
}

/* ---- blacklist ---- */

static enum store_result insert_blacklist(struct store_session *s, struct store_blacklist *e,
                                          int64_t now, int64_t rev)
{
    struct sql_stmt *q = sql_prepare(s, SQL_BL_INSERT);
    enum store_result r;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, e->plate);
    sql_bind_int(q, 2, e->color);
    sql_bind_text(q, 3, e->reason);
    sql_bind_int(q, 4, e->valid_from);
    sql_bind_int(q, 5, e->valid_until);
    sql_bind_int(q, 6, now);
    sql_bind_int(q, 7, rev);
    r = insert_returning(q, &e->id, "blacklist insert");
    if (r == STORE_OK) {
        e->created = now;
        e->rev = rev;
    }
    return r;
}

enum store_result store_blacklist_add(struct store_session *s, struct store_blacklist *e)
{
    return store_blacklist_add_bulk(s, e, 1, NULL);
}

enum store_result store_blacklist_add_bulk(struct store_session *s, struct store_blacklist *e,
                                           size_t n, size_t *failed_at)
{
    int64_t rev = 0, now = sql_now_s();
    enum store_result r;
    int own;

    if ((r = write_begin(s, &own, &rev)) != STORE_OK)
        return r;
    for (size_t i = 0; i < n; i++) {
        if ((r = insert_blacklist(s, &e[i], now, rev)) != STORE_OK) {
            if (failed_at != NULL)
                *failed_at = i;
            break;
        }
    }
    return sql_tx_end(s, own, r);
}

enum store_result store_blacklist_get(struct store_session *s, int64_t id,
                                      struct store_blacklist *out)
{
    return get_by_id(s, SQL_BL_GET, id, catalog_read_blacklist, out, "blacklist get");
}

enum store_result store_blacklist_delete(struct store_session *s, int64_t id)
{
    return delete_by_id(s, SQL_BL_DELETE, id, "blacklist delete");
}

enum store_result store_blacklist_list(struct store_session *s, const struct store_query *q,
                                       store_blacklist_cb cb, void *arg, int64_t *total)
{
    struct catalog_emit e = {.cb.blacklist = cb, .arg = arg};
    struct list_arg a[1] = {{.text = q->plate}};

    return list_rows(s, &blacklist_list, q->plate != NULL ? 1u : 0u, a, q, catalog_emit_blacklist,
                     &e, total, "blacklist list");
}

/* ---- members ---- */

/* "" is stored as SQL NULL: a city-wide member. */
static const char *or_null(const char *v)
{
    return v[0] != '\0' ? v : NULL;
}

enum store_result store_member_add(struct store_session *s, struct store_member *m)
{
    int64_t rev = 0, now = sql_now_s();
    struct sql_stmt *q;
    enum store_result r;
    int own;

    if ((r = write_begin(s, &own, &rev)) != STORE_OK)
        return r;
    if ((r = park_known(s, m->park_id)) != STORE_OK)
        return sql_tx_end(s, own, r);
    if ((q = sql_prepare(s, SQL_MEM_INSERT)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    sql_bind_text(q, 1, m->plate);
    sql_bind_int(q, 2, m->color);
    sql_bind_text(q, 3, or_null(m->park_id));
    sql_bind_int(q, 4, m->valid_until);
    sql_bind_int(q, 5, now);
    sql_bind_int(q, 6, rev);
    r = insert_returning(q, &m->id, "member insert");
    if (r == STORE_OK) {
        m->created = m->updated = now;
        m->rev = rev;
    }
    return sql_tx_end(s, own, r);
}

/* STORE_NOT_FOUND when m->id names no member; STORE_CONFLICT when another member has m's
 * (plate, color, park). */
static enum store_result member_taken(struct store_session *s, const struct store_member *m)
{
    struct sql_stmt *q = sql_prepare(s, SQL_MEM_EXISTS);
    enum store_result r;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_int(q, 1, m->id);
    if ((r = sql_one(q, "member lookup", NULL, NULL)) != STORE_OK)
        return r;
    if ((q = sql_prepare(s, SQL_MEM_TAKEN)) == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, m->plate);
    sql_bind_int(q, 2, m->color);
    sql_bind_text(q, 3, m->park_id);
    sql_bind_int(q, 4, m->id);
    r = sql_one(q, "member lookup", NULL, NULL);
    return r == STORE_OK ? STORE_CONFLICT : r == STORE_NOT_FOUND ? STORE_OK : r;
}

enum store_result store_member_update(struct store_session *s, struct store_member *m)
{
    int64_t rev = 0, now = sql_now_s();
    struct sql_stmt *q;
    enum store_result r;
    int own;

    if ((r = write_begin(s, &own, &rev)) != STORE_OK)
        return r;
    if ((r = park_known(s, m->park_id)) != STORE_OK || (r = member_taken(s, m)) != STORE_OK)
        return sql_tx_end(s, own, r);
    if ((q = sql_prepare(s, SQL_MEM_UPDATE)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    sql_bind_int(q, 1, m->id);
    sql_bind_text(q, 2, m->plate);
    sql_bind_int(q, 3, m->color);
    sql_bind_text(q, 4, or_null(m->park_id));
    sql_bind_int(q, 5, m->valid_until);
    sql_bind_int(q, 6, now);
    sql_bind_int(q, 7, rev);
    r = sql_exec(q, "member update");
    if (r == STORE_OK && sql_changes(q) == 0)
        r = STORE_NOT_FOUND;
    if (r == STORE_OK) {
        m->updated = now;
        m->rev = rev;
    }
    return sql_tx_end(s, own, r);
}

enum store_result store_member_get(struct store_session *s, int64_t id, struct store_member *out)
{
    return get_by_id(s, SQL_MEM_GET, id, catalog_read_member, out, "member get");
}

enum store_result store_member_delete(struct store_session *s, int64_t id)
{
    return delete_by_id(s, SQL_MEM_DELETE, id, "member delete");
}

enum store_result store_member_list(struct store_session *s, const struct store_query *q,
                                    store_member_cb cb, void *arg, int64_t *total)
{
    struct catalog_emit e = {.cb.member = cb, .arg = arg};
    struct list_arg a[3] = {{.text = q->plate}, {0}, {.text = q->park_id}};
    unsigned mask = q->plate != NULL ? MEM_PLATE : 0;

    if (q->park_id != NULL)
        mask |= q->park_id[0] == '\0' ? MEM_CITY : MEM_PARK;
    return list_rows(s, &member_list, mask, a, q, catalog_emit_member, &e, total, "member list");
}

/* ---- reservations ---- */

static void bind_reservation(struct sql_stmt *q, int first, const struct store_reservation *v)
{
    sql_bind_text(q, first, v->plate);
    sql_bind_int(q, first + 1, v->color);
    sql_bind_text(q, first + 2, v->park_id);
    sql_bind_int(q, first + 3, v->start);
    sql_bind_int(q, first + 4, v->end);
    sql_bind_int(q, first + 5, v->state);
}

enum store_result store_reservation_add(struct store_session *s, struct store_reservation *v)
{
    int64_t rev = 0, now = sql_now_s();
    struct sql_stmt *q;
    enum store_result r;
    int own;

    if ((r = write_begin(s, &own, &rev)) != STORE_OK)
        return r;
    if (v->park_id[0] == '\0')
        return sql_tx_end(s, own, STORE_FOREIGN_KEY);
    if ((r = park_known(s, v->park_id)) != STORE_OK)
        return sql_tx_end(s, own, r);
    if ((q = sql_prepare(s, SQL_RES_INSERT)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    bind_reservation(q, 1, v);
    sql_bind_int(q, 7, now);
    sql_bind_int(q, 8, rev);
    r = insert_returning(q, &v->id, "reservation insert");
    if (r == STORE_OK) {
        v->created = v->updated = now;
        v->rev = rev;
    }
    return sql_tx_end(s, own, r);
}

enum store_result store_reservation_update(struct store_session *s, struct store_reservation *v)
{
    int64_t rev = 0, now = sql_now_s();
    struct sql_stmt *q;
    enum store_result r;
    int own;

    if ((r = write_begin(s, &own, &rev)) != STORE_OK)
        return r;
    if (v->park_id[0] == '\0')
        return sql_tx_end(s, own, STORE_FOREIGN_KEY);
    if ((r = park_known(s, v->park_id)) != STORE_OK)
        return sql_tx_end(s, own, r);
    if ((q = sql_prepare(s, SQL_RES_UPDATE)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    sql_bind_int(q, 1, v->id);
    bind_reservation(q, 2, v);
    sql_bind_int(q, 8, now);
    sql_bind_int(q, 9, rev);
    r = sql_exec(q, "reservation update");
    if (r == STORE_OK && sql_changes(q) == 0)
        r = STORE_NOT_FOUND;
    if (r == STORE_OK) {
        v->updated = now;
        v->rev = rev;
    }
    return sql_tx_end(s, own, r);
}

enum store_result store_reservation_get(struct store_session *s, int64_t id,
                                        struct store_reservation *out)
{
    return get_by_id(s, SQL_RES_GET, id, catalog_read_reservation, out, "reservation get");
}

enum store_result store_reservation_delete(struct store_session *s, int64_t id)
{
    return delete_by_id(s, SQL_RES_DELETE, id, "reservation delete");
}

enum store_result store_reservation_list(struct store_session *s, const struct store_query *q,
                                         store_reservation_cb cb, void *arg, int64_t *total)
{
    struct catalog_emit e = {.cb.reservation = cb, .arg = arg};
    struct list_arg a[3] = {{.text = q->plate}, {.text = q->park_id}, {.num = q->state}};
    unsigned mask = (q->plate != NULL ? RES_PLATE : 0) | (q->park_id != NULL ? RES_PARK : 0) |
                    (q->state >= 0 ? RES_STATE : 0);

    return list_rows(s, &reservation_list, mask, a, q, catalog_emit_reservation, &e, total,
                     "reservation list");
}
