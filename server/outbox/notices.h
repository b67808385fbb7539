/* notices.h - callbacks that follow a vendor's own request (spec 5.2 after 3.1 ...).
 *
 * The handler of the request prepares the notice on its worker (CPU only), the writer job
 * that stores the request writes it with outbox_enqueue_tx() in the same transaction, and
 * once the batch has committed the handler calls outbox_committed(). A vendor that cannot
 * receive the notice (no URL for it, not polling) gets none: nothing piles up dead. */
#ifndef PARKLINK_NOTICES_H
#define PARKLINK_NOTICES_H

#include "outbox/outbox.h"

struct vendor;

/* 5.2 notice_car_owner for a new entry of plate (normalised) as order order_id at park_id,
 * from vendor v (its ukey signs). is_union_user is 0: parklinkd keeps no drivers' auto-pay
 * accounts (docs/decisions.md). Returns a malloc'd prepared message, or NULL when v receives
 * no 5.2 or on failure (logged). Free with notices_free(). Any thread, no I/O. */
struct outbox_msg *notices_car_owner(const struct vendor *v, const char *park_id,
                                     const char *order_id, const char *plate);

/* Free a message from notices_*(); NULL is fine. */
void notices_free(struct outbox_msg *m);

#endif
