/* http/head.c - raw request heads: framing and size checks (see http/head.h).
 *
 * A line scanner, not a parser: h2o has parsed the head already (or will, for the gate), so
 * only the lines that decide framing and the head's size are looked at. */
#include <string.h>
#include <strings.h>

#include "http/head.h"
#include "parklink/status.h"
#include "http/reply.h"

static h2o_iovec_t trim(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return h2o_iovec_init(s, n);
}

static int name_is(const char *line, size_t name_len, const char *lit)
{
    return name_len == strlen(lit) && strncasecmp(line, lit, name_len) == 0;
}

int http_head_scan(const char *buf, size_t n, struct http_head *out)
{
    const char *p = buf, *end = buf + n, *nl;
    h2o_iovec_t cl = {NULL, 0};
    unsigned tes = 0;

    memset(out, 0, sizeof *out);
    /* like picohttpparser: one empty line before the request line is skipped */
    if (p < end && *p == '\r')
        p++;
    if (p < end && *p == '\n')
        p++;
    if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
        return 0;
    for (p = nl + 1;; p = nl + 1) {
        size_t len;
        const char *colon;

        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            return 0;
        len = (size_t)(nl - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len == 0)
            break;
        out->headers++;
        if (*p == ' ' || *p == '\t' || (colon = memchr(p, ':', len)) == NULL)
            continue; /* a folded line (h2o refuses those itself) */
        size_t name_len = (size_t)(colon - p);
        h2o_iovec_t value = trim(colon + 1, len - name_len - 1);
        if (name_is(p, name_len, "content-length")) {
            if (cl.base == NULL)
                cl = value;
            else if (cl.len != value.len || memcmp(cl.base, value.base, cl.len) != 0)
                out->bad_framing = "Content-Length 重复且不一致";
        } else if (name_is(p, name_len, "transfer-encoding")) {
            if (++tes > 1)
                out->bad_framing = "Transfer-Encoding 重复";
        } else if (name_is(p, name_len, "authorization") && out->authorization.base == NULL) {
            out->authorization = value;
        }
    }
    if (cl.base != NULL && tes > 0)
        out->bad_framing = "Content-Length 与 Transfer-Encoding 同时出现";
    out->len = (size_t)(nl + 1 - buf);
    return 1;
}

const char *http_head_check(h2o_req_t *req, int *status)
{
    h2o_socket_t *sock =
        req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
    struct http_head head;

    /* HTTP/1 only (parklinkd speaks nothing else): the input buffer starts with this
     * request's head until its reply has been sent */
    if (sock == NULL || sock->input == NULL || req->version >= 0x200 ||
        !http_head_scan(sock->input->bytes, sock->input->size, &head))
        return NULL;
    if (head.bad_framing != NULL) {
        *status = 400;
        return head.bad_framing;
    }
    if (head.len > HTTP_HEAD_MAX || head.headers > HTTP_HEADERS_MAX) {
        *status = 431;
        return head.len > HTTP_HEAD_MAX ? "上限 " H2O_TO_STR(HTTP_HEAD_MAX) " 字节"
                                        : "上限 " H2O_TO_STR(HTTP_HEADERS_MAX) " 行";
    }
    return NULL;
}

void http_head_refuse(h2o_req_t *req, int status, const char *why)
{
    size_t n = strlen(why) + 64;
    char *msg = h2o_mem_alloc_pool(&req->pool, n);
    enum plk_status st = status == 431 ? PLK_E_HEADERS_TOO_LARGE : PLK_E_BAD_REQUEST;

    snprintf(msg, n, "%s: %s", plk_errmsg(st), why);
    req->http1_is_persistent = 0; /* "Connection: close", then h2o closes the socket */
    reply_send(req, status, 0, msg, NULL, 0);
}
