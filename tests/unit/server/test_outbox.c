/* test_outbox.c - the outbox's pure rules and its store sub-interface on both engines.
 *
 * The retry schedule (and its scaling), the URL choice, message preparation from service
 * rows (union_id placement, service_name, signature over the exact data text, validation
 * naming the field), and every op of store_outbox.h on a session of a fresh store (either
 * engine, store_fixture.h):
 * leases that hide claimed rows and expire by themselves, per-park order under leases,
 * outcomes, acknowledgement lookups, replay, counts, lists, and delivery settings that move
 * pending rows between push and poll. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "outbox/outbox.h"
#include "parklink/envelope.h"
#include "parklink/sign.h"
#include "store/store_outbox.h"
#include "db/writer.h"
#include "store_fixture.h"

#define KEY "EA2D90FEEF1E9F8E"

struct fx {
    struct store_fixture sf; /* either engine (PLK_TEST_ENGINE) */
    struct store *st;        /* the database */
    struct store_session *s; /* the test's session on it */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct store_vendor v = {.union_id = "200002", .ukey = KEY};
    struct store_park p = {.park_id = "20003", .union_id = "200002"};

    store_fixture_init(&f->sf, NULL);
    f->st = store_fixture_open(&f->sf);
    f->s = store_fixture_session(f->st);
    assert_int_equal(store_vendor_put(f->s, &v, STORE_INSERT, NULL), STORE_OK);
    assert_int_equal(store_park_put(f->s, &p, STORE_INSERT, NULL), STORE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    store_session_close(f->s);
    store_close(f->st);
    store_fixture_fini(&f->sf);
    free(f);
    return 0;
}

/* ---- pure rules ---- */

static void test_schedule(void **state)
{
    static const int64_t want[] = {10000, 20000,  30000,  40000,  50000,
                                   80000, 120000, 160000, 200000, 300000};

    for (int i = 1; i < OUTBOX_MAX_ATTEMPTS; i++) {
        assert_int_equal(outbox_retry_delay_ms(i, 1.0), want[i - 1]);
        assert_int_equal(outbox_retry_delay_ms(i, 0.01), want[i - 1] / 100);
    }
    /* after the 11th failed attempt: dead */
    assert_int_equal(outbox_retry_delay_ms(OUTBOX_MAX_ATTEMPTS, 1.0), -1);
    assert_int_equal(outbox_retry_delay_ms(99, 1.0), -1);
    /* never 0: a tiny scale still waits a millisecond */
    assert_int_equal(outbox_retry_delay_ms(1, 0.00001), 1);
    assert_int_equal(outbox_retry_delay_ms(3, 2.5), 75000);
}

static void test_choose_url(void **state)
{
    assert_string_equal(outbox_choose_url("http://n/", "http://s/", "http://u/"), "http://n/");
    assert_string_equal(outbox_choose_url("", "http://s/", "http://u/"), "http://s/");
    assert_string_equal(outbox_choose_url(NULL, NULL, "http://u/"), "http://u/");
    assert_string_equal(outbox_choose_url("", "", "http://u/"), "http://u/");
    assert_null(outbox_choose_url("", "", ""));
    assert_null(outbox_choose_url(NULL, NULL, NULL));
}

/* Prepare one message of row id with data text json. */
static enum plk_status prep(const char *id, const char *json, struct outbox_msg *m,
                            const struct plk_field **bad)
{
    json_t *data = json_loads(json, 0, NULL);
    char detail[160];
    struct outbox_spec spec = {.svc = plk_service_by_id(id),
                               .union_id = "200002",
                               .ukey = KEY,
                               .data = data,
                               .origin = "test"};
    enum plk_status st;

    assert_non_null(data);
    st = outbox_prepare(&spec, m, bad, detail, sizeof detail);
    json_decref(data);
    return st;
}

static void test_prepare(void **state)
{
    struct outbox_msg m;
    struct plk_envelope env;
    const struct plk_field *bad = NULL;

    /* envelope A with union_id inside data, first; service_name added; signed exactly */
    assert_int_equal(prep("space_notify",
                          "{\"park_id\":\"20003\",\"total_space\":5,"
                          "\"free_space\":1}",
                          &m, NULL),
                     PLK_OK);
    assert_string_equal(m.row.union_id, "200002");
    assert_string_equal(m.row.park_id, "20003");
    assert_string_equal(m.row.service_name, "space_notify");
    assert_int_equal(m.row.kind, STORE_OUTBOX_NOTICE);
    assert_non_null(strstr(m.body, "\"data\":{\"union_id\":200002,"));
    assert_non_null(strstr(m.body, "\"service_name\":\"space_notify\""));
    assert_int_equal(plk_envelope_parse(&env, m.body, strlen(m.body), 0, PLK_ENV_UNION_ID_OPTIONAL),
                     PLK_OK);
    assert_int_equal(plk_envelope_verify(&env, KEY), PLK_OK);
    plk_envelope_cleanup(&env);
    outbox_msg_cleanup(&m);

    /* NO_UNION_ID row (5.4, a question): no union_id anywhere; its park is comid */
    assert_int_equal(prep("get_inpark_image",
                          "{\"comid\":\"20003\",\"orderid\":\"A1\","
                          "\"type\":\"in\"}",
                          &m, NULL),
                     PLK_OK);
    assert_null(strstr(m.body, "union_id"));
    assert_string_equal(m.row.park_id, "20003");
    assert_int_equal(m.row.kind, STORE_OUTBOX_QUESTION);
    outbox_msg_cleanup(&m);

    /* the row's schema decides: the missing field is named */
    assert_int_equal(prep("space_notify", "{\"park_id\":\"20003\",\"total_space\":5}", &m, &bad),
                     PLK_E_FIELD_MISSING);
    assert_non_null(bad);
    assert_string_equal(bad->name, "free_space");
    assert_null(m.body);
    assert_int_equal(prep("special_plate",
                          "{\"park_id\":\"20003\",\"type\":\"move\","
                          "\"car_number\":\"A\",\"car_type\":\"white\"}",
                          &m, &bad),
                     PLK_E_FIELD_ENUM);
    assert_string_equal(bad->name, "type");
}

/* ---- the store ---- */

struct seen {
    int64_t ids[64];
    int64_t until[64]; /* claimed_until of each row */
    int n;
    char body[512];
};

static int is_pg(const struct fx *f)
{
    return strcmp(store_engine_name(f->st), "postgresql") == 0;
}

static int seen_has(const struct seen *s, int64_t id)
{
    for (int i = 0; i < s->n; i++)
        if (s->ids[i] == id)
            return 1;
    return 0;
}

static int on_msg(void *arg, const struct store_outbox_msg *row)
{
    struct seen *s = arg;

    s->until[s->n] = row->claimed_until;
    s->ids[s->n++] = row->id;
    snprintf(s->body, sizeof s->body, "%.*s", (int)row->body_len, row->body);
    return 0;
}

static int64_t add(struct store_session *s, const char *park, const char *name, int kind,
                   int64_t at)
{
    struct store_outbox_msg m = {.kind = kind, .created = at, .body = "{\"x\":1}", .body_len = 7};

    snprintf(m.union_id, sizeof m.union_id, "200002");
    snprintf(m.park_id, sizeof m.park_id, "%s", park);
    snprintf(m.service_name, sizeof m.service_name, "%s", name);
    assert_int_equal(store_outbox_enqueue(s, &m, 1), STORE_OK);
    assert_true(m.id > 0);
    return m.id;
}

static void test_claims_and_leases(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};
    int64_t a = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t b = add(f->s, "20003", "car_info", STORE_OUTBOX_NOTICE, 1001);
    int64_t q = add(f->s, "20003", "query_price", STORE_OUTBOX_QUESTION, 1002);
    int64_t at = 0;

    assert_int_equal(store_outbox_next_due(f->s, 0, &at), STORE_OK);
    assert_int_equal(at, 1000);
    /* nothing is due before its time */
    assert_int_equal(store_outbox_claim_due(f->s, 999, 5000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 0);
    /* due notices are leased; the question is not (asks send it themselves) */
    assert_int_equal(store_outbox_claim_due(f->s, 2000, 5000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.body, "{\"x\":1}");
    assert_true((s.ids[0] == a && s.ids[1] == b) || (s.ids[0] == b && s.ids[1] == a));
    assert_true(q > b);
    /* leased rows are invisible to a second claim until the lease ends */
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, 2000, 5000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(store_outbox_claim_due(f->s, 5000, 9000, 1, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    /* SQLite, one node: release (a restart) ends every lease, due now. PostgreSQL, several
     * nodes: release is refused (others' leases are live); the leases run out by 9000 */
    assert_int_equal(store_outbox_release_all(f->s, 6000), f->sf.pg ? STORE_ERROR : STORE_OK);
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, f->sf.pg ? 9000 : 6000, 12000, 10, on_msg, &s),
                     STORE_OK);
    assert_int_equal(s.n, 2);
}

static void test_outcomes(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};
    int64_t a = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t b = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t pending = -1, dead = -1;
    struct store_outbox_attempt att = {.at = 1500,
                                       .http_status = 500,
                                       .duration_ms = 3,
                                       .url = "http://v/",
                                       .error = "HTTP status 500"};
    struct store_outbox_result r[2] = {
        {.id = a,
         .outcome = STORE_OUTBOX_RETRY,
         .count_attempt = 1,
         .now = 1503,
         .next_at = 11503,
         .error = "HTTP status 500",
         .attempt = &att},
        {.id = b,
         .outcome = STORE_OUTBOX_GIVE_UP,
         .count_attempt = 1,
         .now = 1503,
         .error = "gone",
         .attempt = &att},
    };
    struct store_outbox_msg m;

    assert_int_equal(store_outbox_claim_due(f->s, 2000, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(store_outbox_finish(f->s, r, 2), STORE_OK);
    assert_int_equal(store_outbox_counts(f->s, &pending, &dead), STORE_OK);
    assert_int_equal(pending, 1);
    assert_int_equal(dead, 1);
    /* the retry is due at next_at again, its lease gone */
    assert_int_equal(store_outbox_next_due(f->s, 2000, &pending), STORE_OK);
    assert_int_equal(pending, 11503);
    /* a finished row is not changed by a late outcome (another node, a replay) */
    r[1].outcome = STORE_OUTBOX_OK;
    assert_int_equal(store_outbox_finish(f->s, &r[1], 1), STORE_OK);
    assert_int_equal(store_outbox_counts(f->s, &pending, &dead), STORE_OK);
    assert_int_equal(dead, 1);
    /* replay: only dead notices, back to pending with a fresh schedule */
    assert_int_equal(store_outbox_replay(f->s, a, 3000), STORE_CONFLICT);
    assert_int_equal(store_outbox_replay(f->s, 999, 3000), STORE_NOT_FOUND);
    assert_int_equal(store_outbox_replay(f->s, b, 3000), STORE_OK);
    assert_int_equal(store_outbox_counts(f->s, &pending, &dead), STORE_OK);
    assert_int_equal(pending, 2);
    assert_int_equal(dead, 0);
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, 3000, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], b);
    /* delivered */
    r[0] = (struct store_outbox_result){
        .id = b, .outcome = STORE_OUTBOX_OK, .count_attempt = 1, .now = 3100};
    assert_int_equal(store_outbox_finish(f->s, r, 1), STORE_OK);
    assert_int_equal(store_outbox_find_for_ack(f->s, "200002", "20003", "space_notify", b, &m),
                     STORE_OK);
    assert_int_equal(m.state, STORE_OUTBOX_DELIVERED);
    assert_int_equal(m.delivered_at, 3100);
    assert_int_equal(m.attempts, 1);
}

static int count_delivery(void *arg, const struct store_delivery *d)
{
    (*(int *)arg)++;
    return 0;
}

struct got {
    struct store_outbox_msg m;
    int attempts;
};

static int got_msg(void *arg, const struct store_outbox_msg *row)
{
    ((struct got *)arg)->m = *row;
    return 0;
}

static int got_attempt(void *arg, const struct store_outbox_attempt *a)
{
    ((struct got *)arg)->attempts++;
    return 0;
}

static void test_poll_and_ack(void **state)
{
    struct fx *f = *state;
    struct store_delivery d = {
        .union_id = "200002", .mode = STORE_DELIVERY_POLL, .urls = "{\"outpark\":\"http://v/o\"}"};
    struct seen s = {0};
    struct store_outbox_msg m;
    struct store_outbox_attempt att = {.at = 2000, .url = "bpd/download.do"};
    struct store_outbox_result r = {.outcome = STORE_OUTBOX_POLLED,
                                    .count_attempt = 1,
                                    .now = 2000,
                                    .next_at = 12000,
                                    .attempt = &att};
    int64_t a = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t any = add(f->s, "", "space_notify", STORE_OUTBOX_NOTICE, 1001);
    int64_t other = add(f->s, "20004", "space_notify", STORE_OUTBOX_NOTICE, 1002);
    struct got g = {0};
    int n = 0;

    /* poll mode takes pending rows off the push claims */
    assert_int_equal(store_delivery_put(f->s, &d), STORE_OK);
    assert_int_equal(store_outbox_claim_due(f->s, 5000, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(store_delivery_get(f->s, "200002", &d), STORE_OK);
    assert_int_equal(d.mode, STORE_DELIVERY_POLL);
    assert_string_equal(d.urls, "{\"outpark\":\"http://v/o\"}");
    d.union_id[0] = '9';
    assert_int_equal(store_delivery_put(f->s, &d), STORE_FOREIGN_KEY);
    assert_int_equal(store_delivery_get(f->s, "900002", &d), STORE_NOT_FOUND);
    assert_int_equal(store_delivery_list(f->s, count_delivery, &n), STORE_OK);
    assert_int_equal(n, 1);

    /* a poll of park 20003 gets its rows and the vendor's rows for no park, oldest first */
    assert_int_equal(
        store_outbox_claim_for_poll(f->s, "200002", "20003", 5000, 60000, 1, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], a);
    assert_int_equal(
        store_outbox_claim_for_poll(f->s, "200002", "20003", 5000, 60000, 5, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ids[1], any);
    assert_true(other > any);
    /* an acknowledgement by name finds only what was handed out */
    assert_int_equal(store_outbox_find_for_ack(f->s, "200002", "20003", "space_notify", 0, &m),
                     STORE_NOT_FOUND);
    r.id = a;
    assert_int_equal(store_outbox_finish(f->s, &r, 1), STORE_OK);
    assert_int_equal(store_outbox_find_for_ack(f->s, "200002", "20003", "space_notify", 0, &m),
                     STORE_OK);
    assert_int_equal(m.id, a);
    assert_int_equal(m.polled_at, 2000);
    assert_int_equal(m.attempts, 1);
    assert_null(m.body);
    /* by id: the wrong park or service finds nothing */
    assert_int_equal(store_outbox_find_for_ack(f->s, "200002", "20004", "space_notify", a, &m),
                     STORE_NOT_FOUND);
    assert_int_equal(store_outbox_find_for_ack(f->s, "200002", "20003", "car_info", a, &m),
                     STORE_NOT_FOUND);
    /* get: the row and its attempt */
    assert_int_equal(store_outbox_get(f->s, a, got_msg, got_attempt, &g), STORE_OK);
    assert_int_equal(g.m.id, a);
    assert_int_equal(g.attempts, 1);
    assert_int_equal(store_outbox_get(f->s, 999, got_msg, got_attempt, &g), STORE_NOT_FOUND);
    /* back to push: pending rows follow */
    d.union_id[0] = '2';
    d.mode = STORE_DELIVERY_PUSH;
    assert_int_equal(store_delivery_put(f->s, &d), STORE_OK);
    /* (the poll leases ended at 60000: on PostgreSQL, where release is refused, too) */
    assert_int_equal(store_outbox_release_all(f->s, 70000), f->sf.pg ? STORE_ERROR : STORE_OK);
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, 70000, 90000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 3);
}

/* A lease ends by itself: the row is claimable again at lease_until, without release_all
 * (a node that died holding it on a shared PostgreSQL), and the late holder's outcome stays
 * idempotent. */
static void test_lease_expiry(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};
    int64_t a = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t at = 0;
    struct store_outbox_result r = {
        .id = a, .outcome = STORE_OUTBOX_OK, .count_attempt = 1, .now = 5500};
    struct got g = {0};

    assert_int_equal(store_outbox_claim_due(f->s, 2000, 5000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.until[0], 5000);
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, 4999, 9000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(store_outbox_next_due(f->s, 4999, &at), STORE_OK);
    assert_int_equal(at, 5000);
    /* the lease ended at 5000: another claimant takes the row, with its own lease */
    assert_int_equal(store_outbox_claim_due(f->s, 5000, 9000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], a);
    assert_int_equal(s.until[0], 9000);
    /* a long-poll claim treats an expired lease the same way */
    s.n = 0;
    assert_int_equal(
        store_outbox_claim_for_poll(f->s, "200002", "20003", 8999, 12000, 5, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(
        store_outbox_claim_for_poll(f->s, "200002", "20003", 9000, 12000, 5, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    /* the first holder comes back late: delivered once; a second outcome changes nothing */
    assert_int_equal(store_outbox_finish(f->s, &r, 1), STORE_OK);
    r.outcome = STORE_OUTBOX_GIVE_UP;
    r.now = 9500;
    assert_int_equal(store_outbox_finish(f->s, &r, 1), STORE_OK);
    assert_int_equal(store_outbox_get(f->s, a, got_msg, NULL, &g), STORE_OK);
    assert_int_equal(g.m.state, STORE_OUTBOX_DELIVERED);
    assert_int_equal(g.m.delivered_at, 5500);
    assert_int_equal(g.m.claimed_until, 0);
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, 99000, 120000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 0);
}

static void finish_as(struct store_session *ss, int64_t id, int outcome, int64_t now,
                      int64_t next_at)
{
    struct store_outbox_result r = {
        .id = id, .outcome = outcome, .count_attempt = 1, .now = now, .next_at = next_at};

    assert_int_equal(store_outbox_finish(ss, &r, 1), STORE_OK);
}

/* Per-park order across claimants (nodes, PostgreSQL): a park's later message is not handed
 * out while an earlier one is leased; other parks are not held back, nor is a park by a
 * message that only waits for its retry. On SQLite the one node's lanes keep the order and a
 * claim takes rows behind its own leases. */
static void test_park_order(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};
    int64_t a1 = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t a2 = add(f->s, "20003", "car_info", STORE_OUTBOX_NOTICE, 1001);
    int64_t b1 = add(f->s, "20004", "space_notify", STORE_OUTBOX_NOTICE, 1002);
    int64_t n1 = add(f->s, "", "space_notify", STORE_OUTBOX_NOTICE, 1003);
    int64_t a3, a4, at = 0;
    struct store_delivery d = {.union_id = "200002", .mode = STORE_DELIVERY_POLL};

    assert_int_equal(store_outbox_claim_due(f->s, 2000, 60000, 1, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], a1);
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, 2000, 60000, 10, on_msg, &s), STORE_OK);
    if (!is_pg(f)) { /* one node: a2 joins a1 in the same lane */
        assert_int_equal(s.n, 3);
        assert_true(seen_has(&s, a2) && seen_has(&s, b1) && seen_has(&s, n1));
        return;
    }
    /* a second claimant: the other park and the vendor's park-less row, not a2 */
    assert_int_equal(s.n, 2);
    assert_true(seen_has(&s, b1) && seen_has(&s, n1));
    /* a2 is not reported due while it is held back (no claim loop spinning on it) */
    assert_int_equal(store_outbox_next_due(f->s, 2000, &at), STORE_OK);
    assert_int_equal(at, 60000);
    /* a1 delivered: a2 is next */
    finish_as(f->s, a1, STORE_OUTBOX_OK, 2100, 0);
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, 2200, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], a2);
    a3 = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 2300);
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, 2400, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 0);
    /* a2 fails: it waits for its retry and does not hold a3 back */
    finish_as(f->s, a2, STORE_OUTBOX_RETRY, 2450, 9000);
    assert_int_equal(store_outbox_claim_due(f->s, 2500, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], a3);
    /* the retry comes due: nothing earlier is leased, so it is claimed beside a3's lease */
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, 9000, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], a2);
    /* expired leases hold nothing back: at 60000 every row is free, a4 with them */
    a4 = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 9100);
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, 9200, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(store_outbox_claim_due(f->s, 60000, 90000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 5);
    assert_true(seen_has(&s, a2) && seen_has(&s, a3) && seen_has(&s, a4));
    /* long-poll claims keep the same order: a2 first, then not a3/a4 behind its lease */
    assert_int_equal(store_delivery_put(f->s, &d), STORE_OK);
    s.n = 0;
    assert_int_equal(
        store_outbox_claim_for_poll(f->s, "200002", "20003", 90000, 120000, 1, on_msg, &s),
        STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], a2);
    s.n = 0;
    assert_int_equal(
        store_outbox_claim_for_poll(f->s, "200002", "20003", 90000, 120000, 5, on_msg, &s),
        STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], n1);
    /* handed out (its lease ends at the outcome): a3 follows */
    finish_as(f->s, a2, STORE_OUTBOX_POLLED, 90100, 100000);
    s.n = 0;
    assert_int_equal(
        store_outbox_claim_for_poll(f->s, "200002", "20003", 90200, 120000, 1, on_msg, &s),
        STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], a3);
}

/* Inside the caller's transaction (the writer's batch, a job's savepoint) an op joins it: a
 * claim and an enqueue undone with the job's savepoint leave nothing behind; kept, they commit
 * with the batch. */
static void test_ops_join_the_callers_tx(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};
    int64_t a = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t pending = 0, dead = 0;
    struct store_outbox_msg m = {.union_id = "200002",
                                 .park_id = "20004",
                                 .service_name = "car_info",
                                 .created = 1500,
                                 .body = "{}",
                                 .body_len = 2};

    assert_int_equal(store_begin(f->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(store_savepoint(f->s), STORE_OK);
    assert_int_equal(store_outbox_claim_due(f->s, 2000, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(store_outbox_enqueue(f->s, &m, 1), STORE_OK);
    assert_true(store_in_tx(f->s));
    assert_int_equal(store_savepoint_end(f->s, 0), STORE_OK);
    assert_int_equal(store_commit(f->s), STORE_OK);
    assert_int_equal(store_outbox_counts(f->s, &pending, &dead), STORE_OK);
    assert_int_equal(pending, 1); /* the enqueue went with the savepoint */
    /* the lease went too: the row is claimable at once */
    s.n = 0;
    assert_int_equal(store_begin(f->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(store_savepoint(f->s), STORE_OK);
    assert_int_equal(store_outbox_claim_due(f->s, 2000, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], a);
    assert_int_equal(store_outbox_enqueue(f->s, &m, 1), STORE_OK);
    assert_int_equal(store_savepoint_end(f->s, 1), STORE_OK);
    assert_int_equal(store_commit(f->s), STORE_OK);
    assert_int_equal(store_outbox_counts(f->s, &pending, &dead), STORE_OK);
    assert_int_equal(pending, 2);
    s.n = 0;
    assert_int_equal(store_outbox_claim_due(f->s, 2000, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], m.id);
}

/* Retention: delivered rows older than the cut go, with their attempts, in batches; pending
 * and dead rows stay whatever their age. */
static void test_prune(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};
    struct got g;
    struct store_outbox_attempt att = {.at = 1500, .http_status = 200, .url = "http://v/"};
    int64_t old1 = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t old2 = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t young = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t dead = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t pending = add(f->s, "20003", "space_notify", STORE_OUTBOX_NOTICE, 1000);
    int64_t deleted = -1, npending = 0, ndead = 0;
    struct store_outbox_result r[4] = {
        {.id = old1, .outcome = STORE_OUTBOX_OK, .count_attempt = 1, .now = 1500, .attempt = &att},
        {.id = old2, .outcome = STORE_OUTBOX_OK, .count_attempt = 1, .now = 1600, .attempt = &att},
        {.id = young, .outcome = STORE_OUTBOX_OK, .count_attempt = 1, .now = 9000},
        {.id = dead, .outcome = STORE_OUTBOX_GIVE_UP, .count_attempt = 1, .now = 1500},
    };

    assert_int_equal(store_outbox_claim_due(f->s, 2000, 60000, 10, on_msg, &s), STORE_OK);
    assert_int_equal(store_outbox_finish(f->s, r, 4), STORE_OK);
    /* one at a time: the oldest first */
    assert_int_equal(store_outbox_prune(f->s, 5000, 1, &deleted), STORE_OK);
    assert_int_equal(deleted, 1);
    assert_int_equal(store_outbox_get(f->s, old1, got_msg, got_attempt, &g), STORE_NOT_FOUND);
    assert_int_equal(store_outbox_prune(f->s, 5000, 100, &deleted), STORE_OK);
    assert_int_equal(deleted, 1);
    assert_int_equal(store_outbox_get(f->s, old2, got_msg, got_attempt, &g), STORE_NOT_FOUND);
    assert_int_equal(store_outbox_prune(f->s, 5000, 100, &deleted), STORE_OK);
    assert_int_equal(deleted, 0);
    /* the younger delivery, the dead and the pending rows stay */
    memset(&g, 0, sizeof g);
    assert_int_equal(store_outbox_get(f->s, young, got_msg, got_attempt, &g), STORE_OK);
    assert_int_equal(store_outbox_counts(f->s, &npending, &ndead), STORE_OK);
    assert_int_equal(npending, 1);
    assert_int_equal(ndead, 1);
    assert_int_equal(store_outbox_get(f->s, pending, got_msg, got_attempt, &g), STORE_OK);
    /* later, the young one goes too; the dead one never */
    assert_int_equal(store_outbox_prune(f->s, 1000000, 100, &deleted), STORE_OK);
    assert_int_equal(deleted, 1);
    assert_int_equal(store_outbox_get(f->s, dead, got_msg, got_attempt, &g), STORE_OK);
}

static void test_list(void **state)
{
    struct fx *f = *state;
    struct seen s = {0};
    struct store_outbox_query q = {.limit = 2, .state = -1, .park_id = "20003"};
    int64_t total = 0, ids[4];

    for (int i = 0; i < 4; i++)
        ids[i] = add(f->s, i == 3 ? "20004" : "20003", i == 1 ? "car_info" : "space_notify",
                     STORE_OUTBOX_NOTICE, 1000 + i);
    assert_int_equal(store_outbox_list(f->s, &q, on_msg, &s, &total), STORE_OK);
    assert_int_equal(total, 3);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ids[0], ids[0]);
    q.after_id = ids[1];
    s.n = 0;
    assert_int_equal(store_outbox_list(f->s, &q, on_msg, &s, &total), STORE_OK);
    assert_int_equal(total, 3); /* the cursor does not change the total */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], ids[2]);
    q = (struct store_outbox_query){.state = STORE_OUTBOX_PENDING, .service_name = "car_info"};
    s.n = 0;
    assert_int_equal(store_outbox_list(f->s, &q, on_msg, &s, &total), STORE_OK);
    assert_int_equal(total, 1);
    assert_int_equal(s.ids[0], ids[1]);
    q.state = STORE_OUTBOX_DEAD;
    assert_int_equal(store_outbox_list(f->s, &q, on_msg, &s, &total), STORE_OK);
    assert_int_equal(total, 0);
}

/* ---- several nodes: sessions claiming at once ---- */

#define NODES 3
#define NODE_MSGS 450
#define NODE_PARKS 6

/* What the "nodes" (threads, a session each) delivered, in the order they delivered it. */
struct nodes {
    struct store *st;
    pthread_mutex_t mu;
    int64_t log_id[NODE_MSGS], log_park[NODE_MSGS];
    int nlog, foreign, failed;
    int producing;
};

struct node_batch {
    int64_t id[256], park[256];
    int n, foreign;
};

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int on_node_row(void *arg, const struct store_outbox_msg *row)
{
    struct node_batch *b = arg;

    if (strcmp(row->union_id, "200009") != 0)
        b->foreign++;
    b->id[b->n] = row->id;
    b->park[b->n++] = atoi(row->park_id + 1); /* "P<n>" */
    return 0;
}

static int by_park_then_id(const void *x, const void *y)
{
    const int64_t *a = x, *b = y;

    return a[1] != b[1] ? (a[1] < b[1] ? -1 : 1) : (a[0] < b[0] ? -1 : a[0] > b[0]);
}

/* One node: claim, deliver each park's rows in id order (its lanes), record the outcomes in
 * one finish; stop once the producer is done and claims stay empty. */
static void *node_main(void *arg)
{
    struct nodes *w = arg;
    char err[256];
    struct store_session *ss = store_session_open(w->st, err, sizeof err);
    int idle = 0, producing = 1;
    enum store_result sr;

    while (ss != NULL && (producing || idle < 20)) {
        struct node_batch b = {.n = 0};
        int64_t v[256][2], now = wall_ms();
        struct store_outbox_result r[256];

        pthread_mutex_lock(&w->mu);
        producing = w->producing;
        pthread_mutex_unlock(&w->mu);
        sr = store_outbox_claim_due(ss, now, now + 600000, 256, on_node_row, &b);
        if (sr == STORE_BUSY) /* another writer held the database: the next pass claims */
            continue;
        if (sr != STORE_OK)
            break;
        if (b.n == 0) {
            idle++;
            usleep(2000); /* a delivery thread waits for the next due time */
            continue;
        }
        idle = 0;
        for (int i = 0; i < b.n; i++) {
            v[i][0] = b.id[i];
            v[i][1] = b.park[i];
        }
        qsort(v, (size_t)b.n, sizeof v[0], by_park_then_id);
        /* each delivery takes a while, as a transfer does: lanes of nodes overlap */
        for (int i = 0; i < b.n; i++) {
            pthread_mutex_lock(&w->mu);
            if (w->nlog < NODE_MSGS) {
                w->log_id[w->nlog] = v[i][0];
                w->log_park[w->nlog++] = v[i][1];
            }
            pthread_mutex_unlock(&w->mu);
            usleep(1000);
        }
        pthread_mutex_lock(&w->mu);
        w->foreign += b.foreign;
        pthread_mutex_unlock(&w->mu);
        for (int i = 0; i < b.n; i++)
            r[i] = (struct store_outbox_result){
                .id = v[i][0], .outcome = STORE_OUTBOX_OK, .count_attempt = 1, .now = now};
        while ((sr = store_outbox_finish(ss, r, (size_t)b.n)) == STORE_BUSY)
            ;
        if (sr != STORE_OK)
            break;
    }
    pthread_mutex_lock(&w->mu);
    w->failed += idle < 20;
    pthread_mutex_unlock(&w->mu);
    store_session_close(ss);
    return NULL;
}

/* Nodes claiming while messages arrive (PostgreSQL: SQLite has one node): every message
 * delivered once, and each park's in the order it was written, whichever node took it. */
static void test_claims_across_sessions(void **state)
{
    struct fx *f = *state;
    struct nodes *w = calloc(1, sizeof *w);
    pthread_t t[NODES];
    struct store_vendor v = {.union_id = "200009", .ukey = KEY};
    enum store_result sr;

    assert_non_null(w);
    if (!is_pg(f)) {
        free(w);
        return;
    }
    assert_int_equal(store_vendor_put(f->s, &v, STORE_INSERT, NULL), STORE_OK);
    w->st = f->st;
    w->producing = 1;
    pthread_mutex_init(&w->mu, NULL);
    for (int i = 0; i < NODES; i++)
        assert_int_equal(pthread_create(&t[i], NULL, node_main, w), 0);
    srand(12);
    for (int i = 0; i < NODE_MSGS;) {
        struct store_outbox_msg m[3];
        int n = 1 + rand() % 3;

        if (n > NODE_MSGS - i)
            n = NODE_MSGS - i;
        for (int k = 0; k < n; k++) {
            m[k] = (struct store_outbox_msg){
                .union_id = "200009", .created = wall_ms(), .body = "{}", .body_len = 2};
            snprintf(m[k].park_id, sizeof m[k].park_id, "P%d", rand() % NODE_PARKS);
            snprintf(m[k].service_name, sizeof m[k].service_name, "space_notify");
        }
        while ((sr = store_outbox_enqueue(f->s, m, (size_t)n)) == STORE_BUSY)
            ;
        assert_int_equal(sr, STORE_OK);
        i += n;
    }
    pthread_mutex_lock(&w->mu);
    w->producing = 0;
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < NODES; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(w->failed, 0);
    assert_int_equal(w->foreign, 0);
    assert_int_equal(w->nlog, NODE_MSGS);
    /* once each: ids are distinct; in order: per park, each id larger than the one before */
    for (int p = 0; p < NODE_PARKS; p++) {
        int64_t last = 0;

        for (int i = 0; i < w->nlog; i++) {
            if (w->log_park[i] != p)
                continue;
            if (w->log_id[i] <= last)
                fail_msg("park P%d: message %lld delivered after %lld", p, (long long)w->log_id[i],
                         (long long)last);
            last = w->log_id[i];
        }
    }
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* outbox_enqueue goes through the writer's batch when it runs, and on the handle when not */
static void test_enqueue_through_the_writer(void **state)
{
    struct fx *f = *state;
    struct outbox_msg m[2];
    char err[256];
    int64_t pending = 0, dead = 0;

    if (writer_start(f->st, err, sizeof err) != 0)
        fail_msg("writer_start: %s", err);
    assert_int_equal(prep("space_notify",
                          "{\"park_id\":\"20003\",\"total_space\":5,"
                          "\"free_space\":1}",
                          &m[0], NULL),
                     PLK_OK);
    assert_int_equal(prep("car_info", "{\"park_id\":\"20003\",\"type\":\"add\"}", &m[1], NULL),
                     PLK_OK);
    assert_int_equal(outbox_enqueue(f->s, m, 2), STORE_OK);
    assert_true(m[0].row.id > 0 && m[1].row.id == m[0].row.id + 1);
    assert_true(m[0].row.created > 0);
    writer_stop();
    assert_int_equal(store_outbox_counts(f->s, &pending, &dead), STORE_OK);
    assert_int_equal(pending, 2);
    /* no writer now: the same call writes on the caller's session itself */
    assert_int_equal(outbox_enqueue(f->s, m, 1), STORE_OK);
    assert_int_equal(store_outbox_counts(f->s, &pending, &dead), STORE_OK);
    assert_int_equal(pending, 3);
    outbox_msg_cleanup(&m[0]);
    outbox_msg_cleanup(&m[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_choose_url),
        cmocka_unit_test(test_prepare),
        cmocka_unit_test_setup_teardown(test_claims_and_leases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll_and_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_park_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ops_join_the_callers_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims_across_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enqueue_through_the_writer, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
