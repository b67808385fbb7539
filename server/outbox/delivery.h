/* delivery.h - the delivery thread: takes due messages from the outbox and delivers them.
 *
 * One thread (DESIGN decision 10) on its own store handle, driving libcurl's multi
 * interface: many POSTs in flight at once, never on a request worker. Push: a message goes
 * to the vendor's URL (outbox_choose_url); HTTP 2xx with JSON state 1 delivers it, anything
 * else retries on the schedule of outbox.h and finally marks it dead. While the vendor
 * answers, each park's messages arrive in the order they were written (one in flight per
 * park). Poll: messages of vendors in poll mode wait for their long-poll (longpoll.h) and
 * are delivered by the acknowledgement that comes back through bpd/upload.do. Questions
 * (admin asks) get one attempt and their answer goes back to the asker. The thread wakes
 * at once on delivery_notify() and otherwise sleeps until the next message is due. */
#ifndef PARKLINK_DELIVERY_H
#define PARKLINK_DELIVERY_H

#include <stddef.h>
#include <stdint.h>
#include <h2o.h>

struct config;
struct store;

/* Settings of the thread (from struct config). */
struct delivery_options {
    struct store *store;  /* the thread opens a session of its own on it */
    double retry_scale;   /* schedule factor, 1.0 = the reference's */
    unsigned timeout_ms;  /* per push attempt (5000) */
    unsigned concurrency; /* transfers in flight at most */
    int64_t retention_ms; /* delivered messages older than this are deleted; 0 = never */
};

/* Open the thread's store session, drop leases a previous process left (single-node store), and
 * start the thread; pending messages are picked up at once. Call from the main thread before the
 * request workers start and after curl is usable (curl_global_init is done here).
 * 0 ok, -1 error (logged). */
int delivery_start(const struct delivery_options *opt);

/* Stop the thread: transfers in flight are abandoned (their messages stay pending and go
 * again at the next start), waiting asks are answered 503. Call after the request workers
 * and the admin thread have stopped. */
void delivery_stop(void);

/* New messages of vendor union_id at park park_id were committed. Any thread, never blocks;
 * a no-op while the thread is not running. */
void delivery_notify(const char *union_id, const char *park_id);

/* A vendor's delivery settings changed (mode, per-service URLs); also called for callback_url
 * changes. Any thread. */
void delivery_settings_changed(const char *union_id);

/* A long-poll of vendor union_id's park park_id is waiting (longpoll.c). Any thread. */
void delivery_poll_waiting(const char *union_id, const char *park_id);

/* ---- questions (POST /admin/v1/ask/...) ---- */

/* A question already written to the outbox (outbox_enqueue), and what came back. The asker
 * fills the first part, calls delivery_ask(), and is called back exactly once through done()
 * on the delivery thread (it must not block there: hand the result to its own thread). */
struct delivery_ask {
    int64_t id; /* the outbox message id */
    char union_id[21];
    char park_id[65];
    char service_name[65];
    char *body; /* the signed body (owned by the asker until done) */
    size_t body_len;
    unsigned timeout_ms; /* how long to wait for the vendor's answer */
    void (*done)(struct delivery_ask *a);
    void *arg;

    /* result, valid in done() */
    int outcome;      /* 200 answered, 502 failed (HTTP error, network), 504 timeout,
                         503 not sent (shutdown, no URL, store error) */
    long http_status; /* the vendor's HTTP status, 0 when none */
    char *answer;     /* malloc'd bytes of the answer (freed by the asker), or NULL */
    size_t answer_len;
    char content_type[128];
    char error[256]; /* English, when outcome != 200 */
    int via_poll;    /* 1: the vendor polls; the answer came as an acknowledgement */

    struct delivery_ask *next_; /* delivery.c */
    int64_t deadline_;
};

/* Hand a question to the delivery thread. Any thread. */
void delivery_ask(struct delivery_ask *a);

/* ---- acknowledgements from bpd/upload.do ---- */

/* A message another thread sends a request worker for the outbox, through the worker's
 * receiver struct http_worker.outbox_done (longpoll_on_worker_messages): run() is called on
 * the worker thread and takes ownership of the message. */
struct outbox_worker_msg {
    h2o_multithread_message_t msg; /* link must start zeroed */
    void (*run)(struct outbox_worker_msg *m);
};

/* An acknowledgement of a long-polled message, and its result. The worker fills the first
 * part; the delivery thread records it and sends wm back to `receiver` (the worker's
 * outbox_done), where wm.run runs on the worker thread. */
struct delivery_ack {
    struct outbox_worker_msg wm;
    h2o_multithread_receiver_t *receiver;
    void *arg;

    char union_id[21];
    char park_id[65];
    char service_name[65];
    int64_t message_id; /* > 0 when the vendor named the message */
    int ok;             /* the vendor's state was 1 */
    char error[256];    /* its errmsg when not ok */
    char *answer;       /* malloc'd JSON text of the acknowledgement's data (questions) */
    size_t answer_len;

    /* result */
    int found; /* 0 nothing to acknowledge, 1 recorded, 2 already delivered */
    int64_t acked_id;
    int store_error; /* 1: the store failed; nothing was recorded */

    struct delivery_ack *next_; /* delivery.c */
};

/* Queue an acknowledgement. Worker thread; the job returns through a->receiver. */
void delivery_ack(struct delivery_ack *a);

#endif
