/* store_fixture.h - a fresh, empty store for each store-level unit test, on either engine.
 *
 * PLK_TEST_ENGINE picks the engine of the run: "sqlite" (the default: a file in a new temp
 * dir) or "postgresql" (CREATE DATABASE plk_<random> on the cluster PLK_TEST_PG names, which
 * scripts/test.sh starts; dropped again by store_fixture_fini). ctest registers each store
 * test once per engine (tests/CMakeLists.txt); tests/README.md tells how it works. */
#ifndef PARKLINK_TESTS_STORE_FIXTURE_H
#define PARKLINK_TESTS_STORE_FIXTURE_H

#include <stddef.h>

#include "store/store.h"

struct store_fixture {
    int pg;          /* 1 PostgreSQL, 0 SQLite */
    char uri[1024];  /* what store_open takes */
    char dir[256];   /* SQLite: the temp dir holding the file */
    char path[300];  /* SQLite: the file */
    char dbname[40]; /* PostgreSQL: the database */
};

/* "sqlite" or "postgresql", from PLK_TEST_ENGINE. Exits 1 (loudly) on any other value, and
 * for "postgresql" when PLK_TEST_PG is unset: a PostgreSQL run never silently skips. */
const char *store_fixture_engine(void);

/* Make a fresh store URI in f on `engine` ("sqlite", "postgresql", or NULL for
 * store_fixture_engine()) and return f->uri. Nothing is opened. Exits 1 with the reason when
 * the database cannot be created. */
const char *store_fixture_init(struct store_fixture *f, const char *engine);

/* Remove what init made (the temp dir, or DROP DATABASE ... WITH (FORCE)). Every store and
 * session on it should be closed. */
void store_fixture_fini(struct store_fixture *f);

/* store_open(f->uri) or exit 1 with the reason. */
struct store *store_fixture_open(struct store_fixture *f);

/* A session on st or exit 1 with the reason. */
struct store_session *store_fixture_session(struct store *st);

/* base (a PostgreSQL URI) with its database replaced by dbname, into out. 0, or -1 when it
 * does not fit. */
int store_fixture_pg_uri(const char *base, const char *dbname, char *out, size_t len);

/* Run sql on the PLK_TEST_PG base database (CREATE/DROP DATABASE, pg_terminate_backend):
 * 0, or -1 with the error printed. */
int store_fixture_pg_admin(const char *sql);

#endif
