/* delivery_settings.c - each vendor's delivery settings (store_outbox.h, store_delivery_*):
 * push or long-poll, and per-service URLs as JSON text.
 *
 * Domain SQL only (sql.h). A put also moves the vendor's pending messages to the new
 * channel (outbox.poll mirrors the mode), in the same transaction. */
#include <stdlib.h>

#include "store/sql.h"
#include "store/store_outbox.h"

static const char SQL_GET[] =
    "SELECT union_id, mode, urls, updated FROM vendor_delivery WHERE union_id = ?1";
static const char SQL_ALL[] = "SELECT union_id, mode, urls, updated FROM vendor_delivery "
                              "ORDER BY union_id";
/* an unknown vendor inserts nothing: STORE_FOREIGN_KEY without a failing statement */
static const char SQL_PUT[] =
    "INSERT INTO vendor_delivery (union_id, mode, urls, updated) SELECT union_id, "
    "CAST(?2 AS INTEGER), CAST(?3 AS TEXT), CAST(?4 AS BIGINT) FROM vendors WHERE union_id = ?1 "
    "ON CONFLICT (union_id) DO UPDATE SET mode = excluded.mode, urls = excluded.urls, "
    "updated = excluded.updated";
static const char SQL_MODE[] = "UPDATE outbox SET poll = ?2 WHERE union_id = ?1 AND state = 0";

static void read_delivery(struct sql_stmt *q, void *out)
{
    struct store_delivery *d = out;

    sql_col_copy(q, 0, d->union_id, sizeof d->union_id);
    d->mode = (int)sql_col_int(q, 1);
    sql_col_copy(q, 2, d->urls, sizeof d->urls);
    d->updated = sql_col_int(q, 3);
}

enum store_result store_delivery_get(struct store_session *s, const char *union_id,
                                     struct store_delivery *out)
{
    struct sql_stmt *q = sql_prepare(s, SQL_GET);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, union_id != NULL ? union_id : "");
    return sql_one(q, "delivery get", read_delivery, out);
}

struct list_ctx {
    int (*cb)(void *arg, const struct store_delivery *d);
    void *arg;
    struct store_delivery d; /* 16 KiB of URLs: on the heap */
};

static int list_row(struct sql_stmt *q, void *arg)
{
    struct list_ctx *c = arg;

    read_delivery(q, &c->d);
    return c->cb(c->arg, &c->d);
}

enum store_result store_delivery_list(struct store_session *s,
                                      int (*cb)(void *arg, const struct store_delivery *d),
                                      void *arg)
{
    struct list_ctx *c = malloc(sizeof *c);
    enum store_result r;

    if (c == NULL)
        return STORE_ERROR;
    c->cb = cb;
    c->arg = arg;
    r = sql_each(sql_prepare(s, SQL_ALL), "delivery list", list_row, c);
    free(c);
    return r;
}

enum store_result store_delivery_put(struct store_session *s, struct store_delivery *d)
{
    struct sql_stmt *q;
    enum store_result r;
    int own;

    if ((r = sql_tx_begin(s, STORE_TX_WRITE, &own)) != STORE_OK)
        return r;
    if ((q = sql_prepare(s, SQL_PUT)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    d->updated = sql_now_s();
    sql_bind_text(q, 1, d->union_id);
    sql_bind_int(q, 2, d->mode);
    sql_bind_text(q, 3, d->urls[0] ? d->urls : "{}");
    sql_bind_int(q, 4, d->updated);
    if ((r = sql_exec(q, "delivery put")) == STORE_OK && sql_changes(q) == 0)
        r = STORE_FOREIGN_KEY; /* no such vendor */
    if (r == STORE_OK) {
        /* pending messages follow the vendor to its new channel */
        if ((q = sql_prepare(s, SQL_MODE)) == NULL)
            return sql_tx_end(s, own, STORE_ERROR);
        sql_bind_text(q, 1, d->union_id);
        sql_bind_int(q, 2, d->mode);
        r = sql_exec(q, "delivery mode");
    }
    return sql_tx_end(s, own, r);
}
