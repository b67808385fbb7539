/* registry_bench.c - memory and speed of the admission snapshot with a big city blacklist.
 *
 * Fills a temporary SQLite store with N blacklisted plates (default 1,000,000), then measures:
 * the full snapshot build (registry_init), resident memory, admission_decide latency (hits
 * and misses), one admin change (delta rebuild), and a merge. Not part of ctest. Build from a
 * release build tree (after `cmake --build build --target parklinkd_core`):
 *   cc -O2 -Iserver -Iinclude bench/registry_bench.c build/server/libparklinkd_core.a \
 *      build/lib/libparklink.a $(pkg-config --libs jansson libcurl sqlite3 libh2o-evloop) \
 *      -lssl -lcrypto -lpthread -lm -o registry_bench && ./registry_bench [N] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admission/registry.h"
#include "admission/rules.h"
#include "store/store.h"

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* VmRSS or VmHWM of this process, in MiB. */
static double proc_mib(const char *field)
{
    char line[256];
    double kib = 0;
    FILE *f = fopen("/proc/self/status", "r");

    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, field, strlen(field)) == 0)
            kib = atof(line + strlen(field) + 1);
    }
    if (f != NULL)
        fclose(f);
    return kib / 1024.0;
}

static void plate_of(long i, char *out, size_t len)
{
    snprintf(out, len, "京%c%05ld", (char)('A' + i / 100000 % 26), i % 100000);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000, batch = 100000;
    char dir[] = "/tmp/plk-bench-XXXXXX", path[128], err[256];
    struct store_blacklist *e = calloc((size_t)batch, sizeof(*e));
    struct registry_stats rs;
    struct snapshot_reader rd = {0};
    struct store_vendor v = {0};
    struct store_park p = {0};
    struct store_blacklist one = {0};
    const struct snapshot *s;
    char *qs;
    const struct park *pk;
    struct admission a;
    struct store *st;
    double t0, rss0, refused = 0;
    long lookups = 2000000;
    int64_t now = (int64_t)time(NULL);

    if (mkdtemp(dir) == NULL || e == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/bench.db", dir);
    st = store_open(path, err, sizeof(err));
    if (st == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    snprintf(v.union_id, sizeof(v.union_id), "200002");
    snprintf(v.ukey, sizeof(v.ukey), "K");
    snprintf(p.park_id, sizeof(p.park_id), "20003");
    snprintf(p.union_id, sizeof(p.union_id), "200002");
    store_vendor_put(st, &v, STORE_INSERT, NULL);
    store_park_put(st, &p, STORE_INSERT, NULL);

    t0 = now_ms();
    for (long done = 0; done < n; done += batch) {
        long k = n - done < batch ? n - done : batch;

        for (long i = 0; i < k; i++) {
            plate_of(done + i, e[i].plate, sizeof(e[i].plate));
            e[i].color = (done + i) % 10 == 0 ? -1 : (int)((done + i) % 3);
        }
        if (store_blacklist_add_bulk(st, e, (size_t)k, NULL) != STORE_OK)
            return 1;
    }
    printf("store: %ld plates inserted in %.0f ms\n", n, now_ms() - t0);

    rss0 = proc_mib("VmRSS:");
    t0 = now_ms();
    if (registry_init(st) != 0)
        return 1;
    registry_get_stats(&rs);
    printf("registry_init (full load of %zu entries): %.0f ms\n", rs.base[0], now_ms() - t0);
    printf("snapshot heap: %.1f MiB (%.1f bytes/plate); RSS %.1f -> %.1f MiB, peak %.1f MiB\n",
           (double)rs.bytes / 1048576.0, (double)rs.bytes / (double)(n ? n : 1), rss0,
           proc_mib("VmRSS:"), proc_mib("VmHWM:"));

    s = registry_current(&rd);
    pk = snapshot_park(s, "20003");
    /* the plates to ask, made beforehand so only admission_decide is timed */
    qs = malloc((size_t)lookups * 16);
    if (qs == NULL)
        return 1;
    for (long i = 0; i < lookups; i++)
        plate_of((i * 7919) % (2 * n), qs + i * 16, 16); /* half beyond n: misses */
    t0 = now_ms();
    for (long i = 0; i < lookups; i++) {
        admission_decide(s, pk, qs + i * 16, (int)((i * 7919) % (2 * n) % 3), now, &a);
        refused += a.status[0] == '0';
    }
    printf("admission_decide: %.0f ns/check over %ld checks (%.0f%% refused)\n",
           (now_ms() - t0) * 1e6 / (double)lookups, lookups, 100.0 * refused / (double)lookups);

    snprintf(one.plate, sizeof(one.plate), "沪Z99999");
    store_blacklist_add(st, &one);
    t0 = now_ms();
    registry_reload();
    registry_get_stats(&rs);
    printf("one admin change + reload: %.2f ms (delta %zu, base %zu)\n", now_ms() - t0, rs.delta[0],
           rs.base[0]);
    store_blacklist_delete(st, 1);
    t0 = now_ms();
    registry_reload();
    printf("one delete + reload: %.2f ms\n", now_ms() - t0);

    for (long i = 0; i < 20000 && i < batch; i++) {
        plate_of(n + i, e[i].plate, sizeof(e[i].plate));
        e[i].color = 0;
    }
    store_blacklist_add_bulk(st, e, 20000, NULL);
    t0 = now_ms();
    registry_reload();
    registry_get_stats(&rs);
    printf("20k-entry change + reload (merge into a new base): %.0f ms (delta %zu, base %zu)\n",
           now_ms() - t0, rs.delta[0], rs.base[0]);
    printf("peak RSS of the whole process: %.1f MiB\n", proc_mib("VmHWM:"));

    registry_reader_release(&rd);
    registry_cleanup();
    store_close(st);
    free(e);
    free(qs);
    snprintf(err, sizeof(err), "rm -rf %s", dir);
    return system(err) == 0 ? 0 : 1;
}
