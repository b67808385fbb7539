/* pipeline.h - the one path every vendor request takes, and the handler contract.
 *
 * route -> body cap -> envelope -> vendor -> sign -> (rate limit) -> schema -> park
 * ownership -> handler -> reply -> stats, in that fixed order (pipeline.c says why). Each
 * step may end the request with a state-0 reply; nothing before the handler writes
 * anything. A handler therefore sees an authenticated vendor, validated `data`, and for
 * park-scoped services a park the vendor owns; it holds only business logic.
 *
 * HANDLER CONTRACT (api_handler_fn)
 *  - Runs on the worker thread that owns the request, once every check passed.
 *  - call->snap, call->vendor and call->park point into the registry snapshot current when
 *    the request started; they are valid only until the handler returns (the worker moves
 *    on to newer snapshots). Copy what a later step needs.
 *  - call->env.data is the validated `data` object; valid until the call is finished. A
 *    handler bound READS_FIELDS in api/handlers.c gets no tree (env.data is NULL) and reads
 *    scalar members through pipeline_text/pipeline_int, which serve from the envelope's
 *    flat view: the hot path (park_check) never builds a json_t.
 *  - Return API_DONE after setting the reply with pipeline_reply*(): the pipeline sends it.
 *  - Or return API_PENDING to answer later. The call (and its request) stays alive until
 *    the handler side calls pipeline_finish(call) exactly once, on the same worker thread
 *    (call->worker). Work done elsewhere (a writer thread's group commit, a long-poll
 *    timer) comes back to that thread through an h2o_multithread_receiver_t registered on
 *    call->worker->ctx.queue, or an h2o timer on call->worker->loop.
 *  - If the client goes away first (the request is disposed), call->on_abandon (set it
 *    before returning API_PENDING) runs on the worker thread; from then on the call is dead
 *    and pipeline_finish() must not be called. Without on_abandon the handler must not keep
 *    pending calls across a possible disposal; HTTP/1.1 requests are not disposed before
 *    they are answered.
 *  - Graceful shutdown waits (up to --shutdown-timeout) for pending calls to finish.
 *  - A reply's state is 0 (failure: errmsg says why), 1 (success) or 2 (accepted, result
 *    pending, spec 1.5.1). Writes (PLK_SVC_WRITES) answer state 1 only once durable. */
#ifndef PARKLINK_PIPELINE_H
#define PARKLINK_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "parklink/envelope.h"
#include "parklink/services.h"

struct st_h2o_req_t;
struct http_worker;
struct snapshot;
struct vendor;
struct park;
struct route;
struct store_session;
struct config;

enum api_result {
    API_DONE = 0,    /* the reply is set; the pipeline sends it now */
    API_PENDING = 1, /* the handler will call pipeline_finish() later */
};

struct api_call;
typedef enum api_result (*api_handler_fn)(struct api_call *call);

struct api_call {
    /* set by the pipeline */
    struct st_h2o_req_t *req;      /* the HTTP request (pool: req->pool) */
    struct http_worker *worker;    /* the thread that must finish the call */
    const struct plk_service *svc; /* the service table row */
    const struct snapshot *snap;   /* valid during the handler call only */
    const struct vendor *vendor;   /* the caller; NULL for unsigned services */
    const struct park *park;       /* PLK_SVC_PARK_SCOPED: the caller's park, else NULL */
    int64_t now;                   /* unix seconds when the request arrived */
    struct store_session *store;   /* the worker's read session (readers.h): this thread's
                                      only; writes go to the writer as jobs */

    /* the reply, set through pipeline_reply*() */
    int state;
    const char *errmsg; /* must live until the reply is sent */
    const char *data;   /* JSON text of "data", or NULL to omit it */
    size_t data_len;
    const char *members; /* top-level members after errmsg, or NULL */
    size_t members_len;

    /* for API_PENDING handlers */
    void (*on_abandon)(struct api_call *call);
    void *handler_data;

    /* pipeline-private */
    uint64_t start_ns;
    unsigned stats_slot;
    int http_status; /* 200, or 413/429 for HTTP-level refusals */
    int finished;

    /* last: the envelope is large and clears itself (plk_envelope_init/parse) */
    struct plk_envelope env; /* parsed envelope; env.data is the tree for handlers
                                that read one (handlers_need_tree) */
};

/* Prepare the pipeline: bind handlers (fails loudly on a handler bound to an id the service
 * table does not have), build the route index. 0 ok, -1 error (logged). */
int pipeline_init(const struct config *cfg);
void pipeline_cleanup(void);

/* Run a vendor request matched to `route` through every step. Worker thread only. */
void pipeline_run(struct http_worker *w, struct st_h2o_req_t *req, const struct route *route);

/* Set the reply: state, errmsg (static, or memory that outlives the call such as
 * pipeline_alloc()), and no data. */
void pipeline_reply(struct api_call *call, int state, const char *errmsg);

/* Set the reply with `data` given as JSON text (len bytes, same lifetime rule). */
void pipeline_reply_data(struct api_call *call, int state, const char *errmsg, const char *data,
                         size_t len);

/* Set the reply with `data` as a JSON value, serialised now into the request pool; takes
 * the reference to data. Returns 0, or -1 (reply set to a state-0 error) if it failed. */
int pipeline_reply_json(struct api_call *call, int state, const char *errmsg, json_t *data);

/* Add members beside state and errmsg: `members` is JSON text of one or more object
 * members without braces ("order_id":"1","escapeOrder":[]), same lifetime rule as data. For
 * the replies the reference prints flat (3.1 order_id and escapeOrder, 2.3 code_url, 4.1
 * count and page ...). Call after pipeline_reply*(), which clear it. */
void pipeline_reply_members(struct api_call *call, const char *members, size_t len);

/* Send the reply, record stats, release the envelope. Called by the pipeline for API_DONE,
 * by the handler side for API_PENDING (worker thread, exactly once). */
void pipeline_finish(struct api_call *call);

/* Memory freed with the request. */
void *pipeline_alloc(struct api_call *call, size_t size);

/* The text of data.name (a string, or an integer written in decimal) into buf; returns buf,
 * or NULL if the field is absent, null or neither. */
const char *pipeline_text(struct api_call *call, const char *name, char *buf, size_t cap);

/* data.name as an integer (a JSON integer or digit string, as the schema allows), or
 * `fallback` if absent or null. */
int64_t pipeline_int(struct api_call *call, const char *name, int64_t fallback);

/* A JSON string literal (with quotes) of s in the request pool; *len gets its length. */
const char *pipeline_quote(struct api_call *call, const char *s, size_t *len);

#endif
