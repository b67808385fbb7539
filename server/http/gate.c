/* http/gate.c - choose a connection's h2o context from its first head (see http/gate.h).
 *
 * The gate owns the socket until the head is complete: the bytes read stay in sock->input,
 * where h2o's HTTP/1 code parses them as soon as h2o_accept() hands the socket over, so
 * nothing is copied and no extra system call is made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "http/gate.h"
#include "http/head.h"
#include "http/worker.h"
#include "metrics.h"
#include "parklink/status.h"
#include "http/reply.h"

struct gate {
    h2o_timeout_entry_t timeout; /* first member: the entry leads back to the gate */
    h2o_socket_t *sock;
    struct http_worker *w;
    size_t searched; /* input bytes already searched for the end of the head */
    h2o_iovec_t reply;
    char buf[512];
};

static void gate_free(struct gate *g)
{
    if (h2o_timeout_is_linked(&g->timeout))
        h2o_timeout_unlink(&g->timeout);
    free(g);
}

static void gate_close(struct gate *g)
{
    h2o_socket_t *sock = g->sock;

    gate_free(g);
    h2o_socket_close(sock); /* on_close frees the worker's record of it */
}

static void on_timeout(h2o_timeout_entry_t *entry)
{
    gate_close((struct gate *)entry);
}

static void on_refused(h2o_socket_t *sock, const char *err)
{
    gate_close(sock->data);
}

/* 431 in the JSON shape, then close: h2o never sees this connection. */
static void refuse(struct gate *g, const char *why)
{
    char body[256];
    int blen = snprintf(body, sizeof body, "{\"state\":0,\"errmsg\":\"%s: %s\"}",
                        plk_errmsg(PLK_E_HEADERS_TOO_LARGE), why);
    int n = snprintf(g->buf, sizeof g->buf,
                     "HTTP/1.1 431 %s\r\nConnection: close\r\nContent-Type: %s\r\n"
                     "Content-Length: %d\r\nServer: %s\r\n\r\n%s",
                     reply_reason(431), REPLY_JSON_TYPE, blen, REPLY_SERVER_NAME, body);

    metrics_http(g->w->metrics, METRICS_HTTP_E400);
    h2o_socket_read_stop(g->sock);
    g->reply = h2o_iovec_init(g->buf, (size_t)n);
    h2o_socket_write(g->sock, &g->reply, 1, on_refused);
}

/* End of a head: an empty line after a line feed ("\n\n" or "\n\r\n"). */
static int head_ended(struct gate *g, const char *p, size_t n)
{
    size_t i = g->searched > 2 ? g->searched - 2 : 0;

    for (; i + 1 < n; i++) {
        if (p[i] == '\n' &&
            (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')))
            return 1;
    }
    g->searched = n;
    return 0;
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    struct gate *g = sock->data;
    struct http_worker *w = g->w;
    struct http_head head;
    h2o_accept_ctx_t *actx = &w->accept_ctx;

    if (err != NULL) {
        gate_close(g);
        return;
    }
    if (!head_ended(g, sock->input->bytes, sock->input->size)) {
        if (sock->input->size > HTTP_HEAD_MAX)
            refuse(g, "上限 " H2O_TO_STR(HTTP_HEAD_MAX) " 字节");
        return;
    }
    if (!http_head_scan(sock->input->bytes, sock->input->size, &head))
        head.len = 0; /* an empty line before the request line: h2o's to judge */
    if (head.len > HTTP_HEAD_MAX) {
        refuse(g, "上限 " H2O_TO_STR(HTTP_HEAD_MAX) " 字节");
        return;
    }
    if (head.headers > HTTP_HEADERS_MAX) {
        refuse(g, "上限 " H2O_TO_STR(HTTP_HEADERS_MAX) " 行");
        return;
    }
    if (w->trusted_accept_ctx.ctx != NULL && head.authorization.base != NULL &&
        admin_token_matches(head.authorization.base, head.authorization.len))
        actx = &w->trusted_accept_ctx;
    h2o_socket_read_stop(sock);
    gate_free(g);
    sock->data = NULL;
    h2o_accept(actx, sock); /* h2o parses what sock->input holds right away */
}

void http_gate_start(struct http_worker *w, h2o_socket_t *sock)
{
    struct gate *g = calloc(1, sizeof *g);

    if (g == NULL) {
        h2o_socket_close(sock);
        return;
    }
    g->sock = sock;
    g->w = w;
    g->timeout.cb = on_timeout;
    sock->data = g;
    h2o_timeout_link(w->loop, &w->ctx.http1.req_timeout, &g->timeout);
    h2o_socket_read_start(sock, on_read);
}
