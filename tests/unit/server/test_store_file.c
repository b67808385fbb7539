/* test_store_file.c - the SQLite database as a file: who may read it, how durable it is, how
 * large its WAL grows, and the one-server lock (issue 11 holes 6-8, issue 17 mutation 4).
 *
 * Each test gets a fresh temporary directory. Writes go through a session the way the writer
 * batches them (a write transaction, a savepoint per job; the engine's checkpointer behind
 * every commit), one 1 MiB blob per batch, so the WAL grows quickly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/sql.h"
#include "store/sqlite_engine.h"
#include "store/store.h"

#define MiB (1024 * 1024)

struct fx {
    char dir[64];
    char path[128];
    struct store *st;
    struct store_session *s;
};

static void rm_file(struct fx *f, const char *suffix)
{
    char p[160];

    snprintf(p, sizeof p, "%s%s", f->path, suffix);
    unlink(p);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/plk-file-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    store_session_close(f->s);
    store_close(f->st);
    rm_file(f, "");
    rm_file(f, "-wal");
    rm_file(f, "-shm");
    rm_file(f, ".lock");
    rmdir(f->dir);
    free(f);
    return 0;
}

static void open_store(struct fx *f)
{
    char err[256];

    if ((f->st = store_open(f->path, err, sizeof err)) == NULL)
        fail_msg("store_open: %s", err);
    if ((f->s = store_session_open(f->st, err, sizeof err)) == NULL)
        fail_msg("store_session_open: %s", err);
}

/* Size of the file path+suffix; -1 if it does not exist. */
static long long file_size(struct fx *f, const char *suffix)
{
    char p[160];
    struct stat sb;

    snprintf(p, sizeof p, "%s%s", f->path, suffix);
    return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

static unsigned file_mode(struct fx *f, const char *suffix)
{
    char p[160];
    struct stat sb;

    snprintf(p, sizeof p, "%s%s", f->path, suffix);
    if (stat(p, &sb) != 0)
        fail_msg("%s does not exist", p);
    return (unsigned)(sb.st_mode & 0777);
}

/* One batch of the writer's kind that stores a 1 MiB blob. */
static void write_batch(struct store_session *s)
{
    assert_int_equal(store_begin(s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(store_savepoint(s), STORE_OK);
    assert_int_equal(
        sql_exec(sql_prepare(s, "INSERT INTO filler (b) VALUES (zeroblob(1048576))"), "filler"),
        STORE_OK);
    assert_int_equal(store_savepoint_end(s, 1), STORE_OK);
    assert_int_equal(store_commit(s), STORE_OK);
}

static void create_filler(struct fx *f)
{
    assert_int_equal(sql_exec(sql_prepare(f->s, "CREATE TABLE filler (b BLOB)"), "filler"),
                     STORE_OK);
}

/* The database and the -wal/-shm SQLite makes beside it are 0600 whatever the umask. */
static void test_created_private(void **state)
{
    struct fx *f = *state;
    mode_t old = umask(022);

    open_store(f);
    umask(old);
    assert_int_equal(store_setting_put(f->s, "k", "v"), STORE_OK);
    assert_int_equal(file_mode(f, ""), 0600);
    assert_int_equal(file_mode(f, "-wal"), 0600);
    assert_int_equal(file_mode(f, "-shm"), 0600);
}

static int64_t pragma_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    int64_t v = -1;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

/* What a committed write needs to survive power loss: WAL, synchronous=FULL (2), on every
 * connection the store opens (the writer's session runs on one of them). */
static void test_durable_settings(void **state)
{
    struct fx *f = *state;
    sqlite3 *db;
    sqlite3_stmt *q = NULL;

    open_store(f);
    assert_non_null(db = store_sqlite_session_db(f->s));
    assert_int_equal(pragma_int(db, "PRAGMA synchronous"), 2);
    assert_int_equal(pragma_int(db, "PRAGMA journal_size_limit"), 16 * MiB);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
}

/* Sustained writes: the WAL stays near its restart point (16 MiB) instead of growing with
 * the data; 48 MiB are written. */
static void test_wal_bounded_under_load(void **state)
{
    struct fx *f = *state;
    long long most = 0;

    open_store(f);
    create_filler(f);
    for (int i = 0; i < 48; i++) {
        write_batch(f->s);
        if (file_size(f, "-wal") > most)
            most = file_size(f, "-wal");
    }
    if (most > 24LL * MiB)
        fail_msg("the WAL reached %lld bytes", most);
}

/* After a burst, once the writer is idle, the WAL is truncated; closing the session leaves
 * no WAL either (the old code kept its largest size for as long as the store was open). */
static void test_wal_truncated_when_idle(void **state)
{
    struct fx *f = *state;
    long long wal = -1;

    open_store(f);
    create_filler(f);
    for (int i = 0; i < 8; i++)
        write_batch(f->s);
    assert_true(file_size(f, "-wal") > 4LL * MiB); /* the burst did go through the WAL */
    for (int i = 0; i < 200 && (wal = file_size(f, "-wal")) > 0; i++)
        usleep(50 * 1000); /* idle: truncated after 0.5 s; waits 10 s at most */
    assert_int_equal(wal, 0);
    for (int i = 0; i < 8; i++)
        write_batch(f->s);
    store_session_close(f->s); /* a session that wrote leaves no WAL */
    f->s = NULL;
    assert_int_equal(file_size(f, "-wal"), 0);
}

/* One server per database: a second lock on the same file is refused, naming the file and
 * the holder's pid; the refusal does not touch the database. */
static void test_lock(void **state)
{
    struct fx *f = *state;
    char err[512], want[64], uri[160];
    int fd, again;
    struct stat before, after;

    open_store(f);
    assert_int_equal(store_setting_put(f->s, "k", "v"), STORE_OK);
    store_session_close(f->s);
    store_close(f->st);
    f->s = NULL;
    f->st = NULL;
    assert_int_equal(stat(f->path, &before), 0);
    assert_true((fd = store_lock(f->path, err, sizeof err)) >= 0);
    assert_int_equal(file_mode(f, ".lock"), 0600);
    snprintf(uri, sizeof uri, "sqlite:%s", f->path);
    again = store_lock(uri, err, sizeof err);
    assert_int_equal(again, -1);
    snprintf(want, sizeof want, "pid %ld", (long)getpid());
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "t.db.lock"));
    assert_int_equal(stat(f->path, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    close(fd);
    assert_true((fd = store_lock(f->path, err, sizeof err)) >= 0); /* released with the fd */
    close(fd);
    assert_int_equal(store_lock(":memory:", err, sizeof err), -2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_created_private, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_bounded_under_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_truncated_when_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
