/* pg.h - what the PostgreSQL engine's files share (pg_engine.c, migrations_pg.c).
 *
 * Private to server/store/; the rest of parklinkd reaches the engine through store_open. */
#ifndef PARKLINK_STORE_PG_H
#define PARKLINK_STORE_PG_H

#include <stddef.h>

#include <libpq-fe.h>

/* Bring the database behind c up to store_pg_migration_count: each missing migration in a
 * transaction of its own under an advisory lock (two nodes starting at once migrate once),
 * the version in table schema_version. 0, or -1 with an English reason in err (also when the
 * database is newer than this build). */
int store_pg_migrate(PGconn *c, char *err, size_t errlen);

/* The SQL with every ?N outside quotes and comments rewritten to $N (malloc'd); *nparams
 * the largest N. NULL (logged) for ?0 or N > 99. */
char *store_pg_rewrite(const char *sql, int *nparams);

#endif
