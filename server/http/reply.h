/* http/reply.h - the one reply shape of parklinkd: {"state":N,"errmsg":"...","data":...}.
 *
 * Used for business replies (HTTP 200, DESIGN decision 4) and for HTTP-level errors (404,
 * 405, 413, 429 ... with state 0). Bodies are built in the request's memory pool and sent
 * with Content-Type: application/json;charset=utf-8. Worker thread only. */
#ifndef PARKLINK_REPLY_H
#define PARKLINK_REPLY_H

#include <stddef.h>
#include <h2o.h>

#define REPLY_JSON_TYPE "application/json;charset=utf-8"
#define REPLY_SERVER_NAME "parklinkd"

/* The reason phrase of an HTTP status (201 "Created", 404 "Not Found" ...; a status missing
 * from the list gets its class's: "OK", "Client Error", "Server Error"). Static text. */
const char *reply_reason(int status);

/* Add "server: parklinkd". A plain header: h2o's own server_name costs an extra sprintf on
 * every reply, so http.c leaves it empty and every reply path calls this instead. */
void reply_add_server(h2o_req_t *req);

/* Build {"state":state,"errmsg":errmsg[,"data":data]} in pool memory (see reply_send). */
h2o_iovec_t reply_build(h2o_mem_pool_t *pool, int state, const char *errmsg, const char *data,
                        size_t data_len);

/* Send `status` with {"state":state,"errmsg":errmsg[,"data":data]}. errmsg is any UTF-8
 * text (escaped here); data, if not NULL, is data_len bytes of valid JSON text and is sent
 * as is. Both are copied into the request pool, so they may be freed after the call. */
void reply_send(h2o_req_t *req, int status, int state, const char *errmsg, const char *data,
                size_t data_len);

/* Send `body` (body_len bytes, must live as long as the request: static or pool memory)
 * with the given status and content type. */
void reply_send_raw(h2o_req_t *req, int status, const char *content_type, const char *body,
                    size_t body_len);

/* s as a JSON string literal with its quotes, in pool memory; *len receives its length. Bytes
 * that are not UTF-8 (an errmsg quoting a client, or cut short) become '?'. Plain text (no
 * quote, backslash or control character) is copied as is; anything else is encoded by
 * jansson. */
const char *reply_quote(h2o_mem_pool_t *pool, const char *s, size_t *len);

#endif
