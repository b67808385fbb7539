/* test_pg_engine.c - the PostgreSQL engine (pg_engine.c, migrations_pg.c) on a real server,
 * through the store's public session API and sql.h only.
 *
 * Always PostgreSQL (PLK_TEST_PG must name a cluster: scripts/test.sh starts one; unset, the
 * test fails). Each test gets its own database from store_fixture. Covers migrations (twice,
 * and two nodes at once), transactions and savepoints after a failed statement, SQLSTATE
 * mapping, the NULL rule, int64 extremes, ?N rewriting, a 100k-row stream in bounded memory,
 * snapshots across sessions, reconnection after a killed backend and a server restart, and
 * that both engines' migrations build the same tables, columns, indexes and triggers. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/migrations.h"
#include "store/pg.h"
#include "store/sql.h"
#include "store/store.h"
#include "store_fixture.h"

/* ASan keeps freed blocks in a quarantine (256 MB by default) that would hide whether the
 * 100k-row stream is bounded; a small one keeps RSS honest. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=4";
}

struct ctx {
    struct store_fixture f;
    struct store *st;
    struct store_session *s;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);

    store_fixture_init(&c->f, "postgresql");
    c->st = store_fixture_open(&c->f);
    c->s = store_fixture_session(c->st);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;

    store_session_close(c->s);
    store_close(c->st);
    store_fixture_fini(&c->f);
    free(c);
    return 0;
}

static void read_int(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

/* One integer from sql (no parameters), -1 when it fails or has no row. */
static int64_t one_int(struct store_session *s, const char *sql)
{
    int64_t v = -1;

    if (sql_one(sql_prepare(s, sql), "test", read_int, &v) != STORE_OK)
        return -1;
    return v;
}

static const char SQL_VERSION[] = "SELECT version FROM schema_version WHERE id = 1";
static const char SQL_TABLES[] = "SELECT count(*) FROM information_schema.tables "
                                 "WHERE table_schema = 'public'";

static void test_open_migrates_once(void **state)
{
    struct ctx *c = *state;
    int64_t tables = one_int(c->s, SQL_TABLES);
    struct store *again;

    assert_int_equal(one_int(c->s, SQL_VERSION), (int64_t)store_pg_migration_count);
    assert_true(tables >= 17); /* every table of migrations.c and schema_version */
    assert_int_equal(one_int(c->s, "SELECT rev FROM revision WHERE id = 1"), 0);
    /* a second open finds nothing to do and changes nothing */
    again = store_fixture_open(&c->f);
    assert_string_equal(store_engine_name(again), "postgresql");
    store_close(again);
    assert_int_equal(one_int(c->s, SQL_VERSION), (int64_t)store_pg_migration_count);
    assert_int_equal(one_int(c->s, SQL_TABLES), tables);
    assert_int_equal(one_int(c->s, "SELECT count(*) FROM revision"), 1);
}

static void *open_thread(void *arg)
{
    char err[256];
    struct store *st = store_open(arg, err, sizeof err);

    if (st == NULL)
        fprintf(stderr, "open: %s\n", err);
    else
        store_close(st);
    return st != NULL ? arg : NULL;
}

/* Two nodes starting on a new database at once: both open, the schema is built once. */
static void test_two_nodes_migrate_at_once(void **state)
{
    struct store_fixture f;
    pthread_t t[3];
    void *ok[3];
    struct store *st;
    struct store_session *s;
    int i;

    store_fixture_init(&f, "postgresql");
    for (i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, open_thread, f.uri), 0);
    for (i = 0; i < 3; i++) {
        pthread_join(t[i], &ok[i]);
        assert_non_null(ok[i]);
    }
    st = store_fixture_open(&f);
    s = store_fixture_session(st);
    assert_int_equal(one_int(s, SQL_VERSION), (int64_t)store_pg_migration_count);
    assert_int_equal(one_int(s, "SELECT count(*) FROM revision"), 1);
    store_session_close(s);
    store_close(st);
    store_fixture_fini(&f);
}

/* A database whose commits are not durable is refused, naming the setting; so is a server
 * that is not there. */
static void test_refuses_undurable_and_unreachable(void **state)
{
    struct store_fixture f;
    char sql[160], err[512];

    store_fixture_init(&f, "postgresql");
    snprintf(sql, sizeof sql, "ALTER DATABASE %s SET synchronous_commit = off", f.dbname);
    assert_int_equal(store_fixture_pg_admin(sql), 0);
    err[0] = '\0';
    assert_null(store_open(f.uri, err, sizeof err));
    assert_non_null(strstr(err, "not durable (synchronous_commit=off"));
    snprintf(sql, sizeof sql, "ALTER DATABASE %s SET synchronous_commit = local", f.dbname);
    assert_int_equal(store_fixture_pg_admin(sql), 0);
    store_close(store_fixture_open(&f)); /* durable on this server: accepted */
    store_fixture_fini(&f);
    assert_null(
        store_open("postgresql://plk@/x?host=/nonexistent-plk-dir&port=1", err, sizeof err));
    assert_non_null(strstr(err, "cannot connect"));
}

static const char SQL_PUT[] = "INSERT INTO settings (key, value) VALUES (?1, ?2)";
static const char SQL_GET[] = "SELECT value FROM settings WHERE key = ?1";
static const char SQL_COUNT[] = "SELECT count(*) FROM settings";

static enum store_result put(struct store_session *s, const char *k, const char *v)
{
    struct sql_stmt *q = sql_prepare(s, SQL_PUT);

    assert_non_null(q);
    sql_bind_text(q, 1, k);
    sql_bind_text(q, 2, v);
    return sql_exec(q, "put");
}

static void read_text(struct sql_stmt *q, void *out)
{
    sql_col_copy(q, 0, out, 64);
}

static enum store_result get(struct store_session *s, const char *k, char out[64])
{
    struct sql_stmt *q = sql_prepare(s, SQL_GET);

    out[0] = '\0';
    sql_bind_text(q, 1, k);
    return sql_one(q, "get", read_text, out);
}

/* A failed statement inside a savepoint: rolling back to it leaves the transaction usable,
 * what came before and after commits. */
static void test_savepoint_after_failure(void **state)
{
    struct ctx *c = *state;
    char v[64];

    assert_int_equal(store_begin(c->s, STORE_TX_WRITE), STORE_OK);
    assert_true(store_in_tx(c->s));
    assert_int_equal(put(c->s, "a", "1"), STORE_OK);
    assert_int_equal(store_savepoint(c->s), STORE_OK);
    assert_int_equal(put(c->s, "b", "2"), STORE_OK);
    assert_int_equal(put(c->s, "a", "again"), STORE_CONFLICT); /* spoils the savepoint */
    assert_int_equal(store_savepoint_end(c->s, 0), STORE_OK);  /* undoes b and the failure */
    assert_int_equal(store_savepoint(c->s), STORE_OK);
    assert_int_equal(put(c->s, "c", "3"), STORE_OK);
    assert_int_equal(store_savepoint_end(c->s, 1), STORE_OK);
    assert_int_equal(put(c->s, "d", "4"), STORE_OK);
    assert_int_equal(store_commit(c->s), STORE_OK);
    assert_false(store_in_tx(c->s));
    assert_int_equal(get(c->s, "a", v), STORE_OK);
    assert_string_equal(v, "1");
    assert_int_equal(get(c->s, "b", v), STORE_NOT_FOUND);
    assert_int_equal(get(c->s, "c", v), STORE_OK);
    assert_int_equal(get(c->s, "d", v), STORE_OK);
    assert_int_equal(one_int(c->s, SQL_COUNT), 3);
}

/* A failed statement without a savepoint: the commit reports it and nothing is kept. */
static void test_failed_tx_does_not_commit(void **state)
{
    struct ctx *c = *state;

    assert_int_equal(put(c->s, "x", "1"), STORE_OK); /* a statement outside a transaction */
    assert_int_equal(store_begin(c->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(put(c->s, "y", "1"), STORE_OK);
    assert_int_equal(put(c->s, "x", "2"), STORE_CONFLICT);
    assert_int_equal(put(c->s, "z", "1"), STORE_ERROR); /* the transaction is aborted */
    assert_int_equal(store_commit(c->s), STORE_ERROR);
    assert_false(store_in_tx(c->s));
    assert_int_equal(one_int(c->s, SQL_COUNT), 1);
    /* and the session goes on */
    assert_int_equal(store_begin(c->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(put(c->s, "y", "1"), STORE_OK);
    assert_int_equal(store_commit(c->s), STORE_OK);
    assert_int_equal(one_int(c->s, SQL_COUNT), 2);
    assert_int_equal(store_begin(c->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(store_begin(c->s, STORE_TX_WRITE), STORE_ERROR); /* not nested */
    store_rollback(c->s);
}

static const char SQL_PARK[] = "INSERT INTO parks (park_id, union_id, created, updated, rev) "
                               "VALUES (?1, ?2, 0, 0, 0)";
static const char SQL_BAD_COLOR[] = "INSERT INTO blacklist (plate, color, created, rev) "
                                    "VALUES ('A1', ?1, 0, 0)";
static const char SQL_LOCK_REV[] = "UPDATE revision SET rev = rev + 1 WHERE id = 1";
static const char SQL_LOCK_TIMEOUT[] = "SET lock_timeout = '200ms'";

static void test_error_mapping(void **state)
{
    struct ctx *c = *state;
    struct store_session *b = store_fixture_session(c->st);
    struct sql_stmt *q = sql_prepare(c->s, SQL_PARK);
    int64_t rev;

    sql_bind_text(q, 1, "P1");
    sql_bind_text(q, 2, "no-such-vendor");
    assert_int_equal(sql_exec(q, "park"), STORE_FOREIGN_KEY);
    q = sql_prepare(c->s, SQL_BAD_COLOR);
    sql_bind_int(q, 1, 9);
    assert_int_equal(sql_exec(q, "check"), STORE_ERROR); /* a CHECK: a bug, not an outcome */
    assert_int_equal(put(c->s, "k", "v"), STORE_OK);
    assert_int_equal(put(c->s, "k", "v"), STORE_CONFLICT);
    assert_null(sql_prepare(c->s, "SELECT ?0"));
    /* a lock wait that runs out: STORE_BUSY, and the holder goes on */
    assert_int_equal(store_begin(c->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(sql_bump_revision(c->s, &rev), STORE_OK);
    assert_int_equal(rev, 1);
    assert_int_equal(sql_exec(sql_prepare(b, SQL_LOCK_TIMEOUT), "timeout"), STORE_OK);
    assert_int_equal(store_begin(b, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(sql_exec(sql_prepare(b, SQL_LOCK_REV), "lock"), STORE_BUSY);
    store_rollback(b);
    assert_int_equal(store_commit(c->s), STORE_OK);
    assert_int_equal(one_int(b, "SELECT rev FROM revision"), 1);
    store_session_close(b);
}

static const char SQL_TEMP[] = "CREATE TEMP TABLE t (a TEXT, b BIGINT)";
static const char SQL_TEMP_PUT[] = "INSERT INTO t (a, b) VALUES (?1, ?2)";
static const char SQL_TEMP_ALL[] = "SELECT a, b, a IS NULL, b IS NULL FROM t ORDER BY b";

struct row {
    char a[64];
    int a_null, b_null;
    int64_t b;
    size_t alen;
};

static int collect(struct sql_stmt *q, void *arg)
{
    struct row **r = arg;

    sql_col_copy(q, 0, (*r)->a, sizeof(*r)->a);
    (*r)->alen = sql_col_len(q, 0);
    (*r)->a_null = sql_col_is_null(q, 0);
    (*r)->b = sql_col_int(q, 1);
    (*r)->b_null = sql_col_is_null(q, 1);
    assert_int_equal(sql_col_int(q, 2), (*r)->a_null); /* booleans read as 1 and 0 */
    assert_int_equal(sql_col_int(q, 3), (*r)->b_null);
    (*r)++;
    return 0;
}

static void temp_put(struct store_session *s, const char *a, int64_t b, int b_null)
{
    struct sql_stmt *q = sql_prepare(s, SQL_TEMP_PUT);

    sql_bind_text(q, 1, a);
    if (!b_null)
        sql_bind_int(q, 2, b);
    assert_int_equal(sql_exec(q, "temp put"), STORE_OK);
}

/* The one NULL rule and 64-bit integers at both ends, there and back. */
static void test_null_rule_and_int64(void **state)
{
    struct ctx *c = *state;
    struct row rows[5], *r = rows;

    assert_int_equal(sql_exec(sql_prepare(c->s, SQL_TEMP), "temp"), STORE_OK);
    temp_put(c->s, NULL, INT64_MIN, 0);
    temp_put(c->s, "", -1, 0);
    temp_put(c->s, "x'y\"z", 0, 0);
    temp_put(c->s, "last", INT64_MAX, 0);
    temp_put(c->s, "nob", 0, 1); /* ?2 unbound: NULL */
    assert_int_equal(sql_each(sql_prepare(c->s, SQL_TEMP_ALL), "all", collect, &r), STORE_OK);
    assert_int_equal(r - rows, 5);
    assert_int_equal(rows[0].b, INT64_MIN);
    assert_true(rows[0].a_null);
    assert_string_equal(rows[0].a, "");
    assert_int_equal(rows[0].alen, 0);
    assert_false(rows[1].a_null); /* "" is the empty string, not NULL */
    assert_string_equal(rows[1].a, "");
    assert_int_equal(rows[1].b, -1);
    assert_string_equal(rows[2].a, "x'y\"z");
    assert_int_equal(rows[2].alen, 5);
    assert_int_equal(rows[3].b, INT64_MAX);
    assert_false(rows[3].b_null);
    assert_true(rows[4].b_null); /* NULLs sort last */
    assert_int_equal(rows[4].b, 0);
    assert_string_equal(rows[4].a, "nob");
    assert_int_equal(one_int(c->s, "SELECT count(*) FROM t WHERE b IS NULL"), 1);
}

static const char SQL_MARKS[] =
    "SELECT ?2 || '?1 stays', ?1 + 0, /* ?3 in a comment */ '' || ?2 || 'it''s ?1', \"t\".a\n"
    "FROM (SELECT 'q?1' AS a) AS \"t\" -- ?9 neither\n"
    "WHERE ?1 = ?1";

/* ?N repeated, out of order, and '?' inside quoted text, identifiers and comments. */
static void test_placeholder_rewrite(void **state)
{
    struct ctx *c = *state;
    struct sql_stmt *q = sql_prepare(c->s, SQL_MARKS);
    int n;
    char *t;

    assert_non_null(q);
    sql_bind_int(q, 1, 42);
    sql_bind_text(q, 2, "v");
    assert_int_equal(sql_step(q), 1);
    assert_string_equal(sql_col_text(q, 0), "v?1 stays");
    assert_int_equal(sql_col_int(q, 1), 42);
    assert_string_equal(sql_col_text(q, 2), "vit's ?1");
    assert_string_equal(sql_col_text(q, 3), "q?1");
    assert_int_equal(sql_step(q), 0);
    sql_reset(q);
    t = store_pg_rewrite("SELECT E'\\'?1', ?12, x?1 FROM y", &n);
    assert_string_equal(t, "SELECT E'\\'?1', $12, x$1 FROM y");
    assert_int_equal(n, 12);
    free(t);
    assert_null(store_pg_rewrite("SELECT ?100", &n));
}

static const char SQL_COALESCE[] = "SELECT coalesce(?1, 0)";

/* A statement first run with a NULL (its type left to PostgreSQL: int4 here) and then with
 * a 64-bit integer is prepared again for int8, not refused as out of range. */
static void test_types_follow_the_binds(void **state)
{
    struct ctx *c = *state;
    struct sql_stmt *q = sql_prepare(c->s, SQL_COALESCE);
    int64_t v = -1;

    sql_bind_text(q, 1, NULL);
    assert_int_equal(sql_one(q, "null", read_int, &v), STORE_OK);
    assert_int_equal(v, 0);
    sql_bind_int(q, 1, INT64_C(5000000000000));
    assert_int_equal(sql_one(q, "int8", read_int, &v), STORE_OK);
    assert_int_equal(v, INT64_C(5000000000000));
    sql_bind_text(q, 1, NULL); /* a NULL fits what it is prepared for now */
    assert_int_equal(sql_one(q, "null again", read_int, &v), STORE_OK);
    assert_int_equal(v, 0);
}

static long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

struct stream {
    int64_t rows, sum;
    long base_kb, peak_kb;
};

static int stream_row(struct sql_stmt *q, void *arg)
{
    struct stream *st = arg;

    assert_int_equal(sql_col_int(q, 0), st->rows + 1); /* in order */
    assert_int_equal(sql_col_len(q, 1), 2000);
    st->sum += sql_col_int(q, 0);
    if (++st->rows % 5000 == 0) {
        long kb = rss_kb();

        if (kb > st->peak_kb)
            st->peak_kb = kb;
    }
    return 0;
}

static const char SQL_BIG[] = "CREATE TABLE big AS SELECT g AS id, repeat('x', 2000) AS pad "
                              "FROM generate_series(1, 100000) AS g";
static const char SQL_BIG_ALL[] = "SELECT id, pad FROM big ORDER BY id";

/* 100k rows of 2 KB (200 MB) stream through a read transaction while the process grows by
 * far less than that: rows are not collected before the first is handed over. */
static void test_stream_bounded(void **state)
{
    struct ctx *c = *state;
    struct stream st = {0};

    assert_int_equal(sql_exec(sql_prepare(c->s, SQL_BIG), "big"), STORE_OK);
    st.base_kb = st.peak_kb = rss_kb();
    assert_int_equal(store_begin(c->s, STORE_TX_READ), STORE_OK);
    assert_int_equal(sql_each(sql_prepare(c->s, SQL_BIG_ALL), "big", stream_row, &st), STORE_OK);
    assert_int_equal(store_commit(c->s), STORE_OK);
    assert_int_equal(st.rows, 100000);
    assert_int_equal(st.sum, (int64_t)100000 * 100001 / 2);
    fprintf(stderr, "stream: rss %ld kB before, peak %ld kB\n", st.base_kb, st.peak_kb);
    assert_true(st.peak_kb - st.base_kb < 64 * 1024);
}

/* A statement run while another is still being stepped on the same session: both complete. */
static void test_interleaved_statements(void **state)
{
    struct ctx *c = *state;
    struct sql_stmt *q;
    int64_t n = 0;
    char key[16];
    int rc;

    assert_int_equal(put(c->s, "k1", "1"), STORE_OK);
    assert_int_equal(put(c->s, "k2", "2"), STORE_OK);
    assert_int_equal(put(c->s, "k3", "3"), STORE_OK);
    assert_int_equal(store_begin(c->s, STORE_TX_WRITE), STORE_OK);
    q = sql_prepare(c->s, "SELECT key FROM settings ORDER BY key");
    while ((rc = sql_step(q)) == 1) {
        snprintf(key, sizeof key, "%s-copy", sql_col_text(q, 0));
        assert_int_equal(put(c->s, key, "c"), STORE_OK);
        n++;
    }
    assert_int_equal(rc, 0);
    sql_reset(q);
    assert_int_equal(store_commit(c->s), STORE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(one_int(c->s, SQL_COUNT), 6);
}

static const char SQL_FAILS_AT_3[] = "SELECT 6 / (g - 3) FROM generate_series(1, 5) AS g";

/* A statement that fails midway, its rest read ahead while another one runs and fails
 * otherwise: each reports its own failure (division by zero: STORE_ERROR; the duplicate:
 * STORE_CONFLICT). */
static void test_interleaved_failures_keep_their_own_error(void **state)
{
    struct ctx *c = *state;
    struct sql_stmt *q = sql_prepare(c->s, SQL_FAILS_AT_3);

    assert_int_equal(put(c->s, "k", "v"), STORE_OK);
    assert_int_equal(sql_step(q), 1);
    assert_int_equal(sql_col_int(q, 0), -3);
    assert_int_equal(put(c->s, "k", "again"), STORE_CONFLICT); /* reads q's rest first */
    assert_int_equal(sql_step(q), 1);
    assert_int_equal(sql_col_int(q, 0), -6);
    assert_int_equal(sql_step(q), -1);
    assert_int_equal(sql_error(q, "fails at 3"), STORE_ERROR);
    sql_reset(q);
}

/* Committed data is seen by another session, uncommitted data is not; a read transaction
 * keeps its snapshot while others commit. */
static void test_sessions_and_snapshots(void **state)
{
    struct ctx *c = *state;
    struct store_session *b = store_fixture_session(c->st);
    char v[64];

    assert_int_equal(store_begin(c->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(put(c->s, "a", "1"), STORE_OK);
    assert_int_equal(get(b, "a", v), STORE_NOT_FOUND);
    assert_int_equal(store_commit(c->s), STORE_OK);
    assert_int_equal(get(b, "a", v), STORE_OK);
    assert_string_equal(v, "1");

    assert_int_equal(store_begin(b, STORE_TX_READ), STORE_OK);
    assert_int_equal(one_int(b, SQL_COUNT), 1);
    assert_int_equal(put(c->s, "b", "2"), STORE_OK); /* committed at once */
    assert_int_equal(one_int(c->s, SQL_COUNT), 2);
    assert_int_equal(one_int(b, SQL_COUNT), 1); /* b's snapshot */
    assert_int_equal(get(b, "b", v), STORE_NOT_FOUND);
    assert_int_equal(put(b, "c", "3"), STORE_ERROR); /* a read transaction does not write */
    store_rollback(b);
    assert_int_equal(one_int(b, SQL_COUNT), 2);
    store_session_close(b);
}

/* The session's backend killed between transactions: the next BEGIN reconnects, and the
 * cached statements prepare again on the new connection. */
static void test_reconnect_after_lost_backend(void **state)
{
    struct ctx *c = *state;
    int64_t pid = one_int(c->s, "SELECT pg_backend_pid()");
    char sql[96], v[64];

    assert_int_equal(put(c->s, "a", "1"), STORE_OK); /* SQL_PUT and SQL_GET now cached */
    assert_int_equal(get(c->s, "a", v), STORE_OK);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)pid);
    assert_int_equal(store_fixture_pg_admin(sql), 0);
    usleep(200000); /* the backend's exit is asynchronous */
    assert_int_equal(store_begin(c->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(put(c->s, "b", "2"), STORE_OK);
    assert_int_equal(store_commit(c->s), STORE_OK);
    assert_int_not_equal(one_int(c->s, "SELECT pg_backend_pid()"), pid);
    /* the new connection got the session's settings again */
    assert_int_equal(sql_one(sql_prepare(c->s, "SHOW lock_timeout"), "show", read_text, v),
                     STORE_OK);
    assert_string_equal(v, "5s");
    assert_int_equal(get(c->s, "a", v), STORE_OK);
    assert_int_equal(one_int(c->s, SQL_COUNT), 2);

    /* lost inside a transaction: the statement fails, the next transaction works */
    pid = one_int(c->s, "SELECT pg_backend_pid()");
    assert_int_equal(store_begin(c->s, STORE_TX_WRITE), STORE_OK);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)pid);
    assert_int_equal(store_fixture_pg_admin(sql), 0);
    usleep(200000);
    assert_int_equal(put(c->s, "c", "3"), STORE_ERROR);
    assert_int_not_equal(store_commit(c->s), STORE_OK);
    assert_int_equal(store_begin(c->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(put(c->s, "c", "3"), STORE_OK);
    assert_int_equal(store_commit(c->s), STORE_OK);
    assert_int_equal(one_int(c->s, SQL_COUNT), 3);
}

/* A private cluster for the restart test, stopped by its teardown even when the test fails. */
static char cluster_dir[512], cluster_uri[512];

static int cluster_start(void **state)
{
    char line[1100];
    FILE *p = popen(PLK_SOURCE_DIR "/scripts/pg-test-cluster.sh start", "r");

    if (p == NULL || fgets(line, sizeof line, p) == NULL) {
        if (p != NULL)
            pclose(p);
        return -1;
    }
    if (pclose(p) != 0 || sscanf(line, "%511s %511s", cluster_dir, cluster_uri) != 2)
        return -1;
    return 0;
}

static int cluster_stop(void **state)
{
    char cmd[700];

    snprintf(cmd, sizeof cmd, PLK_SOURCE_DIR "/scripts/pg-test-cluster.sh stop %s", cluster_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The cluster restarted under an open session: the session's next transaction works (a node
 * survives a PostgreSQL restart). */
static void test_survives_server_restart(void **state)
{
    char err[256], cmd[700], v[64];
    struct store *st = store_open(cluster_uri, err, sizeof err);
    struct store_session *s;

    if (st == NULL)
        fail_msg("store_open: %s", err);
    s = store_fixture_session(st);
    assert_int_equal(put(s, "before", "1"), STORE_OK);
    snprintf(cmd, sizeof cmd, PLK_SOURCE_DIR "/scripts/pg-test-cluster.sh restart %s", cluster_dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(store_begin(s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(put(s, "after", "2"), STORE_OK);
    assert_int_equal(store_commit(s), STORE_OK);
    assert_int_equal(get(s, "before", v), STORE_OK);
    assert_int_equal(one_int(s, SQL_COUNT), 2);
    store_session_close(s);
    store_close(st);
}

/* ---- both engines build the same schema ---- */

struct names {
    char **v;
    size_t n, cap;
};

static void names_add(struct names *s, const char *a, const char *b)
{
    char buf[256];

    snprintf(buf, sizeof buf, "%s%s%s", a, b[0] ? "." : "", b);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        assert_non_null(s->v);
    }
    s->v[s->n++] = strdup(buf);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(struct names *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static void sqlite_names(struct names *cols, struct names *objs)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    size_t i;

    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    for (i = 0; i < store_sqlite_migration_count; i++)
        assert_int_equal(sqlite3_exec(db, store_sqlite_migrations[i], NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT m.name, p.name FROM sqlite_master m, "
                                        "pragma_table_info(m.name) p WHERE m.type = 'table' "
                                        "AND m.name NOT LIKE 'sqlite_%'",
                                        -1, &q, NULL),
                     SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW)
        names_add(cols, (const char *)sqlite3_column_text(q, 0),
                  (const char *)sqlite3_column_text(q, 1));
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT type, name FROM sqlite_master WHERE type IN "
                                        "('index', 'trigger') AND sql IS NOT NULL",
                                        -1, &q, NULL),
                     SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW)
        names_add(objs, (const char *)sqlite3_column_text(q, 0),
                  (const char *)sqlite3_column_text(q, 1));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void pg_names(struct ctx *c, struct names *cols, struct names *objs)
{
    char sql[] = "SELECT table_name, column_name FROM information_schema.columns "
                 "WHERE table_schema = 'public' AND table_name <> 'schema_version'";
    /* explicit indexes (not those of PRIMARY KEY / UNIQUE constraints) and triggers */
    char sql2[] = "SELECT 'index', indexname FROM pg_indexes i WHERE schemaname = 'public' "
                  "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname) "
                  "UNION ALL SELECT DISTINCT 'trigger', trigger_name "
                  "FROM information_schema.triggers WHERE trigger_schema = 'public'";
    PGconn *pc = PQconnectdb(c->f.uri);
    PGresult *res;
    int i;

    assert_int_equal(PQstatus(pc), CONNECTION_OK);
    res = PQexec(pc, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    for (i = 0; i < PQntuples(res); i++)
        names_add(cols, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    PQclear(res);
    res = PQexec(pc, sql2);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    for (i = 0; i < PQntuples(res); i++)
        names_add(objs, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    PQclear(res);
    PQfinish(pc);
}

static void assert_same(struct names *a, struct names *b, const char *what)
{
    size_t i = 0, j = 0;
    int diff = 0;

    qsort(a->v, a->n, sizeof *a->v, cmp_str);
    qsort(b->v, b->n, sizeof *b->v, cmp_str);
    while (i < a->n || j < b->n) {
        int d = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i], b->v[j]);

        if (d < 0)
            fprintf(stderr, "%s: only in SQLite: %s\n", what, a->v[i++]);
        else if (d > 0)
            fprintf(stderr, "%s: only in PostgreSQL: %s\n", what, b->v[j++]);
        else
            i++, j++;
        diff |= d != 0;
    }
    assert_false(diff);
}

/* A migration added to one engine and not the other fails here. */
static void test_same_schema_both_engines(void **state)
{
    struct ctx *c = *state;
    struct names scols = {0}, sobjs = {0}, pcols = {0}, pobjs = {0};

    assert_int_equal(store_pg_migration_count, store_sqlite_migration_count);
    sqlite_names(&scols, &sobjs);
    pg_names(c, &pcols, &pobjs);
    assert_true(scols.n > 100);
    assert_same(&scols, &pcols, "columns");
    assert_same(&sobjs, &pobjs, "indexes and triggers");
    names_free(&scols);
    names_free(&sobjs);
    names_free(&pcols);
    names_free(&pobjs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_migrates_once, setup, teardown),
        cmocka_unit_test(test_two_nodes_migrate_at_once),
        cmocka_unit_test(test_refuses_undurable_and_unreachable),
        cmocka_unit_test_setup_teardown(test_savepoint_after_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_tx_does_not_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_rule_and_int64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_placeholder_rewrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_types_follow_the_binds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interleaved_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interleaved_failures_keep_their_own_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sessions_and_snapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_after_lost_backend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_server_restart, cluster_start, cluster_stop),
        cmocka_unit_test_setup_teardown(test_same_schema_both_engines, setup, teardown),
    };

    store_fixture_engine(); /* fails loudly on a bad PLK_TEST_ENGINE */
    if (getenv("PLK_TEST_PG") == NULL) {
        fprintf(stderr, "test_pg_engine: PLK_TEST_PG is unset: run scripts/test.sh, which "
                        "starts a throwaway PostgreSQL cluster\n");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
