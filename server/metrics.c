/* metrics.c - per-worker counters summed into Prometheus text (see metrics.h).
 *
 * A counter has one writer, so an increment is a relaxed load plus a relaxed store (plain
 * moves on x86, no lock prefix); readers on the scrape thread use relaxed loads. Each
 * worker's block is cache-line aligned so workers never share a line. */
#include <dirent.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "parklink/services.h"
#include "metrics.h"
#include "outbox_metrics.h"

/* Histogram upper bounds, nanoseconds; the last bucket (+Inf) is implicit. */
static const uint64_t bounds_ns[] = {
    50000,     100000,    250000,    500000,     1000000,    2500000,    5000000,   10000000,
    25000000,  50000000,  100000000, 250000000,  500000000,  1000000000, 2500000000, 5000000000,
};
#define NBOUNDS (sizeof bounds_ns / sizeof bounds_ns[0])

typedef _Atomic uint64_t counter_t;

struct service_counters {
    counter_t requests, failures, pending;
    counter_t sum_ns;
    counter_t buckets[NBOUNDS + 1];
};

struct metrics_worker {
    counter_t http[METRICS_HTTP__COUNT];
    struct service_counters svc[]; /* nservices + 1 (the unrouted slot) */
};

static const char *const http_routes[] = {"unionapi", "admin", "healthz", "metrics", "other"};
static const char *const http_codes[] = {"400", "404", "405", "413", "429"};

static struct metrics_worker **workers;
static unsigned nworkers;
static size_t nslots; /* services + 1 */
static time_t start_time;

static inline void bump(counter_t *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

static inline uint64_t get(counter_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

int metrics_init(unsigned n)
{
    size_t nsvc, size;

    plk_services(&nsvc);
    nslots = nsvc + 1;
    size = sizeof(struct metrics_worker) + nslots * sizeof(struct service_counters);
    size = (size + 63) & ~(size_t)63;
    workers = calloc(n, sizeof *workers);
    if (workers == NULL)
        return -1;
    nworkers = n;
    for (unsigned i = 0; i < n; i++) {
        workers[i] = aligned_alloc(64, size);
        if (workers[i] == NULL)
            return -1;
        memset(workers[i], 0, size);
    }
    start_time = time(NULL);
    return 0;
}

void metrics_cleanup(void)
{
    for (unsigned i = 0; workers && i < nworkers; i++)
        free(workers[i]);
    free(workers);
    workers = NULL;
    nworkers = 0;
}

struct metrics_worker *metrics_worker(unsigned i)
{
    return i < nworkers ? workers[i] : NULL;
}

void metrics_record(struct metrics_worker *m, unsigned service, int state, uint64_t ns)
{
    struct service_counters *c = &m->svc[service < nslots - 1 ? service : nslots - 1];
    size_t b = 0;

    while (b < NBOUNDS && ns > bounds_ns[b])
        b++;
    bump(&c->requests, 1);
    if (state == 0)
        bump(&c->failures, 1);
    else if (state == 2)
        bump(&c->pending, 1);
    bump(&c->sum_ns, ns);
    bump(&c->buckets[b], 1);
}

void metrics_http(struct metrics_worker *m, enum metrics_http ev)
{
    bump(&m->http[ev], 1);
}

static void sum_slot(size_t slot, struct service_counters *out)
{
    /* the sum lives on the scrape thread's stack: plain adds into atomics are fine here */
    memset(out, 0, sizeof *out);
    for (unsigned w = 0; w < nworkers; w++) {
        struct service_counters *c = &workers[w]->svc[slot];
        bump(&out->requests, get(&c->requests));
        bump(&out->failures, get(&c->failures));
        bump(&out->pending, get(&c->pending));
        bump(&out->sum_ns, get(&c->sum_ns));
        for (size_t b = 0; b <= NBOUNDS; b++)
            bump(&out->buckets[b], get(&c->buckets[b]));
    }
}

static const char *slot_name(const struct plk_service *table, size_t slot)
{
    return slot < nslots - 1 ? table[slot].id : "unrouted";
}

static void render_services(FILE *out)
{
    const struct plk_service *table = plk_services(NULL);
    struct service_counters *sums = calloc(nslots, sizeof *sums);

    if (sums == NULL)
        return;
    for (size_t s = 0; s < nslots; s++)
        sum_slot(s, &sums[s]);

    fputs("# HELP parklink_requests_total Vendor API requests answered, by service.\n"
          "# TYPE parklink_requests_total counter\n", out);
    for (size_t s = 0; s < nslots; s++)
        if (get(&sums[s].requests))
            fprintf(out, "parklink_requests_total{service=\"%s\"} %llu\n", slot_name(table, s),
                    (unsigned long long)get(&sums[s].requests));
    fputs("# HELP parklink_failures_total Vendor API requests answered with state 0.\n"
          "# TYPE parklink_failures_total counter\n", out);
    for (size_t s = 0; s < nslots; s++)
        if (get(&sums[s].requests))
            fprintf(out, "parklink_failures_total{service=\"%s\"} %llu\n", slot_name(table, s),
                    (unsigned long long)get(&sums[s].failures));
    fputs("# HELP parklink_pending_total Vendor API requests answered with state 2.\n"
          "# TYPE parklink_pending_total counter\n", out);
    for (size_t s = 0; s < nslots; s++)
        if (get(&sums[s].requests))
            fprintf(out, "parklink_pending_total{service=\"%s\"} %llu\n", slot_name(table, s),
                    (unsigned long long)get(&sums[s].pending));

    fputs("# HELP parklink_request_duration_seconds Time from a vendor request's arrival to "
          "its reply.\n# TYPE parklink_request_duration_seconds histogram\n", out);
    for (size_t s = 0; s < nslots; s++) {
        uint64_t cum = 0;
        const char *name = slot_name(table, s);
        if (get(&sums[s].requests) == 0)
            continue;
        for (size_t b = 0; b <= NBOUNDS; b++) {
            cum += get(&sums[s].buckets[b]);
            if (b < NBOUNDS)
                fprintf(out, "parklink_request_duration_seconds_bucket{service=\"%s\",le=\"%g\"}"
                             " %llu\n", name, (double)bounds_ns[b] / 1e9, (unsigned long long)cum);
            else
                fprintf(out, "parklink_request_duration_seconds_bucket{service=\"%s\",le=\"+Inf\"}"
                             " %llu\n", name, (unsigned long long)cum);
        }
        fprintf(out, "parklink_request_duration_seconds_sum{service=\"%s\"} %.9f\n", name,
                (double)get(&sums[s].sum_ns) / 1e9);
        fprintf(out, "parklink_request_duration_seconds_count{service=\"%s\"} %llu\n", name,
                (unsigned long long)cum);
    }
    free(sums);
}

static void render_http(FILE *out)
{
    uint64_t sums[METRICS_HTTP__COUNT] = {0};

    for (unsigned w = 0; w < nworkers; w++)
        for (int e = 0; e < METRICS_HTTP__COUNT; e++)
            sums[e] += get(&workers[w]->http[e]);
    fputs("# HELP parklink_http_requests_total HTTP requests by route.\n"
          "# TYPE parklink_http_requests_total counter\n", out);
    for (int e = METRICS_HTTP_UNIONAPI; e <= METRICS_HTTP_OTHER; e++)
        fprintf(out, "parklink_http_requests_total{route=\"%s\"} %llu\n",
                http_routes[e - METRICS_HTTP_UNIONAPI], (unsigned long long)sums[e]);
    fputs("# HELP parklink_http_errors_total HTTP-level error replies parklinkd sent itself.\n"
          "# TYPE parklink_http_errors_total counter\n", out);
    for (int e = METRICS_HTTP_E400; e <= METRICS_HTTP_E429; e++)
        fprintf(out, "parklink_http_errors_total{code=\"%s\"} %llu\n",
                http_codes[e - METRICS_HTTP_E400], (unsigned long long)sums[e]);
}

static unsigned count_fds(void)
{
    unsigned n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* minus the directory stream's own fd */
}

static void render_process(FILE *out, const struct metrics_gauges *g)
{
    struct rusage ru;
    unsigned long pages_total = 0, pages_res = 0;
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%lu %lu", &pages_total, &pages_res) != 2)
            pages_total = pages_res = 0;
        fclose(f);
    }
    getrusage(RUSAGE_SELF, &ru);
    fprintf(out,
            "# HELP parklink_connections_open Client connections open now.\n"
            "# TYPE parklink_connections_open gauge\nparklink_connections_open %llu\n"
            "# HELP parklink_connections_total Client connections accepted.\n"
            "# TYPE parklink_connections_total counter\nparklink_connections_total %llu\n"
            "# HELP parklink_requests_in_flight Vendor and admin requests not yet answered.\n"
            "# TYPE parklink_requests_in_flight gauge\nparklink_requests_in_flight %llu\n"
            "# HELP parklink_worker_threads Worker threads (event loops).\n"
            "# TYPE parklink_worker_threads gauge\nparklink_worker_threads %u\n",
            (unsigned long long)g->connections_open, (unsigned long long)g->connections_total,
            (unsigned long long)g->requests_in_flight, g->threads);
    fprintf(out,
            "# HELP process_cpu_seconds_total User and system CPU time spent.\n"
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.3f\n"
            "# HELP process_resident_memory_bytes Resident memory size.\n"
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %llu\n"
            "# HELP process_virtual_memory_bytes Virtual memory size.\n"
            "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %llu\n"
            "# HELP process_open_fds Open file descriptors.\n"
            "# TYPE process_open_fds gauge\nprocess_open_fds %u\n"
            "# HELP process_start_time_seconds Start time, unix seconds.\n"
            "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %lld\n",
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
            (unsigned long long)pages_res * (unsigned long long)page,
            (unsigned long long)pages_total * (unsigned long long)page, count_fds(),
            (long long)start_time);
}

void metrics_render(FILE *out, const struct metrics_gauges *g)
{
    render_services(out);
    render_http(out);
    outbox_metrics_render(out); /* server/outbox_metrics.c */
    render_process(out, g);
}
