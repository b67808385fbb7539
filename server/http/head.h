/* http/head.h - the checks parklinkd makes on a request's raw head, beyond h2o's parser.
 *
 * h2o 2.2 frames a body by the first Content-Length it meets (a Transfer-Encoding wins over
 * any) and drops those headers from req->headers, so a second, different Content-Length
 * would frame the rest as another request (smuggling). The head is read again from the
 * connection's input buffer, where h2o keeps it until the reply is sent (http.c), and at
 * accept by the gate (http/gate.h). */
#ifndef PARKLINK_HTTP_HEAD_H
#define PARKLINK_HTTP_HEAD_H

#include <stddef.h>
#include <h2o.h>

/* parklinkd's own limits on a head: below h2o's (H2O_MAX_REQLEN, H2O_MAX_HEADERS), so that a
 * head over them is answered 431 in the JSON shape rather than by h2o's plain text */
#define HTTP_HEAD_MAX 32768
#define HTTP_HEADERS_MAX 64

struct http_head {
    size_t len;                /* bytes of the head, its empty line included */
    unsigned headers;          /* header lines */
    const char *bad_framing;   /* why its body framing is ambiguous, or NULL */
    h2o_iovec_t authorization; /* the first Authorization value ({NULL,0}: none) */
};

/* Scan buf (n bytes, starting at a request line) for one complete head. 1 complete (*out
 * filled), 0 incomplete (no empty line yet). Bare LF line ends count as h2o's parser
 * counts them. Conflicting Content-Length values, Content-Length with Transfer-Encoding and
 * a repeated Transfer-Encoding set out->bad_framing. */
int http_head_scan(const char *buf, size_t n, struct http_head *out);

/* The handlers' check of one request: NULL if it may be served, else the errmsg detail of
 * its refusal and *status (400 ambiguous framing, 431 head over the limits). The caller
 * answers and closes the connection (http_head_refuse). */
const char *http_head_check(h2o_req_t *req, int *status);

/* Answer status with {"state":0,"errmsg":...} naming why, with "Connection: close": the bytes
 * after this head are never read as a request. */
void http_head_refuse(h2o_req_t *req, int status, const char *why);

#endif
