/* jobs.c - pipeline calls as group-commit jobs (see jobs.h).
 *
 * The job is malloc'd, not taken from the request pool: the writer may still hold it when the
 * request is freed (client gone), and on_abandon then only marks it. The worker's
 * writer_pending count lets graceful shutdown wait for every job to come back. */
#include <stdlib.h>
#include <string.h>
#include <h2o.h>

#include "api/fields.h"
#include "api/jobs.h"
#include "api/texts.h"
#include "http/worker.h"

struct job_text {
    struct job_text *next;
    char s[];
};

static void on_abandon(struct api_call *call)
{
    struct api_job *j = call->handler_data;

    j->call = NULL;
}

void *api_job_new(struct api_call *call, size_t size, writer_run_fn run, writer_done_fn done)
{
    struct api_job *j = calloc(1, size);

    if (j == NULL)
        h2o_fatal("out of memory");
    j->call = call;
    j->worker = call->worker;
    j->w.run = run;
    j->w.done = done;
    j->w.receiver = &call->worker->writer_done;
    return j;
}

const char *api_job_dup(struct api_job *j, const char *s)
{
    struct job_text *t;
    size_t n;

    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    if ((t = malloc(sizeof *t + n)) == NULL)
        h2o_fatal("out of memory");
    memcpy(t->s, s, n);
    t->next = j->texts;
    j->texts = t;
    return t->s;
}

const char *api_job_text(struct api_job *j, const char *name)
{
    return api_job_dup(j, api_text(j->call, name));
}

enum api_result api_job_submit(struct api_job *j)
{
    j->call->handler_data = j;
    j->call->on_abandon = on_abandon;
    j->worker->writer_pending++;
    writer_submit(&j->w);
    return API_PENDING;
}

const char *api_job_failed_msg(const struct api_job *j, enum store_result r)
{
    enum store_result why = j->w.status == WRITER_FAILED ? j->w.failure : r;

    if (why == STORE_BUSY)
        return MSG_STORE_BUSY;
    if (why == STORE_FULL)
        return MSG_STORE_FULL;
    return MSG_STORE_FAILED;
}

void api_job_finish(struct api_job *j)
{
    j->worker->writer_pending--;
    if (j->call != NULL) {
        j->call->on_abandon = NULL;
        pipeline_finish(j->call);
    }
    while (j->texts != NULL) {
        struct job_text *next = j->texts->next;
        free(j->texts);
        j->texts = next;
    }
    free(j);
}
