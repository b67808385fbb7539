/* jobs.h - the bridge from a pipeline call to the group-commit writer, for handlers that write.
 *
 * A handler copies what its write needs into a job (the request may be gone by the time the
 * writer runs it), submits it and returns API_PENDING. The writer runs the job's run function
 * inside the batch transaction on its own thread; the done function runs back on the
 * request's worker after the commit, builds the reply when the client is still there (call
 * not NULL), and ends with api_job_finish(). Writes are therefore answered only once durable
 * (DESIGN decision 7), and concurrent writes share one commit. */
#ifndef PARKLINK_API_JOBS_H
#define PARKLINK_API_JOBS_H

#include <stddef.h>

#include "api/pipeline.h"
#include "db/writer.h"

struct job_text;

struct api_job {
    struct writer_job w;   /* first: the writer hands this pointer back */
    struct api_call *call; /* NULL once the client went away (worker thread only) */
    struct http_worker *worker;
    struct job_text *texts; /* copies owned by the job */
};

/* A zeroed job of `size` bytes (a struct starting with struct api_job) for call, with its
 * run and done functions; the worker's receiver is its completion target. Never NULL (the
 * server aborts on allocation failure). */
void *api_job_new(struct api_call *call, size_t size, writer_run_fn run, writer_done_fn done);

/* Copies owned by the job, freed with it: s (NULL stays NULL), or data.name's text (a string
 * or a number written in decimal; NULL when absent or null). */
const char *api_job_dup(struct api_job *j, const char *s);
const char *api_job_text(struct api_job *j, const char *name);

/* Hand the job to the writer; the handler returns what this returns (API_PENDING). */
enum api_result api_job_submit(struct api_job *j);

/* The errmsg of a write that was not kept: the batch's reason when the batch failed
 * (WRITER_FAILED), else r, the job's own store result. STORE_BUSY and STORE_FULL have texts
 * of their own (retry later; nothing was written); anything else is MSG_STORE_FAILED. */
const char *api_job_failed_msg(const struct api_job *j, enum store_result r);

/* From the done function, last: send the reply (when the call is still there) and free the
 * job. */
void api_job_finish(struct api_job *j);

#endif
