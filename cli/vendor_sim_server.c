/* vendor_sim_server.c - the h2o server under `parklink vendor-sim` (see the header).
 *
 * Like one worker of server/http/worker.c: a listener read with h2o_evloop_socket_accept
 * and h2o_accept, a list of open connections so a stop can end idle keep-alive ones, and
 * the same graceful drain. Signals come through a signalfd so the loop never misses one.
 * Timers are h2o timeouts, one per distinct duration (h2o 2.2 keeps one duration per
 * h2o_timeout_t). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <h2o/version.h>
#include "vendor_sim_server.h"

#define MAX_BUCKETS 32 /* distinct timer durations kept before idle ones are freed */

struct bucket {
    h2o_timeout_t to;
    uint64_t ms;
    h2o_linklist_t link;
};

struct conn_ref {
    h2o_linklist_t link; /* in server->conns */
    h2o_socket_t *sock;
    int shut; /* read side already shut down */
};

h2o_handler_t *sim_server_init(struct sim_server *s, size_t max_body, size_t handler_size)
{
    h2o_hostconf_t *host;
    h2o_pathconf_t *path;

    memset(s, 0, sizeof *s);
    h2o_linklist_init_anchor(&s->conns);
    h2o_linklist_init_anchor(&s->buckets);
    h2o_config_init(&s->conf);
    s->configured = 1;
    s->conf.server_name = h2o_iovec_init(H2O_STRLIT("parklink-vendor-sim"));
    s->conf.max_request_entity_size = max_body;
    s->conf.http1.upgrade_to_http2 = 0;
    host = h2o_config_register_host(&s->conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    path = h2o_config_register_path(host, "/", 0);
    return h2o_create_handler(path, handler_size);
}

static void on_conn_close(void *data)
{
    struct conn_ref *c = data;
    h2o_linklist_unlink(&c->link);
    free(c);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct sim_server *s = listener->data;

    if (err != NULL)
        return;
    for (int i = 0; i < 16; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        struct conn_ref *c;
        if (sock == NULL)
            return;
        if ((c = calloc(1, sizeof *c)) == NULL) {
            h2o_socket_close(sock);
            return;
        }
        c->sock = sock;
        h2o_linklist_insert(&s->conns, &c->link);
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = c;
        h2o_accept(&s->accept_ctx, sock);
    }
}

static void on_signal(h2o_socket_t *sock, const char *err)
{
    struct sim_server *s = sock->data;
    struct signalfd_siginfo si;

    while (read(h2o_socket_get_fd(sock), &si, sizeof si) == (ssize_t)sizeof si)
        s->stop = 1;
    if (err != NULL)
        s->stop = 1;
}

/* A listening socket on spec; the address it got goes into shown. -1 after an error. */
static int open_listener(const struct cli_cmd *cmd, const char *spec, char *shown, size_t cap)
{
    char host[256] = "", port[16];
    const char *colon = strrchr(spec, ':'), *h = spec;
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = -1, on = 1, gai;
    size_t hl;

    if (colon == NULL || strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof port ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
        cli_error(cmd, "--listen '%s': expected HOST:PORT", spec);
        return -1;
    }
    hl = (size_t)(colon - spec);
    if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') { /* [V6]:PORT */
        h++;
        hl -= 2;
    }
    if (hl >= sizeof host) {
        cli_error(cmd, "--listen '%s': host too long", spec);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    strcpy(port, colon + 1);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai)) != 0) {
        cli_error(cmd, "--listen '%s': %s", spec, gai_strerror(gai));
        return -1;
    }
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        cli_error(cmd, "--listen '%s': %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
        goto out;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(shown, cap, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
    else
        snprintf(shown, cap, "%s", spec);
out:
    freeaddrinfo(ai);
    return fd;
}

int sim_server_listen(struct sim_server *s, const struct cli_cmd *cmd, const char *spec,
                      char *shown, size_t cap)
{
    sigset_t mask;
    int fd, sfd;

    if ((fd = open_listener(cmd, spec, shown, cap)) < 0)
        return -1;
    /* SIGTERM/SIGINT arrive as readable data on a signalfd in the loop */
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0 ||
        (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        cli_error(cmd, "signalfd: %s", strerror(errno));
        close(fd);
        return -1;
    }
    s->loop = h2o_evloop_create();
    h2o_context_init(&s->ctx, s->loop, &s->conf);
    s->accept_ctx.ctx = &s->ctx;
    s->accept_ctx.hosts = s->conf.hosts;
    s->listener = h2o_evloop_socket_create(s->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    s->listener->data = s;
    h2o_socket_read_start(s->listener, on_accept);
    s->signals = h2o_evloop_socket_create(s->loop, sfd, H2O_SOCKET_FLAG_DONT_READ);
    s->signals->data = s;
    h2o_socket_read_start(s->signals, on_signal);
    return 0;
}

void sim_server_run(struct sim_server *s)
{
    while (!s->stop)
        h2o_evloop_run(s->loop, INT32_MAX);
}

h2o_timeout_t *sim_server_timeout(struct sim_server *s, uint64_t ms)
{
    struct bucket *b;
    h2o_linklist_t *l, *next;

    for (l = s->buckets.next; l != &s->buckets; l = l->next) {
        b = H2O_STRUCT_FROM_MEMBER(struct bucket, link, l);
        if (b->ms == ms)
            return &b->to;
    }
    if (s->nbuckets >= MAX_BUCKETS) { /* scripts changed at run time: free idle ones */
        for (l = s->buckets.next; l != &s->buckets; l = next) {
            next = l->next;
            b = H2O_STRUCT_FROM_MEMBER(struct bucket, link, l);
            if (h2o_linklist_is_empty(&b->to._entries)) {
                h2o_linklist_unlink(&b->link);
                h2o_timeout_dispose(s->loop, &b->to);
                free(b);
                s->nbuckets--;
            }
        }
    }
    if ((b = calloc(1, sizeof *b)) == NULL)
        return NULL;
    b->ms = ms;
    h2o_timeout_init(s->loop, &b->to, ms);
    h2o_linklist_insert(&s->buckets, &b->link);
    s->nbuckets++;
    return &b->to;
}

int sim_server_drain(struct sim_server *s, unsigned timeout_ms)
{
    uint64_t deadline;

    h2o_socket_read_stop(s->listener);
    h2o_socket_close(s->listener);
    s->listener = NULL;
    h2o_socket_read_stop(s->signals);
    h2o_socket_close(s->signals);
    s->signals = NULL;
    /* what h2o_context_request_shutdown() does for HTTP/1: no keep-alive from now on */
    s->ctx.shutdown_requested = 1;
    deadline = h2o_now(s->loop) + timeout_ms;
    do {
        for (h2o_linklist_t *l = s->conns.next; l != &s->conns; l = l->next) {
            struct conn_ref *c = H2O_STRUCT_FROM_MEMBER(struct conn_ref, link, l);
            if (!c->shut) { /* idle keep-alive connections end as if the client hung up */
                shutdown(h2o_socket_get_fd(c->sock), SHUT_RD);
                c->shut = 1;
            }
        }
        h2o_evloop_run(s->loop, 10);
    } while (!h2o_linklist_is_empty(&s->conns) && h2o_now(s->loop) < deadline);
    return h2o_linklist_is_empty(&s->conns);
}

void sim_server_dispose(struct sim_server *s, int clean)
{
    if (s->loop && clean) {
        h2o_multithread_queue_t *queue = s->ctx.queue;
        while (!h2o_linklist_is_empty(&s->buckets)) {
            struct bucket *b = H2O_STRUCT_FROM_MEMBER(struct bucket, link, s->buckets.next);
            h2o_linklist_unlink(&b->link);
            h2o_timeout_dispose(s->loop, &b->to);
            free(b);
        }
        s->nbuckets = 0;
        h2o_context_dispose(&s->ctx);
#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR <= 2
        free(queue); /* h2o 2.2's evloop h2o_multithread_destroy_queue() does not free it */
#else
        (void)queue;
#endif
        h2o_evloop_destroy(s->loop);
        s->loop = NULL;
    }
    if (s->configured) {
        h2o_config_dispose(&s->conf);
        s->configured = 0;
    }
}

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return status < 500 ? "Client Error" : "Server Error";
    }
}

void sim_send(h2o_req_t *req, int status, const char *type, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason_of(status);
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
    h2o_send_inline(req, body, len);
}

void sim_send_json(h2o_req_t *req, int status, json_t *v)
{
    static const char oom[] = "{\"state\":0,\"errmsg\":\"服务器内存不足\"}";
    static const char type[] = "application/json;charset=utf-8";
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;

    json_decref(v);
    if (text == NULL) {
        sim_send(req, 500, type, oom, sizeof oom - 1);
        return;
    }
    sim_send(req, status, type, text, strlen(text));
    free(text);
}

void sim_send_error(h2o_req_t *req, int status, const char *errmsg)
{
    sim_send_json(req, status, json_pack("{s:i,s:s}", "state", 0, "errmsg", errmsg));
}

void sim_send_nothing(h2o_req_t *req)
{
    /* h2o has no call to abort a connection: shut the socket down under it; the response
     * h2o then tries to write fails and h2o closes the connection through its normal path */
    h2o_socket_t *sock =
        req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;

    if (sock)
        shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
    req->http1_is_persistent = 0;
    sim_send(req, 500, "text/plain", "", 0);
}
