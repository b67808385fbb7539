/* cards.c - monthly cards (10.6 and the admin API; store_orders.h).
 *
 * Only sql.h, in the portable dialect. (park_id, plate, color) is unique: a duplicate and an
 * unknown park are told by the statements (ON CONFLICT DO NOTHING, INSERT ... SELECT FROM
 * parks, a look before an update), not by a failing constraint. The list's WHERE depends on
 * its filters: one statement per combination, composed once into static storage. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/sql.h"
#include "store/store_orders.h"

#define CARD_COLS                                                                                  \
    "id, park_id, plate, color, type, valid_from, valid_until, region_id, rule_id_sub, "           \
    "company_id, company_name, created, updated"

static const char SQL_CARD_INSERT[] =
    "INSERT INTO monthly_cards (park_id, plate, color, type, valid_from, valid_until, region_id, "
    "rule_id_sub, company_id, company_name, created, updated) SELECT park_id, ?2, ?3, ?4, ?5, "
    "?6, ?7, ?8, ?9, ?10, ?11, ?11 FROM parks WHERE park_id = ?1 "
    "ON CONFLICT (park_id, plate, color) DO NOTHING RETURNING id";
/* Why an insert or update cannot be: the row, the park, another card with the key. */
static const char SQL_CARD_CHECK[] =
    "SELECT (SELECT COUNT(*) FROM monthly_cards WHERE id = ?1), "
    "(SELECT COUNT(*) FROM parks WHERE park_id = ?2), "
    "(SELECT COUNT(*) FROM monthly_cards WHERE park_id = ?2 AND plate = ?3 AND color = ?4 "
    "AND id <> ?1)";
static const char SQL_CARD_UPDATE[] =
    "UPDATE monthly_cards SET park_id = ?2, plate = ?3, color = ?4, type = ?5, valid_from = ?6, "
    "valid_until = ?7, region_id = ?8, rule_id_sub = ?9, company_id = ?10, company_name = ?11, "
    "updated = ?12 WHERE id = ?1 RETURNING created";
static const char SQL_CARD_GET[] = "SELECT " CARD_COLS " FROM monthly_cards WHERE id = ?1";
static const char SQL_CARD_DELETE[] = "DELETE FROM monthly_cards WHERE id = ?1 RETURNING id";

/* list filters, as bits of the statement's index */
enum {
    L_PARK = 1,
    L_PLATE = 2,
    L_TYPE = 4,
    L__COMBOS = 8,
};

static char list_sql[L__COMBOS][2][512]; /* [filters][0 count, 1 page] */
static pthread_once_t list_once = PTHREAD_ONCE_INIT;

/* Placeholders in bind order: park_id, plate, type as given, then (page) after_id, limit,
 * offset. */
static void list_compose(void)
{
    for (int m = 0; m < L__COMBOS; m++) {
        char where[160];
        int n, p = 1;

        n = snprintf(where, sizeof where, "WHERE id > 0");
        if (m & L_PARK)
            n += snprintf(where + n, sizeof where - (size_t)n, " AND park_id = ?%d", p++);
        if (m & L_PLATE)
            n += snprintf(where + n, sizeof where - (size_t)n, " AND plate = ?%d", p++);
        if (m & L_TYPE)
            snprintf(where + n, sizeof where - (size_t)n, " AND type = ?%d", p++);
        snprintf(list_sql[m][0], sizeof list_sql[m][0], "SELECT COUNT(*) FROM monthly_cards %s",
                 where);
        snprintf(list_sql[m][1], sizeof list_sql[m][1],
                 "SELECT " CARD_COLS " FROM monthly_cards %s AND id > ?%d ORDER BY id "
                 "LIMIT ?%d OFFSET ?%d",
                 where, p, p + 1, p + 2);
    }
}

static void read_card(struct sql_stmt *q, void *out)
{
    struct store_card *c = out;

    c->id = sql_col_int(q, 0);
    sql_col_copy(q, 1, c->park_id, sizeof c->park_id);
    sql_col_copy(q, 2, c->plate, sizeof c->plate);
    c->color = (int)sql_col_int(q, 3);
    c->type = (int)sql_col_int(q, 4);
    sql_col_copy(q, 5, c->valid_from, sizeof c->valid_from);
    sql_col_copy(q, 6, c->valid_until, sizeof c->valid_until);
    sql_col_copy(q, 7, c->region_id, sizeof c->region_id);
    sql_col_copy(q, 8, c->rule_id_sub, sizeof c->rule_id_sub);
    sql_col_copy(q, 9, c->company_id, sizeof c->company_id);
    sql_col_copy(q, 10, c->company_name, sizeof c->company_name);
    c->created = sql_col_int(q, 11);
    c->updated = sql_col_int(q, 12);
}

static void read_int(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

/* ?1 .. ?10 of insert, ?2 .. ?11 of update: the caller's fields. */
static void bind_card(struct sql_stmt *q, int first, const struct store_card *c)
{
    sql_bind_text(q, first, c->park_id);
    sql_bind_text(q, first + 1, c->plate);
    sql_bind_int(q, first + 2, c->color);
    sql_bind_int(q, first + 3, c->type);
    sql_bind_text(q, first + 4, c->valid_from);
    sql_bind_text(q, first + 5, c->valid_until);
    sql_bind_text(q, first + 6, c->region_id);
    sql_bind_text(q, first + 7, c->rule_id_sub);
    sql_bind_text(q, first + 8, c->company_id);
    sql_bind_text(q, first + 9, c->company_name);
}

struct card_check {
    int64_t row, park, other;
};

static void read_check(struct sql_stmt *q, void *out)
{
    struct card_check *k = out;

    k->row = sql_col_int(q, 0);
    k->park = sql_col_int(q, 1);
    k->other = sql_col_int(q, 2);
}

/* What stands in the way of c (id 0: a new card): STORE_OK when nothing does. */
static enum store_result card_check(struct store_session *s, const struct store_card *c)
{
    struct sql_stmt *q = sql_prepare(s, SQL_CARD_CHECK);
    struct card_check k = {0, 0, 0};
    enum store_result r;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_int(q, 1, c->id);
    sql_bind_text(q, 2, c->park_id);
    sql_bind_text(q, 3, c->plate);
    sql_bind_int(q, 4, c->color);
    if ((r = sql_one(q, "card check", read_check, &k)) != STORE_OK)
        return r == STORE_NOT_FOUND ? STORE_ERROR : r;
    if (c->id != 0 && k.row == 0)
        return STORE_NOT_FOUND;
    if (k.park == 0)
        return STORE_FOREIGN_KEY;
    return k.other > 0 ? STORE_CONFLICT : STORE_OK;
}

enum store_result store_card_add(struct store_session *s, struct store_card *c)
{
    struct sql_stmt *q;
    int64_t id = 0, now = sql_now_s();
    int own;
    enum store_result r = sql_tx_begin(s, STORE_TX_WRITE, &own);

    if (r != STORE_OK)
        return r;
    if ((q = sql_prepare(s, SQL_CARD_INSERT)) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    bind_card(q, 1, c);
    sql_bind_int(q, 11, now);
    r = sql_one(q, "card insert", read_int, &id);
    if (r == STORE_OK) {
        c->id = id;
        c->created = c->updated = now;
    } else if (r == STORE_NOT_FOUND) { /* an unknown park or a duplicate: which */
        struct store_card k = *c;

        k.id = 0;
        r = card_check(s, &k);
        if (r == STORE_OK)
            r = STORE_CONFLICT; /* the key was taken by an add that committed meanwhile */
    }
out:
    return sql_tx_end(s, own, r);
}

enum store_result store_card_update(struct store_session *s, struct store_card *c)
{
    struct sql_stmt *q;
    int64_t now = sql_now_s(), created = 0;
    int own;
    enum store_result r = sql_tx_begin(s, STORE_TX_WRITE, &own);

    if (r != STORE_OK)
        return r;
    if (c->id <= 0) {
        r = STORE_NOT_FOUND;
        goto out;
    }
    if ((r = card_check(s, c)) != STORE_OK)
        goto out;
    if ((q = sql_prepare(s, SQL_CARD_UPDATE)) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    sql_bind_int(q, 1, c->id);
    bind_card(q, 2, c);
    sql_bind_int(q, 12, now);
    if ((r = sql_one(q, "card update", read_int, &created)) == STORE_OK) {
        c->created = created;
        c->updated = now;
    }
out:
    return sql_tx_end(s, own, r);
}

enum store_result store_card_get(struct store_session *s, int64_t id, struct store_card *out)
{
    struct sql_stmt *q = sql_prepare(s, SQL_CARD_GET);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_int(q, 1, id);
    return sql_one(q, "card get", read_card, out);
}

enum store_result store_card_delete(struct store_session *s, int64_t id)
{
    struct sql_stmt *q = sql_prepare(s, SQL_CARD_DELETE);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_int(q, 1, id);
    return sql_one(q, "card delete", NULL, NULL);
}

struct card_rows {
    store_card_cb cb;
    void *arg;
};

static int on_card(struct sql_stmt *q, void *arg)
{
    struct card_rows *a = arg;
    struct store_card c;

    read_card(q, &c);
    return a->cb(a->arg, &c);
}

static int bind_list(struct sql_stmt *q, const struct store_card_query *f)
{
    int p = 1;

    if (f->park_id)
        sql_bind_text(q, p++, f->park_id);
    if (f->plate)
        sql_bind_text(q, p++, f->plate);
    if (f->type > 0)
        sql_bind_int(q, p++, f->type);
    return p;
}

enum store_result store_card_list(struct store_session *s, const struct store_card_query *f,
                                  store_card_cb cb, void *arg, int64_t *total)
{
    struct card_rows a = {cb, arg};
    int m = (f->park_id ? L_PARK : 0) | (f->plate ? L_PLATE : 0) | (f->type > 0 ? L_TYPE : 0);
    struct sql_stmt *q;
    int own, p;
    enum store_result r;

    pthread_once(&list_once, list_compose);
    if ((r = sql_tx_begin(s, STORE_TX_READ, &own)) != STORE_OK)
        return r;
    if (total != NULL) {
        if ((q = sql_prepare(s, list_sql[m][0])) == NULL) {
            r = STORE_ERROR;
            goto out;
        }
        bind_list(q, f);
        if ((r = sql_one(q, "card count", read_int, total)) != STORE_OK) {
            r = r == STORE_NOT_FOUND ? STORE_ERROR : r;
            goto out;
        }
    }
    if ((q = sql_prepare(s, list_sql[m][1])) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    p = bind_list(q, f);
    sql_bind_int(q, p, f->after_id);
    sql_bind_int(q, p + 1, f->limit > 0 ? f->limit : INT64_MAX);
    sql_bind_int(q, p + 2, f->offset);
    r = sql_each(q, "card list", on_card, &a);
out:
    return sql_tx_end(s, own, r);
}
