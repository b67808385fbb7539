/* test_store_errors.c - how SQLite's failures become store results (store/sqlite_engine.c).
 *
 * The mapping itself, code by code (store_sqlite_result); then each outcome produced for real
 * on a SQLite file: unique, primary-key, foreign-key and other constraints, a database that
 * cannot grow (max_page_count: SQLITE_FULL), one locked by another connection (SQLITE_BUSY);
 * and through the store API: a write refused busy or full keeps nothing, and the same write
 * succeeds once the lock is gone or there is room again. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>

#include "store/sqlite_engine.h"
#include "store/store.h"

struct fx {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    snprintf(f->dir, sizeof f->dir, "/tmp/plk-storeerr-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/s.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void test_mapping_table(void **state)
{
    (void)state;
    assert_int_equal(store_sqlite_result(SQLITE_CONSTRAINT_UNIQUE, 0), STORE_CONFLICT);
    assert_int_equal(store_sqlite_result(SQLITE_CONSTRAINT_PRIMARYKEY, 0), STORE_CONFLICT);
    assert_int_equal(store_sqlite_result(SQLITE_CONSTRAINT_FOREIGNKEY, 0), STORE_FOREIGN_KEY);
    /* other constraints are the server's own bugs, not the caller's conflicts */
    assert_int_equal(store_sqlite_result(SQLITE_CONSTRAINT_NOTNULL, 0), STORE_ERROR);
    assert_int_equal(store_sqlite_result(SQLITE_CONSTRAINT_CHECK, 0), STORE_ERROR);
    assert_int_equal(store_sqlite_result(SQLITE_CONSTRAINT, 0), STORE_ERROR);
    assert_int_equal(store_sqlite_result(SQLITE_BUSY, 0), STORE_BUSY);
    assert_int_equal(store_sqlite_result(SQLITE_BUSY_SNAPSHOT, 0), STORE_BUSY);
    assert_int_equal(store_sqlite_result(SQLITE_LOCKED, 0), STORE_BUSY);
    assert_int_equal(store_sqlite_result(SQLITE_FULL, 0), STORE_FULL);
    assert_int_equal(store_sqlite_result(SQLITE_IOERR_WRITE, ENOSPC), STORE_FULL);
    assert_int_equal(store_sqlite_result(SQLITE_IOERR_WRITE, EFBIG), STORE_FULL);
    assert_int_equal(store_sqlite_result(SQLITE_IOERR_FSYNC, EDQUOT), STORE_FULL);
    assert_int_equal(store_sqlite_result(SQLITE_IOERR_WRITE, EIO), STORE_ERROR);
    assert_int_equal(store_sqlite_result(SQLITE_IOERR_WRITE, 0), STORE_ERROR);
    assert_int_equal(store_sqlite_result(SQLITE_CORRUPT, 0), STORE_ERROR);
    assert_int_equal(store_sqlite_result(SQLITE_READONLY, 0), STORE_ERROR);
    assert_int_equal(store_sqlite_result(SQLITE_ERROR, ENOSPC), STORE_ERROR);

    /* each has a text of its own for logs and the admin API */
    assert_string_equal(store_strerror(STORE_BUSY), "the database is locked by another process");
    assert_string_equal(store_strerror(STORE_FULL), "the disk is full");
    assert_string_not_equal(store_strerror(STORE_ERROR), store_strerror(STORE_FULL));
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON", NULL, NULL, NULL),
        SQLITE_OK);
    return db;
}

/* The store result of db's last failure, as the engine maps it. */
static enum store_result mapped(sqlite3 *db)
{
    return store_sqlite_result(sqlite3_extended_errcode(db), sqlite3_system_errno(db));
}

/* The store result of running sql on db, which must fail. */
static enum store_result fails_as(sqlite3 *db, const char *sql)
{
    assert_int_not_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    return mapped(db);
}

static void test_constraints(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = open_db(f->path);

    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE p (id TEXT PRIMARY KEY);"
                                  "CREATE TABLE c (id INTEGER PRIMARY KEY, p TEXT REFERENCES p(id),"
                                  " u TEXT UNIQUE, n TEXT NOT NULL, k INTEGER CHECK (k >= 0));"
                                  "INSERT INTO p VALUES ('P1');"
                                  "INSERT INTO c VALUES (1, 'P1', 'u1', 'n', 0);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(fails_as(db, "INSERT INTO p VALUES ('P1')"), STORE_CONFLICT);
    assert_int_equal(fails_as(db, "INSERT INTO c VALUES (1, 'P1', 'u2', 'n', 0)"), STORE_CONFLICT);
    assert_int_equal(fails_as(db, "INSERT INTO c VALUES (2, 'P1', 'u1', 'n', 0)"), STORE_CONFLICT);
    assert_int_equal(fails_as(db, "INSERT INTO c VALUES (2, 'P9', 'u2', 'n', 0)"),
                     STORE_FOREIGN_KEY);
    assert_int_equal(fails_as(db, "INSERT INTO c VALUES (2, 'P1', 'u2', NULL, 0)"), STORE_ERROR);
    assert_int_equal(fails_as(db, "INSERT INTO c VALUES (2, 'P1', 'u2', 'n', -1)"), STORE_ERROR);
    sqlite3_close(db);
}

static void test_full_and_busy_on_sqlite(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = open_db(f->path), *other = open_db(f->path);
    enum store_result r = STORE_OK;

    /* a database that may not grow */
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE b (x BLOB); PRAGMA max_page_count=20", NULL, NULL, NULL),
        SQLITE_OK);
    for (int i = 0; i < 100 && r == STORE_OK; i++) {
        if (sqlite3_exec(db, "INSERT INTO b VALUES (zeroblob(4000))", NULL, NULL, NULL) !=
            SQLITE_OK)
            r = mapped(db);
    }
    assert_int_equal(r, STORE_FULL);

    /* a database another connection holds */
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 0);
    assert_int_equal(fails_as(db, "BEGIN IMMEDIATE"), STORE_BUSY);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE; ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    sqlite3_close(db);
}

static int count_vendors(const char *path)
{
    sqlite3 *db = open_db(path);
    sqlite3_stmt *q = NULL;
    int n;

    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM vendors", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

static void put_vendor(struct store_session *st, int i, enum store_result want)
{
    struct store_vendor v;

    memset(&v, 0, sizeof v);
    snprintf(v.union_id, sizeof v.union_id, "%d", 300000 + i);
    snprintf(v.ukey, sizeof v.ukey, "K%015d", i);
    memset(v.name, 'n', 200);
    assert_int_equal(store_vendor_put(st, &v, STORE_INSERT, NULL), want);
}

/* Through the store API: busy while another process holds the write lock (after the
 * session's busy timeout), full when its connection may not grow; nothing of a refused
 * write is kept, and the session works again afterwards. */
static void test_store_answers_busy_and_full(void **state)
{
    struct fx *f = *state;
    char err[256];
    struct store *sto = store_open(f->path, err, sizeof err);
    struct store_session *st;
    sqlite3 *db, *other;
    enum store_result r = STORE_OK;
    int stored = 0;

    assert_non_null(sto);
    assert_non_null(st = store_session_open(sto, err, sizeof err));
    put_vendor(st, 0, STORE_OK);

    other = open_db(f->path);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    put_vendor(st, 1, STORE_BUSY);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(count_vendors(f->path), 1);
    put_vendor(st, 1, STORE_OK);

    /* test-only: the session's own connection may not grow past its size now */
    db = store_sqlite_session_db(st);
    assert_non_null(db);
    assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA max_page_count=1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    for (int i = 2; i < 400 && r == STORE_OK; i++) {
        struct store_vendor v;

        memset(&v, 0, sizeof v);
        snprintf(v.union_id, sizeof v.union_id, "%d", 300000 + i);
        snprintf(v.ukey, sizeof v.ukey, "K%015d", i);
        memset(v.name, 'n', 200);
        if ((r = store_vendor_put(st, &v, STORE_INSERT, NULL)) == STORE_OK)
            stored++;
    }
    assert_int_equal(r, STORE_FULL);
    assert_int_equal(count_vendors(f->path), 2 + stored); /* the refused one is not there */

    assert_int_equal(sqlite3_exec(db, "PRAGMA max_page_count=1073741823", NULL, NULL, NULL),
                     SQLITE_OK);
    put_vendor(st, 1000, STORE_OK);
    assert_int_equal(count_vendors(f->path), 3 + stored);
    store_session_close(st);
    store_close(sto);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping_table),
        cmocka_unit_test_setup_teardown(test_constraints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_and_busy_on_sqlite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_answers_busy_and_full, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
