/* outbox_metrics.c - counters of the delivery thread, rendered as Prometheus text.
 *
 * One writer (the delivery thread), so an increment is a relaxed load and store; the scrape
 * reads with relaxed loads and may see values a few deliveries apart, never torn. */
#include <stdatomic.h>

#include "outbox_metrics.h"

/* latency bounds, milliseconds; +Inf implicit */
static const int64_t bounds_ms[] = {1,   2,    5,    10,    25,    50,     100,    250,
                                    500, 1000, 5000, 10000, 60000, 300000, 1800000};
#define NBOUNDS (sizeof bounds_ms / sizeof bounds_ms[0])

static const char *const labels[OUTBOX_R__COUNT] = {
    "ok",      "refused", "http_error", "bad_reply", "timeout",
    "network", "no_url",  "polled",     "acked",     "nacked",
};

typedef _Atomic uint64_t counter_t;

static counter_t results[OUTBOX_R__COUNT];
static counter_t buckets[NBOUNDS + 1];
static counter_t sum_ms, delivered, dead_total, pruned_total;
static _Atomic int64_t pending_now, dead_now;

static void bump(counter_t *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

static uint64_t get(counter_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void outbox_metrics_result(enum outbox_result r)
{
    if ((unsigned)r < OUTBOX_R__COUNT)
        bump(&results[r], 1);
}

void outbox_metrics_delivered(int64_t latency_ms)
{
    size_t b = 0;

    if (latency_ms < 0)
        latency_ms = 0;
    while (b < NBOUNDS && latency_ms > bounds_ms[b])
        b++;
    bump(&buckets[b], 1);
    bump(&sum_ms, (uint64_t)latency_ms);
    bump(&delivered, 1);
}

void outbox_metrics_dead(void)
{
    bump(&dead_total, 1);
}

void outbox_metrics_pruned(int64_t n)
{
    if (n > 0)
        bump(&pruned_total, (uint64_t)n);
}

void outbox_metrics_gauges(int64_t pending, int64_t dead)
{
    atomic_store_explicit(&pending_now, pending, memory_order_relaxed);
    atomic_store_explicit(&dead_now, dead, memory_order_relaxed);
}

void outbox_metrics_render(FILE *out)
{
    uint64_t cum = 0;

    fprintf(out,
            "# HELP parklink_outbox_pending Outbox messages waiting for delivery.\n"
            "# TYPE parklink_outbox_pending gauge\nparklink_outbox_pending %lld\n"
            "# HELP parklink_outbox_dead Outbox messages given up (replayable by admin).\n"
            "# TYPE parklink_outbox_dead gauge\nparklink_outbox_dead %lld\n"
            "# HELP parklink_outbox_given_up_total Messages marked dead by this process.\n"
            "# TYPE parklink_outbox_given_up_total counter\n"
            "parklink_outbox_given_up_total %llu\n"
            "# HELP parklink_outbox_pruned_total Delivered messages deleted after "
            "--outbox-retention.\n"
            "# TYPE parklink_outbox_pruned_total counter\n"
            "parklink_outbox_pruned_total %llu\n",
            (long long)atomic_load_explicit(&pending_now, memory_order_relaxed),
            (long long)atomic_load_explicit(&dead_now, memory_order_relaxed),
            (unsigned long long)get(&dead_total), (unsigned long long)get(&pruned_total));
    fputs("# HELP parklink_outbox_attempts_total Delivery attempts by result.\n"
          "# TYPE parklink_outbox_attempts_total counter\n",
          out);
    for (int r = 0; r < OUTBOX_R__COUNT; r++)
        fprintf(out, "parklink_outbox_attempts_total{result=\"%s\"} %llu\n", labels[r],
                (unsigned long long)get(&results[r]));
    fputs("# HELP parklink_outbox_delivery_seconds Time from enqueue (the committed write) to "
          "the vendor's acknowledgement.\n# TYPE parklink_outbox_delivery_seconds histogram\n",
          out);
    for (size_t b = 0; b <= NBOUNDS; b++) {
        cum += get(&buckets[b]);
        if (b < NBOUNDS)
            fprintf(out, "parklink_outbox_delivery_seconds_bucket{le=\"%g\"} %llu\n",
                    (double)bounds_ms[b] / 1e3, (unsigned long long)cum);
        else
            fprintf(out, "parklink_outbox_delivery_seconds_bucket{le=\"+Inf\"} %llu\n",
                    (unsigned long long)cum);
    }
    fprintf(out,
            "parklink_outbox_delivery_seconds_sum %.3f\n"
            "parklink_outbox_delivery_seconds_count %llu\n",
            (double)get(&sum_ms) / 1e3, (unsigned long long)cum);
}
