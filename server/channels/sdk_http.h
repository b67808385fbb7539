/* sdk_http.h - the SDK's HTTP mode uplink: POST /bpd/upload.do (spec 12.2, 12.4).
 *
 * Envelope S ({"service_name","token","sign","data"}) with replies shaped as the SDK
 * gateway's ({"state":1,"token":...,"service_name":"login"}), which is why these two paths
 * do not go through the vendor pipeline. login opens a session (sdk_session.h); a message
 * named like a platform-to-vendor row (outpark, operate_liftrod ...; or the parkInfo
 * wrapper of 12.7 around one) acknowledges a message handed out by download.do
 * (longpoll.h). Other SDK uploads (in_park ...) are answered "not open yet". */
#ifndef PARKLINK_SDK_HTTP_H
#define PARKLINK_SDK_HTTP_H

#include <stddef.h>
#include <h2o.h>

struct http_worker;

/* Settings: the vendor body cap. Before the workers start. */
void sdk_http_init(size_t body_max);

/* Serve POST /bpd/upload.do (answered now, or once an acknowledgement is recorded).
 * Worker thread. */
void sdk_http_upload(struct http_worker *w, h2o_req_t *req);

/* Is path (normalised) one of the SDK HTTP-mode paths served by this module? Then call
 * sdk_http_serve(). */
int sdk_http_match(h2o_iovec_t path);

/* Serve /bpd/upload.do or /bpd/download.do (405 for other methods than POST). Worker thread. */
void sdk_http_serve(struct http_worker *w, h2o_req_t *req);

#endif
