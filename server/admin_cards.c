/* admin_cards.c - the admin API's monthly cards and lane screen texts (/cards,
 * /screen-texts; spec 10.6, 10.5).
 *
 * Both live in the order store (store_orders.h) and run on a store session opened per
 * request; they are not part of the admission snapshot, so no registry reload follows. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "admin_internal.h"
#include "store/store.h"
#include "store/store_orders.h"

/* ---- monthly cards (spec 10.6) ---- */

static const char *const card_fields[] = {"park_id",    "plate",        "color",     "type",
                                          "valid_from", "valid_until",  "region_id", "rule_id_sub",
                                          "company_id", "company_name", NULL};

/* "YYYY-MM-DD", a real calendar date. */
static int date_ok(const char *s)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, n = 0;

    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        s[4] != '-' || s[7] != '-' || y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

static int date_field(struct req *r, json_t *o, const char *name, char out[STORE_DATE_MAX + 1])
{
    const char *s = NULL;
    int rc = admin_get_str(r, o, "", name, 10, 10, &s);

    if (rc == 1 && !date_ok(s))
        return admin_bad(r, "field '%s' must be a date YYYY-MM-DD", name);
    if (rc == 1)
        snprintf(out, STORE_DATE_MAX + 1, "%s", s);
    return rc;
}

static int code_field(struct req *r, json_t *o, const char *name, char *out, size_t max)
{
    const char *s = NULL;
    int rc = admin_get_str(r, o, "", name, 0, max, &s);

    if (rc == 1)
        snprintf(out, max + 1, "%s", s);
    return rc;
}

/* Fill c from the body over what it holds; full: park_id, plate, valid_from/until required. */
static int parse_card(struct req *r, json_t *o, struct store_card *c, int full)
{
    int64_t type = 0;
    int rc;

    if (admin_check_fields(r, o, "", card_fields) != 0)
        return -1;
    rc = admin_park_id_field(r, o, "", "park_id", c->park_id);
    if (rc < 0 || (rc == 0 && full))
        return rc < 0 ? -1 : admin_missing(r, "", "park_id");
    rc = admin_plate_field(r, o, "", c->plate);
    if (rc < 0 || (rc == 0 && full))
        return rc < 0 ? -1 : admin_missing(r, "", "plate");
    if (admin_color_field(r, o, "", 0, &c->color) < 0)
        return -1;
    rc = admin_get_int(r, o, "", "type", 1, 4, &type);
    if (rc < 0)
        return -1;
    if (rc == 1)
        c->type = (int)type;
    else if (full)
        c->type = 1;
    rc = date_field(r, o, "valid_from", c->valid_from);
    if (rc < 0 || (rc == 0 && full))
        return rc < 0 ? -1 : admin_missing(r, "", "valid_from");
    rc = date_field(r, o, "valid_until", c->valid_until);
    if (rc < 0 || (rc == 0 && full))
        return rc < 0 ? -1 : admin_missing(r, "", "valid_until");
    if (strcmp(c->valid_until, c->valid_from) < 0)
        return admin_bad(r, "bad validity: 'valid_until' must not be before 'valid_from'");
    if (code_field(r, o, "region_id", c->region_id, STORE_CODE_MAX) < 0 ||
        code_field(r, o, "rule_id_sub", c->rule_id_sub, STORE_CODE_MAX) < 0 ||
        code_field(r, o, "company_id", c->company_id, STORE_CODE_MAX) < 0 ||
        code_field(r, o, "company_name", c->company_name, STORE_NAME_MAX) < 0)
        return -1;
    return 0;
}

static json_t *card_json(const struct store_card *c)
{
    return json_pack("{s:I,s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "id",
                     (json_int_t)c->id, "park_id", c->park_id, "plate", c->plate, "color", c->color,
                     "type", c->type, "valid_from", c->valid_from, "valid_until", c->valid_until,
                     "region_id", c->region_id, "rule_id_sub", c->rule_id_sub, "company_id",
                     c->company_id, "company_name", c->company_name, "created",
                     (json_int_t)c->created, "updated", (json_int_t)c->updated);
}

static int on_card_row(void *arg, const struct store_card *c)
{
    admin_acc_add(arg, card_json(c), json_integer(c->id));
    return 0;
}

static void card_result(struct req *r, enum store_result sr, const struct store_card *c, int status)
{
    if (sr == STORE_FOREIGN_KEY)
        admin_error(r, 400, "field 'park_id': unknown park %s", c->park_id);
    else if (sr == STORE_CONFLICT)
        admin_error(r, 409, "plate %s colour %d already has a card at park %s", c->plate, c->color,
                    c->park_id);
    else if (sr == STORE_NOT_FOUND)
        admin_error(r, 404, "no card with id %" PRId64, c->id);
    else if (sr != STORE_OK)
        admin_store_error(r, sr, "card");
    else
        admin_send(r, status, card_json(c));
}

void admin_cards_collection(struct req *r)
{
    static const char *const params[] = {"limit",   "offset", "after", "plate",
                                         "park_id", "type",   NULL};
    struct store_card c = {0};
    struct store_query pq = {0};
    struct store_card_query q = {0};
    struct list_acc a = {NULL, NULL};
    char plate[STORE_PLATE_MAX + 1];
    int64_t total = 0, type = 0;
    enum store_result sr;

    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0) {
        admin_bad_method(r);
        return;
    }
    if (strcmp(r->method, "GET") == 0) {
        if (admin_list_query(r, params, &pq, 0, plate) != 0)
            return;
        q.plate = pq.plate;
        if (admin_param(r, "type") != NULL &&
            admin_parse_num(admin_param(r, "type"), 1, 4, &type) != 0) {
            admin_error(r, 400, "query parameter 'type' must be 1-4");
            return;
        }
    }
    if (strcmp(r->method, "POST") == 0 && parse_card(r, r->body, &c, 1) != 0) {
        admin_error(r, 400, "%s", r->err);
        return;
    }
    if (strcmp(r->method, "GET") == 0) {
        q.park_id = admin_param(r, "park_id");
        q.type = (int)type;
        q.limit = pq.limit;
        q.offset = pq.offset;
        q.after_id = pq.after_id;
        a.items = json_array();
        sr = store_card_list(r->s, &q, on_card_row, &a, &total);
        admin_send_list(r, sr, &a, &pq, total);
    } else {
        card_result(r, admin_write(r->s, &(struct admin_op){.kind = AW_CARD_ADD, .row.card = &c}),
                    &c, 201);
    }
}

void admin_cards_item(struct req *r)
{
    struct store_card c;
    enum store_result sr;
    int64_t id = 0;

    if (!admin_id_key(r->key, &id)) {
        admin_error(r, 404, "no card with id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "PATCH") != 0 &&
        strcmp(r->method, "DELETE") != 0) {
        admin_bad_method(r);
        return;
    }
    if (strcmp(r->method, "DELETE") == 0) {
        sr = admin_write(r->s, &(struct admin_op){.kind = AW_CARD_DELETE, .id = id});
        if (sr == STORE_OK)
            admin_send(r, 200, json_pack("{s:b,s:I}", "deleted", 1, "id", (json_int_t)id));
        else if (sr == STORE_NOT_FOUND)
            admin_error(r, 404, "no card with id %" PRId64, id);
        else
            admin_store_error(r, sr, "card");
    } else if ((sr = store_card_get(r->s, id, &c)) != STORE_OK) {
        if (sr == STORE_NOT_FOUND)
            admin_error(r, 404, "no card with id %" PRId64, id);
        else
            admin_store_error(r, sr, "card");
    } else if (r->method[0] == 'G') {
        admin_send(r, 200, card_json(&c));
    } else if (parse_card(r, r->body, &c, 0) != 0) {
        admin_error(r, 400, "%s", r->err);
    } else {
        card_result(r,
                    admin_write(r->s, &(struct admin_op){.kind = AW_CARD_UPDATE, .row.card = &c}),
                    &c, 200);
    }
}

/* ---- lane screen texts (spec 10.5) ---- */

static const char *const screen_fields[] = {"park_id", "entry", "leaving", "exit", NULL};

static json_t *screen_json(const struct store_screen *s)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:I}", "park_id", s->park_id, "entry", s->text[0], "leaving",
                     s->text[1], "exit", s->text[2], "updated", (json_int_t)s->updated);
}

void admin_screen_texts_collection(struct req *r)
{
    admin_error(r, 405, "address one park: /screen-texts/{park_id}");
}

void admin_screen_texts_item(struct req *r)
{
    static const char *const names[3] = {"entry", "leaving", "exit"};
    struct store_screen s;
    struct store_park p;
    enum store_result sr;

    if (!admin_park_id_ok(r->key, strlen(r->key)) ||
        (sr = store_park_get(r->s, r->key, &p)) == STORE_NOT_FOUND) {
        admin_error(r, 404, "no park with park_id '%s'", r->key);
        return;
    }
    if (sr != STORE_OK) {
        admin_store_error(r, sr, "park");
        return;
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "PUT") != 0 &&
        strcmp(r->method, "DELETE") != 0) {
        admin_bad_method(r);
        return;
    }
    memset(&s, 0, sizeof s);
    snprintf(s.park_id, sizeof s.park_id, "%s", r->key);
    if (strcmp(r->method, "PUT") == 0) {
        const char *t = NULL;
        char pid[STORE_PARK_ID_MAX + 1] = "";

        if (admin_check_fields(r, r->body, "", screen_fields) != 0 ||
            admin_park_id_field(r, r->body, "", "park_id", pid) < 0) {
            admin_error(r, 400, "%s", r->err);
            return;
        }
        if (pid[0] != '\0' && strcmp(pid, r->key) != 0) {
            admin_error(r, 400, "field 'park_id' (%s) does not match the path (%s)", pid, r->key);
            return;
        }
        for (int i = 0; i < 3; i++) {
            int rc = admin_get_str(r, r->body, "", names[i], 0, STORE_TEXT_MAX, &t);
            if (rc < 0) {
                admin_error(r, 400, "%s", r->err);
                return;
            }
            snprintf(s.text[i], sizeof s.text[i], "%s", rc == 1 ? t : "");
        }
    }
    if (strcmp(r->method, "GET") == 0)
        sr = store_screen_get(r->s, r->key, &s);
    else if (strcmp(r->method, "PUT") == 0)
        sr = admin_write(r->s, &(struct admin_op){.kind = AW_SCREEN_PUT, .row.screen = &s});
    else
        sr = admin_write(r->s, &(struct admin_op){.kind = AW_SCREEN_DELETE, .key = r->key});
    if (sr == STORE_NOT_FOUND && r->method[0] == 'D')
        admin_error(r, 404, "park %s has no screen texts", r->key);
    else if (sr != STORE_OK)
        admin_store_error(r, sr, "screen texts");
    else if (r->method[0] == 'D')
        admin_send(r, 200, json_pack("{s:b,s:s}", "deleted", 1, "park_id", r->key));
    else
        admin_send(r, 200, screen_json(&s));
}
