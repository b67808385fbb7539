/* db/readers.c - per-worker store sessions for reads (see db/readers.h).
 *
 * Opened once at start, before the workers, and closed after they stopped; in between the
 * array is read-only, so looking a session up is one index. */
#include <stdio.h>
#include <stdlib.h>

#include "db/readers.h"
#include "store/store.h"
#include "store/store_orders.h"

struct reader {
    struct store *st;
    struct store_tx *tx;
};

static struct reader *readers;
static unsigned nreaders;

int readers_init(const char *store_uri, unsigned n, char *err, size_t errlen)
{
    readers_cleanup();
    if ((readers = calloc(n ? n : 1, sizeof *readers)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    nreaders = n;
    for (unsigned i = 0; i < n; i++) {
        if ((readers[i].st = store_open(store_uri, err, errlen)) == NULL)
            goto fail;
        if ((readers[i].tx = store_tx_open(readers[i].st)) == NULL) {
            snprintf(err, errlen, "cannot open a store session for worker %u", i);
            goto fail;
        }
    }
    return 0;
fail:
    readers_cleanup();
    return -1;
}

struct store_tx *readers_get(unsigned index)
{
    return index < nreaders ? readers[index].tx : NULL;
}

void readers_cleanup(void)
{
    for (unsigned i = 0; readers && i < nreaders; i++) {
        store_tx_close(readers[i].tx);
        store_close(readers[i].st);
    }
    free(readers);
    readers = NULL;
    nreaders = 0;
}
