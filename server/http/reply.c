/* http/reply.c - format and send the {state, errmsg, data} reply (see http/reply.h).
 *
 * The body is assembled once into pool memory and handed to h2o without a further copy
 * (h2o_start_response + h2o_send with a do-nothing generator, which is what
 * h2o_send_inline does after duplicating its argument). */
#include <string.h>
#include <jansson.h>

#include "parklink/text.h"
#include "http/reply.h"

static h2o_generator_t static_generator = {NULL, NULL};

static const struct {
    int status;
    const char *text;
} reasons[] = {
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {413, "Payload Too Large"},
    {415, "Unsupported Media Type"},
    {422, "Unprocessable Entity"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
};

const char *reply_reason(int status)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (reasons[i].status == status)
            return reasons[i].text;
    }
    return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
}

void reply_add_server(h2o_req_t *req)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SERVER, NULL,
                   H2O_STRLIT(REPLY_SERVER_NAME));
}

void reply_send_raw(h2o_req_t *req, int status, const char *content_type, const char *body,
                    size_t body_len)
{
    h2o_iovec_t buf = h2o_iovec_init(body, body_len);

    req->res.status = status;
    req->res.reason = reply_reason(status);
    req->res.content_length = body_len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                   strlen(content_type));
    reply_add_server(req);
    h2o_start_response(req, &static_generator);
    /* HEAD: the headers (Content-Length included) without the body */
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

const char *reply_quote(h2o_mem_pool_t *pool, const char *s, size_t *len)
{
    size_t n = strlen(s), need;
    char *out = h2o_mem_alloc_pool(pool, n + 2), *quoted;
    json_t *str;

    out[0] = '"';
    memcpy(out + 1, s, n);
    out[n + 1] = '"';
    /* an errmsg may quote a client's bytes or be cut short: the reply stays UTF-8 */
    plk_utf8_repair(out + 1, n);
    for (size_t i = 1; i <= n; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c < 0x20 || c == '"' || c == '\\')
            goto escape;
    }
    *len = n + 2;
    return out;
escape:
    str = json_stringn(out + 1, n);
    need = str ? json_dumpb(str, NULL, 0, JSON_ENCODE_ANY) : 0;
    if (need == 0) {
        json_decref(str);
        *len = 3;
        return "\"?\"";
    }
    quoted = h2o_mem_alloc_pool(pool, need);
    *len = json_dumpb(str, quoted, need, JSON_ENCODE_ANY);
    json_decref(str);
    return quoted;
}

h2o_iovec_t reply_build(h2o_mem_pool_t *pool, int state, const char *errmsg, const char *data,
                        size_t data_len)
{
    size_t qlen, len;
    const char *q = reply_quote(pool, errmsg ? errmsg : "", &qlen);
    char *body, *p;

    /* {"state":N,"errmsg":Q[,"data":D]} */
    len = sizeof "{\"state\":0,\"errmsg\":" - 1 + qlen + 1;
    if (data)
        len += sizeof ",\"data\":" - 1 + data_len;
    p = body = h2o_mem_alloc_pool(pool, len);
    memcpy(p, "{\"state\":", 9);
    p += 9;
    *p++ = (char)('0' + (state >= 0 && state <= 9 ? state : 0));
    memcpy(p, ",\"errmsg\":", 10);
    p += 10;
    memcpy(p, q, qlen);
    p += qlen;
    if (data) {
        memcpy(p, ",\"data\":", 8);
        p += 8;
        memcpy(p, data, data_len);
        p += data_len;
    }
    *p++ = '}';
    return h2o_iovec_init(body, (size_t)(p - body));
}

void reply_send(h2o_req_t *req, int status, int state, const char *errmsg, const char *data,
                size_t data_len)
{
    h2o_iovec_t body = reply_build(&req->pool, state, errmsg, data, data_len);
    reply_send_raw(req, status, REPLY_JSON_TYPE, body.base, body.len);
}
