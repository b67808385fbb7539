/* sqlite_batch.c - the anchor of bench/uploads.sh: plain SQLite inserting the rows that 3.1
 * entry uploads store, in 64-row transactions with the server's durability (WAL,
 * synchronous=FULL), into the server's own schema (server/store/migrations.c).
 *
 * No HTTP, no JSON, no signature, no duplicate check, no stale-stay closure: the cost of the
 * durable writes alone, which parklinkd's group commit is measured against. Prints
 * "ROWS_PER_SEC <n>". Usage: sqlite_batch DB_PATH [ROWS] [BATCH] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sqlite3.h>

#include "store/migrations.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int rc, sqlite3 *db, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "sqlite_batch: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    long rows = argc > 2 ? atol(argv[2]) : 200000, batch = argc > 3 ? atol(argv[3]) : 64;
    long in_time = (long)time(NULL) - 60;
    sqlite3 *db;
    sqlite3_stmt *ins;
    char order_id[32], plate[32];
    double t0, t;

    if (argc < 2 || rows <= 0 || batch <= 0) {
        fprintf(stderr, "usage: sqlite_batch DB_PATH [ROWS] [BATCH]\n");
        return 2;
    }
    check(sqlite3_open(argv[1], &db), db, "open");
    check(sqlite3_exec(db,
                       "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                       "PRAGMA foreign_keys = ON",
                       NULL, NULL, NULL),
          db, "pragmas");
    for (size_t i = 0; i < store_sqlite_migration_count; i++)
        check(sqlite3_exec(db, store_sqlite_migrations[i], NULL, NULL, NULL), db, "schema");
    check(sqlite3_prepare_v2(db,
                             "INSERT INTO orders (park_id, order_id, union_id, car_number, color, "
                             "state, in_time, out_time, in_empty_plot, created, updated) VALUES "
                             "('20003', ?1, '200002', ?2, 0, 0, ?3, 0, 100, ?4, ?4)",
                             -1, &ins, NULL),
          db, "prepare");
    t0 = now_s();
    for (long i = 0; i < rows; i++) {
        if (i % batch == 0)
            check(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), db, "begin");
        snprintf(order_id, sizeof order_id, "b%07ld", i);
        snprintf(plate, sizeof plate,
                 "\xe4\xba\xac"
                 "B%05ld",
                 i % 100000);
        sqlite3_bind_text(ins, 1, order_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, plate, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, in_time);
        sqlite3_bind_int64(ins, 4, (sqlite3_int64)time(NULL));
        check(sqlite3_step(ins), db, "insert");
        sqlite3_reset(ins);
        if (i % batch == batch - 1 || i == rows - 1)
            check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
    }
    t = now_s() - t0;
    printf("ROWS %ld BATCH %ld SECONDS %.3f ROWS_PER_SEC %.0f\n", rows, batch, t, rows / t);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return 0;
}
