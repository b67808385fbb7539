/* metrics.h - per-service request counters and latency histograms, Prometheus text output.
 *
 * Each worker thread owns one struct metrics_worker and is its only writer (plain relaxed
 * stores, no locked instructions on the hot path); GET /metrics sums all workers when it is
 * scraped. Services are the rows of the service table (plk_service.index); requests that
 * never reached a known service are counted under the extra slot METRICS_UNROUTED. */
#ifndef PARKLINK_METRICS_H
#define PARKLINK_METRICS_H

#include <stdint.h>
#include <stdio.h>

#define METRICS_UNROUTED ((unsigned)-1)

/* HTTP-level events, counted per worker. */
enum metrics_http {
    METRICS_HTTP_UNIONAPI = 0, /* a POST that entered the vendor pipeline */
    METRICS_HTTP_ADMIN,
    METRICS_HTTP_HEALTHZ,
    METRICS_HTTP_METRICS,
    METRICS_HTTP_OTHER,        /* anything else (answered 404/405) */
    METRICS_HTTP_E400,
    METRICS_HTTP_E404,
    METRICS_HTTP_E405,
    METRICS_HTTP_E413,
    METRICS_HTTP_E429,
    METRICS_HTTP__COUNT
};

struct metrics_worker;

/* Gauges the caller knows and metrics.c does not (the HTTP front's connection counts). */
struct metrics_gauges {
    uint64_t connections_open;
    uint64_t connections_total;
    uint64_t requests_in_flight;
    unsigned threads;
};

/* Allocate the counters of nworkers workers. 0 ok, -1 out of memory. Before threads start. */
int metrics_init(unsigned nworkers);
/* Free them; after every worker has stopped. */
void metrics_cleanup(void);

/* Worker i's counters (i < nworkers). Only worker i may write through it. */
struct metrics_worker *metrics_worker(unsigned i);

/* Count one finished vendor request: service row index (or METRICS_UNROUTED), the reply's
 * state (0 counts as a failure, 2 as pending) and its latency in nanoseconds. */
void metrics_record(struct metrics_worker *m, unsigned service, int state, uint64_t ns);

/* Count one HTTP-level event. */
void metrics_http(struct metrics_worker *m, enum metrics_http ev);

/* Write the Prometheus text exposition (format 0.0.4) of all workers' sums, the gauges and
 * process metrics to out. Any thread; concurrent with writers (values may be a few
 * requests apart from each other, never torn). */
void metrics_render(FILE *out, const struct metrics_gauges *g);

#endif
