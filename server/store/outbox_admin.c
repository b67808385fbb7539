/* outbox_admin.c - the outbox as the admin API and housekeeping see it (store_outbox.h):
 * filtered lists, replay of dead notices, retention of delivered messages.
 *
 * Domain SQL only (sql.h). A list's WHERE holds only the filters it uses (so each can use its
 * index): one static statement per combination of filters, written once at first use. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/outbox_rows.h"
#include "store/sql.h"
#include "store/store_outbox.h"

static const char SQL_REPLAY[] =
    "UPDATE outbox SET state = 0, attempts = 0, next_at = ?2, claimed_until = 0, polled_at = 0, "
    "last_error = '', poll = " OUTBOX_MODE_OF(
        "outbox.union_id") " "
                           "WHERE id = ?1 AND state = 2 AND kind = 0";
static const char SQL_EXISTS[] = "SELECT 1 FROM outbox WHERE id = ?1";
/* outbox_delivered is (delivered_at) WHERE state = 1; SQLite is told (without statistics its
 * planner would walk every delivered row), PostgreSQL plans by its statistics. Attempts go by
 * ON DELETE CASCADE. */
static const char SQL_PRUNE_SQLITE[] =
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox INDEXED BY outbox_delivered "
    "WHERE state = 1 AND delivered_at < ?1 ORDER BY delivered_at LIMIT ?2)";
static const char SQL_PRUNE_PG[] =
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 1 AND "
    "delivered_at < ?1 ORDER BY delivered_at LIMIT ?2)";

/* ---- lists ---- */

enum {
    F_CURSOR = 1,
    F_UNION = 2,
    F_PARK = 4,
    F_SERVICE = 8,
    F_STATE = 16,
    F_ALL = 32,
};

static char list_rows[F_ALL][640];  /* SELECT cols ... ORDER BY id LIMIT OFFSET */
static char list_count[F_ALL][320]; /* SELECT count(*) ... (no cursor) */
static pthread_once_t list_once = PTHREAD_ONCE_INIT;

/* "FROM outbox WHERE 1 = 1 AND ..." for the filters in mask, placeholders from ?1; returns
 * the next placeholder number. */
static int where_sql(char *out, size_t cap, int mask)
{
    static const struct {
        int bit;
        const char *term;
    } f[] = {{F_CURSOR, "id >"},
             {F_UNION, "union_id ="},
             {F_PARK, "park_id ="},
             {F_SERVICE, "service_name ="},
             {F_STATE, "state ="}};
    size_t n = (size_t)snprintf(out, cap, " FROM outbox WHERE 1 = 1");
    int i = 1;

    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
        if (mask & f[k].bit)
            n += (size_t)snprintf(out + n, cap - n, " AND %s ?%d", f[k].term, i++);
    return i;
}

static void build_lists(void)
{
    char where[256];

    for (int mask = 0; mask < F_ALL; mask++) {
        int i = where_sql(where, sizeof where, mask);

        snprintf(list_rows[mask], sizeof list_rows[mask],
                 "SELECT " OUTBOX_MSG_COLS "%s ORDER BY id LIMIT ?%d OFFSET ?%d", where, i, i + 1);
        where_sql(where, sizeof where, mask & ~F_CURSOR);
        snprintf(list_count[mask], sizeof list_count[mask], "SELECT count(*)%s", where);
    }
}

static int set(const char *v)
{
    return v != NULL && v[0] != '\0';
}

static int filter_mask(const struct store_outbox_query *q)
{
    return (q->after_id > 0 ? F_CURSOR : 0) | (set(q->union_id) ? F_UNION : 0) |
           (set(q->park_id) ? F_PARK : 0) | (set(q->service_name) ? F_SERVICE : 0) |
           (q->state >= 0 ? F_STATE : 0);
}

/* Bind the filters of mask in where_sql's order; returns the next placeholder number. */
static int bind_filters(struct sql_stmt *st, const struct store_outbox_query *q, int mask)
{
    int i = 1;

    if (mask & F_CURSOR)
        sql_bind_int(st, i++, q->after_id);
    if (mask & F_UNION)
        sql_bind_text(st, i++, q->union_id);
    if (mask & F_PARK)
        sql_bind_text(st, i++, q->park_id);
    if (mask & F_SERVICE)
        sql_bind_text(st, i++, q->service_name);
    if (mask & F_STATE)
        sql_bind_int(st, i++, q->state);
    return i;
}

static void read_total(struct sql_stmt *st, void *out)
{
    *(int64_t *)out = sql_col_int(st, 0);
}

enum store_result store_outbox_list(struct store_session *s, const struct store_outbox_query *q,
                                    store_outbox_cb cb, void *arg, int64_t *total)
{
    int mask = filter_mask(q), own, i;
    struct sql_stmt *st;
    enum store_result r;

    pthread_once(&list_once, build_lists);
    /* one read transaction: the total and the page agree */
    if ((r = sql_tx_begin(s, STORE_TX_READ, &own)) != STORE_OK)
        return r;
    if (total != NULL) {
        if ((st = sql_prepare(s, list_count[mask])) == NULL) {
            r = STORE_ERROR;
            goto out;
        }
        bind_filters(st, q, mask & ~F_CURSOR);
        r = sql_one(st, "outbox list count", read_total, total);
        if (r != STORE_OK) {
            r = STORE_ERROR; /* NOT_FOUND: an aggregate always answers a row */
            goto out;
        }
    }
    if ((st = sql_prepare(s, list_rows[mask])) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    i = bind_filters(st, q, mask);
    sql_bind_int(st, i, q->limit > 0 ? q->limit : INT64_MAX);
    sql_bind_int(st, i + 1, q->offset > 0 ? q->offset : 0);
    r = outbox_each_msg(st, "outbox list", cb, arg);
out:
    if (r == STORE_ABORTED) /* a read: stopping early keeps nothing to undo */
        return sql_tx_end(s, own, STORE_OK) == STORE_OK ? r : STORE_ERROR;
    return sql_tx_end(s, own, r);
}

/* ---- admin writes ---- */

enum store_result store_outbox_replay(struct store_session *s, int64_t id, int64_t now)
{
    struct sql_stmt *q;
    enum store_result r;
    int own;

    if ((r = sql_tx_begin(s, STORE_TX_WRITE, &own)) != STORE_OK)
        return r;
    if ((q = sql_prepare(s, SQL_REPLAY)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    sql_bind_int(q, 1, id);
    sql_bind_int(q, 2, now);
    if ((r = sql_exec(q, "outbox replay")) == STORE_OK && sql_changes(q) == 0) {
        /* not a dead notice: say whether it exists (nothing was written either way) */
        if ((q = sql_prepare(s, SQL_EXISTS)) == NULL)
            return sql_tx_end(s, own, STORE_ERROR);
        sql_bind_int(q, 1, id);
        r = sql_one(q, "outbox replay", NULL, NULL);
        r = r == STORE_OK ? STORE_CONFLICT : r;
    }
    return sql_tx_end(s, own, r);
}

enum store_result store_outbox_prune(struct store_session *s, int64_t before, int64_t limit,
                                     int64_t *deleted)
{
    struct sql_stmt *q;
    enum store_result r;
    int own;

    *deleted = 0;
    if (limit <= 0)
        return STORE_OK;
    if ((r = sql_tx_begin(s, STORE_TX_WRITE, &own)) != STORE_OK)
        return r;
    q = sql_prepare(s, sql_dialect(s) == SQL_POSTGRESQL ? SQL_PRUNE_PG : SQL_PRUNE_SQLITE);
    if (q == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    sql_bind_int(q, 1, before);
    sql_bind_int(q, 2, limit);
    if ((r = sql_exec(q, "outbox prune")) == STORE_OK)
        *deleted = sql_changes(q); /* the messages; their attempts are not counted */
    return sql_tx_end(s, own, r);
}
