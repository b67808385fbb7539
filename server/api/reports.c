/* reports.c - the data-report uplinks on neworder/uploadData that live on parking records:
 * correct a record (spec 10.1), the stays the platform believes open (10.2, 10.3), the lane
 * screen text (10.5) and the park's monthly cards (10.6).
 *
 * 10.1 writes through the group-commit writer and keeps the old values for audit; the others
 * read on the worker's own store session. 10.5's text is built from the order (plate, stay,
 * fee) and the operator's per-park text (admin API /screen-texts), or a default greeting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fields.h"
#include "api/handlers.h"
#include "api/jobs.h"
#include "api/texts.h"
#include "http_worker.h"
#include "store/store_orders.h"

#define CARD_PAGE_MAX 1000

struct correct_job {
    struct api_job job;
    struct store_correction c;
    char plate[REGISTRY_PLATE_MAX + 1];
    enum store_correct_outcome outcome;
    enum store_result r;
};

/* ---- 10.1 correct_business ---- */

static int correct_run(struct writer_job *w, struct store_session *s)
{
    struct correct_job *j = (struct correct_job *)w;

    j->r = store_order_correct(s, &j->c, &j->outcome);
    return j->r != STORE_OK;
}

static void correct_done(struct writer_job *w)
{
    struct correct_job *j = (struct correct_job *)w;
    struct api_call *call = j->job.call;

    if (call == NULL) {
        /* gone */
    } else if (w->status != WRITER_COMMITTED) {
        pipeline_reply(call, 0, MSG_STORE_FAILED);
    } else {
        switch (j->outcome) {
        case STORE_CORRECT_DONE:
            pipeline_reply(call, 1, MSG_UPLOADED);
            break;
        case STORE_CORRECT_NO_ORDER:
            pipeline_reply(call, 0, MSG_NO_ORDER);
            break;
        case STORE_CORRECT_INSIDE:
            pipeline_reply(call, 0, MSG_STILL_INSIDE);
            break;
        case STORE_CORRECT_TIMES:
            pipeline_reply(call, 0, MSG_EXIT_BEFORE_ENTRY);
            break;
        }
    }
    api_job_finish(&j->job);
}

enum api_result api_reports_correct(struct api_call *call)
{
    struct correct_job *j;
    char plate[REGISTRY_PLATE_MAX + 1];
    int64_t type = pipeline_int(call, "type", 0), color = -1, in = 0, out = 0, total = -1;

    if (api_plate(call, "car_number", plate) < 0 ||
        api_int(call, "license_color", 0, 7, &color) < 0 || api_time(call, "in_time", &in) < 0 ||
        api_time(call, "out_time", &out) < 0 || api_money(call, "total", &total) < 0)
        return API_DONE;
    if (type != 1 && in == 0 && out == 0 && total < 0)
        return api_refuse(call, "type 为 %lld 时 in_time、out_time、total 至少填写一项",
                          (long long)type);
    if (type != 1 && in > 0 && out > 0 && out < in)
        return api_refuse(call, "%s", MSG_EXIT_BEFORE_ENTRY);

    j = api_job_new(call, sizeof *j, correct_run, correct_done);
    memcpy(j->plate, plate, sizeof plate);
    j->c.park_id = api_job_dup(&j->job, call->park->park_id);
    j->c.union_id = api_job_dup(&j->job, call->vendor->union_id);
    j->c.order_id = api_job_text(&j->job, "order_id");
    j->c.type = (int)type;
    j->c.car_number = j->plate;
    j->c.color = (int)color;
    j->c.in_time = in;
    j->c.out_time = out;
    j->c.total_fen = total;
    j->c.park_business_type = api_job_text(&j->job, "park_business_type");
    j->c.leave_business_type = api_job_text(&j->job, "leave_business_type");
    return api_job_submit(&j->job);
}

/* ---- 10.2 / 10.3 open stays ---- */

enum api_result api_reports_open_count(struct api_call *call)
{
    int64_t n = 0;

    if (store_open_count(call->store, call->park->park_id, &n) != STORE_OK) {
        pipeline_reply(call, 0, MSG_STORE_FAILED);
        return API_DONE;
    }
    pipeline_reply_json(call, 1, MSG_QUERY_OK,
                        json_pack("{s:I}", "parking_business_count", (json_int_t)n));
    return API_DONE;
}

/* 10.3 park_order_type: the corrected arrival kind (10.1), else from the entry's vehicle
 * category: monthly 12, whitelist / guest / VIP / internal 15 (special), else 11 (normal). */
static const char *order_type(const struct store_order *o)
{
    if (o->park_business_type[0] != '\0')
        return o->park_business_type;
    switch (o->car_cost_type) {
    case 2:
        return "12";
    case 3:
    case 5:
    case 6:
    case 7:
        return "15";
    default:
        return "11";
    }
}

static int open_id_row(void *arg, const struct store_order *o)
{
    json_array_append_new(arg, json_string(o->order_id));
    return 0;
}

static int open_detail_row(void *arg, const struct store_order *o)
{
    char when[20], color[4];

    api_cst_datetime(o->in_time, when);
    snprintf(color, sizeof color, "%d", o->color);
    json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:s,s:s}", "order_id", o->order_id,
                                         "in_time", when, "car_number", o->car_number,
                                         "license_color", color, "park_order_type", order_type(o)));
    return 0;
}

enum api_result api_reports_open_list(struct api_call *call)
{
    int detail = pipeline_int(call, "detail_type", 1) == 2;
    json_t *list = json_array();

    if (store_open_list(call->store, call->park->park_id, detail ? open_detail_row : open_id_row,
                        list) != STORE_OK) {
        json_decref(list);
        pipeline_reply(call, 0, MSG_STORE_FAILED);
        return API_DONE;
    }
    pipeline_reply_json(
        call, 1, MSG_QUERY_OK,
        json_pack("{s:o}", detail ? "order_detail_list" : "ext_order_id_list", list));
    return API_DONE;
}

/* ---- 10.5 lane screen text ---- */

struct stay {
    int found;
    char plate[REGISTRY_PLATE_MAX + 1];
    int64_t in_time, out_time, total_fen;
    int state;
};

static int stay_row(void *arg, const struct store_order *o)
{
    struct stay *s = arg;

    s->found = 1;
    snprintf(s->plate, sizeof s->plate, "%s", o->car_number);
    s->in_time = o->in_time;
    s->out_time = o->out_time;
    s->total_fen = o->total_fen;
    s->state = o->state;
    return 0;
}

enum api_result api_reports_screen(struct api_call *call)
{
    static const char *const greeting[3] = {"欢迎光临", "请准备出场", "一路顺风"};
    struct store_session *ses = call->store;
    const char *order_id = api_text(call, "order_id");
    int type = (int)pipeline_int(call, "type", 1);
    struct store_screen sc;
    struct stay s = {0};
    char text[1024], part[96];
    size_t n = 0;
    enum store_result r;

    if (type < 1 || type > 3)
        type = 1;
    r = store_screen_get(ses, call->park->park_id, &sc);
    if (r == STORE_OK && order_id != NULL) {
        r = store_order_get(ses, call->park->park_id, order_id, stay_row, &s);
        if (r == STORE_NOT_FOUND)
            r = STORE_OK; /* an unknown order still gets the park's text */
    }
    if (r != STORE_OK) {
        pipeline_reply(call, 0, MSG_STORE_FAILED);
        return API_DONE;
    }
    text[0] = '\0';
    if (s.found) {
        n += (size_t)snprintf(text + n, sizeof text - n, "%s ", s.plate);
        if (type > 1) {
            int64_t until = s.out_time > 0 ? s.out_time : call->now;
            api_duration_text(until - s.in_time, part, sizeof part);
            n += (size_t)snprintf(text + n, sizeof text - n, "停车%s ", part);
            if (s.out_time > 0 && s.state != STORE_ORDER_CLOSED_ZERO) {
                api_money_text(s.total_fen, part);
                n += (size_t)snprintf(text + n, sizeof text - n, "%s%s元 ",
                                      s.state == STORE_ORDER_PAYING    ? "应缴"
                                      : s.state == STORE_ORDER_ESCAPED ? "欠费"
                                                                       : "缴费",
                                      part);
            }
        }
    }
    snprintf(text + n, sizeof text - n, "%s",
             sc.text[type - 1][0] ? sc.text[type - 1] : greeting[type - 1]);
    pipeline_reply(call, 1, MSG_OK);
    api_reply_members(call, json_pack("{s:s}", "screen_str", text));
    return API_DONE;
}

/* ---- 10.6 monthly cards ---- */

struct card_page {
    json_t *list;
    int type;
};

static int card_row(void *arg, const struct store_card *c)
{
    struct card_page *p = arg;
    char plate_type[4];
    json_t *row;

    snprintf(plate_type, sizeof plate_type, "%d", c->color);
    row = json_pack("{s:I,s:s}", "vipId", (json_int_t)c->id, "parkpotId", c->park_id);
    if (p->type == 2) {
        json_object_set_new(row, "comanyId", json_string(c->company_id));
        json_object_set_new(row, "comanyName", json_string(c->company_name));
    }
    json_object_set_new(row, "plateNo", json_string(c->plate));
    json_object_set_new(row, "plateType", json_string(plate_type));
    json_object_set_new(row, "vipStartDateStr", json_string(c->valid_from));
    json_object_set_new(row, "vipEndDateStr", json_string(c->valid_until));
    json_object_set_new(row, "isRegion", json_string(c->region_id[0] ? "1" : "0"));
    if (c->region_id[0])
        json_object_set_new(row, "regionId", json_string(c->region_id));
    json_object_set_new(row, "isDayparking", json_string(c->rule_id_sub[0] ? "1" : "0"));
    if (c->rule_id_sub[0])
        json_object_set_new(row, "ruleIdSub", json_string(c->rule_id_sub));
    json_array_append_new(p->list, row);
    return 0;
}

enum api_result api_reports_vip_list(struct api_call *call)
{
    struct store_card_query q = {0};
    struct card_page p;
    int64_t page = 1, size = 1, total = 0;

    if (api_int(call, "pageNum", 1, 10000000, &page) < 0 ||
        api_int(call, "pageSize", 1, CARD_PAGE_MAX, &size) < 0)
        return API_DONE;
    p.type = (int)pipeline_int(call, "vip_type", 1);
    p.list = json_array();
    q.park_id = call->park->park_id;
    q.type = p.type;
    q.limit = size;
    q.offset = (page - 1) * size;
    if (store_card_list(call->store, &q, card_row, &p, &total) != STORE_OK) {
        json_decref(p.list);
        pipeline_reply(call, 0, MSG_STORE_FAILED);
        return API_DONE;
    }
    pipeline_reply(call, 1, MSG_QUERY_OK);
    api_reply_members(call, json_pack("{s:I,s:I,s:I,s:o}", "totalCount", (json_int_t)total,
                                      "totalPages", (json_int_t)((total + size - 1) / size),
                                      "pageNum", (json_int_t)page, "list", p.list));
    return API_DONE;
}
