/* admin_internal.h - what the admin_*.c files share: the request being handled, the reply and
 * validation helpers (admin.c), the JSON field readers (admin_fields.c) and the resource
 * handlers the route table in admin.c dispatches to. Private to the admin module: include it
 * only from server/admin*.c; everything else uses admin.h. */
#ifndef PARKLINK_ADMIN_INTERNAL_H
#define PARKLINK_ADMIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "admin.h"
#include "admin_write.h"
#include "store/store.h"

#define ADMIN_MAX_PARAMS 16

/* One request being handled (admin_handle owns it and frees key, params and body). */
struct req {
    const char *method;
    struct store_session *s; /* the admin thread's session, for reads (writes: admin_write) */
    char *key;               /* decoded item segment (/vendors/{key}), or NULL */
    struct admin_param params[ADMIN_MAX_PARAMS];
    int nparams;
    json_t *body; /* for POST/PUT/PATCH: the decoded object */
    struct admin_reply *out;
    char err[320]; /* validation message for a 400 */
};

/* ---- replies (admin.c): each sets r->out; j is always consumed ---- */

void admin_send(struct req *r, int status, json_t *j);
void admin_error(struct req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A change committed: reload the registry so park_check sees it, then send j (500 if the
 * reload fails). */
void admin_committed(struct req *r, int status, json_t *j);
/* 404 / 409 / 500 for a store result other than STORE_OK; what names the record. */
void admin_store_error(struct req *r, enum store_result sr, const char *what);
/* Answer a delete by numeric id (the plate tables): 200 {"deleted":true,"id":N} once
 * committed (visible to park_check), 404 naming `what`, or the store error. */
void admin_deleted_id(struct req *r, enum store_result sr, int64_t id, const char *what);
void admin_bad_method(struct req *r);
/* Record a validation error in r->err; returns -1 for `return admin_bad(...)`. */
int admin_bad(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string, or null for "". */
json_t *admin_msg_or_null(const char *s);

/* ---- query string, paging, lists, id keys (admin.c); -1 with r->err on bad input ---- */

/* The decoded value of query parameter name, or NULL. */
const char *admin_param(const struct req *r, const char *name);
int admin_check_params(struct req *r, const char *const *allowed);
/* Decimal digits only, min..max: 0 ok, -1 not. */
int admin_parse_num(const char *s, int64_t min, int64_t max, int64_t *out);
/* limit, offset, after -> q. text_key: after is a key (vendors, parks), else an id. */
int admin_page_params(struct req *r, struct store_query *q, int text_key);
/* A numeric id from the path (1..INT64_MAX): 1 ok, 0 not. */
int admin_id_key(const char *key, int64_t *id);

/* The query of a list (GET on a collection): only the parameters named in params (NULL-
 * terminated), the paging (after= a text key when text_key), and plate= into q->plate when
 * plate is given. On a bad parameter it answers 400 and returns -1. */
int admin_list_query(struct req *r, const char *const *params, struct store_query *q, int text_key,
                     char plate[STORE_PLATE_MAX + 1]);

/* Rows of a list, collected by the store's row callbacks through admin_acc_add. */
struct list_acc {
    json_t *items;
    json_t *last; /* key of the last row, for next_after */
};

/* Append item (taken) and remember key (taken) as the last row's. */
void admin_acc_add(struct list_acc *a, json_t *item, json_t *key);
/* Answer a list: {"items":[...],"total":N,"limit":L,"offset":O[,"next_after":K]}; consumes a. */
void admin_send_list(struct req *r, enum store_result sr, struct list_acc *a,
                     const struct store_query *q, int64_t total);

/* ---- field readers (admin_fields.c): 0 absent (or null), 1 present and valid, -1 invalid
 * (r->err). pfx prefixes the field name in messages ("entries[3].") ---- */

int admin_get_str(struct req *r, json_t *o, const char *pfx, const char *name, size_t min,
                  size_t max, const char **out);
int admin_get_int(struct req *r, json_t *o, const char *pfx, const char *name, int64_t min,
                  int64_t max, int64_t *out);
int admin_get_bool(struct req *r, json_t *o, const char *name, int *out);
/* "field is required"; returns -1. */
int admin_missing(struct req *r, const char *pfx, const char *name);
/* Reject members not in allowed (the read-only id/created/updated/rev are tolerated); 0 ok. */
int admin_check_fields(struct req *r, json_t *o, const char *pfx, const char *const *allowed);
int admin_union_id_field(struct req *r, json_t *o, const char *name,
                         char out[STORE_UNION_ID_MAX + 1]);
/* A union_id from the path: same rules as the field; 1 ok, 0 not. */
int admin_union_id_key(const char *key, char out[STORE_UNION_ID_MAX + 1]);
/* A park_id: 1-STORE_PARK_ID_MAX characters, no controls, no '/'; 1 ok, 0 not. */
int admin_park_id_ok(const char *s, size_t n);
int admin_park_id_field(struct req *r, json_t *o, const char *pfx, const char *name,
                        char out[STORE_PARK_ID_MAX + 1]);
/* "plate", normalised like stored plates. */
int admin_plate_field(struct req *r, json_t *o, const char *pfx, char out[STORE_PLATE_MAX + 1]);
/* "color" 0-7, or -1 (any colour) when allow_any. */
int admin_color_field(struct req *r, json_t *o, const char *pfx, int allow_any, int *out);
/* An optional ?plate= filter: *filter = out (normalised) or NULL; 0 ok, -1 invalid. */
int admin_plate_param(struct req *r, char out[STORE_PLATE_MAX + 1], const char **filter);

/* ---- resource handlers, one pair per route: the collection (/name) and one item
 * (/name/{key}, r->key set). Each answers every method itself (405 for the others). ---- */

/* admin_parks.c */
void admin_vendors_collection(struct req *r);
void admin_vendors_item(struct req *r);
void admin_parks_collection(struct req *r);
void admin_parks_item(struct req *r);
/* admin_plates.c */
void admin_blacklist_collection(struct req *r);
void admin_blacklist_item(struct req *r);
void admin_members_collection(struct req *r);
void admin_members_item(struct req *r);
void admin_reservations_collection(struct req *r);
void admin_reservations_item(struct req *r);
/* admin_cards.c */
void admin_cards_collection(struct req *r);
void admin_cards_item(struct req *r);
void admin_screen_texts_collection(struct req *r);
void admin_screen_texts_item(struct req *r);

#endif
