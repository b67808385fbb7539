/* client.h - HTTP client helpers of libparklink (libcurl easy interface).
 *
 * Two layers: plk_client_request()/plk_client_post() move bytes (capped reply, timeout,
 * curl's error text on failure); plk_client_prepare()/plk_client_call() turn a service row
 * of the table (services.h) plus a `data` object into the exact signed body and URL of that
 * interface and send it. The CLI (`parklink call`, `parklink admin`) is built on these. */
#ifndef PARKLINK_CLIENT_H
#define PARKLINK_CLIENT_H

#include <stddef.h>
#include <jansson.h>
#include "parklink/status.h"
#include "parklink/services.h"

#define PLK_CLIENT_TIMEOUT_MS 10000L    /* default whole-transfer timeout */
#define PLK_CLIENT_MAX_REPLY (4u << 20) /* default reply cap: 4 MiB */
#define PLK_CLIENT_CONTENT_TYPE "application/json;charset=utf-8" /* spec 01, 1.1 */
#define PLK_CLIENT_ERROR_MAX 256                                 /* >= CURL_ERROR_SIZE */

/* Per-call settings. A zeroed struct (or NULL where accepted) means the defaults. */
struct plk_client_options {
    long timeout_ms;          /* whole transfer; 0 = PLK_CLIENT_TIMEOUT_MS */
    size_t max_reply;         /* reply body cap in bytes; 0 = PLK_CLIENT_MAX_REPLY */
    const char *bearer;       /* adds "Authorization: Bearer <bearer>" when not NULL */
    const char *content_type; /* of a request body; NULL = PLK_CLIENT_CONTENT_TYPE */
    int verbose;              /* 1: libcurl traces the exchange on stderr */
};

/* What came back. Zero it before the first use; plk_client_reply_cleanup() frees it. */
struct plk_client_reply {
    long status; /* HTTP status; 0 when no response arrived */
    char *body;  /* owned, malloc'd, NUL-terminated (len excludes the NUL);
                    NULL when nothing was received */
    size_t len;
    const struct plk_field *bad_field; /* plk_client_call(): the field that failed validation */
    char error[PLK_CLIENT_ERROR_MAX];  /* on failure: curl's error text or what was wrong;
                                          "" on success */
};

/* A request ready to send: produced by plk_client_prepare(). */
struct plk_client_request {
    char *url;  /* owned, malloc'd */
    char *body; /* owned, malloc'd, NUL-terminated: the exact bytes to send */
    size_t len;
    const struct plk_field *bad_field; /* on PLK_E_FIELD_*: the offending field (table row) */
    char detail[160];                  /* on failure: what was wrong, naming the field */
};

/* Initialise libcurl for the process (curl_global_init). Call once from the main thread
 * before any other thread exists and before other plk_client_* calls; pair with
 * plk_client_global_cleanup(). PLK_E_HTTP if libcurl cannot initialise. */
enum plk_status plk_client_global_init(void);
void plk_client_global_cleanup(void);

/* Send one HTTP request and collect the reply.
 * method: "GET", "POST", "PUT", "PATCH", "DELETE" ...; url: http:// or https:// only.
 * body/len: request body (borrowed; NULL for none); sent with opt->content_type.
 * opt may be NULL. Redirects are not followed. reply must be zeroed or cleaned up; on
 * return it owns whatever body arrived.
 * Returns PLK_OK when a complete HTTP response arrived, whatever its status code;
 * PLK_E_TOO_LARGE when the reply exceeds the cap (reply->error says so, the body is
 * dropped); PLK_E_HTTP on transport failure (reply->error holds curl's text);
 * PLK_E_NOMEM; PLK_E_INVALID_ARG for a NULL url/method. Thread-safe (one easy handle per
 * call) once plk_client_global_init() has run. */
enum plk_status plk_client_request(const char *method, const char *url, const char *body,
                                   size_t len, const struct plk_client_options *opt,
                                   struct plk_client_reply *reply);

/* plk_client_request() with method POST and Content-Type application/json;charset=utf-8
 * (unless opt->content_type says otherwise). */
enum plk_status plk_client_post(const char *url, const char *body, size_t len,
                                const struct plk_client_options *opt,
                                struct plk_client_reply *reply);

/* Free reply->body and reset the struct to zero. Safe on a zeroed reply. */
void plk_client_reply_cleanup(struct plk_client_reply *reply);

/* Decode a reply body as a JSON object and read its `state` (an integer or a digit string).
 * *json (if not NULL) receives a new reference the caller must json_decref(); *state (if not
 * NULL) receives the state or -1 when the object has none. PLK_E_REPLY when the body is not a
 * JSON object or has no usable `state`; *json is still set for an object without `state`. */
enum plk_status plk_client_reply_json(const struct plk_client_reply *reply, json_t **json,
                                      int *state);

/* The URL of a service row under url_base (scheme://host[:port][/prefix], trailing slashes
 * and a trailing "/unionapi" ignored, so both "http://h:8080" and the reference's
 * "https://beta.bolink.club/unionapi/" work):
 *   UPLOAD_DATA rows           base + "/unionapi/neworder/uploadData"
 *   path starting with "/"     base + path                (e.g. "/bpd/upload.do")
 *   path "http(s)://host/p"    base + "/p"                (the path part; the host is base's)
 *   other non-empty path       base + "/unionapi/" + path
 *   empty path (callbacks)     base itself: the receiver's full URL
 * Returns a malloc'd string (caller frees) or NULL on allocation failure or NULL input. */
char *plk_client_url(const char *url_base, const struct plk_service *svc);

/* The browser link of a GET row (2.4 gettoken, 7 getlicence): url_base + the row's path +
 * "?" + every member of data (borrowed) as name=value, URL-encoded, in data's order. For
 * 2.4 (PLK_SVC_KEY_TIME_SIGN) union_id is added when absent, `timestamp` (milliseconds) is
 * set to now when absent, `is_private_cloud` defaults to 1, and `sign` = upper(md5(key +
 * timestamp)) (spec 1.2.6). The result is validated against the row first (rq->bad_field
 * and rq->detail on PLK_E_FIELD_*). On success rq->url is the link (owned) and rq->body is
 * "" (nothing to POST). Free with plk_client_request_cleanup(). */
enum plk_status plk_client_link(struct plk_client_request *rq, const char *url_base,
                                const struct plk_service *svc, const char *union_id,
                                const char *key, const json_t *data);

/* Build the exact request for one service row, without sending it.
 * data (borrowed, not modified) is the `data` object (an array only for envelope D rows);
 * top (borrowed, may be NULL) holds extra top-level members that the signature does not
 * cover, e.g. envelope C's platform_name or the SDK's token (names union_id, sign and data
 * are refused: PLK_E_INVALID_ARG). A copy of data gets:
 *   - union_id (digits only, else PLK_E_BAD_UNION_ID), where the row keeps it:
 *       envelope A and the like: inside `data`, as its first member (a number unless the
 *       row types the field STR);
 *       flag UNION_TOP, envelopes B, C, D: at the top level (and inside `data` too when the
 *       row lists a union_id field);
 *       NO_UNION_ID, UNSIGNED, envelopes P and S (the SDK's token identifies the sender):
 *       inside `data` only when the row lists a union_id field.
 *     A row that keeps it nowhere ignores the given union_id. If `data` already holds a
 *     different one: PLK_E_UNION_ID_CONFLICT. union_id may be NULL when `data` carries it;
 *     PLK_E_NO_UNION_ID when neither has it and the row keeps one.
 *   - service_name: the row's, when it has one and the message has none: into `data`, or
 *     at the top level for envelopes D and S. PLK_E_UNKNOWN_SERVICE if the message names
 *     another service.
 * Envelope C rows also get a top-level `timestamp` (Unix seconds) unless top has one.
 * The copy is validated with plk_service_validate() (PLK_E_FIELD_* with rq->bad_field and
 * rq->detail naming the field), then serialised once and signed over exactly those bytes:
 * current scheme via plk_envelope_build(); LEGACY_SIGN rows send the flat object with a
 * legacy `sign` member beside the fields; UNSIGNED rows send `data` alone. key is required
 * unless the row is UNSIGNED (PLK_E_INVALID_ARG). GET rows (browser redirects) and rows
 * without an HTTP address (path "" on a V->P or SDK row) cannot be prepared:
 * PLK_E_INVALID_ARG. On success rq owns url and body; on failure rq holds nothing
 * to free but rq->detail says why. Always pair with plk_client_request_cleanup(). */
enum plk_status plk_client_prepare(struct plk_client_request *rq, const char *url_base,
                                   const struct plk_service *svc, const char *union_id,
                                   const char *key, const json_t *data, const json_t *top);

/* Free what plk_client_prepare() allocated. Safe on a zeroed or failed request. */
void plk_client_request_cleanup(struct plk_client_request *rq);

/* plk_client_prepare() then plk_client_post(). On a preparation failure nothing is sent and
 * reply->error / reply->bad_field say why; otherwise the result of plk_client_post(). The
 * reply is not interpreted: use plk_client_reply_json() for `state`. */
enum plk_status plk_client_call(const char *url_base, const struct plk_service *svc,
                                const char *union_id, const char *key, const json_t *data,
                                const json_t *top, const struct plk_client_options *opt,
                                struct plk_client_reply *reply);

#endif
