/* pg_absent.c - the PostgreSQL engine's place holder in a build without pg_engine.c.
 *
 * store_open hands "postgresql://" URIs to store_pg_engine; until the libpq engine is built
 * in, its open refuses them with an English reason. The CMake list drops this file as soon
 * as server/store/pg_engine.c exists. */
#include <stdio.h>

#include "store/engine.h"

static struct store *pg_absent_open(const char *uri, char *err, size_t errlen)
{
    (void)uri;
    snprintf(err, errlen,
             "the PostgreSQL store is not built yet; use a SQLite path "
             "(e.g. ./parklink.db or sqlite:/var/lib/parklink.db)");
    return NULL;
}

const struct store_engine store_pg_engine = {
    .name = "postgresql",
    .dialect = SQL_POSTGRESQL,
    .open = pg_absent_open,
};
