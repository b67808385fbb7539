/* test_registry.c - the admission snapshot and admission_decide (10.4) over a real store.
 *
 * Fixture: a temporary SQLite store with one vendor and parks of each policy; rows are
 * written through the store, then registry_reload() publishes them. Covers the rule order,
 * time windows, colours, members city-wide vs per park, reservations, reason_msg overrides,
 * plate normalisation, snapshot swap with readers holding old snapshots, and the base/delta
 * machinery (merge, delete, update) against expected answers. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry.h"
#include "store/store.h"

struct fx {
    char dir[64];
    char path[128];
    struct store *st;
    struct store_session *s;
    struct snapshot_reader rd;
    int64_t now;
};

static struct fx *F;

static void add_park(const char *pid, int members_only, int suspended, int idx, const char *msg)
{
    struct store_park p = {0};

    snprintf(p.park_id, sizeof(p.park_id), "%s", pid);
    snprintf(p.union_id, sizeof(p.union_id), "200002");
    p.members_only = members_only;
    p.suspended = suspended;
    if (msg != NULL)
        snprintf(p.reason_msg[idx], sizeof(p.reason_msg[idx]), "%s", msg);
    assert_int_equal(store_park_put(F->s, &p, STORE_INSERT, NULL), STORE_OK);
}

static int setup(void **state)
{
    struct store_vendor v = {0};
    char err[256];

    F = calloc(1, sizeof(*F));
    snprintf(F->dir, sizeof(F->dir), "/tmp/plk-reg-XXXXXX");
    assert_non_null(mkdtemp(F->dir));
    snprintf(F->path, sizeof(F->path), "%s/t.db", F->dir);
    F->st = store_open(F->path, err, sizeof(err));
    assert_non_null(F->st);
    assert_non_null(F->s = store_session_open(F->st, err, sizeof err));
    F->now = (int64_t)time(NULL);
    snprintf(v.union_id, sizeof(v.union_id), "200002");
    snprintf(v.ukey, sizeof(v.ukey), "EA2D90FEEF1E9F8E");
    snprintf(v.callback_url, sizeof(v.callback_url), "http://127.0.0.1:1/cb");
    assert_int_equal(store_vendor_put(F->s, &v, STORE_INSERT, NULL), STORE_OK);
    add_park("open", 0, 0, 0, NULL);
    add_park("mo", 1, 0, 0, NULL);
    add_park("mo2", 1, 0, 1, "仅限会员");
    add_park("sus", 0, 1, 3, "暂停");
    assert_int_equal(registry_init(F->st), 0);
    *state = F;
    return 0;
}

static int teardown(void **state)
{
    char p[160];

    registry_reader_release(&F->rd);
    registry_cleanup();
    store_session_close(F->s);
    store_close(F->st);
    unlink(F->path);
    snprintf(p, sizeof(p), "%s-wal", F->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", F->path);
    unlink(p);
    rmdir(F->dir);
    free(F);
    F = NULL;
    return 0;
}

static int64_t black(const char *plate, int color, int64_t from, int64_t until)
{
    struct store_blacklist e = {0};

    snprintf(e.plate, sizeof(e.plate), "%s", plate);
    e.color = color;
    e.valid_from = from;
    e.valid_until = until;
    assert_int_equal(store_blacklist_add(F->s, &e), STORE_OK);
    return e.id;
}

static int64_t member(const char *plate, int color, const char *park, int64_t until)
{
    struct store_member m = {0};

    snprintf(m.plate, sizeof(m.plate), "%s", plate);
    snprintf(m.park_id, sizeof(m.park_id), "%s", park);
    m.color = color;
    m.valid_until = until;
    assert_int_equal(store_member_add(F->s, &m), STORE_OK);
    return m.id;
}

static int64_t reserve(const char *plate, const char *park, int64_t start, int64_t end)
{
    struct store_reservation r = {0};

    snprintf(r.plate, sizeof(r.plate), "%s", plate);
    snprintf(r.park_id, sizeof(r.park_id), "%s", park);
    r.start = start;
    r.end = end;
    assert_int_equal(store_reservation_add(F->s, &r), STORE_OK);
    return r.id;
}

/* Decide with the fixture reader; returns "status/reason/share" for compact asserts. */
static const char *decide_at(const char *park, const char *plate, int color, int64_t at,
                             struct admission *a)
{
    static char buf[32];
    const struct snapshot *s = registry_current(&F->rd);
    const struct park *p = snapshot_park(s, park);

    assert_non_null(p);
    admission_decide(s, p, plate, color, at, a);
    snprintf(buf, sizeof(buf), "%s/%s/%s", a->status, a->reason, a->share_status);
    return buf;
}

static const char *decide(const char *park, const char *plate, int color)
{
    struct admission a;

    return decide_at(park, plate, color, F->now, &a);
}

static void test_plate_norm(void **state)
{
    char out[REGISTRY_PLATE_MAX + 1];
    char longp[80];

    assert_int_equal(registry_plate_norm("  京hp00g6\t", strlen("  京hp00g6\t"), out), 9);
    assert_string_equal(out, "京HP00G6");
    assert_int_equal(registry_plate_norm("   ", 3, out), -1);
    assert_int_equal(registry_plate_norm("", 0, out), -1);
    memset(longp, 'a', sizeof(longp));
    assert_int_equal(registry_plate_norm(longp, 65, out), -1);
    assert_int_equal(registry_plate_norm(longp, 64, out), 64);
}

static void test_lookups(void **state)
{
    const struct snapshot *s = registry_current(&F->rd);
    const struct vendor *v = snapshot_vendor(s, "200002");
    const struct park *p = snapshot_park(s, "mo2");

    assert_non_null(v);
    assert_string_equal(v->ukey, "EA2D90FEEF1E9F8E");
    assert_string_equal(v->callback_url, "http://127.0.0.1:1/cb");
    assert_null(snapshot_vendor(s, "1"));
    assert_non_null(p);
    assert_string_equal(p->union_id, "200002");
    assert_int_equal(p->policy, PARK_MEMBERS_ONLY);
    assert_string_equal(p->reason_msg[1], "仅限会员");
    assert_null(p->reason_msg[2]);
    assert_null(snapshot_park(s, "nope"));
}

static void test_blacklist_colours(void **state)
{
    struct admission a;

    black("京A11111", 0, 0, 0);
    black("京B22222", -1, 0, 0);
    assert_int_equal(registry_reload(), 0);
    assert_string_equal(decide_at("open", "京A11111", 0, F->now, &a), "0/2/0");
    assert_string_equal(a.reason_msg, "城市黑名单车辆,禁止入场");
    assert_string_equal(decide("open", "京A11111", 1), "1/0/0");   /* other colour */
    assert_string_equal(decide("open", " 京a11111 ", 0), "0/2/0"); /* normalised */
    assert_string_equal(decide("open", "京B22222", 0), "0/2/0");   /* any colour */
    assert_string_equal(decide("open", "京B22222", 5), "0/2/0");
    assert_string_equal(decide_at("open", "京C33333", 0, F->now, &a), "1/0/0");
    assert_string_equal(a.reason_msg, "");
    assert_string_equal(decide("open", "", 0), "1/0/0");

    /* plates longer than the inline entry bytes live in the arena */
    black("京津冀沪渝粤港澳A1", 0, 0, 0);
    assert_int_equal(registry_reload(), 0);
    assert_string_equal(decide("open", "京津冀沪渝粤港澳A1", 0), "0/2/0");
    assert_string_equal(decide("open", "京津冀沪渝粤港澳A2", 0), "1/0/0");
    assert_string_equal(decide("open", "京A11111", 0), "0/2/0");
}

static void test_blacklist_windows(void **state)
{
    struct admission a;
    int64_t t = F->now;

    black("W1", 0, t - 100, t + 100); /* valid now, ends at t+100 (exclusive) */
    black("W2", 0, t + 100, 0);       /* not yet valid, then open-ended */
    black("W3", 0, t - 200, t - 10);  /* expired */
    assert_int_equal(registry_reload(), 0);
    assert_string_equal(decide_at("open", "W1", 0, t, &a), "0/2/0");
    assert_string_equal(decide_at("open", "W1", 0, t + 99, &a), "0/2/0");
    assert_string_equal(decide_at("open", "W1", 0, t + 100, &a), "1/0/0");
    assert_string_equal(decide_at("open", "W2", 0, t, &a), "1/0/0");
    assert_string_equal(decide_at("open", "W2", 0, t + 100, &a), "0/2/0");
    assert_string_equal(decide_at("open", "W2", 0, t + 100000000, &a), "0/2/0");
    assert_string_equal(decide_at("open", "W3", 0, t, &a), "1/0/0");
}

static void test_members(void **state)
{
    struct admission a;

    member("CITY1", 0, "", 0);           /* city-wide, open-ended */
    member("PARK1", 0, "mo2", 0);        /* only mo2 */
    member("OLD1", 0, "", F->now - 1);   /* expired */
    member("SOON1", 0, "", F->now + 50); /* ends soon */
    member("YEL1", 1, "", 0);            /* yellow plate */
    assert_int_equal(registry_reload(), 0);
    assert_string_equal(decide_at("mo", "NOBODY", 0, F->now, &a), "0/1/0");
    assert_string_equal(a.reason_msg, "非本市会员车辆,限制入场");
    assert_string_equal(decide("mo", "CITY1", 0), "1/0/0");
    assert_string_equal(decide("mo2", "CITY1", 0), "1/0/0");
    assert_string_equal(decide("mo", "PARK1", 0), "0/1/0");
    assert_string_equal(decide_at("mo2", "PARK1", 0, F->now, &a), "1/0/0");
    assert_string_equal(decide_at("mo2", "NOBODY", 0, F->now, &a), "0/1/0");
    assert_string_equal(a.reason_msg, "仅限会员");
    assert_string_equal(decide("mo", "OLD1", 0), "0/1/0");
    assert_string_equal(decide("mo", "SOON1", 0), "1/0/0");
    assert_string_equal(decide_at("mo", "SOON1", 0, F->now + 50, &a), "0/1/0");
    assert_string_equal(decide("mo", "YEL1", 0), "0/1/0");
    assert_string_equal(decide("mo", "YEL1", 1), "1/0/0");
    assert_string_equal(decide("open", "NOBODY", 0), "1/0/0");
}

static void test_reservations(void **state)
{
    struct store_reservation r;
    struct admission a;
    int64_t t = F->now, id;

    id = reserve("RES1", "mo", t - 60, t + 3600);
    reserve("RES2", "mo", t + 600, t + 3600); /* not started */
    reserve("RES3", "mo", t - 3600, t - 60);  /* over */
    reserve("RES4", "mo2", t - 60, t + 3600); /* another park */
    reserve("RES5", "open", t - 60, t + 3600);
    assert_int_equal(registry_reload(), 0);
    assert_string_equal(decide("mo", "RES1", 0), "1/0/1");
    assert_string_equal(decide("mo", "RES1", 2), "0/1/0"); /* colour is part of the car */
    assert_string_equal(decide("mo", "RES2", 0), "0/1/0");
    assert_string_equal(decide_at("mo", "RES2", 0, t + 600, &a), "1/0/1");
    assert_string_equal(decide("mo", "RES3", 0), "0/1/0");
    assert_string_equal(decide("mo", "RES4", 0), "0/1/0");
    assert_string_equal(decide("mo2", "RES4", 0), "1/0/1");
    assert_string_equal(decide("open", "RES5", 0), "1/0/1"); /* share_status on open park */
    assert_string_equal(decide("open", "RES1", 0), "1/0/0");

    /* cancelling takes effect at the next reload */
    assert_int_equal(store_reservation_get(F->s, id, &r), STORE_OK);
    r.state = STORE_RES_CANCELLED;
    assert_int_equal(store_reservation_update(F->s, &r), STORE_OK);
    assert_int_equal(registry_reload(), 0);
    assert_string_equal(decide("mo", "RES1", 0), "0/1/0");
    r.state = STORE_RES_ACTIVE;
    assert_int_equal(store_reservation_update(F->s, &r), STORE_OK);
    assert_int_equal(registry_reload(), 0);
    assert_string_equal(decide("mo", "RES1", 0), "1/0/1");
}

static void test_rule_order_and_messages(void **state)
{
    struct admission a;
    int64_t t = F->now;

    black("BAD1", -1, 0, 0);
    member("BAD1", 0, "", 0);
    reserve("BAD1", "mo", t - 10, t + 10);
    assert_int_equal(registry_reload(), 0);
    /* blacklist wins over membership, a reservation, and suspension */
    assert_string_equal(decide("mo", "BAD1", 0), "0/2/1");
    assert_string_equal(decide_at("sus", "BAD1", 0, t, &a), "0/2/0");
    assert_string_equal(a.reason_msg, "城市黑名单车辆,禁止入场");
    assert_string_equal(decide_at("sus", "GOOD", 0, t, &a), "0/99/0");
    assert_string_equal(a.reason_msg, "暂停");
}

static void test_park_changes_and_default_99(void **state)
{
    struct store_park p;
    struct admission a;

    assert_int_equal(store_park_get(F->s, "open", &p), STORE_OK);
    p.suspended = 1;
    assert_int_equal(store_park_put(F->s, &p, STORE_UPDATE, NULL), STORE_OK);
    assert_string_equal(decide("open", "X1", 0), "1/0/0"); /* not reloaded yet */
    assert_int_equal(registry_reload(), 0);
    assert_string_equal(decide_at("open", "X1", 0, F->now, &a), "0/99/0");
    assert_string_equal(a.reason_msg, "车场暂停服务,禁止入场");
}

static void test_swap_and_old_readers(void **state)
{
    struct snapshot_reader other = {0};
    struct registry_stats st0, st1;
    const struct snapshot *old, *cur;
    const struct park *p;
    struct admission a;

    old = registry_current(&other);
    p = snapshot_park(old, "open");
    registry_get_stats(&st0);
    assert_int_equal(registry_reload(), 0); /* nothing changed: no new snapshot */
    registry_get_stats(&st1);
    assert_int_equal(st0.generation, st1.generation);

    black("SWAP1", 0, 0, 0);
    assert_int_equal(store_park_delete(F->s, "mo2"), STORE_OK);
    assert_int_equal(registry_reload(), 0);
    registry_get_stats(&st1);
    assert_true(st1.generation > st0.generation);
    /* the old snapshot is still whole for its reader: old answer, old park still there */
    admission_decide(old, p, "SWAP1", 0, F->now, &a);
    assert_string_equal(a.status, "1");
    assert_non_null(snapshot_park(old, "mo2"));
    /* ... until the reader asks again */
    cur = registry_current(&other);
    assert_ptr_not_equal(cur, old);
    admission_decide(cur, snapshot_park(cur, "open"), "SWAP1", 0, F->now, &a);
    assert_string_equal(a.status, "0");
    assert_null(snapshot_park(cur, "mo2"));
    assert_ptr_equal(registry_current(&other), cur); /* fast path: same snapshot */
    /* a reader outliving registry_cleanup keeps its snapshot until it releases it */
    registry_cleanup();
    assert_non_null(snapshot_park(cur, "open"));
    registry_reader_release(&other);
    assert_int_equal(registry_init(F->st), 0);
    assert_string_equal(decide("open", "SWAP1", 0), "0/2/0");
}

/* The base/delta machinery against a model: a merge, deletes and re-adds in the delta,
 * another merge. */
static void test_delta_and_merge(void **state)
{
    enum { N = 6000 };
    struct store_blacklist *bulk = calloc(N, sizeof(*bulk));
    struct registry_stats st;
    char plate[32];
    struct store_member mb;
    int64_t mid;

    for (int i = 0; i < N; i++) {
        snprintf(bulk[i].plate, sizeof(bulk[i].plate), "B%05d", i);
        bulk[i].color = i % 2 ? -1 : 3;
    }
    snprintf(bulk[N - 1].plate, sizeof(bulk[N - 1].plate), "长长长长长长B%05d", N - 1);
    assert_int_equal(store_blacklist_add_bulk(F->s, bulk, N, NULL), STORE_OK);
    mid = member("MEMX", 0, "mo", 0);
    assert_int_equal(registry_reload(), 0);
    registry_get_stats(&st);
    assert_int_equal(st.base[0], N); /* more than MERGE_MIN changes: merged */
    assert_int_equal(st.delta[0], 0);
    assert_int_equal(st.delta[1], 1); /* one member: in the delta */
    assert_string_equal(decide("open", "B00010", 3), "0/2/0");
    assert_string_equal(decide("open", "B00010", 4), "1/0/0");
    assert_string_equal(decide("open", "B00011", 4), "0/2/0");
    assert_string_equal(decide("open", "长长长长长长B05999", 4), "0/2/0");

    /* small changes go to the delta: delete some, re-add one with another colour */
    for (int i = 0; i < 20; i++)
        assert_int_equal(store_blacklist_delete(F->s, bulk[i].id), STORE_OK);
    black("B00000", 5, 0, 0);
    black("NEW1", 0, 0, 0);
    assert_int_equal(store_member_get(F->s, mid, &mb), STORE_OK);
    snprintf(mb.park_id, sizeof(mb.park_id), "mo2");
    assert_int_equal(store_member_update(F->s, &mb), STORE_OK);
    assert_int_equal(registry_reload(), 0);
    registry_get_stats(&st);
    assert_int_equal(st.base[0], N);
    assert_int_equal(st.delta[0], 2);
    assert_string_equal(decide("open", "B00000", 3), "1/0/0"); /* deleted */
    assert_string_equal(decide("open", "B00000", 5), "0/2/0"); /* re-added, colour 5 */
    assert_string_equal(decide("open", "B00019", 4), "1/0/0");
    assert_string_equal(decide("open", "B00020", 3), "0/2/0");
    assert_string_equal(decide("open", "NEW1", 0), "0/2/0");
    assert_string_equal(decide("mo", "MEMX", 0), "0/1/0"); /* moved to mo2 */
    assert_string_equal(decide("mo2", "MEMX", 0), "1/0/0");

    /* a big change merges the delta and the new rows into a new base */
    for (int i = 0; i < N; i++) {
        snprintf(plate, sizeof(plate), "C%05d", i);
        snprintf(bulk[i].plate, sizeof(bulk[i].plate), "%s", plate);
        bulk[i].color = 0;
    }
    assert_int_equal(store_blacklist_add_bulk(F->s, bulk, N, NULL), STORE_OK);
    assert_int_equal(registry_reload(), 0);
    registry_get_stats(&st);
    assert_int_equal(st.base[0], 2 * N - 20 + 2);
    assert_int_equal(st.delta[0], 0);
    assert_true(st.bytes > 0);
    assert_string_equal(decide("open", "B00000", 3), "1/0/0");
    assert_string_equal(decide("open", "B00000", 5), "0/2/0");
    assert_string_equal(decide("open", "B05998", 3), "0/2/0");
    assert_string_equal(decide("open", "C05999", 0), "0/2/0");
    assert_string_equal(decide("open", "NEW1", 0), "0/2/0");
    assert_string_equal(decide("open", "B00019", 4), "1/0/0");
    assert_string_equal(decide("open", "长长长长长长B05999", 4), "0/2/0");

    /* a fresh registry (full load) agrees */
    registry_reader_release(&F->rd);
    assert_int_equal(registry_init(F->st), 0);
    assert_string_equal(decide("open", "B00000", 3), "1/0/0");
    assert_string_equal(decide("open", "B00000", 5), "0/2/0");
    assert_string_equal(decide("open", "C00042", 0), "0/2/0");
    assert_string_equal(decide("mo2", "MEMX", 0), "1/0/0");
    free(bulk);
}

static atomic_int stop_readers;

static void *reader_thread(void *arg)
{
    struct snapshot_reader rd = {0};
    struct admission a;
    long *checks = arg;

    while (!atomic_load(&stop_readers)) {
        const struct snapshot *s = registry_current(&rd);
        const struct park *p = snapshot_park(s, "mo");

        assert_non_null(p);
        admission_decide(s, p, "T0", 0, (int64_t)time(NULL), &a);
        assert_true(a.status[0] == '0' || a.status[0] == '1');
        (*checks)++;
    }
    registry_reader_release(&rd);
    return NULL;
}

/* Readers on other threads keep deciding while the main thread publishes snapshots (run
 * under ASan: a snapshot freed too early or leaked shows up here). */
static void test_concurrent_readers(void **state)
{
    pthread_t th[3];
    long checks[3] = {0};
    char plate[16];

    atomic_store(&stop_readers, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader_thread, &checks[i]), 0);
    for (int i = 0; i < 40; i++) {
        snprintf(plate, sizeof(plate), "T%d", i);
        if (i % 2)
            black(plate, 0, 0, 0);
        else
            member(plate, 0, "", 0);
        assert_int_equal(registry_reload(), 0);
    }
    atomic_store(&stop_readers, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_true(checks[0] > 0 && checks[1] > 0 && checks[2] > 0);
    assert_string_equal(decide("mo", "T0", 0), "1/0/0");
    assert_string_equal(decide("mo", "T39", 0), "0/2/0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plate_norm),
        cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blacklist_colours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blacklist_windows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_order_and_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_park_changes_and_default_99, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_and_old_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delta_and_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_readers, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
