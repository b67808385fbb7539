/* readers.h - one store session per worker thread for the vendor API's reads.
 *
 * The query interfaces (3.8, 4.1, 4.3, 10.2, 10.3, 10.5, 10.6) and the QR images read the
 * store on the worker thread that serves the request. Each worker gets a session of its own
 * on the process's one database (SQLite WAL: readers of different connections run beside
 * the writer and each other), so no worker waits for another's read or for the group commit.
 * The pipeline hands a vendor API handler its worker's session (struct api_call's store). */
#ifndef PARKLINK_READERS_H
#define PARKLINK_READERS_H

#include <stddef.h>

struct store;
struct store_session;

/* Open n sessions on st (store_session_open). 0 ok; -1 with a reason. */
int readers_init(struct store *st, unsigned n, char *err, size_t errlen);

/* The session of worker `index` (0 .. n-1): use it only on that worker's thread. NULL for an
 * index out of range (or before readers_init). */
struct store_session *readers_get(unsigned index);

/* Close every session (after the workers stopped). */
void readers_cleanup(void);

#endif
