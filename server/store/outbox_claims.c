/* outbox_claims.c - leasing due messages (store_outbox.h): push claims, long-poll claims,
 * the next due time, and the single-node release at start.
 *
 * A claim is one UPDATE ... RETURNING that leases rows by moving both claimed_until and
 * next_at to the lease end, so leased rows stop being due and an expired lease is simply due
 * again. Per-park order: a row is not claimed while an earlier row of its (vendor, park) holds
 * a live lease. On PostgreSQL several nodes claim at once: each claim first takes a
 * transaction-scoped advisory lock per (vendor, park) it may serve (pg_try_: a park another
 * node is claiming right now is skipped, never waited for), then, in a second statement whose
 * snapshot follows every claim that held those locks before, leases only rows of parks it
 * holds, with FOR UPDATE SKIP LOCKED. */
#include "log.h"
#include "store/outbox_rows.h"
#include "store/sql.h"
#include "store/store_outbox.h"

/* an earlier pending row of o's (vendor, park) holds a live lease at ?N (one park's rows) */
#define HELD_BEFORE(n)                                                                             \
    "NOT EXISTS (SELECT 1 FROM outbox e WHERE e.state = 0 AND e.union_id = o.union_id AND "        \
    "e.park_id = o.park_id AND e.id < o.id AND e.claimed_until > " n ")"
/* The same over every park, for push claims: the parks holding live leases at ?N, found once
 * per statement (a scan of the pending rows), not once per candidate (a scan of the
 * candidate's park each: 1.7 s for 1000 due rows behind 10000 retries of one park). */
#define HELD_PARKS(n)                                                                              \
    "WITH held AS MATERIALIZED (SELECT union_id, park_id, min(id) AS first FROM outbox "           \
    "WHERE state = 0 AND claimed_until > " n " GROUP BY union_id, park_id) "
#define NOT_HELD                                                                                   \
    "NOT EXISTS (SELECT 1 FROM held h WHERE h.union_id = o.union_id AND "                          \
    "h.park_id = o.park_id AND h.first < o.id)"
/* PostgreSQL: the advisory lock key of a (vendor, park): (PARK_LOCK_NS, hashtext(...)) */
#define PARK_LOCK_NS "1347175247" /* "PLKO" */
#define PARK_KEY(u, p) "hashtext(CAST(" u " AS TEXT) || '/' || CAST(" p " AS TEXT))"
/* PostgreSQL: o's (vendor, park) lock is held by this session */
/* clang-format off */
#define PARK_HELD                                                                                  \
    "(" PARK_KEY("o.union_id", "o.park_id") "::bigint & 4294967295) IN (SELECT l.objid::bigint "  \
    "FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = " PARK_LOCK_NS " AND "          \
    "l.objsubid = 2 AND l.pid = pg_backend_pid() AND l.granted)"
/* clang-format on */

#define DUE_PUSH(now)                                                                              \
    "o.state = 0 AND o.poll = 0 AND o.kind = 0 AND o.next_at <= " now " AND "                      \
    "o.claimed_until <= " now
#define DUE_POLL                                                                                   \
    "o.state = 0 AND o.union_id = ?1 AND o.park_id IN (?2, '') AND o.next_at <= ?3 AND "           \
    "o.claimed_until <= ?3"

/* clang-format off */
/* ?1 now, ?2 lease_until, ?3 limit; outbox_due is (poll, kind, next_at) WHERE state = 0 */
static const char SQL_CLAIM_DUE_SQLITE[] =
    "UPDATE outbox SET claimed_until = ?2, next_at = ?2 WHERE id IN (" HELD_PARKS("?1")
    "SELECT o.id FROM outbox o WHERE " DUE_PUSH("?1") " AND " NOT_HELD " "
    "ORDER BY o.next_at, o.id LIMIT ?3) RETURNING " OUTBOX_MSG_COLS;
/* ?1 now, ?2 limit: lock the parks of the rows the claim would take */
static const char SQL_LOCK_DUE_PG[] =
    "SELECT count(*) FROM (SELECT DISTINCT c.union_id, c.park_id FROM (" HELD_PARKS("?1")
    "SELECT o.union_id, o.park_id FROM outbox o WHERE " DUE_PUSH("?1") " AND " NOT_HELD " "
    "ORDER BY o.next_at, o.id LIMIT ?2) c) p "
    "WHERE pg_try_advisory_xact_lock(" PARK_LOCK_NS ", " PARK_KEY("p.union_id", "p.park_id") ")";
static const char SQL_CLAIM_DUE_PG[] =
    "UPDATE outbox SET claimed_until = ?2, next_at = ?2 WHERE id = ANY (ARRAY(" HELD_PARKS("?1")
    "SELECT o.id FROM outbox o WHERE " DUE_PUSH("?1") " AND " NOT_HELD " AND " PARK_HELD " "
    "ORDER BY o.next_at, o.id LIMIT ?3 FOR UPDATE OF o SKIP LOCKED)) RETURNING " OUTBOX_MSG_COLS;

/* ?1 union_id, ?2 park_id, ?3 now, ?4 limit, ?5 lease_until; outbox_poll serves it */
static const char SQL_CLAIM_POLL_SQLITE[] =
    "UPDATE outbox SET claimed_until = ?5, next_at = ?5 WHERE id IN (SELECT o.id FROM outbox o "
    "WHERE " DUE_POLL " AND " HELD_BEFORE("?3") " ORDER BY o.id LIMIT ?4) "
    "RETURNING " OUTBOX_MSG_COLS;
static const char SQL_LOCK_POLL_PG[] =
    "SELECT pg_try_advisory_xact_lock(" PARK_LOCK_NS ", " PARK_KEY("?1", "?2") "), "
    "pg_try_advisory_xact_lock(" PARK_LOCK_NS ", " PARK_KEY("?1", "''") ")";
static const char SQL_CLAIM_POLL_PG[] =
    "UPDATE outbox SET claimed_until = ?5, next_at = ?5 WHERE id = ANY (ARRAY(SELECT o.id "
    "FROM outbox o WHERE " DUE_POLL " AND " HELD_BEFORE("?3") " AND " PARK_HELD " "
    "ORDER BY o.id LIMIT ?4 FOR UPDATE OF o SKIP LOCKED)) RETURNING " OUTBOX_MSG_COLS;

/* ?1 now */
static const char SQL_NEXT_DUE[] =
    HELD_PARKS("?1") "SELECT o.next_at FROM outbox o WHERE o.state = 0 AND o.poll = 0 AND "
    "o.kind = 0 AND " NOT_HELD " ORDER BY o.next_at LIMIT 1";
/* clang-format on */
static const char SQL_RELEASE[] =
    "UPDATE outbox SET next_at = ?1, claimed_until = 0 WHERE state = 0 AND claimed_until > 0";

/* LIMIT takes no "none" both engines agree on: a limit no table reaches */
static int64_t no_limit(int64_t limit)
{
    return limit > 0 ? limit : INT64_MAX;
}

/* Run the bound claim q, after the bound PostgreSQL park locks statement when lock is not
 * NULL (the caller's transaction ends it: a cb that stops rolls an own one back). */
static enum store_result run_claim(struct sql_stmt *lock, struct sql_stmt *q, const char *what,
                                   store_outbox_cb cb, void *arg)
{
    enum store_result r = STORE_OK;

    if (lock != NULL)
        r = sql_one(lock, what, NULL, NULL);
    if (r == STORE_OK)
        return outbox_each_msg(q, what, cb, arg);
    sql_reset(q);
    return r == STORE_NOT_FOUND ? STORE_ERROR : r;
}

enum store_result store_outbox_claim_due(struct store_session *s, int64_t now, int64_t lease_until,
                                         int64_t limit, store_outbox_cb cb, void *arg)
{
    int pg = sql_dialect(s) == SQL_POSTGRESQL;
    struct sql_stmt *lock = NULL, *q;
    enum store_result r;
    int own;

    if ((r = sql_tx_begin(s, STORE_TX_WRITE, &own)) != STORE_OK)
        return r;
    if (pg && (lock = sql_prepare(s, SQL_LOCK_DUE_PG)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    if ((q = sql_prepare(s, pg ? SQL_CLAIM_DUE_PG : SQL_CLAIM_DUE_SQLITE)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    if (lock != NULL) {
        sql_bind_int(lock, 1, now);
        sql_bind_int(lock, 2, no_limit(limit));
    }
    sql_bind_int(q, 1, now);
    sql_bind_int(q, 2, lease_until);
    sql_bind_int(q, 3, no_limit(limit));
    r = run_claim(lock, q, "outbox claim", cb, arg);
    return sql_tx_end(s, own, r);
}

enum store_result store_outbox_claim_for_poll(struct store_session *s, const char *union_id,
                                              const char *park_id, int64_t now, int64_t lease_until,
                                              int64_t limit, store_outbox_cb cb, void *arg)
{
    int pg = sql_dialect(s) == SQL_POSTGRESQL;
    struct sql_stmt *lock = NULL, *q;
    enum store_result r;
    int own;

    if (union_id == NULL)
        union_id = "";
    if (park_id == NULL)
        park_id = "";
    if ((r = sql_tx_begin(s, STORE_TX_WRITE, &own)) != STORE_OK)
        return r;
    if (pg && (lock = sql_prepare(s, SQL_LOCK_POLL_PG)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    if ((q = sql_prepare(s, pg ? SQL_CLAIM_POLL_PG : SQL_CLAIM_POLL_SQLITE)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    if (lock != NULL) {
        sql_bind_text(lock, 1, union_id);
        sql_bind_text(lock, 2, park_id);
    }
    sql_bind_text(q, 1, union_id);
    sql_bind_text(q, 2, park_id);
    sql_bind_int(q, 3, now);
    sql_bind_int(q, 4, no_limit(limit));
    sql_bind_int(q, 5, lease_until);
    r = run_claim(lock, q, "outbox claim for poll", cb, arg);
    return sql_tx_end(s, own, r);
}

static void read_at(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

enum store_result store_outbox_next_due(struct store_session *s, int64_t now, int64_t *at)
{
    struct sql_stmt *q = sql_prepare(s, SQL_NEXT_DUE);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_int(q, 1, now);
    return sql_one(q, "outbox next due", read_at, at);
}

enum store_result store_outbox_release_all(struct store_session *s, int64_t now)
{
    struct sql_stmt *q;
    enum store_result r;
    int own;

    if (sql_dialect(s) != SQL_SQLITE) {
        log_error("outbox: release_all is a single-node (SQLite) action; on %s leases expire "
                  "by themselves",
                  store_engine_name(store_session_store(s)));
        return STORE_ERROR;
    }
    if ((r = sql_tx_begin(s, STORE_TX_WRITE, &own)) != STORE_OK)
        return r;
    if ((q = sql_prepare(s, SQL_RELEASE)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    sql_bind_int(q, 1, now);
    return sql_tx_end(s, own, sql_exec(q, "outbox release"));
}
