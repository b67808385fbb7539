/* orders.c - parking records written: 3.1 entries, 3.2 exits, 10.1 corrections (store_orders.h).
 *
 * Only sql.h, in the portable dialect, so SQLite and PostgreSQL run the same code. What keeps a
 * record right when two nodes write it at once lives in the statements: the unique key
 * (park_id, order_id) with ON CONFLICT DO NOTHING makes one order, an UPDATE whose WHERE names
 * the states it may leave settles once, and on PostgreSQL a transaction lock per (park, plate)
 * orders the stale-stay closure and a row lock guards a correction's read-modify-write. */
#include <stdio.h>
#include <string.h>

#include "store/sql.h"
#include "store/store_orders.h"

/* The key columns of an order, read before a decision. */
struct order_key {
    int64_t id, in_time, out_time, total_fen, paid_fen;
    int state, color;
    char pay_type[136]; /* 32 characters of UTF-8 (the 3.2 row's max) */
    char car_number[STORE_PLATE_MAX + 1];
};

#define ORDER_KEY                                                                                  \
    "SELECT id, state, in_time, out_time, pay_type, total_fen, paid_fen, car_number, color "       \
    "FROM orders WHERE park_id = ?1 AND order_id = ?2"

static const char SQL_ORDER_KEY[] = ORDER_KEY;
/* 10.1 reads what it rewrites: PostgreSQL locks the row until the op's transaction ends */
static const char *const SQL_ORDER_KEY_LOCKED[] = {
    [SQL_SQLITE] = ORDER_KEY,
    [SQL_POSTGRESQL] = ORDER_KEY " FOR UPDATE",
};

static const char SQL_ENTRY_INSERT[] =
    "INSERT INTO orders (park_id, order_id, union_id, car_number, color, state, in_time, "
    "out_time, in_empty_plot, in_remark, inpark_img, car_cost_type, uid, uname, in_channel_id, "
    "in_is_report, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, 0, NULLIF(?7, -1), "
    "?8, ?9, NULLIF(?10, -1), ?11, ?12, ?13, NULLIF(?14, -1), ?15, ?15) "
    "ON CONFLICT (park_id, order_id) DO NOTHING RETURNING id";

/* Entries of one car in one park take turns on PostgreSQL (SQLite has one writer anyway), so
 * each sees the other's stay when it looks for stale ones; held until commit. */
static const char SQL_CAR_LOCK_PG[] =
    "SELECT pg_advisory_xact_lock(hashtextextended(?1 || '/' || ?2, 0))";

/* The car's other stays inside: how many began no later than this entry (stale now), and
 * the earliest that began after it (then this entry is the stale one: a delayed upload). */
static const char SQL_CAR_STAYS[] =
    "SELECT COUNT(CASE WHEN in_time <= ?5 THEN 1 END), "
    "COALESCE(MIN(CASE WHEN in_time > ?5 THEN in_time END), 0) FROM orders "
    "WHERE park_id = ?1 AND car_number = ?2 AND color = ?3 AND state IN (0, 1) AND id <> ?4";

static const char SQL_CLOSE_STALE[] =
    "UPDATE orders SET state = 4, out_time = ?5, total_fen = 0, updated = ?6 "
    "WHERE park_id = ?1 AND car_number = ?2 AND color = ?3 AND state IN (0, 1) AND id <> ?4 "
    "AND in_time <= ?5";

static const char SQL_CLOSE_SELF[] =
    "UPDATE orders SET state = 4, out_time = ?2, total_fen = 0, updated = ?3 "
    "WHERE id = ?1 AND state IN (0, 1)";

static const char SQL_PLOTS[] =
    "INSERT INTO park_details (park_id, empty_plot, empty_plot_at, created, updated) "
    "VALUES (?1, ?2, ?3, ?3, ?3) ON CONFLICT (park_id) DO UPDATE SET "
    "empty_plot = excluded.empty_plot, empty_plot_at = excluded.empty_plot_at, "
    "updated = excluded.updated";

/* An exit takes an order only in a state it may leave (open, paying, closed at zero) and
 * not before its entry; the WHERE is the settle-once check, re-evaluated by PostgreSQL
 * after waiting for a concurrent writer of the row. */
static const char SQL_EXIT_APPLY[] =
    "UPDATE orders SET state = ?3, out_time = ?4, pay_type = ?5, total_fen = ?6, paid_fen = ?7, "
    "pay_channel = NULLIF(?8, -1), exit_in_time = NULLIF(?9, -1), out_color = NULLIF(?10, -1), "
    "out_empty_plot = NULLIF(?11, -1), auth_code = ?12, out_remark = ?13, outpark_img = ?14, "
    "out_channel_id = ?15, reduce_fen = NULLIF(?16, -1), derate_duration = NULLIF(?17, -1), "
    "freereasons = ?18, work_station_uuid = ?19, out_uid = ?20, out_uname = ?21, "
    "out_is_report = NULLIF(?22, -1), updated = ?23 "
    "WHERE park_id = ?1 AND order_id = ?2 AND state IN (0, 1, 4) AND in_time <= ?4 "
    "RETURNING id";

static const char SQL_EXIT_CREATE[] =
    "INSERT INTO orders (park_id, order_id, union_id, car_number, color, state, in_time, "
    "entry_missing, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, 1, ?7, ?7) "
    "ON CONFLICT (park_id, order_id) DO NOTHING RETURNING id";

static const char SQL_CORRECT_UPDATE[] =
    "UPDATE orders SET car_number = ?2, color = ?3, in_time = ?4, out_time = ?5, "
    "total_fen = ?6, paid_fen = ?7, park_business_type = COALESCE(?8, park_business_type), "
    "leave_business_type = COALESCE(?9, leave_business_type), updated = ?10 WHERE id = ?1";

static const char SQL_CORRECT_AUDIT[] =
    "INSERT INTO order_corrections (park_id, order_id, union_id, type, old_car_number, "
    "old_color, old_in_time, old_out_time, old_total_fen, new_car_number, new_color, "
    "new_in_time, new_out_time, new_total_fen, park_business_type, leave_business_type, "
    "created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
    "?17)";

/* An exit that keeps finding the order changed under it gives up after this many looks. */
#define EXIT_TRIES 4

/* An optional number: -1 (absent) is bound as -1 and stored as NULL by the statement's
 * NULLIF(?i, -1), so the parameter is an integer either way (a text NULL would not go into
 * an integer column on PostgreSQL). */
static void bind_opt(struct sql_stmt *q, int i, int64_t v)
{
    sql_bind_int(q, i, v < 0 ? -1 : v);
}

static void read_id(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

static void read_key(struct sql_stmt *q, void *out)
{
    struct order_key *k = out;

    k->id = sql_col_int(q, 0);
    k->state = (int)sql_col_int(q, 1);
    k->in_time = sql_col_int(q, 2);
    k->out_time = sql_col_int(q, 3);
    sql_col_copy(q, 4, k->pay_type, sizeof k->pay_type);
    k->total_fen = sql_col_int(q, 5);
    k->paid_fen = sql_col_int(q, 6);
    sql_col_copy(q, 7, k->car_number, sizeof k->car_number);
    k->color = (int)sql_col_int(q, 8);
}

/* The order (park_id, order_id): STORE_OK with its key columns, or STORE_NOT_FOUND. */
static enum store_result find_order(struct store_session *s, const char *sql, const char *park_id,
                                    const char *order_id, struct order_key *k)
{
    struct sql_stmt *q = sql_prepare(s, sql);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, park_id);
    sql_bind_text(q, 2, order_id);
    return sql_one(q, "order lookup", read_key, k);
}

/* The park's live free-space count, as the last upload reported it (-1: not reported). */
static enum store_result set_plots(struct store_session *s, const char *park_id, int64_t empty_plot,
                                   int64_t now)
{
    struct sql_stmt *q;

    if (empty_plot < 0)
        return STORE_OK;
    if ((q = sql_prepare(s, SQL_PLOTS)) == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, park_id);
    sql_bind_int(q, 2, empty_plot);
    sql_bind_int(q, 3, now);
    return sql_exec(q, "park plots");
}

/* ---- 3.1 ---- */

static enum store_result entry_insert(struct store_session *s, const struct store_entry *e,
                                      int64_t now, int64_t *id)
{
    struct sql_stmt *q = sql_prepare(s, SQL_ENTRY_INSERT);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, e->park_id);
    sql_bind_text(q, 2, e->order_id);
    sql_bind_text(q, 3, e->union_id);
    sql_bind_text(q, 4, e->car_number);
    sql_bind_int(q, 5, e->color);
    sql_bind_int(q, 6, e->in_time);
    bind_opt(q, 7, e->empty_plot);
    sql_bind_text(q, 8, e->remark);
    sql_bind_text(q, 9, e->inpark_img);
    bind_opt(q, 10, e->car_cost_type > 0 ? e->car_cost_type : -1);
    sql_bind_text(q, 11, e->uid);
    sql_bind_text(q, 12, e->uname);
    sql_bind_text(q, 13, e->in_channel_id);
    bind_opt(q, 14, e->is_report);
    sql_bind_int(q, 15, now);
    return sql_one(q, "entry insert", read_id, id);
}

/* Binds ?1..?5 of the car statements: park, plate, colour, this entry's id and in_time. */
static struct sql_stmt *car_stmt(struct store_session *s, const char *sql,
                                 const struct store_entry *e, int64_t id)
{
    struct sql_stmt *q = sql_prepare(s, sql);

    if (q == NULL)
        return NULL;
    sql_bind_text(q, 1, e->park_id);
    sql_bind_text(q, 2, e->car_number);
    sql_bind_int(q, 3, e->color);
    sql_bind_int(q, 4, id);
    sql_bind_int(q, 5, e->in_time);
    return q;
}

struct car_stays {
    int64_t stale, newer;
};

static void read_stays(struct sql_stmt *q, void *out)
{
    struct car_stays *c = out;

    c->stale = sql_col_int(q, 0);
    c->newer = sql_col_int(q, 1);
}

/* The new entry id of e against the car's other stays inside the park. */
static enum store_result close_stale(struct store_session *s, const struct store_entry *e,
                                     int64_t id, int64_t now)
{
    struct car_stays c = {0, 0};
    enum store_result r = STORE_OK;
    struct sql_stmt *q;

    if (sql_dialect(s) == SQL_POSTGRESQL) {
        if ((q = sql_prepare(s, SQL_CAR_LOCK_PG)) == NULL)
            return STORE_ERROR;
        sql_bind_text(q, 1, e->park_id);
        sql_bind_text(q, 2, e->car_number);
        if ((r = sql_exec(q, "car lock")) != STORE_OK)
            return r;
    }
    if ((q = car_stmt(s, SQL_CAR_STAYS, e, id)) == NULL)
        return STORE_ERROR;
    if ((r = sql_one(q, "open stays", read_stays, &c)) != STORE_OK)
        return r == STORE_NOT_FOUND ? STORE_ERROR : r;
    if (c.stale > 0) {
        if ((q = car_stmt(s, SQL_CLOSE_STALE, e, id)) == NULL)
            return STORE_ERROR;
        sql_bind_int(q, 6, now);
        if ((r = sql_exec(q, "close stale stays")) != STORE_OK)
            return r;
    }
    if (c.newer > 0) {
        if ((q = sql_prepare(s, SQL_CLOSE_SELF)) == NULL)
            return STORE_ERROR;
        sql_bind_int(q, 1, id);
        sql_bind_int(q, 2, c.newer);
        sql_bind_int(q, 3, now);
        r = sql_exec(q, "close delayed entry");
    }
    return r;
}

enum store_result store_entry_put(struct store_session *s, const struct store_entry *e,
                                  enum store_entry_outcome *out)
{
    int64_t now = sql_now_s(), id = 0;
    int own;
    enum store_result r = sql_tx_begin(s, STORE_TX_WRITE, &own);

    if (r != STORE_OK)
        return r;
    r = entry_insert(s, e, now, &id);
    if (r == STORE_NOT_FOUND) { /* (park_id, order_id) exists: nothing was written */
        *out = STORE_ENTRY_DUPLICATE;
        r = STORE_OK;
        goto out;
    }
    if (r != STORE_OK)
        goto out;
    *out = STORE_ENTRY_NEW;
    if ((r = close_stale(s, e, id, now)) == STORE_OK)
        r = set_plots(s, e->park_id, e->empty_plot, now);
out:
    return sql_tx_end(s, own, r);
}

/* ---- 3.2 ---- */

/* Is the money of this way of paying electronic (counted when it arrives)? Every other
 * pay_type - cash, and values the reference does not list - is in the booth's hands. */
static int electronic(const char *pay_type)
{
    return strcmp(pay_type, "wallet") == 0 || strcmp(pay_type, "sweepcode") == 0;
}

/* What closing an order with this exit makes of it. */
static int exit_state(const struct store_exit *x)
{
    if (strcmp(x->pay_type, "escape") == 0)
        return STORE_ORDER_ESCAPED;
    if (!electronic(x->pay_type) || x->total_fen == 0)
        return STORE_ORDER_SETTLED;
    return STORE_ORDER_PAYING; /* wallet, sweepcode: the money is not in yet */
}

/* The exit onto (park_id, order_id) if the order may take it: STORE_OK, or STORE_NOT_FOUND
 * when there is no such order or it may not (closed for good, or out_time before in_time). */
static enum store_result exit_apply(struct store_session *s, const struct store_exit *x, int state,
                                    int64_t now)
{
    struct sql_stmt *q = sql_prepare(s, SQL_EXIT_APPLY);
    int64_t id;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, x->park_id);
    sql_bind_text(q, 2, x->order_id);
    sql_bind_int(q, 3, state);
    sql_bind_int(q, 4, x->out_time);
    sql_bind_text(q, 5, x->pay_type);
    sql_bind_int(q, 6, x->total_fen);
    /* cash is in the booth's hands now; electronic money is counted when it arrives */
    sql_bind_int(q, 7, state == STORE_ORDER_SETTLED ? x->total_fen : 0);
    bind_opt(q, 8, x->pay_channel);
    bind_opt(q, 9, x->in_time > 0 ? x->in_time : -1);
    bind_opt(q, 10, x->color);
    bind_opt(q, 11, x->empty_plot);
    sql_bind_text(q, 12, x->auth_code);
    sql_bind_text(q, 13, x->remark);
    sql_bind_text(q, 14, x->outpark_img);
    sql_bind_text(q, 15, x->out_channel_id);
    bind_opt(q, 16, x->reduce_fen);
    bind_opt(q, 17, x->derate_duration);
    sql_bind_text(q, 18, x->freereasons);
    sql_bind_text(q, 19, x->work_station_uuid);
    sql_bind_text(q, 20, x->out_uid);
    sql_bind_text(q, 21, x->out_uname);
    bind_opt(q, 22, x->is_report);
    sql_bind_int(q, 23, now);
    return sql_one(q, "exit update", read_id, &id);
}

/* An exit without an entry: the order from the exit. STORE_NOT_FOUND when another writer
 * created it first (then it is there to take the exit). */
static enum store_result exit_create(struct store_session *s, const struct store_exit *x,
                                     int64_t now)
{
    struct sql_stmt *q = sql_prepare(s, SQL_EXIT_CREATE);
    int64_t id;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, x->park_id);
    sql_bind_text(q, 2, x->order_id);
    sql_bind_text(q, 3, x->union_id);
    sql_bind_text(q, 4, x->car_number);
    sql_bind_int(q, 5, x->color >= 0 ? x->color : 0);
    sql_bind_int(q, 6, x->in_time > 0 ? x->in_time : x->out_time);
    sql_bind_int(q, 7, now);
    return sql_one(q, "exit creates order", read_id, &id);
}

/* Why an order did not take the exit: 1 with *out set, 0 when it may take it after all (it
 * changed since the UPDATE looked), -1 (r set) when there is no order or a read failed. */
static int exit_refusal(struct store_session *s, const struct store_exit *x,
                        enum store_exit_outcome *out, enum store_result *r)
{
    struct order_key k;

    if ((*r = find_order(s, SQL_ORDER_KEY, x->park_id, x->order_id, &k)) != STORE_OK)
        return -1;
    if (k.state == STORE_ORDER_SETTLED || k.state == STORE_ORDER_ESCAPED) {
        /* closed for good: a re-send changes nothing, so money is counted once */
        *out = strcmp(k.pay_type, x->pay_type) == 0 && k.total_fen == x->total_fen &&
                       k.out_time == x->out_time
                   ? STORE_EXIT_REPEATED
                   : STORE_EXIT_CONFLICT;
        return 1;
    }
    if (x->out_time < k.in_time) {
        *out = STORE_EXIT_BEFORE_ENTRY;
        return 1;
    }
    return 0;
}

enum store_result store_exit_put(struct store_session *s, const struct store_exit *x,
                                 enum store_exit_outcome *out, int *created)
{
    int64_t now = sql_now_s();
    int state = exit_state(x), own, tries;
    enum store_result r = sql_tx_begin(s, STORE_TX_WRITE, &own);

    if (r != STORE_OK)
        return r;
    *created = 0;
    for (tries = 0; tries < EXIT_TRIES; tries++) {
        r = exit_apply(s, x, state, now);
        if (r == STORE_OK) {
            *out = state == STORE_ORDER_SETTLED   ? STORE_EXIT_SETTLED
                   : state == STORE_ORDER_ESCAPED ? STORE_EXIT_ESCAPED
                                                  : STORE_EXIT_PAYING;
            r = set_plots(s, x->park_id, x->empty_plot, now);
            goto out;
        }
        if (r != STORE_NOT_FOUND)
            goto out;
        switch (exit_refusal(s, x, out, &r)) {
        case 1:
            goto out; /* r is STORE_OK: refused, nothing written */
        case 0:
            continue;
        default:
            break;
        }
        if (r != STORE_NOT_FOUND)
            goto out;
        r = exit_create(s, x, now);
        if (r == STORE_OK)
            *created = 1;
        else if (r != STORE_NOT_FOUND)
            goto out;
    }
    r = STORE_BUSY; /* other writers kept changing the order: the vendor may send it again */
out:
    return sql_tx_end(s, own, r);
}

/* ---- 10.1 ---- */

static enum store_result correct_audit(struct store_session *s, const struct store_correction *c,
                                       const struct order_key *old, const struct order_key *now_k,
                                       int64_t now)
{
    struct sql_stmt *q = sql_prepare(s, SQL_CORRECT_AUDIT);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, c->park_id);
    sql_bind_text(q, 2, c->order_id);
    sql_bind_text(q, 3, c->union_id);
    sql_bind_int(q, 4, c->type);
    sql_bind_text(q, 5, old->car_number);
    sql_bind_int(q, 6, old->color);
    sql_bind_int(q, 7, old->in_time);
    sql_bind_int(q, 8, old->out_time);
    sql_bind_int(q, 9, old->total_fen);
    sql_bind_text(q, 10, now_k->car_number);
    sql_bind_int(q, 11, now_k->color);
    sql_bind_int(q, 12, now_k->in_time);
    sql_bind_int(q, 13, now_k->out_time);
    sql_bind_int(q, 14, now_k->total_fen);
    sql_bind_text(q, 15, c->park_business_type);
    sql_bind_text(q, 16, c->leave_business_type);
    sql_bind_int(q, 17, now);
    return sql_exec(q, "correction audit");
}

static enum store_result correct_write(struct store_session *s, const struct store_correction *c,
                                       const struct order_key *n, int64_t now)
{
    struct sql_stmt *q = sql_prepare(s, SQL_CORRECT_UPDATE);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_int(q, 1, n->id);
    sql_bind_text(q, 2, n->car_number);
    sql_bind_int(q, 3, n->color);
    sql_bind_int(q, 4, n->in_time);
    sql_bind_int(q, 5, n->out_time);
    sql_bind_int(q, 6, n->total_fen);
    sql_bind_int(q, 7, n->paid_fen);
    sql_bind_text(q, 8, c->park_business_type);
    sql_bind_text(q, 9, c->leave_business_type);
    sql_bind_int(q, 10, now);
    return sql_exec(q, "order correct");
}

enum store_result store_order_correct(struct store_session *s, const struct store_correction *c,
                                      enum store_correct_outcome *out)
{
    struct order_key k, n;
    int64_t now = sql_now_s();
    int times = c->type == 2 || c->type == 3, plates = c->type == 1 || c->type == 3, own;
    enum store_result r = sql_tx_begin(s, STORE_TX_WRITE, &own);

    if (r != STORE_OK)
        return r;
    r = find_order(s, SQL_ORDER_KEY_LOCKED[sql_dialect(s)], c->park_id, c->order_id, &k);
    if (r == STORE_NOT_FOUND) {
        *out = STORE_CORRECT_NO_ORDER;
        r = STORE_OK;
        goto out;
    }
    if (r != STORE_OK)
        goto out;
    if (times && (k.state == STORE_ORDER_OPEN || k.state == STORE_ORDER_PAYING)) {
        *out = STORE_CORRECT_INSIDE;
        goto out;
    }
    n = k;
    if (plates)
        snprintf(n.car_number, sizeof n.car_number, "%s", c->car_number);
    n.color = plates && c->color >= 0 ? c->color : k.color;
    n.in_time = times && c->in_time > 0 ? c->in_time : k.in_time;
    n.out_time = times && c->out_time > 0 ? c->out_time : k.out_time;
    n.total_fen = times && c->total_fen >= 0 ? c->total_fen : k.total_fen;
    /* cash is what the booth reports; electronic payments stay as they came in */
    if (!electronic(k.pay_type) && strcmp(k.pay_type, "escape") != 0 &&
        k.state == STORE_ORDER_SETTLED)
        n.paid_fen = n.total_fen;
    if (n.out_time != 0 && n.out_time < n.in_time) {
        *out = STORE_CORRECT_TIMES;
        goto out;
    }
    *out = STORE_CORRECT_DONE;
    if ((r = correct_write(s, c, &n, now)) == STORE_OK)
        r = correct_audit(s, c, &k, &n, now);
out:
    return sql_tx_end(s, own, r);
}
