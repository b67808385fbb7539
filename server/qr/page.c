/* qr/page.c - serves the lane QR code PNGs (see qr/page.h).
 *
 * Images are drawn on each request (a few hundred microseconds; lanes fetch them once to
 * print or display) rather than stored: the code's row is the only state. */
#include <stdlib.h>
#include <string.h>

#include "qr/page.h"
#include "http/worker.h"
#include "qr/qr.h"
#include "db/readers.h"
#include "http/reply.h"
#include "store/store_orders.h"

#define MSG_QR_GONE "二维码不存在或已失效"

/* "17.png" -> 17; 0 when rest is not that form. */
static int64_t parse_id(h2o_iovec_t rest)
{
    int64_t id = 0;
    size_t i = 0;

    if (rest.len < 5 || rest.len > 4 + 18 || memcmp(rest.base + rest.len - 4, ".png", 4) != 0)
        return 0;
    for (; i < rest.len - 4; i++) {
        if (rest.base[i] < '0' || rest.base[i] > '9')
            return 0;
        id = id * 10 + (rest.base[i] - '0');
    }
    return i > 0 ? id : 0;
}

void http_qr_serve(struct http_worker *w, h2o_req_t *req, h2o_iovec_t rest)
{
    struct store_qr qr;
    int64_t id = parse_id(rest);
    unsigned char *png = NULL;
    char link[QR_URL_MAX], *body;
    size_t len = 0;
    enum store_result r;

    if (id <= 0) {
        reply_send(req, 404, 0, MSG_QR_GONE, NULL, 0);
        return;
    }
    r = store_qr_get(readers_get(w->index), id, &qr);
    if (r == STORE_NOT_FOUND || (r == STORE_OK && !qr.active)) {
        reply_send(req, 404, 0, MSG_QR_GONE, NULL, 0);
        return;
    }
    qr_link_url(id, link, sizeof link);
    if (r != STORE_OK || qr_png(link, &png, &len) != 0) {
        reply_send(req, 500, 0, "二维码生成失败", NULL, 0);
        return;
    }
    body = h2o_mem_alloc_pool(&req->pool, len);
    memcpy(body, png, len);
    free(png);
    reply_send_raw(req, 200, "image/png", body, len);
}
