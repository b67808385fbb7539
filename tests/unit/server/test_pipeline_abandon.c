/* test_pipeline_abandon.c - requests freed while their writes wait at the group-commit writer.
 *
 * HTTP/1.1 in h2o 2.2 stops reading a connection while a request is being processed, so a
 * client that hangs up is noticed only when its reply is written, after the call finished
 * (tests/integration/test_http_abandon.py drives that over real sockets). The pipeline's
 * abandon path (pipeline.h: the request disposed before pipeline_finish) is for the transports
 * that do free a request early (an HTTP/2 stream reset). Here synthetic requests on a real h2o
 * context go through the real pipeline to the real writer on a real SQLite file and queue
 * behind a job that holds the writer; half of them are disposed while queued. Their jobs must
 * come back to dead calls without touching them (ASan: the call and the request are freed),
 * their records must still be stored, whole; the other half must be answered 上传成功 in the
 * same batch, and the worker's counts must return to zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <pthread.h>

#include "config.h"
#include "http_worker.h"
#include "metrics.h"
#include "pipeline.h"
#include "registry.h"
#include "router.h"
#include "store/store.h"
#include "store/store_orders.h"
#include "writer.h"

#define KEY "EA2D90FEEF1E9F8E"
#define JOBS 8

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int gate_entered, gate_open;

/* Holds the writer until the test has disposed its requests. */
static int run_gate(struct writer_job *w, struct store_session *s)
{
    (void)w;
    (void)s;
    pthread_mutex_lock(&mu);
    gate_entered = 1;
    pthread_cond_broadcast(&cv);
    while (!gate_open)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return 0;
}

static void gate_done(struct writer_job *w)
{
    (void)w;
}

static void sign_hex(const char *text, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    char buf[512];
    static const char hex[] = "0123456789ABCDEF";

    snprintf(buf, sizeof buf, "%skey=%s", text, KEY);
    EVP_Digest(buf, strlen(buf), md, &n, EVP_md5(), NULL);
    for (unsigned i = 0; i < 16; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[32] = '\0';
}

/* A connection h2o can hang requests on: the context is all the pipeline reads of it. */
static h2o_conn_t *fake_conn(h2o_context_t *ctx, h2o_hostconf_t **hosts)
{
    static const h2o_conn_callbacks_t callbacks = {NULL};
    h2o_conn_t *conn = calloc(1, sizeof *conn);

    conn->ctx = ctx;
    conn->hosts = hosts;
    conn->callbacks = &callbacks;
    return conn;
}

/* The end of a request's output chain, as h2o's HTTP/1 and HTTP/2 connections give one:
 * h2o_send() hands it the reply, h2o_dispose_request() walks the chain down to it. */
struct sink {
    h2o_ostream_t ostr; /* first */
    int sent, status;
    char body[1024];
};

static void sink_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                      h2o_send_state_t state)
{
    struct sink *k = (struct sink *)self;
    size_t len = strlen(k->body);

    for (size_t i = 0; i < bufcnt; i++) {
        assert_true(len + bufs[i].len < sizeof k->body);
        memcpy(k->body + len, bufs[i].base, bufs[i].len);
        len += bufs[i].len;
        k->body[len] = '\0';
    }
    if (!h2o_send_state_is_in_progress(state)) {
        k->sent++;
        k->status = req->res.status;
    }
}

struct stored {
    int seen[JOBS];
    int bad;
};

/* Each upload AB<i> must be stored once, with the plate and entry time it was sent with. */
static int check_row(void *arg, const struct store_order *o)
{
    struct stored *s = arg;
    char plate[32];
    int i;

    if (sscanf(o->order_id, "AB%d", &i) != 1 || i < 0 || i >= JOBS) {
        s->bad++;
        return 0;
    }
    snprintf(plate, sizeof plate, "京A1000%d", i);
    if (strcmp(o->car_number, plate) != 0 || o->in_time != 1700000000 + i ||
        strcmp(o->park_id, "20003") != 0)
        s->bad++;
    s->seen[i]++;
    return 0;
}

static void test_disposed_while_queued(void **state)
{
    char dir[] = "/tmp/plk-abandon-XXXXXX", path[128], err[256], *argv[4];
    struct store_vendor v = {.union_id = "200002", .ukey = KEY, .name = "A"};
    struct store_park p = {.park_id = "20003", .union_id = "200002", .name = "park"};
    struct writer_job gate = {.run = run_gate, .done = gate_done};
    static h2o_globalconf_t gconf;
    static struct http_worker w;
    static struct sink sinks[JOBS];
    h2o_req_t *reqs[JOBS];
    h2o_conn_t *conns[JOBS];
    struct config cfg;
    struct route route;
    struct store *st;
    struct store_session *s;
    struct stored seen = {{0}, 0};
    struct writer_stats ws;
    int64_t total = -1;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.db", dir);
    argv[0] = "parklinkd";
    argv[1] = "--store";
    argv[2] = path;
    argv[3] = NULL;
    assert_int_equal(config_load(&cfg, 3, argv), CONFIG_RUN);
    assert_non_null(st = store_open(path, err, sizeof err));
    assert_non_null(s = store_session_open(st, err, sizeof err));
    assert_int_equal(store_vendor_put(s, &v, STORE_INSERT, NULL), STORE_OK);
    assert_int_equal(store_park_put(s, &p, STORE_INSERT, NULL), STORE_OK);
    assert_int_equal(registry_init(st), 0);
    assert_int_equal(writer_start(st, err, sizeof err), 0);
    assert_int_equal(metrics_init(1), 0);
    assert_int_equal(pipeline_init(&cfg), 0);
    assert_int_equal(router_match("neworder/addorder", 17, 0, &route), 1);

    /* one worker, as http_worker.c sets it up, driven by this thread */
    h2o_config_init(&gconf);
    h2o_config_register_host(&gconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    w.loop = h2o_evloop_create();
    h2o_context_init(&w.ctx, w.loop, &gconf);
    w.metrics = metrics_worker(0);
    h2o_multithread_register_receiver(w.ctx.queue, &w.writer_done, writer_on_done);

    /* the writer is held: every upload below queues behind the gate */
    writer_submit(&gate);
    pthread_mutex_lock(&mu);
    while (!gate_entered)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    for (int i = 0; i < JOBS; i++) {
        char data[256], sign[33], *body = malloc(512);
        int n;

        snprintf(data, sizeof data,
                 "{\"union_id\":\"200002\",\"park_id\":\"20003\",\"order_id\":\"AB%d\","
                 "\"car_number\":\"京A1000%d\",\"in_time\":%d,\"empty_plot\":5}",
                 i, i, 1700000000 + i);
        sign_hex(data, sign);
        n = snprintf(body, 512, "{\"sign\":\"%s\",\"data\":%s}", sign, data);
        conns[i] = fake_conn(&w.ctx, gconf.hosts);
        reqs[i] = calloc(1, sizeof(h2o_req_t));
        h2o_init_request(reqs[i], conns[i], NULL);
        sinks[i].ostr.do_send = sink_send;
        reqs[i]->_ostr_top = &sinks[i].ostr;
        reqs[i]->pathconf = &gconf.hosts[0]->fallback_path; /* no output filters */
        reqs[i]->method = h2o_iovec_init(H2O_STRLIT("POST"));
        reqs[i]->entity = h2o_iovec_init(body, (size_t)n);
        pipeline_run(&w, reqs[i], &route);
        /* the pipeline copied what the job needs: scribble over the body before freeing it */
        memset(body, 'x', (size_t)n);
        free(body);
    }
    assert_int_equal(w.writer_pending, JOBS);
    assert_int_equal(atomic_load(&w.in_flight), JOBS);

    /* the clients of the even uploads are gone: their requests are freed before any answer */
    for (int i = 0; i < JOBS; i += 2) {
        h2o_dispose_request(reqs[i]);
        free(reqs[i]);
        free(conns[i]);
        reqs[i] = NULL;
    }
    assert_int_equal(atomic_load(&w.in_flight), JOBS / 2);
    assert_int_equal(w.writer_pending, JOBS); /* the jobs are still the writer's */

    pthread_mutex_lock(&mu);
    gate_open = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    while (w.writer_pending > 0)
        h2o_evloop_run(w.loop, 100);
    assert_int_equal(atomic_load(&w.in_flight), 0);

    /* the waiting clients were answered from the same batch, the others were not */
    for (int i = 0; i < JOBS; i++) {
        if (i % 2 == 0) {
            assert_int_equal(sinks[i].sent, 0);
            continue;
        }
        assert_int_equal(sinks[i].sent, 1);
        assert_int_equal(sinks[i].status, 200);
        assert_non_null(strstr(sinks[i].body, "\"state\":1"));
        assert_non_null(strstr(sinks[i].body, "上传成功"));
        h2o_dispose_request(reqs[i]); /* the connection is done with the answered request */
        free(reqs[i]);
        free(conns[i]);
    }
    assert_int_equal(atomic_load(&w.in_flight), 0); /* an answered call ends only once */
    writer_get_stats(&ws);
    assert_int_equal(ws.batches, 2); /* the gate, then all the uploads together */
    assert_int_equal(ws.failed, 0);

    /* the records the clients did not wait for are stored all the same, and whole */
    struct store_order_query q = {.union_id = "200002", .park_id = "20003", .limit = 100};
    assert_int_equal(store_order_query(s, &q, check_row, &seen, &total), STORE_OK);
    assert_int_equal(total, JOBS);
    assert_int_equal(seen.bad, 0);
    for (int i = 0; i < JOBS; i++)
        assert_int_equal(seen.seen[i], 1);

    writer_stop();
    h2o_multithread_unregister_receiver(w.ctx.queue, &w.writer_done);
    {
        h2o_multithread_queue_t *queue = w.ctx.queue;
        h2o_context_dispose(&w.ctx);
        free(queue); /* h2o 2.2 does not free it (see http_worker.c) */
    }
    h2o_evloop_destroy(w.loop);
    h2o_config_dispose(&gconf);
    free(w.spare_call);
    pipeline_cleanup();
    metrics_cleanup();
    registry_cleanup();
    store_session_close(s);
    store_close(st);
    snprintf(err, sizeof err, "rm -rf %s", dir);
    assert_int_equal(system(err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disposed_while_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
