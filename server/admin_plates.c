/* admin_plates.c - the admin API's per-plate lists: /blacklist, /members, /reservations.
 *
 * The records park_check consults for a plate (registry.c): blacklist entries (also loaded
 * in bulk), members (of one park or city-wide) and reservations. Routed from admin.c; every
 * committed change reloads the registry (admin_committed). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin_internal.h"
#include "store/store.h"

#define BULK_MAX 100000

static json_t *blacklist_json(const struct store_blacklist *e)
{
    return json_pack("{s:I,s:s,s:i,s:s,s:I,s:I,s:I}", "id", (json_int_t)e->id, "plate", e->plate,
                     "color", e->color, "reason", e->reason, "valid_from",
                     (json_int_t)e->valid_from, "valid_until", (json_int_t)e->valid_until,
                     "created", (json_int_t)e->created);
}

static json_t *member_json(const struct store_member *m)
{
    return json_pack("{s:I,s:s,s:i,s:o,s:I,s:I,s:I}", "id", (json_int_t)m->id, "plate", m->plate,
                     "color", m->color, "park_id", admin_msg_or_null(m->park_id), "valid_until",
                     (json_int_t)m->valid_until, "created", (json_int_t)m->created, "updated",
                     (json_int_t)m->updated);
}

static const char *res_state_name(int state)
{
    return state == STORE_RES_CANCELLED ? "cancelled" : "active";
}

static json_t *reservation_json(const struct store_reservation *v)
{
    return json_pack("{s:I,s:s,s:i,s:s,s:I,s:I,s:s,s:I,s:I}", "id", (json_int_t)v->id, "plate",
                     v->plate, "color", v->color, "park_id", v->park_id, "start",
                     (json_int_t)v->start, "end", (json_int_t)v->end, "state",
                     res_state_name(v->state), "created", (json_int_t)v->created, "updated",
                     (json_int_t)v->updated);
}

static int on_blacklist_row(void *arg, const struct store_blacklist *e)
{
    admin_acc_add(arg, blacklist_json(e), json_integer(e->id));
    return 0;
}

static int on_member_row(void *arg, const struct store_member *m)
{
    admin_acc_add(arg, member_json(m), json_integer(m->id));
    return 0;
}

static int on_reservation_row(void *arg, const struct store_reservation *v)
{
    admin_acc_add(arg, reservation_json(v), json_integer(v->id));
    return 0;
}

/* ---- blacklist ---- */

static const char *const blacklist_fields[] = {"plate",      "color",       "reason",
                                               "valid_from", "valid_until", NULL};

static int parse_blacklist(struct req *r, json_t *o, const char *pfx, struct store_blacklist *e)
{
    const char *s = NULL;
    int rc;

    if (!json_is_object(o))
        return admin_bad(r, "%s must be a JSON object", pfx[0] ? pfx : "the body");
    if (admin_check_fields(r, o, pfx, blacklist_fields) != 0)
        return -1;
    rc = admin_plate_field(r, o, pfx, e->plate);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return admin_missing(r, pfx, "plate");
    e->color = 0;
    if (admin_color_field(r, o, pfx, 1, &e->color) < 0)
        return -1;
    rc = admin_get_str(r, o, pfx, "reason", 0, STORE_TEXT_MAX, &s);
    if (rc < 0)
        return -1;
    snprintf(e->reason, sizeof(e->reason), "%s", rc == 1 ? s : "");
    if (admin_get_int(r, o, pfx, "valid_from", 0, INT64_MAX / 2, &e->valid_from) < 0 ||
        admin_get_int(r, o, pfx, "valid_until", 0, INT64_MAX / 2, &e->valid_until) < 0)
        return -1;
    if (e->valid_until != 0 && e->valid_until <= e->valid_from)
        return admin_bad(r,
                         "bad time window: field '%svalid_until' must be 0 (open-ended) or later "
                         "than 'valid_from'",
                         pfx);
    return 0;
}

static void blacklist_bulk(struct req *r, json_t *entries)
{
    size_t n = json_array_size(entries), failed = 0;
    struct store_blacklist *e = NULL;
    enum store_result sr;
    json_t *ids;
    char pfx[48];

    if (admin_check_fields(r, r->body, "", (const char *const[]){"entries", NULL}) != 0) {
        admin_error(r, 400, "%s (a bulk body holds only 'entries')", r->err);
        return;
    }
    if (!json_is_array(entries) || n == 0 || n > BULK_MAX) {
        admin_error(r, 400, "field 'entries' must be an array of 1-%d blacklist entries", BULK_MAX);
        return;
    }
    e = calloc(n, sizeof(*e));
    if (e == NULL) {
        admin_error(r, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(pfx, sizeof(pfx), "entries[%zu].", i);
        if (parse_blacklist(r, json_array_get(entries, i), pfx, &e[i]) != 0) {
            admin_error(r, 400, "%s", r->err);
            goto out;
        }
    }
    sr = admin_write(
        r->s, &(struct admin_op){
                  .kind = AW_BLACKLIST_ADD, .row.blacklist = e, .n = n, .failed_at = &failed});
    if (sr == STORE_CONFLICT) {
        admin_error(r, 409,
                    "entries[%zu]: plate %s colour %d is already on the blacklist (or "
                    "repeated in this request); nothing was added",
                    failed, e[failed].plate, e[failed].color);
        goto out;
    }
    if (sr != STORE_OK) {
        admin_store_error(r, sr, "blacklist entry");
        goto out;
    }
    ids = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(ids, json_integer(e[i].id));
    admin_committed(r, 201, json_pack("{s:I,s:o}", "inserted", (json_int_t)n, "ids", ids));
out:
    free(e);
}

void admin_blacklist_collection(struct req *r)
{
    static const char *const params[] = {"limit", "offset", "after", "plate", NULL};
    struct store_blacklist e = {0};
    struct store_query q = {0};
    struct list_acc a = {NULL, NULL};
    char plate[STORE_PLATE_MAX + 1];
    enum store_result sr;
    int64_t total = 0;

    if (strcmp(r->method, "GET") == 0) {
        if (admin_list_query(r, params, &q, 0, plate) != 0)
            return;
        a.items = json_array();
        sr = store_blacklist_list(r->s, &q, on_blacklist_row, &a, &total);
        admin_send_list(r, sr, &a, &q, total);
        return;
    }
    if (strcmp(r->method, "POST") != 0) {
        admin_bad_method(r);
        return;
    }
    if (json_object_get(r->body, "entries") != NULL) {
        blacklist_bulk(r, json_object_get(r->body, "entries"));
        return;
    }
    if (parse_blacklist(r, r->body, "", &e) != 0) {
        admin_error(r, 400, "%s", r->err);
        return;
    }
    sr = admin_write(r->s,
                     &(struct admin_op){.kind = AW_BLACKLIST_ADD, .row.blacklist = &e, .n = 1});
    if (sr == STORE_CONFLICT)
        admin_error(r, 409, "plate %s colour %d is already on the blacklist", e.plate, e.color);
    else if (sr != STORE_OK)
        admin_store_error(r, sr, "blacklist entry");
    else
        admin_committed(r, 201, blacklist_json(&e));
}

void admin_blacklist_item(struct req *r)
{
    struct store_blacklist e;
    enum store_result sr;
    int64_t id = 0;

    if (!admin_id_key(r->key, &id)) {
        admin_error(r, 404, "no blacklist entry with id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") == 0) {
        sr = store_blacklist_get(r->s, id, &e);
        if (sr == STORE_OK)
            admin_send(r, 200, blacklist_json(&e));
        else if (sr == STORE_NOT_FOUND)
            admin_error(r, 404, "no blacklist entry with id %" PRId64, id);
        else
            admin_store_error(r, sr, "blacklist entry");
    } else if (strcmp(r->method, "DELETE") == 0) {
        admin_deleted_id(
            r, admin_write(r->s, &(struct admin_op){.kind = AW_BLACKLIST_DELETE, .id = id}), id,
            "blacklist entry");
    } else {
        admin_bad_method(r);
    }
}

/* ---- members ---- */

static const char *const member_fields[] = {"plate", "color", "park_id", "valid_until", NULL};

/* Fill m from the body over what it holds; full: plate required. park_id null = city-wide. */
static int parse_member(struct req *r, json_t *o, struct store_member *m, int full)
{
    json_t *pv;
    int rc;

    if (admin_check_fields(r, o, "", member_fields) != 0)
        return -1;
    rc = admin_plate_field(r, o, "", m->plate);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return admin_missing(r, "", "plate");
    if (admin_color_field(r, o, "", 0, &m->color) < 0)
        return -1;
    pv = json_object_get(o, "park_id");
    if (pv != NULL && json_is_null(pv))
        m->park_id[0] = '\0';
    else if (admin_park_id_field(r, o, "", "park_id", m->park_id) < 0)
        return -1;
    if (admin_get_int(r, o, "", "valid_until", 0, INT64_MAX / 2, &m->valid_until) < 0)
        return -1;
    return 0;
}

static void member_result(struct req *r, enum store_result sr, const struct store_member *m,
                          int status)
{
    if (sr == STORE_FOREIGN_KEY)
        admin_error(r, 400, "field 'park_id': unknown park %s", m->park_id);
    else if (sr == STORE_CONFLICT)
        admin_error(r, 409, "plate %s colour %d is already a member %s%s", m->plate, m->color,
                    m->park_id[0] ? "of park " : "city-wide", m->park_id);
    else if (sr == STORE_NOT_FOUND)
        admin_error(r, 404, "no member with id %" PRId64, m->id);
    else if (sr != STORE_OK)
        admin_store_error(r, sr, "member");
    else
        admin_committed(r, status, member_json(m));
}

void admin_members_collection(struct req *r)
{
    static const char *const params[] = {"limit", "offset", "after", "plate", "park_id", NULL};
    struct store_member m = {0};
    struct store_query q = {0};
    struct list_acc a = {NULL, NULL};
    char plate[STORE_PLATE_MAX + 1];
    enum store_result sr;
    int64_t total = 0;

    if (strcmp(r->method, "GET") == 0) {
        if (admin_list_query(r, params, &q, 0, plate) != 0)
            return;
        q.park_id = admin_param(r, "park_id"); /* "" = city-wide members */
        a.items = json_array();
        sr = store_member_list(r->s, &q, on_member_row, &a, &total);
        admin_send_list(r, sr, &a, &q, total);
        return;
    }
    if (strcmp(r->method, "POST") != 0) {
        admin_bad_method(r);
        return;
    }
    if (parse_member(r, r->body, &m, 1) != 0) {
        admin_error(r, 400, "%s", r->err);
        return;
    }
    member_result(r, admin_write(r->s, &(struct admin_op){.kind = AW_MEMBER_ADD, .row.member = &m}),
                  &m, 201);
}

void admin_members_item(struct req *r)
{
    struct store_member m;
    enum store_result sr;
    int64_t id = 0;

    if (!admin_id_key(r->key, &id)) {
        admin_error(r, 404, "no member with id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "PATCH") == 0) {
        sr = store_member_get(r->s, id, &m);
        if (sr == STORE_NOT_FOUND) {
            admin_error(r, 404, "no member with id %" PRId64, id);
        } else if (sr != STORE_OK) {
            admin_store_error(r, sr, "member");
        } else if (r->method[0] == 'G') {
            admin_send(r, 200, member_json(&m));
        } else if (parse_member(r, r->body, &m, 0) != 0) {
            admin_error(r, 400, "%s", r->err);
        } else {
            member_result(
                r,
                admin_write(r->s, &(struct admin_op){.kind = AW_MEMBER_UPDATE, .row.member = &m}),
                &m, 200);
        }
    } else if (strcmp(r->method, "DELETE") == 0) {
        admin_deleted_id(r,
                         admin_write(r->s, &(struct admin_op){.kind = AW_MEMBER_DELETE, .id = id}),
                         id, "member");
    } else {
        admin_bad_method(r);
    }
}

/* ---- reservations ---- */

static const char *const reservation_fields[] = {"plate", "color", "park_id", "start",
                                                 "end",   "state", NULL};

static int state_value(const char *s, int *out)
{
    if (strcmp(s, "active") == 0)
        *out = STORE_RES_ACTIVE;
    else if (strcmp(s, "cancelled") == 0)
        *out = STORE_RES_CANCELLED;
    else
        return -1;
    return 0;
}

/* Fill v from the body over what it holds; full: plate, park_id, start, end required. */
static int parse_reservation(struct req *r, json_t *o, struct store_reservation *v, int full)
{
    const char *s = NULL;
    int rc;

    if (admin_check_fields(r, o, "", reservation_fields) != 0)
        return -1;
    rc = admin_plate_field(r, o, "", v->plate);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return admin_missing(r, "", "plate");
    if (admin_color_field(r, o, "", 0, &v->color) < 0)
        return -1;
    rc = admin_park_id_field(r, o, "", "park_id", v->park_id);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return admin_missing(r, "", "park_id");
    rc = admin_get_int(r, o, "", "start", 0, INT64_MAX / 2, &v->start);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return admin_missing(r, "", "start");
    rc = admin_get_int(r, o, "", "end", 0, INT64_MAX / 2, &v->end);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return admin_missing(r, "", "end");
    if (v->end <= v->start)
        return admin_bad(r, "bad time window: field 'end' must be later than 'start'");
    rc = admin_get_str(r, o, "", "state", 1, 16, &s);
    if (rc < 0)
        return -1;
    if (rc == 1 && state_value(s, &v->state) != 0)
        return admin_bad(r, "field 'state' must be \"active\" or \"cancelled\"");
    return 0;
}

static void reservation_result(struct req *r, enum store_result sr,
                               const struct store_reservation *v, int status)
{
    if (sr == STORE_FOREIGN_KEY)
        admin_error(r, 400, "field 'park_id': unknown park %s", v->park_id);
    else if (sr == STORE_NOT_FOUND)
        admin_error(r, 404, "no reservation with id %" PRId64, v->id);
    else if (sr != STORE_OK)
        admin_store_error(r, sr, "reservation");
    else
        admin_committed(r, status, reservation_json(v));
}

void admin_reservations_collection(struct req *r)
{
    static const char *const params[] = {"limit",   "offset", "after", "plate",
                                         "park_id", "state",  NULL};
    struct store_reservation v = {0};
    struct store_query q = {0};
    struct list_acc a = {NULL, NULL};
    char plate[STORE_PLATE_MAX + 1];
    enum store_result sr;
    int64_t total = 0;

    if (strcmp(r->method, "GET") == 0) {
        if (admin_list_query(r, params, &q, 0, plate) != 0)
            return;
        q.park_id = admin_param(r, "park_id");
        if (admin_param(r, "state") != NULL &&
            state_value(admin_param(r, "state"), &q.state) != 0) {
            admin_error(r, 400, "query parameter 'state' must be active or cancelled");
            return;
        }
        a.items = json_array();
        sr = store_reservation_list(r->s, &q, on_reservation_row, &a, &total);
        admin_send_list(r, sr, &a, &q, total);
        return;
    }
    if (strcmp(r->method, "POST") != 0) {
        admin_bad_method(r);
        return;
    }
    if (parse_reservation(r, r->body, &v, 1) != 0) {
        admin_error(r, 400, "%s", r->err);
        return;
    }
    reservation_result(
        r, admin_write(r->s, &(struct admin_op){.kind = AW_RESERVATION_ADD, .row.reservation = &v}),
        &v, 201);
}

void admin_reservations_item(struct req *r)
{
    struct store_reservation v;
    enum store_result sr;
    int64_t id = 0;

    if (!admin_id_key(r->key, &id)) {
        admin_error(r, 404, "no reservation with id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "PATCH") == 0) {
        sr = store_reservation_get(r->s, id, &v);
        if (sr == STORE_NOT_FOUND) {
            admin_error(r, 404, "no reservation with id %" PRId64, id);
        } else if (sr != STORE_OK) {
            admin_store_error(r, sr, "reservation");
        } else if (r->method[0] == 'G') {
            admin_send(r, 200, reservation_json(&v));
        } else if (parse_reservation(r, r->body, &v, 0) != 0) {
            admin_error(r, 400, "%s", r->err);
        } else {
            reservation_result(r,
                               admin_write(r->s, &(struct admin_op){.kind = AW_RESERVATION_UPDATE,
                                                                    .row.reservation = &v}),
                               &v, 200);
        }
    } else if (strcmp(r->method, "DELETE") == 0) {
        admin_deleted_id(
            r, admin_write(r->s, &(struct admin_op){.kind = AW_RESERVATION_DELETE, .id = id}), id,
            "reservation");
    } else {
        admin_bad_method(r);
    }
}
