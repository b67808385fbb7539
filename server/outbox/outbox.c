/* outbox.c - preparing and enqueueing outgoing messages; the retry schedule; URL choice.
 *
 * The message body is built by libparklink (plk_client_prepare), the same code the CLI uses
 * to call a service row, so union_id placement, service_name and the signature follow the
 * one service table. Writing goes through the store's outbox sub-interface; waking the
 * delivery thread goes through delivery.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "outbox/delivery.h"
#include "outbox/longpoll.h"
#include "outbox/outbox.h"
#include "writer.h"
#include "outbox/sdk_http.h"
#include "outbox/sdk_session.h"
#include "parklink/client.h"
#include "registry.h"

/* spec 1.10: seconds before retry 1..10 */
static const int schedule_s[OUTBOX_MAX_ATTEMPTS - 1] = {10, 20, 30, 40, 50, 80, 120, 160, 200, 300};

int64_t outbox_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t outbox_retry_delay_ms(int failed, double scale)
{
    double ms;

    if (failed < 1 || failed >= OUTBOX_MAX_ATTEMPTS)
        return failed < 1 ? 0 : -1;
    ms = schedule_s[failed - 1] * 1000.0 * scale;
    return ms < 1.0 ? 1 : (int64_t)(ms + 0.5);
}

const char *outbox_choose_url(const char *override, const char *service_url, const char *unified)
{
    if (override != NULL && override[0])
        return override;
    if (service_url != NULL && service_url[0])
        return service_url;
    if (unified != NULL && unified[0])
        return unified;
    return NULL;
}

/* data.name as text (a string, or an integer) into out; "" when absent. */
static void field_text(const json_t *data, const char *name, char *out, size_t cap)
{
    const json_t *v = json_object_get(data, name);

    out[0] = '\0';
    if (json_is_string(v))
        snprintf(out, cap, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
}

enum plk_status outbox_prepare(const struct outbox_spec *spec, struct outbox_msg *out,
                               const struct plk_field **bad, char *detail, size_t detail_len)
{
    struct plk_client_request rq;
    struct store_outbox_msg *row = &out->row;
    enum plk_status st;

    memset(out, 0, sizeof *out);
    if (bad != NULL)
        *bad = NULL;
    if (spec->svc == NULL || spec->svc->dir != PLK_DIR_P2V || spec->union_id == NULL ||
        spec->data == NULL || !json_is_object(spec->data)) {
        snprintf(detail, detail_len, "not a platform-to-vendor message");
        return PLK_E_INVALID_ARG;
    }
    /* a callback row has no path: its URL is the vendor's, chosen at send time */
    st = plk_client_prepare(&rq, "", spec->svc, spec->union_id, spec->ukey, spec->data, NULL);
    if (st != PLK_OK) {
        if (bad != NULL)
            *bad = rq.bad_field;
        snprintf(detail, detail_len, "%s", rq.detail);
        plk_client_request_cleanup(&rq);
        return st;
    }
    out->body = rq.body;
    rq.body = NULL;
    plk_client_request_cleanup(&rq);

    snprintf(row->union_id, sizeof row->union_id, "%s", spec->union_id);
    field_text(spec->data, plk_service_field(spec->svc, "park_id") ? "park_id" : "comid",
               row->park_id, sizeof row->park_id);
    snprintf(row->service_name, sizeof row->service_name, "%s",
             spec->svc->service_name[0] ? spec->svc->service_name : spec->svc->id);
    row->kind = spec->svc->flags & PLK_SVC_QUESTION ? STORE_OUTBOX_QUESTION : STORE_OUTBOX_NOTICE;
    snprintf(row->url, sizeof row->url, "%s", spec->notify_url ? spec->notify_url : "");
    snprintf(row->origin, sizeof row->origin, "%s", spec->origin ? spec->origin : "");
    row->body = out->body;
    row->body_len = strlen(out->body);
    row->created = outbox_now_ms();
    return PLK_OK;
}

void outbox_msg_cleanup(struct outbox_msg *m)
{
    if (m == NULL)
        return;
    free(m->body);
    memset(m, 0, sizeof *m);
}

/* The store API takes rows; each prepared message's row points at its own body. */
static struct store_outbox_msg *rows_of(struct outbox_msg *m, size_t n)
{
    struct store_outbox_msg *rows = malloc((n ? n : 1) * sizeof *rows);

    if (rows == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        rows[i] = m[i].row;
        rows[i].body = m[i].body;
        rows[i].body_len = strlen(m[i].body);
    }
    return rows;
}

struct batch {
    struct store_outbox_msg *rows;
    size_t n;
};

static enum store_result write_rows(struct store_session *s, void *arg)
{
    struct batch *b = arg;

    return store_outbox_enqueue(s, b->rows, b->n);
}

/* Write m[0..n) in the transaction open on s (in_tx), or through the writer
 * (writer_run_sync, on s without one); created is the time of the write: the latency of a
 * delivery is measured from it. */
static enum store_result enqueue(struct store_session *s, int in_tx, struct outbox_msg *m, size_t n)
{
    struct batch b = {rows_of(m, n), n};
    int64_t now = outbox_now_ms();
    enum store_result r;

    if (b.rows == NULL)
        return STORE_ERROR;
    for (size_t i = 0; i < n; i++)
        b.rows[i].created = now;
    r = in_tx ? write_rows(s, &b) : writer_run_sync(s, write_rows, &b);
    for (size_t i = 0; r == STORE_OK && i < n; i++) {
        m[i].row.id = b.rows[i].id;
        m[i].row.state = b.rows[i].state;
        m[i].row.created = b.rows[i].created;
        m[i].row.next_at = b.rows[i].next_at;
    }
    free(b.rows);
    return r;
}

enum store_result outbox_enqueue(struct store_session *s, struct outbox_msg *m, size_t n)
{
    enum store_result r = enqueue(s, 0, m, n);

    for (size_t i = 0; r == STORE_OK && i < n; i++)
        if (i == 0 || strcmp(m[i].row.union_id, m[i - 1].row.union_id) != 0 ||
            strcmp(m[i].row.park_id, m[i - 1].row.park_id) != 0)
            outbox_committed(m[i].row.union_id, m[i].row.park_id);
    return r;
}

enum store_result outbox_enqueue_tx(struct store_session *s, struct outbox_msg *m, size_t n)
{
    return enqueue(s, 1, m, n);
}

void outbox_committed(const char *union_id, const char *park_id)
{
    delivery_notify(union_id, park_id);
}

/* A vendor's key changed, or a vendor or park went away: its SDK sessions end, and so do
 * the long-polls held under them. */
static void on_auth_change(void *arg, const struct snapshot *s)
{
    unsigned n;

    (void)arg;
    if ((n = sdk_session_revoke_stale(s, longpoll_on_session_ended, NULL)) > 0)
        log_info("sdk: %u session(s) ended: key changed, or vendor or park deleted", n);
}

int outbox_start(const struct config *cfg, struct store *st)
{
    struct delivery_options opt = {
        .store = st,
        .retry_scale = cfg->retry_scale,
        .timeout_ms = cfg->callback_timeout,
        .concurrency = cfg->delivery_concurrency,
        .retention_ms = (int64_t)cfg->outbox_retention * 1000,
    };

    struct sdk_session_limits lim = {
        .max = cfg->sdk_sessions_max,
        .per_vendor = cfg->sdk_sessions_per_vendor,
        .per_park = cfg->sdk_sessions_per_park,
        .idle_s = cfg->sdk_session_idle,
    };

    longpoll_init(cfg->longpoll_hold);
    sdk_http_init(cfg->body_max);
    sdk_session_init(&lim);
    registry_on_auth_change(on_auth_change, NULL);
    return delivery_start(&opt);
}

void outbox_stop(void)
{
    registry_on_auth_change(NULL, NULL);
    delivery_stop();
    sdk_session_cleanup();
}
