/* orders.c - entries and exits (spec 3.1, 3.2) and escaped orders (3.8).
 *
 * 3.1 and 3.2 are the platform's busiest writes: each is checked here, copied into a job and
 * group-committed by the writer (api/jobs.h), and answered once durable. Both are idempotent
 * on (park_id, order_id): a repeated entry answers 订单已存在 and writes nothing; an exit may
 * be re-sent until the order is settled, and a settled order never changes, so money is
 * counted once (docs/orders.md). The 3.1 reply and 3.8 list the car's unpaid escaped orders
 * from every park, read in the same transaction as the entry for 3.1. */
#include <stdlib.h>
#include <string.h>

#include "api/fields.h"
#include "api/handlers.h"
#include "api/jobs.h"
#include "api/texts.h"
#include "http_worker.h"
#include "outbox/notices.h"
#include "store/store_orders.h"

#define ESCAPES_MAX 100 /* escaped orders listed in one reply */

struct entry_job {
    struct api_job job;
    struct store_entry e;
    char plate[REGISTRY_PLATE_MAX + 1];
    enum store_entry_outcome outcome;
    enum store_result r;
    json_t *escapes;
    struct outbox_msg *notice; /* 5.2 for a new entry, written with it (outbox/notices.h) */
};

struct exit_job {
    struct api_job job;
    struct store_exit x;
    char plate[REGISTRY_PLATE_MAX + 1];
    enum store_exit_outcome outcome;
    int created;
    enum store_result r;
};

/* One escapeOrder element (keys and types of the 3.8 table: camelCase, money a string). */
static int escape_row(void *arg, const struct store_order *o)
{
    json_t *list = arg;
    char money[32], duration[64];

    if (json_array_size(list) >= ESCAPES_MAX)
        return 1;
    api_money_text(o->total_fen, money);
    api_duration_text(o->out_time - o->in_time, duration, sizeof duration);
    json_array_append_new(
        list,
        json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "parkName", o->park_name,
                  "unionId", (json_int_t)strtoll(o->union_id, NULL, 10), "orderId", o->order_id,
                  "inParkPic", o->inpark_img, "outParkPic", o->outpark_img, "parkId", o->park_id,
                  "carNumber", o->car_number, "inTime", (json_int_t)o->in_time, "outTime",
                  (json_int_t)o->out_time, "money", money, "duration", duration));
    return 0;
}

/* The car's unpaid escapes, at most ESCAPES_MAX (a full list is not an error). */
static enum store_result list_escapes(struct store_session *s, const char *plate, json_t *list)
{
    enum store_result r = store_escapes(s, plate, escape_row, list);

    return r == STORE_ABORTED ? STORE_OK : r;
}

/* A failed write: the store's reason when it is the caller's, else a retry hint. */
static void reply_failed(struct api_call *call, const struct api_job *j, enum store_result r)
{
    if (j->w.status == WRITER_REJECTED && r == STORE_FOREIGN_KEY)
        pipeline_reply(call, 0, plk_errmsg(PLK_E_UNKNOWN_PARK));
    else
        pipeline_reply(call, 0, api_job_failed_msg(j, r));
}

/* ---- 3.1 entry ---- */

static int entry_run(struct writer_job *w, struct store_session *s)
{
    struct entry_job *j = (struct entry_job *)w;

    j->r = store_entry_put(s, &j->e, &j->outcome);
    if (j->r == STORE_OK)
        j->r = list_escapes(s, j->e.car_number, j->escapes);
    /* spec 5.2: the park's vendor hears of the plate's auto-pay status, in this transaction */
    if (j->r == STORE_OK && j->outcome == STORE_ENTRY_NEW && j->notice != NULL)
        j->r = outbox_enqueue_tx(s, j->notice, 1);
    return j->r != STORE_OK;
}

static void entry_done(struct writer_job *w)
{
    struct entry_job *j = (struct entry_job *)w;
    struct api_call *call = j->job.call;

    if (call != NULL && w->status != WRITER_COMMITTED) {
        reply_failed(call, &j->job, j->r);
    } else if (call != NULL) {
        pipeline_reply(call, 1,
                       j->outcome == STORE_ENTRY_DUPLICATE ? MSG_ORDER_EXISTS : MSG_UPLOADED);
        api_reply_members(
            call, json_pack("{s:s,s:O}", "order_id", j->e.order_id, "escapeOrder", j->escapes));
    }
    if (w->status == WRITER_COMMITTED && j->outcome == STORE_ENTRY_NEW && j->notice != NULL)
        outbox_committed(j->notice->row.union_id, j->notice->row.park_id);
    notices_free(j->notice);
    json_decref(j->escapes);
    api_job_finish(&j->job);
}

enum api_result api_orders_entry(struct api_call *call)
{
    struct entry_job *j;
    char plate[REGISTRY_PLATE_MAX + 1];
    int64_t in_time = 0, empty = 0, color = 0, cost = 0, report = -1;

    if (api_plate(call, "car_number", plate) < 0 || api_time(call, "in_time", &in_time) < 0 ||
        api_int(call, "empty_plot", 0, 10000000, &empty) < 0 ||
        api_int(call, "license_color", 0, 7, &color) < 0 ||
        api_int(call, "car_cost_type", 1, 7, &cost) < 0 ||
        api_int(call, "is_report", 0, 1, &report) < 0)
        return API_DONE;

    j = api_job_new(call, sizeof *j, entry_run, entry_done);
    memcpy(j->plate, plate, sizeof plate);
    j->e.park_id = api_job_dup(&j->job, call->park->park_id);
    j->e.union_id = api_job_dup(&j->job, call->vendor->union_id);
    j->e.order_id = api_job_text(&j->job, "order_id");
    j->e.car_number = j->plate;
    j->e.color = (int)color;
    j->e.in_time = in_time;
    j->e.empty_plot = empty;
    j->e.remark = api_job_text(&j->job, "remark");
    j->e.inpark_img = api_job_text(&j->job, "inpark_img");
    j->e.uid = api_job_text(&j->job, "uid");
    j->e.uname = api_job_text(&j->job, "uname");
    j->e.in_channel_id = api_job_text(&j->job, "in_channel_id");
    j->e.car_cost_type = (int)cost;
    j->e.is_report = (int)report;
    j->escapes = json_array();
    j->notice = notices_car_owner(call->vendor, j->e.park_id, j->e.order_id, j->plate);
    return api_job_submit(&j->job);
}

/* ---- 3.2 exit ---- */

static int exit_run(struct writer_job *w, struct store_session *s)
{
    struct exit_job *j = (struct exit_job *)w;

    j->r = store_exit_put(s, &j->x, &j->outcome, &j->created);
    return j->r != STORE_OK;
}

static void exit_done(struct writer_job *w)
{
    struct exit_job *j = (struct exit_job *)w;
    struct api_call *call = j->job.call;

    if (call == NULL) {
        /* the client is gone; the record stands */
    } else if (w->status != WRITER_COMMITTED) {
        reply_failed(call, &j->job, j->r);
    } else {
        switch (j->outcome) {
        case STORE_EXIT_SETTLED:
        case STORE_EXIT_ESCAPED:
            pipeline_reply(call, 1, MSG_UPLOADED);
            break;
        case STORE_EXIT_PAYING:
            pipeline_reply(call, 2, MSG_PAYING);
            break;
        case STORE_EXIT_REPEATED:
            pipeline_reply(call, 1, MSG_ORDER_SETTLED);
            break;
        case STORE_EXIT_CONFLICT:
            pipeline_reply(call, 0, MSG_ORDER_SETTLED_OTHER);
            break;
        case STORE_EXIT_BEFORE_ENTRY:
            pipeline_reply(call, 0, MSG_EXIT_BEFORE_ENTRY);
            break;
        }
        api_reply_members(call, json_pack("{s:s}", "order_id", j->x.order_id));
    }
    api_job_finish(&j->job);
}

/* remark: kept as its JSON text (a string as itself); its pay_channel, when it has one. */
static const char *exit_remark(struct exit_job *j, const json_t *v, int *pay_channel)
{
    const json_t *pc = json_object_get(v, "pay_channel");
    char *text;
    const char *out;

    *pay_channel = -1;
    if (v == NULL || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return api_job_dup(&j->job, json_string_value(v));
    if (json_is_integer(pc) && json_integer_value(pc) >= 0 && json_integer_value(pc) <= 3)
        *pay_channel = (int)json_integer_value(pc);
    else if (json_is_string(pc) && strlen(json_string_value(pc)) == 1 &&
             strchr("0123", json_string_value(pc)[0]) != NULL)
        *pay_channel = json_string_value(pc)[0] - '0';
    text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    out = api_job_dup(&j->job, text);
    free(text);
    return out;
}

enum api_result api_orders_exit(struct api_call *call)
{
    struct exit_job *j;
    char plate[REGISTRY_PLATE_MAX + 1];
    int64_t in_time = 0, out_time = 0, empty = -1, color = -1, total = 0, reduce = -1;
    int64_t derate = -1, report = -1;
    const char *pay_type;

    if (api_plate(call, "car_number", plate) < 0 || api_time(call, "in_time", &in_time) < 0 ||
        api_time(call, "out_time", &out_time) < 0 ||
        api_int(call, "empty_plot", 0, 10000000, &empty) < 0 ||
        api_int(call, "license_color", 0, 7, &color) < 0 || api_money(call, "total", &total) < 0 ||
        api_money(call, "reduce_amount", &reduce) < 0 ||
        api_int(call, "derate_duration", 0, 100000000, &derate) < 0 ||
        api_int(call, "is_report", 0, 1, &report) < 0)
        return API_DONE;
    if (in_time > 0 && out_time < in_time)
        return api_refuse(call, "%s(out_time %lld < in_time %lld)", MSG_EXIT_BEFORE_ENTRY,
                          (long long)out_time, (long long)in_time);
    /* an open enum (lib/services.def): any text the schema let through, a number as its
     * digits; what is not wallet/sweepcode/escape settles as a non-electronic exit */
    if ((pay_type = api_text(call, "pay_type")) == NULL)
        return api_refuse(call, "字段 pay_type %s", plk_field_errmsg(PLK_E_FIELD_MISSING));
    if (strcmp(pay_type, "sweepcode") == 0 && api_text(call, "auth_code") == NULL)
        return api_refuse(call, "字段 auth_code 缺失(pay_type 为 sweepcode 时必填)");

    j = api_job_new(call, sizeof *j, exit_run, exit_done);
    memcpy(j->plate, plate, sizeof plate);
    j->x.park_id = api_job_dup(&j->job, call->park->park_id);
    j->x.union_id = api_job_dup(&j->job, call->vendor->union_id);
    j->x.order_id = api_job_text(&j->job, "order_id");
    j->x.car_number = j->plate;
    j->x.color = (int)color;
    j->x.in_time = in_time;
    j->x.out_time = out_time;
    j->x.pay_type = api_job_dup(&j->job, pay_type);
    j->x.empty_plot = empty;
    j->x.total_fen = total;
    j->x.auth_code = api_job_text(&j->job, "auth_code");
    j->x.remark = exit_remark(j, json_object_get(call->env.data, "remark"), &j->x.pay_channel);
    j->x.outpark_img = api_job_text(&j->job, "outpark_img");
    j->x.out_channel_id = api_job_text(&j->job, "out_channel_id");
    j->x.reduce_fen = reduce;
    j->x.derate_duration = derate;
    j->x.freereasons = api_job_text(&j->job, "freereasons");
    j->x.work_station_uuid = api_job_text(&j->job, "work_station_uuid");
    j->x.out_uid = api_job_text(&j->job, "out_uid");
    j->x.out_uname = api_job_text(&j->job, "out_uname");
    j->x.is_report = (int)report;
    return api_job_submit(&j->job);
}

/* ---- 3.8 escaped orders ---- */

enum api_result api_orders_escapes(struct api_call *call)
{
    char plate[REGISTRY_PLATE_MAX + 1];
    json_t *list;
    enum store_result r;

    if (api_plate(call, "car_number", plate) < 0)
        return API_DONE;
    list = json_array();
    r = list_escapes(call->store, plate, list);
    if (r != STORE_OK) {
        json_decref(list);
        pipeline_reply(call, 0, MSG_STORE_FAILED);
        return API_DONE;
    }
    pipeline_reply(call, 1, MSG_QUERY_OK);
    api_reply_members(call, json_pack("{s:o}", "escapeOrder", list));
    return API_DONE;
}
