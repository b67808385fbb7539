/* queries.c - order history (spec 4.1) and the e-payment state of an order (4.3).
 *
 * Reads on the worker's own store session (readers.h), never through the writer: WAL lets
 * them run beside the group commit. 4.1 selects by park, order or plate, only among the parks
 * the caller owns; its period is at most one natural month (refused beyond), by default from
 * 00:00 China Standard Time today until now; pages of 20 by default, 100 at most. */
#include <stdlib.h>
#include <string.h>

#include "api/fields.h"
#include "api/handlers.h"
#include "api/texts.h"
#include "http_worker.h"
#include "store/store_orders.h"

#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100
#define PAGE_MAX 10000000

static int is_epay(const char *pay_type)
{
    return strcmp(pay_type, "wallet") == 0 || strcmp(pay_type, "sweepcode") == 0;
}

/* ---- 4.1 ---- */

static int history_row(void *arg, const struct store_order *o)
{
    char money[32];

    api_money_text(o->total_fen, money);
    json_array_append_new(arg, json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "car_number",
                                         o->car_number, "in_time", (json_int_t)o->in_time,
                                         "out_time", (json_int_t)o->out_time, "money", money,
                                         "union_name", o->union_name, "park_name", o->park_name,
                                         "trade_no", o->trade_no, "order_id", o->order_id,
                                         "park_id", o->park_id, "pay_type", o->pay_type));
    return 0;
}

enum api_result api_queries_orders(struct api_call *call)
{
    struct store_order_query q = {0};
    char plate[REGISTRY_PLATE_MAX + 1];
    int64_t start = 0, end = 0, page = 1, size = PAGE_SIZE_DEFAULT, total = 0;
    int has_start, has_end, has_plate;
    json_t *rows;
    enum store_result r;

    if ((has_plate = api_plate(call, "car_number", plate)) < 0 ||
        (has_start = api_time(call, "start_time", &start)) < 0 ||
        (has_end = api_time(call, "end_time", &end)) < 0 ||
        api_int(call, "page", 1, PAGE_MAX, &page) < 0 ||
        api_int(call, "size", 1, PAGE_SIZE_MAX, &size) < 0)
        return API_DONE;
    q.union_id = call->vendor->union_id;
    q.park_id = call->park ? call->park->park_id : NULL; /* the pipeline checked the owner */
    q.order_id = api_text(call, "order_id");
    q.car_number = has_plate ? plate : NULL;
    if (q.park_id == NULL && q.order_id == NULL && q.car_number == NULL)
        return api_refuse(call, "%s", MSG_SELECTOR);

    /* one stay named by park and order: found whatever its day, unless a period is given */
    if (!(q.park_id && q.order_id && !has_start && !has_end)) {
        if (!has_end)
            end = call->now;
        if (!has_start)
            start = api_cst_day_start(end);
        if (end < start)
            return api_refuse(call, "%s", MSG_WINDOW_ORDER);
        if (end > api_cst_month_after(start))
            return api_refuse(call, "%s(start_time %lld, end_time %lld)", MSG_WINDOW_MONTH,
                              (long long)start, (long long)end);
        q.from = start;
        q.until = end;
    }
    q.limit = size;
    q.offset = (page - 1) * size;

    rows = json_array();
    r = store_order_query(call->store, &q, history_row, rows, &total);
    if (r != STORE_OK) {
        json_decref(rows);
        pipeline_reply(call, 0, MSG_STORE_FAILED);
        return API_DONE;
    }
    if (pipeline_reply_json(call, 1, MSG_QUERY_OK, rows) == 0)
        api_reply_members(
            call, json_pack("{s:I,s:I}", "count", (json_int_t)total, "page", (json_int_t)page));
    return API_DONE;
}

/* ---- 4.3 ---- */

static int state_row(void *arg, const struct store_order *o)
{
    int epay = is_epay(o->pay_type);
    int paid = epay && o->state == STORE_ORDER_SETTLED;
    json_t *row = json_pack("{s:i,s:s,s:s}", "pay_state",
                            paid                             ? 1
                            : o->state == STORE_ORDER_PAYING ? 2
                                                             : 0,
                            "car_number", o->car_number, "order_id", o->order_id);

    if (epay) {
        json_object_set_new(row, "pay_type", json_string(o->pay_type));
        json_object_set_new(row, "pay_scene", json_string("outpay"));
    }
    json_object_set_new(row, "pay_channel", json_integer(o->pay_channel >= 0 ? o->pay_channel : 0));
    json_object_set_new(row, "in_time", json_integer(o->in_time));
    json_object_set_new(row, "out_time", json_integer(o->out_time));
    json_array_append_new(arg, row);
    return 0;
}

enum api_result api_queries_order_state(struct api_call *call)
{
    const char *order_id = api_text(call, "order_id");
    char plate[REGISTRY_PLATE_MAX + 1];
    json_t *rows;
    enum store_result r;
    int has_plate;

    if (json_object_get(call->env.data, "query_type") != NULL &&
        !json_is_null(json_object_get(call->env.data, "query_type"))) {
        /* monthly-card (3.3) and parking (3.4) payments by the vendor's trade_no */
        if (api_text(call, "trade_no") == NULL)
            return api_refuse(call, "字段 trade_no 缺失(指定 query_type 时必填)");
        return api_refuse(call, "%s", MSG_NO_PAYMENT);
    }
    if ((has_plate = api_plate(call, "car_number", plate)) < 0)
        return API_DONE;
    if (order_id == NULL)
        return api_refuse(call, "字段 order_id 缺失(未指定 query_type 时必填)");
    if (!has_plate)
        return api_refuse(call, "字段 car_number 缺失(未指定 query_type 时必填)");

    rows = json_array();
    r = store_order_get(call->store, call->park->park_id, order_id, state_row, rows);
    if (r == STORE_NOT_FOUND) {
        json_decref(rows);
        return api_refuse(call, "%s", MSG_NO_ORDER);
    }
    if (r != STORE_OK) {
        json_decref(rows);
        pipeline_reply(call, 0, MSG_STORE_FAILED);
        return API_DONE;
    }
    pipeline_reply_json(call, 1, MSG_QUERY_OK, rows);
    return API_DONE;
}
