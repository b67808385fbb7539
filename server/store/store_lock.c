/* store_lock.c - one parklinkd per SQLite database: an OS lock on "<database>.lock".
 *
 * Each parklinkd keeps its own in-memory admission snapshot, so a second process on the same
 * file would never see the first one's admin changes. flock() on a sidecar file, held for the
 * life of the process (the kernel drops it when the process dies, kill -9 included); the file
 * holds the owner's pid for the refusal message. SQLite only: PostgreSQL is future work. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "store/store.h"

/* The database path of a SQLite store URI, or NULL when there is no file to lock. */
static const char *sqlite_path(const char *uri)
{
    if (uri == NULL || strncmp(uri, "postgres", 8) == 0)
        return NULL;
    if (strncmp(uri, "sqlite:", 7) == 0)
        uri += 7;
    if (uri[0] == '\0' || strcmp(uri, ":memory:") == 0)
        return NULL;
    return uri;
}

int store_lock(const char *uri, char *err, size_t errlen)
{
    const char *path = sqlite_path(uri);
    char real[PATH_MAX], lock[PATH_MAX + 8], pid[32] = "";
    int fd, n;

    if (path == NULL)
        return -2;
    /* next to the file SQLite really opens (it follows symbolic links too) */
    if (realpath(path, real) == NULL)
        snprintf(real, sizeof real, "%s", path);
    snprintf(lock, sizeof lock, "%s.lock", real);
    if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, errlen, "cannot open the lock file %s: %s", lock, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;

        if (e == EWOULDBLOCK && (n = (int)pread(fd, pid, sizeof pid - 1, 0)) > 0) {
            pid[n] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
        }
        if (e == EWOULDBLOCK)
            snprintf(err, errlen,
                     "the database is served by another parklinkd (pid %s), which holds %s; "
                     "stop it or give this one another --store",
                     pid[0] ? pid : "unknown", lock);
        else
            snprintf(err, errlen, "cannot lock %s: %s", lock, strerror(e));
        close(fd);
        return -1;
    }
    n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        snprintf(err, errlen, "cannot write %s: %s", lock, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
