/* writer.h - the group-commit writer: one thread, one store session, one transaction per batch.
 *
 * DESIGN decision 7: a write is answered state 1 only once it is durable, and writes that
 * arrive together share one transaction and one fsync. A request handler wraps its write in a
 * job (a function run inside the batch transaction, plus a completion), submits it and returns
 * API_PENDING. The writer thread takes everything queued, runs each job between a savepoint
 * and its release (a failing job is rolled back alone), commits once, then sends every job
 * back to its receiver, where the completion runs and answers the request. While one batch
 * commits the next one queues, so batches grow with the load and an idle writer adds no delay.
 *
 * A job's run function receives the writer's store session with the batch's transaction
 * open: every store op called on it joins that transaction, such as the outbox insert that
 * follows an entry (spec 5.2), and commits together with the job's other writes, or not at
 * all. A batch whose begin or commit answers STORE_BUSY (another node's lock, a PostgreSQL
 * deadlock or serialisation failure) is run again, up to WRITER_ATTEMPTS times in all.
 * Threads that may block (admin, delivery) hand the writer a write and wait for it with
 * writer_run_sync: one write path for the whole process (DESIGN decision 10). */
#ifndef PARKLINK_WRITER_H
#define PARKLINK_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <h2o.h>

#include "store/store.h"

struct writer_job;

/* How many times a batch runs at most when its begin or commit answers STORE_BUSY. */
#define WRITER_ATTEMPTS 3

/* Runs on the writer thread inside the batch transaction, on the writer's session s (a
 * savepoint of its own is open). Return 0 to keep the job's writes; non-zero rolls back
 * exactly this job's writes (status WRITER_REJECTED) and nothing else. A store op that failed
 * has left partial writes behind: return non-zero then. Must not block on anything but the
 * store, and must not touch the request (copy what it needs first). May run more than once
 * (a batch re-run after STORE_BUSY): set every output of the job on each run. */
typedef int (*writer_run_fn)(struct writer_job *job, struct store_session *s);

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

/* Open a store session of its own on st and start the writer thread. 0 ok; -1 with an
 * English reason in err. st must outlive writer_stop. */
int writer_start(struct store *st, char *err, size_t errlen);

/* Queue a job (any thread). job->run, job->done (and receiver) must be set; the job must stay
 * alive until done runs. When the writer is not running, done follows with WRITER_FAILED. */
void writer_submit(struct writer_job *job);

/* A write for writer_run_sync: runs on the session it is given inside a transaction (joins
 * it); returns STORE_OK to keep what it wrote. */
typedef enum store_result (*writer_sync_fn)(struct store_session *s, void *arg);

/* Run fn(s, arg) as a job of the writer's next batch and wait until that batch is durable:
 * STORE_OK once committed; fn's own result when it failed (its writes undone, the batch went
 * on). When the writer is not running (start-up, tests, shutdown) or its batch could not
 * commit, fn runs instead on fallback (the caller's session, in a write transaction of its
 * own) when fallback is not NULL, else the batch's failure is returned. Any thread but the
 * writer's; blocks for about one batch. */
enum store_result writer_run_sync(struct store_session *fallback, writer_sync_fn fn, void *arg);

/* 1 while the writer thread runs (thread-safe). */
int writer_running(void);

/* Run every job still queued, then stop the thread and close its store session. Call after
 * the threads that submit (and receive) have stopped submitting. */
void writer_stop(void);

/* The receiver callback: register it on each thread that submits jobs (h2o's
 * h2o_multithread_register_receiver) and point job->receiver at that receiver. */
void writer_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

struct writer_stats {
    uint64_t jobs;    /* jobs run */
    uint64_t batches; /* transactions committed or attempted */
    uint64_t failed;  /* batches that did not commit */
    uint64_t retried; /* runs of a batch repeated after its begin or commit met STORE_BUSY */
    uint64_t largest; /* most jobs in one batch */
};

/* Counters since writer_start (thread-safe). */
void writer_get_stats(struct writer_stats *out);

#endif
