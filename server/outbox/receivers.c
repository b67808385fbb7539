/* receivers.c - the in-memory copy of vendors' delivery settings (see receivers.h).
 *
 * One uthash table of union_id -> {mode, per-service URLs as a jansson object}, behind a
 * read-write lock: readers are the delivery thread and request workers, the writer is the
 * admin thread. Lookups copy what they return, so nothing escapes the lock. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uthash.h>

#include "log.h"
#include "outbox/receivers.h"

struct rec {
    char union_id[STORE_UNION_ID_MAX + 1];
    int mode;
    json_t *urls; /* object, never NULL */
    UT_hash_handle hh;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct rec *recs;

static void put_locked(const struct store_delivery *d)
{
    struct rec *r;
    json_t *urls = json_loads(d->urls[0] ? d->urls : "{}", 0, NULL);

    if (!json_is_object(urls)) {
        json_decref(urls);
        urls = json_object();
    }
    HASH_FIND_STR(recs, d->union_id, r);
    if (r == NULL) {
        if ((r = calloc(1, sizeof *r)) == NULL) {
            json_decref(urls);
            return;
        }
        snprintf(r->union_id, sizeof r->union_id, "%s", d->union_id);
        HASH_ADD_STR(recs, union_id, r);
    } else {
        json_decref(r->urls);
    }
    r->mode = d->mode;
    r->urls = urls;
}

static int on_row(void *arg, const struct store_delivery *d)
{
    put_locked(d);
    return 0;
}

int receivers_load(struct store_session *s)
{
    enum store_result sr;

    pthread_rwlock_wrlock(&lock);
    sr = store_delivery_list(s, on_row, NULL);
    pthread_rwlock_unlock(&lock);
    if (sr != STORE_OK) {
        log_error("outbox: loading vendors' delivery settings failed (%s)", store_strerror(sr));
        return -1;
    }
    return 0;
}

void receivers_put(const struct store_delivery *d)
{
    pthread_rwlock_wrlock(&lock);
    put_locked(d);
    pthread_rwlock_unlock(&lock);
}

void receivers_cleanup(void)
{
    struct rec *r, *tmp;

    pthread_rwlock_wrlock(&lock);
    HASH_ITER (hh, recs, r, tmp) {
        HASH_DEL(recs, r);
        json_decref(r->urls);
        free(r);
    }
    pthread_rwlock_unlock(&lock);
}

int receivers_mode(const char *union_id)
{
    struct rec *r;
    int mode = STORE_DELIVERY_PUSH;

    pthread_rwlock_rdlock(&lock);
    HASH_FIND_STR(recs, union_id, r);
    if (r != NULL)
        mode = r->mode;
    pthread_rwlock_unlock(&lock);
    return mode;
}

int receivers_service_url(const char *union_id, const char *service_name, char *out, size_t cap)
{
    struct rec *r;
    json_t *u;
    int found = 0;

    out[0] = '\0';
    pthread_rwlock_rdlock(&lock);
    HASH_FIND_STR(recs, union_id, r);
    u = r != NULL ? json_object_get(r->urls, service_name) : NULL;
    if (json_is_string(u) && json_string_length(u) > 0 && json_string_length(u) < cap) {
        memcpy(out, json_string_value(u), json_string_length(u) + 1);
        found = 1;
    }
    pthread_rwlock_unlock(&lock);
    return found;
}

int receivers_reachable(const char *union_id, const char *service_name, const char *unified_url)
{
    char url[STORE_URL_MAX + 1];

    if (unified_url != NULL && unified_url[0])
        return 1;
    return receivers_mode(union_id) == STORE_DELIVERY_POLL ||
           receivers_service_url(union_id, service_name, url, sizeof url);
}
