/* http/worker.h - the worker threads: one h2o event loop, context and listening socket each.
 *
 * DESIGN decision 10: N workers, each with its own SO_REUSEPORT listener so the kernel
 * spreads connections; a request lives and is answered on the worker that accepted its
 * connection. Other threads reach a worker only through h2o_multithread receivers
 * registered on worker->ctx.queue (see api/pipeline.h for the asynchronous-reply contract). */
#ifndef PARKLINK_HTTP_WORKER_H
#define PARKLINK_HTTP_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <h2o.h>

#include "admission/registry.h"

struct config;
struct metrics_worker;

struct http_worker {
    unsigned index;
    pthread_t tid;
    h2o_globalconf_t *globalconf;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    int listen_fd;
    h2o_socket_t *listener;
    /* --admin-listen: worker 0 alone serves the admin address, with a context of its own
     * (its own globalconf: the admin body cap) on the same loop */
    h2o_context_t admin_ctx;
    h2o_accept_ctx_t admin_accept_ctx;
    int admin_listen_fd;             /* -1: no admin listener on this worker */
    h2o_socket_t *admin_listener;
    /* one address for both APIs (no --admin-listen): connections whose first request carries
     * the admin token get this context instead of ctx (the admin body cap; http/gate.h) */
    h2o_context_t trusted_ctx;
    h2o_accept_ctx_t trusted_accept_ctx; /* .ctx NULL: no such context */
    int accepting;                   /* listener is being read (off at --max-connections) */
    struct snapshot_reader reader;   /* this thread's view of the registry */
    struct metrics_worker *metrics;  /* this thread's counters */
    h2o_linklist_t conns;            /* struct conn_ref: open client connections */
    atomic_size_t in_flight;         /* requests taken but not yet answered (single writer:
                                        this worker; /metrics reads it) */
    size_t admin_pending;            /* of which: admin jobs on the admin thread */
    h2o_multithread_receiver_t wake; /* shutdown wake-up (messages are NULL) */
    h2o_multithread_receiver_t admin_done; /* finished admin jobs (http/admin.c) */
    h2o_multithread_receiver_t writer_done; /* finished group-commit jobs (db/writer.c) */
    h2o_multithread_receiver_t outbox_done; /* long-poll hand-outs, acks (channels/longpoll.c) */
    size_t writer_pending;           /* of the in-flight requests: jobs queued at the writer */
    void *spare_call;                /* api/pipeline.c: a finished struct api_call kept for the
                                        next request (freed by http_worker_cleanup) */
    atomic_int stop;                 /* set by http_worker_stop_all() */
};

/* Create one listening socket per worker (SO_REUSEPORT) on cfg->listen, so address errors
 * are reported before any thread starts. 0 ok; -1 with a message logged. */
int http_worker_bind_all(const struct config *cfg);

/* Start the worker threads serving `globalconf` (and `admin_conf` on the --admin-listen
 * address, NULL without one; `trusted_conf` for the connections the gate finds carrying the
 * admin token, NULL for none); returns once every loop is running. */
int http_worker_start_all(h2o_globalconf_t *globalconf, h2o_globalconf_t *admin_conf,
                          h2o_globalconf_t *trusted_conf);

/* Graceful stop: every worker stops accepting, lets its in-flight requests finish (at most
 * cfg->shutdown_timeout seconds), closes idle keep-alive connections, and exits; returns
 * after all threads are joined. Call from the main thread. */
void http_worker_stop_all(void);

/* Free the workers (after http_worker_stop_all). */
void http_worker_cleanup(void);

/* What the long-poll channel (channels/longpoll.c) hangs on every worker, given from above
 * so this layer includes nothing of it: the receiver of struct http_worker.outbox_done, and
 * the call once a worker is done serving (before its context is disposed). Set before
 * http_worker_start_all(); either may be NULL. */
struct http_worker_outbox_hooks {
    h2o_multithread_receiver_cb on_messages;
    void (*on_stop)(struct http_worker *w);
};
void http_worker_set_outbox_hooks(const struct http_worker_outbox_hooks *hooks);

/* The worker owning an h2o context (every request's req->conn->ctx). */
struct http_worker *http_worker_of(h2o_context_t *ctx);

/* Count a request taken (begin) and answered (end); worker thread only. Graceful shutdown
 * waits for the count to reach zero. */
static inline void http_worker_begin(struct http_worker *w)
{
    atomic_store_explicit(&w->in_flight,
                          atomic_load_explicit(&w->in_flight, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static inline void http_worker_end(struct http_worker *w)
{
    atomic_store_explicit(&w->in_flight,
                          atomic_load_explicit(&w->in_flight, memory_order_relaxed) - 1,
                          memory_order_relaxed);
}

/* Whole-process connection and request counts, for /metrics. */
void http_worker_gauges(uint64_t *conns_open, uint64_t *conns_total, uint64_t *in_flight);

/* Number of workers started. */
unsigned http_worker_count(void);

#endif
