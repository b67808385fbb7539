/* longpoll.h - the SDK's HTTP mode downlink: POST /bpd/download.do (spec 12.4).
 *
 * A terminal behind NAT that logged in through bpd/upload.do (sdk_session.h) holds one
 * download.do request open; parklinkd answers it at once when a message for its vendor and
 * park is due, else with "no message" after --longpoll-hold milliseconds (30 s). The request
 * stays on the worker that took it; the delivery thread hands it a message through the
 * worker's outbox receiver (struct http_worker.outbox_done), so no thread ever blocks. The
 * terminal confirms with an upload carrying the same service_name (api/sdk.c ->
 * delivery_ack); until then the message is handed out again on the retry schedule. */
#ifndef PARKLINK_LONGPOLL_H
#define PARKLINK_LONGPOLL_H

#include <stddef.h>
#include <stdint.h>
#include <h2o.h>

struct http_worker;

/* How long a poll is held, milliseconds (--longpoll-hold). Before the workers start. */
void longpoll_init(unsigned hold_ms);

/* Serve POST /bpd/download.do: body {"token":"..."} (or token=... as a form or query
 * parameter). Answers at once when the token is unknown or a message is ready, else holds
 * the request. Worker thread. */
void longpoll_download(struct http_worker *w, h2o_req_t *req);

/* The worker w is done serving (every held poll answered, no request in flight): unlink its
 * tick from the loop's timeouts, which h2o_context_dispose() requires to be empty, and
 * forget the loop. Worker thread, after draining and before disposing its context. */
void longpoll_worker_stop(struct http_worker *w);

/* The receiver callback of struct http_worker.outbox_done: runs the messages other threads
 * send a worker for the outbox (hand-outs to held polls, finished acknowledgements).
 * Worker thread. */
void longpoll_on_worker_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

/* End the held poll of token, if any: it is answered "token无效" (revoked) by its worker
 * within 100 ms instead of receiving messages. Any thread. */
void longpoll_end_token(const char *token);

/* The same, shaped as sdk_session_revoke_stale()'s ended callback (arg unused). */
void longpoll_on_session_ended(void *arg, const char *token);

/* ---- for the delivery thread ---- */

/* cb(arg, union_id, park_id) for every park with a waiting poll (the list is copied first:
 * cb may call longpoll_hand_out). Any thread. */
void longpoll_each_waiting(void (*cb)(void *arg, const char *union_id, const char *park_id),
                           void *arg);

/* Is a poll of this park waiting? Any thread. */
int longpoll_waiting(const char *union_id, const char *park_id);

/* Give message id (service_name, the exact signed body of len bytes) to the oldest poll
 * waiting for this park: it is answered on its worker with the message. 0 done, -1 when no
 * poll waits. Any thread. */
int longpoll_hand_out(const char *union_id, const char *park_id, int64_t id,
                      const char *service_name, const char *body, size_t len);

#endif
