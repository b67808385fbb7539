/* admin_outbox.h - the admin API's outbox routes (dispatched from admin.c).
 *
 * /outbox (list, show with attempts, replay a dead message), /commands/<service_name>
 * (chapter-11 commands written to the outbox: 202 with the message id), /ask/<service_name>
 * (a question asked now; the answer, or 504 when the vendor does not answer in time) and
 * /vendors/<union_id>/delivery (push or poll, per-service URLs). docs/callbacks.md has the
 * routes with examples. The bearer token is checked by admin_handle() before these run. */
#ifndef PARKLINK_ADMIN_OUTBOX_H
#define PARKLINK_ADMIN_OUTBOX_H

#include <stddef.h>

#include "admin.h"

struct store_session;

/* Is path (after /admin/v1, not decoded) one of these routes? */
int admin_outbox_owns(const char *path, size_t len);

/* Handle one authorised request, reading on s (the admin thread's session; writes go
 * through the writer; may block on the store; an ask
 * replies later through rq->later, see admin.h). out as for admin_handle(). */
void admin_outbox_handle(struct store_session *s, const struct admin_request *rq,
                         struct admin_reply *out);

#endif
