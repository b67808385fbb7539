/* sqlite_engine.c - the SQLite engine of the store (engine.h): the embedded one-node default.
 *
 * One file, many connections: the database handle opens the file (created 0600), puts it in
 * WAL mode, reads the durability settings back and migrates it; every session then opens a
 * connection of its own (busy timeout, synchronous=FULL, foreign keys on), so readers run
 * beside the one writer. Writes take the file's write lock at BEGIN IMMEDIATE. The WAL is
 * checkpointed off the commit path by one thread per database, on the handle's connection
 * (see "checkpoints" below and docs/server.md, "The WAL"). ":memory:" is one in-memory
 * database shared by the handle's sessions (SQLite's memdb VFS). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store/engine.h"
#include "store/migrations.h"
#include "store/sqlite_engine.h"

/* The WAL file is cut back to this size whenever it starts over (docs/server.md, "The WAL") */
#define WAL_SIZE_LIMIT 16777216 /* 16 MiB */
#define CHECKPOINT_FRAMES 1000  /* SQLite's own default threshold: wake the checkpointer */
#define WAL_RESTART_FRAMES 4096 /* ~16 MiB of 4 KiB pages: the committer restarts the WAL */
#define RESTART_BUSY_MS 1000    /* how long that restart waits for readers, at most */
#define IDLE_MS 500             /* no commit for this long: the WAL is truncated */
#define CHECKPOINT_BUSY_MS 1000 /* the checkpointer's own connection */
#define SP_CACHED 8             /* savepoint depths whose statements a session keeps */

#define STR_(x) #x
#define STR(x) STR_(x)

struct checkpointer;

struct sqlite_db {
    struct store base;
    char *path;  /* what sessions open: the file, or the memdb URI */
    int memory;  /* ":memory:": the memdb VFS, no WAL, no checkpointer */
    sqlite3 *db; /* open, migrate; then the checkpointer's (and keeps a memdb alive) */
    struct checkpointer *ck;
};

enum verb_sql { V_BEGIN_READ, V_BEGIN_WRITE, V_COMMIT, V_ROLLBACK, V__COUNT };

static const char *const verb_text[V__COUNT] = {
    [V_BEGIN_READ] = "BEGIN",
    [V_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [V_COMMIT] = "COMMIT",
    [V_ROLLBACK] = "ROLLBACK",
};

struct sqlite_session {
    struct store_session base;
    sqlite3 *db;
    struct checkpointer *ck; /* the database's; NULL in memory */
    int restart;             /* the last commit left WAL_RESTART_FRAMES or more (on_wal) */
    int wrote;               /* a write transaction committed on this connection */
    int writing;             /* the open transaction began with BEGIN IMMEDIATE */
    int last_rc;             /* of the last failed verb */
    sqlite3_stmt *verb[V__COUNT];
    sqlite3_stmt *sp[3][SP_CACHED]; /* SAVEPOINT, RELEASE, ROLLBACK TO by depth */
};

struct sqlite_stmt {
    struct sql_stmt base;
    sqlite3_stmt *q;
    int rc; /* of the last failed step */
};

static struct sqlite_db *to_db(struct store *st)
{
    return (struct sqlite_db *)st;
}

static struct sqlite_session *to_ses(struct store_session *s)
{
    return (struct sqlite_session *)s;
}

static struct sqlite_stmt *to_q(struct sql_stmt *q)
{
    return (struct sqlite_stmt *)q;
}

/* ---- errors ---- */

enum store_result store_sqlite_result(int extended_rc, int sys_errno)
{
    switch (extended_rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
        return STORE_CONFLICT;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return STORE_FOREIGN_KEY;
    default:
        break;
    }
    switch (extended_rc & 0xff) {
    case SQLITE_BUSY: /* with the busy timeout spent */
    case SQLITE_LOCKED:
        return STORE_BUSY;
    case SQLITE_FULL: /* ENOSPC on a write, or max_page_count */
        return STORE_FULL;
    case SQLITE_IOERR: /* a write the file system refused for want of room */
        if (sys_errno == ENOSPC || sys_errno == EFBIG || sys_errno == EDQUOT)
            return STORE_FULL;
        return STORE_ERROR;
    default:
        return STORE_ERROR;
    }
}

/* Map rc (a failed call on db) and log it unless it is an expected outcome. */
static enum store_result map_rc(sqlite3 *db, int rc, const char *what)
{
    int sys = sqlite3_system_errno(db);
    enum store_result r = store_sqlite_result(rc, sys);

    if (r != STORE_CONFLICT && r != STORE_FOREIGN_KEY)
        log_error("sqlite: %s: %s (%s; sqlite code %d, errno %d)", what, sqlite3_errmsg(db),
                  store_strerror(r), rc, sys);
    return r;
}

static enum store_result e_error(struct store_session *s, struct sql_stmt *q, const char *what)
{
    struct sqlite_session *es = to_ses(s);

    return map_rc(es->db, q != NULL ? to_q(q)->rc : es->last_rc, what);
}

/* ---- checkpoints ----
 * SQLite's automatic checkpoint would copy ~1000 pages into the database file (and fsync it)
 * inside a commit, stalling every request of the writer's next batch. A WAL hook on every
 * session's connection wakes this thread instead, which checkpoints (PASSIVE: never blocks a
 * writer) on the database handle's connection. A PASSIVE checkpoint never lets the WAL start
 * over while writers keep appending, so the WAL is kept bounded two ways: once a commit leaves
 * WAL_RESTART_FRAMES the committing session itself runs a RESTART checkpoint right after its
 * COMMIT (copies what PASSIVE has not, waits for readers, and the next commit starts the file
 * over, cut back to journal_size_limit); and once no commit came for IDLE_MS, or a session
 * that wrote closes, or the database closes, the WAL is truncated to zero bytes. */
struct checkpointer {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending, stop;
    uint64_t commits; /* commits seen by the hooks; truncated_at: the count at the last truncate */
    uint64_t truncated_at;
    int running, hold; /* a checkpoint runs here; sessions restarting the WAL keep it waiting */
    sqlite3 *db;
};

static void checkpoint(sqlite3 *db, const char *sql)
{
    /* the pragma (unlike sqlite3_wal_checkpoint_v2 on a connection that has read nothing
     * yet) first opens the database and so knows it is in WAL mode */
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK && sqlite3_errcode(db) != SQLITE_BUSY)
        log_warn("sqlite: %s: %s", sql, sqlite3_errmsg(db));
}

static void deadline_in(struct timespec *until, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, until);
    until->tv_sec += ms / 1000;
    until->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until->tv_nsec >= 1000000000L) {
        until->tv_sec++;
        until->tv_nsec -= 1000000000L;
    }
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
            deadline_in(&until, IDLE_MS);
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
        while (ck->hold > 0 && !ck->stop)
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

/* A session's connection after each of its commits: count it, wake the checkpointer when the
 * WAL is long, and have the session restart the WAL after its COMMIT when the WAL has grown
 * past WAL_RESTART_FRAMES anyway (not here: inside the hook the commit is still running, and a
 * checkpoint that must wait for a lock is refused at once). */
static int on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct sqlite_session *es = arg;
    struct checkpointer *ck = es->ck;

    (void)db;
    (void)name;
    pthread_mutex_lock(&ck->mu);
    ck->commits++;
    if (frames >= CHECKPOINT_FRAMES)
        ck->pending = 1;
    pthread_cond_broadcast(&ck->cv);
    pthread_mutex_unlock(&ck->mu);
    es->restart = frames >= WAL_RESTART_FRAMES;
    return SQLITE_OK;
}

/* The database's checkpointer on its connection db (busy timeout set); NULL (SQLite's own
 * automatic checkpoint stays in place) without memory or a thread. */
static struct checkpointer *checkpointer_start(sqlite3 *db)
{
    struct checkpointer *ck = calloc(1, sizeof *ck);
    pthread_condattr_t ca;

    if (ck == NULL)
        return NULL;
    ck->db = db;
    pthread_mutex_init(&ck->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ck->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&ck->tid, NULL, checkpoint_main, ck) != 0) {
        pthread_mutex_destroy(&ck->mu);
        pthread_cond_destroy(&ck->cv);
        free(ck);
        return NULL;
    }
    return ck;
}

/* Stop the thread and leave no WAL behind (every session is closed by now). */
static void checkpointer_stop(struct checkpointer *ck)
{
    if (ck == NULL)
        return;
    pthread_mutex_lock(&ck->mu);
    ck->stop = 1;
    pthread_cond_broadcast(&ck->cv);
    pthread_mutex_unlock(&ck->mu);
    pthread_join(ck->tid, NULL);
    checkpoint(ck->db, "PRAGMA wal_checkpoint(TRUNCATE)");
    pthread_mutex_destroy(&ck->mu);
    pthread_cond_destroy(&ck->cv);
    free(ck);
}

/* A checkpoint on the session's own connection (waiting up to RESTART_BUSY_MS for readers):
 * RESTART after a commit that left the WAL long, so that the next commit starts the WAL file
 * over and cuts it back to journal_size_limit; TRUNCATE when a session that wrote closes. */
static void checkpoint_here(struct sqlite_session *es, int mode)
{
    struct checkpointer *ck = es->ck;

    es->restart = 0;
    /* a checkpoint in progress elsewhere would refuse this one at once (SQLITE_BUSY, no busy
     * handler): wait for the checkpointer's run to end and keep it from starting another */
    pthread_mutex_lock(&ck->mu);
    ck->hold++;
    while (ck->running)
        pthread_cond_wait(&ck->cv, &ck->mu);
    pthread_mutex_unlock(&ck->mu);
    sqlite3_busy_timeout(es->db, RESTART_BUSY_MS);
    if (sqlite3_wal_checkpoint_v2(es->db, "main", mode, NULL, NULL) != SQLITE_OK &&
        sqlite3_errcode(es->db) != SQLITE_BUSY)
        log_warn("sqlite: %s the WAL: %s",
                 mode == SQLITE_CHECKPOINT_RESTART ? "restarting" : "truncating",
                 sqlite3_errmsg(es->db));
    sqlite3_busy_timeout(es->db, STORE_SQLITE_BUSY_MS);
    pthread_mutex_lock(&ck->mu);
    ck->hold--;
    pthread_cond_broadcast(&ck->cv);
    pthread_mutex_unlock(&ck->mu);
}

/* ---- connections ---- */

/* Run one SQL text (possibly several statements); 0 ok, -1 with err set. */
static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen, const char *what)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* The text of a one-row, one-column PRAGMA into out ("" if it answers nothing). */
static void pragma_text(sqlite3 *db, const char *sql, char *out, size_t size)
{
    sqlite3_stmt *q = NULL;
    const unsigned char *t;

    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW &&
        (t = sqlite3_column_text(q, 0)) != NULL)
        snprintf(out, size, "%s", (const char *)t);
    sqlite3_finalize(q);
}

/* Read back what the open asked for: synchronous=FULL (2) and, for a file, journal_mode=WAL.
 * A committed write survives power loss only with both; anything else refuses the open. */
static int check_durable(sqlite3 *db, const char *path, int memory, char *err, size_t errlen)
{
    char sync[16], mode[16];

    pragma_text(db, "PRAGMA synchronous", sync, sizeof sync);
    pragma_text(db, "PRAGMA journal_mode", mode, sizeof mode);
    if (strcmp(sync, "2") != 0 || (!memory && strcmp(mode, "wal") != 0)) {
        snprintf(err, errlen,
                 "%s: not durable (synchronous=%s, journal_mode=%s; parklinkd needs 2 (FULL) "
                 "and wal)",
                 path, sync, mode);
        return -1;
    }
    return 0;
}

/* Open a connection on d's database and give it the settings every connection has: extended
 * result codes, the busy timeout, WAL (set by the first, kept by the file), synchronous=FULL,
 * foreign keys, the WAL size limit; then read them back. NULL with err set. */
static sqlite3 *connect_db(struct sqlite_db *d, int create, char *err, size_t errlen)
{
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) |
                (d->memory ? SQLITE_OPEN_URI : 0);
    sqlite3 *db = NULL;
    char mode[16];

    if (sqlite3_open_v2(d->path, &db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open SQLite database %s: %s", d->path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, STORE_SQLITE_BUSY_MS);
    if (!d->memory) {
        /* journal_mode answers the mode it ended up in: anything but wal means readers would
         * block on the writer */
        pragma_text(db, "PRAGMA journal_mode = WAL", mode, sizeof mode);
        if (strcmp(mode, "wal") != 0) {
            snprintf(err, errlen, "%s: cannot use WAL mode (journal_mode is %s: %s)", d->path,
                     mode[0] ? mode : "?", sqlite3_errmsg(db));
            sqlite3_close(db);
            return NULL;
        }
    }
    if (exec_sql(db,
                 "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                 "PRAGMA journal_size_limit = " STR(WAL_SIZE_LIMIT),
                 err, errlen, d->path) != 0 ||
        check_durable(db, d->path, d->memory, err, errlen) != 0) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Bring the schema to store_sqlite_migration_count, one transaction per migration. */
static int migrate(sqlite3 *db, char *err, size_t errlen)
{
    char version_s[32], sql[64], what[64];
    int64_t version;

    pragma_text(db, "PRAGMA user_version", version_s, sizeof version_s);
    if (version_s[0] == '\0') {
        snprintf(err, errlen, "reading schema version: %s", sqlite3_errmsg(db));
        return -1;
    }
    version = strtoll(version_s, NULL, 10);
    if (version > (int64_t)store_sqlite_migration_count) {
        snprintf(err, errlen,
                 "database schema version %" PRId64 " is newer than this parklinkd "
                 "understands (%zu); upgrade parklinkd",
                 version, store_sqlite_migration_count);
        return -1;
    }
    for (size_t i = (size_t)version; i < store_sqlite_migration_count; i++) {
        snprintf(what, sizeof(what), "schema migration %zu", i + 1);
        if (exec_sql(db, "BEGIN IMMEDIATE", err, errlen, what) != 0)
            return -1;
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
        if (exec_sql(db, store_sqlite_migrations[i], err, errlen, what) != 0 ||
            exec_sql(db, sql, err, errlen, what) != 0 ||
            exec_sql(db, "COMMIT", err, errlen, what) != 0) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return 0;
}

/* A database that does not exist yet is created here, empty and 0600 (it will hold every
 * vendor's ukey): SQLite gives its -wal and -shm files the mode of the database file, so they
 * are 0600 too. An existing file keeps its mode; one that others may read is logged. */
static int create_private(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    int fd;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        return close(fd) == 0 ? 0 : -1;
    if (errno != EEXIST) {
        snprintf(err, errlen, "cannot open SQLite database %s: %s", path, strerror(errno));
        return -1;
    }
    if (stat(path, &sb) == 0 && (sb.st_mode & 077) != 0)
        log_warn("sqlite: %s is readable by others (mode %03o) and holds the vendors' keys: "
                 "chmod 600 it (and its -wal, -shm)",
                 path, (unsigned)(sb.st_mode & 0777));
    return 0;
}

static void e_close(struct store *st)
{
    struct sqlite_db *d = to_db(st);

    checkpointer_stop(d->ck);
    sqlite3_close(d->db);
    free(d->path);
    free(d);
}

static struct store *e_open(const char *path, char *err, size_t errlen)
{
    static atomic_uint memories;
    struct sqlite_db *d = calloc(1, sizeof *d);
    char uri[96];

    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->base.engine = &store_sqlite_engine;
    d->memory = strcmp(path, ":memory:") == 0;
    if (d->memory) {
        snprintf(uri, sizeof uri, "file:/parklink-%ld-%u?vfs=memdb", (long)getpid(),
                 atomic_fetch_add(&memories, 1));
        path = uri;
    } else if (create_private(path, err, errlen) != 0) {
        free(d);
        return NULL;
    }
    if ((d->path = strdup(path)) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(d);
        return NULL;
    }
    if ((d->db = connect_db(d, 1, err, errlen)) == NULL || migrate(d->db, err, errlen) != 0) {
        e_close(&d->base);
        return NULL;
    }
    if (!d->memory) {
        sqlite3_busy_timeout(d->db, CHECKPOINT_BUSY_MS);
        d->ck = checkpointer_start(d->db);
    }
    return &d->base;
}

static struct store_session *e_session_open(struct store *st, char *err, size_t errlen)
{
    struct sqlite_db *d = to_db(st);
    struct sqlite_session *es = calloc(1, sizeof *es);

    if (es == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if ((es->db = connect_db(d, 0, err, errlen)) == NULL) {
        free(es);
        return NULL;
    }
    es->ck = d->ck;
    if (es->ck != NULL)
        sqlite3_wal_hook(es->db, on_wal, es); /* replaces the automatic checkpoint */
    return &es->base;
}

static void e_session_close(struct store_session *s)
{
    struct sqlite_session *es = to_ses(s);

    if (es->wrote && es->ck != NULL)
        checkpoint_here(es, SQLITE_CHECKPOINT_TRUNCATE); /* a writer leaves no WAL behind */
    for (int v = 0; v < V__COUNT; v++)
        sqlite3_finalize(es->verb[v]);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < SP_CACHED; i++)
            sqlite3_finalize(es->sp[k][i]);
    sqlite3_close(es->db);
    free(es);
}

sqlite3 *store_sqlite_session_db(struct store_session *s)
{
    if (s == NULL || s->st->engine != &store_sqlite_engine)
        return NULL;
    return to_ses(s)->db;
}

/* ---- transactions ---- */

/* Run a transaction statement, prepared once in *slot (from sql, copied by SQLite). */
static enum store_result run_verb(struct sqlite_session *es, sqlite3_stmt **slot, const char *sql,
                                  const char *what)
{
    sqlite3_stmt *q = slot != NULL ? *slot : NULL;
    int rc;

    if (q == NULL) {
        rc = sqlite3_prepare_v3(es->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL);
        if (rc != SQLITE_OK) {
            es->last_rc = rc;
            return map_rc(es->db, rc, what);
        }
        if (slot != NULL)
            *slot = q;
    }
    rc = sqlite3_step(q);
    if (slot != NULL)
        sqlite3_reset(q);
    else
        sqlite3_finalize(q);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return STORE_OK;
    es->last_rc = rc;
    return map_rc(es->db, rc, what);
}

static enum store_result run_savepoint(struct sqlite_session *es, int kind, int depth)
{
    static const char *const verb[3] = {"SAVEPOINT", "RELEASE", "ROLLBACK TO"};
    static const char *const what[3] = {"savepoint", "release savepoint", "rollback to savepoint"};
    char sql[32];

    snprintf(sql, sizeof sql, "%s sp%d", verb[kind], depth);
    return run_verb(es, depth >= 0 && depth < SP_CACHED ? &es->sp[kind][depth] : NULL, sql,
                    what[kind]);
}

static enum store_result e_tx(struct store_session *s, enum store_engine_verb v, int arg)
{
    struct sqlite_session *es = to_ses(s);
    enum store_result r;

    switch (v) {
    case ENGINE_BEGIN_READ:
        es->writing = 0;
        return run_verb(es, &es->verb[V_BEGIN_READ], verb_text[V_BEGIN_READ], "begin");
    case ENGINE_BEGIN_WRITE:
        es->writing = 1;
        return run_verb(es, &es->verb[V_BEGIN_WRITE], verb_text[V_BEGIN_WRITE], "begin");
    case ENGINE_COMMIT:
        es->restart = 0;
        r = run_verb(es, &es->verb[V_COMMIT], verb_text[V_COMMIT], "commit");
        if (r == STORE_OK && es->writing)
            es->wrote = 1;
        /* the housekeeping: after the commit, so the commit itself never waits for it */
        if (r == STORE_OK && es->restart && es->ck != NULL)
            checkpoint_here(es, SQLITE_CHECKPOINT_RESTART);
        return r;
    case ENGINE_ROLLBACK:
        if (sqlite3_get_autocommit(es->db))
            return STORE_OK; /* SQLite already rolled it back (or nothing was open) */
        return run_verb(es, &es->verb[V_ROLLBACK], verb_text[V_ROLLBACK], "rollback");
    case ENGINE_SAVEPOINT:
        return run_savepoint(es, 0, arg);
    case ENGINE_RELEASE:
        return run_savepoint(es, 1, arg);
    case ENGINE_ROLLBACK_TO:
        r = run_savepoint(es, 2, arg);
        return r == STORE_OK ? run_savepoint(es, 1, arg) : r;
    }
    return STORE_ERROR;
}

/* ---- statements ---- */

static struct sql_stmt *e_prepare(struct store_session *s, const char *sql)
{
    struct sqlite_session *es = to_ses(s);
    struct sqlite_stmt *q = calloc(1, sizeof *q);

    if (q == NULL) {
        log_error("sqlite: out of memory preparing a statement");
        return NULL;
    }
    if (sqlite3_prepare_v3(es->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q->q, NULL) != SQLITE_OK) {
        log_error("sqlite: preparing \"%.80s\": %s", sql, sqlite3_errmsg(es->db));
        sqlite3_finalize(q->q);
        free(q);
        return NULL;
    }
    return &q->base;
}

static void e_finalize(struct sql_stmt *q)
{
    sqlite3_finalize(to_q(q)->q);
    free(q);
}

static void e_bind_int(struct sql_stmt *q, int i, int64_t v)
{
    sqlite3_bind_int64(to_q(q)->q, i, v);
}

static void e_bind_text(struct sql_stmt *q, int i, const char *v, size_t len)
{
    if (v == NULL)
        sqlite3_bind_null(to_q(q)->q, i);
    else
        sqlite3_bind_text64(to_q(q)->q, i, v, len, SQLITE_TRANSIENT, SQLITE_UTF8);
}

static int e_step(struct sql_stmt *q)
{
    int rc = sqlite3_step(to_q(q)->q);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    to_q(q)->rc = rc;
    return -1;
}

static int64_t e_col_int(struct sql_stmt *q, int i)
{
    return sqlite3_column_int64(to_q(q)->q, i);
}

static const char *e_col_text(struct sql_stmt *q, int i, size_t *len)
{
    const unsigned char *t = sqlite3_column_text(to_q(q)->q, i);

    *len = t != NULL ? (size_t)sqlite3_column_bytes(to_q(q)->q, i) : 0;
    return (const char *)t;
}

static int64_t e_changes(struct sql_stmt *q)
{
    return sqlite3_changes64(to_ses(q->s)->db);
}

static void e_reset(struct sql_stmt *q)
{
    sqlite3_reset(to_q(q)->q);
    sqlite3_clear_bindings(to_q(q)->q);
}

const struct store_engine store_sqlite_engine = {
    .name = "sqlite",
    .dialect = SQL_SQLITE,
    .open = e_open,
    .close = e_close,
    .session_open = e_session_open,
    .session_close = e_session_close,
    .tx = e_tx,
    .prepare = e_prepare,
    .finalize = e_finalize,
    .bind_int = e_bind_int,
    .bind_text = e_bind_text,
    .step = e_step,
    .col_int = e_col_int,
    .col_text = e_col_text,
    .changes = e_changes,
    .reset = e_reset,
    .error = e_error,
};
