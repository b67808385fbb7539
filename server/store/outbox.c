/* outbox.c - the outbox's messages on a store session (store_outbox.h): enqueue, outcomes,
 * acknowledgement lookups, one message with its attempts, counts.
 *
 * Domain SQL only (sql.h), the same text on SQLite and PostgreSQL; claims live in
 * outbox_claims.c, lists, replay and retention in outbox_admin.c. Schema: migration 3. */
#include <stdlib.h>
#include <string.h>

#include "store/outbox_rows.h"
#include "store/sql.h"
#include "store/store_outbox.h"

static const char SQL_INSERT[] =
    "INSERT INTO outbox (union_id, park_id, service_name, kind, url, body, next_at, created, "
    "origin, poll) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, " OUTBOX_MODE_OF(
        "?1") ") "
              "RETURNING id";
/* ?4 < 0 keeps next_at, ?7 < 0 keeps polled_at; only a pending row changes */
static const char SQL_FINISH[] =
    "UPDATE outbox SET state = ?2, attempts = attempts + ?3, "
    "next_at = CASE WHEN CAST(?4 AS BIGINT) >= 0 THEN CAST(?4 AS BIGINT) ELSE next_at END, "
    "claimed_until = 0, last_error = ?5, delivered_at = ?6, "
    "polled_at = CASE WHEN CAST(?7 AS BIGINT) >= 0 THEN CAST(?7 AS BIGINT) ELSE polled_at END "
    "WHERE id = ?1 AND state = 0";
/* recorded whatever the row's state, as long as the row exists (no foreign key failure) */
static const char SQL_ATTEMPT[] =
    "INSERT INTO outbox_attempts (message_id, at, http_status, duration_ms, url, error, "
    "response) SELECT id, CAST(?2 AS BIGINT), CAST(?3 AS INTEGER), CAST(?4 AS INTEGER), "
    "CAST(?5 AS TEXT), CAST(?6 AS TEXT), CAST(?7 AS TEXT) FROM outbox WHERE id = ?1";
static const char SQL_ACK_BY_ID[] =
    "SELECT " OUTBOX_MSG_COLS " FROM outbox WHERE id = ?4 AND union_id = ?1 AND "
    "park_id IN (?2, '') AND service_name = ?3";
static const char SQL_ACK_BY_NAME[] =
    "SELECT " OUTBOX_MSG_COLS " FROM outbox WHERE state = 0 AND union_id = ?1 AND "
    "park_id IN (?2, '') AND service_name = ?3 AND polled_at > 0 ORDER BY id LIMIT 1";
static const char SQL_GET[] = "SELECT " OUTBOX_MSG_COLS " FROM outbox WHERE id = ?1";
/* attempts have no key of their own: ties in time keep insertion order by the row address */
static const char SQL_ATTEMPTS_SQLITE[] =
    "SELECT at, http_status, duration_ms, url, error, response FROM outbox_attempts "
    "WHERE message_id = ?1 ORDER BY at, rowid";
static const char SQL_ATTEMPTS_PG[] =
    "SELECT at, http_status, duration_ms, url, error, response FROM outbox_attempts "
    "WHERE message_id = ?1 ORDER BY at, ctid";
static const char SQL_COUNTS[] =
    "SELECT coalesce(sum(CASE WHEN state = 0 THEN 1 ELSE 0 END), 0), "
    "coalesce(sum(CASE WHEN state = 2 THEN 1 ELSE 0 END), 0) FROM outbox WHERE state IN (0, 2)";

/* ---- rows ---- */

void outbox_read_msg(struct sql_stmt *q, struct store_outbox_msg *m)
{
    m->id = sql_col_int(q, 0);
    sql_col_copy(q, 1, m->union_id, sizeof m->union_id);
    sql_col_copy(q, 2, m->park_id, sizeof m->park_id);
    sql_col_copy(q, 3, m->service_name, sizeof m->service_name);
    m->kind = (int)sql_col_int(q, 4);
    sql_col_copy(q, 5, m->url, sizeof m->url);
    m->body = sql_col_text(q, 6);
    m->body_len = sql_col_len(q, 6);
    m->state = (int)sql_col_int(q, 7);
    m->attempts = (int)sql_col_int(q, 8);
    m->next_at = sql_col_int(q, 9);
    m->created = sql_col_int(q, 10);
    m->delivered_at = sql_col_int(q, 11);
    m->polled_at = sql_col_int(q, 12);
    sql_col_copy(q, 13, m->last_error, sizeof m->last_error);
    sql_col_copy(q, 14, m->origin, sizeof m->origin);
    m->claimed_until = sql_col_int(q, 15);
}

struct each_ctx {
    store_outbox_cb cb;
    void *arg;
    struct store_outbox_msg *m; /* ~1.5 KiB: off the stack */
};

static int each_row(struct sql_stmt *q, void *arg)
{
    struct each_ctx *c = arg;

    if (c->cb == NULL)
        return 0;
    outbox_read_msg(q, c->m);
    return c->cb(c->arg, c->m);
}

enum store_result outbox_each_msg(struct sql_stmt *q, const char *what, store_outbox_cb cb,
                                  void *arg)
{
    struct each_ctx c = {cb, arg, malloc(sizeof *c.m)};
    enum store_result r;

    if (c.m == NULL) {
        if (q != NULL)
            sql_reset(q);
        return STORE_ERROR;
    }
    r = sql_each(q, what, each_row, &c);
    free(c.m);
    return r;
}

/* ---- enqueue ---- */

static void read_id(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

static enum store_result insert_one(struct store_session *s, struct store_outbox_msg *m)
{
    struct sql_stmt *q = sql_prepare(s, SQL_INSERT);
    int64_t id = 0;
    enum store_result r;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, m->union_id);
    sql_bind_text(q, 2, m->park_id);
    sql_bind_text(q, 3, m->service_name);
    sql_bind_int(q, 4, m->kind);
    sql_bind_text(q, 5, m->url);
    sql_bind_textn(q, 6, m->body != NULL ? m->body : "", m->body != NULL ? m->body_len : 0);
    sql_bind_int(q, 7, m->next_at ? m->next_at : m->created);
    sql_bind_int(q, 8, m->created);
    sql_bind_text(q, 9, m->origin);
    r = sql_one(q, "outbox enqueue", read_id, &id);
    if (r == STORE_NOT_FOUND)
        r = STORE_ERROR; /* RETURNING always answers a row */
    if (r == STORE_OK) {
        m->id = id;
        m->state = STORE_OUTBOX_PENDING;
        m->attempts = 0;
        if (m->next_at == 0)
            m->next_at = m->created;
    }
    return r;
}

enum store_result store_outbox_enqueue(struct store_session *s, struct store_outbox_msg *m,
                                       size_t n)
{
    int own;
    enum store_result r;

    if (n == 0)
        return STORE_OK;
    if ((r = sql_tx_begin(s, STORE_TX_WRITE, &own)) != STORE_OK)
        return r;
    for (size_t i = 0; i < n && r == STORE_OK; i++)
        r = insert_one(s, &m[i]);
    return sql_tx_end(s, own, r);
}

/* ---- outcomes ---- */

static enum store_result record_attempt(struct store_session *s, int64_t id,
                                        const struct store_outbox_attempt *a)
{
    struct sql_stmt *q = sql_prepare(s, SQL_ATTEMPT);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_int(q, 1, id);
    sql_bind_int(q, 2, a->at);
    sql_bind_int(q, 3, a->http_status);
    sql_bind_int(q, 4, a->duration_ms);
    sql_bind_text(q, 5, a->url);
    sql_bind_text(q, 6, a->error);
    sql_bind_text(q, 7, a->response);
    return sql_exec(q, "outbox attempt");
}

static enum store_result finish_one(struct store_session *s, const struct store_outbox_result *x)
{
    struct sql_stmt *q = sql_prepare(s, SQL_FINISH);
    int state = x->outcome == STORE_OUTBOX_OK        ? STORE_OUTBOX_DELIVERED
                : x->outcome == STORE_OUTBOX_GIVE_UP ? STORE_OUTBOX_DEAD
                                                     : STORE_OUTBOX_PENDING;
    int rescheduled = x->outcome == STORE_OUTBOX_RETRY || x->outcome == STORE_OUTBOX_POLLED;
    enum store_result r;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_int(q, 1, x->id);
    sql_bind_int(q, 2, state);
    sql_bind_int(q, 3, x->count_attempt > 0 ? x->count_attempt : 0);
    sql_bind_int(q, 4, rescheduled ? x->next_at : -1);
    sql_bind_text(q, 5, x->error != NULL ? x->error : "");
    sql_bind_int(q, 6, x->outcome == STORE_OUTBOX_OK ? x->now : 0);
    sql_bind_int(q, 7, x->outcome == STORE_OUTBOX_POLLED ? x->now : -1);
    r = sql_exec(q, "outbox finish");
    if (r != STORE_OK || x->attempt == NULL || x->attempt->at <= 0)
        return r;
    return record_attempt(s, x->id, x->attempt);
}

enum store_result store_outbox_finish(struct store_session *s,
                                      const struct store_outbox_result *res, size_t n)
{
    int own;
    enum store_result r;

    if (n == 0)
        return STORE_OK;
    if ((r = sql_tx_begin(s, STORE_TX_WRITE, &own)) != STORE_OK)
        return r;
    for (size_t i = 0; i < n && r == STORE_OK; i++)
        r = finish_one(s, &res[i]);
    return sql_tx_end(s, own, r);
}

/* ---- reads ---- */

struct copy_ctx {
    struct store_outbox_msg *out;
    int found;
};

static int copy_row(void *arg, const struct store_outbox_msg *row)
{
    struct copy_ctx *c = arg;

    *c->out = *row;
    c->out->body = NULL; /* points into the statement: gone after the call */
    c->out->body_len = 0;
    c->found = 1;
    return 0;
}

enum store_result store_outbox_find_for_ack(struct store_session *s, const char *union_id,
                                            const char *park_id, const char *service_name,
                                            int64_t id, struct store_outbox_msg *out)
{
    struct sql_stmt *q = sql_prepare(s, id > 0 ? SQL_ACK_BY_ID : SQL_ACK_BY_NAME);
    struct copy_ctx c = {out, 0};
    enum store_result r;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, union_id != NULL ? union_id : "");
    sql_bind_text(q, 2, park_id != NULL ? park_id : "");
    sql_bind_text(q, 3, service_name != NULL ? service_name : "");
    if (id > 0)
        sql_bind_int(q, 4, id);
    r = outbox_each_msg(q, "outbox find for ack", copy_row, &c);
    if (r == STORE_OK && !c.found)
        r = STORE_NOT_FOUND;
    return r;
}

struct attempt_ctx {
    store_outbox_attempt_cb cb;
    void *arg;
    struct store_outbox_attempt a;
};

static int attempt_row(struct sql_stmt *q, void *arg)
{
    struct attempt_ctx *c = arg;

    c->a.at = sql_col_int(q, 0);
    c->a.http_status = (int)sql_col_int(q, 1);
    c->a.duration_ms = (int)sql_col_int(q, 2);
    sql_col_copy(q, 3, c->a.url, sizeof c->a.url);
    sql_col_copy(q, 4, c->a.error, sizeof c->a.error);
    sql_col_copy(q, 5, c->a.response, sizeof c->a.response);
    return c->cb(c->arg, &c->a);
}

struct get_ctx {
    store_outbox_cb cb;
    void *arg;
    int found;
};

static int get_row(void *arg, const struct store_outbox_msg *row)
{
    struct get_ctx *g = arg;

    g->found = 1;
    return g->cb != NULL ? g->cb(g->arg, row) : 0;
}

enum store_result store_outbox_get(struct store_session *s, int64_t id, store_outbox_cb cb,
                                   store_outbox_attempt_cb attempts, void *arg)
{
    struct get_ctx g = {cb, arg, 0};
    struct attempt_ctx *a = NULL;
    struct sql_stmt *q;
    enum store_result r;
    int own;

    /* one read transaction: the row and its attempts agree */
    if ((r = sql_tx_begin(s, STORE_TX_READ, &own)) != STORE_OK)
        return r;
    if ((q = sql_prepare(s, SQL_GET)) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    sql_bind_int(q, 1, id);
    r = outbox_each_msg(q, "outbox get", get_row, &g);
    if (r == STORE_OK && !g.found)
        r = STORE_NOT_FOUND;
    if (r != STORE_OK || attempts == NULL)
        goto out;
    q = sql_prepare(s, sql_dialect(s) == SQL_POSTGRESQL ? SQL_ATTEMPTS_PG : SQL_ATTEMPTS_SQLITE);
    if (q == NULL || (a = malloc(sizeof *a)) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    a->cb = attempts;
    a->arg = arg;
    sql_bind_int(q, 1, id);
    r = sql_each(q, "outbox attempts", attempt_row, a);
out:
    free(a);
    /* a read: NOT_FOUND and ABORTED end it like success (nothing to keep or undo) */
    if (r == STORE_NOT_FOUND || r == STORE_ABORTED)
        return sql_tx_end(s, own, STORE_OK) == STORE_OK ? r : STORE_ERROR;
    return sql_tx_end(s, own, r);
}

static void read_counts(struct sql_stmt *q, void *out)
{
    int64_t *v = out;

    v[0] = sql_col_int(q, 0);
    v[1] = sql_col_int(q, 1);
}

enum store_result store_outbox_counts(struct store_session *s, int64_t *pending, int64_t *dead)
{
    int64_t v[2] = {0, 0};
    enum store_result r = sql_one(sql_prepare(s, SQL_COUNTS), "outbox counts", read_counts, v);

    if (r == STORE_NOT_FOUND)
        r = STORE_ERROR; /* an aggregate always answers a row */
    if (r == STORE_OK) {
        *pending = v[0];
        *dead = v[1];
    }
    return r;
}
