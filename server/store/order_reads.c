/* order_reads.c - parking records read back: 4.1/4.3 queries, 3.8 escapes, 10.2/10.3 stays.
 *
 * Only sql.h, in the portable dialect. 4.1's WHERE depends on which filters are given; one
 * statement per combination is composed once (placeholders numbered without gaps, so either
 * engine types every one) and kept in static storage, as the statement cache requires. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/sql.h"
#include "store/store_orders.h"

#define ORDER_SELECT                                                                               \
    "SELECT o.park_id, o.order_id, o.union_id, o.car_number, o.color, o.state, o.in_time, "        \
    "o.out_time, o.pay_type, o.total_fen, o.paid_fen, COALESCE(o.pay_channel, -1), o.trade_no, "   \
    "COALESCE(o.inpark_img, ''), COALESCE(o.outpark_img, ''), COALESCE(o.car_cost_type, 0), "      \
    "o.park_business_type, COALESCE(p.name, ''), COALESCE(v.name, '') FROM orders o "              \
    "LEFT JOIN parks p ON p.park_id = o.park_id LEFT JOIN vendors v ON v.union_id = o.union_id "

static const char SQL_ORDER_GET[] = ORDER_SELECT "WHERE o.park_id = ?1 AND o.order_id = ?2";
static const char SQL_ESCAPES[] = ORDER_SELECT
    "WHERE o.car_number = ?1 AND o.state = 3 AND o.escape_paid = 0 ORDER BY o.out_time, o.id";
static const char SQL_OPEN_COUNT[] =
    "SELECT COUNT(*) FROM orders WHERE park_id = ?1 AND state IN (0, 1)";
static const char SQL_OPEN_LIST[] =
    ORDER_SELECT "WHERE o.park_id = ?1 AND o.state IN (0, 1) ORDER BY o.in_time, o.id";

/* 4.1 filters, as bits of the statement's index. */
enum {
    F_PARK = 1,
    F_ORDER = 2,
    F_CAR = 4,
    F_TIME = 8,
    F__COMBOS = 16,
};

static char query_sql[F__COMBOS][2][1536]; /* [filters][0 count, 1 page] */
static pthread_once_t query_once = PTHREAD_ONCE_INIT;

/* Every combination of filters, placeholders in bind order: ?1 union_id, then park_id,
 * order_id, car_number, from, until as given, then (page) limit and offset. */
static void query_compose(void)
{
    for (int m = 0; m < F__COMBOS; m++) {
        char where[512];
        int n, p = 2;

        n = snprintf(where, sizeof where,
                     "WHERE o.park_id IN (SELECT park_id FROM parks WHERE union_id = ?1)");
        if (m & F_PARK)
            n += snprintf(where + n, sizeof where - (size_t)n, " AND o.park_id = ?%d", p++);
        if (m & F_ORDER)
            n += snprintf(where + n, sizeof where - (size_t)n, " AND o.order_id = ?%d", p++);
        if (m & F_CAR)
            n += snprintf(where + n, sizeof where - (size_t)n, " AND o.car_number = ?%d", p++);
        if (m & F_TIME) {
            snprintf(where + n, sizeof where - (size_t)n, " AND o.in_time BETWEEN ?%d AND ?%d", p,
                     p + 1);
            p += 2;
        }
        snprintf(query_sql[m][0], sizeof query_sql[m][0], "SELECT COUNT(*) FROM orders o %s",
                 where);
        snprintf(query_sql[m][1], sizeof query_sql[m][1],
                 ORDER_SELECT "%s ORDER BY o.in_time, o.id LIMIT ?%d OFFSET ?%d", where, p, p + 1);
    }
}

static void read_order(struct sql_stmt *q, struct store_order *o)
{
    o->park_id = sql_col_text(q, 0);
    o->order_id = sql_col_text(q, 1);
    o->union_id = sql_col_text(q, 2);
    o->car_number = sql_col_text(q, 3);
    o->color = (int)sql_col_int(q, 4);
    o->state = (int)sql_col_int(q, 5);
    o->in_time = sql_col_int(q, 6);
    o->out_time = sql_col_int(q, 7);
    o->pay_type = sql_col_text(q, 8);
    o->total_fen = sql_col_int(q, 9);
    o->paid_fen = sql_col_int(q, 10);
    o->pay_channel = (int)sql_col_int(q, 11);
    o->trade_no = sql_col_text(q, 12);
    o->inpark_img = sql_col_text(q, 13);
    o->outpark_img = sql_col_text(q, 14);
    o->car_cost_type = (int)sql_col_int(q, 15);
    o->park_business_type = sql_col_text(q, 16);
    o->park_name = sql_col_text(q, 17);
    o->union_name = sql_col_text(q, 18);
}

struct order_rows {
    store_order_cb cb;
    void *arg;
    int64_t rows;
};

static int on_order(struct sql_stmt *q, void *arg)
{
    struct order_rows *a = arg;
    struct store_order o;

    read_order(q, &o);
    a->rows++;
    return a->cb(a->arg, &o);
}

/* One read statement with one or two text keys (k2 may be NULL), every row to cb. */
static enum store_result orders_where(struct store_session *s, const char *sql, const char *k1,
                                      const char *k2, struct order_rows *a, const char *what)
{
    struct sql_stmt *q = sql_prepare(s, sql);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, k1);
    if (k2 != NULL)
        sql_bind_text(q, 2, k2);
    return sql_each(q, what, on_order, a);
}

enum store_result store_order_get(struct store_session *s, const char *park_id,
                                  const char *order_id, store_order_cb cb, void *arg)
{
    struct order_rows a = {cb, arg, 0};
    enum store_result r = orders_where(s, SQL_ORDER_GET, park_id, order_id, &a, "order get");

    return r == STORE_OK && a.rows == 0 ? STORE_NOT_FOUND : r;
}

enum store_result store_escapes(struct store_session *s, const char *car_number, store_order_cb cb,
                                void *arg)
{
    struct order_rows a = {cb, arg, 0};

    return orders_where(s, SQL_ESCAPES, car_number, NULL, &a, "escapes");
}

static void read_count(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

enum store_result store_open_count(struct store_session *s, const char *park_id, int64_t *n)
{
    struct sql_stmt *q = sql_prepare(s, SQL_OPEN_COUNT);
    enum store_result r;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, park_id);
    r = sql_one(q, "open count", read_count, n);
    return r == STORE_NOT_FOUND ? STORE_ERROR : r;
}

enum store_result store_open_list(struct store_session *s, const char *park_id, store_order_cb cb,
                                  void *arg)
{
    struct order_rows a = {cb, arg, 0};

    return orders_where(s, SQL_OPEN_LIST, park_id, NULL, &a, "open list");
}

/* Bind 4.1's filters in the order query_compose numbered them; the next free index. */
static int bind_filters(struct sql_stmt *q, const struct store_order_query *f)
{
    int p = 1;

    sql_bind_text(q, p++, f->union_id);
    if (f->park_id)
        sql_bind_text(q, p++, f->park_id);
    if (f->order_id)
        sql_bind_text(q, p++, f->order_id);
    if (f->car_number)
        sql_bind_text(q, p++, f->car_number);
    if (f->until > 0) {
        sql_bind_int(q, p++, f->from);
        sql_bind_int(q, p++, f->until);
    }
    return p;
}

enum store_result store_order_query(struct store_session *s, const struct store_order_query *f,
                                    store_order_cb cb, void *arg, int64_t *total)
{
    struct order_rows a = {cb, arg, 0};
    int m = (f->park_id ? F_PARK : 0) | (f->order_id ? F_ORDER : 0) | (f->car_number ? F_CAR : 0) |
            (f->until > 0 ? F_TIME : 0);
    struct sql_stmt *q;
    int own, p;
    enum store_result r;

    pthread_once(&query_once, query_compose);
    if ((r = sql_tx_begin(s, STORE_TX_READ, &own)) != STORE_OK)
        return r;
    if ((q = sql_prepare(s, query_sql[m][0])) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    bind_filters(q, f);
    if ((r = sql_one(q, "order count", read_count, total)) != STORE_OK) {
        r = r == STORE_NOT_FOUND ? STORE_ERROR : r;
        goto out;
    }
    if ((q = sql_prepare(s, query_sql[m][1])) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    p = bind_filters(q, f);
    sql_bind_int(q, p, f->limit > 0 ? f->limit : INT64_MAX);
    sql_bind_int(q, p + 1, f->offset);
    r = sql_each(q, "order query", on_order, &a);
out:
    return sql_tx_end(s, own, r);
}
