/* vendor_sim_server.h - the h2o plumbing of `parklink vendor-sim` (cmd_vendor_sim.c).
 *
 * One thread, one h2o event loop: a listening socket, SIGTERM/SIGINT as a signalfd read in
 * the loop, one handler on "/" that sees every request, timers for answers sent later,
 * and a graceful stop. What the requests mean is the command's business; this file only
 * moves bytes. Mirrors server/http/worker.c with a single worker. */
#ifndef PARKLINK_VENDOR_SIM_SERVER_H
#define PARKLINK_VENDOR_SIM_SERVER_H

#ifndef H2O_USE_LIBUV
#define H2O_USE_LIBUV 0
#endif
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include <jansson.h>
#include "cli.h"

struct sim_server {
    h2o_globalconf_t conf;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener, *signals;
    h2o_linklist_t conns;   /* struct conn_ref: open client connections */
    h2o_linklist_t buckets; /* struct bucket: one h2o timeout per distinct duration */
    size_t nbuckets;
    int configured; /* conf holds something to dispose */
    int stop;       /* a stop signal arrived */
};

/* Configure h2o (HTTP/1 only, bodies up to max_body bytes) with one handler on "/" of
 * handler_size bytes (at least sizeof(h2o_handler_t)), which is returned for the caller to
 * set on_req and its own members. Never fails (h2o aborts on allocation failure). */
h2o_handler_t *sim_server_init(struct sim_server *s, size_t max_body, size_t handler_size);

/* Listen on spec ("HOST:PORT", "[V6]:PORT", ":PORT"; port 0 picks one), block SIGTERM and
 * SIGINT into a signalfd, and create the loop and context. The address obtained goes into
 * shown. 0, or -1 after printing why (as cmd). */
int sim_server_listen(struct sim_server *s, const struct cli_cmd *cmd, const char *spec,
                      char *shown, size_t cap);

/* Serve until SIGTERM or SIGINT. */
void sim_server_run(struct sim_server *s);

/* An h2o timeout of `ms` milliseconds on the loop (shared by every timer of that duration;
 * link entries to it with h2o_timeout_link). NULL on allocation failure. */
h2o_timeout_t *sim_server_timeout(struct sim_server *s, uint64_t ms);

/* Stop: close the listener, then let connections finish (answering requests is the
 * caller's, before this), ending idle keep-alive ones, for at most timeout_ms. Returns 1
 * when every connection is closed. */
int sim_server_drain(struct sim_server *s, unsigned timeout_ms);

/* Free h2o: the loop and context only when `clean` (no connection left uses them; every
 * timer entry unlinked), the configuration always. Safe after a failed listen. */
void sim_server_dispose(struct sim_server *s, int clean);

/* Send a complete response: status, Content-Type and body (copied). */
void sim_send(h2o_req_t *req, int status, const char *type, const char *body, size_t len);

/* Send a JSON value (its reference is taken; NULL answers 500 "out of memory"). */
void sim_send_json(h2o_req_t *req, int status, json_t *v);

/* Send {"state":0,"errmsg":errmsg} with `status`. */
void sim_send_error(h2o_req_t *req, int status, const char *errmsg);

/* End the request's connection without a response: the client sees it close. */
void sim_send_nothing(h2o_req_t *req);

#endif
