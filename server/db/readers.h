/* db/readers.h - one store session per worker thread for the vendor API's reads.
 *
 * The query interfaces (3.8, 4.1, 4.3, 10.2, 10.3, 10.5, 10.6) and the QR images read the
 * store on the worker thread that serves the request. Each worker gets a store handle of its
 * own (SQLite WAL: readers of different connections run beside the writer and each other) and
 * a session on it, so no worker waits for another's read or for the group commit. */
#ifndef PARKLINK_READERS_H
#define PARKLINK_READERS_H

#include <stddef.h>

struct store_tx;

/* Open n handles on store_uri (store_open) with a session each. 0 ok; -1 with a reason. */
int readers_init(const char *store_uri, unsigned n, char *err, size_t errlen);

/* The session of worker `index` (0 .. n-1): use it only on that worker's thread. */
struct store_tx *readers_get(unsigned index);

/* Close everything (after the workers stopped). */
void readers_cleanup(void);

#endif
