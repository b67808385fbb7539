/* admin_write.c - admin writes as jobs of the writer's group commit (admin_internal.h).
 *
 * The admin thread describes the write (struct admin_op), the writer runs the matching store
 * operation on its own session inside its batch, and the admin thread answers once the batch
 * is durable: one write path for the whole process (DESIGN decision 10), so admin changes
 * never wait on SQLite's write lock against the writer, and they share its fsyncs. */
#include "admin_write.h"
#include "store/store.h"
#include "store/store_orders.h"
#include "store/store_outbox.h"
#include "writer.h"

static enum store_result run_op(struct store_session *s, void *arg)
{
    const struct admin_op *o = arg;

    switch (o->kind) {
    case AW_VENDOR_PUT:
        return store_vendor_put(s, o->row.vendor, o->mode, o->created);
    case AW_VENDOR_DELETE:
        return store_vendor_delete(s, o->key);
    case AW_PARK_PUT:
        return store_park_put(s, o->row.park, o->mode, o->created);
    case AW_PARK_DELETE:
        return store_park_delete(s, o->key);
    case AW_BLACKLIST_ADD:
        return store_blacklist_add_bulk(s, o->row.blacklist, o->n, o->failed_at);
    case AW_BLACKLIST_DELETE:
        return store_blacklist_delete(s, o->id);
    case AW_MEMBER_ADD:
        return store_member_add(s, o->row.member);
    case AW_MEMBER_UPDATE:
        return store_member_update(s, o->row.member);
    case AW_MEMBER_DELETE:
        return store_member_delete(s, o->id);
    case AW_RESERVATION_ADD:
        return store_reservation_add(s, o->row.reservation);
    case AW_RESERVATION_UPDATE:
        return store_reservation_update(s, o->row.reservation);
    case AW_RESERVATION_DELETE:
        return store_reservation_delete(s, o->id);
    case AW_CARD_ADD:
        return store_card_add(s, o->row.card);
    case AW_CARD_UPDATE:
        return store_card_update(s, o->row.card);
    case AW_CARD_DELETE:
        return store_card_delete(s, o->id);
    case AW_SCREEN_PUT:
        return store_screen_put(s, o->row.screen);
    case AW_SCREEN_DELETE:
        return store_screen_delete(s, o->key);
    case AW_OUTBOX_REPLAY:
        return store_outbox_replay(s, o->id, o->now);
    case AW_DELIVERY_PUT:
        return store_delivery_put(s, o->row.delivery);
    }
    return STORE_ERROR;
}

enum store_result admin_write(struct store_session *s, const struct admin_op *op)
{
    return writer_run_sync(s, run_op, (void *)op);
}
