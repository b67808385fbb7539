/* test_store.c - the store's catalog interface on either engine, against real databases.
 *
 * Each test gets a fresh database from store_fixture (PLK_TEST_ENGINE: a SQLite file in a
 * temp dir, or a PostgreSQL database on PLK_TEST_PG); covers migrations and
 * reopening, CRUD of every table, uniqueness and foreign keys, pagination, bulk insert
 * atomicity, and the incremental load (revisions and tombstones) the registry relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/migrations.h"
#include "store/sql.h"
#include "store/store.h"
#include "store_fixture.h"

struct fx {
    struct store_fixture fx; /* fx.uri the store, fx.path the SQLite file (fx.pg 0) */
    struct store *st;
    struct store_session *s;
};

/* Open the fixture's store with a session on it (fails the test on error). */
static void fx_open(struct fx *f)
{
    char err[256];

    f->st = store_open(f->fx.uri, err, sizeof(err));
    if (f->st == NULL)
        fail_msg("store_open: %s", err);
    f->s = store_session_open(f->st, err, sizeof err);
    if (f->s == NULL)
        fail_msg("store_session_open: %s", err);
}

static void fx_close(struct fx *f)
{
    store_session_close(f->s);
    store_close(f->st);
    f->s = NULL;
    f->st = NULL;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    store_fixture_init(&f->fx, NULL);
    fx_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    fx_close(f);
    store_fixture_fini(&f->fx);
    free(f);
    return 0;
}

static void add_vendor(struct store_session *st, const char *uid)
{
    struct store_vendor v = {0};

    snprintf(v.union_id, sizeof(v.union_id), "%s", uid);
    snprintf(v.ukey, sizeof(v.ukey), "KEY%s", uid);
    snprintf(v.name, sizeof(v.name), "vendor %s", uid);
    assert_int_equal(store_vendor_put(st, &v, STORE_INSERT, NULL), STORE_OK);
}

static void add_park(struct store_session *st, const char *pid, const char *uid)
{
    struct store_park p = {0};

    snprintf(p.park_id, sizeof(p.park_id), "%s", pid);
    snprintf(p.union_id, sizeof(p.union_id), "%s", uid);
    p.total_plot = 100;
    p.empty_plot = 10;
    assert_int_equal(store_park_put(st, &p, STORE_INSERT, NULL), STORE_OK);
}

static int64_t add_black(struct store_session *st, const char *plate, int color)
{
    struct store_blacklist e = {0};

    snprintf(e.plate, sizeof(e.plate), "%s", plate);
    e.color = color;
    assert_int_equal(store_blacklist_add(st, &e), STORE_OK);
    assert_true(e.id > 0);
    return e.id;
}

static void test_open_uris(void **state)
{
    struct fx *f = *state;
    char err[256], uri[1100];
    struct store *st;
    struct store_session *s;

    /* a PostgreSQL URI goes to the PostgreSQL engine: here one with no server behind it */
    st =
        store_open("postgresql://plk@/parklink?host=/nonexistent-plk-dir&port=1", err, sizeof(err));
    assert_null(st);
    assert_non_null(strstr(err, "cannot connect"));
    assert_null(store_open("", err, sizeof(err)));
    assert_null(store_open("sqlite:", err, sizeof(err)));
    /* a second handle on the same database (SQLite: through the sqlite: prefix) */
    snprintf(uri, sizeof(uri), "%s%s", f->fx.pg ? "" : "sqlite:", f->fx.uri);
    st = store_open(uri, err, sizeof(err));
    assert_non_null(st);
    assert_string_equal(store_engine_name(st), store_fixture_engine());
    assert_non_null(s = store_session_open(st, err, sizeof err));
    add_vendor(s, "1");
    store_session_close(s);
    store_close(st);
    st = store_open("/nonexistent-dir-plk/x.db", err, sizeof(err));
    assert_null(st);
    assert_non_null(strstr(err, "cannot open"));
}

static void read_int(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

static const char SQL_PG_VERSION[] = "SELECT version FROM schema_version WHERE id = 1";
static const char SQL_PG_NEWER[] = "UPDATE schema_version SET version = 999";
static const char SQL_PG_BACK[] = "UPDATE schema_version SET version = ?1";

/* PostgreSQL: the version is schema_version's, a reopen keeps the rows, a newer database is
 * refused. */
static void pg_migrations_and_reopen(struct fx *f)
{
    struct store_vendor v;
    struct sql_stmt *q;
    int64_t version = -1;
    char err[256];

    assert_int_equal(sql_one(sql_prepare(f->s, SQL_PG_VERSION), "version", read_int, &version),
                     STORE_OK);
    assert_int_equal(version, (int64_t)store_pg_migration_count);
    fx_close(f);
    fx_open(f);
    assert_int_equal(store_vendor_get(f->s, "200002", &v), STORE_OK);
    assert_string_equal(v.ukey, "KEY200002");
    assert_int_equal(sql_exec(sql_prepare(f->s, SQL_PG_NEWER), "newer"), STORE_OK);
    assert_null(store_open(f->fx.uri, err, sizeof(err)));
    assert_non_null(strstr(err, "newer"));
    q = sql_prepare(f->s, SQL_PG_BACK);
    sql_bind_int(q, 1, (int64_t)store_pg_migration_count);
    assert_int_equal(sql_exec(q, "back"), STORE_OK);
}

static void test_migrations_and_reopen(void **state)
{
    struct fx *f = *state;
    struct store_vendor v;
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    char err[256];
    const char *path = f->fx.path;

    add_vendor(f->s, "200002");
    if (f->fx.pg) {
        pg_migrations_and_reopen(f);
        return;
    }
    fx_close(f);

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(q, 0), (int64_t)store_sqlite_migration_count);
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);

    fx_open(f);
    assert_int_equal(store_vendor_get(f->s, "200002", &v), STORE_OK);
    assert_string_equal(v.ukey, "KEY200002");
    assert_string_equal(v.name, "vendor 200002");

    /* a database from a newer build is refused, not silently used */
    fx_close(f);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(store_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, "newer"));
    /* back to this build's version (later migrations create tables: they cannot run twice) */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(err, sizeof(err), "PRAGMA user_version = %zu", store_sqlite_migration_count);
    sqlite3_exec(db, err, NULL, NULL, NULL);
    sqlite3_close(db);
    fx_open(f);
}

static void test_vendor_crud(void **state)
{
    struct fx *f = *state;
    struct store_vendor v = {0}, got;
    int created = -1;

    snprintf(v.union_id, sizeof(v.union_id), "200002");
    snprintf(v.ukey, sizeof(v.ukey), "EA2D90FEEF1E9F8E");
    snprintf(v.callback_url, sizeof(v.callback_url), "http://127.0.0.1:9/cb");
    assert_int_equal(store_vendor_put(f->s, &v, STORE_UPDATE, NULL), STORE_NOT_FOUND);
    assert_int_equal(store_vendor_put(f->s, &v, STORE_INSERT, NULL), STORE_OK);
    assert_int_equal(store_vendor_put(f->s, &v, STORE_INSERT, NULL), STORE_CONFLICT);
    assert_int_equal(store_vendor_get(f->s, "200002", &got), STORE_OK);
    assert_string_equal(got.ukey, "EA2D90FEEF1E9F8E");
    assert_string_equal(got.callback_url, "http://127.0.0.1:9/cb");
    assert_true(got.created > 0 && got.updated == got.created);

    snprintf(v.ukey, sizeof(v.ukey), "NEWKEY");
    assert_int_equal(store_vendor_put(f->s, &v, STORE_UPSERT, &created), STORE_OK);
    assert_int_equal(created, 0);
    assert_int_equal(store_vendor_get(f->s, "200002", &got), STORE_OK);
    assert_string_equal(got.ukey, "NEWKEY");
    snprintf(v.union_id, sizeof(v.union_id), "7");
    assert_int_equal(store_vendor_put(f->s, &v, STORE_UPSERT, &created), STORE_OK);
    assert_int_equal(created, 1);

    add_park(f->s, "20003", "200002");
    assert_int_equal(store_vendor_delete(f->s, "200002"), STORE_IN_USE);
    assert_int_equal(store_vendor_get(f->s, "200002", &got), STORE_OK);
    assert_int_equal(store_park_delete(f->s, "20003"), STORE_OK);
    assert_int_equal(store_vendor_delete(f->s, "200002"), STORE_OK);
    assert_int_equal(store_vendor_delete(f->s, "200002"), STORE_NOT_FOUND);
    assert_int_equal(store_vendor_get(f->s, "200002", &got), STORE_NOT_FOUND);
}

static void test_park_crud(void **state)
{
    struct fx *f = *state;
    struct store_park p = {0}, got;

    snprintf(p.park_id, sizeof(p.park_id), "20003");
    snprintf(p.union_id, sizeof(p.union_id), "404");
    assert_int_equal(store_park_put(f->s, &p, STORE_INSERT, NULL), STORE_FOREIGN_KEY);
    add_vendor(f->s, "404");
    p.members_only = 1;
    p.suspended = 1;
    p.has_prepay = 1;
    p.total_plot = 50;
    p.empty_plot = 5;
    snprintf(p.name, sizeof(p.name), "东门停车场");
    snprintf(p.reason_msg[2], sizeof(p.reason_msg[2]), "黑名单");
    assert_int_equal(store_park_put(f->s, &p, STORE_INSERT, NULL), STORE_OK);
    assert_int_equal(store_park_get(f->s, "20003", &got), STORE_OK);
    assert_string_equal(got.name, "东门停车场");
    assert_int_equal(got.members_only, 1);
    assert_int_equal(got.suspended, 1);
    assert_int_equal(got.has_prepay, 1);
    assert_int_equal(got.total_plot, 50);
    assert_int_equal(got.empty_plot, 5);
    assert_string_equal(got.reason_msg[1], "");
    assert_string_equal(got.reason_msg[2], "黑名单");
    assert_string_equal(got.reason_msg[3], "");

    got.suspended = 0;
    snprintf(got.union_id, sizeof(got.union_id), "999");
    assert_int_equal(store_park_put(f->s, &got, STORE_UPDATE, NULL), STORE_FOREIGN_KEY);
    snprintf(got.union_id, sizeof(got.union_id), "404");
    assert_int_equal(store_park_put(f->s, &got, STORE_UPDATE, NULL), STORE_OK);
    assert_int_equal(store_park_get(f->s, "20003", &got), STORE_OK);
    assert_int_equal(got.suspended, 0);
    assert_int_equal(store_park_delete(f->s, "nope"), STORE_NOT_FOUND);
}

struct collect {
    int n;
    int64_t ids[64];
    char keys[64][STORE_PARK_ID_MAX + 1];
};

static int on_park_key(void *arg, const struct store_park *p)
{
    struct collect *c = arg;

    snprintf(c->keys[c->n++], sizeof(c->keys[0]), "%s", p->park_id);
    return 0;
}

static int on_black_id(void *arg, const struct store_blacklist *e)
{
    struct collect *c = arg;

    c->ids[c->n++] = e->id;
    return 0;
}

static int stop_at_two(void *arg, const struct store_blacklist *e)
{
    struct collect *c = arg;

    c->ids[c->n++] = e->id;
    return c->n == 2;
}

static void test_lists_and_pagination(void **state)
{
    struct fx *f = *state;
    struct store_query q = {.state = -1};
    struct collect c = {0};
    int64_t total = 0, ids[10];
    char plate[16];

    add_vendor(f->s, "1");
    add_vendor(f->s, "2");
    add_park(f->s, "a", "1");
    add_park(f->s, "b", "2");
    add_park(f->s, "c", "1");
    q.union_id = "1";
    assert_int_equal(store_park_list(f->s, &q, on_park_key, &c, &total), STORE_OK);
    assert_int_equal(total, 2);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.keys[0], "a");
    assert_string_equal(c.keys[1], "c");
    memset(&c, 0, sizeof(c));
    q = (struct store_query){.after_key = "a", .limit = 1, .state = -1};
    assert_int_equal(store_park_list(f->s, &q, on_park_key, &c, &total), STORE_OK);
    assert_int_equal(total, 3);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.keys[0], "b");

    for (int i = 0; i < 10; i++) {
        snprintf(plate, sizeof(plate), "京A%05d", i);
        ids[i] = add_black(f->s, plate, 0);
    }
    memset(&c, 0, sizeof(c));
    q = (struct store_query){.limit = 3, .offset = 2, .state = -1};
    assert_int_equal(store_blacklist_list(f->s, &q, on_black_id, &c, &total), STORE_OK);
    assert_int_equal(total, 10);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.ids[0], ids[2]);
    assert_int_equal(c.ids[2], ids[4]);
    memset(&c, 0, sizeof(c));
    q = (struct store_query){.limit = 100, .after_id = ids[7], .state = -1};
    assert_int_equal(store_blacklist_list(f->s, &q, on_black_id, &c, &total), STORE_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.ids[0], ids[8]);
    memset(&c, 0, sizeof(c));
    q = (struct store_query){.plate = "京A00003", .state = -1};
    assert_int_equal(store_blacklist_list(f->s, &q, on_black_id, &c, &total), STORE_OK);
    assert_int_equal(total, 1);
    assert_int_equal(c.ids[0], ids[3]);
    /* a callback can stop the walk */
    memset(&c, 0, sizeof(c));
    q = (struct store_query){.state = -1};
    assert_int_equal(store_blacklist_list(f->s, &q, stop_at_two, &c, NULL), STORE_ABORTED);
    assert_int_equal(c.n, 2);
    /* the store still works after an aborted walk */
    add_black(f->s, "京B1", 0);
}

static void test_blacklist(void **state)
{
    struct fx *f = *state;
    struct store_blacklist e = {0}, got, bulk[3];
    struct store_query q = {.state = -1};
    int64_t id, total = 0;
    size_t failed = 99;

    snprintf(e.plate, sizeof(e.plate), "京HP00G6");
    e.color = -1;
    snprintf(e.reason, sizeof(e.reason), "stolen");
    e.valid_from = 100;
    e.valid_until = 200;
    assert_int_equal(store_blacklist_add(f->s, &e), STORE_OK);
    id = e.id;
    assert_int_equal(store_blacklist_get(f->s, id, &got), STORE_OK);
    assert_string_equal(got.plate, "京HP00G6");
    assert_int_equal(got.color, -1);
    assert_string_equal(got.reason, "stolen");
    assert_int_equal(got.valid_from, 100);
    assert_int_equal(got.valid_until, 200);
    assert_int_equal(store_blacklist_add(f->s, &e), STORE_CONFLICT);
    e.color = 1; /* same plate, another colour: a different entry */
    assert_int_equal(store_blacklist_add(f->s, &e), STORE_OK);

    /* bulk: all or nothing */
    memset(bulk, 0, sizeof(bulk));
    snprintf(bulk[0].plate, sizeof(bulk[0].plate), "沪A1");
    snprintf(bulk[1].plate, sizeof(bulk[1].plate), "沪A2");
    snprintf(bulk[2].plate, sizeof(bulk[2].plate), "沪A1");
    assert_int_equal(store_blacklist_add_bulk(f->s, bulk, 3, &failed), STORE_CONFLICT);
    assert_int_equal(failed, 2);
    q.limit = 0;
    {
        struct collect c = {0};

        assert_int_equal(store_blacklist_list(f->s, &q, on_black_id, &c, &total), STORE_OK);
        assert_int_equal(total, 2);
    }
    snprintf(bulk[2].plate, sizeof(bulk[2].plate), "沪A3");
    assert_int_equal(store_blacklist_add_bulk(f->s, bulk, 3, &failed), STORE_OK);
    assert_true(bulk[0].id > 0 && bulk[1].id > bulk[0].id && bulk[2].id > bulk[1].id);
    assert_int_equal(store_blacklist_delete(f->s, id), STORE_OK);
    assert_int_equal(store_blacklist_delete(f->s, id), STORE_NOT_FOUND);
    assert_int_equal(store_blacklist_get(f->s, id, &got), STORE_NOT_FOUND);
}

static void test_members_and_reservations(void **state)
{
    struct fx *f = *state;
    struct store_member m = {0}, mg;
    struct store_reservation r = {0}, rg;

    add_vendor(f->s, "1");
    add_park(f->s, "p1", "1");
    snprintf(m.plate, sizeof(m.plate), "粤B12345");
    assert_int_equal(store_member_add(f->s, &m), STORE_OK); /* city-wide */
    assert_int_equal(store_member_add(f->s, &m), STORE_CONFLICT);
    snprintf(m.park_id, sizeof(m.park_id), "p1");
    assert_int_equal(store_member_add(f->s, &m), STORE_OK); /* same car, one park */
    snprintf(m.park_id, sizeof(m.park_id), "nope");
    assert_int_equal(store_member_add(f->s, &m), STORE_FOREIGN_KEY);
    assert_int_equal(store_member_get(f->s, 1, &mg), STORE_OK);
    assert_string_equal(mg.park_id, "");
    mg.valid_until = 12345;
    mg.color = 2;
    assert_int_equal(store_member_update(f->s, &mg), STORE_OK);
    assert_int_equal(store_member_get(f->s, 1, &mg), STORE_OK);
    assert_int_equal(mg.valid_until, 12345);
    assert_int_equal(mg.color, 2);
    mg.id = 777;
    assert_int_equal(store_member_update(f->s, &mg), STORE_NOT_FOUND);

    snprintf(r.plate, sizeof(r.plate), "粤B12345");
    snprintf(r.park_id, sizeof(r.park_id), "p1");
    r.start = 10;
    r.end = 20;
    assert_int_equal(store_reservation_add(f->s, &r), STORE_OK);
    assert_int_equal(store_reservation_get(f->s, r.id, &rg), STORE_OK);
    assert_int_equal(rg.state, STORE_RES_ACTIVE);
    assert_int_equal(rg.start, 10);
    assert_int_equal(rg.end, 20);
    rg.state = STORE_RES_CANCELLED;
    assert_int_equal(store_reservation_update(f->s, &rg), STORE_OK);
    assert_int_equal(store_reservation_get(f->s, r.id, &rg), STORE_OK);
    assert_int_equal(rg.state, STORE_RES_CANCELLED);
    snprintf(r.park_id, sizeof(r.park_id), "nope");
    assert_int_equal(store_reservation_add(f->s, &r), STORE_FOREIGN_KEY);
}

static void test_settings(void **state)
{
    struct fx *f = *state;
    char buf[8];

    assert_int_equal(store_setting_get(f->s, "k", buf, sizeof(buf)), STORE_NOT_FOUND);
    assert_int_equal(store_setting_put(f->s, "k", "value-that-is-long"), STORE_OK);
    assert_int_equal(store_setting_get(f->s, "k", buf, sizeof(buf)), STORE_OK);
    assert_string_equal(buf, "value-t"); /* truncated, terminated */
    assert_int_equal(store_setting_put(f->s, "k", "v2"), STORE_OK);
    assert_int_equal(store_setting_get(f->s, "k", buf, sizeof(buf)), STORE_OK);
    assert_string_equal(buf, "v2");
}

struct seen {
    int vendors, parks, black, members, res, tomb;
    int64_t tomb_ids[16];
    int tomb_kinds[16];
};

static int s_vendor(void *a, const struct store_vendor *v)
{
    ((struct seen *)a)->vendors++;
    return 0;
}
static int s_park(void *a, const struct store_park *p)
{
    ((struct seen *)a)->parks++;
    return 0;
}
static int s_black(void *a, const struct store_blacklist *e)
{
    ((struct seen *)a)->black++;
    return 0;
}
static int s_member(void *a, const struct store_member *m)
{
    ((struct seen *)a)->members++;
    return 0;
}
static int s_res(void *a, const struct store_reservation *r)
{
    ((struct seen *)a)->res++;
    return 0;
}
static int s_tomb(void *a, enum store_kind k, int64_t id)
{
    struct seen *s = a;

    s->tomb_kinds[s->tomb] = (int)k;
    s->tomb_ids[s->tomb++] = id;
    return 0;
}

static const struct store_load_cbs all_cbs = {s_vendor, s_park, s_black, s_member, s_res, s_tomb};

static void test_incremental_load(void **state)
{
    struct fx *f = *state;
    struct store_member m = {0};
    struct store_reservation r = {0};
    struct seen s = {0};
    int64_t rev0 = -1, rev1 = 0, rev2 = 0, rev3 = 0, b1;

    assert_int_equal(store_revision(f->s, &rev0), STORE_OK);
    assert_int_equal(rev0, 0);
    add_vendor(f->s, "1");
    add_park(f->s, "p1", "1");
    b1 = add_black(f->s, "A1", 0);
    add_black(f->s, "A2", 0);
    assert_int_equal(store_load(f->s, 0, &all_cbs, &s, &rev1), STORE_OK);
    assert_int_equal(s.vendors, 1);
    assert_int_equal(s.parks, 1);
    assert_int_equal(s.black, 2);
    assert_int_equal(s.tomb, 0);
    assert_int_equal(rev1, 4);

    /* changes after rev1: one more blacklist row, one deleted, a member and a reservation of
     * p1, then p1 deleted (cascade: their tombstones too) */
    add_black(f->s, "A3", 0);
    assert_int_equal(store_blacklist_delete(f->s, b1), STORE_OK);
    snprintf(m.plate, sizeof(m.plate), "M1");
    snprintf(m.park_id, sizeof(m.park_id), "p1");
    assert_int_equal(store_member_add(f->s, &m), STORE_OK);
    snprintf(r.plate, sizeof(r.plate), "R1");
    snprintf(r.park_id, sizeof(r.park_id), "p1");
    r.start = 1;
    r.end = 2;
    assert_int_equal(store_reservation_add(f->s, &r), STORE_OK);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_load(f->s, rev1, &all_cbs, &s, &rev2), STORE_OK);
    assert_int_equal(s.vendors, 1); /* vendors and parks: always all */
    assert_int_equal(s.parks, 1);
    assert_int_equal(s.black, 1); /* only A3 */
    assert_int_equal(s.members, 1);
    assert_int_equal(s.res, 1);
    assert_int_equal(s.tomb, 1);
    assert_int_equal(s.tomb_kinds[0], STORE_KIND_BLACKLIST);
    assert_int_equal(s.tomb_ids[0], b1);
    assert_true(rev2 > rev1);

    assert_int_equal(store_park_delete(f->s, "p1"), STORE_OK);
    memset(&s, 0, sizeof(s));
    assert_int_equal(store_load(f->s, rev2, &all_cbs, &s, &rev3), STORE_OK);
    assert_int_equal(rev3, rev2 + 1);
    assert_int_equal(s.parks, 0);
    assert_int_equal(s.members + s.res + s.black, 0);
    assert_int_equal(s.tomb, 2);
    assert_true((s.tomb_kinds[0] == STORE_KIND_MEMBER && s.tomb_ids[0] == m.id) ||
                (s.tomb_kinds[1] == STORE_KIND_MEMBER && s.tomb_ids[1] == m.id));
    assert_true((s.tomb_kinds[0] == STORE_KIND_RESERVATION && s.tomb_ids[0] == r.id) ||
                (s.tomb_kinds[1] == STORE_KIND_RESERVATION && s.tomb_ids[1] == r.id));
    /* a failed write does not move the revision */
    assert_int_equal(store_blacklist_delete(f->s, 424242), STORE_NOT_FOUND);
    assert_int_equal(store_revision(f->s, &rev0), STORE_OK);
    assert_int_equal(rev0, rev3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_uris, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vendor_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_park_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_and_pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blacklist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_members_and_reservations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incremental_load, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
