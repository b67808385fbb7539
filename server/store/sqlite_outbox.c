/* sqlite_outbox.c - the SQLite backend of the outbox sub-interface (store_outbox.h).
 *
 * Lives beside a store handle of sqlite.c: same connection, same mutex, its own prepared
 * statements. Every op is one transaction under that mutex (enqueue with in_tx runs inside
 * the caller's). A claim is one UPDATE ... RETURNING that leases the rows by moving their
 * next_at to the lease end, so leased rows simply stop being due; release_all (at start)
 * makes them due again. Schema: migration 3 of migrations.c. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"
#include "store/sqlite_internal.h"
#include "store/store_outbox.h"

#define MSG_COLS                                                                                   \
    "id, union_id, park_id, service_name, kind, url, body, state, attempts, next_at, created, "    \
    "delivered_at, polled_at, last_error, origin, claimed_until"
#define ATT_COLS "at, http_status, duration_ms, url, error, response"
/* the vendor's delivery mode, for a row of union_id ?N */
#define MODE_OF(n) "(SELECT coalesce(max(mode), 0) FROM vendor_delivery WHERE union_id = " n ")"

enum stmt_id {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_INSERT,
    Q_CLAIM_DUE,
    Q_CLAIM_POLL,
    Q_NEXT_DUE,
    Q_FINISH,
    Q_ATTEMPT,
    Q_ACK_BY_ID,
    Q_ACK_BY_NAME,
    Q_GET,
    Q_ATTEMPTS,
    Q_REPLAY,
    Q_EXISTS,
    Q_COUNT_STATE,
    Q_RELEASE,
    Q_PRUNE,
    Q_DELIVERY_GET,
    Q_DELIVERY_PUT,
    Q_DELIVERY_MODE,
    Q_DELIVERY_ALL,
    Q__COUNT
};

static const char *const stmt_sql[Q__COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_INSERT] =
        "INSERT INTO outbox (union_id, park_id, service_name, kind, url, body, next_at, "
        "created, origin, poll) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, " MODE_OF("?1") ")",
    /* outbox_due is (poll, kind, next_at) WHERE state = 0: one index range */
    [Q_CLAIM_DUE] = "UPDATE outbox SET claimed_until = ?2, next_at = ?2 WHERE id IN ("
                    "SELECT id FROM outbox WHERE state = 0 AND poll = 0 AND kind = 0 AND "
                    "next_at <= ?1 ORDER BY next_at, id LIMIT ?3) RETURNING " MSG_COLS,
    [Q_CLAIM_POLL] =
        "UPDATE outbox SET claimed_until = ?5, next_at = ?5 WHERE id IN ("
        "SELECT id FROM outbox WHERE state = 0 AND union_id = ?1 AND "
        "park_id IN (?2, '') AND next_at <= ?3 ORDER BY id LIMIT ?4) RETURNING " MSG_COLS,
    [Q_NEXT_DUE] = "SELECT next_at FROM outbox WHERE state = 0 AND poll = 0 AND kind = 0 "
                   "ORDER BY next_at LIMIT 1",
    [Q_FINISH] = "UPDATE outbox SET state = ?2, attempts = attempts + ?3, "
                 "next_at = coalesce(?4, next_at), claimed_until = 0, last_error = ?5, "
                 "delivered_at = ?6, polled_at = coalesce(?7, polled_at) "
                 "WHERE id = ?1 AND state = 0",
    [Q_ATTEMPT] = "INSERT INTO outbox_attempts (message_id, " ATT_COLS ") "
                  "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS "
                  "(SELECT 1 FROM outbox WHERE id = ?1)",
    [Q_ACK_BY_ID] = "SELECT " MSG_COLS " FROM outbox WHERE id = ?4 AND union_id = ?1 AND "
                    "park_id IN (?2, '') AND service_name = ?3",
    [Q_ACK_BY_NAME] = "SELECT " MSG_COLS " FROM outbox WHERE state = 0 AND union_id = ?1 AND "
                      "park_id IN (?2, '') AND service_name = ?3 AND polled_at > 0 "
                      "ORDER BY id LIMIT 1",
    [Q_GET] = "SELECT " MSG_COLS " FROM outbox WHERE id = ?1",
    [Q_ATTEMPTS] = "SELECT " ATT_COLS " FROM outbox_attempts WHERE message_id = ?1 "
                   "ORDER BY at, rowid",
    [Q_REPLAY] = "UPDATE outbox SET state = 0, attempts = 0, next_at = ?2, claimed_until = 0, "
                 "polled_at = 0, last_error = '', poll = " MODE_OF(
                     "outbox.union_id") " "
                                        "WHERE id = ?1 AND state = 2 AND kind = 0",
    [Q_EXISTS] = "SELECT 1 FROM outbox WHERE id = ?1",
    [Q_COUNT_STATE] = "SELECT count(*) FROM outbox WHERE state = ?1",
    [Q_RELEASE] = "UPDATE outbox SET next_at = ?1, claimed_until = 0 "
                  "WHERE state = 0 AND claimed_until > 0",
    /* outbox_delivered is (delivered_at) WHERE state = 1 (named: without statistics the
     * planner would walk every delivered row); attempts go by ON DELETE CASCADE */
    [Q_PRUNE] = "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox INDEXED BY "
                "outbox_delivered WHERE state = 1 AND delivered_at < ?1 "
                "ORDER BY delivered_at LIMIT ?2)",
    [Q_DELIVERY_GET] = "SELECT union_id, mode, urls, updated FROM vendor_delivery "
                       "WHERE union_id = ?1",
    [Q_DELIVERY_PUT] = "INSERT INTO vendor_delivery (union_id, mode, urls, updated) "
                       "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (union_id) DO UPDATE SET "
                       "mode = excluded.mode, urls = excluded.urls, updated = excluded.updated",
    [Q_DELIVERY_MODE] = "UPDATE outbox SET poll = ?2 WHERE union_id = ?1 AND state = 0",
    [Q_DELIVERY_ALL] = "SELECT union_id, mode, urls, updated FROM vendor_delivery",
};

struct sqlite_outbox {
    struct store_outbox base;
    sqlite3 *db;
    pthread_mutex_t *lock;
    sqlite3_stmt *stmt[Q__COUNT];
};

static struct sqlite_outbox *to_ob(struct store_outbox *ob)
{
    return (struct sqlite_outbox *)ob;
}

static enum store_result map_error(struct sqlite_outbox *o, const char *what)
{
    return store_sqlite_error(o->db, what);
}

static void done(sqlite3_stmt *q)
{
    store_sqlite_reset(q);
}

static enum store_result run(struct sqlite_outbox *o, sqlite3_stmt *q, const char *what)
{
    return store_sqlite_exec(o->db, q, what);
}

static enum store_result tx_begin(struct sqlite_outbox *o)
{
    enum store_result r;

    pthread_mutex_lock(o->lock);
    r = run(o, o->stmt[Q_BEGIN], "begin");
    if (r != STORE_OK)
        pthread_mutex_unlock(o->lock);
    return r;
}

/* Commit when r is STORE_OK, else roll back; release the lock. */
static enum store_result tx_end(struct sqlite_outbox *o, enum store_result r)
{
    if (r == STORE_OK && run(o, o->stmt[Q_COMMIT], "commit") != STORE_OK)
        r = STORE_ERROR;
    if (r != STORE_OK && !sqlite3_get_autocommit(o->db))
        run(o, o->stmt[Q_ROLLBACK], "rollback");
    pthread_mutex_unlock(o->lock);
    return r;
}

static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
    sqlite3_bind_text(q, i, v ? v : "", -1, SQLITE_STATIC);
}

static void col_text(sqlite3_stmt *q, int i, char *out, size_t size)
{
    store_sqlite_col_text(q, i, out, size);
}

static void read_msg(sqlite3_stmt *q, struct store_outbox_msg *m)
{
    m->id = sqlite3_column_int64(q, 0);
    col_text(q, 1, m->union_id, sizeof m->union_id);
    col_text(q, 2, m->park_id, sizeof m->park_id);
    col_text(q, 3, m->service_name, sizeof m->service_name);
    m->kind = sqlite3_column_int(q, 4);
    col_text(q, 5, m->url, sizeof m->url);
    m->body = (const char *)sqlite3_column_text(q, 6);
    m->body_len = m->body ? (size_t)sqlite3_column_bytes(q, 6) : 0;
    if (m->body == NULL)
        m->body = "";
    m->state = sqlite3_column_int(q, 7);
    m->attempts = sqlite3_column_int(q, 8);
    m->next_at = sqlite3_column_int64(q, 9);
    m->created = sqlite3_column_int64(q, 10);
    m->delivered_at = sqlite3_column_int64(q, 11);
    m->polled_at = sqlite3_column_int64(q, 12);
    col_text(q, 13, m->last_error, sizeof m->last_error);
    col_text(q, 14, m->origin, sizeof m->origin);
    m->claimed_until = sqlite3_column_int64(q, 15);
}

static void read_attempt(sqlite3_stmt *q, struct store_outbox_attempt *a)
{
    a->at = sqlite3_column_int64(q, 0);
    a->http_status = sqlite3_column_int(q, 1);
    a->duration_ms = sqlite3_column_int(q, 2);
    col_text(q, 3, a->url, sizeof a->url);
    col_text(q, 4, a->error, sizeof a->error);
    col_text(q, 5, a->response, sizeof a->response);
}

/* Step q to the end handing each message row to cb (NULL: just count). Resets q. */
static enum store_result each_msg(struct sqlite_outbox *o, sqlite3_stmt *q, store_outbox_cb cb,
                                  void *arg, const char *what)
{
    struct store_outbox_msg *m = malloc(sizeof *m); /* ~1.5 KiB: off the stack */
    enum store_result r = STORE_OK;
    int rc;

    if (m == NULL) {
        done(q);
        return STORE_ERROR;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (cb == NULL)
            continue;
        read_msg(q, m);
        if (cb(arg, m) != 0) {
            r = STORE_ABORTED;
            break;
        }
    }
    if (r == STORE_OK && rc != SQLITE_DONE)
        r = map_error(o, what);
    done(q);
    free(m);
    return r;
}

/* ---- enqueue, claims ---- */

static enum store_result insert_one(struct sqlite_outbox *o, struct store_outbox_msg *m)
{
    sqlite3_stmt *q = o->stmt[Q_INSERT];
    enum store_result r;

    bind_text(q, 1, m->union_id);
    bind_text(q, 2, m->park_id);
    bind_text(q, 3, m->service_name);
    sqlite3_bind_int(q, 4, m->kind);
    bind_text(q, 5, m->url);
    sqlite3_bind_text(q, 6, m->body, (int)m->body_len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, m->next_at ? m->next_at : m->created);
    sqlite3_bind_int64(q, 8, m->created);
    bind_text(q, 9, m->origin);
    r = run(o, q, "enqueue");
    if (r == STORE_OK) {
        m->id = sqlite3_last_insert_rowid(o->db);
        m->state = STORE_OUTBOX_PENDING;
        m->attempts = 0;
        if (m->next_at == 0)
            m->next_at = m->created;
    }
    return r;
}

/* Begin: a transaction of our own (tx NULL), or nothing inside a session's open one. A
 * session of this handle shares its connection, so our statements join its transaction;
 * it already holds the handle's lock. */
static enum store_result op_begin(struct sqlite_outbox *o, struct store_tx *tx)
{
    if (tx == NULL)
        return tx_begin(o);
    if (tx->st->outbox != &o->base) {
        log_error("sqlite outbox: given a session of another store handle");
        return STORE_ERROR;
    }
    return STORE_OK;
}

static enum store_result op_end(struct sqlite_outbox *o, struct store_tx *tx, enum store_result r)
{
    return tx != NULL ? r : tx_end(o, r);
}

static enum store_result op_enqueue(struct store_outbox *ob, struct store_tx *tx,
                                    struct store_outbox_msg *m, size_t n)
{
    struct sqlite_outbox *o = to_ob(ob);
    enum store_result r = op_begin(o, tx);

    if (r != STORE_OK)
        return r;
    for (size_t i = 0; i < n && r == STORE_OK; i++)
        r = insert_one(o, &m[i]);
    return op_end(o, tx, r);
}

static enum store_result op_claim_due(struct store_outbox *ob, struct store_tx *tx, int64_t now,
                                      int64_t lease_until, int64_t limit, store_outbox_cb cb,
                                      void *arg)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[Q_CLAIM_DUE];
    enum store_result r = op_begin(o, tx);

    if (r != STORE_OK)
        return r;
    sqlite3_bind_int64(q, 1, now);
    sqlite3_bind_int64(q, 2, lease_until);
    sqlite3_bind_int64(q, 3, limit > 0 ? limit : -1);
    /* a callback that stops early rolls the whole claim back: nothing is leased unseen */
    r = each_msg(o, q, cb, arg, "claim");
    return op_end(o, tx, r);
}

static enum store_result op_claim_for_poll(struct store_outbox *ob, struct store_tx *tx,
                                           const char *union_id, const char *park_id, int64_t now,
                                           int64_t lease_until, int64_t limit, store_outbox_cb cb,
                                           void *arg)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[Q_CLAIM_POLL];
    enum store_result r = op_begin(o, tx);

    if (r != STORE_OK)
        return r;
    bind_text(q, 1, union_id);
    bind_text(q, 2, park_id);
    sqlite3_bind_int64(q, 3, now);
    sqlite3_bind_int64(q, 4, limit > 0 ? limit : -1);
    sqlite3_bind_int64(q, 5, lease_until);
    r = each_msg(o, q, cb, arg, "claim for poll");
    return op_end(o, tx, r);
}

static enum store_result op_next_due(struct store_outbox *ob, int64_t *at)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[Q_NEXT_DUE];
    enum store_result r = STORE_NOT_FOUND;
    int rc;

    pthread_mutex_lock(o->lock);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *at = sqlite3_column_int64(q, 0);
        r = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        r = map_error(o, "next due");
    }
    done(q);
    pthread_mutex_unlock(o->lock);
    return r;
}

/* ---- outcomes ---- */

static enum store_result finish_one(struct sqlite_outbox *o, const struct store_outbox_result *x)
{
    sqlite3_stmt *q = o->stmt[Q_FINISH];
    const struct store_outbox_attempt *a = x->attempt;
    int state = x->outcome == STORE_OUTBOX_OK        ? STORE_OUTBOX_DELIVERED
                : x->outcome == STORE_OUTBOX_GIVE_UP ? STORE_OUTBOX_DEAD
                                                     : STORE_OUTBOX_PENDING;
    enum store_result r;

    sqlite3_bind_int64(q, 1, x->id);
    sqlite3_bind_int(q, 2, state);
    sqlite3_bind_int(q, 3, x->count_attempt > 0 ? x->count_attempt : 0);
    if (x->outcome == STORE_OUTBOX_RETRY || x->outcome == STORE_OUTBOX_POLLED)
        sqlite3_bind_int64(q, 4, x->next_at);
    else
        sqlite3_bind_null(q, 4);
    bind_text(q, 5, x->error);
    sqlite3_bind_int64(q, 6, x->outcome == STORE_OUTBOX_OK ? x->now : 0);
    if (x->outcome == STORE_OUTBOX_POLLED)
        sqlite3_bind_int64(q, 7, x->now);
    else
        sqlite3_bind_null(q, 7);
    r = run(o, q, "finish");
    if (r != STORE_OK || a == NULL || a->at <= 0)
        return r;
    q = o->stmt[Q_ATTEMPT];
    sqlite3_bind_int64(q, 1, x->id);
    sqlite3_bind_int64(q, 2, a->at);
    sqlite3_bind_int(q, 3, a->http_status);
    sqlite3_bind_int(q, 4, a->duration_ms);
    bind_text(q, 5, a->url);
    bind_text(q, 6, a->error);
    bind_text(q, 7, a->response);
    return run(o, q, "attempt");
}

static enum store_result op_finish(struct store_outbox *ob, struct store_tx *tx,
                                   const struct store_outbox_result *res, size_t n)
{
    struct sqlite_outbox *o = to_ob(ob);
    enum store_result r;

    if (n == 0)
        return STORE_OK;
    if ((r = op_begin(o, tx)) != STORE_OK)
        return r;
    for (size_t i = 0; i < n && r == STORE_OK; i++)
        r = finish_one(o, &res[i]);
    return op_end(o, tx, r);
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

static enum store_result op_find_for_ack(struct store_outbox *ob, const char *union_id,
                                         const char *park_id, const char *service_name, int64_t id,
                                         struct store_outbox_msg *out)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[id > 0 ? Q_ACK_BY_ID : Q_ACK_BY_NAME];
    struct copy_ctx c = {out, 0};
    enum store_result r;

    pthread_mutex_lock(o->lock);
    bind_text(q, 1, union_id);
    bind_text(q, 2, park_id);
    bind_text(q, 3, service_name);
    if (id > 0)
        sqlite3_bind_int64(q, 4, id);
    r = each_msg(o, q, copy_row, &c, "find for ack");
    pthread_mutex_unlock(o->lock);
    if (r == STORE_OK && !c.found)
        r = STORE_NOT_FOUND;
    return r;
}

static enum store_result op_get(struct store_outbox *ob, int64_t id, store_outbox_cb cb,
                                store_outbox_attempt_cb attempts, void *arg)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[Q_GET];
    enum store_result r = STORE_NOT_FOUND;
    struct store_outbox_msg *m = malloc(sizeof *m);
    struct store_outbox_attempt *a = malloc(sizeof *a);
    int rc;

    if (m == NULL || a == NULL) {
        free(m);
        free(a);
        return STORE_ERROR;
    }
    /* one read transaction: the row and its attempts agree */
    pthread_mutex_lock(o->lock);
    sqlite3_exec(o->db, "BEGIN", NULL, NULL, NULL);
    sqlite3_bind_int64(q, 1, id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        read_msg(q, m);
        r = cb != NULL && cb(arg, m) != 0 ? STORE_ABORTED : STORE_OK;
    } else if (rc != SQLITE_DONE) {
        r = map_error(o, "get");
    }
    done(q);
    if (r == STORE_OK && attempts != NULL) {
        q = o->stmt[Q_ATTEMPTS];
        sqlite3_bind_int64(q, 1, id);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            read_attempt(q, a);
            if (attempts(arg, a) != 0) {
                r = STORE_ABORTED;
                break;
            }
        }
        if (r == STORE_OK && rc != SQLITE_DONE)
            r = map_error(o, "attempts");
        done(q);
    }
    sqlite3_exec(o->db, "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(o->lock);
    free(m);
    free(a);
    return r;
}

/* Bind the filters of q in the order list_sql() wrote them. */
static int bind_filters(sqlite3_stmt *s, const struct store_outbox_query *q, int i)
{
    if (q->after_id > 0)
        sqlite3_bind_int64(s, i++, q->after_id);
    if (q->union_id && q->union_id[0])
        bind_text(s, i++, q->union_id);
    if (q->park_id && q->park_id[0])
        bind_text(s, i++, q->park_id);
    if (q->service_name && q->service_name[0])
        bind_text(s, i++, q->service_name);
    if (q->state >= 0)
        sqlite3_bind_int(s, i++, q->state);
    return i;
}

/* "SELECT what FROM outbox WHERE <filters>" (cursor included when with_cursor). */
static void list_sql(char *sql, size_t cap, const char *what, const struct store_outbox_query *q,
                     int with_cursor)
{
    size_t n = (size_t)snprintf(sql, cap, "SELECT %s FROM outbox WHERE 1", what);

    if (with_cursor && q->after_id > 0)
        n += (size_t)snprintf(sql + n, cap - n, " AND id > ?");
    if (q->union_id && q->union_id[0])
        n += (size_t)snprintf(sql + n, cap - n, " AND union_id = ?");
    if (q->park_id && q->park_id[0])
        n += (size_t)snprintf(sql + n, cap - n, " AND park_id = ?");
    if (q->service_name && q->service_name[0])
        n += (size_t)snprintf(sql + n, cap - n, " AND service_name = ?");
    if (q->state >= 0)
        snprintf(sql + n, cap - n, " AND state = ?");
}

static enum store_result op_list(struct store_outbox *ob, const struct store_outbox_query *q,
                                 store_outbox_cb cb, void *arg, int64_t *total)
{
    struct sqlite_outbox *o = to_ob(ob);
    struct store_outbox_query nocursor = *q;
    sqlite3_stmt *s = NULL;
    enum store_result r = STORE_ERROR;
    char sql[512];
    size_t n;
    int i;

    pthread_mutex_lock(o->lock);
    sqlite3_exec(o->db, "BEGIN", NULL, NULL, NULL);
    if (total != NULL) {
        nocursor.after_id = 0;
        list_sql(sql, sizeof sql, "count(*)", &nocursor, 0);
        if (sqlite3_prepare_v2(o->db, sql, -1, &s, NULL) != SQLITE_OK) {
            map_error(o, "list count");
            goto out;
        }
        bind_filters(s, &nocursor, 1);
        if (sqlite3_step(s) != SQLITE_ROW) {
            map_error(o, "list count");
            goto out;
        }
        *total = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        s = NULL;
    }
    list_sql(sql, sizeof sql, MSG_COLS, q, 1);
    n = strlen(sql);
    snprintf(sql + n, sizeof sql - n, " ORDER BY id LIMIT ? OFFSET ?");
    if (sqlite3_prepare_v2(o->db, sql, -1, &s, NULL) != SQLITE_OK) {
        map_error(o, "list");
        goto out;
    }
    i = bind_filters(s, q, 1);
    sqlite3_bind_int64(s, i++, q->limit > 0 ? q->limit : -1);
    sqlite3_bind_int64(s, i, q->offset);
    r = each_msg(o, s, cb, arg, "list");
out:
    sqlite3_finalize(s);
    sqlite3_exec(o->db, "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(o->lock);
    return r;
}

/* ---- admin ---- */

static enum store_result op_replay(struct store_outbox *ob, int64_t id, int64_t now)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[Q_REPLAY];
    enum store_result r = tx_begin(o);

    if (r != STORE_OK)
        return r;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, now);
    r = run(o, q, "replay");
    if (r == STORE_OK && sqlite3_changes(o->db) == 0) {
        q = o->stmt[Q_EXISTS];
        sqlite3_bind_int64(q, 1, id);
        r = sqlite3_step(q) == SQLITE_ROW ? STORE_CONFLICT : STORE_NOT_FOUND;
        done(q);
    }
    /* nothing changed on NOT_FOUND/CONFLICT: ending with a rollback is the same */
    return tx_end(o, r);
}

static enum store_result op_counts(struct store_outbox *ob, int64_t *pending, int64_t *dead)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[Q_COUNT_STATE];
    enum store_result r = STORE_OK;
    int64_t *out[2] = {pending, dead};
    int states[2] = {STORE_OUTBOX_PENDING, STORE_OUTBOX_DEAD};

    pthread_mutex_lock(o->lock);
    for (int i = 0; i < 2 && r == STORE_OK; i++) {
        sqlite3_bind_int(q, 1, states[i]);
        if (sqlite3_step(q) == SQLITE_ROW)
            *out[i] = sqlite3_column_int64(q, 0);
        else
            r = map_error(o, "counts");
        done(q);
    }
    pthread_mutex_unlock(o->lock);
    return r;
}

static enum store_result op_release_all(struct store_outbox *ob, int64_t now)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[Q_RELEASE];
    enum store_result r = tx_begin(o);

    if (r != STORE_OK)
        return r;
    sqlite3_bind_int64(q, 1, now);
    r = run(o, q, "release");
    return tx_end(o, r);
}

static enum store_result op_prune(struct store_outbox *ob, struct store_tx *tx, int64_t before,
                                 int64_t limit, int64_t *deleted)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[Q_PRUNE];
    enum store_result r;

    *deleted = 0;
    if ((r = op_begin(o, tx)) != STORE_OK)
        return r;
    sqlite3_bind_int64(q, 1, before);
    sqlite3_bind_int64(q, 2, limit);
    if ((r = run(o, q, "prune")) == STORE_OK)
        *deleted = sqlite3_changes(o->db); /* the messages; their attempts are not counted */
    return op_end(o, tx, r);
}

static void read_delivery(sqlite3_stmt *q, struct store_delivery *out)
{
    col_text(q, 0, out->union_id, sizeof out->union_id);
    out->mode = sqlite3_column_int(q, 1);
    col_text(q, 2, out->urls, sizeof out->urls);
    out->updated = sqlite3_column_int64(q, 3);
}

static enum store_result op_delivery_get(struct store_outbox *ob, const char *union_id,
                                         struct store_delivery *out)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[Q_DELIVERY_GET];
    enum store_result r = STORE_NOT_FOUND;
    int rc;

    pthread_mutex_lock(o->lock);
    bind_text(q, 1, union_id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        read_delivery(q, out);
        r = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        r = map_error(o, "delivery get");
    }
    done(q);
    pthread_mutex_unlock(o->lock);
    return r;
}

static enum store_result op_delivery_list(struct store_outbox *ob,
                                          int (*cb)(void *arg, const struct store_delivery *d),
                                          void *arg)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[Q_DELIVERY_ALL];
    struct store_delivery *d = malloc(sizeof *d);
    enum store_result r = STORE_OK;
    int rc;

    if (d == NULL)
        return STORE_ERROR;
    pthread_mutex_lock(o->lock);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        read_delivery(q, d);
        if (cb(arg, d) != 0) {
            r = STORE_ABORTED;
            break;
        }
    }
    if (r == STORE_OK && rc != SQLITE_DONE)
        r = map_error(o, "delivery list");
    done(q);
    pthread_mutex_unlock(o->lock);
    free(d);
    return r;
}

static enum store_result op_delivery_put(struct store_outbox *ob, struct store_delivery *d)
{
    struct sqlite_outbox *o = to_ob(ob);
    sqlite3_stmt *q = o->stmt[Q_DELIVERY_PUT];
    enum store_result r = tx_begin(o);

    if (r != STORE_OK)
        return r;
    d->updated = (int64_t)time(NULL);
    bind_text(q, 1, d->union_id);
    sqlite3_bind_int(q, 2, d->mode);
    bind_text(q, 3, d->urls[0] ? d->urls : "{}");
    sqlite3_bind_int64(q, 4, d->updated);
    r = run(o, q, "delivery put");
    if (r == STORE_OK) {
        /* pending messages follow the vendor to its new channel */
        q = o->stmt[Q_DELIVERY_MODE];
        bind_text(q, 1, d->union_id);
        sqlite3_bind_int(q, 2, d->mode);
        r = run(o, q, "delivery mode");
    }
    return tx_end(o, r);
}

static const struct store_outbox_ops sqlite_outbox_ops = {
    .enqueue = op_enqueue,
    .claim_due = op_claim_due,
    .claim_for_poll = op_claim_for_poll,
    .next_due = op_next_due,
    .finish = op_finish,
    .find_for_ack = op_find_for_ack,
    .get = op_get,
    .list = op_list,
    .replay = op_replay,
    .counts = op_counts,
    .release_all = op_release_all,
    .prune = op_prune,
    .delivery_get = op_delivery_get,
    .delivery_put = op_delivery_put,
    .delivery_list = op_delivery_list,
};

struct store_outbox *store_sqlite_outbox_open(struct sqlite3 *db, void *lock, char *err,
                                              size_t errlen)
{
    struct sqlite_outbox *o = calloc(1, sizeof *o);

    if (o == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    o->base.ops = &sqlite_outbox_ops;
    o->db = db;
    o->lock = lock;
    for (int i = 0; i < Q__COUNT; i++) {
        if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &o->stmt[i], NULL) !=
            SQLITE_OK) {
            snprintf(err, errlen, "preparing outbox statement %d: %s", i, sqlite3_errmsg(db));
            store_sqlite_outbox_close(&o->base);
            return NULL;
        }
    }
    return &o->base;
}

void store_sqlite_outbox_close(struct store_outbox *ob)
{
    struct sqlite_outbox *o = to_ob(ob);

    if (o == NULL)
        return;
    for (int i = 0; i < Q__COUNT; i++)
        sqlite3_finalize(o->stmt[i]);
    free(o);
}
