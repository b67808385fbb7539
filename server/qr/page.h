/* qr/page.h - GET /qr/<id>.png: the lane QR code images whose addresses 2.3 hands out.
 *
 * The code is looked up on the worker's own store session (db/readers.h) and drawn by qr/qr.c; an
 * unknown or replaced code answers 404 in the usual JSON shape. */
#ifndef PARKLINK_HTTP_QR_H
#define PARKLINK_HTTP_QR_H

#include <h2o.h>

struct http_worker;

#define HTTP_QR_PREFIX "/qr/"

/* Answer GET/HEAD of HTTP_QR_PREFIX + rest ("17.png"). Worker thread. */
void http_qr_serve(struct http_worker *w, h2o_req_t *req, h2o_iovec_t rest);

#endif
