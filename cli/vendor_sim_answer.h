/* vendor_sim_answer.h - what `parklink vendor-sim` answers, and what it remembers.
 *
 * One table (vendor_sim_answer.c) gives, per P->V row of the service table, the answer a
 * vendor sends back as the reference prints it (chapters 5, 6.4, 9.1, 11): its errmsg
 * texts, the request fields it echoes, the field that identifies a business event for
 * de-duplication, and for the questions (QUESTION rows) a builder that computes the answer
 * from the request and from what earlier messages taught the simulated car park (entry
 * times, prepayments, monthly and special vehicles). Single-threaded. */
#ifndef PARKLINK_VENDOR_SIM_ANSWER_H
#define PARKLINK_VENDOR_SIM_ANSWER_H

#include <stddef.h>
#include <jansson.h>
#include "parklink/services.h"
#include "vendor_sim_script.h"

#define SIM_JSON_TYPE "application/json;charset=utf-8"
#define SIM_MEMORY_MAX 100000 /* keys per memory table; a full table starts over */

/* The simulated car park's tariff for 5.1 query_price. */
struct sim_tariff {
    long free_min;      /* a stay up to this many minutes is free */
    long hour_cents;    /* then this much per started hour */
    long day_cap_cents; /* at most this much per 24 h; 0: no cap */
};

/* What the simulated car park has learnt from the messages it processed. */
struct sim_memory {
    json_t *orders;    /* "park_id/order_id" or "park_id/#plate" -> {"in_ms","prepaid_cents"} */
    json_t *vehicles;  /* "park_id/0/plate" (monthly), "park_id/1/plate" (special) -> record */
    json_t *processed; /* "row_id/event key" of every event answered state 1 -> true */
};

/* One answer ready to send. */
struct sim_answer {
    int status;               /* HTTP status; 0 for "no answer" (drop) */
    const char *content_type; /* static string */
    char *body;               /* malloc'd (NULL for drop) */
    size_t len;
    json_t *logged; /* owned: what the log records as "answer" (JSON answer, the
                       text of a non-JSON one, or a description of an image) */
    int duplicate;  /* the event was already answered state 1 before */
};

/* Parse "FREE_MIN:YUAN_PER_HOUR[:DAILY_CAP_YUAN]" ("15:2:20"). 0 ok, -1 if malformed. */
int sim_tariff_parse(struct sim_tariff *t, const char *text);

/* Create / empty / free the memory tables. init returns -1 on allocation failure. */
int sim_memory_init(struct sim_memory *m);
void sim_memory_reset(struct sim_memory *m);
void sim_memory_cleanup(struct sim_memory *m);

/* Build the answer the script decided (action/arg) to a verified message of row `svc`
 * (NULL: a message whose service is unknown) with `data` (an object, or an array for 9.1),
 * received at now_ms (Unix ms). SIM_ACT_OK, TIMEOUT and DELAY all build the success
 * answer (the caller decides when to send it); building it also teaches `m` what the
 * message says, unless the event was already processed (out->duplicate). FAIL builds state
 * 0 with the row's failure text, HTTP an error status with a state-0 JSON body, BAD_JSON a
 * truncated JSON text, DROP nothing (status 0). Returns 0, or -1 on allocation failure
 * (out then holds nothing). Always pair with sim_answer_cleanup(). */
int sim_answer_make(struct sim_memory *m, const struct sim_tariff *t, const struct plk_service *svc,
                    const json_t *data, enum sim_action action, unsigned arg, long long now_ms,
                    struct sim_answer *out);

/* A {"state":0,"errmsg":errmsg} answer with HTTP `status` (sign errors, bad bodies,
 * control-endpoint errors). 0, or -1 on allocation failure. */
int sim_answer_error(struct sim_answer *out, int status, const char *errmsg);

/* Any JSON value as a JSON answer with HTTP `status`; takes the reference to v. */
int sim_answer_json(struct sim_answer *out, int status, json_t *v);

/* Free what an answer holds; safe on a zeroed one. */
void sim_answer_cleanup(struct sim_answer *a);

#endif
