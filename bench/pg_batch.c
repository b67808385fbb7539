/* pg_batch.c - the anchor of bench/pg_uploads.sh: plain libpq inserting the rows that 3.1 entry
 * uploads store, in BATCH-row transactions, synchronous_commit on, into parklinkd's own orders
 * table (the database must have been migrated by parklinkd first).
 *
 * No HTTP, no JSON, no signature, no duplicate check, no stale-stay closure, no outbox: the
 * cost of the durable writes alone, which parklinkd's group commit is measured against. CONNS
 * connections (one thread each) share the rows. Prints "ROWS_PER_SEC <n>".
 * Usage: pg_batch CONNINFO [ROWS] [BATCH] [CONNS] [PREFIX] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

struct worker {
    const char *conninfo, *prefix;
    long first, rows, batch;
    int index;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(PGconn *c, PGresult *res, ExecStatusType want, const char *what)
{
    if (PQresultStatus(res) != want) {
        fprintf(stderr, "pg_batch: %s: %s", what, PQerrorMessage(c));
        exit(1);
    }
    PQclear(res);
}

static void *run(void *arg)
{
    struct worker *w = arg;
    PGconn *c = PQconnectdb(w->conninfo);
    char order_id[48], plate[32], in_time[24], now[24];
    const char *params[4] = {order_id, plate, in_time, now};

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg_batch: connect: %s", PQerrorMessage(c));
        exit(1);
    }
    check(c, PQexec(c, "SET synchronous_commit = on"), PGRES_COMMAND_OK, "set");
    check(c,
          PQprepare(c, "ins",
                    "INSERT INTO orders (park_id, order_id, union_id, car_number, color, state, "
                    "in_time, out_time, in_empty_plot, created, updated) VALUES ('20003', $1, "
                    "'200002', $2, 0, 0, $3::bigint, 0, 100, $4::bigint, $4::bigint)",
                    4, NULL),
          PGRES_COMMAND_OK, "prepare");
    snprintf(in_time, sizeof in_time, "%ld", (long)time(NULL) - 60);
    for (long i = w->first; i < w->first + w->rows; i++) {
        long k = i - w->first;

        if (k % w->batch == 0)
            check(c, PQexec(c, "BEGIN"), PGRES_COMMAND_OK, "begin");
        snprintf(order_id, sizeof order_id, "%s%07ld", w->prefix, i);
        snprintf(plate, sizeof plate, "\xe4\xba\xac" "B%05ld", i % 100000);
        snprintf(now, sizeof now, "%ld", (long)time(NULL));
        check(c, PQexecPrepared(c, "ins", 4, params, NULL, NULL, 0), PGRES_COMMAND_OK, "insert");
        if (k % w->batch == w->batch - 1 || k == w->rows - 1)
            check(c, PQexec(c, "COMMIT"), PGRES_COMMAND_OK, "commit");
    }
    PQfinish(c);
    return NULL;
}

int main(int argc, char **argv)
{
    long rows = argc > 2 ? atol(argv[2]) : 200000, batch = argc > 3 ? atol(argv[3]) : 64;
    int conns = argc > 4 ? atoi(argv[4]) : 1;
    const char *prefix = argc > 5 ? argv[5] : "anchor";
    struct worker w[64];
    pthread_t tid[64];
    double t0, t;

    if (argc < 2 || rows <= 0 || batch <= 0 || conns <= 0 || conns > 64) {
        fprintf(stderr, "usage: pg_batch CONNINFO [ROWS] [BATCH] [CONNS 1-64] [PREFIX]\n");
        return 2;
    }
    t0 = now_s();
    for (int i = 0; i < conns; i++) {
        w[i] = (struct worker){.conninfo = argv[1], .prefix = prefix, .batch = batch, .index = i};
        w[i].first = rows / conns * i;
        w[i].rows = i == conns - 1 ? rows - w[i].first : rows / conns;
        pthread_create(&tid[i], NULL, run, &w[i]);
    }
    for (int i = 0; i < conns; i++)
        pthread_join(tid[i], NULL);
    t = now_s() - t0;
    printf("ROWS %ld BATCH %ld CONNS %d SECONDS %.3f ROWS_PER_SEC %.0f\n", rows, batch, conns, t,
           rows / t);
    return 0;
}
