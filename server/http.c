/* http.c - h2o setup and the route table of parklinkd (see http.h).
 *
 * One h2o handler on "/" sees every request and routes on the normalised path, so h2o never
 * answers 404 itself and every reply has the JSON shape. Errors h2o raises before a handler
 * runs (body over the cap, broken chunked encoding) go through a filter on the host's
 * fallback path that rewrites their text/plain body into the same JSON shape.
 *
 * Body caps: h2o has one per configuration. The vendors' address is served by `globalconf`
 * (--body-max); without --admin-listen a connection whose first request carries the admin
 * token is served by `trusted_conf` (the admin cap; http/gate.h), with the same routes. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "http/admin.h"
#include "http/head.h"
#include "qr/page.h"
#include "http/worker.h"
#include "log.h"
#include "metrics.h"
#include "channels/sdk_http.h"
#include "api/pipeline.h"
#include "http/ratelimit.h"
#include "http/reply.h"
#include "api/router.h"

#define UNIONAPI "/unionapi/"
#define ADMIN "/admin/v1"

static h2o_globalconf_t globalconf;
static h2o_globalconf_t admin_conf;   /* --admin-listen: the admin address's own caps */
static h2o_globalconf_t trusted_conf; /* one address: connections that showed the token */
static int configured, admin_configured, trusted_configured, admin_split;
static size_t admin_body_cap; /* for the error filter's hint */

static int path_is(h2o_iovec_t path, const char *lit)
{
    size_t n = strlen(lit);
    return path.len == n && memcmp(path.base, lit, n) == 0;
}

static int method_is(h2o_req_t *req, const char *lit)
{
    size_t n = strlen(lit);
    return req->method.len == n && memcmp(req->method.base, lit, n) == 0;
}

static int method_not_allowed(struct http_worker *w, h2o_req_t *req, const char *allow)
{
    metrics_http(w->metrics, METRICS_HTTP_E405);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, allow, strlen(allow));
    reply_send(req, 405, 0, "请求方法不允许", NULL, 0);
    return 0;
}

static int not_found(struct http_worker *w, h2o_req_t *req)
{
    size_t n = req->path_normalized.len + 32;
    char *msg = h2o_mem_alloc_pool(&req->pool, n);

    snprintf(msg, n, "接口不存在: %.*s", (int)req->path_normalized.len, req->path_normalized.base);
    metrics_http(w->metrics, METRICS_HTTP_OTHER);
    metrics_http(w->metrics, METRICS_HTTP_E404);
    reply_send(req, 404, 0, msg, NULL, 0);
    return 0;
}

static int serve_metrics(struct http_worker *w, h2o_req_t *req)
{
    struct metrics_gauges g = {.threads = http_worker_count()};
    char *text = NULL, *body;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    if (out == NULL)
        h2o_fatal("out of memory");
    http_worker_gauges(&g.connections_open, &g.connections_total, &g.requests_in_flight);
    metrics_render(out, &g);
    fclose(out);
    body = h2o_mem_alloc_pool(&req->pool, len ? len : 1);
    memcpy(body, text, len);
    free(text);
    reply_send_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
    return 0;
}

static int is_admin_path(h2o_iovec_t path)
{
    return path.len >= sizeof ADMIN - 1 && memcmp(path.base, ADMIN, sizeof ADMIN - 1) == 0 &&
           (path.len == sizeof ADMIN - 1 || path.base[sizeof ADMIN - 1] == '/');
}

static int serve_admin(struct http_worker *w, h2o_req_t *req, h2o_iovec_t path)
{
    /* the admin module percent-decodes its own path segments: give it the raw path when it
     * starts the same way (it nearly always does), so nothing is decoded twice */
    h2o_iovec_t raw = req->path;
    if (req->query_at != SIZE_MAX)
        raw.len = req->query_at;
    if (!(raw.len >= sizeof ADMIN - 1 && memcmp(raw.base, ADMIN, sizeof ADMIN - 1) == 0))
        raw = path;
    metrics_http(w->metrics, METRICS_HTTP_ADMIN);
    http_admin_dispatch(w, req,
                        h2o_iovec_init(raw.base + sizeof ADMIN - 1, raw.len - (sizeof ADMIN - 1)));
    return 0;
}

/* /healthz and /metrics: both addresses answer them. 1 if path was one of them. */
static int serve_status(struct http_worker *w, h2o_req_t *req, h2o_iovec_t path, int *rc)
{
    int get = method_is(req, "GET") || method_is(req, "HEAD");

    if (path_is(path, "/healthz")) {
        static const char ok[] = "{\"state\":1,\"errmsg\":\"ok\"}";
        metrics_http(w->metrics, METRICS_HTTP_HEALTHZ);
        if (get) {
            reply_send_raw(req, 200, REPLY_JSON_TYPE, ok, sizeof ok - 1);
            *rc = 0;
        } else {
            *rc = method_not_allowed(w, req, "GET, HEAD");
        }
        return 1;
    }
    if (path_is(path, "/metrics")) {
        metrics_http(w->metrics, METRICS_HTTP_METRICS);
        *rc = get ? serve_metrics(w, req) : method_not_allowed(w, req, "GET, HEAD");
        return 1;
    }
    return 0;
}

/* The --admin-listen address: the admin API, /healthz and /metrics; nothing of the vendors'. */
/* Refuse a request whose raw head is ambiguous or too large (http/head.h), before any
 * handler reads its body. 1 if refused. */
static int refused_head(struct http_worker *w, h2o_req_t *req)
{
    int status;
    const char *why = http_head_check(req, &status);

    if (why == NULL)
        return 0;
    metrics_http(w->metrics, METRICS_HTTP_OTHER);
    metrics_http(w->metrics, METRICS_HTTP_E400);
    http_head_refuse(req, status, why);
    return 1;
}

static int on_admin_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct http_worker *w = http_worker_of(req->conn->ctx);
    h2o_iovec_t path = req->path_normalized;
    int rc;

    if (refused_head(w, req))
        return 0;

    if (serve_status(w, req, path, &rc))
        return rc;
    if (is_admin_path(path))
        return serve_admin(w, req, path);
    return not_found(w, req);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct http_worker *w = http_worker_of(req->conn->ctx);
    h2o_iovec_t path = req->path_normalized;
    int get = method_is(req, "GET") || method_is(req, "HEAD"), rc;
    struct route route;

    if (refused_head(w, req))
        return 0;

    if (path.len > sizeof UNIONAPI - 1 && memcmp(path.base, UNIONAPI, sizeof UNIONAPI - 1) == 0) {
        size_t skip = sizeof UNIONAPI - 1;
        if (!router_match(path.base + skip, path.len - skip, 0, &route))
            return not_found(w, req);
        metrics_http(w->metrics, METRICS_HTTP_UNIONAPI);
        if (!method_is(req, "POST"))
            return method_not_allowed(w, req, "POST");
        pipeline_run(w, req, &route);
        return 0;
    }
    if (serve_status(w, req, path, &rc))
        return rc;
    if (is_admin_path(path)) {
        if (admin_split)
            return not_found(w, req); /* the admin API answers on --admin-listen only */
        return serve_admin(w, req, path);
    }
    /* lane QR code images (spec 2.3, qr/page.c) */
    if (path.len > sizeof HTTP_QR_PREFIX - 1 &&
        memcmp(path.base, HTTP_QR_PREFIX, sizeof HTTP_QR_PREFIX - 1) == 0) {
        if (!get)
            return method_not_allowed(w, req, "GET, HEAD");
        http_qr_serve(w, req,
                      h2o_iovec_init(path.base + sizeof HTTP_QR_PREFIX - 1,
                                     path.len - (sizeof HTTP_QR_PREFIX - 1)));
        return 0;
    }
    /* the SDK's HTTP mode (envelope S, token sessions, the gateway's reply shapes) */
    if (sdk_http_match(path)) {
        sdk_http_serve(w, req);
        return 0;
    }
    /* the few services that live outside /unionapi/ (absolute paths in the table) */
    if (router_match(path.base, path.len, 1, &route)) {
        metrics_http(w->metrics, METRICS_HTTP_UNIONAPI);
        if (!method_is(req, "POST"))
            return method_not_allowed(w, req, "POST");
        pipeline_run(w, req, &route);
        return 0;
    }
    return not_found(w, req);
}

/* ---- JSON bodies for the errors h2o sends itself ---- */

struct json_error_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body;
};

static void json_error_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                            h2o_send_state_t state)
{
    struct json_error_ostream *o = (struct json_error_ostream *)self;
    h2o_iovec_t body = o->body;

    /* h2o's text/plain body is dropped; ours goes out once, with h2o's final state */
    o->body = h2o_iovec_init(NULL, 0);
    h2o_ostream_send_next(&o->super, req, &body, body.len ? 1 : 0, state);
}

static void json_error_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    if (req->res.status >= 400) {
        struct json_error_ostream *o;
        char msg[256];
        ssize_t ct = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
        struct http_worker *w = http_worker_of(req->conn->ctx);

        if (req->res.status == 413) {
            /* the cap of the configuration that refused (configure() adds one byte) */
            size_t cap = req->conn->ctx->globalconf->max_request_entity_size - 1;
            int n =
                snprintf(msg, sizeof msg, "%s: 上限 %zu 字节", plk_errmsg(PLK_E_TOO_LARGE), cap);
            if (trusted_configured && req->conn->ctx->globalconf == &globalconf &&
                is_admin_path(req->path_normalized) && n > 0 && (size_t)n < sizeof msg)
                snprintf(msg + n, sizeof msg - (size_t)n,
                         "（管理接口：连接的第一个请求带管理令牌时上限 %zu 字节）", admin_body_cap);
            metrics_http(w->metrics, METRICS_HTTP_E413);
        } else {
            snprintf(msg, sizeof msg, "%s: %d %s", plk_errmsg(PLK_E_BAD_REQUEST), req->res.status,
                     req->res.reason ? req->res.reason : "");
            if (req->res.status == 400)
                metrics_http(w->metrics, METRICS_HTTP_E400);
        }
        o = (struct json_error_ostream *)h2o_add_ostream(req, sizeof *o, slot);
        o->super.do_send = json_error_send;
        o->body = reply_build(&req->pool, 0, msg, NULL, 0);
        req->res.content_length = o->body.len;
        if (ct != -1)
            req->res.headers.entries[ct].value = h2o_iovec_init(H2O_STRLIT(REPLY_JSON_TYPE));
        else
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                           H2O_STRLIT(REPLY_JSON_TYPE));
        reply_add_server(req);
        req->res.reason = reply_reason(req->res.status); /* one spelling for every reply */
        slot = &o->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

/* One h2o configuration: every path to on_req_fn, h2o's own errors rewritten as JSON, and
 * bodies up to cap bytes (+1 so that a body of exactly the cap passes h2o's chunked check;
 * the pipeline enforces the vendor cap exactly). */
static void configure(h2o_globalconf_t *conf, size_t cap,
                      int (*on_req_fn)(h2o_handler_t *, h2o_req_t *))
{
    h2o_hostconf_t *host;
    h2o_pathconf_t *path;
    h2o_handler_t *handler;
    h2o_filter_t *filter;

    h2o_config_init(conf);
    conf->server_name = h2o_iovec_init(H2O_STRLIT("")); /* reply_add_server() instead */
    conf->max_request_entity_size = cap + 1;
    conf->http1.upgrade_to_http2 = 0;
    host = h2o_config_register_host(conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    path = h2o_config_register_path(host, "/", 0);
    handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = on_req_fn;
    filter = h2o_create_filter(&host->fallback_path, sizeof *filter);
    filter->on_setup_ostream = json_error_setup;
}

int http_start(const struct config *cfg)
{
    admin_body_cap = cfg->admin_body_max > cfg->body_max ? cfg->admin_body_max : cfg->body_max;
    admin_split = cfg->admin_listen[0] != '\0';
    /* vendors' address: h2o buffers no more than a vendor body may be */
    configure(&globalconf, cfg->body_max, on_req);
    configured = 1;
    if (admin_split) {
        configure(&admin_conf, admin_body_cap, on_admin_req);
        admin_configured = 1;
    } else {
        /* one address: the admin cap only for connections that showed the token */
        configure(&trusted_conf, admin_body_cap, on_req);
        trusted_configured = 1;
    }

    ratelimit_init(cfg->rate_limit);
    if (metrics_init(cfg->threads) != 0 || pipeline_init(cfg) != 0)
        return -1;
    if (http_admin_start() != 0)
        return -1;
    return http_worker_start_all(&globalconf, admin_split ? &admin_conf : NULL,
                                 trusted_configured ? &trusted_conf : NULL);
}

void http_stop(void)
{
    http_worker_stop_all();
    http_admin_stop();
}

void http_cleanup(void)
{
    http_worker_cleanup();
    pipeline_cleanup();
    metrics_cleanup();
    if (configured) {
        h2o_config_dispose(&globalconf);
        configured = 0;
    }
    if (admin_configured) {
        h2o_config_dispose(&admin_conf);
        admin_configured = 0;
    }
    if (trusted_configured) {
        h2o_config_dispose(&trusted_conf);
        trusted_configured = 0;
    }
}
