/* published.c - what vendors publish about their parks: 2.1/2.2/2.5 park details, 2.3 lane QR
 * codes, 10.5 screen texts (store_orders.h).
 *
 * Only sql.h, in the portable dialect. 2.1 and 2.2 decide from the park's row, raise the
 * revision (whose row lock serialises park writers on every node) and decide again from a
 * fresh read before writing. An unknown park is found by the statement itself (INSERT ...
 * SELECT FROM parks), never by a failing foreign key. */
#include <stdio.h>
#include <string.h>

#include "store/sql.h"
#include "store/store_orders.h"

#define ACCOUNT_BASE 1000000 /* 2.1 username = ACCOUNT_BASE + park_details.id */
#define PUBLISH_TRIES 3      /* reads of a park a concurrent creator keeps changing */

static const char SQL_PARK_STATE[] =
    "SELECT p.union_id, p.total_plot, COALESCE(d.last_rand, ''), "
    "COALESCE(d.vendor_disabled, 0) FROM parks p LEFT JOIN park_details d "
    "ON d.park_id = p.park_id WHERE p.park_id = ?1";

static const char SQL_PARK_INSERT[] =
    "INSERT INTO parks (park_id, union_id, name, total_plot, empty_plot, created, updated, rev) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7) ON CONFLICT (park_id) DO NOTHING RETURNING rev";

static const char SQL_PARK_REPUBLISH[] =
    "UPDATE parks SET name = ?2, total_plot = ?3, empty_plot = ?4, "
    "suspended = CASE WHEN ?5 <> 0 THEN 0 ELSE suspended END, updated = ?6, rev = ?7 "
    "WHERE park_id = ?1";

static const char SQL_DETAIL_PUBLISH[] =
    "INSERT INTO park_details (park_id, published, address, city_id, phone, mobile, lng, lat, "
    "server_id, price_desc, remark, docking_type, last_rand, empty_plot, empty_plot_at, created, "
    "updated) VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, NULLIF(?8, -1), ?9, ?10, NULLIF(?11, -1), "
    "?12, ?13, ?14, ?14, ?14) ON CONFLICT (park_id) DO UPDATE SET published = 1, address = "
    "excluded.address, "
    "city_id = excluded.city_id, phone = excluded.phone, mobile = excluded.mobile, "
    "lng = excluded.lng, lat = excluded.lat, server_id = excluded.server_id, "
    "price_desc = excluded.price_desc, remark = excluded.remark, "
    "docking_type = excluded.docking_type, last_rand = excluded.last_rand, "
    "empty_plot = excluded.empty_plot, empty_plot_at = excluded.empty_plot_at, "
    "vendor_disabled = 0, updated = excluded.updated RETURNING id";

static const char SQL_PARK_PLOTS[] =
    "UPDATE parks SET total_plot = ?2, empty_plot = ?3, updated = ?4, rev = ?5 WHERE park_id = ?1";

static const char SQL_PARK_DISABLE[] =
    "UPDATE parks SET suspended = 1, updated = ?2, rev = ?3 WHERE park_id = ?1";

static const char SQL_DETAIL_UPDATE[] =
    "INSERT INTO park_details (park_id, last_rand, empty_plot, empty_plot_at, price_desc, phone, "
    "mobile, vendor_disabled, created, updated) VALUES (?1, ?2, NULLIF(?3, -1), ?4, ?5, ?6, ?7, "
    "?8, ?4, ?4) ON CONFLICT (park_id) DO UPDATE SET last_rand = excluded.last_rand, "
    "empty_plot = COALESCE(excluded.empty_plot, park_details.empty_plot), "
    "empty_plot_at = CASE WHEN excluded.empty_plot IS NULL THEN park_details.empty_plot_at "
    "ELSE excluded.empty_plot_at END, "
    "price_desc = COALESCE(excluded.price_desc, park_details.price_desc), "
    "phone = COALESCE(excluded.phone, park_details.phone), "
    "mobile = COALESCE(excluded.mobile, park_details.mobile), "
    "vendor_disabled = CASE WHEN excluded.vendor_disabled <> 0 THEN 1 "
    "ELSE park_details.vendor_disabled END, updated = excluded.updated";

static const char SQL_DETAIL_SMS[] =
    "INSERT INTO park_details (park_id, sms_verify, created, updated) "
    "SELECT park_id, ?2, ?3, ?3 FROM parks WHERE park_id = ?1 "
    "ON CONFLICT (park_id) DO UPDATE SET sms_verify = excluded.sms_verify, "
    "updated = excluded.updated RETURNING id";

/* 2.3 takes the park's row lock on PostgreSQL, so two nodes answer one lane with one code;
 * NO KEY: it does not hold up rows that merely reference the park. */
static const char *const SQL_QR_PARK[] = {
    [SQL_SQLITE] = "SELECT 1 FROM parks WHERE park_id = ?1",
    [SQL_POSTGRESQL] = "SELECT 1 FROM parks WHERE park_id = ?1 FOR NO KEY UPDATE",
};
static const char SQL_QR_ACTIVE[] =
    "SELECT id, created FROM qr_codes WHERE park_id = ?1 AND type = ?2 AND channel_id = ?3 "
    "AND active = 1 ORDER BY id DESC LIMIT 1";
static const char SQL_QR_RETIRE[] =
    "UPDATE qr_codes SET active = 0, retired = ?4 WHERE park_id = ?1 AND type = ?2 "
    "AND channel_id = ?3 AND active = 1";
static const char SQL_QR_INSERT[] =
    "INSERT INTO qr_codes (park_id, type, channel_id, message_uuid, data_target, device_no, "
    "created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id";
static const char SQL_QR_GET[] =
    "SELECT id, park_id, type, channel_id, active, created FROM qr_codes WHERE id = ?1";

static const char SQL_SCREEN_GET[] =
    "SELECT entry, leaving, exit, updated FROM screen_texts WHERE park_id = ?1";
static const char SQL_SCREEN_PUT[] =
    "INSERT INTO screen_texts (park_id, entry, leaving, exit, updated) "
    "SELECT park_id, ?2, ?3, ?4, ?5 FROM parks WHERE park_id = ?1 "
    "ON CONFLICT (park_id) DO UPDATE SET entry = excluded.entry, leaving = excluded.leaving, "
    "exit = excluded.exit, updated = excluded.updated RETURNING updated";
static const char SQL_SCREEN_DELETE[] =
    "DELETE FROM screen_texts WHERE park_id = ?1 RETURNING park_id";

/* An optional number: -1 (absent) is bound as -1 and stored as NULL by the statement's
 * NULLIF(?i, -1), so the parameter is an integer either way. */
static void bind_opt(struct sql_stmt *q, int i, int64_t v)
{
    sql_bind_int(q, i, v < 0 ? -1 : v);
}

static void read_int(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

/* ---- 2.1, 2.2, 2.5 ---- */

struct park_state {
    int exists, vendor_disabled;
    int64_t total_plot;
    char owner[STORE_UNION_ID_MAX + 1];
    char last_rand[64];
};

static void read_park_state(struct sql_stmt *q, void *out)
{
    struct park_state *ps = out;

    ps->exists = 1;
    sql_col_copy(q, 0, ps->owner, sizeof ps->owner);
    ps->total_plot = sql_col_int(q, 1);
    sql_col_copy(q, 2, ps->last_rand, sizeof ps->last_rand);
    ps->vendor_disabled = (int)sql_col_int(q, 3);
}

static enum store_result park_state(struct store_session *s, const char *park_id,
                                    struct park_state *ps)
{
    struct sql_stmt *q = sql_prepare(s, SQL_PARK_STATE);
    enum store_result r;

    memset(ps, 0, sizeof *ps);
    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, park_id);
    r = sql_one(q, "park state", read_park_state, ps);
    return r == STORE_NOT_FOUND ? STORE_OK : r;
}

/* 2.1's answer from the park as it stands: 1 with *out final (nothing to write), 0 to write
 * (*out CREATED or UPDATED). */
static int publish_decide(const struct park_state *ps, const struct store_park_publish *p,
                          enum store_park_outcome *out)
{
    if (ps->exists && strcmp(ps->owner, p->union_id) != 0)
        *out = STORE_PARK_FOREIGN;
    else if (ps->exists && ps->last_rand[0] && strcmp(ps->last_rand, p->rand) == 0)
        *out = STORE_PARK_REPLAY;
    else if (p->empty_plot > p->total_plot)
        *out = STORE_PARK_PLOTS;
    else {
        *out = ps->exists ? STORE_PARK_UPDATED : STORE_PARK_CREATED;
        return 0;
    }
    return 1;
}

/* The parks row of 2.1: STORE_NOT_FOUND when a new park's insert met one created meanwhile. */
static enum store_result publish_park(struct store_session *s, const struct store_park_publish *p,
                                      const struct park_state *ps, int64_t rev, int64_t now)
{
    struct sql_stmt *q = sql_prepare(s, ps->exists ? SQL_PARK_REPUBLISH : SQL_PARK_INSERT);
    int64_t got;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, p->park_id);
    if (ps->exists) {
        sql_bind_text(q, 2, p->name);
        sql_bind_int(q, 3, p->total_plot);
        sql_bind_int(q, 4, p->empty_plot);
        sql_bind_int(q, 5, ps->vendor_disabled); /* re-publishing undoes the vendor's 2.2 */
        sql_bind_int(q, 6, now);
        sql_bind_int(q, 7, rev);
        return sql_exec(q, "park republish");
    }
    sql_bind_text(q, 2, p->union_id);
    sql_bind_text(q, 3, p->name);
    sql_bind_int(q, 4, p->total_plot);
    sql_bind_int(q, 5, p->empty_plot);
    sql_bind_int(q, 6, now);
    sql_bind_int(q, 7, rev);
    return sql_one(q, "park insert", read_int, &got);
}

static enum store_result publish_details(struct store_session *s,
                                         const struct store_park_publish *p, int64_t now,
                                         int64_t *account)
{
    struct sql_stmt *q = sql_prepare(s, SQL_DETAIL_PUBLISH);
    enum store_result r;
    int64_t id = 0;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, p->park_id);
    sql_bind_text(q, 2, p->address);
    sql_bind_int(q, 3, p->city_id);
    sql_bind_text(q, 4, p->phone);
    sql_bind_text(q, 5, p->mobile ? p->mobile : p->phone); /* security phone defaults to it */
    sql_bind_text(q, 6, p->lng);
    sql_bind_text(q, 7, p->lat);
    bind_opt(q, 8, p->server_id);
    sql_bind_text(q, 9, p->price_desc);
    sql_bind_text(q, 10, p->remark);
    bind_opt(q, 11, p->docking_type);
    sql_bind_text(q, 12, p->rand);
    sql_bind_int(q, 13, p->empty_plot);
    sql_bind_int(q, 14, now);
    r = sql_one(q, "park details publish", read_int, &id);
    if (r == STORE_OK)
        *account = ACCOUNT_BASE + id;
    return r == STORE_NOT_FOUND ? STORE_ERROR : r;
}

enum store_result store_park_publish(struct store_session *s, const struct store_park_publish *p,
                                     enum store_park_outcome *out, int64_t *account)
{
    struct park_state ps;
    int64_t now = sql_now_s(), rev = 0;
    int own, bumped = 0, tries = 0;
    enum store_result r = sql_tx_begin(s, STORE_TX_WRITE, &own);

    if (r != STORE_OK)
        return r;
    for (;;) {
        if ((r = park_state(s, p->park_id, &ps)) != STORE_OK || publish_decide(&ps, p, out))
            goto out;
        if (!bumped) { /* decide again under the revision's lock: another node may have won */
            if ((r = sql_bump_revision(s, &rev)) != STORE_OK)
                goto out;
            bumped = 1;
            continue;
        }
        r = publish_park(s, p, &ps, rev, now);
        if (r != STORE_NOT_FOUND || ++tries == PUBLISH_TRIES)
            break;
    }
    if (r == STORE_NOT_FOUND)
        r = STORE_BUSY;
    if (r == STORE_OK)
        r = publish_details(s, p, now, account);
out:
    return sql_tx_end(s, own, r);
}

/* 2.2's answer from the park as it stands, like publish_decide. */
static int update_decide(const struct park_state *ps, const struct store_park_update *u,
                         enum store_park_outcome *out)
{
    int64_t total = u->total_plot >= 0 ? u->total_plot : ps->total_plot;

    if (!ps->exists)
        *out = STORE_PARK_UNKNOWN;
    else if (strcmp(ps->owner, u->union_id) != 0)
        *out = STORE_PARK_FOREIGN;
    else if (ps->last_rand[0] && strcmp(ps->last_rand, u->rand) == 0)
        *out = STORE_PARK_REPLAY;
    else if (u->type == 1 && u->empty_plot > total)
        *out = STORE_PARK_PLOTS;
    else {
        *out = STORE_PARK_UPDATED;
        return 0;
    }
    return 1;
}

static enum store_result update_park(struct store_session *s, const struct store_park_update *u,
                                     const struct park_state *ps, int64_t rev, int64_t now)
{
    struct sql_stmt *q = sql_prepare(s, u->type == 2 ? SQL_PARK_DISABLE : SQL_PARK_PLOTS);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, u->park_id);
    if (u->type == 2) {
        sql_bind_int(q, 2, now);
        sql_bind_int(q, 3, rev);
        return sql_exec(q, "park disable");
    }
    sql_bind_int(q, 2, u->total_plot >= 0 ? u->total_plot : ps->total_plot);
    sql_bind_int(q, 3, u->empty_plot);
    sql_bind_int(q, 4, now);
    sql_bind_int(q, 5, rev);
    return sql_exec(q, "park plots");
}

static enum store_result update_details(struct store_session *s, const struct store_park_update *u,
                                        int64_t now)
{
    struct sql_stmt *q = sql_prepare(s, SQL_DETAIL_UPDATE);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, u->park_id);
    sql_bind_text(q, 2, u->rand);
    bind_opt(q, 3, u->type == 1 ? u->empty_plot : -1);
    sql_bind_int(q, 4, now);
    sql_bind_text(q, 5, u->type == 1 ? u->price_desc : NULL);
    sql_bind_text(q, 6, u->phone);
    sql_bind_text(q, 7, u->mobile);
    sql_bind_int(q, 8, u->type == 2);
    return sql_exec(q, "park details update");
}

enum store_result store_park_update(struct store_session *s, const struct store_park_update *u,
                                    enum store_park_outcome *out)
{
    struct park_state ps;
    int64_t now = sql_now_s(), rev = 0;
    int own;
    enum store_result r = sql_tx_begin(s, STORE_TX_WRITE, &own);

    if (r != STORE_OK)
        return r;
    if ((r = park_state(s, u->park_id, &ps)) != STORE_OK || update_decide(&ps, u, out))
        goto out;
    /* decide again under the revision's lock: another node may have changed the park */
    if ((r = sql_bump_revision(s, &rev)) != STORE_OK)
        goto out;
    if ((r = park_state(s, u->park_id, &ps)) != STORE_OK || update_decide(&ps, u, out))
        goto out;
    if ((r = update_park(s, u, &ps, rev, now)) == STORE_OK)
        r = update_details(s, u, now);
out:
    return sql_tx_end(s, own, r);
}

enum store_result store_park_sms(struct store_session *s, const char *park_id, int is_verify)
{
    struct sql_stmt *q = sql_prepare(s, SQL_DETAIL_SMS);
    int64_t id;

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, park_id);
    sql_bind_int(q, 2, is_verify);
    sql_bind_int(q, 3, sql_now_s());
    return sql_one(q, "park sms", read_int, &id); /* no row: no such park */
}

/* ---- 2.3 ---- */

static void read_qr_active(struct sql_stmt *q, void *out)
{
    struct store_qr *qr = out;

    qr->id = sql_col_int(q, 0);
    qr->created = sql_col_int(q, 1);
}

/* Binds ?1..?3 of the lane statements: park, type, lane. */
static struct sql_stmt *lane_stmt(struct store_session *s, const char *sql,
                                  const struct store_qr_request *rq)
{
    struct sql_stmt *q = sql_prepare(s, sql);

    if (q == NULL)
        return NULL;
    sql_bind_text(q, 1, rq->park_id);
    sql_bind_int(q, 2, rq->type);
    sql_bind_text(q, 3, rq->channel_id);
    return q;
}

enum store_result store_qr_issue(struct store_session *s, const struct store_qr_request *rq,
                                 struct store_qr *out)
{
    int64_t now = sql_now_s();
    struct sql_stmt *q;
    int own;
    enum store_result r = sql_tx_begin(s, STORE_TX_WRITE, &own);

    if (r != STORE_OK)
        return r;
    memset(out, 0, sizeof *out);
    snprintf(out->park_id, sizeof out->park_id, "%s", rq->park_id);
    snprintf(out->channel_id, sizeof out->channel_id, "%s", rq->channel_id);
    out->type = rq->type;
    out->active = 1;
    if ((q = sql_prepare(s, SQL_QR_PARK[sql_dialect(s)])) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    sql_bind_text(q, 1, rq->park_id);
    if ((r = sql_one(q, "qr park", NULL, NULL)) != STORE_OK)
        goto out; /* STORE_NOT_FOUND: no such park */
    if (!rq->create) {
        if ((q = lane_stmt(s, SQL_QR_ACTIVE, rq)) == NULL) {
            r = STORE_ERROR;
            goto out;
        }
        r = sql_one(q, "qr lookup", read_qr_active, out);
        if (r != STORE_NOT_FOUND)
            goto out; /* the lane's code, or a failure */
    } else if (rq->change) {
        if ((q = lane_stmt(s, SQL_QR_RETIRE, rq)) == NULL) {
            r = STORE_ERROR;
            goto out;
        }
        sql_bind_int(q, 4, now);
        if ((r = sql_exec(q, "qr retire")) != STORE_OK)
            goto out;
    }
    if ((q = lane_stmt(s, SQL_QR_INSERT, rq)) == NULL) {
        r = STORE_ERROR;
        goto out;
    }
    sql_bind_text(q, 4, rq->message_uuid);
    sql_bind_text(q, 5, rq->data_target);
    sql_bind_text(q, 6, rq->device_no);
    sql_bind_int(q, 7, now);
    r = sql_one(q, "qr insert", read_int, &out->id);
    if (r == STORE_NOT_FOUND)
        r = STORE_ERROR;
    out->created = now;
out:
    return sql_tx_end(s, own, r);
}

static void read_qr(struct sql_stmt *q, void *out)
{
    struct store_qr *qr = out;

    qr->id = sql_col_int(q, 0);
    sql_col_copy(q, 1, qr->park_id, sizeof qr->park_id);
    qr->type = (int)sql_col_int(q, 2);
    sql_col_copy(q, 3, qr->channel_id, sizeof qr->channel_id);
    qr->active = (int)sql_col_int(q, 4);
    qr->created = sql_col_int(q, 5);
}

enum store_result store_qr_get(struct store_session *s, int64_t id, struct store_qr *out)
{
    struct sql_stmt *q = sql_prepare(s, SQL_QR_GET);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_int(q, 1, id);
    return sql_one(q, "qr get", read_qr, out);
}

/* ---- 10.5 ---- */

static void read_screen(struct sql_stmt *q, void *out)
{
    struct store_screen *scr = out;

    for (int i = 0; i < 3; i++)
        sql_col_copy(q, i, scr->text[i], sizeof scr->text[i]);
    scr->updated = sql_col_int(q, 3);
}

enum store_result store_screen_get(struct store_session *s, const char *park_id,
                                   struct store_screen *out)
{
    struct sql_stmt *q = sql_prepare(s, SQL_SCREEN_GET);
    enum store_result r;

    memset(out, 0, sizeof *out);
    snprintf(out->park_id, sizeof out->park_id, "%s", park_id);
    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, park_id);
    r = sql_one(q, "screen get", read_screen, out);
    return r == STORE_NOT_FOUND ? STORE_OK : r; /* no texts: the defaults */
}

enum store_result store_screen_put(struct store_session *s, struct store_screen *scr)
{
    struct sql_stmt *q = sql_prepare(s, SQL_SCREEN_PUT);
    enum store_result r;
    int64_t updated;

    if (q == NULL)
        return STORE_ERROR;
    scr->updated = sql_now_s();
    sql_bind_text(q, 1, scr->park_id);
    for (int i = 0; i < 3; i++)
        sql_bind_text(q, i + 2, scr->text[i]);
    sql_bind_int(q, 5, scr->updated);
    r = sql_one(q, "screen put", read_int, &updated);
    return r == STORE_NOT_FOUND ? STORE_FOREIGN_KEY : r; /* no row: no such park */
}

enum store_result store_screen_delete(struct store_session *s, const char *park_id)
{
    struct sql_stmt *q = sql_prepare(s, SQL_SCREEN_DELETE);

    if (q == NULL)
        return STORE_ERROR;
    sql_bind_text(q, 1, park_id);
    return sql_one(q, "screen delete", NULL, NULL); /* no row: the park had none */
}
