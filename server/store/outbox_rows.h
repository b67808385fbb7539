/* outbox_rows.h - what the outbox's domain files share: the message columns and their
 * reader. Private to server/store/ (outbox.c, outbox_claims.c, outbox_admin.c). */
#ifndef PARKLINK_STORE_OUTBOX_ROWS_H
#define PARKLINK_STORE_OUTBOX_ROWS_H

#include "store/sql.h"
#include "store/store_outbox.h"

/* The columns outbox_read_msg reads, in its order. */
#define OUTBOX_MSG_COLS                                                                            \
    "id, union_id, park_id, service_name, kind, url, body, state, attempts, next_at, created, "    \
    "delivered_at, polled_at, last_error, origin, claimed_until"

/* The same columns of table alias o. */
#define OUTBOX_MSG_COLS_O                                                                          \
    "o.id, o.union_id, o.park_id, o.service_name, o.kind, o.url, o.body, o.state, o.attempts, "    \
    "o.next_at, o.created, o.delivered_at, o.polled_at, o.last_error, o.origin, o.claimed_until"

/* The vendor's delivery mode (0 push, 1 poll) for a row of union_id `u` (an SQL term). */
#define OUTBOX_MODE_OF(u)                                                                          \
    "(SELECT coalesce(max(mode), 0) FROM vendor_delivery WHERE union_id = " u ")"

/* Read the current row of q (OUTBOX_MSG_COLS) into m; m->body points into q. */
void outbox_read_msg(struct sql_stmt *q, struct store_outbox_msg *m);

/* Step q through its rows (it must be bound), handing each message to cb; cb NULL only
 * steps. STORE_ABORTED when cb stops it. q NULL: STORE_ERROR. */
enum store_result outbox_each_msg(struct sql_stmt *q, const char *what, store_outbox_cb cb,
                                  void *arg);

#endif
