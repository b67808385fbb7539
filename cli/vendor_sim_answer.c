/* vendor_sim_answer.c - the canned answers of `parklink vendor-sim` (see vendor_sim_answer.h).
 *
 * `canned[]` holds one entry per P->V row. Notices are answered {"state":1,"errmsg":...}
 * plus the fields the reference's answer echoes. The questions compute their answer:
 * 5.1 a price from the stay's duration and the tariff, 5.4 a PNG picture drawn for the
 * order, 5.7 admission, 5.13 a code, 11.2 a check of amount and period, 11.6 what 11.4 and
 * 11.5 stored. Money is kept in integer cents. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "parklink/sign.h"
#include "vendor_sim_answer.h"

struct build {
    struct sim_memory *m;
    const struct sim_tariff *t;
    const json_t *data; /* an object, or NULL */
    json_t *ans;        /* the answer object being built */
    long long now_ms;
    struct sim_answer *out;
};

struct canned {
    const char *id;       /* row id of the service table */
    const char *ok_msg;   /* errmsg of state 1 (the reference's text where it prints one) */
    const char *fail_msg; /* errmsg of state 0 */
    const char *echo;     /* request fields copied into the answer, space-separated;
                             "service_name" is always the row's */
    const char *event;    /* fields naming one business event ('+'-joined), or NULL */
    int string_state;     /* the answer types state as a String (11.7) */
    int (*build)(struct build *b);  /* questions: add computed members; may set state 0 */
    void (*learn)(struct build *b); /* remember what a processed message says */
};

/* ---- small helpers ---------------------------------------------------------------- */

/* The text form of a string or number member of data; "" when absent or another type. */
static const char *text_of(const json_t *data, const char *name, char *buf, size_t cap)
{
    const json_t *v = json_is_object(data) ? json_object_get(data, name) : NULL;

    buf[0] = '\0';
    if (json_is_string(v))
        snprintf(buf, cap, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, cap, "%.15g", json_real_value(v));
    return buf;
}

/* Yuan (number or numeric string) in cents; -1 when absent or not a number. */
static long cents_of(const json_t *data, const char *name)
{
    char buf[64], *end;
    double x;

    text_of(data, name, buf, sizeof buf);
    if (buf[0] == '\0')
        return -1;
    x = strtod(buf, &end);
    if (*end != '\0' || !(x >= 0) || x > 1e12)
        return -1;
    return (long)llround(x * 100);
}

static void set_money(json_t *o, const char *name, long cents)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld.%02ld", cents / 100, cents % 100);
    json_object_set_new(o, name, json_string(buf));
}

/* A stable pseudo-random number from text (md5 of it). */
static unsigned long hash_of(const char *text)
{
    char hex[PLK_SIGN_LEN + 1];
    plk_md5_hex2(text, strlen(text), "", 0, hex);
    hex[8] = '\0';
    return strtoul(hex, NULL, 16);
}

/* "YYYY-MM-DD HH:mm:ss", local time (the reference's date-time format). */
static void local_time(long long ms, char *buf, size_t cap)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&s, &tm);
    strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Set key in a memory table, starting the table over when it is full. */
static void remember(json_t *table, const char *key, json_t *v)
{
    if (json_object_size(table) >= SIM_MEMORY_MAX && json_object_get(table, key) == NULL)
        json_object_clear(table);
    json_object_set_new(table, key, v);
}

/* The order a message is about: by order_id, else by plate. */
static void order_key(const json_t *data, char *key, size_t cap)
{
    char park[80], order[80], plate[80];

    text_of(data, "park_id", park, sizeof park);
    text_of(data, "order_id", order, sizeof order);
    if (order[0] == '\0') {
        text_of(data, "car_number", plate, sizeof plate);
        if (plate[0] == '\0')
            text_of(data, "licence", plate, sizeof plate);
        snprintf(key, cap, "%s/#%s", park, plate);
    } else
        snprintf(key, cap, "%s/%s", park, order);
}

/* The order record, created when missing with entry time `in_ms`. */
static json_t *order_get(struct build *b, const char *key, long long in_ms)
{
    json_t *o = json_object_get(b->m->orders, key);

    if (o == NULL) {
        o = json_pack("{s:I,s:I}", "in_ms", (json_int_t)in_ms, "prepaid_cents", (json_int_t)0);
        if (o == NULL)
            return NULL;
        remember(b->m->orders, key, o);
    }
    return o;
}

/* ---- 5.1 query_price ---------------------------------------------------------------- */

static long fee_cents(const struct sim_tariff *t, long minutes)
{
    long days, rest, day_fee;

    if (minutes <= t->free_min)
        return 0;
    days = minutes / 1440;
    rest = minutes % 1440;
    day_fee = t->day_cap_cents > 0 ? t->day_cap_cents : 24 * t->hour_cents;
    rest = (rest + 59) / 60 * t->hour_cents;
    if (t->day_cap_cents > 0 && rest > t->day_cap_cents)
        rest = t->day_cap_cents;
    return days * day_fee + rest;
}

static int build_query_price(struct build *b)
{
    char key[256], plate[80];
    json_t *o;
    long minutes, total, prepaid, price;
    long long in_ms;

    order_key(b->data, key, sizeof key);
    /* an order the car park has not heard of yet (no 5.2 after its entry): the stay began
     * a stable 20-299 minutes before this first question */
    in_ms = b->now_ms - (long long)(20 + hash_of(key) % 280) * 60000;
    if ((o = order_get(b, key, in_ms)) == NULL)
        return -1;
    in_ms = json_integer_value(json_object_get(o, "in_ms"));
    minutes = (long)((b->now_ms - in_ms + 59999) / 60000);
    if (minutes < 1)
        minutes = 1;
    total = fee_cents(b->t, minutes);
    prepaid = (long)json_integer_value(json_object_get(o, "prepaid_cents"));
    price = total > prepaid ? total - prepaid : 0;
    if (!json_object_get(b->ans, "order_id"))
        json_object_set_new(b->ans, "order_id", json_string(""));
    if (text_of(b->data, "car_number", plate, sizeof plate)[0])
        json_object_set_new(b->ans, "car_number", json_string(plate));
    set_money(b->ans, "price", price);
    set_money(b->ans, "total", total);
    json_object_set_new(b->ans, "duration", json_integer(minutes));
    json_object_set_new(b->ans, "free_out_time", json_integer(15));
    json_object_set_new(b->ans, "query_time", json_integer(b->now_ms / 1000));
    json_object_set_new(b->ans, "derate_money", json_integer(0));
    json_object_set_new(b->ans, "derate_duration", json_integer(0));
    return 0;
}

/* 5.2: the entry was just uploaded; 5.7: the car park admits the car now. */
static void learn_entry(struct build *b)
{
    char key[256];
    order_key(b->data, key, sizeof key);
    order_get(b, key, b->now_ms);
}

static void learn_prepay(struct build *b)
{
    char key[256];
    long cents = cents_of(b->data, "prepay");
    json_t *o;

    order_key(b->data, key, sizeof key);
    if (cents <= 0 || (o = order_get(b, key, b->now_ms)) == NULL)
        return;
    json_object_set_new(
        o, "prepaid_cents",
        json_integer(json_integer_value(json_object_get(o, "prepaid_cents")) + cents));
}

/* ---- 5.4 get_inpark_image: a PNG drawn for the order -------------------------------- */

#define IMG_W 64
#define IMG_H 48

static unsigned long crc32_of(unsigned long crc, const unsigned char *p, size_t n)
{
    crc = ~crc & 0xffffffffUL;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0xedb88320UL : crc >> 1;
    }
    return ~crc & 0xffffffffUL;
}

static unsigned char *put32(unsigned char *p, unsigned long v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return p + 4;
}

/* Append one chunk (length, type, data, CRC over type and data). */
static unsigned char *png_chunk(unsigned char *p, const char *type, const unsigned char *data,
                                size_t len)
{
    unsigned char *t;

    p = put32(p, (unsigned long)len);
    t = p;
    memcpy(p, type, 4);
    if (len)
        memcpy(p + 4, data, len);
    p += 4 + len;
    return put32(p, crc32_of(0, t, len + 4));
}

/* An 8-bit grey IMG_W x IMG_H picture: light for "in", darker for "out", with a bar code
 * drawn from the park and order ids, so each order has its own picture. Stored (level 0)
 * deflate keeps it valid without a compressor. */
static int build_image(struct build *b)
{
    enum { RAW = IMG_H * (IMG_W + 1), IDAT = 2 + 5 + RAW + 4 };
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13], *idat, *raw, *png, *p;
    char type[8], park[80], order[80], seed[200];
    unsigned long bits, a = 1, s2 = 0;
    unsigned char bg;

    text_of(b->data, "type", type, sizeof type);
    text_of(b->data, "comid", park, sizeof park);
    text_of(b->data, "orderid", order, sizeof order);
    snprintf(seed, sizeof seed, "%s/%s/%s", park, order, type);
    bits = hash_of(seed);
    bg = strcmp(type, "out") == 0 ? 96 : 208;

    idat = malloc(IDAT);
    png = malloc(sizeof sig + 12 + sizeof ihdr + 12 + IDAT + 12);
    if (idat == NULL || png == NULL) {
        free(idat);
        free(png);
        return -1;
    }
    raw = idat + 7;
    for (int y = 0; y < IMG_H; y++) {
        unsigned char *row = raw + y * (IMG_W + 1);
        row[0] = 0; /* filter: none */
        for (int x = 0; x < IMG_W; x++) {
            unsigned char v = bg;
            if (x == 0 || y == 0 || x == IMG_W - 1 || y == IMG_H - 1)
                v = 0;
            else if (y >= 12 && y < 36 && x >= 8 && x < 56 && ((bits >> ((x - 8) / 2 % 32)) & 1))
                v = 24;
            row[1 + x] = v;
        }
    }
    for (size_t i = 0; i < RAW; i++) {
        a = (a + raw[i]) % 65521;
        s2 = (s2 + a) % 65521;
    }
    idat[0] = 0x78; /* zlib: deflate, 32K window */
    idat[1] = 0x01;
    idat[2] = 0x01; /* final block, stored */
    idat[3] = RAW & 0xff;
    idat[4] = RAW >> 8;
    idat[5] = (unsigned char)~(RAW & 0xff);
    idat[6] = (unsigned char)~(RAW >> 8);
    put32(idat + 7 + RAW, (s2 << 16) | a);

    put32(ihdr, IMG_W);
    put32(ihdr + 4, IMG_H);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 0;  /* grey */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filters */
    ihdr[12] = 0; /* no interlace */
    memcpy(png, sig, sizeof sig);
    p = png_chunk(png + sizeof sig, "IHDR", ihdr, sizeof ihdr);
    p = png_chunk(p, "IDAT", idat, IDAT);
    p = png_chunk(p, "IEND", NULL, 0);
    free(idat);

    b->out->body = (char *)png;
    b->out->len = (size_t)(p - png);
    b->out->content_type = "image/png";
    b->out->logged = json_pack("{s:s,s:I,s:i,s:i}", "content_type", "image/png", "bytes",
                               (json_int_t)b->out->len, "width", IMG_W, "height", IMG_H);
    return b->out->logged ? 0 : -1;
}

/* ---- 5.7, 5.13, 11.2 ------------------------------------------------------------------ */

static int build_nolicence(struct build *b)
{
    json_object_set_new(b->ans, "timetemp", json_integer(b->now_ms / 1000));
    return 0;
}

/* The code "sent" to the driver: stable per park, plate, phone and payer. */
static int build_verify_code(struct build *b)
{
    char park[80], plate[80], mobile[40], payer[80], seed[300], code[8];

    snprintf(seed, sizeof seed, "%s/%s/%s/%s", text_of(b->data, "park_id", park, sizeof park),
             text_of(b->data, "car_number", plate, sizeof plate),
             text_of(b->data, "mobile_number", mobile, sizeof mobile),
             text_of(b->data, "pay_user_id", payer, sizeof payer));
    snprintf(code, sizeof code, "%06lu", hash_of(seed) % 1000000);
    json_object_set_new(b->ans, "verify_code", json_string(code));
    return 0;
}

static int is_date(const char *s)
{
    return strlen(s) == 10 && s[4] == '-' && s[7] == '-' && strspn(s, "0123456789-") == 10;
}

/* May this car buy the monthly pass for that amount and period? */
static int build_check_vip(struct build *b)
{
    char from[40], to[40];
    const char *why = NULL;

    text_of(b->data, "start_time", from, sizeof from);
    text_of(b->data, "end_time", to, sizeof to);
    if (cents_of(b->data, "amount") <= 0)
        why = "金额不正确";
    else if ((from[0] && !is_date(from)) || (to[0] && !is_date(to)) ||
             (from[0] && to[0] && strcmp(from, to) > 0))
        why = "包月时段不正确";
    if (why) {
        json_object_set_new(b->ans, "state", json_integer(0));
        json_object_set_new(b->ans, "errmsg", json_string(why));
    }
    return 0;
}

/* ---- 11.4, 11.5 remembered; 11.6 answered from them ------------------------------------ */

static void vehicle_key(const json_t *data, int kind, char *key, size_t cap)
{
    char park[80], plate[80], card[80];

    text_of(data, "park_id", park, sizeof park);
    text_of(data, "car_number", plate, sizeof plate);
    if (plate[0])
        snprintf(key, cap, "%s/%d/%s", park, kind, plate);
    else
        snprintf(key, cap, "%s/%d/card:%s", park, kind,
                 text_of(data, "card_id", card, sizeof card));
}

static void copy_fields(json_t *dst, const json_t *src, const char *names)
{
    char name[40];
    const char *p = names;

    while (*p) {
        size_t n = strcspn(p, " ");
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        const json_t *v = json_is_object(src) ? json_object_get(src, name) : NULL;
        if (v && !json_is_null(v))
            json_object_set(dst, name, (json_t *)v);
        p += n;
        while (*p == ' ')
            p++;
    }
}

#define MONTHLY_FIELDS "car_number user_name tel car_type card_id start_time end_time"

static void learn_car_info(struct build *b)
{
    char key[256], type[16], now[24];
    json_t *rec;

    vehicle_key(b->data, 0, key, sizeof key);
    text_of(b->data, "type", type, sizeof type);
    if (strcmp(type, "delete") == 0) {
        json_object_del(b->m->vehicles, key);
        return;
    }
    rec = json_object_get(b->m->vehicles, key);
    if (rec == NULL) {
        if ((rec = json_object()) == NULL)
            return;
        remember(b->m->vehicles, key, rec);
    }
    copy_fields(rec, b->data, MONTHLY_FIELDS);
    local_time(b->now_ms, now, sizeof now);
    json_object_set_new(rec, "update_time", json_string(now));
    json_object_set_new(rec, "describe", json_string("月卡车(平台下发)"));
}

static void learn_special_plate(struct build *b)
{
    char key[256], type[16], remark[256];
    json_t *rec;

    vehicle_key(b->data, 1, key, sizeof key);
    text_of(b->data, "type", type, sizeof type);
    if (strcmp(type, "delete") == 0) {
        json_object_del(b->m->vehicles, key);
        return;
    }
    if ((rec = json_object()) == NULL)
        return;
    copy_fields(rec, b->data, "car_number car_type start_time end_time");
    text_of(b->data, "remark", remark, sizeof remark);
    json_object_set_new(rec, "describe", json_string(remark[0] ? remark : "特殊车(平台下发)"));
    remember(b->m->vehicles, key, rec);
}

static int build_query_car_info(struct build *b)
{
    char key[256], type[8], plate[80];
    json_t *rec, *d;
    int kind;

    text_of(b->data, "type", type, sizeof type);
    kind = strcmp(type, "1") == 0;
    vehicle_key(b->data, kind, key, sizeof key);
    rec = json_object_get(b->m->vehicles, key);
    if (rec == NULL && kind == 0 && json_object_get(b->data, "card_id")) {
        /* a monthly card may be known by its card id only */
        json_t *by_card = json_deep_copy(b->data);
        if (by_card) {
            json_object_del(by_card, "car_number");
            vehicle_key(by_card, 0, key, sizeof key);
            json_decref(by_card);
            rec = json_object_get(b->m->vehicles, key);
        }
    }
    if (rec) {
        d = json_deep_copy(rec);
    } else {
        d = json_pack("{s:s}", "car_number", text_of(b->data, "car_number", plate, sizeof plate));
        json_object_set_new(b->ans, "errmsg", json_string("未查询到该车辆"));
    }
    if (d == NULL)
        return -1;
    json_object_set_new(b->ans, "data", d);
    return 0;
}

/* ---- the table ------------------------------------------------------------------------ */

static const struct canned canned[] = {
    {"query_price", "成功", "查询失败", "service_name park_id order_id query_order_no", NULL, 0,
     build_query_price, NULL},
    {"notice_car_owner", "修改成功", "修改失败", "", "park_id+order_id+rand", 0, NULL, learn_entry},
    {"prepay_order", "成功", "处理失败", "park_id order_id prepay", "trade_no", 0, NULL,
     learn_prepay},
    {"get_inpark_image", "成功", "未找到图片", "", NULL, 0, build_image, NULL},
    {"outpark", "成功", "处理失败", "service_name order_id trade_no", "trade_no+state", 0, NULL,
     NULL},
    {"refund", "退款成功", "处理失败", "service_name trade_no", "trade_no+refund_time", 0, NULL,
     NULL},
    {"nolicence_in_park", "入场成功", "入场失败", "car_number", NULL, 0, build_nolicence,
     learn_entry},
    {"monthcard_pay", "成功", "处理失败", "trade_no", "trade_no", 0, NULL, NULL},
    {"repair", "成功", "处理失败", "service_name trade_no order_id", "trade_no", 0, NULL, NULL},
    {"plat_unified_order", "成功", "处理失败", "trade_no", "trade_no", 0, NULL, NULL},
    {"plat_escape_order", "成功", "处理失败", "trade_no", "trade_no", 0, NULL, NULL},
    {"recharge", "成功", "处理失败", "service_name trade_no", "trade_no+state", 0, NULL, NULL},
    {"verify_code", "发送成功", "发送验证码失败", "", NULL, 0, build_verify_code, NULL},
    {"pay_notice", "成功", "处理失败", "service_name", "trade_no", 0, NULL, NULL},
    {"invoice_status", "成功", "处理失败", "", "invoice_order_no+status", 0, NULL, NULL},
    {"people_data", "成功", "处理失败", "", NULL, 0, NULL, NULL},
    {"operate_liftrod", "成功", "抬杆失败", "service_name channel_id operate liftrod_id",
     "liftrod_id", 0, NULL, NULL},
    {"check_vip", "成功", "不允许购买", "service_name", NULL, 0, build_check_vip, NULL},
    {"space_notify", "成功", "处理失败", "service_name", "message_uuid", 0, NULL, NULL},
    {"special_plate", "成功", "处理失败", "service_name", "message_uuid", 0, NULL,
     learn_special_plate},
    {"car_info", "成功", "处理失败", "service_name", "message_uuid", 0, NULL, learn_car_info},
    {"query_car_info", "成功", "查询失败", "service_name", NULL, 0, build_query_car_info, NULL},
    {"invoice_notify", "成功", "处理失败", "service_name", "payid", 1, NULL, NULL},
};

static const struct canned *canned_for(const struct plk_service *svc)
{
    for (size_t i = 0; svc && i < sizeof canned / sizeof canned[0]; i++)
        if (strcmp(canned[i].id, svc->id) == 0)
            return &canned[i];
    return NULL;
}

/* "row/v1|v2" for the event fields, or "" when one of them is absent. */
static void event_key(const struct canned *c, const json_t *data, char *key, size_t cap)
{
    char name[40], val[128];
    size_t used;
    const char *p = c->event;

    key[0] = '\0';
    if (p == NULL || !json_is_object(data))
        return;
    used = (size_t)snprintf(key, cap, "%s/", c->id);
    while (*p && used < cap) {
        size_t n = strcspn(p, "+");
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        if (text_of(data, name, val, sizeof val)[0] == '\0') {
            key[0] = '\0';
            return;
        }
        used += (size_t)snprintf(key + used, cap - used, "%s%s", p == c->event ? "" : "|", val);
        p += n;
        if (*p == '+')
            p++;
    }
}

static void set_state(json_t *ans, int state, int as_string)
{
    if (as_string)
        json_object_set_new(ans, "state", json_string(state ? "1" : "0"));
    else
        json_object_set_new(ans, "state", json_integer(state));
}

/* The answer object: state, errmsg, then the echoed fields. */
static json_t *base_answer(const struct canned *c, const struct plk_service *svc,
                           const json_t *data, int state)
{
    json_t *ans = json_object();
    const char *p = c ? c->echo : "service_name";

    if (ans == NULL)
        return NULL;
    set_state(ans, state, c && c->string_state);
    json_object_set_new(
        ans, "errmsg",
        json_string(state ? (c ? c->ok_msg : "成功") : (c ? c->fail_msg : "处理失败")));
    while (*p) {
        char name[40];
        size_t n = strcspn(p, " ");
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        if (strcmp(name, "service_name") == 0) {
            if (svc && svc->service_name[0])
                json_object_set_new(ans, name, json_string(svc->service_name));
        } else {
            const json_t *v = json_is_object(data) ? json_object_get(data, name) : NULL;
            if (v && !json_is_null(v))
                json_object_set(ans, name, (json_t *)v);
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return ans;
}

static int finish_json(struct sim_answer *out, int status, json_t *ans)
{
    out->status = status;
    out->content_type = SIM_JSON_TYPE;
    out->body = json_dumps(ans, JSON_COMPACT);
    if (out->body == NULL) {
        json_decref(ans);
        return -1;
    }
    out->len = strlen(out->body);
    out->logged = ans;
    return 0;
}

int sim_answer_json(struct sim_answer *out, int status, json_t *v)
{
    memset(out, 0, sizeof *out);
    if (v == NULL)
        return -1;
    return finish_json(out, status, v);
}

int sim_answer_error(struct sim_answer *out, int status, const char *errmsg)
{
    return sim_answer_json(out, status, json_pack("{s:i,s:s}", "state", 0, "errmsg", errmsg));
}

static int answer_ok(struct sim_memory *m, const struct sim_tariff *t,
                     const struct plk_service *svc, const struct canned *c, const json_t *data,
                     long long now_ms, struct sim_answer *out)
{
    struct build b = {m, t, json_is_object(data) ? data : NULL, NULL, now_ms, out};
    char key[512] = "";

    if (c)
        event_key(c, data, key, sizeof key);
    out->duplicate = key[0] && json_object_get(m->processed, key) != NULL;
    if ((b.ans = base_answer(c, svc, data, 1)) == NULL)
        return -1;
    if (c && c->build && c->build(&b) != 0) {
        json_decref(b.ans);
        return -1;
    }
    if (out->body) { /* the builder answered with something that is not JSON (5.4) */
        json_decref(b.ans);
        out->status = 200;
        return 0;
    }
    if (!out->duplicate) {
        if (c && c->learn)
            c->learn(&b);
        if (key[0])
            remember(m->processed, key, json_true());
    }
    return finish_json(out, 200, b.ans);
}

int sim_answer_make(struct sim_memory *m, const struct sim_tariff *t, const struct plk_service *svc,
                    const json_t *data, enum sim_action action, unsigned arg, long long now_ms,
                    struct sim_answer *out)
{
    const struct canned *c = canned_for(svc);
    static const char bad_json[] = "{\"state\":1,\"errmsg\":\"成功\",";
    char msg[64];
    int rc;

    memset(out, 0, sizeof *out);
    switch (action) {
    case SIM_ACT_OK:
    case SIM_ACT_TIMEOUT:
    case SIM_ACT_DELAY:
        rc = answer_ok(m, t, svc, c, data, now_ms, out);
        break;
    case SIM_ACT_FAIL:
        rc = finish_json(out, 200, base_answer(c, svc, data, 0));
        break;
    case SIM_ACT_HTTP:
        snprintf(msg, sizeof msg, "HTTP %u", arg);
        rc = sim_answer_error(out, (int)arg, msg);
        break;
    case SIM_ACT_BAD_JSON:
        out->status = 200;
        out->content_type = SIM_JSON_TYPE;
        out->body = strdup(bad_json);
        out->len = sizeof bad_json - 1;
        out->logged = json_string(bad_json);
        rc = out->body && out->logged ? 0 : -1;
        break;
    case SIM_ACT_DROP:
    default:
        out->logged = json_null();
        rc = 0;
        break;
    }
    if (rc != 0)
        sim_answer_cleanup(out);
    return rc;
}

void sim_answer_cleanup(struct sim_answer *a)
{
    free(a->body);
    json_decref(a->logged);
    memset(a, 0, sizeof *a);
}

/* ---- tariff and memory ---------------------------------------------------------------- */

int sim_tariff_parse(struct sim_tariff *t, const char *text)
{
    double free_min, hour, cap = 0;
    char tail;
    int n = sscanf(text, "%lf:%lf:%lf%c", &free_min, &hour, &cap, &tail);

    if (n != 2 && n != 3)
        return -1;
    if (!(free_min >= 0 && free_min <= 1440 && hour >= 0 && hour <= 10000 && cap >= 0 &&
          cap <= 100000))
        return -1;
    t->free_min = (long)free_min;
    t->hour_cents = (long)llround(hour * 100);
    t->day_cap_cents = (long)llround(cap * 100);
    return 0;
}

int sim_memory_init(struct sim_memory *m)
{
    m->orders = json_object();
    m->vehicles = json_object();
    m->processed = json_object();
    if (m->orders && m->vehicles && m->processed)
        return 0;
    sim_memory_cleanup(m);
    return -1;
}

void sim_memory_reset(struct sim_memory *m)
{
    json_object_clear(m->orders);
    json_object_clear(m->vehicles);
    json_object_clear(m->processed);
}

void sim_memory_cleanup(struct sim_memory *m)
{
    json_decref(m->orders);
    json_decref(m->vehicles);
    json_decref(m->processed);
    memset(m, 0, sizeof *m);
}
