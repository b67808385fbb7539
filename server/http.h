/* http.h - parklinkd's HTTP front: h2o configuration and the routes.
 *
 *   POST /unionapi/<path>  the vendor API, through the pipeline (api/pipeline.h)
 *   GET  /healthz          200 {"state":1,"errmsg":"ok"}
 *   GET  /metrics          Prometheus text (metrics.h)
 *   *    /admin/v1/...     the admin API (admin/admin.h), run on the admin thread
 *   GET  /qr/<id>.png      a lane QR code image (spec 2.3, qr/page.h)
 * Anything else is 404, a wrong method on a known path 405; every error keeps the JSON
 * reply shape, including the errors h2o itself raises (413, 400). */
#ifndef PARKLINK_HTTP_H
#define PARKLINK_HTTP_H

struct config;

/* Configure h2o, start the admin thread and the worker threads on the listeners that
 * http_worker_bind_all() bound (main.c binds them before it opens the store). Needs
 * registry_init() and admin_init() done. 0 ok, -1 error (logged; nothing left running). */
int http_start(const struct config *cfg);

/* Graceful stop: stop accepting, finish in-flight requests, join every thread. */
void http_stop(void);

/* Release what http_start() set up (after http_stop()). */
void http_cleanup(void);

#endif
