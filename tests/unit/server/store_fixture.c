/* store_fixture.c - fresh stores for unit tests on the engine PLK_TEST_ENGINE names
 * (store_fixture.h): SQLite files in temp dirs, PostgreSQL databases on PLK_TEST_PG.
 *
 * Compiled into every server unit test (tests/CMakeLists.txt); the ones that do not use it
 * do not call it. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store_fixture.h"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "store_fixture: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1);
}

/* A run registered for PostgreSQL that never made a PostgreSQL database tested SQLite (or
 * nothing) under PostgreSQL's name: fail it at exit instead of letting it pass. */
static int made_pg;

static void check_made_pg(void)
{
    if (!made_pg) {
        fflush(NULL); /* what the test printed, before _exit drops it */
        fprintf(stderr, "store_fixture: PLK_TEST_ENGINE=postgresql, but this test made no "
                        "PostgreSQL store (does it use store_fixture_init?)\n");
        _exit(1);
    }
}

__attribute__((constructor)) static void fixture_guard(void)
{
    const char *e = getenv("PLK_TEST_ENGINE");

    if (e != NULL && strcmp(e, "postgresql") == 0)
        atexit(check_made_pg);
}

const char *store_fixture_engine(void)
{
    const char *e = getenv("PLK_TEST_ENGINE");

    if (e == NULL || e[0] == '\0' || strcmp(e, "sqlite") == 0)
        return "sqlite";
    if (strcmp(e, "postgresql") != 0)
        die("PLK_TEST_ENGINE='%s': expected sqlite or postgresql", e);
    if (getenv("PLK_TEST_PG") == NULL || getenv("PLK_TEST_PG")[0] == '\0')
        die("PLK_TEST_ENGINE=postgresql but PLK_TEST_PG is unset: run the tests with "
            "scripts/test.sh, which starts a throwaway cluster (scripts/pg-test-cluster.sh)");
    return "postgresql";
}

int store_fixture_pg_uri(const char *base, const char *dbname, char *out, size_t len)
{
    const char *auth = strstr(base, "://"), *path, *query;
    int n;

    if (auth == NULL)
        return -1;
    auth += 3;
    query = strchr(auth, '?');
    if (query == NULL)
        query = auth + strlen(auth);
    path = memchr(auth, '/', (size_t)(query - auth));
    if (path == NULL)
        path = query;
    n = snprintf(out, len, "%.*s/%s%s", (int)(path - base), base, dbname, query);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void notice_quiet(void *arg, const char *msg) {}

int store_fixture_pg_admin(const char *sql)
{
    const char *base = getenv("PLK_TEST_PG");
    PGconn *c;
    PGresult *res;
    int ok;

    if (base == NULL)
        die("PLK_TEST_PG is unset");
    c = PQconnectdb(base);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "store_fixture: cannot connect to PLK_TEST_PG: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    PQsetNoticeProcessor(c, notice_quiet, NULL);
    res = PQexec(c, sql);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "store_fixture: %s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(c);
    return ok ? 0 : -1;
}

const char *store_fixture_init(struct store_fixture *f, const char *engine)
{
    memset(f, 0, sizeof *f);
    if (engine == NULL)
        engine = store_fixture_engine();
    if (strcmp(engine, "postgresql") == 0) {
        char sql[96];
        FILE *r = fopen("/dev/urandom", "rb");
        unsigned char b[8];
        size_t i;

        if (getenv("PLK_TEST_PG") == NULL || getenv("PLK_TEST_PG")[0] == '\0')
            die("a PostgreSQL test needs PLK_TEST_PG (scripts/test.sh sets it)");
        if (r == NULL || fread(b, 1, sizeof b, r) != sizeof b)
            die("cannot read /dev/urandom");
        fclose(r);
        strcpy(f->dbname, "plk_");
        for (i = 0; i < sizeof b; i++)
            sprintf(f->dbname + 4 + 2 * i, "%02x", b[i]);
        if (store_fixture_pg_uri(getenv("PLK_TEST_PG"), f->dbname, f->uri, sizeof f->uri) != 0)
            die("PLK_TEST_PG='%s' is no postgresql:// URI", getenv("PLK_TEST_PG"));
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->dbname);
        if (store_fixture_pg_admin(sql) != 0)
            die("cannot create database %s", f->dbname);
        f->pg = 1;
        made_pg = 1;
        return f->uri;
    }
    snprintf(f->dir, sizeof f->dir, "/tmp/plk-ut-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        die("mkdtemp %s failed", f->dir);
    snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
    snprintf(f->uri, sizeof f->uri, "%s", f->path);
    return f->uri;
}

void store_fixture_fini(struct store_fixture *f)
{
    if (f->pg) {
        char sql[96];

        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", f->dbname);
        store_fixture_pg_admin(sql);
    } else if (f->dir[0] != '\0') {
        DIR *d = opendir(f->dir);
        struct dirent *e;
        char p[600];

        while (d != NULL && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            unlink(p);
        }
        if (d != NULL)
            closedir(d);
        rmdir(f->dir);
    }
    memset(f, 0, sizeof *f);
}

struct store *store_fixture_open(struct store_fixture *f)
{
    char err[512];
    struct store *st = store_open(f->uri, err, sizeof err);

    if (st == NULL)
        die("store_open(%s): %s", f->uri, err);
    return st;
}

struct store_session *store_fixture_session(struct store *st)
{
    char err[512];
    struct store_session *s = store_session_open(st, err, sizeof err);

    if (s == NULL)
        die("store_session_open: %s", err);
    return s;
}
