/* outbox.h - how parklinkd sends a vendor anything: write it durably, then deliver it.
 *
 * A message (a chapter-5 callback, a chapter-11 command or question) is built and signed
 * once by outbox_prepare() from its service-table row, then written with outbox_enqueue()
 * (a transaction of its own) or outbox_enqueue_tx() (inside the writer's group-commit
 * batch, so it commits with the entry that caused it). The delivery thread (delivery.h)
 * takes it from there: POST with the reference's retries, or a vendor's long-poll. This
 * file also holds the two policies everything else shares: the retry schedule and the
 * choice of URL. See docs/callbacks.md. */
#ifndef PARKLINK_OUTBOX_H
#define PARKLINK_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "parklink/services.h"
#include "parklink/status.h"
#include "store/store_outbox.h"

/* 1 + the 10 retries of the reference (spec 1.10): 10, 20, 30, 40, 50, 80, 120, 160, 200,
 * 300 seconds after the failed attempt before them. */
#define OUTBOX_MAX_ATTEMPTS 11
#define OUTBOX_TIMEOUT_MS 5000 /* no answer within 5 s counts as a failure (spec 1.10) */

/* What to send. */
struct outbox_spec {
    const struct plk_service *svc; /* a P2V row of the service table */
    const char *union_id;          /* the vendor the message goes to */
    const char *ukey;              /* that vendor's key: signs the message */
    const json_t *data;            /* the message's fields (borrowed; not modified) */
    const char *notify_url;        /* a notify_url of the originating request, or NULL */
    const char *origin;            /* what caused it, for the admin API ("3.1 20003/A1") */
};

/* A prepared message: the store row plus the signed body it owns. */
struct outbox_msg {
    struct store_outbox_msg row; /* row.body points at body */
    char *body;
};

/* Build, validate and sign one message (any thread; no I/O). The body is what
 * plk_client_prepare() makes for the row: union_id where the row keeps it (inside data,
 * at the top level for UNION_TOP rows, nowhere for NO_UNION_ID rows), service_name always
 * inside data (a vendor with one unified URL tells messages apart by it), signed over the
 * exact data text with spec->ukey. The park is data.park_id (data.comid for 5.4). A
 * QUESTION row makes a question. On failure returns the status with *bad (if not NULL) the
 * field at fault and detail naming it; out then holds nothing. Pair with
 * outbox_msg_cleanup(). */
enum plk_status outbox_prepare(const struct outbox_spec *spec, struct outbox_msg *out,
                               const struct plk_field **bad, char *detail, size_t detail_len);

/* Free what outbox_prepare() allocated. Safe on a zeroed message. */
void outbox_msg_cleanup(struct outbox_msg *m);

/* Write n prepared messages together (in the writer's batch, writer_run_sync; on s when
 * the writer is not running), then wake the delivery thread. Durable when it returns
 * STORE_OK; ids written back into m[i].row.id. A thread that may block on the store (the
 * admin thread); never a request worker, never the writer (use outbox_enqueue_tx). */
enum store_result outbox_enqueue(struct store_session *s, struct outbox_msg *m, size_t n);

/* Write n prepared messages inside the transaction open on s (the writer thread's group
 * commit): they commit with the rows that caused them, or not at all.
 * Wakes nobody: once the batch has committed, call outbox_committed() (any thread). */
enum store_result outbox_enqueue_tx(struct store_session *s, struct outbox_msg *m, size_t n);

/* Tell the delivery thread that messages of vendor union_id, park park_id ("" for none)
 * were committed. Any thread; never blocks. */
void outbox_committed(const char *union_id, const char *park_id);

/* The retry schedule: the delay in milliseconds before the next attempt after the
 * `failed`-th failed attempt (1-based), scaled by scale (--retry-scale; 1.0 is the
 * reference's schedule), at least 1 ms; or -1 once failed >= OUTBOX_MAX_ATTEMPTS (give up:
 * the message is dead). Pure. */
int64_t outbox_retry_delay_ms(int failed, double scale);

/* The URL a message goes to (DESIGN decision 8): its notify_url override when not empty,
 * else the vendor's URL for this message's service, else the vendor's unified URL. Any may
 * be NULL or "". Returns one of them, or NULL when none is set (it cannot be pushed). Pure. */
const char *outbox_choose_url(const char *override, const char *service_url, const char *unified);

/* Unix time in milliseconds (CLOCK_REALTIME), the outbox's clock. */
int64_t outbox_now_ms(void);

struct config;

/* Start the outbox from cfg: the delivery thread (--retry-scale, --callback-timeout,
 * --delivery-concurrency; a session of its own on st) and the SDK HTTP mode
 * (--longpoll-hold, --body-max). Main thread, after the registry and before the request
 * workers. 0 ok, -1 error (logged). */
int outbox_start(const struct config *cfg, struct store *st);

/* Stop it: after the request workers, the admin thread and the writer have stopped (their
 * questions are answered until then). Safe when it never started. */
void outbox_stop(void);

#endif
