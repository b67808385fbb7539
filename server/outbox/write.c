/* write.c - outbox writes go through the writer's group commit (see outbox_write).
 *
 * SQLite lets one connection write at a time and a waiting connection only polls for the
 * lock; next to a writer thread that commits batch after batch, a second writer can wait
 * for seconds. So the delivery thread and the admin thread hand their outbox writes to the
 * writer as jobs and wait for the batch: one write path (DESIGN decision 10), no lock
 * contention, and the writes share its fsyncs. */
#include <pthread.h>

#include "outbox/outbox.h"
#include "db/writer.h"

struct job {
    struct writer_job w; /* first */
    outbox_write_fn fn;
    void *arg;
    enum store_result r;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
};

static int run(struct writer_job *w, struct store_tx *tx)
{
    struct job *j = (struct job *)w;

    j->r = j->fn(tx->st, tx, j->arg);
    return j->r != STORE_OK;
}

static void done(struct writer_job *w)
{
    struct job *j = (struct job *)w;

    pthread_mutex_lock(&j->mu);
    j->done = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

enum store_result outbox_write(struct store *st, outbox_write_fn fn, void *arg)
{
    struct job j = {.w = {.run = run, .done = done}, .fn = fn, .arg = arg, .r = STORE_ERROR};
    enum writer_status status;

    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    writer_submit(&j.w);
    pthread_mutex_lock(&j.mu);
    while (!j.done)
        pthread_cond_wait(&j.cv, &j.mu);
    pthread_mutex_unlock(&j.mu);
    status = j.w.status;
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
    if (status == WRITER_COMMITTED)
        return STORE_OK;
    if (status == WRITER_REJECTED)
        return j.r;
    /* no writer (tests, shutdown) or its batch did not commit: none of fn's writes stayed */
    return fn(st, NULL, arg);
}
