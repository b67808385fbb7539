/* test_store_core.c - the store core (core.c) on either engine, below any domain file.
 *
 * A fresh database from store_fixture (SQLite file or PostgreSQL database: PLK_TEST_ENGINE),
 * sessions on it, and the transaction verbs seen from a second session (what one commits the
 * other reads; a rolled-back savepoint is gone, the rest of the transaction kept), ?n
 * binding, the one NULL rule, the statement cache, and the per-connection settings every
 * session gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/sql.h"
#include "store/sqlite_engine.h"
#include "store/store.h"
#include "store_fixture.h"

struct fx {
    struct store_fixture fx;
    struct store *st;
    struct store_session *a, *b;
};

static const char SQL_CREATE[] = "CREATE TABLE IF NOT EXISTS t_core (k INTEGER PRIMARY KEY, "
                                 "v TEXT)";
static const char SQL_INSERT[] = "INSERT INTO t_core (k, v) VALUES (?1, ?2)";
static const char SQL_GET[] = "SELECT v FROM t_core WHERE k = ?1";
static const char SQL_COUNT[] = "SELECT count(*) FROM t_core";
static const char SQL_SAME[] = "SELECT ?1 + ?1, ?2";

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    store_fixture_init(&f->fx, NULL);
    f->st = store_fixture_open(&f->fx);
    f->a = store_fixture_session(f->st);
    f->b = store_fixture_session(f->st);
    assert_int_equal(sql_exec(sql_prepare(f->a, SQL_CREATE), "create"), STORE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    store_session_close(f->a);
    store_session_close(f->b);
    store_close(f->st);
    store_fixture_fini(&f->fx);
    free(f);
    return 0;
}

static enum store_result put(struct store_session *s, int64_t k, const char *v)
{
    struct sql_stmt *q = sql_prepare(s, SQL_INSERT);

    assert_non_null(q);
    sql_bind_int(q, 1, k);
    sql_bind_text(q, 2, v);
    return sql_exec(q, "insert");
}

static void read_int(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

static int64_t count(struct store_session *s)
{
    int64_t n = -1;

    assert_int_equal(sql_one(sql_prepare(s, SQL_COUNT), "count", read_int, &n), STORE_OK);
    return n;
}

struct text_row {
    char v[16];
    int is_null;
    size_t len;
};

static void read_text(struct sql_stmt *q, void *out)
{
    struct text_row *t = out;

    sql_col_copy(q, 0, t->v, sizeof t->v);
    t->is_null = sql_col_is_null(q, 0);
    t->len = sql_col_len(q, 0);
    assert_string_equal(sql_col_text(q, 0), t->v);
}

static enum store_result get(struct store_session *s, int64_t k, struct text_row *t)
{
    struct sql_stmt *q = sql_prepare(s, SQL_GET);

    memset(t, 0, sizeof *t);
    sql_bind_int(q, 1, k);
    return sql_one(q, "get", read_text, t);
}

static void read_show(struct sql_stmt *q, void *out)
{
    sql_col_copy(q, 0, out, 32);
}

/* One text value of a SHOW (PostgreSQL). */
static void show(struct store_session *s, const char *sql, char out[32])
{
    assert_int_equal(sql_one(sql_prepare(s, sql), "show", read_show, out), STORE_OK);
}

/* PostgreSQL: durable commits, and each transaction mode at its isolation level. */
static void pg_settings(struct fx *f)
{
    char v[32];

    assert_int_equal(sql_dialect(f->a), SQL_POSTGRESQL);
    show(f->a, "SHOW synchronous_commit", v);
    assert_string_not_equal(v, "off");
    show(f->a, "SHOW fsync", v);
    assert_string_equal(v, "on");
    assert_int_equal(store_begin(f->a, STORE_TX_WRITE), STORE_OK);
    show(f->a, "SHOW transaction_isolation", v);
    assert_string_equal(v, "read committed");
    show(f->a, "SHOW transaction_read_only", v);
    assert_string_equal(v, "off");
    store_rollback(f->a);
    assert_int_equal(store_begin(f->a, STORE_TX_READ), STORE_OK);
    show(f->a, "SHOW transaction_isolation", v);
    assert_string_equal(v, "repeatable read");
    show(f->a, "SHOW transaction_read_only", v);
    assert_string_equal(v, "on");
    assert_int_equal(store_commit(f->a), STORE_OK);
}

static void test_engine_and_settings(void **state)
{
    struct fx *f = *state;
    sqlite3 *db;
    sqlite3_stmt *q;

    assert_ptr_equal(store_session_store(f->a), f->st);
    assert_string_equal(store_engine_name(f->st), store_fixture_engine());
    if (f->fx.pg) {
        pg_settings(f);
        return;
    }
    db = store_sqlite_session_db(f->b);
    assert_int_equal(sql_dialect(f->a), SQL_SQLITE);
    assert_non_null(db);
    assert_ptr_not_equal(db, store_sqlite_session_db(f->a)); /* a connection each */
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA foreign_keys", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 1);
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA synchronous", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 2);
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
}

static void test_commit_is_seen_by_other_session(void **state)
{
    struct fx *f = *state;
    struct text_row t;

    assert_int_equal(store_begin(f->a, STORE_TX_WRITE), STORE_OK);
    assert_true(store_in_tx(f->a));
    assert_int_equal(store_begin(f->a, STORE_TX_WRITE), STORE_ERROR); /* not nested */
    assert_true(store_in_tx(f->a));
    assert_int_equal(put(f->a, 1, "one"), STORE_OK);
    assert_int_equal(get(f->b, 1, &t), STORE_NOT_FOUND); /* not committed yet */
    assert_int_equal(store_commit(f->a), STORE_OK);
    assert_false(store_in_tx(f->a));
    assert_int_equal(get(f->b, 1, &t), STORE_OK);
    assert_string_equal(t.v, "one");

    assert_int_equal(store_begin(f->a, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(put(f->a, 2, "two"), STORE_OK);
    store_rollback(f->a);
    assert_false(store_in_tx(f->a));
    store_rollback(f->a); /* harmless */
    assert_int_equal(get(f->b, 2, &t), STORE_NOT_FOUND);
    assert_int_equal(store_commit(f->a), STORE_ERROR); /* nothing open */
}

static void test_savepoints(void **state)
{
    struct fx *f = *state;
    struct text_row t;

    assert_int_equal(store_savepoint(f->a), STORE_ERROR); /* outside a transaction */
    assert_int_equal(store_savepoint_end(f->a, 1), STORE_ERROR);
    assert_int_equal(store_begin(f->a, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(put(f->a, 1, "kept"), STORE_OK);
    assert_int_equal(store_savepoint(f->a), STORE_OK);
    assert_int_equal(put(f->a, 2, "undone"), STORE_OK);
    assert_int_equal(store_savepoint(f->a), STORE_OK); /* nested */
    assert_int_equal(put(f->a, 3, "inner"), STORE_OK);
    assert_int_equal(store_savepoint_end(f->a, 1), STORE_OK);
    assert_int_equal(count(f->a), 3);
    assert_int_equal(store_savepoint_end(f->a, 0), STORE_OK); /* undoes 2 and 3 */
    assert_int_equal(count(f->a), 1);
    /* a failed statement inside a savepoint: undone, the transaction goes on */
    assert_int_equal(store_savepoint(f->a), STORE_OK);
    assert_int_equal(put(f->a, 4, "four"), STORE_OK);
    assert_int_equal(put(f->a, 1, "dup"), STORE_CONFLICT);
    assert_int_equal(store_savepoint_end(f->a, 0), STORE_OK);
    assert_int_equal(store_savepoint(f->a), STORE_OK);
    assert_int_equal(put(f->a, 5, "five"), STORE_OK);
    assert_int_equal(store_savepoint_end(f->a, 1), STORE_OK);
    assert_int_equal(store_commit(f->a), STORE_OK);
    assert_int_equal(count(f->b), 2);
    assert_int_equal(get(f->b, 1, &t), STORE_OK);
    assert_string_equal(t.v, "kept");
    assert_int_equal(get(f->b, 5, &t), STORE_OK);
    assert_int_equal(get(f->b, 2, &t), STORE_NOT_FOUND);
    assert_int_equal(get(f->b, 3, &t), STORE_NOT_FOUND);
    assert_int_equal(get(f->b, 4, &t), STORE_NOT_FOUND);
}

static void test_read_snapshot_and_write_lock(void **state)
{
    struct fx *f = *state;

    assert_int_equal(put(f->a, 1, "one"), STORE_OK);
    assert_int_equal(store_begin(f->b, STORE_TX_READ), STORE_OK);
    assert_int_equal(count(f->b), 1);
    assert_int_equal(put(f->a, 2, "two"), STORE_OK); /* autocommit beside the reader (WAL) */
    assert_int_equal(count(f->b), 1);                /* the reader keeps its snapshot */
    assert_int_equal(store_commit(f->b), STORE_OK);
    assert_int_equal(count(f->b), 2);
}

static void test_sql_tx_join_and_own(void **state)
{
    struct fx *f = *state;
    int own = -1;

    assert_int_equal(sql_tx_begin(f->a, STORE_TX_WRITE, &own), STORE_OK);
    assert_int_equal(own, 1);
    assert_int_equal(put(f->a, 1, "own"), STORE_OK);
    assert_int_equal(sql_tx_end(f->a, own, STORE_OK), STORE_OK);
    assert_false(store_in_tx(f->a));
    assert_int_equal(count(f->b), 1);

    assert_int_equal(store_begin(f->a, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(sql_tx_begin(f->a, STORE_TX_WRITE, &own), STORE_OK);
    assert_int_equal(own, 0); /* joined */
    assert_int_equal(put(f->a, 2, "joined"), STORE_OK);
    assert_int_equal(sql_tx_end(f->a, own, STORE_NOT_FOUND), STORE_NOT_FOUND);
    assert_true(store_in_tx(f->a)); /* a joined op leaves the caller's transaction alone */
    store_rollback(f->a);
    assert_int_equal(count(f->b), 1);

    /* an own transaction that failed is rolled back */
    assert_int_equal(sql_tx_begin(f->a, STORE_TX_WRITE, &own), STORE_OK);
    assert_int_equal(put(f->a, 3, "failed"), STORE_OK);
    assert_int_equal(sql_tx_end(f->a, own, STORE_CONFLICT), STORE_CONFLICT);
    assert_false(store_in_tx(f->a));
    assert_int_equal(count(f->b), 1);
}

static void read_two(struct sql_stmt *q, void *out)
{
    int64_t *v = out;

    v[0] = sql_col_int(q, 0);
    v[1] = (int64_t)sql_col_len(q, 1);
}

static void test_binding_null_rule_and_cache(void **state)
{
    struct fx *f = *state;
    struct text_row t;
    struct sql_stmt *q;
    int64_t two[2];
    char truncated[4];

    /* ?1 repeats; textn binds exactly len bytes */
    q = sql_prepare(f->a, SQL_SAME);
    assert_non_null(q);
    assert_ptr_equal(sql_prepare(f->a, SQL_SAME), q); /* cached under the SQL's address */
    sql_bind_int(q, 1, 21);
    sql_bind_textn(q, 2, "abcdef", 3);
    assert_int_equal(sql_one(q, "same", read_two, two), STORE_OK);
    assert_int_equal(two[0], 42);
    assert_int_equal(two[1], 3);
    /* another session has its own statement */
    assert_ptr_not_equal(sql_prepare(f->b, SQL_SAME), q);

    /* NULL binds SQL NULL; "" is the empty string; both read back as "" */
    assert_int_equal(put(f->a, 1, NULL), STORE_OK);
    assert_int_equal(put(f->a, 2, ""), STORE_OK);
    assert_int_equal(put(f->a, 3, "a longer text"), STORE_OK);
    assert_int_equal(get(f->a, 1, &t), STORE_OK);
    assert_string_equal(t.v, "");
    assert_int_equal(t.is_null, 1);
    assert_int_equal(t.len, 0);
    assert_int_equal(get(f->a, 2, &t), STORE_OK);
    assert_string_equal(t.v, "");
    assert_int_equal(t.is_null, 0);
    assert_int_equal(get(f->a, 3, &t), STORE_OK);
    assert_string_equal(t.v, "a longer text");
    assert_int_equal(t.len, strlen("a longer text"));
    q = sql_prepare(f->a, SQL_GET);
    sql_bind_int(q, 1, 3);
    assert_int_equal(sql_step(q), 1);
    sql_col_copy(q, 0, truncated, sizeof truncated);
    assert_string_equal(truncated, "a l");
    assert_int_equal(sql_step(q), 0);
    sql_reset(q);

    /* a statement that does not prepare is NULL and every runner answers STORE_ERROR
     * (PostgreSQL prepares at the first run, so its failure shows there) */
    q = sql_prepare(f->a, "SELECT nope FROM nowhere");
    if (f->fx.pg)
        assert_int_equal(sql_exec(q, "nope"), STORE_ERROR);
    else
        assert_null(q);
    assert_int_equal(sql_exec(NULL, "x"), STORE_ERROR);
    assert_int_equal(sql_one(NULL, "x", NULL, NULL), STORE_ERROR);
}

static int stop_at_two(struct sql_stmt *q, void *arg)
{
    int *n = arg;

    (void)q;
    return ++*n == 2;
}

static void test_each_changes_and_revision(void **state)
{
    struct fx *f = *state;
    static const char SQL_ALL[] = "SELECT k FROM t_core ORDER BY k";
    static const char SQL_DEL[] = "DELETE FROM t_core WHERE k > ?1";
    struct sql_stmt *q;
    int64_t r1 = 0, r2 = 0;
    int n = 0;

    for (int k = 1; k <= 4; k++)
        assert_int_equal(put(f->a, k, "x"), STORE_OK);
    assert_int_equal(sql_each(sql_prepare(f->a, SQL_ALL), "all", stop_at_two, &n), STORE_ABORTED);
    assert_int_equal(n, 2);
    q = sql_prepare(f->a, SQL_DEL);
    sql_bind_int(q, 1, 1);
    assert_int_equal(sql_exec(q, "delete"), STORE_OK);
    assert_int_equal(sql_changes(q), 3);

    assert_int_equal(store_begin(f->a, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(sql_bump_revision(f->a, &r1), STORE_OK);
    assert_int_equal(sql_bump_revision(f->a, &r2), STORE_OK);
    assert_int_equal(r2, r1 + 1);
    assert_int_equal(store_commit(f->a), STORE_OK);
    /* a second writer waits for the first's lock, then sees its revision */
    assert_int_equal(store_begin(f->b, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(sql_bump_revision(f->b, &r1), STORE_OK);
    assert_int_equal(r1, r2 + 1);
    store_rollback(f->b);
}

/* SQLite only: ":memory:" is one database for every session of the store. */
static void test_memory_database_is_shared_by_sessions(void **state)
{
    char err[256];
    struct store *st = store_open(":memory:", err, sizeof err);
    struct store_session *a, *b;
    struct text_row t;

    (void)state;
    if (st == NULL)
        fail_msg("store_open: %s", err);
    assert_non_null(a = store_session_open(st, err, sizeof err));
    assert_non_null(b = store_session_open(st, err, sizeof err));
    assert_int_equal(sql_exec(sql_prepare(a, SQL_CREATE), "create"), STORE_OK);
    assert_int_equal(put(a, 7, "seven"), STORE_OK);
    assert_int_equal(get(b, 7, &t), STORE_OK);
    assert_string_equal(t.v, "seven");
    store_session_close(a);
    store_session_close(b);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_engine_and_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_is_seen_by_other_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_savepoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_snapshot_and_write_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_tx_join_and_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binding_null_rule_and_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_changes_and_revision, setup, teardown),
        cmocka_unit_test(test_memory_database_is_shared_by_sessions),
    };
    size_t n = sizeof tests / sizeof tests[0];

    if (strcmp(store_fixture_engine(), "postgresql") == 0)
        n--; /* the last one is SQLite's */
    return _cmocka_run_group_tests("test_store_core", tests, n, NULL, NULL);
}
