/* catalog_rows.h - the catalog tables' column lists and row readers (catalog_rows.c).
 *
 * vendors.c and plates.c (get, list) and snapshot.c (store_load) select the same columns in
 * the same order and read them with these. Private to server/store/. */
#ifndef PARKLINK_STORE_CATALOG_ROWS_H
#define PARKLINK_STORE_CATALOG_ROWS_H

#include "store/sql.h"
#include "store/store.h"

#define VENDOR_COLS "union_id, ukey, name, callback_url, created, updated, replay_window_s"
#define PARK_COLS                                                                                  \
    "park_id, union_id, name, total_plot, empty_plot, members_only, has_prepay, suspended, "       \
    "msg_nonmember, msg_blacklist, msg_other, created, updated"
#define BL_COLS "id, plate, color, reason, valid_from, valid_until, created, rev"
#define MEM_COLS "id, plate, color, park_id, valid_until, created, updated, rev"
#define RES_COLS "id, plate, color, park_id, start_at, end_at, state, created, updated, rev"

/* Read the current row of a statement selecting the matching *_COLS into out (a struct
 * store_vendor, store_park ... ); shaped for sql_one. A NULL park_id or reason_msg reads "". */
void catalog_read_vendor(struct sql_stmt *q, void *out);
void catalog_read_park(struct sql_stmt *q, void *out);
void catalog_read_blacklist(struct sql_stmt *q, void *out);
void catalog_read_member(struct sql_stmt *q, void *out);
void catalog_read_reservation(struct sql_stmt *q, void *out);

/* A row callback of store.h and its argument, for the sql_each row functions below. */
struct catalog_emit {
    union {
        store_vendor_cb vendor;
        store_park_cb park;
        store_blacklist_cb blacklist;
        store_member_cb member;
        store_reservation_cb reservation;
    } cb;
    void *arg;
};

/* sql_each row functions: read the row, hand it to the struct catalog_emit's callback. */
int catalog_emit_vendor(struct sql_stmt *q, void *emit);
int catalog_emit_park(struct sql_stmt *q, void *emit);
int catalog_emit_blacklist(struct sql_stmt *q, void *emit);
int catalog_emit_member(struct sql_stmt *q, void *emit);
int catalog_emit_reservation(struct sql_stmt *q, void *emit);

#endif
