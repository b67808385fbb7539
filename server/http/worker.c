/* http/worker.c - listening sockets, worker threads, connection limits, graceful shutdown.
 *
 * Each worker runs h2o_evloop_run() on its own loop. The connection count is the only state
 * the workers share on the accept path (one atomic per connection, never per request). On
 * stop a worker closes its listener, waits for its in-flight requests, then closes idle
 * keep-alive connections by shutting down their read side, which h2o sees as EOF and
 * cleans up through its normal path. A connection on the vendors' listener goes through the
 * gate (http/gate.h) before h2o: its first head picks the h2o context that serves it. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <h2o/version.h>

#include "config.h"
#include "http/admin.h"
#include "http/gate.h"
#include "http/worker.h"
#include "log.h"
#include "metrics.h"
#include "db/writer.h"

struct conn_ref {
    h2o_linklist_t link; /* in worker->conns */
    h2o_socket_t *sock;
    struct http_worker *worker;
    int shut;            /* read side already shut down */
};

static struct http_worker *workers;
static unsigned nworkers;
static h2o_globalconf_t *admin_globalconf;   /* NULL without --admin-listen */
static h2o_globalconf_t *trusted_globalconf; /* NULL with --admin-listen */
static unsigned max_conns, shutdown_ms;
static atomic_uint_fast64_t conns_open, conns_total;

static struct http_worker_outbox_hooks outbox_hooks; /* http_worker_set_outbox_hooks() */

static pthread_mutex_t ready_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static unsigned nready;
static pthread_mutex_t stop_mu = PTHREAD_MUTEX_INITIALIZER; /* stop flag + its wake-up */

/* Split "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT". */
static int split_listen(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    size_t hl;

    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        hl = (size_t)(end - s - 1);
        if (hl >= hcap)
            return -1;
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        colon = end + 1;
    } else if ((colon = strrchr(s, ':')) == NULL) {
        host[0] = '\0';
        colon = s - 1;
    } else {
        hl = (size_t)(colon - s);
        if (hl >= hcap)
            return -1;
        memcpy(host, s, hl);
        host[hl] = '\0';
    }
    if (strlen(colon + 1) == 0 || strlen(colon + 1) >= pcap ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return -1;
    strcpy(port, colon + 1);
    return 0;
}

static int open_listener(const struct addrinfo *ai, int reuseport)
{
    int fd, on = 1;

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || (reuseport && listen(fd, 4096) != 0)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Resolve the address of option `flag` ("--listen"...) into host, port and *ai (to free with
 * freeaddrinfo). -1 on error (logged). */
static int resolve(const char *flag, const char *addr, char host[256], char port[16],
                   struct addrinfo **ai)
{
    struct addrinfo hints;
    int gai;

    if (split_listen(addr, host, 256, port, 16) != 0) {
        log_error("%s '%s': expected HOST:PORT, [IPV6]:PORT or :PORT", flag, addr);
        return -1;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((gai = getaddrinfo(host[0] ? host : NULL, port, &hints, ai)) != 0) {
        log_error("%s '%s': %s", flag, addr, gai_strerror(gai));
        return -1;
    }
    return 0;
}

/* The --admin-listen socket: one plain listener (worker 0 serves it). -1 on error (logged). */
static int bind_admin(const char *addr)
{
    char host[256], port[16];
    struct addrinfo *ai = NULL;
    int fd;

    if (resolve("--admin-listen", addr, host, port, &ai) != 0)
        return -1;
    if ((fd = open_listener(ai, 0)) < 0 || listen(fd, 1024) != 0) {
        log_error("--admin-listen '%s': cannot listen: %s", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    } else {
        log_info("admin API on %s port %s only", host[0] ? host : "*", port);
    }
    freeaddrinfo(ai);
    return fd;
}

int http_worker_bind_all(const struct config *cfg)
{
    char host[256], port[16];
    struct addrinfo *ai = NULL;
    int rc = -1, probe;

    if (resolve("--listen", cfg->listen, host, port, &ai) != 0)
        return -1;
    /* A plain bind first: SO_REUSEPORT alone would silently share the port with another
     * process of the same user that already listens there. */
    if ((probe = open_listener(ai, 0)) < 0) {
        log_error("--listen '%s': cannot bind: %s", cfg->listen, strerror(errno));
        goto out;
    }
    if (strcmp(port, "0") == 0) { /* an ephemeral port: all workers take the probe's */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        getsockname(probe, (struct sockaddr *)&ss, &sl);
        memcpy(ai->ai_addr, &ss, ai->ai_addrlen);
        snprintf(port, sizeof port, "%u",
                 ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                : ((struct sockaddr_in *)&ss)->sin_port));
    }
    close(probe);

    nworkers = cfg->threads;
    max_conns = cfg->max_connections;
    shutdown_ms = cfg->shutdown_timeout * 1000;
    workers = calloc(nworkers, sizeof *workers);
    if (workers == NULL)
        goto out;
    for (unsigned i = 0; i < nworkers; i++)
        workers[i].listen_fd = workers[i].admin_listen_fd = -1;
    if (cfg->admin_listen[0] && (workers[0].admin_listen_fd = bind_admin(cfg->admin_listen)) < 0)
        goto out;
    for (unsigned i = 0; i < nworkers; i++) {
        if ((workers[i].listen_fd = open_listener(ai, 1)) < 0) {
            log_error("--listen '%s': cannot listen: %s", cfg->listen, strerror(errno));
            goto out;
        }
    }
    log_info("listening on %s port %s with %u worker thread%s", host[0] ? host : "*", port,
             nworkers, nworkers == 1 ? "" : "s");
    rc = 0;
out:
    freeaddrinfo(ai);
    return rc;
}

static void on_conn_close(void *data)
{
    struct conn_ref *c = data;
    h2o_linklist_unlink(&c->link);
    free(c);
    atomic_fetch_sub(&conns_open, 1);
}

void http_worker_set_outbox_hooks(const struct http_worker_outbox_hooks *hooks)
{
    outbox_hooks = *hooks;
}

/* Without a long-poll channel nothing sends to outbox_done; the receiver still exists. */
static void ignore_outbox_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    (void)messages;
}

struct http_worker *http_worker_of(h2o_context_t *ctx)
{
    if (admin_globalconf != NULL && ctx->globalconf == admin_globalconf)
        return H2O_STRUCT_FROM_MEMBER(struct http_worker, admin_ctx, ctx);
    if (trusted_globalconf != NULL && ctx->globalconf == trusted_globalconf)
        return H2O_STRUCT_FROM_MEMBER(struct http_worker, trusted_ctx, ctx);
    return H2O_STRUCT_FROM_MEMBER(struct http_worker, ctx, ctx);
}

static void on_accept(h2o_socket_t *listener, const char *err);

static void pause_accepting(struct http_worker *w)
{
    if (w->accepting) {
        h2o_socket_read_stop(w->listener);
        if (w->admin_listener)
            h2o_socket_read_stop(w->admin_listener);
        w->accepting = 0;
    }
}

static void resume_accepting(struct http_worker *w)
{
    h2o_socket_read_start(w->listener, on_accept);
    if (w->admin_listener)
        h2o_socket_read_start(w->admin_listener, on_accept);
    w->accepting = 1;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct http_worker *w = listener->data;
    h2o_accept_ctx_t *actx = listener == w->admin_listener ? &w->admin_accept_ctx : &w->accept_ctx;

    if (err != NULL)
        return;
    for (int i = 0; i < 16; i++) {
        h2o_socket_t *sock;
        struct conn_ref *c;

        if (atomic_load(&conns_open) >= max_conns) {
            pause_accepting(w);
            return;
        }
        if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
            return;
        if ((c = calloc(1, sizeof *c)) == NULL) { /* h2o asserts the link starts unlinked */
            h2o_socket_close(sock);
            return;
        }
        c->sock = sock;
        c->worker = w;
        c->shut = 0;
        h2o_linklist_insert(&w->conns, &c->link);
        atomic_fetch_add(&conns_open, 1);
        atomic_fetch_add(&conns_total, 1);
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = c;
        if (listener == w->admin_listener)
            h2o_accept(actx, sock);
        else
            http_gate_start(w, sock); /* the first head picks the context */
    }
}

/* Once nothing is in flight, idle keep-alive connections are all that keep a worker alive:
 * end them the way a client hang-up would. */
static void shut_idle_conns(struct http_worker *w)
{
    for (h2o_linklist_t *l = w->conns.next; l != &w->conns; l = l->next) {
        struct conn_ref *c = H2O_STRUCT_FROM_MEMBER(struct conn_ref, link, l);
        if (!c->shut) {
            shutdown(h2o_socket_get_fd(c->sock), SHUT_RD);
            c->shut = 1;
        }
    }
}

static void drain(struct http_worker *w)
{
    uint64_t deadline;

    h2o_socket_read_stop(w->listener);
    h2o_socket_close(w->listener);
    w->listener = NULL;
    if (w->admin_listener) {
        h2o_socket_read_stop(w->admin_listener);
        h2o_socket_close(w->admin_listener);
        w->admin_listener = NULL;
        w->admin_ctx.shutdown_requested = 1;
    }
    /* What h2o_context_request_shutdown() does for HTTP/1 (answer with "Connection: close"
     * from now on); its HTTP/2 part would arm a one-second timer, and parklinkd never
     * speaks HTTP/2 (no TLS, upgrade disabled in http.c) */
    w->ctx.shutdown_requested = 1;
    if (w->trusted_accept_ctx.ctx != NULL)
        w->trusted_ctx.shutdown_requested = 1;
    deadline = h2o_now(w->loop) + shutdown_ms;
    for (;;) {
        size_t busy = atomic_load_explicit(&w->in_flight, memory_order_relaxed);
        if (busy == 0 && h2o_linklist_is_empty(&w->conns))
            break;
        /* admin jobs always come back (the admin thread answers every job), and their
         * replies arrive through this loop's queue, so they are waited for past the
         * deadline; so are group-commit jobs (the writer runs every job it was given) */
        if (w->admin_pending == 0 && w->writer_pending == 0 && h2o_now(w->loop) >= deadline) {
            log_warn("worker %u: shutdown timeout with %zu request(s) unanswered", w->index,
                     busy);
            break;
        }
        if (busy == 0)
            shut_idle_conns(w);
        h2o_evloop_run(w->loop, 10);
    }
}

static void on_wake(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    /* messages are always NULL: the wake-up itself makes h2o_evloop_run() return */
}

/* Everything h2o here is created on the thread that uses it: contexts are not thread-safe,
 * and h2o's memory recyclers are per thread. */
static void setup(struct http_worker *w)
{
    w->loop = h2o_evloop_create();
    h2o_context_init(&w->ctx, w->loop, w->globalconf);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = w->globalconf->hosts;
    w->metrics = metrics_worker(w->index);
    h2o_linklist_init_anchor(&w->conns);
    h2o_multithread_register_receiver(w->ctx.queue, &w->wake, on_wake);
    h2o_multithread_register_receiver(w->ctx.queue, &w->admin_done, http_admin_on_done);
    h2o_multithread_register_receiver(w->ctx.queue, &w->writer_done, writer_on_done);
    h2o_multithread_register_receiver(w->ctx.queue, &w->outbox_done,
                                      outbox_hooks.on_messages ? outbox_hooks.on_messages
                                                               : ignore_outbox_messages);
    w->listener = h2o_evloop_socket_create(w->loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listen_fd = -1; /* owned by the h2o socket now */
    if (trusted_globalconf != NULL) {
        h2o_context_init(&w->trusted_ctx, w->loop, trusted_globalconf);
        w->trusted_accept_ctx.ctx = &w->trusted_ctx;
        w->trusted_accept_ctx.hosts = trusted_globalconf->hosts;
    }
    w->listener->data = w;
    if (w->admin_listen_fd >= 0) {
        h2o_context_init(&w->admin_ctx, w->loop, admin_globalconf);
        w->admin_accept_ctx.ctx = &w->admin_ctx;
        w->admin_accept_ctx.hosts = admin_globalconf->hosts;
        w->admin_listener =
            h2o_evloop_socket_create(w->loop, w->admin_listen_fd, H2O_SOCKET_FLAG_DONT_READ);
        w->admin_listen_fd = -1;
        w->admin_listener->data = w;
    }
    resume_accepting(w);
}

/* h2o 2.2's evloop h2o_multithread_destroy_queue() forgets to free the queue (later
 * versions do free it) */
static void dispose_context(h2o_context_t *ctx)
{
    h2o_multithread_queue_t *queue = ctx->queue;

    h2o_context_dispose(ctx);
#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR <= 2
    free(queue);
#else
    (void)queue;
#endif
}

static void *worker_main(void *arg)
{
    struct http_worker *w = arg;
    int clean;

    setup(w);
    pthread_mutex_lock(&ready_mu);
    nready++;
    pthread_cond_broadcast(&ready_cv);
    pthread_mutex_unlock(&ready_mu);

    while (!atomic_load(&w->stop)) {
        h2o_evloop_run(w->loop, w->accepting ? INT32_MAX : 50);
        if (!w->accepting && w->listener && atomic_load(&conns_open) < max_conns)
            resume_accepting(w);
    }
    drain(w);
    /* the flag that ended the loop was set under stop_mu, with the wake-up sent to this
     * queue: once the mutex is free that send is over, and the queue may go */
    pthread_mutex_lock(&stop_mu);
    pthread_mutex_unlock(&stop_mu);
    clean = h2o_linklist_is_empty(&w->conns) &&
            atomic_load_explicit(&w->in_flight, memory_order_relaxed) == 0;
    h2o_multithread_unregister_receiver(w->ctx.queue, &w->wake);
    h2o_multithread_unregister_receiver(w->ctx.queue, &w->admin_done);
    h2o_multithread_unregister_receiver(w->ctx.queue, &w->writer_done);
    h2o_multithread_unregister_receiver(w->ctx.queue, &w->outbox_done);
    registry_reader_release(&w->reader);
    if (clean) {
        /* h2o_timeout_dispose() asserts that no timer is still linked */
        if (outbox_hooks.on_stop != NULL)
            outbox_hooks.on_stop(w);
        /* h2o's contexts and loop may only be torn down once no connection uses them */
        if (w->admin_accept_ctx.ctx != NULL)
            dispose_context(&w->admin_ctx);
        if (w->trusted_accept_ctx.ctx != NULL)
            dispose_context(&w->trusted_ctx);
        dispose_context(&w->ctx);
        h2o_evloop_destroy(w->loop);
    }
    return NULL;
}

int http_worker_start_all(h2o_globalconf_t *globalconf, h2o_globalconf_t *admin_conf,
                          h2o_globalconf_t *trusted_conf)
{
    trusted_globalconf = trusted_conf;
    admin_globalconf = admin_conf;
    for (unsigned i = 0; i < nworkers; i++) {
        workers[i].index = i;
        workers[i].globalconf = globalconf;
        h2o_multithread_create_thread(&workers[i].tid, NULL, worker_main, &workers[i]);
    }
    pthread_mutex_lock(&ready_mu);
    while (nready < nworkers)
        pthread_cond_wait(&ready_cv, &ready_mu);
    pthread_mutex_unlock(&ready_mu);
    return 0;
}

void http_worker_stop_all(void)
{
    for (unsigned i = 0; i < nworkers; i++) {
        /* under stop_mu: a worker that sees the flag before the wake-up is sent must not
         * close its queue's pipe while the send writes to it (worker_main) */
        pthread_mutex_lock(&stop_mu);
        atomic_store(&workers[i].stop, 1);
        h2o_multithread_send_message(&workers[i].wake, NULL);
        pthread_mutex_unlock(&stop_mu);
    }
    for (unsigned i = 0; i < nworkers; i++)
        pthread_join(workers[i].tid, NULL);
}

void http_worker_cleanup(void)
{
    for (unsigned i = 0; workers && i < nworkers; i++) {
        if (workers[i].listen_fd >= 0)
            close(workers[i].listen_fd);
        if (workers[i].admin_listen_fd >= 0)
            close(workers[i].admin_listen_fd);
        free(workers[i].spare_call);
    }
    trusted_globalconf = NULL;
    admin_globalconf = NULL;
    free(workers);
    workers = NULL;
    nworkers = 0;
}

void http_worker_gauges(uint64_t *open, uint64_t *total, uint64_t *in_flight)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < nworkers; i++)
        sum += atomic_load_explicit(&workers[i].in_flight, memory_order_relaxed);
    *open = atomic_load(&conns_open);
    *total = atomic_load(&conns_total);
    *in_flight = sum;
}

unsigned http_worker_count(void)
{
    return nworkers;
}
