/* fields.h - what the record handlers (parks, orders, queries, reports) share: reading and
 * checking data fields beyond the schema, formatting money and China Standard Time, and
 * refusing a call with a clear errmsg.
 *
 * The pipeline's schema step has checked presence, types, lengths and enumerations; these
 * helpers check meaning (a plate that normalises, money with at most two decimals, a
 * plausible unix time) and name the field in every refusal. Worker thread, pool memory. */
#ifndef PARKLINK_API_FIELDS_H
#define PARKLINK_API_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "api/pipeline.h"
#include "admission/registry.h"

#define API_TIME_MIN 946684800           /* 2000-01-01: earlier unix seconds are not real records */
#define API_TIME_AHEAD 86400             /* a lane clock may run ahead of ours by up to a day */
#define API_MONEY_MAX_FEN 100000000000LL /* 10^9 yuan */

/* Reply state 0 with errmsg printf(fmt, ...) (pool memory). Returns API_DONE. */
enum api_result api_refuse(struct api_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The readers fall back to the reply: each returns 1 present and valid, 0 absent (or null),
 * -1 invalid, the call already refused with an errmsg naming the field. */

/* data.name as a plate, normalised (registry_plate_norm) into out. */
int api_plate(struct api_call *call, const char *name, char out[REGISTRY_PLATE_MAX + 1]);

/* data.name as money in fen: "12", "12.5", "12.50", 12, 12.5; not negative, at most two
 * decimals, at most API_MONEY_MAX_FEN. */
int api_money(struct api_call *call, const char *name, int64_t *fen);

/* data.name as unix seconds in [API_TIME_MIN, now + API_TIME_AHEAD]. */
int api_time(struct api_call *call, const char *name, int64_t *t);

/* data.name as a whole number in [min, max]. */
int api_int(struct api_call *call, const char *name, int64_t min, int64_t max, int64_t *v);

/* data.name's text (string, or a number written in decimal) copied into the pool; NULL when
 * absent or null. */
const char *api_text(struct api_call *call, const char *name);

/* "12.00" for 1200 fen. */
void api_money_text(int64_t fen, char out[32]);

/* China Standard Time (UTC+8, spec 1.7): "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd". */
void api_cst_datetime(int64_t t, char out[20]);
void api_cst_date(int64_t t, char out[11]);
/* 00:00 CST of t's day, and the same instant one calendar month later (the 31st of a month
 * followed by a shorter one maps to that month's last day). */
int64_t api_cst_day_start(int64_t t);
int64_t api_cst_month_after(int64_t t);

/* A stay's length as the reference writes it: "1天2小时5分钟". */
void api_duration_text(int64_t secs, char *out, size_t cap);

/* Put the members of obj beside state and errmsg (pipeline_reply_members); takes the
 * reference. 0, or -1 with the reply set to an error. Call after pipeline_reply(). */
int api_reply_members(struct api_call *call, json_t *obj);

#endif
