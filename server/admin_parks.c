/* admin_parks.c - the admin API's vendors and parks (/vendors, /parks).
 *
 * Create, list, show, replace (PUT upserts), patch and delete the two records the rest
 * hangs off: a vendor (union_id, ukey, callback URL) and the parks it owns. Routed from
 * admin.c; every committed change reloads the registry (admin_committed). */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "admin_internal.h"
#include "store/store.h"

#define PLOTS_MAX 10000000

static int url_ok(const char *s)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    int ok = 0;

    if (u != NULL && curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK)
        ok = strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0;
    curl_free(scheme);
    curl_url_cleanup(u);
    return ok;
}

static json_t *vendor_json(const struct store_vendor *v)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:I}", "union_id", v->union_id, "ukey", v->ukey,
                     "name", v->name, "callback_url", v->callback_url, "replay_window_s",
                     v->replay_window_s, "created", (json_int_t)v->created, "updated",
                     (json_int_t)v->updated);
}

static json_t *park_json(const struct store_park *p)
{
    return json_pack("{s:s,s:s,s:s,s:i,s:i,s:s,s:b,s:b,s:{s:o,s:o,s:o},s:I,s:I}", "park_id",
                     p->park_id, "union_id", p->union_id, "name", p->name, "total_plot",
                     p->total_plot, "empty_plot", p->empty_plot, "policy",
                     p->members_only ? "members_only" : "open", "has_prepay", p->has_prepay,
                     "suspended", p->suspended, "reason_msg", "1",
                     admin_msg_or_null(p->reason_msg[1]), "2", admin_msg_or_null(p->reason_msg[2]),
                     "99", admin_msg_or_null(p->reason_msg[3]), "created", (json_int_t)p->created,
                     "updated", (json_int_t)p->updated);
}

static int on_vendor_row(void *arg, const struct store_vendor *v)
{
    admin_acc_add(arg, vendor_json(v), json_string(v->union_id));
    return 0;
}

static int on_park_row(void *arg, const struct store_park *p)
{
    admin_acc_add(arg, park_json(p), json_string(p->park_id));
    return 0;
}

/* ---- vendors ---- */

static const char *const vendor_fields[] = {"union_id",        "ukey", "name", "callback_url",
                                            "replay_window_s", NULL};

/* Fill v from the body over what it holds; full: ukey required. */
static int parse_vendor(struct req *r, json_t *o, struct store_vendor *v, int full)
{
    const char *s = NULL;
    int64_t n = 0;
    int rc;

    if (admin_check_fields(r, o, "", vendor_fields) != 0)
        return -1;
    rc = admin_get_str(r, o, "", "ukey", 1, STORE_UKEY_MAX, &s);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        for (const char *p = s; *p; p++) {
            if (*p < 0x21 || *p > 0x7e)
                return admin_bad(r,
                                 "field 'ukey' must be 1-%d printable ASCII characters without "
                                 "spaces",
                                 STORE_UKEY_MAX);
        }
        snprintf(v->ukey, sizeof(v->ukey), "%s", s);
    } else if (full) {
        return admin_missing(r, "", "ukey");
    }
    rc = admin_get_str(r, o, "", "name", 0, STORE_NAME_MAX, &s);
    if (rc < 0)
        return -1;
    if (rc == 1)
        snprintf(v->name, sizeof(v->name), "%s", s);
    rc = admin_get_str(r, o, "", "callback_url", 0, STORE_URL_MAX, &s);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        if (s[0] != '\0' && !url_ok(s))
            return admin_bad(r,
                             "field 'callback_url' must be an http:// or https:// URL (or \"\")");
        snprintf(v->callback_url, sizeof(v->callback_url), "%s", s);
    }
    rc = admin_get_int(r, o, "", "replay_window_s", 0, STORE_REPLAY_WINDOW_MAX, &n);
    if (rc < 0)
        return -1;
    if (rc == 1)
        v->replay_window_s = (int)n;
    return 0;
}

/* The body's union_id, when present, must name the vendor of the path. */
static int same_union_id(struct req *r, json_t *o, const char *want)
{
    char uid[STORE_UNION_ID_MAX + 1];
    int rc = admin_union_id_field(r, o, "union_id", uid);

    if (rc < 0)
        return -1;
    if (rc == 1 && strcmp(uid, want) != 0)
        return admin_bad(r, "field 'union_id' (%s) does not match the path (%s)", uid, want);
    return 0;
}

static void reply_vendor(struct req *r, int status, const char *union_id)
{
    struct store_vendor v;
    enum store_result sr = store_vendor_get(r->s, union_id, &v);

    if (sr != STORE_OK) {
        admin_store_error(r, sr, "vendor");
        return;
    }
    admin_committed(r, status, vendor_json(&v));
}

void admin_vendors_collection(struct req *r)
{
    static const char *const params[] = {"limit", "offset", "after", NULL};
    struct store_vendor v = {0};
    struct store_query q = {0};
    struct list_acc a = {NULL, NULL};
    enum store_result sr;
    int64_t total = 0;

    if (strcmp(r->method, "GET") == 0) {
        if (admin_list_query(r, params, &q, 1, NULL) != 0)
            return;
        a.items = json_array();
        sr = store_vendor_list(r->s, &q, on_vendor_row, &a, &total);
        admin_send_list(r, sr, &a, &q, total);
        return;
    }
    if (strcmp(r->method, "POST") != 0) {
        admin_bad_method(r);
        return;
    }
    if (admin_union_id_field(r, r->body, "union_id", v.union_id) < 0 ||
        parse_vendor(r, r->body, &v, 1) != 0) {
        admin_error(r, 400, "%s", r->err);
        return;
    }
    if (v.union_id[0] == '\0') {
        admin_error(r, 400, "field 'union_id' is required");
        return;
    }
    sr = admin_write(
        r->s, &(struct admin_op){.kind = AW_VENDOR_PUT, .row.vendor = &v, .mode = STORE_INSERT});
    if (sr == STORE_CONFLICT) {
        admin_error(r, 409, "vendor %s already exists", v.union_id);
        return;
    }
    if (sr != STORE_OK) {
        admin_store_error(r, sr, "vendor");
        return;
    }
    reply_vendor(r, 201, v.union_id);
}

void admin_vendors_item(struct req *r)
{
    struct store_vendor v = {0};
    char uid[STORE_UNION_ID_MAX + 1];
    enum store_result sr;
    int created = 0;

    if (!admin_union_id_key(r->key, uid)) {
        admin_error(r, 404, "no vendor with union_id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") == 0) {
        sr = store_vendor_get(r->s, uid, &v);
        if (sr == STORE_NOT_FOUND)
            admin_error(r, 404, "no vendor with union_id %s", uid);
        else if (sr != STORE_OK)
            admin_store_error(r, sr, "vendor");
        else
            admin_send(r, 200, vendor_json(&v));
    } else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0) {
        int full = r->method[1] == 'U';

        if (!full) {
            sr = store_vendor_get(r->s, uid, &v);
            if (sr != STORE_OK) {
                if (sr == STORE_NOT_FOUND)
                    admin_error(r, 404, "no vendor with union_id %s", uid);
                else
                    admin_store_error(r, sr, "vendor");
                return;
            }
        }
        if (same_union_id(r, r->body, uid) != 0 || parse_vendor(r, r->body, &v, full) != 0) {
            admin_error(r, 400, "%s", r->err);
            return;
        }
        snprintf(v.union_id, sizeof(v.union_id), "%s", uid);
        sr = admin_write(r->s, &(struct admin_op){.kind = AW_VENDOR_PUT,
                                                  .row.vendor = &v,
                                                  .mode = full ? STORE_UPSERT : STORE_UPDATE,
                                                  .created = &created});
        if (sr == STORE_NOT_FOUND)
            admin_error(r, 404, "no vendor with union_id %s", uid);
        else if (sr != STORE_OK)
            admin_store_error(r, sr, "vendor");
        else
            reply_vendor(r, created ? 201 : 200, uid);
    } else if (strcmp(r->method, "DELETE") == 0) {
        sr = admin_write(r->s, &(struct admin_op){.kind = AW_VENDOR_DELETE, .key = uid});
        if (sr == STORE_NOT_FOUND)
            admin_error(r, 404, "no vendor with union_id %s", uid);
        else if (sr == STORE_IN_USE)
            admin_error(r, 409, "vendor %s still owns parks; delete them first", uid);
        else if (sr != STORE_OK)
            admin_store_error(r, sr, "vendor");
        else
            admin_committed(r, 200, json_pack("{s:b,s:s}", "deleted", 1, "union_id", uid));
    } else {
        admin_bad_method(r);
    }
}

/* ---- parks ---- */

static const char *const park_fields[] = {"park_id",    "union_id", "name",       "total_plot",
                                          "empty_plot", "policy",   "has_prepay", "suspended",
                                          "reason_msg", NULL};

static int parse_reason_msgs(struct req *r, json_t *o, struct store_park *p)
{
    static const char *const keys[4] = {NULL, "1", "2", "99"};
    json_t *m = json_object_get(o, "reason_msg");
    const char *k;
    json_t *v;

    if (m == NULL || json_is_null(m))
        return 0;
    if (!json_is_object(m))
        return admin_bad(r, "field 'reason_msg' must be an object with keys \"1\", \"2\", \"99\"");
    json_object_foreach (m, k, v) {
        if (strcmp(k, "1") != 0 && strcmp(k, "2") != 0 && strcmp(k, "99") != 0)
            return admin_bad(r, "unknown field 'reason_msg.%s' (the keys are \"1\", \"2\", \"99\")",
                             k);
    }
    for (int i = 1; i < 4; i++) {
        char name[8];
        const char *s = NULL;
        int rc;

        snprintf(name, sizeof(name), "%s", keys[i]);
        if (json_object_get(m, name) == NULL)
            continue;
        rc = admin_get_str(r, m, "reason_msg.", name, 0, STORE_TEXT_MAX, &s);
        if (rc < 0)
            return -1;
        snprintf(p->reason_msg[i], sizeof(p->reason_msg[i]), "%s", rc == 1 ? s : "");
    }
    return 0;
}

/* Fill p from the body over what it holds; full: union_id required. */
static int parse_park(struct req *r, json_t *o, struct store_park *p, int full)
{
    const char *s = NULL;
    int64_t n = 0;
    int rc;

    if (admin_check_fields(r, o, "", park_fields) != 0)
        return -1;
    rc = admin_union_id_field(r, o, "union_id", p->union_id);
    if (rc < 0)
        return -1;
    if (rc == 0 && full)
        return admin_missing(r, "", "union_id");
    rc = admin_get_str(r, o, "", "name", 0, STORE_NAME_MAX, &s);
    if (rc < 0)
        return -1;
    if (rc == 1)
        snprintf(p->name, sizeof(p->name), "%s", s);
    rc = admin_get_int(r, o, "", "total_plot", 0, PLOTS_MAX, &n);
    if (rc < 0)
        return -1;
    if (rc == 1)
        p->total_plot = (int)n;
    rc = admin_get_int(r, o, "", "empty_plot", 0, PLOTS_MAX, &n);
    if (rc < 0)
        return -1;
    if (rc == 1)
        p->empty_plot = (int)n;
    if (p->empty_plot > p->total_plot)
        return admin_bad(r, "field 'empty_plot' (%d) must not exceed 'total_plot' (%d)",
                         p->empty_plot, p->total_plot);
    rc = admin_get_str(r, o, "", "policy", 1, 32, &s);
    if (rc < 0)
        return -1;
    if (rc == 1) {
        if (strcmp(s, "open") == 0)
            p->members_only = 0;
        else if (strcmp(s, "members_only") == 0)
            p->members_only = 1;
        else
            return admin_bad(r, "field 'policy' must be \"open\" or \"members_only\"");
    }
    if (admin_get_bool(r, o, "has_prepay", &p->has_prepay) < 0 ||
        admin_get_bool(r, o, "suspended", &p->suspended) < 0)
        return -1;
    return parse_reason_msgs(r, o, p);
}

static void reply_park(struct req *r, int status, const char *park_id)
{
    struct store_park p;
    enum store_result sr = store_park_get(r->s, park_id, &p);

    if (sr != STORE_OK) {
        admin_store_error(r, sr, "park");
        return;
    }
    admin_committed(r, status, park_json(&p));
}

static void park_put_result(struct req *r, enum store_result sr, const struct store_park *p,
                            int status)
{
    if (sr == STORE_FOREIGN_KEY)
        admin_error(r, 400, "field 'union_id': unknown owning vendor %s", p->union_id);
    else if (sr == STORE_CONFLICT)
        admin_error(r, 409, "park %s already exists", p->park_id);
    else if (sr == STORE_NOT_FOUND)
        admin_error(r, 404, "no park with park_id %s", p->park_id);
    else if (sr != STORE_OK)
        admin_store_error(r, sr, "park");
    else
        reply_park(r, status, p->park_id);
}

void admin_parks_collection(struct req *r)
{
    static const char *const params[] = {"limit", "offset", "after", "union_id", NULL};
    struct store_park p = {0};
    struct store_query q = {0};
    struct list_acc a = {NULL, NULL};
    char uid[STORE_UNION_ID_MAX + 1];
    enum store_result sr;
    int64_t total = 0;

    if (strcmp(r->method, "GET") == 0) {
        if (admin_list_query(r, params, &q, 1, NULL) != 0)
            return;
        if (admin_param(r, "union_id") != NULL) {
            if (!admin_union_id_key(admin_param(r, "union_id"), uid)) {
                admin_error(r, 400, "query parameter 'union_id' must be 1-%d digits",
                            STORE_UNION_ID_MAX);
                return;
            }
            q.union_id = uid;
        }
        a.items = json_array();
        sr = store_park_list(r->s, &q, on_park_row, &a, &total);
        admin_send_list(r, sr, &a, &q, total);
        return;
    }
    if (strcmp(r->method, "POST") != 0) {
        admin_bad_method(r);
        return;
    }
    if (admin_park_id_field(r, r->body, "", "park_id", p.park_id) < 0 ||
        parse_park(r, r->body, &p, 1) != 0) {
        admin_error(r, 400, "%s", r->err);
        return;
    }
    if (p.park_id[0] == '\0') {
        admin_error(r, 400, "field 'park_id' is required");
        return;
    }
    park_put_result(
        r,
        admin_write(r->s,
                    &(struct admin_op){.kind = AW_PARK_PUT, .row.park = &p, .mode = STORE_INSERT}),
        &p, 201);
}

void admin_parks_item(struct req *r)
{
    struct store_park p = {0};
    enum store_result sr;
    int created = 0;

    if (!admin_park_id_ok(r->key, strlen(r->key))) {
        admin_error(r, 404, "no park with park_id '%s'", r->key);
        return;
    }
    if (strcmp(r->method, "GET") == 0) {
        sr = store_park_get(r->s, r->key, &p);
        if (sr == STORE_NOT_FOUND)
            admin_error(r, 404, "no park with park_id %s", r->key);
        else if (sr != STORE_OK)
            admin_store_error(r, sr, "park");
        else
            admin_send(r, 200, park_json(&p));
    } else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0) {
        int full = r->method[1] == 'U';
        char pid[STORE_PARK_ID_MAX + 1] = "";

        if (!full) {
            sr = store_park_get(r->s, r->key, &p);
            if (sr != STORE_OK) {
                if (sr == STORE_NOT_FOUND)
                    admin_error(r, 404, "no park with park_id %s", r->key);
                else
                    admin_store_error(r, sr, "park");
                return;
            }
        }
        if (admin_park_id_field(r, r->body, "", "park_id", pid) < 0 ||
            parse_park(r, r->body, &p, full) != 0) {
            admin_error(r, 400, "%s", r->err);
            return;
        }
        if (pid[0] != '\0' && strcmp(pid, r->key) != 0) {
            admin_error(r, 400, "field 'park_id' (%s) does not match the path (%s)", pid, r->key);
            return;
        }
        snprintf(p.park_id, sizeof(p.park_id), "%s", r->key);
        sr = admin_write(r->s, &(struct admin_op){.kind = AW_PARK_PUT,
                                                  .row.park = &p,
                                                  .mode = full ? STORE_UPSERT : STORE_UPDATE,
                                                  .created = &created});
        park_put_result(r, sr, &p, created ? 201 : 200);
    } else if (strcmp(r->method, "DELETE") == 0) {
        sr = admin_write(r->s, &(struct admin_op){.kind = AW_PARK_DELETE, .key = r->key});
        if (sr == STORE_NOT_FOUND)
            admin_error(r, 404, "no park with park_id %s", r->key);
        else if (sr != STORE_OK)
            admin_store_error(r, sr, "park");
        else
            admin_committed(r, 200, json_pack("{s:b,s:s}", "deleted", 1, "park_id", r->key));
    } else {
        admin_bad_method(r);
    }
}
