/* parks.c - what a vendor says about its parks: publish (spec 2.1), update (2.2), lane QR codes
 * (2.3) and the no-plate SMS setting (2.5).
 *
 * All four write through the group-commit writer. Publishing binds the park to the calling
 * vendor (DESIGN decision 5; another vendor's park_id is refused) and, like 2.2, changes the
 * registry's parks: the worker reloads the snapshot after the commit and before answering, so
 * the very next park-scoped call and park_check see the park. rand must differ from the
 * previous request's for the park (spec 1.9). */
#include <stdlib.h>
#include <string.h>

#include "api/fields.h"
#include "api/handlers.h"
#include "api/jobs.h"
#include "api/texts.h"
#include "log.h"
#include "qr.h"
#include "store/store_orders.h"

#define PLOTS_MAX 10000000

struct park_job {
    struct api_job job;
    struct store_park_publish pub; /* 2.1 */
    struct store_park_update upd;  /* 2.2 */
    int is_verify;                 /* 2.5 */
    enum store_park_outcome outcome;
    int64_t account;
    enum store_result r;
};

struct qr_job {
    struct api_job job;
    struct store_qr_request rq;
    struct store_qr qr;
    const char *channel_echo; /* channel_id as sent, NULL if absent */
    enum store_result r;
};

/* ---- checks of the 2.1/2.2 texts the schema cannot express ---- */

static int phone_ok(const char *s)
{
    int digits = 0;

    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (*s != '-' && *s != '+' && *s != ' ')
            return 0;
    }
    return digits >= 5;
}

/* "123.874433", "-40.1", "12": a decimal number (ranges are not checked: spec 2.1). */
static int decimal_ok(const char *s, int sign)
{
    int digits = 0, dots = 0;

    if (sign && *s == '-')
        s++;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (*s == '.' && dots++ == 0)
            continue;
        else
            return 0;
    }
    return digits > 0;
}

static int park_id_ok(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == '/' || *s == 0x7f)
            return 0;
    }
    return 1;
}

/* The text of a required or optional field, refused when empty or failing ok(). */
static int check_text(struct api_call *call, const char *name, int (*ok)(const char *),
                      const char *what)
{
    const char *s = api_text(call, name);

    if (s == NULL)
        return 0;
    if (s[0] == '\0' || (ok && !ok(s))) {
        api_refuse(call, "字段 %s 取值无效(%s)", name, what);
        return -1;
    }
    return 1;
}

static int coord_ok(const char *s)
{
    return decimal_ok(s, 1);
}

static int rand_ok(const char *s)
{
    return decimal_ok(s, 0);
}

static int nonblank(const char *s)
{
    return strspn(s, " \t") < strlen(s);
}

/* The registry learns of a park change before the vendor does. */
static void reload_registry(void)
{
    if (registry_reload() != 0)
        log_error("parks: the change is stored, but reloading the admission snapshot failed; "
                  "it will be seen at the next reload");
}

static void reply_park_outcome(struct api_call *call, struct park_job *j, const char *ok_msg)
{
    if (j->job.w.status != WRITER_COMMITTED) {
        pipeline_reply(call, 0, api_job_failed_msg(&j->job, j->r));
        return;
    }
    switch (j->outcome) {
    case STORE_PARK_CREATED:
    case STORE_PARK_UPDATED:
        pipeline_reply(call, 1, ok_msg);
        break;
    case STORE_PARK_FOREIGN:
        pipeline_reply(call, 0, MSG_PARK_FOREIGN);
        break;
    case STORE_PARK_UNKNOWN:
        pipeline_reply(call, 0, plk_errmsg(PLK_E_UNKNOWN_PARK));
        break;
    case STORE_PARK_REPLAY:
        pipeline_reply(call, 0, MSG_RAND_REPEATED);
        break;
    case STORE_PARK_PLOTS:
        pipeline_reply(call, 0, MSG_PLOTS);
        break;
    }
}

/* ---- 2.1 publish ---- */

static int publish_run(struct writer_job *w, struct store_session *s)
{
    struct park_job *j = (struct park_job *)w;

    j->r = store_park_publish(s, &j->pub, &j->outcome, &j->account);
    return j->r != STORE_OK;
}

static void publish_done(struct writer_job *w)
{
    struct park_job *j = (struct park_job *)w;
    struct api_call *call = j->job.call;
    int changed = w->status == WRITER_COMMITTED &&
                  (j->outcome == STORE_PARK_CREATED || j->outcome == STORE_PARK_UPDATED);

    if (changed)
        reload_registry();
    if (call != NULL) {
        reply_park_outcome(call, j, MSG_PARK_ADDED);
        if (changed)
            api_reply_members(call, json_pack("{s:s,s:I}", "park_id", j->pub.park_id, "username",
                                              (json_int_t)j->account));
        else
            api_reply_members(call, json_pack("{s:s}", "park_id", j->pub.park_id));
    }
    api_job_finish(&j->job);
}

enum api_result api_parks_publish(struct api_call *call)
{
    struct park_job *j;
    int64_t city = 0, total = 0, empty = 0, server = -1, docking = -1;

    if (check_text(call, "park_id", park_id_ok, "不能为空，不能含 / 或控制字符") < 0 ||
        check_text(call, "name", nonblank, "不能为空") < 0 ||
        check_text(call, "address", nonblank, "不能为空") < 0 ||
        check_text(call, "phone", phone_ok, "应为手机号、带区号的座机号或400/800号码") < 0 ||
        check_text(call, "mobile", phone_ok, "应为手机号或座机号") < 0 ||
        check_text(call, "lng", coord_ok, "应为十进制经度") < 0 ||
        check_text(call, "lat", coord_ok, "应为十进制纬度") < 0 ||
        check_text(call, "price_desc", nonblank, "不能为空") < 0 ||
        check_text(call, "rand", rand_ok, "应为整数或小数") < 0 ||
        api_int(call, "city_id", 100000, 999999, &city) < 0 ||
        api_int(call, "total_plot", 0, PLOTS_MAX, &total) < 0 ||
        api_int(call, "empty_plot", 0, PLOTS_MAX, &empty) < 0 ||
        api_int(call, "server_id", 0, INT64_MAX, &server) < 0 ||
        api_int(call, "docking_type", 0, 2, &docking) < 0)
        return API_DONE;
    if (empty > total)
        return api_refuse(call, "%s(empty_plot %lld > total_plot %lld)", MSG_PLOTS,
                          (long long)empty, (long long)total);

    j = api_job_new(call, sizeof *j, publish_run, publish_done);
    j->pub.park_id = api_job_text(&j->job, "park_id");
    j->pub.union_id = api_job_dup(&j->job, call->vendor->union_id);
    j->pub.name = api_job_text(&j->job, "name");
    j->pub.address = api_job_text(&j->job, "address");
    j->pub.phone = api_job_text(&j->job, "phone");
    j->pub.mobile = api_job_text(&j->job, "mobile");
    j->pub.lng = api_job_text(&j->job, "lng");
    j->pub.lat = api_job_text(&j->job, "lat");
    j->pub.price_desc = api_job_text(&j->job, "price_desc");
    j->pub.remark = api_job_text(&j->job, "remark");
    j->pub.rand = api_job_text(&j->job, "rand");
    j->pub.city_id = city;
    j->pub.total_plot = total;
    j->pub.empty_plot = empty;
    j->pub.server_id = server;
    j->pub.docking_type = docking;
    return api_job_submit(&j->job);
}

/* ---- 2.2 update ---- */

static int update_run(struct writer_job *w, struct store_session *s)
{
    struct park_job *j = (struct park_job *)w;

    j->r = store_park_update(s, &j->upd, &j->outcome);
    return j->r != STORE_OK;
}

static void update_done(struct writer_job *w)
{
    struct park_job *j = (struct park_job *)w;
    struct api_call *call = j->job.call;

    if (w->status == WRITER_COMMITTED && j->outcome == STORE_PARK_UPDATED)
        reload_registry();
    if (call != NULL) {
        reply_park_outcome(call, j, MSG_PARK_UPDATED);
        api_reply_members(call, json_pack("{s:s}", "park_id", j->upd.park_id));
    }
    api_job_finish(&j->job);
}

enum api_result api_parks_update(struct api_call *call)
{
    struct park_job *j;
    int64_t type = pipeline_int(call, "type", 0), total = -1, empty = -1;

    if (check_text(call, "rand", rand_ok, "应为整数或小数") < 0 ||
        check_text(call, "phone", phone_ok, "应为手机号、带区号的座机号或400/800号码") < 0 ||
        check_text(call, "mobile", phone_ok, "应为手机号或座机号") < 0 ||
        api_int(call, "total_plot", 0, PLOTS_MAX, &total) < 0 ||
        api_int(call, "empty_plot", 0, PLOTS_MAX, &empty) < 0)
        return API_DONE;
    if (type == 1 && empty < 0)
        return api_refuse(call, "字段 empty_plot 缺失(type 为 1 时必填)");
    if (type == 1 && total >= 0 && empty > total)
        return api_refuse(call, "%s(empty_plot %lld > total_plot %lld)", MSG_PLOTS,
                          (long long)empty, (long long)total);

    j = api_job_new(call, sizeof *j, update_run, update_done);
    j->upd.park_id = api_job_dup(&j->job, call->park->park_id);
    j->upd.union_id = api_job_dup(&j->job, call->vendor->union_id);
    j->upd.rand = api_job_text(&j->job, "rand");
    j->upd.type = (int)type;
    j->upd.total_plot = total;
    j->upd.empty_plot = empty;
    j->upd.price_desc = api_job_text(&j->job, "price_desc");
    j->upd.phone = api_job_text(&j->job, "phone");
    j->upd.mobile = api_job_text(&j->job, "mobile");
    return api_job_submit(&j->job);
}

/* ---- 2.3 QR codes ---- */

static int qr_run(struct writer_job *w, struct store_session *s)
{
    struct qr_job *j = (struct qr_job *)w;

    j->r = store_qr_issue(s, &j->rq, &j->qr);
    return j->r != STORE_OK;
}

static void qr_done(struct writer_job *w)
{
    struct qr_job *j = (struct qr_job *)w;
    struct api_call *call = j->job.call;
    char url[QR_URL_MAX];
    json_t *m;

    if (call == NULL) {
        /* gone */
    } else if (w->status != WRITER_COMMITTED) {
        pipeline_reply(call, 0,
                       j->r == STORE_NOT_FOUND ? plk_errmsg(PLK_E_UNKNOWN_PARK)
                                               : api_job_failed_msg(&j->job, j->r));
    } else {
        qr_image_url(j->qr.id, url, sizeof url);
        pipeline_reply(call, 1, MSG_QR_OK);
        m = json_pack("{s:s,s:i}", "code_url", url, "type", j->rq.type);
        if (j->channel_echo != NULL)
            json_object_set_new(m, "channel_id", json_string(j->channel_echo));
        api_reply_members(call, m);
    }
    api_job_finish(&j->job);
}

enum api_result api_parks_qrcode(struct api_call *call)
{
    struct qr_job *j;
    int type = (int)pipeline_int(call, "type", 0);
    const char *lane = api_text(call, "channel_id");

    if (type != 1 && (lane == NULL || !nonblank(lane)))
        return api_refuse(call, "字段 channel_id 缺失(type 为 2 或 3 时必填车道编号)");

    j = api_job_new(call, sizeof *j, qr_run, qr_done);
    j->rq.park_id = api_job_dup(&j->job, call->park->park_id);
    j->rq.type = type;
    /* the prepayment code belongs to the park, not to a lane */
    j->rq.channel_id = type == 1 ? "" : api_job_dup(&j->job, lane);
    j->channel_echo = api_job_dup(&j->job, lane);
    j->rq.create = pipeline_int(call, "create", 0) == 1;
    j->rq.change = j->rq.create && pipeline_int(call, "change", 0) == 1;
    j->rq.message_uuid = api_job_text(&j->job, "message_uuid");
    j->rq.data_target = api_job_text(&j->job, "data_target");
    j->rq.device_no = api_job_text(&j->job, "device_no");
    return api_job_submit(&j->job);
}

/* ---- 2.5 no-plate SMS setting ---- */

static int sms_run(struct writer_job *w, struct store_session *s)
{
    struct park_job *j = (struct park_job *)w;

    j->r = store_park_sms(s, j->upd.park_id, j->is_verify);
    return j->r != STORE_OK;
}

static void sms_done(struct writer_job *w)
{
    struct park_job *j = (struct park_job *)w;
    struct api_call *call = j->job.call;

    if (call != NULL && w->status == WRITER_COMMITTED)
        pipeline_reply(call, 1, MSG_SET_OK);
    else if (call != NULL)
        pipeline_reply(call, 0,
                       j->r == STORE_NOT_FOUND ? plk_errmsg(PLK_E_UNKNOWN_PARK)
                                               : api_job_failed_msg(&j->job, j->r));
    api_job_finish(&j->job);
}

enum api_result api_parks_sms(struct api_call *call)
{
    const json_t *cfg = json_object_get(call->env.data, "nolience_config");
    const json_t *v = json_object_get(cfg, "is_verify");
    struct park_job *j;
    int verify;

    if (!json_is_object(cfg))
        return api_refuse(call, "字段 nolience_config 类型错误(应为JSON对象)");
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
        verify = (int)json_integer_value(v);
    else if (json_is_string(v) &&
             (strcmp(json_string_value(v), "0") == 0 || strcmp(json_string_value(v), "1") == 0))
        verify = json_string_value(v)[0] - '0';
    else if (v == NULL || json_is_null(v))
        return api_refuse(call, "字段 nolience_config.is_verify 缺失");
    else
        return api_refuse(call, "字段 nolience_config.is_verify 取值无效(可选 0|1)");

    j = api_job_new(call, sizeof *j, sms_run, sms_done);
    j->upd.park_id = api_job_dup(&j->job, call->park->park_id);
    j->is_verify = verify;
    return api_job_submit(&j->job);
}
