/* store_orders.h - parking records and what vendors publish, as plain store operations.
 *
 * Entries and exits (spec 3.1, 3.2), escaped orders (3.8), order queries (4.1, 4.3, 10.2,
 * 10.3), record corrections (10.1), published park details (2.1, 2.2, 2.5), lane QR codes
 * (2.3), lane screen texts (10.5) and monthly cards (10.6 and the admin API). Implemented
 * in orders.c, order_reads.c, published.c and cards.c, on sql.h (either engine).
 *
 * Every op takes the caller's session first (store.h). Called inside store_begin ..
 * store_commit (the writer's batch, one job per savepoint) an op joins that transaction;
 * outside one it runs in a transaction of its own (a single-statement read runs as that
 * statement). Money is in fen (1/100 yuan), times are unix seconds. Strings of rows handed
 * to callbacks are valid only during the call. Expected outcomes (duplicates, refused exits,
 * foreign parks ...) come back in *out with STORE_OK; they never fail a statement, so they
 * leave a joined transaction usable on either engine. */
#ifndef PARKLINK_STORE_ORDERS_H
#define PARKLINK_STORE_ORDERS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_ORDER_ID_MAX 64
#define STORE_DATE_MAX 10  /* YYYY-MM-DD */
#define STORE_LANE_MAX 256 /* 64 characters of UTF-8 */
#define STORE_CODE_MAX 64  /* region, rule, company ids */

/* Life of an order. Stored; never renumber. */
enum store_order_state {
    STORE_ORDER_OPEN = 0,        /* entered, still inside */
    STORE_ORDER_PAYING = 1,      /* exit uploaded, electronic payment pending (answered state 2) */
    STORE_ORDER_SETTLED = 2,     /* left and settled: cash, electronic, or nothing due */
    STORE_ORDER_ESCAPED = 3,     /* left without paying (pay_type escape): owes its total */
    STORE_ORDER_CLOSED_ZERO = 4, /* closed at zero because the same car entered again */
};

/* 3.1, as validated by the handler. Optional strings are NULL when absent. */
struct store_entry {
    const char *park_id, *order_id, *union_id;
    const char *car_number; /* normalised (registry_plate_norm) */
    int color;              /* 0-7 */
    int64_t in_time;
    int64_t empty_plot;
    const char *remark, *inpark_img, *uid, *uname, *in_channel_id;
    int car_cost_type; /* 1-7, 0 absent */
    int is_report;     /* 0/1, -1 absent */
};

enum store_entry_outcome {
    STORE_ENTRY_NEW = 0,   /* stored; stale open orders of the car closed at zero */
    STORE_ENTRY_DUPLICATE, /* (park_id, order_id) exists: nothing written */
};

/* 3.2, as validated by the handler. Optional strings NULL, optional numbers -1 (in_time 0). */
struct store_exit {
    const char *park_id, *order_id, *union_id;
    const char *car_number; /* normalised */
    int color;              /* 0-7, -1 absent */
    int64_t in_time;        /* 0 absent */
    int64_t out_time;
    const char *pay_type; /* "cash" | "wallet" | "sweepcode" | "escape", or any other text
                             (kept as sent; settles like cash) */
    int64_t empty_plot;   /* -1 absent: the park's count is left as it was */
    int64_t total_fen;
    const char *auth_code;
    const char *remark; /* JSON text of the remark value */
    int pay_channel;    /* remark.pay_channel 0-3, -1 absent */
    const char *outpark_img, *out_channel_id, *freereasons, *work_station_uuid, *out_uid,
        *out_uname;
    int64_t reduce_fen, derate_duration;
    int is_report;
};

enum store_exit_outcome {
    STORE_EXIT_SETTLED = 0,  /* settled now: cash, or nothing was due */
    STORE_EXIT_ESCAPED,      /* closed as escaped, owing its total */
    STORE_EXIT_PAYING,       /* electronic payment pending: the order stays open to re-sends */
    STORE_EXIT_REPEATED,     /* already closed with the same pay_type, total, out_time: no change */
    STORE_EXIT_CONFLICT,     /* already closed with other values: no change */
    STORE_EXIT_BEFORE_ENTRY, /* out_time earlier than the stored in_time: no change */
};

/* An order read back. */
struct store_order {
    const char *park_id, *order_id, *union_id, *car_number;
    int color, state;
    int64_t in_time, out_time; /* out_time 0 while inside */
    const char *pay_type;      /* "" before the exit */
    int64_t total_fen;         /* amount due reported at the exit, 0 before it */
    int64_t paid_fen;          /* money settled (cash or electronic) */
    int pay_channel;           /* -1 unknown */
    const char *trade_no;      /* electronic payment serial, "" if none */
    const char *inpark_img, *outpark_img;
    int car_cost_type;                  /* 0 unknown */
    const char *park_business_type;     /* 10.1 correction, "" if none */
    const char *park_name, *union_name; /* joined from parks / vendors, "" if gone */
};
typedef int (*store_order_cb)(void *arg, const struct store_order *row);

/* 4.1 filters. Only orders of parks the vendor owns now are returned. */
struct store_order_query {
    const char *union_id;                        /* required */
    const char *park_id, *order_id, *car_number; /* NULL = any; at least one given */
    int64_t from, until;                         /* in_time in [from, until]; until 0: no window */
    int64_t offset, limit;
};

/* 10.1 correction. type 1 plate, 2 times and fee, 3 both; unused members absent. */
struct store_correction {
    const char *park_id, *order_id, *union_id;
    int type;
    const char *car_number;    /* normalised; the corrected plate for types 1 and 3 */
    int color;                 /* -1 absent */
    int64_t in_time, out_time; /* 0 absent */
    int64_t total_fen;         /* -1 absent */
    const char *park_business_type, *leave_business_type; /* NULL absent */
};

enum store_correct_outcome {
    STORE_CORRECT_DONE = 0,
    STORE_CORRECT_NO_ORDER, /* no such order in that park */
    STORE_CORRECT_INSIDE,   /* times/fee of an order whose car is still inside: refused */
    STORE_CORRECT_TIMES,    /* the corrected out_time would precede in_time: refused */
};

/* 2.1 publish. Optional strings NULL, optional numbers -1. */
struct store_park_publish {
    const char *park_id, *union_id, *name, *address, *phone, *mobile, *lng, *lat, *price_desc,
        *remark, *rand;
    int64_t city_id, total_plot, empty_plot, server_id, docking_type;
};

/* 2.2 update. type 1: plots, tariff, phones; type 2: the vendor disables the park. */
struct store_park_update {
    const char *park_id, *union_id, *rand;
    int type;
    int64_t total_plot, empty_plot; /* -1 absent */
    const char *price_desc, *phone, *mobile;
};

enum store_park_outcome {
    STORE_PARK_CREATED = 0,
    STORE_PARK_UPDATED,
    STORE_PARK_FOREIGN, /* the park_id belongs to another vendor: nothing written */
    STORE_PARK_UNKNOWN, /* update of a park that does not exist: nothing written */
    STORE_PARK_REPLAY,  /* rand equals the previous request's for this park: nothing written */
    STORE_PARK_PLOTS,   /* empty_plot would exceed total_plot: nothing written */
};

/* 2.3: which code to answer. */
struct store_qr_request {
    const char *park_id;
    int type;               /* 1 prepay, 2 exit direct-pay, 3 no-plate entry */
    const char *channel_id; /* lane; "" for type 1 */
    int create, change;     /* 0/1 as the reference defines them */
    const char *message_uuid, *data_target, *device_no; /* NULL absent */
};

struct store_qr {
    int64_t id;
    char park_id[STORE_PARK_ID_MAX + 1];
    int type;
    char channel_id[STORE_LANE_MAX + 1];
    int active; /* 0 once replaced (change 1) */
    int64_t created;
};

/* 10.5 texts per park: [0] entry, [1] before leaving, [2] exit; "" = the default text. */
struct store_screen {
    char park_id[STORE_PARK_ID_MAX + 1];
    char text[3][STORE_TEXT_MAX + 1];
    int64_t updated;
};

/* Monthly cards (10.6). (park_id, plate, color) is unique. */
struct store_card {
    int64_t id; /* assigned on add */
    char park_id[STORE_PARK_ID_MAX + 1];
    char plate[STORE_PLATE_MAX + 1];
    int color; /* 0-7 */
    int type;  /* 1 monthly, 2 enterprise monthly, 3 property-right, 4 one card */
    char valid_from[STORE_DATE_MAX + 1], valid_until[STORE_DATE_MAX + 1]; /* YYYY-MM-DD */
    char region_id[STORE_CODE_MAX + 1];   /* "" = not a zoned card */
    char rule_id_sub[STORE_CODE_MAX + 1]; /* "" = not a time-sliced card */
    char company_id[STORE_CODE_MAX + 1], company_name[STORE_NAME_MAX + 1]; /* type 2 */
    int64_t created, updated;
};
typedef int (*store_card_cb)(void *arg, const struct store_card *row);

struct store_card_query {
    const char *park_id, *plate;     /* NULL = any */
    int type;                        /* 0 = any */
    int64_t after_id, offset, limit; /* limit 0 = no limit; rows in id order */
};

/* ---- parking records (orders.c) ---- */

/* 3.1: MUST answer STORE_ENTRY_DUPLICATE, writing nothing, when (park_id, order_id) exists
 * (also when another node stores the same order at the same moment: the unique key
 * decides); else close the car's (car_number, color) open and paying orders in that park at
 * zero (out_time = in_time), store the entry, and take empty_plot as the park's live count
 * unless a later event already set it. An open stay of the car that began after this entry
 * closes this one instead (a delayed upload). */
enum store_result store_entry_put(struct store_session *s, const struct store_entry *e,
                                  enum store_entry_outcome *out);

/* 3.2: close the order per pay_type (cash and zero totals settle, escape escapes,
 * wallet/sweepcode with money due become paying). An order that is settled or escaped MUST
 * NOT change (REPEATED or CONFLICT), so money is counted once, also when two nodes take
 * the same exit at once (the state is checked by the UPDATE itself). An exit without an
 * entry creates the order from the exit (*created = 1). */
enum store_result store_exit_put(struct store_session *s, const struct store_exit *x,
                                 enum store_exit_outcome *out, int *created);

/* 10.1: apply a correction and keep the old values in an audit row (the order is locked
 * for the op on PostgreSQL). */
enum store_result store_order_correct(struct store_session *s, const struct store_correction *c,
                                      enum store_correct_outcome *out);

/* ---- order reads (order_reads.c) ---- */

/* order_get: cb once with the order; STORE_NOT_FOUND if absent. */
enum store_result store_order_get(struct store_session *s, const char *park_id,
                                  const char *order_id, store_order_cb cb, void *arg);
/* Unpaid escaped orders of a plate in every park, oldest first. */
enum store_result store_escapes(struct store_session *s, const char *car_number, store_order_cb cb,
                                void *arg);
/* Orders of a park whose car is inside (open or paying): their number, and the rows by
 * in_time. */
enum store_result store_open_count(struct store_session *s, const char *park_id, int64_t *n);
enum store_result store_open_list(struct store_session *s, const char *park_id, store_order_cb cb,
                                  void *arg);
/* 4.1: rows by in_time then id; *total (required) over all pages, from the same snapshot. */
enum store_result store_order_query(struct store_session *s, const struct store_order_query *q,
                                    store_order_cb cb, void *arg, int64_t *total);

/* ---- what vendors publish (published.c) ---- */

/* 2.1 / 2.2: write the parks row (raising the revision: the caller reloads the registry
 * after the commit) and the published details; *account receives the park's platform
 * account number (2.1's username). The outcome is decided again after the revision is
 * raised (its row lock serialises every park writer, on every node), so two nodes
 * publishing the same park, or replaying the same rand, still get one CREATED and one
 * UPDATED, or one REPLAY. 2.5: the no-plate SMS setting (STORE_NOT_FOUND for an unknown
 * park). */
enum store_result store_park_publish(struct store_session *s, const struct store_park_publish *p,
                                     enum store_park_outcome *out, int64_t *account);
enum store_result store_park_update(struct store_session *s, const struct store_park_update *u,
                                    enum store_park_outcome *out);
enum store_result store_park_sms(struct store_session *s, const char *park_id, int is_verify);

/* 2.3: the active code of (park, type, lane), creating one when there is none or when
 * create is 1 (change 1 then retires the others). STORE_NOT_FOUND for an unknown park.
 * qr_get: any code by id, retired ones included; STORE_NOT_FOUND if absent. */
enum store_result store_qr_issue(struct store_session *s, const struct store_qr_request *rq,
                                 struct store_qr *out);
enum store_result store_qr_get(struct store_session *s, int64_t id, struct store_qr *out);

/* 10.5 texts: get fills "" for a park without texts (STORE_OK); put writes scr->updated
 * back (STORE_FOREIGN_KEY for an unknown park, not from a failing statement); delete answers
 * STORE_NOT_FOUND when the park had none. */
enum store_result store_screen_get(struct store_session *s, const char *park_id,
                                   struct store_screen *out);
enum store_result store_screen_put(struct store_session *s, struct store_screen *scr);
enum store_result store_screen_delete(struct store_session *s, const char *park_id);

/* ---- monthly cards (cards.c) ---- */

/* add: STORE_CONFLICT for a duplicate (park_id, plate, color), STORE_FOREIGN_KEY for an
 * unknown park, neither from a failing statement; writes id, created, updated back.
 * update replaces every caller field of the row with that id (STORE_NOT_FOUND, CONFLICT
 * and FOREIGN_KEY as add). get/delete: STORE_NOT_FOUND if absent. list MUST set *total (if
 * not NULL) ignoring paging, from the same snapshot as the rows. */
enum store_result store_card_add(struct store_session *s, struct store_card *c);
enum store_result store_card_update(struct store_session *s, struct store_card *c);
enum store_result store_card_get(struct store_session *s, int64_t id, struct store_card *out);
enum store_result store_card_delete(struct store_session *s, int64_t id);
enum store_result store_card_list(struct store_session *s, const struct store_card_query *q,
                                  store_card_cb cb, void *arg, int64_t *total);

#endif
