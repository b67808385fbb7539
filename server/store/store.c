/* store.c - backend selection for the store interface (store.h).
 *
 * store_open looks at the URI scheme and hands over to a backend's open function; the rest
 * of parklinkd only ever sees struct store and its ops. */
#include <stdio.h>
#include <string.h>

#include "store/store.h"

struct store *store_open(const char *uri, char *err, size_t errlen)
{
    if (uri == NULL || uri[0] == '\0') {
        snprintf(err, errlen, "empty store URI (expected a SQLite path or sqlite:PATH)");
        return NULL;
    }
    if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0) {
        snprintf(err, errlen,
                 "the PostgreSQL store is not built yet; use a SQLite path "
                 "(e.g. ./parklink.db or sqlite:/var/lib/parklink.db)");
        return NULL;
    }
    if (strncmp(uri, "sqlite:", 7) == 0)
        uri += 7;
    if (uri[0] == '\0') {
        snprintf(err, errlen, "empty SQLite path in store URI");
        return NULL;
    }
    return store_sqlite_open(uri, err, errlen);
}

void store_close(struct store *st)
{
    if (st != NULL)
        st->ops->close(st);
}

const char *store_strerror(enum store_result r)
{
    switch (r) {
    case STORE_OK:
        return "ok";
    case STORE_NOT_FOUND:
        return "not found";
    case STORE_CONFLICT:
        return "already exists";
    case STORE_FOREIGN_KEY:
        return "a referenced record does not exist";
    case STORE_IN_USE:
        return "still referenced by other records";
    case STORE_ABORTED:
        return "aborted by the caller";
    case STORE_BUSY:
        return "the database is locked by another process";
    case STORE_FULL:
        return "the disk is full";
    case STORE_ERROR:
        break;
    }
    return "internal store error";
}
