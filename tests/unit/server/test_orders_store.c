/* test_orders_store.c - the orders domain of the store (store_orders.h), on either engine.
 *
 * A fresh database (store_fixture: PLK_TEST_ENGINE picks SQLite or PostgreSQL) with two
 * vendors and their parks; each test drives the ops as
 * the handlers do and reads back what a vendor or an operator would check: entry duplicates
 * and the stale-stay closure, every exit outcome and the money counted once, corrections and
 * their audit, 2.1/2.2/2.5 outcomes, QR codes, screen texts, monthly cards, 4.1 queries with
 * their totals, and ops joining a caller's transaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/sql.h"
#include "store/store.h"
#include "store/store_orders.h"
#include "store_fixture.h"

struct fx {
    struct store_fixture fx;
    struct store *st;
    struct store_session *s;
};

/* A copy of an order row (the callback's strings live only during the call). */
struct got {
    int n;
    int state, color;
    int64_t in_time, out_time, total_fen, paid_fen;
    char car_number[STORE_PLATE_MAX + 1], pay_type[64], park_name[64], order_id[64];
};

static void add_vendor(struct store_session *s, const char *uid)
{
    struct store_vendor v = {0};

    snprintf(v.union_id, sizeof v.union_id, "%s", uid);
    snprintf(v.ukey, sizeof v.ukey, "KEY%s", uid);
    snprintf(v.name, sizeof v.name, "vendor %s", uid);
    assert_int_equal(store_vendor_put(s, &v, STORE_INSERT, NULL), STORE_OK);
}

static void add_park(struct store_session *s, const char *pid, const char *uid)
{
    struct store_park p = {0};

    snprintf(p.park_id, sizeof p.park_id, "%s", pid);
    snprintf(p.union_id, sizeof p.union_id, "%s", uid);
    snprintf(p.name, sizeof p.name, "park %s", pid);
    p.total_plot = 100;
    p.empty_plot = 50;
    assert_int_equal(store_park_put(s, &p, STORE_INSERT, NULL), STORE_OK);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    store_fixture_init(&f->fx, NULL);
    f->st = store_fixture_open(&f->fx);
    f->s = store_fixture_session(f->st);
    add_vendor(f->s, "100001");
    add_vendor(f->s, "100002");
    add_park(f->s, "P1", "100001");
    add_park(f->s, "P2", "100001");
    add_park(f->s, "Q1", "100002");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    store_session_close(f->s);
    store_close(f->st);
    store_fixture_fini(&f->fx);
    free(f);
    return 0;
}

static void read_int(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

/* One integer from the database, for what no op reads back (live plots, audit rows); sql is
 * a literal (the statement cache keys by address). -12345 when there is no row. */
static int64_t peek(struct fx *f, const char *sql)
{
    int64_t v = -12345;
    enum store_result r = sql_one(sql_prepare(f->s, sql), "peek", read_int, &v);

    assert_true(r == STORE_OK || r == STORE_NOT_FOUND);
    return v;
}

static int on_order(void *arg, const struct store_order *o)
{
    struct got *g = arg;

    g->n++;
    g->state = o->state;
    g->color = o->color;
    g->in_time = o->in_time;
    g->out_time = o->out_time;
    g->total_fen = o->total_fen;
    g->paid_fen = o->paid_fen;
    snprintf(g->car_number, sizeof g->car_number, "%s", o->car_number);
    snprintf(g->pay_type, sizeof g->pay_type, "%s", o->pay_type);
    snprintf(g->park_name, sizeof g->park_name, "%s", o->park_name);
    snprintf(g->order_id, sizeof g->order_id, "%s", o->order_id);
    return 0;
}

static struct got order(struct fx *f, const char *park, const char *oid)
{
    struct got g = {0};

    assert_int_equal(store_order_get(f->s, park, oid, on_order, &g), STORE_OK);
    assert_int_equal(g.n, 1);
    return g;
}

static enum store_entry_outcome entry(struct fx *f, const char *park, const char *oid,
                                      const char *plate, int color, int64_t in, int64_t empty)
{
    struct store_entry e = {.park_id = park,
                            .order_id = oid,
                            .union_id = park[0] == 'Q' ? "100002" : "100001",
                            .car_number = plate,
                            .color = color,
                            .in_time = in,
                            .empty_plot = empty,
                            .is_report = -1};
    enum store_entry_outcome out = (enum store_entry_outcome) - 1;

    assert_int_equal(store_entry_put(f->s, &e, &out), STORE_OK);
    return out;
}

static struct store_exit exit_of(const char *park, const char *oid, const char *pay, int64_t total,
                                 int64_t out_time)
{
    struct store_exit x = {.park_id = park,
                           .order_id = oid,
                           .union_id = park[0] == 'Q' ? "100002" : "100001",
                           .car_number = "A12345",
                           .color = -1,
                           .out_time = out_time,
                           .pay_type = pay,
                           .empty_plot = -1,
                           .total_fen = total,
                           .pay_channel = -1,
                           .reduce_fen = -1,
                           .derate_duration = -1,
                           .is_report = -1};
    return x;
}

static enum store_exit_outcome do_exit(struct fx *f, const struct store_exit *x, int *created)
{
    enum store_exit_outcome out = (enum store_exit_outcome) - 1;
    int c = -1;

    assert_int_equal(store_exit_put(f->s, x, &out, &c), STORE_OK);
    if (created != NULL)
        *created = c;
    return out;
}

/* ---- 3.1 ---- */

static void test_entry_duplicate(void **state)
{
    struct fx *f = *state;
    struct got g;

    assert_int_equal(entry(f, "P1", "O1", "A12345", 1, 1000, 40), STORE_ENTRY_NEW);
    assert_int_equal(peek(f, "SELECT empty_plot FROM park_details WHERE park_id = 'P1'"), 40);
    /* the same order again, with other values: nothing is written, plots included */
    assert_int_equal(entry(f, "P1", "O1", "B99999", 2, 2000, 7), STORE_ENTRY_DUPLICATE);
    g = order(f, "P1", "O1");
    assert_string_equal(g.car_number, "A12345");
    assert_int_equal(g.color, 1);
    assert_int_equal(g.in_time, 1000);
    assert_int_equal(g.state, STORE_ORDER_OPEN);
    assert_string_equal(g.park_name, "park P1");
    assert_int_equal(peek(f, "SELECT empty_plot FROM park_details WHERE park_id = 'P1'"), 40);
    assert_int_equal(peek(f, "SELECT count(*) FROM orders"), 1);
    /* the same order_id in another park is another order */
    assert_int_equal(entry(f, "P2", "O1", "A12345", 1, 1000, -1), STORE_ENTRY_NEW);
    assert_int_equal(store_order_get(f->s, "P1", "nope", on_order, &g), STORE_NOT_FOUND);
}

static void test_entry_stale_close(void **state)
{
    struct fx *f = *state;
    struct got g;
    int64_t n = -1;

    assert_int_equal(entry(f, "P1", "S1", "A12345", 1, 1000, -1), STORE_ENTRY_NEW);
    assert_int_equal(entry(f, "P1", "OTHERCOLOR", "A12345", 2, 1100, -1), STORE_ENTRY_NEW);
    assert_int_equal(entry(f, "P2", "OTHERPARK", "A12345", 1, 1100, -1), STORE_ENTRY_NEW);
    assert_int_equal(entry(f, "P1", "S2", "A12345", 1, 2000, -1), STORE_ENTRY_NEW);
    /* the older stay of the same car and colour in that park closed at zero */
    g = order(f, "P1", "S1");
    assert_int_equal(g.state, STORE_ORDER_CLOSED_ZERO);
    assert_int_equal(g.out_time, 2000);
    assert_int_equal(g.total_fen, 0);
    assert_int_equal(order(f, "P1", "OTHERCOLOR").state, STORE_ORDER_OPEN);
    assert_int_equal(order(f, "P2", "OTHERPARK").state, STORE_ORDER_OPEN);
    assert_int_equal(order(f, "P1", "S2").state, STORE_ORDER_OPEN);
    /* a delayed older entry is stored closed, at the newer stay's in_time */
    assert_int_equal(entry(f, "P1", "S0", "A12345", 1, 1500, -1), STORE_ENTRY_NEW);
    g = order(f, "P1", "S0");
    assert_int_equal(g.state, STORE_ORDER_CLOSED_ZERO);
    assert_int_equal(g.out_time, 2000);
    assert_int_equal(order(f, "P1", "S2").state, STORE_ORDER_OPEN);
    /* a paying stay is closed too */
    {
        struct store_exit x = exit_of("P1", "S2", "wallet", 500, 2500);

        assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_PAYING);
    }
    assert_int_equal(entry(f, "P1", "S3", "A12345", 1, 3000, -1), STORE_ENTRY_NEW);
    g = order(f, "P1", "S2");
    assert_int_equal(g.state, STORE_ORDER_CLOSED_ZERO);
    assert_int_equal(g.out_time, 3000);
    assert_int_equal(store_open_count(f->s, "P1", &n), STORE_OK);
    assert_int_equal(n, 2); /* S3 and OTHERCOLOR */
    memset(&g, 0, sizeof g);
    assert_int_equal(store_open_list(f->s, "P1", on_order, &g), STORE_OK);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.order_id, "S3"); /* the last by in_time */
}

/* ---- 3.2 ---- */

static void test_exit_cash_and_repeats(void **state)
{
    struct fx *f = *state;
    struct store_exit x = exit_of("P1", "E1", "cash", 800, 5000);
    struct got g;
    int created = -1;

    x.empty_plot = 33;
    entry(f, "P1", "E1", "A12345", 1, 1000, -1);
    assert_int_equal(do_exit(f, &x, &created), STORE_EXIT_SETTLED);
    assert_int_equal(created, 0);
    g = order(f, "P1", "E1");
    assert_int_equal(g.state, STORE_ORDER_SETTLED);
    assert_int_equal(g.out_time, 5000);
    assert_int_equal(g.total_fen, 800);
    assert_int_equal(g.paid_fen, 800);
    assert_string_equal(g.pay_type, "cash");
    assert_int_equal(peek(f, "SELECT empty_plot FROM park_details WHERE park_id = 'P1'"), 33);
    /* the same exit again: no change; another one: refused, no change either */
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_REPEATED);
    x.total_fen = 900;
    x.empty_plot = 1;
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_CONFLICT);
    x.total_fen = 800;
    x.out_time = 5001;
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_CONFLICT);
    g = order(f, "P1", "E1");
    assert_int_equal(g.paid_fen, 800);
    assert_int_equal(g.total_fen, 800);
    assert_int_equal(g.out_time, 5000);
    assert_int_equal(peek(f, "SELECT empty_plot FROM park_details WHERE park_id = 'P1'"), 33);
}

static void test_exit_electronic_escape_before(void **state)
{
    struct fx *f = *state;
    struct store_exit x;
    struct got g = {0};

    entry(f, "P1", "W1", "A12345", 1, 1000, -1);
    x = exit_of("P1", "W1", "wallet", 600, 4000);
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_PAYING);
    g = order(f, "P1", "W1");
    assert_int_equal(g.state, STORE_ORDER_PAYING);
    assert_int_equal(g.paid_fen, 0);
    /* a paying order takes another exit: the booth retries with cash */
    x = exit_of("P1", "W1", "cash", 600, 4100);
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_SETTLED);
    assert_int_equal(order(f, "P1", "W1").paid_fen, 600);

    /* electronic with nothing due settles; an unknown pay_type settles like cash */
    entry(f, "P2", "Z1", "C11111", 0, 1000, -1);
    x = exit_of("P2", "Z1", "sweepcode", 0, 1500);
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_SETTLED);
    entry(f, "P2", "U1", "C22222", 0, 1000, -1);
    x = exit_of("P2", "U1", "unionpay", 300, 1500);
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_SETTLED);
    assert_int_equal(order(f, "P2", "U1").paid_fen, 300);

    /* escape: owes its total, is listed for the plate, and stays escaped */
    entry(f, "Q1", "X1", "D33333", 0, 1000, -1);
    x = exit_of("Q1", "X1", "escape", 1200, 2000);
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_ESCAPED);
    g = order(f, "Q1", "X1");
    assert_int_equal(g.state, STORE_ORDER_ESCAPED);
    assert_int_equal(g.paid_fen, 0);
    memset(&g, 0, sizeof g);
    assert_int_equal(store_escapes(f->s, "D33333", on_order, &g), STORE_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.total_fen, 1200);
    x = exit_of("Q1", "X1", "cash", 1200, 2000);
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_CONFLICT);
    assert_int_equal(order(f, "Q1", "X1").state, STORE_ORDER_ESCAPED);

    /* before the entry: refused, the order still open */
    entry(f, "P1", "B1", "E44444", 0, 3000, -1);
    x = exit_of("P1", "B1", "cash", 100, 2999);
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_BEFORE_ENTRY);
    g = order(f, "P1", "B1");
    assert_int_equal(g.state, STORE_ORDER_OPEN);
    assert_int_equal(g.out_time, 0);
}

static void test_exit_without_entry_and_closed_zero(void **state)
{
    struct fx *f = *state;
    struct store_exit x = exit_of("P1", "N1", "cash", 500, 9000);
    struct got g;
    int created = -1;

    x.in_time = 8000;
    x.color = 3;
    assert_int_equal(do_exit(f, &x, &created), STORE_EXIT_SETTLED);
    assert_int_equal(created, 1);
    g = order(f, "P1", "N1");
    assert_int_equal(g.state, STORE_ORDER_SETTLED);
    assert_int_equal(g.in_time, 8000);
    assert_int_equal(g.color, 3);
    assert_int_equal(g.paid_fen, 500);
    assert_int_equal(peek(f, "SELECT entry_missing FROM orders WHERE order_id = 'N1'"), 1);
    /* sent again: the order exists now */
    assert_int_equal(do_exit(f, &x, &created), STORE_EXIT_REPEATED);
    assert_int_equal(created, 0);
    /* an entry for it afterwards is a duplicate */
    assert_int_equal(entry(f, "P1", "N1", "A12345", 3, 8000, -1), STORE_ENTRY_DUPLICATE);

    /* a stay closed at zero still takes its late exit */
    entry(f, "P2", "C1", "F55555", 0, 1000, -1);
    entry(f, "P2", "C2", "F55555", 0, 2000, -1);
    assert_int_equal(order(f, "P2", "C1").state, STORE_ORDER_CLOSED_ZERO);
    x = exit_of("P2", "C1", "cash", 200, 1900);
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_SETTLED);
    g = order(f, "P2", "C1");
    assert_int_equal(g.state, STORE_ORDER_SETTLED);
    assert_int_equal(g.paid_fen, 200);
}

/* ---- 10.1 ---- */

static void test_corrections(void **state)
{
    struct fx *f = *state;
    struct store_correction c = {.park_id = "P1", .order_id = "K1", .union_id = "100001"};
    enum store_correct_outcome out;
    struct store_exit x;
    struct got g;

    c.type = 1;
    c.car_number = "G66666";
    c.color = -1;
    c.total_fen = -1;
    assert_int_equal(store_order_correct(f->s, &c, &out), STORE_OK);
    assert_int_equal(out, STORE_CORRECT_NO_ORDER);

    entry(f, "P1", "K1", "A12345", 1, 1000, -1);
    /* the plate of a car still inside may be corrected, its times and fee may not */
    assert_int_equal(store_order_correct(f->s, &c, &out), STORE_OK);
    assert_int_equal(out, STORE_CORRECT_DONE);
    g = order(f, "P1", "K1");
    assert_string_equal(g.car_number, "G66666");
    assert_int_equal(g.color, 1);
    c.type = 2;
    c.total_fen = 50;
    assert_int_equal(store_order_correct(f->s, &c, &out), STORE_OK);
    assert_int_equal(out, STORE_CORRECT_INSIDE);

    x = exit_of("P1", "K1", "cash", 700, 5000);
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_SETTLED);
    c.out_time = 900; /* before in_time 1000 */
    assert_int_equal(store_order_correct(f->s, &c, &out), STORE_OK);
    assert_int_equal(out, STORE_CORRECT_TIMES);
    assert_int_equal(order(f, "P1", "K1").total_fen, 700);
    c.out_time = 6000;
    c.total_fen = 450;
    c.park_business_type = "2";
    assert_int_equal(store_order_correct(f->s, &c, &out), STORE_OK);
    assert_int_equal(out, STORE_CORRECT_DONE);
    g = order(f, "P1", "K1");
    assert_int_equal(g.out_time, 6000);
    assert_int_equal(g.total_fen, 450);
    assert_int_equal(g.paid_fen, 450); /* cash: what the booth reports */
    assert_int_equal(peek(f, "SELECT count(*) FROM order_corrections WHERE order_id = 'K1'"), 2);
    assert_int_equal(peek(f, "SELECT old_total_fen FROM order_corrections WHERE order_id = 'K1' "
                             "ORDER BY id DESC LIMIT 1"),
                     700);
    assert_int_equal(peek(f, "SELECT count(*) FROM orders WHERE park_business_type = '2'"), 1);
}

/* ---- 2.1, 2.2, 2.5 ---- */

static struct store_park_publish publish_of(const char *park, const char *uid, const char *rand)
{
    struct store_park_publish p = {.park_id = park,
                                   .union_id = uid,
                                   .name = "Published",
                                   .phone = "0571-1",
                                   .rand = rand,
                                   .city_id = 330100,
                                   .total_plot = 200,
                                   .empty_plot = 150,
                                   .server_id = -1,
                                   .docking_type = -1};
    return p;
}

static void test_publish(void **state)
{
    struct fx *f = *state;
    struct store_park_publish p = publish_of("NEW1", "100001", "r1");
    enum store_park_outcome out;
    struct store_park park;
    int64_t account = 0, account2 = 0, rev0 = 0, rev1 = 0;

    assert_int_equal(store_revision(f->s, &rev0), STORE_OK);
    assert_int_equal(store_park_publish(f->s, &p, &out, &account), STORE_OK);
    assert_int_equal(out, STORE_PARK_CREATED);
    assert_true(account > 1000000);
    assert_int_equal(store_revision(f->s, &rev1), STORE_OK);
    assert_true(rev1 > rev0);
    assert_int_equal(store_park_get(f->s, "NEW1", &park), STORE_OK);
    assert_string_equal(park.union_id, "100001");
    assert_string_equal(park.name, "Published");
    assert_int_equal(park.total_plot, 200);
    /* the same rand again: a replay, nothing written */
    p.name = "Changed";
    assert_int_equal(store_park_publish(f->s, &p, &out, &account2), STORE_OK);
    assert_int_equal(out, STORE_PARK_REPLAY);
    assert_int_equal(store_park_get(f->s, "NEW1", &park), STORE_OK);
    assert_string_equal(park.name, "Published");
    /* a new rand: updated, same account */
    p.rand = "r2";
    assert_int_equal(store_park_publish(f->s, &p, &out, &account2), STORE_OK);
    assert_int_equal(out, STORE_PARK_UPDATED);
    assert_int_equal(account2, account);
    assert_int_equal(store_park_get(f->s, "NEW1", &park), STORE_OK);
    assert_string_equal(park.name, "Changed");
    /* another vendor's park; more free than total */
    p = publish_of("Q1", "100001", "r3");
    assert_int_equal(store_park_publish(f->s, &p, &out, &account2), STORE_OK);
    assert_int_equal(out, STORE_PARK_FOREIGN);
    assert_int_equal(store_park_get(f->s, "Q1", &park), STORE_OK);
    assert_string_equal(park.union_id, "100002");
    p = publish_of("NEW2", "100001", "r4");
    p.empty_plot = 201;
    assert_int_equal(store_park_publish(f->s, &p, &out, &account2), STORE_OK);
    assert_int_equal(out, STORE_PARK_PLOTS);
    assert_int_equal(store_park_get(f->s, "NEW2", &park), STORE_NOT_FOUND);
}

static void test_park_update_and_sms(void **state)
{
    struct fx *f = *state;
    struct store_park_publish p = publish_of("NEW1", "100001", "r1");
    struct store_park_update u = {.park_id = "NEW1",
                                  .union_id = "100001",
                                  .rand = "u1",
                                  .type = 1,
                                  .total_plot = -1,
                                  .empty_plot = 120};
    enum store_park_outcome out;
    struct store_park park;
    int64_t account;

    assert_int_equal(store_park_publish(f->s, &p, &out, &account), STORE_OK);
    assert_int_equal(store_park_update(f->s, &u, &out), STORE_OK);
    assert_int_equal(out, STORE_PARK_UPDATED);
    assert_int_equal(store_park_get(f->s, "NEW1", &park), STORE_OK);
    assert_int_equal(park.empty_plot, 120);
    assert_int_equal(park.total_plot, 200);
    assert_int_equal(peek(f, "SELECT empty_plot FROM park_details WHERE park_id = 'NEW1'"), 120);
    assert_int_equal(store_park_update(f->s, &u, &out), STORE_OK);
    assert_int_equal(out, STORE_PARK_REPLAY);
    u.rand = "u2";
    u.empty_plot = 201;
    assert_int_equal(store_park_update(f->s, &u, &out), STORE_OK);
    assert_int_equal(out, STORE_PARK_PLOTS);
    u.total_plot = 300;
    assert_int_equal(store_park_update(f->s, &u, &out), STORE_OK);
    assert_int_equal(out, STORE_PARK_UPDATED);
    u.park_id = "Q1";
    u.rand = "u3";
    assert_int_equal(store_park_update(f->s, &u, &out), STORE_OK);
    assert_int_equal(out, STORE_PARK_FOREIGN);
    u.park_id = "NOPE";
    assert_int_equal(store_park_update(f->s, &u, &out), STORE_OK);
    assert_int_equal(out, STORE_PARK_UNKNOWN);
    /* type 2: the vendor disables the park; publishing it again undoes that */
    u = (struct store_park_update){.park_id = "NEW1",
                                   .union_id = "100001",
                                   .rand = "u4",
                                   .type = 2,
                                   .total_plot = -1,
                                   .empty_plot = -1};
    assert_int_equal(store_park_update(f->s, &u, &out), STORE_OK);
    assert_int_equal(out, STORE_PARK_UPDATED);
    assert_int_equal(store_park_get(f->s, "NEW1", &park), STORE_OK);
    assert_int_equal(park.suspended, 1);
    assert_int_equal(park.empty_plot, 201); /* type 2 leaves the plots alone */
    p.rand = "r9";
    assert_int_equal(store_park_publish(f->s, &p, &out, &account), STORE_OK);
    assert_int_equal(store_park_get(f->s, "NEW1", &park), STORE_OK);
    assert_int_equal(park.suspended, 0);
    assert_int_equal(peek(f, "SELECT vendor_disabled FROM park_details WHERE park_id = 'NEW1'"), 0);

    assert_int_equal(store_park_sms(f->s, "NEW1", 1), STORE_OK);
    assert_int_equal(peek(f, "SELECT sms_verify FROM park_details WHERE park_id = 'NEW1'"), 1);
    assert_int_equal(store_park_sms(f->s, "P2", 1), STORE_OK); /* no details row yet */
    assert_int_equal(peek(f, "SELECT sms_verify FROM park_details WHERE park_id = 'P2'"), 1);
    assert_int_equal(store_park_sms(f->s, "NOPE", 1), STORE_NOT_FOUND);
    assert_int_equal(peek(f, "SELECT count(*) FROM park_details WHERE park_id = 'NOPE'"), 0);
}

/* ---- 2.3, 10.5 ---- */

static void test_qr(void **state)
{
    struct fx *f = *state;
    struct store_qr_request rq = {.park_id = "P1", .type = 2, .channel_id = "lane1"};
    struct store_qr a, b, c, got;

    assert_int_equal(store_qr_issue(f->s, &rq, &a), STORE_OK);
    assert_true(a.id > 0);
    assert_int_equal(store_qr_issue(f->s, &rq, &b), STORE_OK);
    assert_int_equal(b.id, a.id); /* the lane's active code */
    rq.create = 1;
    assert_int_equal(store_qr_issue(f->s, &rq, &b), STORE_OK);
    assert_true(b.id != a.id);
    assert_int_equal(store_qr_get(f->s, a.id, &got), STORE_OK);
    assert_int_equal(got.active, 1); /* create without change keeps the others */
    rq.change = 1;
    assert_int_equal(store_qr_issue(f->s, &rq, &c), STORE_OK);
    assert_int_equal(store_qr_get(f->s, a.id, &got), STORE_OK);
    assert_int_equal(got.active, 0);
    assert_int_equal(store_qr_get(f->s, b.id, &got), STORE_OK);
    assert_int_equal(got.active, 0);
    assert_int_equal(store_qr_get(f->s, c.id, &got), STORE_OK);
    assert_int_equal(got.active, 1);
    assert_string_equal(got.park_id, "P1");
    assert_string_equal(got.channel_id, "lane1");
    assert_int_equal(got.type, 2);
    rq.create = 0;
    rq.change = 0;
    assert_int_equal(store_qr_issue(f->s, &rq, &got), STORE_OK);
    assert_int_equal(got.id, c.id);
    rq.park_id = "NOPE";
    assert_int_equal(store_qr_issue(f->s, &rq, &got), STORE_NOT_FOUND);
    assert_int_equal(store_qr_get(f->s, c.id + 100, &got), STORE_NOT_FOUND);
}

static void test_screens(void **state)
{
    struct fx *f = *state;
    struct store_screen scr;

    assert_int_equal(store_screen_get(f->s, "P1", &scr), STORE_OK);
    assert_string_equal(scr.park_id, "P1");
    assert_string_equal(scr.text[0], "");
    assert_string_equal(scr.text[2], "");
    memset(&scr, 0, sizeof scr);
    snprintf(scr.park_id, sizeof scr.park_id, "P1");
    snprintf(scr.text[0], sizeof scr.text[0], "欢迎光临");
    snprintf(scr.text[2], sizeof scr.text[2], "一路顺风");
    assert_int_equal(store_screen_put(f->s, &scr), STORE_OK);
    assert_true(scr.updated > 0);
    snprintf(scr.text[1], sizeof scr.text[1], "请缴费");
    assert_int_equal(store_screen_put(f->s, &scr), STORE_OK);
    memset(&scr, 0, sizeof scr);
    assert_int_equal(store_screen_get(f->s, "P1", &scr), STORE_OK);
    assert_string_equal(scr.text[0], "欢迎光临");
    assert_string_equal(scr.text[1], "请缴费");
    assert_string_equal(scr.text[2], "一路顺风");
    snprintf(scr.park_id, sizeof scr.park_id, "NOPE");
    assert_int_equal(store_screen_put(f->s, &scr), STORE_FOREIGN_KEY);
    assert_int_equal(store_screen_delete(f->s, "P1"), STORE_OK);
    assert_int_equal(store_screen_delete(f->s, "P1"), STORE_NOT_FOUND);
    assert_int_equal(store_screen_get(f->s, "P1", &scr), STORE_OK);
    assert_string_equal(scr.text[0], "");
}

/* ---- cards ---- */

static struct store_card card_of(const char *park, const char *plate, int color)
{
    struct store_card c = {0};

    snprintf(c.park_id, sizeof c.park_id, "%s", park);
    snprintf(c.plate, sizeof c.plate, "%s", plate);
    c.color = color;
    c.type = 1;
    snprintf(c.valid_from, sizeof c.valid_from, "2026-01-01");
    snprintf(c.valid_until, sizeof c.valid_until, "2026-12-31");
    return c;
}

struct card_seen {
    int n;
    int64_t last_id;
};

static int on_card(void *arg, const struct store_card *c)
{
    struct card_seen *cs = arg;

    cs->n++;
    assert_true(c->id > cs->last_id);
    cs->last_id = c->id;
    return 0;
}

static void test_cards(void **state)
{
    struct fx *f = *state;
    struct store_card a = card_of("P1", "H77777", 1), b = card_of("P1", "H88888", 1), got;
    struct store_card dup = card_of("P1", "H77777", 1), bad = card_of("NOPE", "H77777", 1);
    struct store_card_query q = {0};
    struct card_seen cs = {0};
    int64_t total = -1;

    assert_int_equal(store_card_add(f->s, &a), STORE_OK);
    assert_true(a.id > 0);
    assert_true(a.created > 0);
    assert_int_equal(store_card_add(f->s, &b), STORE_OK);
    assert_int_equal(store_card_add(f->s, &dup), STORE_CONFLICT);
    assert_int_equal(store_card_add(f->s, &bad), STORE_FOREIGN_KEY);
    dup.color = 2; /* another colour, or another park, is another card */
    assert_int_equal(store_card_add(f->s, &dup), STORE_OK);
    dup = card_of("P2", "H77777", 1);
    dup.type = 2;
    snprintf(dup.company_name, sizeof dup.company_name, "某公司");
    assert_int_equal(store_card_add(f->s, &dup), STORE_OK);

    assert_int_equal(store_card_get(f->s, dup.id, &got), STORE_OK);
    assert_string_equal(got.company_name, "某公司");
    assert_string_equal(got.valid_until, "2026-12-31");
    assert_int_equal(got.type, 2);

    /* update: every field; onto another card's key refused; a missing id */
    got = b;
    snprintf(got.valid_until, sizeof got.valid_until, "2027-06-30");
    assert_int_equal(store_card_update(f->s, &got), STORE_OK);
    assert_int_equal(store_card_get(f->s, b.id, &got), STORE_OK);
    assert_string_equal(got.valid_until, "2027-06-30");
    assert_int_equal(got.created, b.created);
    snprintf(got.plate, sizeof got.plate, "H77777");
    assert_int_equal(store_card_update(f->s, &got), STORE_CONFLICT);
    snprintf(got.plate, sizeof got.plate, "H88888");
    snprintf(got.park_id, sizeof got.park_id, "NOPE");
    assert_int_equal(store_card_update(f->s, &got), STORE_FOREIGN_KEY);
    got = b;
    got.id = 999999;
    assert_int_equal(store_card_update(f->s, &got), STORE_NOT_FOUND);
    assert_int_equal(store_card_get(f->s, b.id, &got), STORE_OK);
    assert_string_equal(got.park_id, "P1");

    /* lists: filters, totals over all pages, paging by cursor and offset */
    assert_int_equal(store_card_list(f->s, &q, on_card, &cs, &total), STORE_OK);
    assert_int_equal(total, 4);
    assert_int_equal(cs.n, 4);
    q.park_id = "P1";
    q.limit = 2;
    memset(&cs, 0, sizeof cs);
    assert_int_equal(store_card_list(f->s, &q, on_card, &cs, &total), STORE_OK);
    assert_int_equal(total, 3);
    assert_int_equal(cs.n, 2);
    q.after_id = cs.last_id;
    memset(&cs, 0, sizeof cs);
    assert_int_equal(store_card_list(f->s, &q, on_card, &cs, &total), STORE_OK);
    assert_int_equal(total, 3);
    assert_int_equal(cs.n, 1);
    q = (struct store_card_query){.plate = "H77777", .type = 2};
    memset(&cs, 0, sizeof cs);
    assert_int_equal(store_card_list(f->s, &q, on_card, &cs, &total), STORE_OK);
    assert_int_equal(total, 1);
    assert_int_equal(cs.last_id, dup.id);
    q = (struct store_card_query){.plate = "H77777", .offset = 1};
    memset(&cs, 0, sizeof cs);
    assert_int_equal(store_card_list(f->s, &q, on_card, &cs, NULL), STORE_OK);
    assert_int_equal(cs.n, 2);

    assert_int_equal(store_card_delete(f->s, a.id), STORE_OK);
    assert_int_equal(store_card_delete(f->s, a.id), STORE_NOT_FOUND);
    assert_int_equal(store_card_get(f->s, a.id, &got), STORE_NOT_FOUND);
    /* the key is free again */
    a = card_of("P1", "H77777", 1);
    assert_int_equal(store_card_add(f->s, &a), STORE_OK);
}

/* ---- 4.1 ---- */

static int count_rows(void *arg, const struct store_order *o)
{
    struct got *g = arg;

    assert_true(o->in_time >= g->in_time); /* in_time order */
    g->in_time = o->in_time;
    g->n++;
    return 0;
}

static void test_query(void **state)
{
    struct fx *f = *state;
    struct store_order_query q = {.union_id = "100001", .car_number = "J00001"};
    struct got g = {0};
    int64_t total = -1;
    char oid[16];

    for (int i = 0; i < 5; i++) {
        snprintf(oid, sizeof oid, "QP1-%d", i);
        entry(f, "P1", oid, i < 3 ? "J00001" : "J00002", 0, 1000 + i * 100, -1);
        snprintf(oid, sizeof oid, "QP2-%d", i);
        entry(f, "P2", oid, "J00001", 1, 1050 + i * 100, -1);
    }
    entry(f, "Q1", "QQ1", "J00001", 2, 1000, -1); /* another vendor's park */

    assert_int_equal(store_order_query(f->s, &q, count_rows, &g, &total), STORE_OK);
    assert_int_equal(total, 8);
    assert_int_equal(g.n, 8);
    q.limit = 3;
    q.offset = 6;
    memset(&g, 0, sizeof g);
    assert_int_equal(store_order_query(f->s, &q, count_rows, &g, &total), STORE_OK);
    assert_int_equal(total, 8);
    assert_int_equal(g.n, 2);
    q = (struct store_order_query){.union_id = "100001", .park_id = "P1"};
    memset(&g, 0, sizeof g);
    assert_int_equal(store_order_query(f->s, &q, count_rows, &g, &total), STORE_OK);
    assert_int_equal(total, 5);
    q.car_number = "J00002";
    q.from = 1000;
    q.until = 1350;
    memset(&g, 0, sizeof g);
    assert_int_equal(store_order_query(f->s, &q, count_rows, &g, &total), STORE_OK);
    assert_int_equal(total, 1);
    assert_int_equal(g.n, 1);
    q = (struct store_order_query){.union_id = "100001", .order_id = "QP2-4"};
    memset(&g, 0, sizeof g);
    assert_int_equal(store_order_query(f->s, &q, on_order, &g, &total), STORE_OK);
    assert_int_equal(total, 1);
    assert_string_equal(g.order_id, "QP2-4");
    /* the other vendor sees only its own park's orders */
    q = (struct store_order_query){.union_id = "100002", .car_number = "J00001"};
    memset(&g, 0, sizeof g);
    assert_int_equal(store_order_query(f->s, &q, count_rows, &g, &total), STORE_OK);
    assert_int_equal(total, 1);
    q = (struct store_order_query){.union_id = "100002", .park_id = "P1"};
    assert_int_equal(store_order_query(f->s, &q, count_rows, &g, &total), STORE_OK);
    assert_int_equal(total, 0);
}

/* ---- in the caller's transaction ---- */

static void test_joins_transaction(void **state)
{
    struct fx *f = *state;
    struct store_exit x = exit_of("P1", "T1", "cash", 100, 2000);
    struct store_card c = card_of("P1", "K00001", 0);
    struct got g;

    /* a job's savepoint undone, the rest of the batch kept */
    assert_int_equal(store_begin(f->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(store_savepoint(f->s), STORE_OK);
    assert_int_equal(entry(f, "P1", "T1", "A12345", 1, 1000, -1), STORE_ENTRY_NEW);
    assert_int_equal(store_savepoint_end(f->s, 1), STORE_OK);
    assert_int_equal(store_savepoint(f->s), STORE_OK);
    assert_int_equal(entry(f, "P1", "T2", "A12345", 1, 1500, -1), STORE_ENTRY_NEW);
    assert_int_equal(store_savepoint_end(f->s, 0), STORE_OK);
    /* expected outcomes leave the transaction usable */
    assert_int_equal(entry(f, "P1", "T1", "A12345", 1, 1000, -1), STORE_ENTRY_DUPLICATE);
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_SETTLED);
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_REPEATED);
    assert_int_equal(store_card_add(f->s, &c), STORE_OK);
    c.id = 0;
    assert_int_equal(store_card_add(f->s, &c), STORE_CONFLICT);
    assert_int_equal(store_commit(f->s), STORE_OK);
    g = order(f, "P1", "T1");
    assert_int_equal(g.state, STORE_ORDER_SETTLED); /* T2 never closed it */
    assert_int_equal(store_order_get(f->s, "P1", "T2", on_order, &g), STORE_NOT_FOUND);
    assert_int_equal(peek(f, "SELECT count(*) FROM monthly_cards"), 1);

    /* rolled back whole */
    assert_int_equal(store_begin(f->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(entry(f, "P1", "T3", "A12345", 1, 3000, -1), STORE_ENTRY_NEW);
    store_rollback(f->s);
    assert_int_equal(store_order_get(f->s, "P1", "T3", on_order, &g), STORE_NOT_FOUND);
}

/* ---- two sessions at once (two nodes on PostgreSQL, two connections on SQLite) ---- */

/* What a second session does while the first holds its transaction open: no asserts here
 * (cmocka's cannot leave a thread). */
struct other {
    struct store_session *s;
    const struct store_entry *e;
    const struct store_exit *x;
    const struct store_park_update *u;
    enum store_result r;
    int out, created;
};

static void *other_main(void *arg)
{
    struct other *o = arg;

    if (o->e != NULL) {
        enum store_entry_outcome out;

        o->r = store_entry_put(o->s, o->e, &out);
        o->out = (int)out;
    } else if (o->u != NULL) {
        enum store_park_outcome out;

        o->r = store_park_update(o->s, o->u, &out);
        o->out = (int)out;
    } else {
        enum store_exit_outcome out;

        o->r = store_exit_put(o->s, o->x, &out, &o->created);
        o->out = (int)out;
    }
    return NULL;
}

/* Run o on its own thread while s's open write transaction holds what it needs, then
 * commit s. The pause only gives o the chance to wait on s: if it has not started yet it
 * runs after the commit, and the answers asserted are the same. */
static void race(struct store_session *s, struct other *o)
{
    struct timespec pause = {0, 200 * 1000 * 1000};
    pthread_t t;

    assert_int_equal(pthread_create(&t, NULL, other_main, o), 0);
    nanosleep(&pause, NULL);
    assert_int_equal(store_commit(s), STORE_OK);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(o->r, STORE_OK);
}

static void test_two_sessions(void **state)
{
    struct fx *f = *state;
    struct store_session *b;
    struct store_entry e = {
        .park_id = "P1", .union_id = "100001", .color = 0, .empty_plot = -1, .is_report = -1};
    struct store_exit x = exit_of("P1", "R3", "cash", 700, 5000);
    struct other o;
    char err[256];
    struct got g;

    if ((b = store_session_open(f->st, err, sizeof err)) == NULL)
        fail_msg("store_session_open: %s", err);
    /* the same order from two sessions: one stores it */
    assert_int_equal(store_begin(f->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(entry(f, "P1", "R1", "M10001", 0, 1000, -1), STORE_ENTRY_NEW);
    e.order_id = "R1";
    e.car_number = "M10001";
    e.in_time = 1000;
    o = (struct other){.s = b, .e = &e};
    race(f->s, &o);
    assert_int_equal(o.out, STORE_ENTRY_DUPLICATE);
    assert_int_equal(peek(f, "SELECT count(*) FROM orders WHERE order_id = 'R1'"), 1);

    /* the same car entering on two sessions: the later stay closes the earlier one */
    assert_int_equal(store_begin(f->s, STORE_TX_WRITE), STORE_OK);
    assert_int_equal(entry(f, "P1", "R2", "N20002", 0, 1000, -1), STORE_ENTRY_NEW);
    e.order_id = "R3";
    e.car_number = "N20002";
    e.in_time = 2000;
    o = (struct other){.s = b, .e = &e};
    race(f->s, &o);
    assert_int_equal(o.out, STORE_ENTRY_NEW);
    g = order(f, "P1", "R2");
    assert_int_equal(g.state, STORE_ORDER_CLOSED_ZERO);
    assert_int_equal(g.out_time, 2000);
    assert_int_equal(order(f, "P1", "R3").state, STORE_ORDER_OPEN);

    /* two exits of one order: settled once, the other refused */
    assert_int_equal(store_begin(f->s, STORE_TX_WRITE), STORE_OK);
    x.total_fen = 500;
    assert_int_equal(do_exit(f, &x, NULL), STORE_EXIT_SETTLED);
    {
        struct store_exit y = exit_of("P1", "R3", "cash", 700, 5000);

        o = (struct other){.s = b, .x = &y};
        race(f->s, &o);
    }
    assert_int_equal(o.out, STORE_EXIT_CONFLICT);
    assert_int_equal(o.created, 0);
    g = order(f, "P1", "R3");
    assert_int_equal(g.paid_fen, 500);
    assert_int_equal(g.total_fen, 500);

    /* one 2.2 replayed on two sessions: one update, one replay */
    {
        struct store_park_update u = {.park_id = "P1",
                                      .union_id = "100001",
                                      .rand = "same",
                                      .type = 1,
                                      .total_plot = -1,
                                      .empty_plot = 10};
        struct store_park_update v = u;
        enum store_park_outcome out;
        struct store_park park;

        assert_int_equal(store_begin(f->s, STORE_TX_WRITE), STORE_OK);
        assert_int_equal(store_park_update(f->s, &u, &out), STORE_OK);
        assert_int_equal(out, STORE_PARK_UPDATED);
        v.empty_plot = 20;
        o = (struct other){.s = b, .u = &v};
        race(f->s, &o);
        assert_int_equal(o.out, STORE_PARK_REPLAY);
        assert_int_equal(store_park_get(f->s, "P1", &park), STORE_OK);
        assert_int_equal(park.empty_plot, 10);
    }
    store_session_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_entry_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_stale_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_cash_and_repeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_electronic_escape_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_without_entry_and_closed_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_park_update_and_sms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_screens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_joins_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_sessions, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
