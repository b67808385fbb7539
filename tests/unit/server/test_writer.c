/* test_writer.c - the group-commit writer (server/db/writer.c) on a real SQLite file.
 *
 * Batching: while a gate job holds the writer, 63 threads submit at once; they must all land
 * in one more batch (two commits for 64 jobs), and every row must be stored. Isolation: a job
 * that writes and then fails is rolled back alone, its batch mates commit. A batch whose
 * transaction breaks, or whose COMMIT fails on a full disk, fails whole. The WAL is checkpointed
 * beside the writer. Completions travel back through an h2o receiver to the submitting thread's
 * loop, and a job submitted to a stopped writer fails at once. A batch that cannot begin (the
 * database locked by another process) fails its jobs with STORE_BUSY. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>

#include "store/sqlite_engine.h"
#include "store/store.h"
#include "store_fixture.h"
#include "store/store_orders.h"
#include "db/writer.h"

#define THREADS 63

struct fx {
    struct store_fixture sf; /* either engine (PLK_TEST_ENGINE) */
    struct store *st;        /* the database the writer runs on */
    struct store_session *s; /* a second session, for checks and setup */
};

/* A job that stores one entry of park P1. */
struct tjob {
    struct writer_job w;
    char order_id[32];
    int fail_after_write; /* write, then return non-zero */
    int break_tx;         /* end the transaction under the writer's feet */
    int fill_disk;        /* after its write, no file may grow: the batch's COMMIT fails */
    int done;
    pthread_t done_thread;
};

/* A case built on SQLite's own means (its file, its locks, its connection) is skipped, with
 * the reason, on PostgreSQL, where the engine's own tests cover the same (test_pg_engine). */
#define SQLITE_ONLY(f, why)                                                                        \
    do {                                                                                           \
        if ((f)->sf.pg) {                                                                          \
            print_message("      (SQLite only: %s)\n", why);                                    \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int gate_open, gate_entered, submitted, completed;

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct store_vendor v = {.union_id = "200002", .ukey = "K", .name = "A"};
    struct store_park p = {.park_id = "P1", .union_id = "200002", .name = "park"};
    char err[256];

    store_fixture_init(&f->sf, NULL);
    f->st = store_fixture_open(&f->sf);
    f->s = store_fixture_session(f->st);
    assert_int_equal(store_vendor_put(f->s, &v, STORE_INSERT, NULL), STORE_OK);
    assert_int_equal(store_park_put(f->s, &p, STORE_INSERT, NULL), STORE_OK);
    if (writer_start(f->st, err, sizeof err) != 0)
        fail_msg("writer_start: %s", err);
    gate_open = gate_entered = submitted = completed = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    writer_stop();
    store_session_close(f->s);
    store_close(f->st);
    store_fixture_fini(&f->sf);
    free(f);
    return 0;
}

static int run_entry(struct writer_job *w, struct store_session *s)
{
    struct tjob *j = (struct tjob *)w;
    struct store_entry e = {.park_id = "P1",
                            .order_id = j->order_id,
                            .union_id = "200002",
                            .car_number = j->order_id,
                            .in_time = 1700000000,
                            .empty_plot = 5,
                            .is_report = -1};
    enum store_entry_outcome out;

    if (store_entry_put(s, &e, &out) != STORE_OK)
        return 1;
    if (j->break_tx)
        sqlite3_exec(store_sqlite_session_db(s), "ROLLBACK", NULL, NULL, NULL);
    if (j->fill_disk) {
        /* the disk is full from now on, as far as this process can tell: a write that would
         * take any file past one byte fails (EFBIG; SIGXFSZ is ignored). The batch's pages
         * are still in SQLite's cache, so the first write to the WAL is the COMMIT's. */
        struct rlimit rl;

        getrlimit(RLIMIT_FSIZE, &rl);
        rl.rlim_cur = 1;
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    return j->fail_after_write;
}

/* Holds the writer inside its batch until every other job has been submitted. */
static int run_gate(struct writer_job *w, struct store_session *s)
{
    pthread_mutex_lock(&mu);
    gate_entered = 1;
    pthread_cond_broadcast(&cv);
    while (!gate_open)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return run_entry(w, s);
}

static void on_done(struct writer_job *w)
{
    struct tjob *j = (struct tjob *)w;

    pthread_mutex_lock(&mu);
    j->done = 1;
    j->done_thread = pthread_self();
    completed++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void wait_completed(int n)
{
    pthread_mutex_lock(&mu);
    while (completed < n)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void open_gate(void)
{
    pthread_mutex_lock(&mu);
    gate_open = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Submit the gate job and wait until the writer runs it: what is submitted next queues. */
static void submit_gate(struct tjob *gate)
{
    gate->w.run = run_gate;
    writer_submit(&gate->w);
    pthread_mutex_lock(&mu);
    while (!gate_entered)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static struct tjob *new_job(const char *order_id)
{
    struct tjob *j = calloc(1, sizeof *j);

    snprintf(j->order_id, sizeof j->order_id, "%s", order_id);
    j->w.run = run_entry;
    j->w.done = on_done;
    return j;
}

static int count_row(void *arg, const struct store_order *o)
{
    (void)o;
    (*(int *)arg)++;
    return 0;
}

/* Is order_id of P1 stored (as a committed row, seen from another connection)? */
static int order_exists(struct fx *f, const char *order_id)
{
    struct store_order_query q = {.union_id = "200002", .park_id = "P1", .order_id = order_id};
    int64_t total = -1;
    int rows = 0;

    assert_int_equal(store_order_query(f->s, &q, count_row, &rows, &total), STORE_OK);
    assert_int_equal(total, rows);
    return rows;
}

static void *submitter(void *arg)
{
    writer_submit(arg);
    pthread_mutex_lock(&mu);
    submitted++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void test_concurrent_jobs_share_a_commit(void **state)
{
    struct fx *f = *state;
    struct tjob *gate = new_job("gate"), *jobs[THREADS];
    pthread_t tids[THREADS];
    struct writer_stats ws;
    char id[32];

    submit_gate(gate);
    for (int i = 0; i < THREADS; i++) {
        snprintf(id, sizeof id, "T%02d", i);
        jobs[i] = new_job(id);
        pthread_create(&tids[i], NULL, submitter, jobs[i]);
    }
    pthread_mutex_lock(&mu);
    while (submitted < THREADS)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    open_gate();
    for (int i = 0; i < THREADS; i++)
        pthread_join(tids[i], NULL);
    wait_completed(THREADS + 1);

    writer_get_stats(&ws);
    assert_int_equal(ws.jobs, THREADS + 1);
    assert_int_equal(ws.batches, 2); /* the gate's batch, then everything that queued */
    assert_int_equal(ws.largest, THREADS);
    assert_int_equal(ws.failed, 0);
    assert_int_equal(gate->w.status, WRITER_COMMITTED);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(jobs[i]->w.status, WRITER_COMMITTED);
        assert_int_equal(order_exists(f, jobs[i]->order_id), 1);
        free(jobs[i]);
    }
    free(gate);
}

static void test_failing_job_is_rolled_back_alone(void **state)
{
    struct fx *f = *state;
    struct tjob *gate = new_job("gate"), *a = new_job("A"), *bad = new_job("BAD"),
                *b = new_job("B");
    struct writer_stats ws;

    bad->fail_after_write = 1;
    submit_gate(gate);
    writer_submit(&a->w);
    writer_submit(&bad->w);
    writer_submit(&b->w);
    open_gate();
    wait_completed(4);

    writer_get_stats(&ws);
    assert_int_equal(ws.batches, 2); /* a, bad and b shared the second batch */
    assert_int_equal(a->w.status, WRITER_COMMITTED);
    assert_int_equal(bad->w.status, WRITER_REJECTED);
    assert_int_equal(b->w.status, WRITER_COMMITTED);
    assert_int_equal(order_exists(f, "A"), 1);
    assert_int_equal(order_exists(f, "BAD"), 0); /* it wrote, then its savepoint undid it */
    assert_int_equal(order_exists(f, "B"), 1);
    free(gate);
    free(a);
    free(bad);
    free(b);
}

static void test_broken_batch_fails_whole(void **state)
{
    struct fx *f = *state;
    struct tjob *gate, *a, *breaker;
    struct writer_stats ws;

    SQLITE_ONLY(f, "ends the transaction through the sqlite3 handle");
    gate = new_job("gate");
    a = new_job("A");
    breaker = new_job("X");
    breaker->break_tx = 1;
    submit_gate(gate);
    writer_submit(&a->w);
    writer_submit(&breaker->w);
    open_gate();
    wait_completed(3);

    writer_get_stats(&ws);
    assert_int_equal(ws.failed, 1);
    assert_int_equal(gate->w.status, WRITER_COMMITTED);
    assert_int_equal(a->w.status, WRITER_FAILED);
    assert_int_equal(breaker->w.status, WRITER_FAILED);
    assert_int_equal(a->w.failure, STORE_ERROR); /* a broken transaction: neither busy nor full */
    assert_int_equal(order_exists(f, "gate"), 1);
    assert_int_equal(order_exists(f, "A"), 0);
    assert_int_equal(order_exists(f, "X"), 0);

    /* the writer carries on with the next batch */
    struct tjob *c = new_job("C");
    writer_submit(&c->w);
    wait_completed(4);
    assert_int_equal(c->w.status, WRITER_COMMITTED);
    assert_int_equal(order_exists(f, "C"), 1);
    free(gate);
    free(a);
    free(breaker);
    free(c);
}

/* A COMMIT that fails for real (the disk is full when the batch's pages go to the WAL): every
 * job of that batch, those whose own savepoint succeeded included, is told the write failed,
 * and none of their rows is stored. Once the disk has room again the writer carries on. */
static void test_failed_commit_fails_every_job(void **state)
{
    struct fx *f = *state;
    struct tjob *gate, *a, *b, *filler, *c;
    struct writer_stats ws;
    struct rlimit rl;
    void (*old)(int);

    SQLITE_ONLY(f, "fills the disk under the WAL");
    old = signal(SIGXFSZ, SIG_IGN);
    gate = new_job("gate");
    a = new_job("A");
    b = new_job("B");
    filler = new_job("F");
    filler->fill_disk = 1;
    submit_gate(gate);
    writer_submit(&a->w);
    writer_submit(&b->w);
    writer_submit(&filler->w);
    open_gate();
    wait_completed(4);
    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_FSIZE, &rl);
    signal(SIGXFSZ, old);

    writer_get_stats(&ws);
    assert_int_equal(ws.batches, 2);
    assert_int_equal(ws.failed, 1);
    assert_int_equal(gate->w.status, WRITER_COMMITTED);
    assert_int_equal(a->w.status, WRITER_FAILED);
    assert_int_equal(b->w.status, WRITER_FAILED);
    assert_int_equal(filler->w.status, WRITER_FAILED);
    /* the reason travels with every job of the batch. EFBIG reaches SQLite as
     * SQLITE_IOERR_WRITE and its errno is not kept, so this is an I/O error, not STORE_FULL
     * (ENOSPC is SQLITE_FULL: test_store_errors.c, test_store_errors.py) */
    assert_int_equal(a->w.failure, STORE_ERROR);
    assert_int_equal(b->w.failure, STORE_ERROR);
    assert_int_equal(filler->w.failure, STORE_ERROR);
    assert_int_equal(gate->w.failure, STORE_OK);
    assert_int_equal(order_exists(f, "gate"), 1);
    assert_int_equal(order_exists(f, "A"), 0);
    assert_int_equal(order_exists(f, "B"), 0);
    assert_int_equal(order_exists(f, "F"), 0);

    c = new_job("C");
    writer_submit(&c->w);
    wait_completed(5);
    assert_int_equal(c->w.status, WRITER_COMMITTED);
    assert_int_equal(order_exists(f, "C"), 1);
    free(gate);
    free(a);
    free(b);
    free(filler);
    free(c);
}

/* Completions come back on the loop of the receiver's thread. */
/* Another process holds the database (BEGIN EXCLUSIVE) past the busy timeout of every
 * attempt: the batch cannot begin, its jobs are told WRITER_FAILED with STORE_BUSY and
 * nothing is stored; once the lock is gone the writer carries on. */
static void test_busy_database_fails_the_batch(void **state)
{
    struct fx *f = *state;
    struct tjob *a, *b;
    sqlite3 *other = NULL;

    SQLITE_ONLY(f, "a second sqlite3 connection holds the lock");
    a = new_job("A");
    b = new_job("B");
    assert_int_equal(sqlite3_open(f->sf.path, &other), SQLITE_OK);
    struct writer_stats ws;

    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    writer_submit(&a->w);
    wait_completed(1);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(a->w.status, WRITER_FAILED);
    assert_int_equal(a->w.failure, STORE_BUSY);
    assert_int_equal(order_exists(f, "A"), 0);
    writer_get_stats(&ws);
    assert_int_equal(ws.retried, WRITER_ATTEMPTS - 1); /* it tried every time it may */

    writer_submit(&b->w);
    wait_completed(2);
    assert_int_equal(b->w.status, WRITER_COMMITTED);
    assert_int_equal(b->w.failure, STORE_OK);
    assert_int_equal(order_exists(f, "B"), 1);
    free(a);
    free(b);
}

/* A begin that answers STORE_BUSY runs the batch again: the lock is let go only once the
 * writer has reported a second attempt, and that attempt commits the job. */
static void test_busy_begin_is_retried(void **state)
{
    struct fx *f = *state;
    struct tjob *a;
    struct writer_stats ws = {0};
    sqlite3 *other = NULL;

    SQLITE_ONLY(f, "a second sqlite3 connection holds the lock");
    a = new_job("A");
    assert_int_equal(sqlite3_open(f->sf.path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    writer_submit(&a->w);
    for (int i = 0; i < 3000 && ws.retried == 0; i++) { /* 30 s at most */
        usleep(10000);
        writer_get_stats(&ws);
    }
    assert_int_equal(ws.retried, 1);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    wait_completed(1);
    assert_int_equal(a->w.status, WRITER_COMMITTED);
    assert_int_equal(a->w.failure, STORE_OK);
    assert_int_equal(order_exists(f, "A"), 1);
    writer_get_stats(&ws);
    assert_int_equal(ws.failed, 0);
    assert_int_equal(ws.batches, 1);
    free(a);
}

static enum store_result sync_put(struct store_session *s, void *arg)
{
    struct store_blacklist *e = arg;

    return store_blacklist_add(s, e);
}

static enum store_result sync_put_then_fail(struct store_session *s, void *arg)
{
    enum store_result r = sync_put(s, arg);

    return r == STORE_OK ? STORE_IN_USE : r; /* wrote, then failed: its writes must go */
}

static int skip_row(void *arg, const struct store_blacklist *row)
{
    (void)arg;
    (void)row;
    return 0;
}

static int blacklisted(struct fx *f, const char *plate)
{
    struct store_query q = {.plate = plate};
    int64_t total = -1;

    assert_int_equal(store_blacklist_list(f->s, &q, skip_row, NULL, &total), STORE_OK);
    return (int)total;
}

/* writer_run_sync: a write handed to the writer is durable when it returns STORE_OK; one
 * that fails is undone alone and its result comes back; with no writer it runs on the
 * caller's session. */
static void test_run_sync(void **state)
{
    struct fx *f = *state;
    struct store_blacklist e1 = {.plate = "SYNC1", .color = 1};
    struct store_blacklist e2 = {.plate = "SYNC2", .color = 1};
    struct store_blacklist e3 = {.plate = "SYNC3", .color = 1};
    struct writer_stats ws;

    assert_int_equal(writer_run_sync(NULL, sync_put, &e1), STORE_OK);
    assert_true(e1.id > 0);
    assert_int_equal(blacklisted(f, "SYNC1"), 1);
    writer_get_stats(&ws);
    assert_int_equal(ws.jobs, 1); /* it went through the writer */
    assert_int_equal(writer_run_sync(NULL, sync_put, &e1), STORE_CONFLICT);
    assert_int_equal(writer_run_sync(f->s, sync_put_then_fail, &e2), STORE_IN_USE);
    assert_int_equal(blacklisted(f, "SYNC2"), 0);
    assert_false(store_in_tx(f->s)); /* the writer ran it, not the fallback */
    writer_stop();
    assert_int_equal(writer_run_sync(NULL, sync_put, &e3), STORE_ERROR); /* nobody to run it */
    assert_int_equal(blacklisted(f, "SYNC3"), 0);
    assert_int_equal(writer_run_sync(f->s, sync_put, &e3), STORE_OK); /* on the fallback */
    assert_int_equal(blacklisted(f, "SYNC3"), 1);
    assert_false(store_in_tx(f->s));
    assert_int_equal(writer_run_sync(f->s, sync_put_then_fail, &e2), STORE_IN_USE);
    assert_int_equal(blacklisted(f, "SYNC2"), 0);
}

static void test_done_runs_on_the_receiving_loop(void **state)
{
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_multithread_queue_t *queue = h2o_multithread_create_queue(loop);
    h2o_multithread_receiver_t receiver;
    struct tjob *jobs[8];
    char id[32];

    (void)state;
    h2o_multithread_register_receiver(queue, &receiver, writer_on_done);
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof id, "R%d", i);
        jobs[i] = new_job(id);
        jobs[i]->w.receiver = &receiver;
        writer_submit(&jobs[i]->w);
    }
    for (int spins = 0; spins < 1000; spins++) {
        pthread_mutex_lock(&mu);
        int n = completed;
        pthread_mutex_unlock(&mu);
        if (n == 8)
            break;
        h2o_evloop_run(loop, 10);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(jobs[i]->done, 1);
        assert_int_equal(jobs[i]->w.status, WRITER_COMMITTED);
        assert_true(pthread_equal(jobs[i]->done_thread, pthread_self()));
        free(jobs[i]);
    }
    h2o_multithread_unregister_receiver(queue, &receiver);
    h2o_multithread_destroy_queue(queue);
    free(queue); /* h2o 2.2's evloop destroy_queue does not free it (see http/worker.c) */
    h2o_evloop_destroy(loop);
}

/* The WAL is copied into the database file while the writer goes on (not in its commits). */
static void test_checkpoints_beside_the_writer(void **state)
{
    struct fx *f = *state;
    struct stat before, now;
    char id[32];
    int n = 0;

    SQLITE_ONLY(f, "the WAL checkpoint of the file");
    assert_int_equal(stat(f->sf.path, &before), 0);
    for (int round = 0; round < 100; round++) {
        struct tjob *jobs[50];

        for (int i = 0; i < 50; i++) {
            snprintf(id, sizeof id, "W%06d", n++);
            jobs[i] = new_job(id);
            writer_submit(&jobs[i]->w);
        }
        wait_completed(n);
        for (int i = 0; i < 50; i++) {
            assert_int_equal(jobs[i]->w.status, WRITER_COMMITTED);
            free(jobs[i]);
        }
    }
    for (int tries = 0; tries < 300; tries++) {
        assert_int_equal(stat(f->sf.path, &now), 0);
        if (now.st_size > before.st_size + 256 * 1024)
            break;
        usleep(10000);
    }
    assert_true(now.st_size > before.st_size + 256 * 1024);
    assert_int_equal(order_exists(f, "W004999"), 1);
}

static void test_submit_after_stop_fails(void **state)
{
    struct tjob *j = new_job("late");

    (void)state;
    writer_stop();
    writer_submit(&j->w);
    assert_int_equal(j->done, 1);
    assert_int_equal(j->w.status, WRITER_FAILED);
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_jobs_share_a_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_job_is_rolled_back_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_batch_fails_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_commit_fails_every_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_database_fails_the_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_begin_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_done_runs_on_the_receiving_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_beside_the_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submit_after_stop_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
