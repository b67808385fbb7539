/* migrations.h - the SQLite schema as an ordered list of migrations (migrations.c).
 *
 * Migration i (0-based) takes a database from PRAGMA user_version i to i + 1; sqlite.c
 * applies the missing ones in order at open, each in its own transaction. */
#ifndef PARKLINK_STORE_MIGRATIONS_H
#define PARKLINK_STORE_MIGRATIONS_H

#include <stddef.h>

/* The migrations, oldest first; each a script of one or more SQL statements. */
extern const char *const store_sqlite_migrations[];
/* How many there are: the schema version this build writes. */
extern const size_t store_sqlite_migration_count;

/* The same migrations in PostgreSQL's dialect (migrations_pg.c), as many, in the same order;
 * the version lives in table schema_version. */
extern const char *const store_pg_migrations[];
extern const size_t store_pg_migration_count;

#endif
