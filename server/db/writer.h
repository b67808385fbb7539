/* db/writer.h - the group-commit writer: one thread, one store session, one transaction per batch.
 *
 * DESIGN decision 7: a write is answered state 1 only once it is durable, and writes that
 * arrive together share one transaction and one fsync. A request handler wraps its write in a
 * job (a function run inside the batch transaction, plus a completion), submits it and returns
 * API_PENDING. The writer thread takes everything queued, runs each job between a savepoint
 * and its release (a failing job is rolled back alone), commits once, then sends every job
 * back to its receiver, where the completion runs and answers the request. While one batch
 * commits the next one queues, so batches grow with the load and an idle writer adds no delay.
 *
 * Other sub-interfaces join the same transaction: a job's run function receives the batch's
 * struct store_tx (store_tx.h). Any store op that takes a store_tx, such as the outbox insert
 * that follows an entry (spec 5.2), called with that tx commits together with the job's other
 * writes, or not at all. */
#ifndef PARKLINK_WRITER_H
#define PARKLINK_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <h2o.h>

#include "store/store.h"

struct store_tx;
struct writer_job;

/* Runs on the writer thread inside the batch transaction. Return 0 to keep the job's writes;
 * non-zero rolls back exactly this job's writes (status WRITER_REJECTED) and nothing else. A
 * store op that failed has left partial writes behind: return non-zero then. Must not block
 * on anything but the store, and must not touch the request (copy what it needs first). */
typedef int (*writer_run_fn)(struct writer_job *job, struct store_tx *tx);

/* Runs once per job after the batch ended, on the receiver's thread (or on the writer thread
 * when the job has no receiver). The job is the callee's to free. */
typedef void (*writer_done_fn)(struct writer_job *job);

enum writer_status {
    WRITER_COMMITTED = 0, /* run returned 0 and the batch is durable */
    WRITER_REJECTED,      /* run returned non-zero: its writes were undone, the batch went on */
    WRITER_FAILED,        /* the batch could not begin or commit: none of its writes are stored */
};

struct writer_job {
    writer_run_fn run;
    writer_done_fn done;
    h2o_multithread_receiver_t *receiver; /* registered with writer_on_done; NULL: done runs
                                             on the writer thread */
    enum writer_status status;            /* set before done runs */
    enum store_result failure;            /* WRITER_FAILED: why the batch failed (STORE_BUSY,
                                             STORE_FULL or STORE_ERROR), else STORE_OK */

    /* writer-private */
    h2o_multithread_message_t msg;
    struct writer_job *next;
};

/* Open a store handle of its own on store_uri (store_open) and start the writer thread.
 * 0 ok; -1 with an English reason in err. */
int writer_start(const char *store_uri, char *err, size_t errlen);

/* Queue a job (any thread). job->run, job->done (and receiver) must be set; the job must stay
 * alive until done runs. When the writer is not running, done follows with WRITER_FAILED. */
void writer_submit(struct writer_job *job);

/* Run every job still queued, then stop the thread and close its store handle. Call after the
 * threads that submit (and receive) have stopped submitting. */
void writer_stop(void);

/* The receiver callback: register it on each thread that submits jobs (h2o's
 * h2o_multithread_register_receiver) and point job->receiver at that receiver. */
void writer_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

struct writer_stats {
    uint64_t jobs;    /* jobs run */
    uint64_t batches; /* transactions committed or attempted */
    uint64_t failed;  /* batches that did not commit */
    uint64_t largest; /* most jobs in one batch */
};

/* Counters since writer_start (thread-safe). */
void writer_get_stats(struct writer_stats *out);

#endif
