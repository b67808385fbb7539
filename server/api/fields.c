/* fields.c - field checks and formatting shared by the record handlers (see fields.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/fields.h"
#include "api/texts.h"

#define CST_OFFSET (8 * 3600)

enum api_result api_refuse(struct api_call *call, const char *fmt, ...)
{
    char buf[512], *msg;
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    n = strlen(buf) + 1;
    msg = pipeline_alloc(call, n);
    memcpy(msg, buf, n);
    pipeline_reply(call, 0, msg);
    return API_DONE;
}

static const json_t *field(const struct api_call *call, const char *name)
{
    const json_t *v = json_object_get(call->env.data, name);

    return json_is_null(v) ? NULL : v;
}

const char *api_text(struct api_call *call, const char *name)
{
    const json_t *v = field(call, name);
    char *out;

    if (v == NULL)
        return NULL;
    if (json_is_string(v)) {
        out = pipeline_alloc(call, json_string_length(v) + 1);
        memcpy(out, json_string_value(v), json_string_length(v) + 1);
        return out;
    }
    out = pipeline_alloc(call, 32);
    if (json_is_integer(v))
        snprintf(out, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, 32, "%.15g", json_real_value(v));
    else
        return NULL;
    return out;
}

int api_plate(struct api_call *call, const char *name, char out[REGISTRY_PLATE_MAX + 1])
{
    const json_t *v = field(call, name);

    if (v == NULL)
        return 0;
    if (!json_is_string(v) ||
        registry_plate_norm(json_string_value(v), json_string_length(v), out) < 0) {
        api_refuse(call, "字段 %s 取值无效(车牌不能为空)", name);
        return -1;
    }
    return 1;
}

/* "123", "123.4", "123.45" -> fen; -1 if the text is not such a number. */
static int64_t money_from_text(const char *s)
{
    int64_t yuan = 0, fen = 0;
    size_t i = 0, digits = 0, decimals = 0;

    for (; s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (digits >= 12)
            return -1;
        yuan = yuan * 10 + (s[i] - '0');
    }
    if (digits == 0)
        return -1;
    if (s[i] == '.') {
        for (i++; s[i] >= '0' && s[i] <= '9'; i++, decimals++) {
            if (decimals >= 2)
                return -1;
            fen = fen * 10 + (s[i] - '0');
        }
        if (decimals == 0)
            return -1;
        if (decimals == 1)
            fen *= 10;
    }
    if (s[i] != '\0')
        return -1;
    return yuan * 100 + fen;
}

int api_money(struct api_call *call, const char *name, int64_t *fen)
{
    const json_t *v = field(call, name);
    int64_t f = -1;

    if (v == NULL)
        return 0;
    if (json_is_string(v)) {
        f = money_from_text(json_string_value(v));
    } else if (json_is_integer(v)) {
        if (json_integer_value(v) >= 0 && json_integer_value(v) <= API_MONEY_MAX_FEN / 100)
            f = json_integer_value(v) * 100;
    } else if (json_is_real(v)) {
        double x = json_real_value(v) * 100.0, r = nearbyint(x);
        if (x >= 0 && x <= (double)API_MONEY_MAX_FEN && fabs(x - r) < 1e-6)
            f = (int64_t)r;
    }
    if (f < 0 || f > API_MONEY_MAX_FEN) {
        api_refuse(call, "字段 %s 金额无效(元，不能为负，最多两位小数)", name);
        return -1;
    }
    *fen = f;
    return 1;
}

int api_int(struct api_call *call, const char *name, int64_t min, int64_t max, int64_t *v)
{
    const json_t *j = field(call, name);
    int64_t x;

    if (j == NULL)
        return 0;
    x = pipeline_int(call, name, min - 1);
    if (x < min || x > max) {
        api_refuse(call, "字段 %s 取值无效(应为 %lld 到 %lld)", name, (long long)min,
                   (long long)max);
        return -1;
    }
    *v = x;
    return 1;
}

int api_time(struct api_call *call, const char *name, int64_t *t)
{
    const json_t *j = field(call, name);
    int64_t x, max = call->now + API_TIME_AHEAD;

    if (j == NULL)
        return 0;
    x = pipeline_int(call, name, -1);
    if (x < API_TIME_MIN || x > max) {
        api_refuse(call, "字段 %s 时间无效(应为Unix秒，且不晚于当前时间一天以上)", name);
        return -1;
    }
    *t = x;
    return 1;
}

void api_money_text(int64_t fen, char out[32])
{
    snprintf(out, 32, "%lld.%02lld", (long long)(fen / 100), (long long)(fen % 100));
}

static void cst_tm(int64_t t, struct tm *tm)
{
    time_t s = (time_t)(t + CST_OFFSET);

    gmtime_r(&s, tm);
}

void api_cst_datetime(int64_t t, char out[20])
{
    struct tm tm;

    cst_tm(t, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

void api_cst_date(int64_t t, char out[11])
{
    struct tm tm;

    cst_tm(t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

int64_t api_cst_day_start(int64_t t)
{
    int64_t local = t + CST_OFFSET;
    int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;

    return day * 86400 - CST_OFFSET;
}

int64_t api_cst_month_after(int64_t t)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct tm tm;
    int y, m, last;

    cst_tm(t, &tm);
    y = tm.tm_year + 1900 + (tm.tm_mon == 11);
    m = (tm.tm_mon + 1) % 12;
    last = mdays[m] + (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    tm.tm_year = y - 1900;
    tm.tm_mon = m;
    if (tm.tm_mday > last)
        tm.tm_mday = last;
    return (int64_t)timegm(&tm) - CST_OFFSET;
}

void api_duration_text(int64_t secs, char *out, size_t cap)
{
    if (secs < 0)
        secs = 0;
    snprintf(out, cap, "%lld天%lld小时%lld分钟", (long long)(secs / 86400),
             (long long)(secs % 86400 / 3600), (long long)(secs % 3600 / 60));
}

int api_reply_members(struct api_call *call, json_t *obj)
{
    size_t need = obj ? json_dumpb(obj, NULL, 0, JSON_COMPACT) : 0;
    char *buf;

    if (need < 2) {
        json_decref(obj);
        pipeline_reply(call, 0, MSG_STORE_FAILED);
        return -1;
    }
    buf = pipeline_alloc(call, need);
    json_dumpb(obj, buf, need, JSON_COMPACT);
    json_decref(obj);
    if (need > 2) /* {} adds nothing */
        pipeline_reply_members(call, buf + 1, need - 2);
    return 0;
}
