/* http/gate.h - the first request of a connection on the vendors' address, before h2o.
 *
 * h2o 2.2 caps request bodies per context, and reads a body whole before any handler runs,
 * so the cap cannot depend on the path. The gate reads a new connection's first request
 * head itself and then hands the socket to h2o in one of two contexts of its worker: the
 * admin context (the admin body cap) when that head carries the admin token, else the
 * vendor context (--body-max). A connection keeps its context; a head over HTTP_HEAD_MAX is
 * answered 431 in the JSON shape. Worker thread only. */
#ifndef PARKLINK_HTTP_GATE_H
#define PARKLINK_HTTP_GATE_H

#include <h2o.h>

struct http_worker;

/* Take sock, just accepted on w's vendor listener: read its first head (closing it on EOF,
 * error or h2o's request timeout), then h2o_accept() it in w->trusted_accept_ctx (when set
 * up and the head carries the admin token) or w->accept_ctx. */
void http_gate_start(struct http_worker *w, h2o_socket_t *sock);

#endif
