/* http/admin.h - the HTTP side of the admin API: hands /admin/v1 requests to one admin
 * thread and answers them when it is done.
 *
 * admin_handle() may block on the store for seconds (a 1M-plate bulk load), so it never
 * runs on a worker: lane checks keep being answered meanwhile. The reply comes back to the
 * request's worker through an h2o_multithread receiver (worker->admin_done), the same
 * mechanism api/pipeline.h describes for pending vendor calls. */
#ifndef PARKLINK_HTTP_ADMIN_H
#define PARKLINK_HTTP_ADMIN_H

#include <h2o.h>

struct http_worker;

/* Start / stop the admin thread. Stop after the workers have stopped (none may still send
 * it jobs); it finishes the job it is running. */
int http_admin_start(void);
void http_admin_stop(void);

/* Queue one admin request (path: the part after /admin/v1). Worker thread. */
void http_admin_dispatch(struct http_worker *w, h2o_req_t *req, h2o_iovec_t path);

/* Receiver callback for worker->admin_done: sends the replies of finished jobs. */
void http_admin_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

#endif
