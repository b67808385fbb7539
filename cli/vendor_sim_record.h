/* vendor_sim_record.h - what `parklink vendor-sim` keeps of the messages it answered.
 *
 * Every message becomes one JSON object, numbered in the order it was answered (`seq`),
 * written as one flushed line to the log stream (tests tail it) and kept in a bounded ring
 * for GET /_sim/messages, with counters per service_name and per answer for
 * GET /_sim/stats. Single-threaded. */
#ifndef PARKLINK_VENDOR_SIM_RECORD_H
#define PARKLINK_VENDOR_SIM_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#define SIM_RECORDS_MAX_BYTES (256u << 20) /* the ring never holds more text than this */

struct sim_entry {
    uint64_t seq;
    char *service; /* "" when the service is unknown */
    char *line;    /* the compact JSON text */
    size_t len;
};

struct sim_records {
    FILE *out;   /* log stream, or NULL */
    int own_out; /* out was opened here (--log FILE) */
    struct sim_entry *ring;
    size_t cap, first, n, bytes;
    uint64_t next_seq;
    uint64_t total;
    json_t *by_service; /* service_name -> count */
    json_t *by_answer;  /* action label -> count */
};

/* Set up: log to the file at log_path (appended, created if missing), else to stdout when
 * to_stdout, else nowhere; keep the last `keep` (>= 1) messages. -1 with a reason in err. */
int sim_records_init(struct sim_records *r, const char *log_path, int to_stdout, size_t keep,
                     char *err, size_t errcap);

/* Number, log and keep a record. rec (borrowed) must already hold a "seq" member, which is
 * set here; service is the service_name ("" if unknown), action the answer's label.
 * Returns the seq given. A log write failure is reported once on stderr and ignored. */
uint64_t sim_records_add(struct sim_records *r, json_t *rec, const char *service,
                         const char *action);

/* The kept records with seq > since (and, if service is not NULL, of that service_name),
 * oldest first, as a JSON array text: malloc'd, *len set. NULL on allocation failure. */
char *sim_records_list(const struct sim_records *r, uint64_t since, const char *service,
                       size_t *len);

/* {"messages","kept","last_seq","by_service":{...},"by_answer":{...}}; new reference. */
json_t *sim_records_stats(const struct sim_records *r);

/* Forget the kept records and counters (seq keeps counting; the log is not truncated). */
void sim_records_reset(struct sim_records *r);

/* Free everything and close a log file opened by init. */
void sim_records_cleanup(struct sim_records *r);

#endif
