/* h2o_fixed.c - the h2o ceiling: h2o 2.2 (the library parklinkd is built on, DESIGN decision
 * 1) answering every request with nginx's fixed park_check reply, on one event loop.
 *
 * park_check.sh measures it beside nginx and parklinkd: what h2o itself costs per request
 * is the floor under parklinkd's figures, and the distance from it is parklinkd's own work
 * (envelope, signature, validation, decision). Built by the script with cc; not part of the
 * product. Usage: h2o_fixed PORT */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <h2o.h>

static const char REPLY[] =
    "{\"state\":1,\"errmsg\":\"ok\",\"data\":{\"status\":\"1\",\"reason\":\"0\","
    "\"reason_msg\":\"\",\"share_status\":\"0\"}}";

static h2o_globalconf_t config;
static h2o_context_t ctx;
static h2o_accept_ctx_t accept_ctx;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SERVER, NULL, H2O_STRLIT("h2o"));
    req->res.content_length = sizeof REPLY - 1;
    h2o_send_inline(req, REPLY, sizeof REPLY - 1);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    h2o_socket_t *sock;

    if (err != NULL)
        return;
    if ((sock = h2o_evloop_socket_accept(listener)) != NULL)
        h2o_accept(&accept_ctx, sock);
}

static int listen_on(h2o_evloop_t *loop, int port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd, on = 1;
    h2o_socket_t *sock;

    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, SOMAXCONN) != 0) {
        perror("h2o_fixed: listen");
        return -1;
    }
    sock = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(sock, on_accept);
    return 0;
}

int main(int argc, char **argv)
{
    h2o_hostconf_t *host;
    h2o_handler_t *handler;
    h2o_evloop_t *loop;

    if (argc != 2) {
        fprintf(stderr, "usage: h2o_fixed PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    h2o_config_init(&config);
    config.http1.upgrade_to_http2 = 0;
    config.server_name = h2o_iovec_init(H2O_STRLIT("")); /* a plain header, as parklinkd */
    host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    handler = h2o_create_handler(h2o_config_register_path(host, "/", 0), sizeof *handler);
    handler->on_req = on_req;

    loop = h2o_evloop_create();
    h2o_context_init(&ctx, loop, &config);
    accept_ctx.ctx = &ctx;
    accept_ctx.hosts = config.hosts;
    if (listen_on(loop, atoi(argv[1])) != 0)
        return 1;
    for (;;)
        h2o_evloop_run(loop, INT32_MAX); /* -1 on EINTR: go on */
}
