/* admin_write.h - admin writes as jobs of the writer (admin_write.c).
 *
 * The admin handlers (admin_*.c) describe a write as a struct admin_op; admin_write hands it
 * to the group-commit writer and waits until it is durable. Private to the admin module. */
#ifndef PARKLINK_ADMIN_WRITE_H
#define PARKLINK_ADMIN_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Every admin write runs on the writer's session as a job of its group commit and is
 * answered once durable (DESIGN decision 10; docs/decisions.md "Admin writes go through the
 * writer"). Fill the op's kind and the arguments its store function takes; outputs (ids,
 * created, failed_at) are written through the pointers as that function would. */
enum admin_op_kind {
    AW_VENDOR_PUT,       /* store_vendor_put(vendor, mode, created) */
    AW_VENDOR_DELETE,    /* store_vendor_delete(key) */
    AW_PARK_PUT,         /* store_park_put(park, mode, created) */
    AW_PARK_DELETE,      /* store_park_delete(key) */
    AW_BLACKLIST_ADD,    /* store_blacklist_add_bulk(blacklist, n, failed_at) */
    AW_BLACKLIST_DELETE, /* store_blacklist_delete(id) */
    AW_MEMBER_ADD,       /* store_member_add(member) */
    AW_MEMBER_UPDATE,    /* store_member_update(member) */
    AW_MEMBER_DELETE,    /* store_member_delete(id) */
    AW_RESERVATION_ADD,  /* store_reservation_add(reservation) */
    AW_RESERVATION_UPDATE,
    AW_RESERVATION_DELETE,
    AW_CARD_ADD,      /* store_card_add(card) */
    AW_CARD_UPDATE,   /* store_card_update(card) */
    AW_CARD_DELETE,   /* store_card_delete(id) */
    AW_SCREEN_PUT,    /* store_screen_put(screen) */
    AW_SCREEN_DELETE, /* store_screen_delete(key) */
    AW_OUTBOX_REPLAY, /* store_outbox_replay(id, now) */
    AW_DELIVERY_PUT,  /* store_delivery_put(delivery) */
};

struct store_card;
struct store_screen;
struct store_delivery;

struct admin_op {
    enum admin_op_kind kind;
    union {
        const struct store_vendor *vendor;
        const struct store_park *park;
        struct store_blacklist *blacklist;
        struct store_member *member;
        struct store_reservation *reservation;
        struct store_card *card;
        struct store_screen *screen;
        struct store_delivery *delivery;
    } row;
    enum store_put_mode mode;
    int *created;
    const char *key;
    int64_t id, now;
    size_t n, *failed_at;
};

/* Run op through the writer and wait until it is durable; its store result. On s (the
 * admin's session) when the writer is not running (tests without one). */
enum store_result admin_write(struct store_session *s, const struct admin_op *op);

#endif
