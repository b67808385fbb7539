/* db/writer.c - the group-commit writer thread (see db/writer.h).
 *
 * Submitters append to one FIFO under a mutex and signal; the thread takes the whole FIFO (up
 * to BATCH_MAX jobs) at once, so every job that arrived while the previous batch was in its
 * fsync joins the next one. Per job: savepoint, run, release or roll back to the savepoint.
 * Then one commit, then each job travels back to its receiver as an h2o message (h2o wakes
 * each receiving loop at most once per batch). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/store.h"
#include "store/store_orders.h"
#include "db/writer.h"

#define BATCH_MAX 4096

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct writer_job *head, **tail;
    int running, stopping;
    pthread_t tid;
    struct store *st;
    struct store_tx *tx;
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

/* Run one batch: jobs is a NULL-terminated list of n jobs. */
static void run_batch(struct writer_job *jobs, uint64_t n)
{
    struct writer_job *j, *next;
    enum store_result why = store_batch_begin(wr.tx);
    int begun = why == STORE_OK, ok = begun;

    for (j = jobs; j != NULL && ok; j = j->next) {
        int rc;

        if ((why = store_job_begin(wr.tx)) != STORE_OK) {
            ok = 0;
            break;
        }
        rc = j->run(j, wr.tx);
        j->status = rc == 0 ? WRITER_COMMITTED : WRITER_REJECTED;
        /* a savepoint that cannot be released or undone leaves the batch in an unknown
         * state: give it up whole */
        if ((why = store_job_end(wr.tx, rc == 0)) != STORE_OK)
            ok = 0;
    }
    if (ok) {
        ok = (why = store_batch_commit(wr.tx)) == STORE_OK;
    } else if (begun) {
        store_batch_rollback(wr.tx); /* a begin that failed has let go of the session */
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

int writer_start(const char *store_uri, char *err, size_t errlen)
{
    if (wr.running) {
        snprintf(err, errlen, "the writer is already running");
        return -1;
    }
    if ((wr.st = store_open(store_uri, err, errlen)) == NULL)
        return -1;
    if ((wr.tx = store_tx_open(wr.st)) == NULL) {
        snprintf(err, errlen, "cannot open a store session for the writer");
        store_close(wr.st);
        wr.st = NULL;
        return -1;
    }
    memset(&wr.stats, 0, sizeof wr.stats);
    wr.stopping = 0;
    if (pthread_create(&wr.tid, NULL, writer_main, NULL) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        store_tx_close(wr.tx);
        store_close(wr.st);
        wr.tx = NULL;
        wr.st = NULL;
        return -1;
    }
    wr.running = 1;
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
    store_tx_close(wr.tx);
    store_close(wr.st);
    wr.tx = NULL;
    wr.st = NULL;
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
