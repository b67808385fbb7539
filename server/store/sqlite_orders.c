/* sqlite_orders.c - the SQLite side of store_orders.h: parking records, park details, QR
 * codes, screen texts, monthly cards, and the batch transaction of the group commit.
 *
 * A session (struct sqlite_tx) wraps the connection of one store handle and caches its
 * statements, prepared on first use. Inside a batch the session holds the handle's lock and
 * one BEGIN IMMEDIATE transaction from batch_begin to batch_commit; each job runs between
 * SAVEPOINT and RELEASE (or ROLLBACK TO), so a failed job leaves the rest of the batch
 * intact. Outside a batch every op locks, runs its own transaction and unlocks. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store/sqlite_internal.h"
#include "store/store_orders.h"

#define EXTRA_STMTS 32
#define ACCOUNT_BASE 1000000 /* 2.1 username = ACCOUNT_BASE + park_details.id */

#define ORDER_SELECT                                                                               \
    "SELECT o.park_id, o.order_id, o.union_id, o.car_number, o.color, o.state, o.in_time, "        \
    "o.out_time, o.pay_type, o.total_fen, o.paid_fen, coalesce(o.pay_channel, -1), o.trade_no, "   \
    "coalesce(o.inpark_img, ''), coalesce(o.outpark_img, ''), coalesce(o.car_cost_type, 0), "      \
    "o.park_business_type, coalesce(p.name, ''), coalesce(v.name, '') FROM orders o "              \
    "LEFT JOIN parks p ON p.park_id = o.park_id LEFT JOIN vendors v ON v.union_id = o.union_id "
#define CARD_COLS                                                                                  \
    "id, park_id, plate, color, type, valid_from, valid_until, region_id, rule_id_sub, "           \
    "company_id, company_name, created, updated"

enum qid {
    Q_BEGIN_WRITE,
    Q_BEGIN_READ,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_SAVEPOINT,
    Q_RELEASE,
    Q_ROLLBACK_TO,
    Q_BUMP_REV,
    Q_ORDER_KEY,
    Q_OPEN_OF_CAR,
    Q_CLOSE_ZERO,
    Q_ENTRY_INSERT,
    Q_EXIT_CREATE,
    Q_EXIT_UPDATE,
    Q_PLOTS,
    Q_CORRECT_UPDATE,
    Q_CORRECT_AUDIT,
    Q_ORDER_GET,
    Q_ESCAPES,
    Q_OPEN_COUNT,
    Q_OPEN_LIST,
    Q_PARK_OWNER,
    Q_DETAIL_STATE,
    Q_PARK_INSERT,
    Q_PARK_REPUBLISH,
    Q_DETAIL_PUBLISH,
    Q_PARK_PLOTS,
    Q_PARK_DISABLE,
    Q_DETAIL_UPDATE,
    Q_DETAIL_SMS,
    Q_QR_ACTIVE,
    Q_QR_RETIRE,
    Q_QR_INSERT,
    Q_QR_GET,
    Q_SCREEN_GET,
    Q_SCREEN_PUT,
    Q_SCREEN_DELETE,
    Q_CARD_INSERT,
    Q_CARD_UPDATE,
    Q_CARD_GET,
    Q_CARD_DELETE,
    Q__COUNT
};

static const char *const qsql[Q__COUNT] = {
    [Q_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [Q_BEGIN_READ] = "BEGIN",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SAVEPOINT] = "SAVEPOINT job",
    [Q_RELEASE] = "RELEASE job",
    [Q_ROLLBACK_TO] = "ROLLBACK TO job",
    [Q_BUMP_REV] = "UPDATE revision SET rev = rev + 1 WHERE id = 1 RETURNING rev",
    [Q_ORDER_KEY] = "SELECT id, state, in_time, out_time, pay_type, total_fen, paid_fen, "
                    "car_number, color FROM orders WHERE park_id = ?1 AND order_id = ?2",
    [Q_OPEN_OF_CAR] = "SELECT id, in_time FROM orders WHERE park_id = ?1 AND car_number = ?2 "
                      "AND color = ?3 AND state IN (0, 1) AND id <> ?4",
    [Q_CLOSE_ZERO] = "UPDATE orders SET state = 4, out_time = ?2, total_fen = 0, updated = ?3 "
                     "WHERE id = ?1",
    [Q_ENTRY_INSERT] = "INSERT INTO orders (park_id, order_id, union_id, car_number, color, state, "
                       "in_time, out_time, in_empty_plot, in_remark, inpark_img, car_cost_type, "
                       "uid, uname, in_channel_id, in_is_report, created, updated) VALUES (?1, "
                       "?2, ?3, ?4, ?5, 0, ?6, 0, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15) "
                       "ON CONFLICT (park_id, order_id) DO NOTHING RETURNING id",
    [Q_EXIT_CREATE] = "INSERT INTO orders (park_id, order_id, union_id, car_number, color, state, "
                      "in_time, entry_missing, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, 0, "
                      "?6, 1, ?7, ?7) RETURNING id",
    [Q_EXIT_UPDATE] = "UPDATE orders SET state = ?2, out_time = ?3, pay_type = ?4, "
                      "total_fen = ?5, paid_fen = ?6, pay_channel = ?7, exit_in_time = ?8, "
                      "out_color = ?9, out_empty_plot = ?10, auth_code = ?11, out_remark = ?12, "
                      "outpark_img = ?13, out_channel_id = ?14, reduce_fen = ?15, "
                      "derate_duration = ?16, freereasons = ?17, work_station_uuid = ?18, "
                      "out_uid = ?19, out_uname = ?20, out_is_report = ?21, updated = ?22 "
                      "WHERE id = ?1",
    [Q_PLOTS] = "INSERT INTO park_details (park_id, empty_plot, empty_plot_at, created, updated) "
                "VALUES (?1, ?2, ?3, ?3, ?3) ON CONFLICT (park_id) DO UPDATE SET "
                "empty_plot = excluded.empty_plot, empty_plot_at = excluded.empty_plot_at, "
                "updated = excluded.updated",
    [Q_CORRECT_UPDATE] = "UPDATE orders SET car_number = ?2, color = ?3, in_time = ?4, "
                         "out_time = ?5, total_fen = ?6, paid_fen = ?7, "
                         "park_business_type = coalesce(?8, park_business_type), "
                         "leave_business_type = coalesce(?9, leave_business_type), "
                         "updated = ?10 WHERE id = ?1",
    [Q_CORRECT_AUDIT] = "INSERT INTO order_corrections (park_id, order_id, union_id, type, "
                        "old_car_number, old_color, old_in_time, old_out_time, old_total_fen, "
                        "new_car_number, new_color, new_in_time, new_out_time, new_total_fen, "
                        "park_business_type, leave_business_type, created) VALUES (?1, ?2, ?3, "
                        "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [Q_ORDER_GET] = ORDER_SELECT "WHERE o.park_id = ?1 AND o.order_id = ?2",
    [Q_ESCAPES] = ORDER_SELECT "WHERE o.car_number = ?1 AND o.state = 3 AND o.escape_paid = 0 "
                               "ORDER BY o.out_time, o.id",
    [Q_OPEN_COUNT] = "SELECT count(*) FROM orders WHERE park_id = ?1 AND state IN (0, 1)",
    [Q_OPEN_LIST] = ORDER_SELECT "WHERE o.park_id = ?1 AND o.state IN (0, 1) "
                                 "ORDER BY o.in_time, o.id",
    [Q_PARK_OWNER] = "SELECT union_id, total_plot FROM parks WHERE park_id = ?1",
    [Q_DETAIL_STATE] = "SELECT coalesce(last_rand, ''), vendor_disabled FROM park_details "
                       "WHERE park_id = ?1",
    [Q_PARK_INSERT] = "INSERT INTO parks (park_id, union_id, name, total_plot, empty_plot, "
                      "created, updated, rev) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
    [Q_PARK_REPUBLISH] = "UPDATE parks SET name = ?2, total_plot = ?3, empty_plot = ?4, "
                         "suspended = CASE WHEN ?5 THEN 0 ELSE suspended END, updated = ?6, "
                         "rev = ?7 WHERE park_id = ?1",
    [Q_DETAIL_PUBLISH] =
        "INSERT INTO park_details (park_id, published, address, city_id, phone, mobile, lng, "
        "lat, server_id, price_desc, remark, docking_type, last_rand, empty_plot, empty_plot_at, "
        "created, updated) VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
        "?14, ?14, ?14) ON CONFLICT (park_id) DO UPDATE SET published = 1, "
        "address = excluded.address, city_id = excluded.city_id, phone = excluded.phone, "
        "mobile = excluded.mobile, lng = excluded.lng, lat = excluded.lat, "
        "server_id = excluded.server_id, price_desc = excluded.price_desc, "
        "remark = excluded.remark, docking_type = excluded.docking_type, "
        "last_rand = excluded.last_rand, empty_plot = excluded.empty_plot, "
        "empty_plot_at = excluded.empty_plot_at, vendor_disabled = 0, "
        "updated = excluded.updated RETURNING id",
    [Q_PARK_PLOTS] = "UPDATE parks SET total_plot = ?2, empty_plot = ?3, updated = ?4, rev = ?5 "
                     "WHERE park_id = ?1",
    [Q_PARK_DISABLE] = "UPDATE parks SET suspended = 1, updated = ?2, rev = ?3 WHERE park_id = ?1",
    [Q_DETAIL_UPDATE] =
        "INSERT INTO park_details (park_id, last_rand, empty_plot, empty_plot_at, price_desc, "
        "phone, mobile, vendor_disabled, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, ?4, ?4) ON CONFLICT (park_id) DO UPDATE SET last_rand = excluded.last_rand, "
        "empty_plot = coalesce(excluded.empty_plot, empty_plot), "
        "empty_plot_at = CASE WHEN excluded.empty_plot IS NULL THEN empty_plot_at "
        "ELSE excluded.empty_plot_at END, "
        "price_desc = coalesce(excluded.price_desc, price_desc), "
        "phone = coalesce(excluded.phone, phone), mobile = coalesce(excluded.mobile, mobile), "
        "vendor_disabled = max(vendor_disabled, excluded.vendor_disabled), "
        "updated = excluded.updated",
    [Q_DETAIL_SMS] = "INSERT INTO park_details (park_id, sms_verify, created, updated) "
                     "VALUES (?1, ?2, ?3, ?3) ON CONFLICT (park_id) DO UPDATE SET "
                     "sms_verify = excluded.sms_verify, updated = excluded.updated",
    [Q_QR_ACTIVE] = "SELECT id, created FROM qr_codes WHERE park_id = ?1 AND type = ?2 "
                    "AND channel_id = ?3 AND active = 1 ORDER BY id DESC LIMIT 1",
    [Q_QR_RETIRE] = "UPDATE qr_codes SET active = 0, retired = ?4 WHERE park_id = ?1 "
                    "AND type = ?2 AND channel_id = ?3 AND active = 1",
    [Q_QR_INSERT] = "INSERT INTO qr_codes (park_id, type, channel_id, message_uuid, data_target, "
                    "device_no, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
    [Q_QR_GET] = "SELECT id, park_id, type, channel_id, active, created FROM qr_codes "
                 "WHERE id = ?1",
    [Q_SCREEN_GET] = "SELECT entry, leaving, exit, updated FROM screen_texts WHERE park_id = ?1",
    [Q_SCREEN_PUT] = "INSERT INTO screen_texts (park_id, entry, leaving, exit, updated) VALUES "
                     "(?1, ?2, ?3, ?4, ?5) ON CONFLICT (park_id) DO UPDATE SET "
                     "entry = excluded.entry, leaving = excluded.leaving, exit = excluded.exit, "
                     "updated = excluded.updated",
    [Q_SCREEN_DELETE] = "DELETE FROM screen_texts WHERE park_id = ?1",
    [Q_CARD_INSERT] = "INSERT INTO monthly_cards (park_id, plate, color, type, valid_from, "
                      "valid_until, region_id, rule_id_sub, company_id, company_name, created, "
                      "updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
    [Q_CARD_UPDATE] = "UPDATE monthly_cards SET park_id = ?2, plate = ?3, color = ?4, type = ?5, "
                      "valid_from = ?6, valid_until = ?7, region_id = ?8, rule_id_sub = ?9, "
                      "company_id = ?10, company_name = ?11, updated = ?12 WHERE id = ?1",
    [Q_CARD_GET] = "SELECT " CARD_COLS " FROM monthly_cards WHERE id = ?1",
    [Q_CARD_DELETE] = "DELETE FROM monthly_cards WHERE id = ?1",
};

/* Checkpoints of a batch session's WAL, off the commit path: SQLite's automatic checkpoint
 * would copy ~1000 pages into the database file (and fsync it) inside the writer's commit,
 * stalling every request of the next batch. A WAL hook on the writer's connection wakes this
 * thread instead, which checkpoints (PASSIVE: never blocks the writer) on a connection of its
 * own. A PASSIVE checkpoint never lets the WAL start over while the writer keeps appending, so
 * the WAL is kept bounded two ways (docs/server.md, "The WAL"): once it holds
 * WAL_RESTART_FRAMES the writer's own hook runs a RESTART checkpoint (copies what PASSIVE has
 * not, waits for readers, and the next commit starts the file over, cut back to
 * journal_size_limit); and once the writer has been idle for IDLE_MS, or the session ends,
 * this thread truncates the WAL to zero bytes. */
struct checkpointer {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending, stop;
    uint64_t commits; /* commits seen by the hook; truncated_at: the count at the last truncate */
    uint64_t truncated_at;
    int restart;       /* the last commit left WAL_RESTART_FRAMES or more */
    int running, hold; /* a checkpoint runs here; the writer's restart_wal keeps it waiting */
    sqlite3 *db;
};

struct sqlite_tx {
    struct store_tx base;
    sqlite3 *db;
    pthread_mutex_t *lock;
    struct checkpointer *ck; /* batch sessions only */
    int ck_tried;
    int in_batch;
    sqlite3_stmt *stmt[Q__COUNT];
    struct {
        const char *key;
        sqlite3_stmt *stmt;
    } extra[EXTRA_STMTS];
    int nextra;
};

static struct sqlite_tx *to_tx(struct store_tx *tx)
{
    return (struct sqlite_tx *)tx;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static enum store_result map_error(struct sqlite_tx *t, const char *what)
{
    return store_sqlite_error(t->db, what);
}

static sqlite3_stmt *prepare(struct sqlite_tx *t, const char *sql)
{
    sqlite3_stmt *s = NULL;

    if (sqlite3_prepare_v3(t->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        log_error("sqlite: preparing \"%.60s...\": %s", sql, sqlite3_errmsg(t->db));
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

/* The statement id of this session, prepared on first use. */
static sqlite3_stmt *stmt(struct sqlite_tx *t, enum qid id)
{
    if (t->stmt[id] == NULL)
        t->stmt[id] = prepare(t, qsql[id]);
    return t->stmt[id];
}

static void finish(sqlite3_stmt *q)
{
    store_sqlite_reset(q);
}

/* Run a statement to completion, ignoring rows. */
static enum store_result run(struct sqlite_tx *t, enum qid id, const char *what)
{
    sqlite3_stmt *q = stmt(t, id);

    return q ? store_sqlite_exec(t->db, q, what) : STORE_ERROR;
}

static void bind_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v == NULL)
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

/* -1 (absent) is stored as NULL. */
static void bind_opt(sqlite3_stmt *q, int i, int64_t v)
{
    if (v < 0)
        sqlite3_bind_null(q, i);
    else
        sqlite3_bind_int64(q, i, v);
}

static const char *col_str(sqlite3_stmt *q, int i)
{
    const unsigned char *s = sqlite3_column_text(q, i);

    return s ? (const char *)s : "";
}

static void col_copy(sqlite3_stmt *q, int i, char *out, size_t size)
{
    snprintf(out, size, "%s", col_str(q, i));
}

/* Start an op: inside a batch the transaction is open already; else lock and begin one. */
static enum store_result enter(struct sqlite_tx *t, int write)
{
    enum store_result r;

    if (t->in_batch)
        return STORE_OK;
    pthread_mutex_lock(t->lock);
    r = run(t, write ? Q_BEGIN_WRITE : Q_BEGIN_READ, "begin");
    if (r != STORE_OK)
        pthread_mutex_unlock(t->lock);
    return r;
}

/* End an op started with enter(): outside a batch commit (r is STORE_OK, or STORE_NOT_FOUND
 * which wrote nothing) or roll back, and unlock. Inside a batch a failed op's partial writes
 * are undone by the job's savepoint (the job must report the failure). */
static enum store_result leave(struct sqlite_tx *t, enum store_result r)
{
    if (t->in_batch)
        return r;
    if (r == STORE_OK || r == STORE_NOT_FOUND) {
        enum store_result c = run(t, Q_COMMIT, "commit");
        if (c != STORE_OK)
            r = c; /* busy, full or an error: nothing of the op is kept */
    }
    if (!sqlite3_get_autocommit(t->db))
        run(t, Q_ROLLBACK, "rollback");
    pthread_mutex_unlock(t->lock);
    return r;
}

/* enter() and the op's statement in one step; when the statement cannot be had the session
 * is left again, so the caller only returns. */
static enum store_result enter_with(struct sqlite_tx *t, int write, enum qid id, sqlite3_stmt **q)
{
    enum store_result r = enter(t, write);

    if (r != STORE_OK)
        return r;
    if ((*q = stmt(t, id)) == NULL)
        return leave(t, STORE_ERROR);
    return STORE_OK;
}

static enum store_result bump_rev(struct sqlite_tx *t, int64_t *rev)
{
    sqlite3_stmt *q = stmt(t, Q_BUMP_REV);
    enum store_result r = STORE_OK;

    if (q == NULL)
        return STORE_ERROR;
    if (sqlite3_step(q) == SQLITE_ROW)
        *rev = sqlite3_column_int64(q, 0);
    else
        r = map_error(t, "bump revision");
    finish(q);
    return r;
}

/* ---- sessions and the batch ---- */

#define CHECKPOINT_FRAMES 1000  /* SQLite's own default threshold */
#define WAL_RESTART_FRAMES 4096 /* ~16 MiB of 4 KiB pages: the writer restarts the WAL */
#define RESTART_BUSY_MS 1000    /* how long that restart waits for readers, at most */
#define IDLE_MS 500             /* no commit for this long: the WAL is truncated */

static void checkpoint(sqlite3 *db, const char *sql)
{
    /* the pragma (unlike sqlite3_wal_checkpoint_v2 on a connection that has read nothing
     * yet) first opens the database and so knows it is in WAL mode */
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK && sqlite3_errcode(db) != SQLITE_BUSY)
        log_warn("sqlite: %s: %s", sql, sqlite3_errmsg(db));
}

static void *checkpoint_main(void *arg)
{
    struct checkpointer *ck = arg;
    struct timespec until;

    pthread_mutex_lock(&ck->mu);
    for (;;) {
        uint64_t seen = ck->commits;
        int idle = 0;

        if (!ck->pending && !ck->stop && seen != ck->truncated_at) {
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += IDLE_MS / 1000;
            until.tv_nsec += (long)(IDLE_MS % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            while (!ck->pending && !ck->stop && ck->commits == seen &&
                   pthread_cond_timedwait(&ck->cv, &ck->mu, &until) == 0)
                ;
            idle = !ck->pending && !ck->stop && ck->commits == seen;
        } else {
            while (!ck->pending && !ck->stop && ck->commits == ck->truncated_at)
                pthread_cond_wait(&ck->cv, &ck->mu);
        }
        if (ck->stop)
            break;
        if (!ck->pending && !idle)
            continue;
        while (ck->hold && !ck->stop)
            pthread_cond_wait(&ck->cv, &ck->mu);
        if (ck->stop)
            break;
        if (idle)
            ck->truncated_at = seen;
        ck->pending = 0;
        ck->running = 1;
        pthread_mutex_unlock(&ck->mu);
        checkpoint(ck->db,
                   idle ? "PRAGMA wal_checkpoint(TRUNCATE)" : "PRAGMA wal_checkpoint(PASSIVE)");
        pthread_mutex_lock(&ck->mu);
        ck->running = 0;
        pthread_cond_broadcast(&ck->cv);
    }
    pthread_mutex_unlock(&ck->mu);
    return NULL;
}

/* The writer's connection after each commit: count it, wake the checkpointer when the WAL is
 * long, and have op_batch_commit restart the WAL when it has grown past WAL_RESTART_FRAMES
 * anyway (not here: inside the hook the commit is still running, and a checkpoint that must
 * wait for a lock is refused at once). */
static int on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct checkpointer *ck = arg;

    (void)name;
    pthread_mutex_lock(&ck->mu);
    ck->commits++;
    if (frames >= CHECKPOINT_FRAMES)
        ck->pending = 1;
    ck->restart = frames >= WAL_RESTART_FRAMES;
    pthread_cond_broadcast(&ck->cv);
    pthread_mutex_unlock(&ck->mu);
    return SQLITE_OK;
}

static void checkpointer_stop(struct sqlite_tx *t)
{
    struct checkpointer *ck = t->ck;

    if (ck == NULL)
        return;
    sqlite3_wal_hook(t->db, NULL, NULL);
    sqlite3_wal_autocheckpoint(t->db, CHECKPOINT_FRAMES);
    pthread_mutex_lock(&ck->mu);
    ck->stop = 1;
    pthread_cond_broadcast(&ck->cv);
    pthread_mutex_unlock(&ck->mu);
    pthread_join(ck->tid, NULL);
    checkpoint(ck->db, "PRAGMA wal_checkpoint(TRUNCATE)"); /* the session leaves no WAL */
    sqlite3_close(ck->db);
    pthread_mutex_destroy(&ck->mu);
    pthread_cond_destroy(&ck->cv);
    free(ck);
    t->ck = NULL;
}

/* First batch of a session: move its checkpoints to a thread of their own. Without one
 * (an in-memory database, no memory) SQLite's automatic checkpoint stays in place. */
static void checkpointer_start(struct sqlite_tx *t)
{
    struct checkpointer *ck = calloc(1, sizeof *ck);
    const char *file = sqlite3_db_filename(t->db, "main");

    if (ck == NULL || file == NULL || file[0] == '\0' ||
        sqlite3_open_v2(file, &ck->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        if (ck != NULL)
            sqlite3_close(ck->db);
        free(ck);
        return;
    }
    sqlite3_busy_timeout(ck->db, 1000);
    sqlite3_exec(ck->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    pthread_mutex_init(&ck->mu, NULL);
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&ck->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (pthread_create(&ck->tid, NULL, checkpoint_main, ck) != 0) {
        sqlite3_close(ck->db);
        free(ck);
        return;
    }
    t->ck = ck;
    sqlite3_wal_hook(t->db, on_wal, ck); /* replaces the automatic checkpoint */
}

static struct store_tx *op_tx_open(struct store *st)
{
    struct sqlite_tx *t = calloc(1, sizeof *t);

    if (t == NULL)
        return NULL;
    t->base.st = st;
    t->db = store_sqlite_db(st, &t->lock);
    return &t->base;
}

static void op_tx_close(struct store_tx *tx)
{
    struct sqlite_tx *t = to_tx(tx);

    pthread_mutex_lock(t->lock);
    checkpointer_stop(t);
    for (int i = 0; i < Q__COUNT; i++)
        sqlite3_finalize(t->stmt[i]);
    for (int i = 0; i < t->nextra; i++)
        sqlite3_finalize(t->extra[i].stmt);
    pthread_mutex_unlock(t->lock);
    free(t);
}

static enum store_result op_batch_begin(struct store_tx *tx)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;

    if (!t->ck_tried) {
        t->ck_tried = 1;
        pthread_mutex_lock(t->lock);
        checkpointer_start(t);
        pthread_mutex_unlock(t->lock);
    }
    if ((r = enter(t, 1)) == STORE_OK)
        t->in_batch = 1;
    return r;
}

/* After a commit that left the WAL long: a RESTART checkpoint on the writer's connection
 * (copies what PASSIVE has not, waits up to RESTART_BUSY_MS for readers), so that the next
 * commit starts the WAL file over and cuts it back to journal_size_limit. */
static void restart_wal(struct sqlite_tx *t)
{
    struct checkpointer *ck = t->ck;

    /* a checkpoint in progress elsewhere would refuse this one at once (SQLITE_BUSY, no busy
     * handler): wait for the checkpointer's run to end and keep it from starting another */
    pthread_mutex_lock(&ck->mu);
    ck->restart = 0;
    ck->hold = 1;
    while (ck->running)
        pthread_cond_wait(&ck->cv, &ck->mu);
    pthread_mutex_unlock(&ck->mu);
    pthread_mutex_lock(t->lock);
    sqlite3_busy_timeout(t->db, RESTART_BUSY_MS);
    if (sqlite3_wal_checkpoint_v2(t->db, "main", SQLITE_CHECKPOINT_RESTART, NULL, NULL) !=
            SQLITE_OK &&
        sqlite3_errcode(t->db) != SQLITE_BUSY)
        log_warn("sqlite: restarting the WAL: %s", sqlite3_errmsg(t->db));
    sqlite3_busy_timeout(t->db, STORE_SQLITE_BUSY_MS);
    pthread_mutex_unlock(t->lock);
    pthread_mutex_lock(&ck->mu);
    ck->hold = 0;
    pthread_cond_broadcast(&ck->cv);
    pthread_mutex_unlock(&ck->mu);
}

static enum store_result op_batch_commit(struct store_tx *tx)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;

    t->in_batch = 0;
    r = leave(t, STORE_OK);
    if (t->ck != NULL && t->ck->restart)
        restart_wal(t);
    return r;
}

static void op_batch_rollback(struct store_tx *tx)
{
    struct sqlite_tx *t = to_tx(tx);

    t->in_batch = 0;
    leave(t, STORE_ERROR);
}

static enum store_result op_job_begin(struct store_tx *tx)
{
    return run(to_tx(tx), Q_SAVEPOINT, "savepoint");
}

static enum store_result op_job_end(struct store_tx *tx, int keep)
{
    struct sqlite_tx *t = to_tx(tx);

    if (!keep && run(t, Q_ROLLBACK_TO, "rollback to savepoint") != STORE_OK)
        return STORE_ERROR;
    return run(t, Q_RELEASE, "release savepoint");
}

sqlite3 *store_sqlite_tx_db(struct store_tx *tx)
{
    return to_tx(tx)->db;
}

sqlite3_stmt *store_sqlite_tx_stmt(struct store_tx *tx, const char *sql)
{
    struct sqlite_tx *t = to_tx(tx);
    sqlite3_stmt *s;

    for (int i = 0; i < t->nextra; i++) {
        if (t->extra[i].key == sql)
            return t->extra[i].stmt;
    }
    if (t->nextra == EXTRA_STMTS) {
        log_error("sqlite: more than %d cached statements on one session", EXTRA_STMTS);
        return NULL;
    }
    if ((s = prepare(t, sql)) == NULL)
        return NULL;
    t->extra[t->nextra].key = sql;
    t->extra[t->nextra].stmt = s;
    t->nextra++;
    return s;
}

/* ---- entries and exits ---- */

/* The order (park_id, order_id): STORE_OK with its key columns, or STORE_NOT_FOUND. */
struct order_key {
    int64_t id, in_time, out_time, total_fen, paid_fen;
    int state, color;
    char pay_type[136]; /* 32 characters of UTF-8 (the 3.2 row's max) */
    char car_number[STORE_PLATE_MAX + 1];
};

static enum store_result find_order(struct sqlite_tx *t, const char *park_id, const char *order_id,
                                    struct order_key *k)
{
    sqlite3_stmt *q = stmt(t, Q_ORDER_KEY);
    enum store_result r = STORE_NOT_FOUND;
    int rc;

    if (q == NULL)
        return STORE_ERROR;
    bind_text(q, 1, park_id);
    bind_text(q, 2, order_id);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        k->id = sqlite3_column_int64(q, 0);
        k->state = sqlite3_column_int(q, 1);
        k->in_time = sqlite3_column_int64(q, 2);
        k->out_time = sqlite3_column_int64(q, 3);
        col_copy(q, 4, k->pay_type, sizeof k->pay_type);
        k->total_fen = sqlite3_column_int64(q, 5);
        k->paid_fen = sqlite3_column_int64(q, 6);
        col_copy(q, 7, k->car_number, sizeof k->car_number);
        k->color = sqlite3_column_int(q, 8);
        r = STORE_OK;
    } else if (rc != SQLITE_DONE) {
        r = map_error(t, "order lookup");
    }
    finish(q);
    return r;
}

/* The park's live free-space count, as the last upload reported it. */
static enum store_result set_plots(struct sqlite_tx *t, const char *park_id, int64_t empty_plot,
                                   int64_t now)
{
    sqlite3_stmt *q = stmt(t, Q_PLOTS);

    if (q == NULL)
        return STORE_ERROR;
    if (empty_plot < 0)
        return STORE_OK;
    bind_text(q, 1, park_id);
    sqlite3_bind_int64(q, 2, empty_plot);
    sqlite3_bind_int64(q, 3, now);
    return run(t, Q_PLOTS, "park plots");
}

static enum store_result close_zero(struct sqlite_tx *t, int64_t id, int64_t at, int64_t now)
{
    sqlite3_stmt *q = stmt(t, Q_CLOSE_ZERO);

    if (q == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, at);
    sqlite3_bind_int64(q, 3, now);
    return run(t, Q_CLOSE_ZERO, "close at zero");
}

/* The hot path: one insert that is also the duplicate check, one look at the car's open
 * stays (usually none), the park's free spaces. */
static enum store_result op_entry_put(struct store_tx *tx, const struct store_entry *e,
                                      enum store_entry_outcome *out)
{
    struct sqlite_tx *t = to_tx(tx);
    int64_t now = now_s(), id = 0, newer = 0, stale[8];
    int nstale = 0, rc;
    enum store_result r;
    sqlite3_stmt *q;

    if ((r = enter_with(t, 1, Q_ENTRY_INSERT, &q)) != STORE_OK)
        return r;
    bind_text(q, 1, e->park_id);
    bind_text(q, 2, e->order_id);
    bind_text(q, 3, e->union_id);
    bind_text(q, 4, e->car_number);
    sqlite3_bind_int(q, 5, e->color);
    sqlite3_bind_int64(q, 6, e->in_time);
    bind_opt(q, 7, e->empty_plot);
    bind_text(q, 8, e->remark);
    bind_text(q, 9, e->inpark_img);
    bind_opt(q, 10, e->car_cost_type > 0 ? e->car_cost_type : -1);
    bind_text(q, 11, e->uid);
    bind_text(q, 12, e->uname);
    bind_text(q, 13, e->in_channel_id);
    bind_opt(q, 14, e->is_report);
    sqlite3_bind_int64(q, 15, now);
    if ((rc = sqlite3_step(q)) == SQLITE_ROW)
        id = sqlite3_column_int64(q, 0);
    else if (rc != SQLITE_DONE)
        r = map_error(t, "entry insert");
    finish(q);
    if (r != STORE_OK)
        goto out;
    if (id == 0) { /* (park_id, order_id) exists: nothing was written */
        *out = STORE_ENTRY_DUPLICATE;
        goto out;
    }
    *out = STORE_ENTRY_NEW;

    /* The car's other open stays in this park: those that began before this entry ended
     * when the car came in again; one that began after it makes this entry itself stale
     * (a delayed upload). */
    do {
        if ((q = stmt(t, Q_OPEN_OF_CAR)) == NULL) {
            r = STORE_ERROR;
            goto out;
        }
        bind_text(q, 1, e->park_id);
        bind_text(q, 2, e->car_number);
        sqlite3_bind_int(q, 3, e->color);
        sqlite3_bind_int64(q, 4, id);
        nstale = 0;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            int64_t other = sqlite3_column_int64(q, 1);

            if (other > e->in_time)
                newer = newer == 0 || other < newer ? other : newer;
            else if (nstale < (int)(sizeof stale / sizeof stale[0]))
                stale[nstale++] = sqlite3_column_int64(q, 0);
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
            r = map_error(t, "open stays");
        finish(q);
        for (int i = 0; i < nstale && r == STORE_OK; i++)
            r = close_zero(t, stale[i], e->in_time, now);
    } while (r == STORE_OK && nstale == (int)(sizeof stale / sizeof stale[0]));
    if (r == STORE_OK && newer != 0)
        r = close_zero(t, id, newer, now);
    if (r == STORE_OK)
        r = set_plots(t, e->park_id, e->empty_plot, now);
out:
    return leave(t, r);
}

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

static enum store_result exit_create(struct sqlite_tx *t, const struct store_exit *x, int64_t now,
                                     struct order_key *k)
{
    sqlite3_stmt *q = stmt(t, Q_EXIT_CREATE);
    enum store_result r = STORE_OK;

    if (q == NULL)
        return STORE_ERROR;
    memset(k, 0, sizeof *k);
    bind_text(q, 1, x->park_id);
    bind_text(q, 2, x->order_id);
    bind_text(q, 3, x->union_id);
    bind_text(q, 4, x->car_number);
    sqlite3_bind_int(q, 5, x->color >= 0 ? x->color : 0);
    k->in_time = x->in_time > 0 ? x->in_time : x->out_time;
    sqlite3_bind_int64(q, 6, k->in_time);
    sqlite3_bind_int64(q, 7, now);
    if (sqlite3_step(q) == SQLITE_ROW)
        k->id = sqlite3_column_int64(q, 0);
    else
        r = map_error(t, "exit creates order");
    finish(q);
    k->state = STORE_ORDER_OPEN;
    return r;
}

static enum store_result exit_apply(struct sqlite_tx *t, const struct store_exit *x, int64_t id,
                                    int state, int64_t now)
{
    sqlite3_stmt *q = stmt(t, Q_EXIT_UPDATE);

    if (q == NULL)
        return STORE_ERROR;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int(q, 2, state);
    sqlite3_bind_int64(q, 3, x->out_time);
    bind_text(q, 4, x->pay_type);
    sqlite3_bind_int64(q, 5, x->total_fen);
    /* cash is in the booth's hands now; electronic money is counted when it arrives */
    sqlite3_bind_int64(q, 6, state == STORE_ORDER_SETTLED ? x->total_fen : 0);
    bind_opt(q, 7, x->pay_channel);
    bind_opt(q, 8, x->in_time > 0 ? x->in_time : -1);
    bind_opt(q, 9, x->color);
    bind_opt(q, 10, x->empty_plot);
    bind_text(q, 11, x->auth_code);
    bind_text(q, 12, x->remark);
    bind_text(q, 13, x->outpark_img);
    bind_text(q, 14, x->out_channel_id);
    bind_opt(q, 15, x->reduce_fen);
    bind_opt(q, 16, x->derate_duration);
    bind_text(q, 17, x->freereasons);
    bind_text(q, 18, x->work_station_uuid);
    bind_text(q, 19, x->out_uid);
    bind_text(q, 20, x->out_uname);
    bind_opt(q, 21, x->is_report);
    sqlite3_bind_int64(q, 22, now);
    return run(t, Q_EXIT_UPDATE, "exit update");
}

static enum store_result op_exit_put(struct store_tx *tx, const struct store_exit *x,
                                     enum store_exit_outcome *out, int *created)
{
    struct sqlite_tx *t = to_tx(tx);
    struct order_key k;
    int64_t now = now_s();
    int state;
    enum store_result r = enter(t, 1);

    if (r != STORE_OK)
        return r;
    *created = 0;
    r = find_order(t, x->park_id, x->order_id, &k);
    if (r == STORE_NOT_FOUND) {
        r = exit_create(t, x, now, &k);
        *created = 1;
    }
    if (r != STORE_OK)
        goto out;
    if (k.state == STORE_ORDER_SETTLED || k.state == STORE_ORDER_ESCAPED) {
        /* closed for good: a re-send changes nothing, so money is counted once */
        *out = strcmp(k.pay_type, x->pay_type) == 0 && k.total_fen == x->total_fen &&
                       k.out_time == x->out_time
                   ? STORE_EXIT_REPEATED
                   : STORE_EXIT_CONFLICT;
        goto out;
    }
    if (x->out_time < k.in_time) {
        *out = STORE_EXIT_BEFORE_ENTRY;
        goto out;
    }
    state = exit_state(x);
    *out = state == STORE_ORDER_SETTLED   ? STORE_EXIT_SETTLED
           : state == STORE_ORDER_ESCAPED ? STORE_EXIT_ESCAPED
                                          : STORE_EXIT_PAYING;
    if ((r = exit_apply(t, x, k.id, state, now)) != STORE_OK)
        goto out;
    r = set_plots(t, x->park_id, x->empty_plot, now);
out:
    return leave(t, r);
}

static enum store_result op_order_correct(struct store_tx *tx, const struct store_correction *c,
                                          enum store_correct_outcome *out)
{
    struct sqlite_tx *t = to_tx(tx);
    struct order_key k;
    int64_t now = now_s(), in, outt, total, paid;
    const char *plate;
    int color, times = c->type == 2 || c->type == 3, plates = c->type == 1 || c->type == 3;
    enum store_result r = enter(t, 1);
    sqlite3_stmt *q;

    if (r != STORE_OK)
        return r;
    r = find_order(t, c->park_id, c->order_id, &k);
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
    plate = plates ? c->car_number : k.car_number;
    color = plates && c->color >= 0 ? c->color : k.color;
    in = times && c->in_time > 0 ? c->in_time : k.in_time;
    outt = times && c->out_time > 0 ? c->out_time : k.out_time;
    total = times && c->total_fen >= 0 ? c->total_fen : k.total_fen;
    /* cash is what the booth reports; electronic payments stay as they came in */
    paid = !electronic(k.pay_type) && strcmp(k.pay_type, "escape") != 0 &&
                   k.state == STORE_ORDER_SETTLED
               ? total
               : k.paid_fen;
    if (outt != 0 && outt < in) {
        *out = STORE_CORRECT_TIMES;
        goto out;
    }
    *out = STORE_CORRECT_DONE;
    if ((q = stmt(t, Q_CORRECT_UPDATE)) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    sqlite3_bind_int64(q, 1, k.id);
    bind_text(q, 2, plate);
    sqlite3_bind_int(q, 3, color);
    sqlite3_bind_int64(q, 4, in);
    sqlite3_bind_int64(q, 5, outt);
    sqlite3_bind_int64(q, 6, total);
    sqlite3_bind_int64(q, 7, paid);
    bind_text(q, 8, c->park_business_type);
    bind_text(q, 9, c->leave_business_type);
    sqlite3_bind_int64(q, 10, now);
    if ((r = run(t, Q_CORRECT_UPDATE, "order correct")) != STORE_OK)
        goto out;
    if ((q = stmt(t, Q_CORRECT_AUDIT)) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    bind_text(q, 1, c->park_id);
    bind_text(q, 2, c->order_id);
    bind_text(q, 3, c->union_id);
    sqlite3_bind_int(q, 4, c->type);
    bind_text(q, 5, k.car_number);
    sqlite3_bind_int(q, 6, k.color);
    sqlite3_bind_int64(q, 7, k.in_time);
    sqlite3_bind_int64(q, 8, k.out_time);
    sqlite3_bind_int64(q, 9, k.total_fen);
    bind_text(q, 10, plate);
    sqlite3_bind_int(q, 11, color);
    sqlite3_bind_int64(q, 12, in);
    sqlite3_bind_int64(q, 13, outt);
    sqlite3_bind_int64(q, 14, total);
    bind_text(q, 15, c->park_business_type);
    bind_text(q, 16, c->leave_business_type);
    sqlite3_bind_int64(q, 17, now);
    r = run(t, Q_CORRECT_AUDIT, "correction audit");
out:
    return leave(t, r);
}

/* ---- order reads ---- */

static void read_order(sqlite3_stmt *q, struct store_order *o)
{
    o->park_id = col_str(q, 0);
    o->order_id = col_str(q, 1);
    o->union_id = col_str(q, 2);
    o->car_number = col_str(q, 3);
    o->color = sqlite3_column_int(q, 4);
    o->state = sqlite3_column_int(q, 5);
    o->in_time = sqlite3_column_int64(q, 6);
    o->out_time = sqlite3_column_int64(q, 7);
    o->pay_type = col_str(q, 8);
    o->total_fen = sqlite3_column_int64(q, 9);
    o->paid_fen = sqlite3_column_int64(q, 10);
    o->pay_channel = sqlite3_column_int(q, 11);
    o->trade_no = col_str(q, 12);
    o->inpark_img = col_str(q, 13);
    o->outpark_img = col_str(q, 14);
    o->car_cost_type = sqlite3_column_int(q, 15);
    o->park_business_type = col_str(q, 16);
    o->park_name = col_str(q, 17);
    o->union_name = col_str(q, 18);
}

/* Step q to the end, each row to cb; resets q (and finalizes it when owned). */
static enum store_result each_order(struct sqlite_tx *t, sqlite3_stmt *q, store_order_cb cb,
                                    void *arg, int *rows, const char *what)
{
    enum store_result r = STORE_OK;
    struct store_order o;
    int rc;

    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        read_order(q, &o);
        if (rows)
            (*rows)++;
        if (cb(arg, &o) != 0) {
            r = STORE_ABORTED;
            break;
        }
    }
    if (r == STORE_OK && rc != SQLITE_DONE)
        r = map_error(t, what);
    finish(q);
    return r;
}

/* Run read statement id with its text parameters (one or two; k2 may be NULL) in a read
 * session and hand every order row to cb; *rows (if not NULL) counts them. */
static enum store_result orders_where(struct store_tx *tx, enum qid id, const char *k1,
                                      const char *k2, store_order_cb cb, void *arg, int *rows,
                                      const char *what)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;
    sqlite3_stmt *q;

    if ((r = enter_with(t, 0, id, &q)) != STORE_OK)
        return r;
    bind_text(q, 1, k1);
    if (k2 != NULL)
        bind_text(q, 2, k2);
    r = each_order(t, q, cb, arg, rows, what);
    return leave(t, r);
}

static enum store_result op_order_get(struct store_tx *tx, const char *park_id,
                                      const char *order_id, store_order_cb cb, void *arg)
{
    int rows = 0;
    enum store_result r =
        orders_where(tx, Q_ORDER_GET, park_id, order_id, cb, arg, &rows, "order get");

    return r == STORE_OK && rows == 0 ? STORE_NOT_FOUND : r;
}

static enum store_result op_escapes(struct store_tx *tx, const char *car_number, store_order_cb cb,
                                    void *arg)
{
    return orders_where(tx, Q_ESCAPES, car_number, NULL, cb, arg, NULL, "escapes");
}

static enum store_result op_open_count(struct store_tx *tx, const char *park_id, int64_t *n)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;
    sqlite3_stmt *q;

    if ((r = enter_with(t, 0, Q_OPEN_COUNT, &q)) != STORE_OK)
        return r;
    bind_text(q, 1, park_id);
    if (sqlite3_step(q) == SQLITE_ROW)
        *n = sqlite3_column_int64(q, 0);
    else
        r = map_error(t, "open count");
    finish(q);
    return leave(t, r);
}

static enum store_result op_open_list(struct store_tx *tx, const char *park_id, store_order_cb cb,
                                      void *arg)
{
    return orders_where(tx, Q_OPEN_LIST, park_id, NULL, cb, arg, NULL, "open list");
}

/* 4.1: the WHERE clause depends on the filters given, so the statements are built per call
 * (values are always bound). */
static enum store_result op_query(struct store_tx *tx, const struct store_order_query *f,
                                  store_order_cb cb, void *arg, int64_t *total)
{
    struct sqlite_tx *t = to_tx(tx);
    char where[512], sql[1536];
    const char *binds[4];
    int nb = 0, n;
    sqlite3_stmt *q = NULL;
    enum store_result r = enter(t, 0);

    if (r != STORE_OK)
        return r;
    n = snprintf(where, sizeof where,
                 "WHERE o.park_id IN (SELECT park_id FROM parks WHERE union_id = ?1)");
    binds[nb++] = f->union_id;
    if (f->park_id) {
        n += snprintf(where + n, sizeof where - (size_t)n, " AND o.park_id = ?%d", nb + 1);
        binds[nb++] = f->park_id;
    }
    if (f->order_id) {
        n += snprintf(where + n, sizeof where - (size_t)n, " AND o.order_id = ?%d", nb + 1);
        binds[nb++] = f->order_id;
    }
    if (f->car_number) {
        n += snprintf(where + n, sizeof where - (size_t)n, " AND o.car_number = ?%d", nb + 1);
        binds[nb++] = f->car_number;
    }
    if (f->until > 0)
        snprintf(where + n, sizeof where - (size_t)n, " AND o.in_time BETWEEN ?10 AND ?11");

    for (int pass = 0; pass < 2 && r == STORE_OK; pass++) {
        if (pass == 0)
            snprintf(sql, sizeof sql, "SELECT count(*) FROM orders o %s", where);
        else
            snprintf(sql, sizeof sql,
                     ORDER_SELECT "%s ORDER BY o.in_time, o.id LIMIT ?12 "
                                  "OFFSET ?13",
                     where);
        if (sqlite3_prepare_v2(t->db, sql, -1, &q, NULL) != SQLITE_OK) {
            r = map_error(t, "order query");
            break;
        }
        for (int i = 0; i < nb; i++)
            bind_text(q, i + 1, binds[i]);
        if (f->until > 0) {
            sqlite3_bind_int64(q, 10, f->from);
            sqlite3_bind_int64(q, 11, f->until);
        }
        if (pass == 0) {
            if (sqlite3_step(q) == SQLITE_ROW)
                *total = sqlite3_column_int64(q, 0);
            else
                r = map_error(t, "order count");
        } else {
            sqlite3_bind_int64(q, 12, f->limit > 0 ? f->limit : -1);
            sqlite3_bind_int64(q, 13, f->offset);
            r = each_order(t, q, cb, arg, NULL, "order query");
        }
        sqlite3_finalize(q);
        q = NULL;
    }
    return leave(t, r);
}

/* ---- parks ---- */

struct park_state {
    int exists, details, vendor_disabled;
    int64_t total_plot;
    char owner[STORE_UNION_ID_MAX + 1];
    char last_rand[64];
};

static enum store_result park_state(struct sqlite_tx *t, const char *park_id, struct park_state *ps)
{
    sqlite3_stmt *q = stmt(t, Q_PARK_OWNER);
    enum store_result r = STORE_OK;
    int rc;

    memset(ps, 0, sizeof *ps);
    if (q == NULL)
        return STORE_ERROR;
    bind_text(q, 1, park_id);
    if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        ps->exists = 1;
        col_copy(q, 0, ps->owner, sizeof ps->owner);
        ps->total_plot = sqlite3_column_int64(q, 1);
    } else if (rc != SQLITE_DONE) {
        r = map_error(t, "park owner");
    }
    finish(q);
    if (r != STORE_OK || !ps->exists)
        return r;
    if ((q = stmt(t, Q_DETAIL_STATE)) == NULL)
        return STORE_ERROR;
    bind_text(q, 1, park_id);
    if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        ps->details = 1;
        col_copy(q, 0, ps->last_rand, sizeof ps->last_rand);
        ps->vendor_disabled = sqlite3_column_int(q, 1);
    } else if (rc != SQLITE_DONE) {
        r = map_error(t, "park details");
    }
    finish(q);
    return r;
}

static enum store_result op_park_publish(struct store_tx *tx, const struct store_park_publish *p,
                                         enum store_park_outcome *out, int64_t *account)
{
    struct sqlite_tx *t = to_tx(tx);
    struct park_state ps;
    int64_t now = now_s(), rev = 0;
    enum store_result r = enter(t, 1);
    sqlite3_stmt *q;

    if (r != STORE_OK)
        return r;
    if ((r = park_state(t, p->park_id, &ps)) != STORE_OK)
        goto out;
    if (ps.exists && strcmp(ps.owner, p->union_id) != 0) {
        *out = STORE_PARK_FOREIGN;
        goto out;
    }
    if (ps.exists && ps.last_rand[0] && strcmp(ps.last_rand, p->rand) == 0) {
        *out = STORE_PARK_REPLAY;
        goto out;
    }
    if (p->empty_plot > p->total_plot) {
        *out = STORE_PARK_PLOTS;
        goto out;
    }
    if ((r = bump_rev(t, &rev)) != STORE_OK)
        goto out;
    *out = ps.exists ? STORE_PARK_UPDATED : STORE_PARK_CREATED;
    q = stmt(t, ps.exists ? Q_PARK_REPUBLISH : Q_PARK_INSERT);
    if (q == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    bind_text(q, 1, p->park_id);
    if (ps.exists) {
        bind_text(q, 2, p->name);
        sqlite3_bind_int64(q, 3, p->total_plot);
        sqlite3_bind_int64(q, 4, p->empty_plot);
        sqlite3_bind_int(q, 5, ps.vendor_disabled); /* re-publishing undoes the vendor's 2.2 */
        sqlite3_bind_int64(q, 6, now);
        sqlite3_bind_int64(q, 7, rev);
        r = run(t, Q_PARK_REPUBLISH, "park republish");
    } else {
        bind_text(q, 2, p->union_id);
        bind_text(q, 3, p->name);
        sqlite3_bind_int64(q, 4, p->total_plot);
        sqlite3_bind_int64(q, 5, p->empty_plot);
        sqlite3_bind_int64(q, 6, now);
        sqlite3_bind_int64(q, 7, rev);
        r = run(t, Q_PARK_INSERT, "park insert");
    }
    if (r != STORE_OK)
        goto out;
    if ((q = stmt(t, Q_DETAIL_PUBLISH)) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    bind_text(q, 1, p->park_id);
    bind_text(q, 2, p->address);
    sqlite3_bind_int64(q, 3, p->city_id);
    bind_text(q, 4, p->phone);
    bind_text(q, 5, p->mobile ? p->mobile : p->phone); /* security phone defaults to phone */
    bind_text(q, 6, p->lng);
    bind_text(q, 7, p->lat);
    bind_opt(q, 8, p->server_id);
    bind_text(q, 9, p->price_desc);
    bind_text(q, 10, p->remark);
    bind_opt(q, 11, p->docking_type);
    bind_text(q, 12, p->rand);
    sqlite3_bind_int64(q, 13, p->empty_plot);
    sqlite3_bind_int64(q, 14, now);
    if (sqlite3_step(q) == SQLITE_ROW)
        *account = ACCOUNT_BASE + sqlite3_column_int64(q, 0);
    else
        r = map_error(t, "park details publish");
    finish(q);
out:
    return leave(t, r);
}

static enum store_result op_park_update(struct store_tx *tx, const struct store_park_update *u,
                                        enum store_park_outcome *out)
{
    struct sqlite_tx *t = to_tx(tx);
    struct park_state ps;
    int64_t now = now_s(), rev = 0, total;
    enum store_result r = enter(t, 1);
    sqlite3_stmt *q;

    if (r != STORE_OK)
        return r;
    if ((r = park_state(t, u->park_id, &ps)) != STORE_OK)
        goto out;
    if (!ps.exists) {
        *out = STORE_PARK_UNKNOWN;
        goto out;
    }
    if (strcmp(ps.owner, u->union_id) != 0) {
        *out = STORE_PARK_FOREIGN;
        goto out;
    }
    if (ps.last_rand[0] && strcmp(ps.last_rand, u->rand) == 0) {
        *out = STORE_PARK_REPLAY;
        goto out;
    }
    total = u->total_plot >= 0 ? u->total_plot : ps.total_plot;
    if (u->type == 1 && u->empty_plot > total) {
        *out = STORE_PARK_PLOTS;
        goto out;
    }
    *out = STORE_PARK_UPDATED;
    if ((r = bump_rev(t, &rev)) != STORE_OK)
        goto out;
    if (u->type == 2) {
        if ((q = stmt(t, Q_PARK_DISABLE)) == NULL) {
            r = STORE_ERROR;
            goto out;
        }
        bind_text(q, 1, u->park_id);
        sqlite3_bind_int64(q, 2, now);
        sqlite3_bind_int64(q, 3, rev);
        r = run(t, Q_PARK_DISABLE, "park disable");
    } else {
        if ((q = stmt(t, Q_PARK_PLOTS)) == NULL) {
            r = STORE_ERROR;
            goto out;
        }
        bind_text(q, 1, u->park_id);
        sqlite3_bind_int64(q, 2, total);
        sqlite3_bind_int64(q, 3, u->empty_plot);
        sqlite3_bind_int64(q, 4, now);
        sqlite3_bind_int64(q, 5, rev);
        r = run(t, Q_PARK_PLOTS, "park plots");
    }
    if (r != STORE_OK)
        goto out;
    if ((q = stmt(t, Q_DETAIL_UPDATE)) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    bind_text(q, 1, u->park_id);
    bind_text(q, 2, u->rand);
    bind_opt(q, 3, u->type == 1 ? u->empty_plot : -1);
    sqlite3_bind_int64(q, 4, now);
    bind_text(q, 5, u->type == 1 ? u->price_desc : NULL);
    bind_text(q, 6, u->phone);
    bind_text(q, 7, u->mobile);
    sqlite3_bind_int(q, 8, u->type == 2);
    r = run(t, Q_DETAIL_UPDATE, "park details update");
out:
    return leave(t, r);
}

static enum store_result op_park_sms(struct store_tx *tx, const char *park_id, int is_verify)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;
    sqlite3_stmt *q;

    if ((r = enter_with(t, 1, Q_DETAIL_SMS, &q)) != STORE_OK)
        return r;
    bind_text(q, 1, park_id);
    sqlite3_bind_int(q, 2, is_verify);
    sqlite3_bind_int64(q, 3, now_s());
    r = run(t, Q_DETAIL_SMS, "park sms");
    if (r == STORE_FOREIGN_KEY)
        r = STORE_NOT_FOUND;
    return leave(t, r);
}

/* ---- QR codes ---- */

static enum store_result op_qr_issue(struct store_tx *tx, const struct store_qr_request *rq,
                                     struct store_qr *out)
{
    struct sqlite_tx *t = to_tx(tx);
    int64_t now = now_s();
    enum store_result r = enter(t, 1);
    sqlite3_stmt *q;
    int rc;

    if (r != STORE_OK)
        return r;
    memset(out, 0, sizeof *out);
    snprintf(out->park_id, sizeof out->park_id, "%s", rq->park_id);
    snprintf(out->channel_id, sizeof out->channel_id, "%s", rq->channel_id);
    out->type = rq->type;
    out->active = 1;
    if (!rq->create) {
        if ((q = stmt(t, Q_QR_ACTIVE)) == NULL) {
            r = STORE_ERROR;
            goto out;
        }
        bind_text(q, 1, rq->park_id);
        sqlite3_bind_int(q, 2, rq->type);
        bind_text(q, 3, rq->channel_id);
        if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            out->id = sqlite3_column_int64(q, 0);
            out->created = sqlite3_column_int64(q, 1);
        } else if (rc != SQLITE_DONE) {
            r = map_error(t, "qr lookup");
        }
        finish(q);
        if (r != STORE_OK || out->id != 0)
            goto out;
    } else if (rq->change) {
        if ((q = stmt(t, Q_QR_RETIRE)) == NULL) {
            r = STORE_ERROR;
            goto out;
        }
        bind_text(q, 1, rq->park_id);
        sqlite3_bind_int(q, 2, rq->type);
        bind_text(q, 3, rq->channel_id);
        sqlite3_bind_int64(q, 4, now);
        if ((r = run(t, Q_QR_RETIRE, "qr retire")) != STORE_OK)
            goto out;
    }
    if ((q = stmt(t, Q_QR_INSERT)) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    bind_text(q, 1, rq->park_id);
    sqlite3_bind_int(q, 2, rq->type);
    bind_text(q, 3, rq->channel_id);
    bind_text(q, 4, rq->message_uuid);
    bind_text(q, 5, rq->data_target);
    bind_text(q, 6, rq->device_no);
    sqlite3_bind_int64(q, 7, now);
    if (sqlite3_step(q) == SQLITE_ROW) {
        out->id = sqlite3_column_int64(q, 0);
        out->created = now;
    } else {
        r = map_error(t, "qr insert");
    }
    finish(q);
    if (r == STORE_FOREIGN_KEY)
        r = STORE_NOT_FOUND;
out:
    return leave(t, r);
}

static enum store_result op_qr_get(struct store_tx *tx, int64_t id, struct store_qr *out)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;
    sqlite3_stmt *q;
    int rc;

    if ((r = enter_with(t, 0, Q_QR_GET, &q)) != STORE_OK)
        return r;
    sqlite3_bind_int64(q, 1, id);
    if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        out->id = sqlite3_column_int64(q, 0);
        col_copy(q, 1, out->park_id, sizeof out->park_id);
        out->type = sqlite3_column_int(q, 2);
        col_copy(q, 3, out->channel_id, sizeof out->channel_id);
        out->active = sqlite3_column_int(q, 4);
        out->created = sqlite3_column_int64(q, 5);
    } else if (rc == SQLITE_DONE) {
        r = STORE_NOT_FOUND;
    } else {
        r = map_error(t, "qr get");
    }
    finish(q);
    return leave(t, r);
}

/* ---- screen texts ---- */

static enum store_result op_screen_get(struct store_tx *tx, const char *park_id,
                                       struct store_screen *out)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r = enter(t, 0);
    sqlite3_stmt *q;
    int rc;

    if (r != STORE_OK)
        return r;
    memset(out, 0, sizeof *out);
    snprintf(out->park_id, sizeof out->park_id, "%s", park_id);
    if ((q = stmt(t, Q_SCREEN_GET)) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    bind_text(q, 1, park_id);
    if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        for (int i = 0; i < 3; i++)
            col_copy(q, i, out->text[i], sizeof out->text[i]);
        out->updated = sqlite3_column_int64(q, 3);
    } else if (rc != SQLITE_DONE) {
        r = map_error(t, "screen get");
    }
    finish(q);
out:
    return leave(t, r);
}

static enum store_result op_screen_put(struct store_tx *tx, struct store_screen *s)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;
    sqlite3_stmt *q;

    if ((r = enter_with(t, 1, Q_SCREEN_PUT, &q)) != STORE_OK)
        return r;
    s->updated = now_s();
    bind_text(q, 1, s->park_id);
    for (int i = 0; i < 3; i++)
        bind_text(q, i + 2, s->text[i]);
    sqlite3_bind_int64(q, 5, s->updated);
    r = run(t, Q_SCREEN_PUT, "screen put");
    return leave(t, r);
}

static enum store_result op_screen_delete(struct store_tx *tx, const char *park_id)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;
    sqlite3_stmt *q;

    if ((r = enter_with(t, 1, Q_SCREEN_DELETE, &q)) != STORE_OK)
        return r;
    bind_text(q, 1, park_id);
    r = run(t, Q_SCREEN_DELETE, "screen delete");
    if (r == STORE_OK && sqlite3_changes(t->db) == 0)
        r = STORE_NOT_FOUND;
    return leave(t, r);
}

/* ---- monthly cards ---- */

static void read_card(sqlite3_stmt *q, struct store_card *c)
{
    c->id = sqlite3_column_int64(q, 0);
    col_copy(q, 1, c->park_id, sizeof c->park_id);
    col_copy(q, 2, c->plate, sizeof c->plate);
    c->color = sqlite3_column_int(q, 3);
    c->type = sqlite3_column_int(q, 4);
    col_copy(q, 5, c->valid_from, sizeof c->valid_from);
    col_copy(q, 6, c->valid_until, sizeof c->valid_until);
    col_copy(q, 7, c->region_id, sizeof c->region_id);
    col_copy(q, 8, c->rule_id_sub, sizeof c->rule_id_sub);
    col_copy(q, 9, c->company_id, sizeof c->company_id);
    col_copy(q, 10, c->company_name, sizeof c->company_name);
    c->created = sqlite3_column_int64(q, 11);
    c->updated = sqlite3_column_int64(q, 12);
}

static void bind_card(sqlite3_stmt *q, int first, const struct store_card *c)
{
    bind_text(q, first, c->park_id);
    bind_text(q, first + 1, c->plate);
    sqlite3_bind_int(q, first + 2, c->color);
    sqlite3_bind_int(q, first + 3, c->type);
    bind_text(q, first + 4, c->valid_from);
    bind_text(q, first + 5, c->valid_until);
    bind_text(q, first + 6, c->region_id);
    bind_text(q, first + 7, c->rule_id_sub);
    bind_text(q, first + 8, c->company_id);
    bind_text(q, first + 9, c->company_name);
}

static enum store_result op_card_add(struct store_tx *tx, struct store_card *c)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;
    sqlite3_stmt *q;

    if ((r = enter_with(t, 1, Q_CARD_INSERT, &q)) != STORE_OK)
        return r;
    bind_card(q, 1, c);
    c->created = c->updated = now_s();
    sqlite3_bind_int64(q, 11, c->created);
    r = run(t, Q_CARD_INSERT, "card insert");
    if (r == STORE_OK)
        c->id = sqlite3_last_insert_rowid(t->db);
    return leave(t, r);
}

static enum store_result op_card_update(struct store_tx *tx, struct store_card *c)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;
    sqlite3_stmt *q;

    if ((r = enter_with(t, 1, Q_CARD_UPDATE, &q)) != STORE_OK)
        return r;
    sqlite3_bind_int64(q, 1, c->id);
    bind_card(q, 2, c);
    c->updated = now_s();
    sqlite3_bind_int64(q, 12, c->updated);
    r = run(t, Q_CARD_UPDATE, "card update");
    if (r == STORE_OK && sqlite3_changes(t->db) == 0)
        r = STORE_NOT_FOUND;
    return leave(t, r);
}

static enum store_result op_card_get(struct store_tx *tx, int64_t id, struct store_card *out)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;
    sqlite3_stmt *q;
    int rc;

    if ((r = enter_with(t, 0, Q_CARD_GET, &q)) != STORE_OK)
        return r;
    sqlite3_bind_int64(q, 1, id);
    if ((rc = sqlite3_step(q)) == SQLITE_ROW)
        read_card(q, out);
    else if (rc == SQLITE_DONE)
        r = STORE_NOT_FOUND;
    else
        r = map_error(t, "card get");
    finish(q);
    return leave(t, r);
}

static enum store_result op_card_delete(struct store_tx *tx, int64_t id)
{
    struct sqlite_tx *t = to_tx(tx);
    enum store_result r;
    sqlite3_stmt *q;

    if ((r = enter_with(t, 1, Q_CARD_DELETE, &q)) != STORE_OK)
        return r;
    sqlite3_bind_int64(q, 1, id);
    r = run(t, Q_CARD_DELETE, "card delete");
    if (r == STORE_OK && sqlite3_changes(t->db) == 0)
        r = STORE_NOT_FOUND;
    return leave(t, r);
}

static enum store_result op_card_list(struct store_tx *tx, const struct store_card_query *f,
                                      store_card_cb cb, void *arg, int64_t *total)
{
    struct sqlite_tx *t = to_tx(tx);
    char where[256], sql[640];
    sqlite3_stmt *q = NULL;
    struct store_card c;
    int n = 0, rc;
    enum store_result r = enter(t, 0);

    if (r != STORE_OK)
        return r;
    n = snprintf(where, sizeof where, "WHERE 1");
    if (f->park_id)
        n += snprintf(where + n, sizeof where - (size_t)n, " AND park_id = ?1");
    if (f->plate)
        n += snprintf(where + n, sizeof where - (size_t)n, " AND plate = ?2");
    if (f->type > 0)
        snprintf(where + n, sizeof where - (size_t)n, " AND type = ?3");
    for (int pass = 0; pass < 2 && r == STORE_OK; pass++) {
        if (pass == 0 && total == NULL)
            continue;
        if (pass == 0)
            snprintf(sql, sizeof sql, "SELECT count(*) FROM monthly_cards %s", where);
        else
            snprintf(sql, sizeof sql,
                     "SELECT " CARD_COLS " FROM monthly_cards %s AND id > ?4 ORDER BY id "
                     "LIMIT ?5 OFFSET ?6",
                     where);
        if (sqlite3_prepare_v2(t->db, sql, -1, &q, NULL) != SQLITE_OK) {
            r = map_error(t, "card list");
            break;
        }
        bind_text(q, 1, f->park_id);
        bind_text(q, 2, f->plate);
        sqlite3_bind_int(q, 3, f->type);
        if (pass == 0) {
            if (sqlite3_step(q) == SQLITE_ROW)
                *total = sqlite3_column_int64(q, 0);
            else
                r = map_error(t, "card count");
        } else {
            sqlite3_bind_int64(q, 4, f->after_id);
            sqlite3_bind_int64(q, 5, f->limit > 0 ? f->limit : -1);
            sqlite3_bind_int64(q, 6, f->offset);
            while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                read_card(q, &c);
                if (cb(arg, &c) != 0) {
                    r = STORE_ABORTED;
                    break;
                }
            }
            if (r == STORE_OK && rc != SQLITE_DONE)
                r = map_error(t, "card list");
        }
        sqlite3_finalize(q);
        q = NULL;
    }
    return leave(t, r);
}

const struct store_order_ops store_sqlite_order_ops = {
    .tx_open = op_tx_open,
    .tx_close = op_tx_close,
    .batch_begin = op_batch_begin,
    .batch_commit = op_batch_commit,
    .batch_rollback = op_batch_rollback,
    .job_begin = op_job_begin,
    .job_end = op_job_end,
    .entry_put = op_entry_put,
    .exit_put = op_exit_put,
    .order_correct = op_order_correct,
    .order_get = op_order_get,
    .escapes = op_escapes,
    .open_count = op_open_count,
    .open_list = op_open_list,
    .query = op_query,
    .park_publish = op_park_publish,
    .park_update = op_park_update,
    .park_sms = op_park_sms,
    .qr_issue = op_qr_issue,
    .qr_get = op_qr_get,
    .screen_get = op_screen_get,
    .screen_put = op_screen_put,
    .screen_delete = op_screen_delete,
    .card_add = op_card_add,
    .card_update = op_card_update,
    .card_get = op_card_get,
    .card_delete = op_card_delete,
    .card_list = op_card_list,
};
