/* writer.c - the group-commit writer thread (see writer.h).
 *
 * Submitters append to one FIFO under a mutex and signal; the thread takes the whole FIFO (up
 * to BATCH_MAX jobs) at once, so every job that arrived while the previous batch was in its
 * fsync joins the next one. Per job: savepoint, run, release or roll back to the savepoint.
 * Then one commit (a begin or commit answering STORE_BUSY runs the batch again, up to
 * WRITER_ATTEMPTS times), then each job travels back to its receiver as an h2o message (h2o
 * wakes each receiving loop at most once per batch). writer_run_sync is a job whose done
 * wakes the thread that submitted it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/store.h"
#include "writer.h"

#define BATCH_MAX 4096

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct writer_job *head, **tail;
    int running, stopping;
    pthread_t tid;
    struct store_session *s;
    struct writer_stats stats;
} wr = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER,
    .tail = &wr.head,
};

static void deliver(struct writer_job *job)
{
    if (job->receiver != NULL)
        h2o_multithread_send_message(job->receiver, &job->msg);
    else
        job->done(job);
}

/* Run the batch once: 1 committed; 0 not, *why saying why and *again set when the begin or
 * the commit answered STORE_BUSY (nothing was kept: the batch may run again). */
static int run_once(struct writer_job *jobs, enum store_result *why, int *again)
{
    *again = 0;
    if ((*why = store_begin(wr.s, STORE_TX_WRITE)) != STORE_OK) {
        *again = *why == STORE_BUSY;
        return 0;
    }
    for (struct writer_job *j = jobs; j != NULL; j = j->next) {
        int rc;

        if ((*why = store_savepoint(wr.s)) != STORE_OK) {
            store_rollback(wr.s);
            return 0;
        }
        rc = j->run(j, wr.s);
        j->status = rc == 0 ? WRITER_COMMITTED : WRITER_REJECTED;
        /* a savepoint that cannot be released or undone leaves the batch in an unknown
         * state: give it up whole */
        if ((*why = store_savepoint_end(wr.s, rc == 0)) != STORE_OK) {
            store_rollback(wr.s);
            return 0;
        }
    }
    if ((*why = store_commit(wr.s)) != STORE_OK) {
        *again = *why == STORE_BUSY;
        return 0;
    }
    return 1;
}

/* Run one batch: jobs is a NULL-terminated list of n jobs. */
static void run_batch(struct writer_job *jobs, uint64_t n)
{
    struct writer_job *j, *next;
    enum store_result why = STORE_OK;
    int ok = 0, again = 1;

    for (int attempt = 1; !ok && again && attempt <= WRITER_ATTEMPTS; attempt++) {
        if (attempt > 1) {
            pthread_mutex_lock(&wr.mu);
            wr.stats.retried++;
            pthread_mutex_unlock(&wr.mu);
        }
        ok = run_once(jobs, &why, &again);
        if (!ok && again && attempt < WRITER_ATTEMPTS)
            log_warn("writer: a batch of %llu job(s) met a busy database (%s); running it "
                     "again (attempt %d of %d)",
                     (unsigned long long)n, store_strerror(why), attempt + 1, WRITER_ATTEMPTS);
    }
    if (!ok)
        log_error("writer: a batch of %llu job(s) did not commit (%s); none of it is stored",
                  (unsigned long long)n, store_strerror(why));

    pthread_mutex_lock(&wr.mu);
    wr.stats.jobs += n;
    wr.stats.batches++;
    wr.stats.failed += !ok;
    if (n > wr.stats.largest)
        wr.stats.largest = n;
    pthread_mutex_unlock(&wr.mu);

    for (j = jobs; j != NULL; j = next) {
        next = j->next; /* done may free j */
        if (!ok) {
            j->status = WRITER_FAILED;
            j->failure = why == STORE_BUSY || why == STORE_FULL ? why : STORE_ERROR;
        }
        deliver(j);
    }
}

static void *writer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wr.mu);
    for (;;) {
        struct writer_job *batch, **end;
        uint64_t n = 0;

        while (wr.head == NULL && !wr.stopping)
            pthread_cond_wait(&wr.cv, &wr.mu);
        if (wr.head == NULL)
            break; /* stopping, and nothing left */
        batch = wr.head;
        for (end = &wr.head; *end != NULL && n < BATCH_MAX; end = &(*end)->next)
            n++;
        wr.head = *end;
        *end = NULL;
        if (wr.head == NULL)
            wr.tail = &wr.head;
        pthread_mutex_unlock(&wr.mu);
        run_batch(batch, n);
        pthread_mutex_lock(&wr.mu);
    }
    pthread_mutex_unlock(&wr.mu);
    return NULL;
}

int writer_start(struct store *st, char *err, size_t errlen)
{
    if (wr.running) {
        snprintf(err, errlen, "the writer is already running");
        return -1;
    }
    if ((wr.s = store_session_open(st, err, errlen)) == NULL)
        return -1;
    memset(&wr.stats, 0, sizeof wr.stats);
    wr.stopping = 0;
    if (pthread_create(&wr.tid, NULL, writer_main, NULL) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        store_session_close(wr.s);
        wr.s = NULL;
        return -1;
    }
    pthread_mutex_lock(&wr.mu);
    wr.running = 1;
    pthread_mutex_unlock(&wr.mu);
    return 0;
}

void writer_submit(struct writer_job *job)
{
    job->next = NULL;
    job->status = WRITER_FAILED;
    job->failure = STORE_OK;
    memset(&job->msg, 0, sizeof job->msg);
    pthread_mutex_lock(&wr.mu);
    if (!wr.running || wr.stopping) {
        pthread_mutex_unlock(&wr.mu);
        job->failure = STORE_ERROR;
        deliver(job);
        return;
    }
    *wr.tail = job;
    wr.tail = &job->next;
    pthread_cond_signal(&wr.cv);
    pthread_mutex_unlock(&wr.mu);
}

void writer_stop(void)
{
    if (!wr.running)
        return;
    pthread_mutex_lock(&wr.mu);
    wr.stopping = 1;
    pthread_cond_signal(&wr.cv);
    pthread_mutex_unlock(&wr.mu);
    pthread_join(wr.tid, NULL);
    log_info("writer: %llu job(s) in %llu batch(es), largest %llu, %llu batch(es) failed",
             (unsigned long long)wr.stats.jobs, (unsigned long long)wr.stats.batches,
             (unsigned long long)wr.stats.largest, (unsigned long long)wr.stats.failed);
    store_session_close(wr.s);
    wr.s = NULL;
    pthread_mutex_lock(&wr.mu); /* writer_submit reads it from other threads (the outbox) */
    wr.running = 0;
    pthread_mutex_unlock(&wr.mu);
}

void writer_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        struct writer_job *job = H2O_STRUCT_FROM_MEMBER(struct writer_job, msg, m);

        h2o_linklist_unlink(&m->link);
        job->done(job);
    }
}

void writer_get_stats(struct writer_stats *out)
{
    pthread_mutex_lock(&wr.mu);
    *out = wr.stats;
    pthread_mutex_unlock(&wr.mu);
}

int writer_running(void)
{
    int r;

    pthread_mutex_lock(&wr.mu);
    r = wr.running && !wr.stopping;
    pthread_mutex_unlock(&wr.mu);
    return r;
}

/* ---- writer_run_sync ---- */

struct sync_job {
    struct writer_job w; /* first */
    writer_sync_fn fn;
    void *arg;
    enum store_result r;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
};

static int sync_run(struct writer_job *w, struct store_session *s)
{
    struct sync_job *j = (struct sync_job *)w;

    j->r = j->fn(s, j->arg);
    return j->r != STORE_OK;
}

static void sync_done(struct writer_job *w)
{
    struct sync_job *j = (struct sync_job *)w;

    pthread_mutex_lock(&j->mu);
    j->done = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* fn on the caller's session: joins its transaction, or runs in a write transaction of its
 * own. */
static enum store_result run_on(struct store_session *s, writer_sync_fn fn, void *arg)
{
    enum store_result r;

    if (store_in_tx(s))
        return fn(s, arg);
    if ((r = store_begin(s, STORE_TX_WRITE)) != STORE_OK)
        return r;
    if ((r = fn(s, arg)) != STORE_OK) {
        store_rollback(s);
        return r;
    }
    return store_commit(s);
}

enum store_result writer_run_sync(struct store_session *fallback, writer_sync_fn fn, void *arg)
{
    struct sync_job j = {
        .w = {.run = sync_run, .done = sync_done}, .fn = fn, .arg = arg, .r = STORE_ERROR};
    enum writer_status status;
    enum store_result failure;

    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    writer_submit(&j.w);
    pthread_mutex_lock(&j.mu);
    while (!j.done)
        pthread_cond_wait(&j.cv, &j.mu);
    pthread_mutex_unlock(&j.mu);
    status = j.w.status;
    failure = j.w.failure;
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
    if (status == WRITER_COMMITTED)
        return STORE_OK;
    if (status == WRITER_REJECTED)
        return j.r;
    /* no writer, or its batch did not commit: none of fn's writes stayed */
    if (fallback != NULL)
        return run_on(fallback, fn, arg);
    return failure != STORE_OK ? failure : STORE_ERROR;
}
