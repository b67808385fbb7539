/* readers.c - per-worker store sessions for reads (see readers.h).
 *
 * Opened once at start, before the workers, and closed after they stopped; in between the
 * array is read-only, so looking a session up is one index. */
#include <stdio.h>
#include <stdlib.h>

#include "readers.h"
#include "store/store.h"

static struct store_session **readers;
static unsigned nreaders;

int readers_init(struct store *st, unsigned n, char *err, size_t errlen)
{
    readers_cleanup();
    if ((readers = calloc(n ? n : 1, sizeof *readers)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    nreaders = n;
    for (unsigned i = 0; i < n; i++) {
        if ((readers[i] = store_session_open(st, err, errlen)) == NULL) {
            readers_cleanup();
            return -1;
        }
    }
    return 0;
}

struct store_session *readers_get(unsigned index)
{
    return index < nreaders ? readers[index] : NULL;
}

void readers_cleanup(void)
{
    for (unsigned i = 0; readers && i < nreaders; i++)
        store_session_close(readers[i]);
    free(readers);
    readers = NULL;
    nreaders = 0;
}
