/* outbox_metrics.h - what /metrics says about the outbox: gauges, results, latency.
 *
 * The delivery thread is the only writer (relaxed atomic stores, as in metrics.c); the
 * /metrics scrape reads them from a worker. Rendered after the per-service figures by
 * metrics_render(). */
#ifndef PARKLINK_OUTBOX_METRICS_H
#define PARKLINK_OUTBOX_METRICS_H

#include <stdint.h>
#include <stdio.h>

/* How one delivery attempt ended (the label of parklink_outbox_attempts_total). */
enum outbox_result {
    OUTBOX_R_OK = 0,     /* HTTP 2xx with JSON state 1 (questions: any 2xx answer) */
    OUTBOX_R_REFUSED,    /* a JSON answer with another state */
    OUTBOX_R_HTTP_ERROR, /* a status other than 2xx */
    OUTBOX_R_BAD_REPLY,  /* not a JSON object, or no state */
    OUTBOX_R_TIMEOUT,    /* no answer in time */
    OUTBOX_R_NETWORK,    /* connection refused, reset, DNS ... */
    OUTBOX_R_NO_URL,     /* the vendor has no URL for it */
    OUTBOX_R_POLLED,     /* handed to a long-poll */
    OUTBOX_R_ACKED,      /* acknowledged with state 1 through bpd/upload.do */
    OUTBOX_R_NACKED,     /* acknowledged with another state */
    OUTBOX_R__COUNT
};

/* Count one attempt's result. Delivery thread. */
void outbox_metrics_result(enum outbox_result r);
/* A message was delivered latency_ms after it was enqueued. Delivery thread. */
void outbox_metrics_delivered(int64_t latency_ms);
/* A message was given up (marked dead). Delivery thread. */
void outbox_metrics_dead(void);
/* n delivered messages were deleted after the retention. Delivery thread. */
void outbox_metrics_pruned(int64_t n);
/* The current number of pending and dead messages. Delivery thread. */
void outbox_metrics_gauges(int64_t pending, int64_t dead);

/* Prometheus text of the above. Any thread. */
void outbox_metrics_render(FILE *out);

#endif
