/* api/replay.c - signatures seen recently, per vendor, and the time check (see api/replay.h).
 *
 * A replay is the same bytes again, so the same signature: "union_id/SIGN" is the key (the
 * sign covers data exactly, so a copy cannot be altered without a new sign, which needs the
 * key). Entries are kept in insertion order (uthash's application order): expired ones are
 * dropped from the front as new ones arrive, and past REPLAY_MAX the oldest goes. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "api/replay.h"

#define PURGE_STEP 64 /* expired entries dropped per check, at most */

struct seen {
    char key[PLK_UNION_ID_MAX + 1 + PLK_SIGN_LEN + 1];
    int64_t expires; /* unix seconds */
    UT_hash_handle hh;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct seen *table; /* also the oldest entry: uthash keeps insertion order */

/* The unix seconds of a time field (seconds or milliseconds), or -1 when it is not a
 * whole number. */
static int64_t time_of(const struct plk_value *v)
{
    int64_t t;

    if (v->kind == PLK_K_INT) {
        t = v->i;
    } else if (v->kind == PLK_K_STR && v->len > 0 && v->len <= 16 &&
               strspn(v->text, "0123456789") == v->len) {
        t = strtoll(v->text, NULL, 10);
    } else if (v->kind == PLK_K_REAL && v->d >= 0 && v->d < 1e16) {
        t = (int64_t)v->d;
    } else {
        return -1;
    }
    return t >= 100000000000LL ? t / 1000 : t; /* 13 digits: milliseconds */
}

enum plk_status replay_check(const char *union_id, int window_s, const struct plk_service *svc,
                             struct plk_envelope *env, int64_t now)
{
    int64_t until = now + window_s;
    int carried = 0;
    struct seen *e;
    char key[sizeof e->key];

    for (size_t i = 0; i < svc->nfields; i++) {
        const struct plk_field *f = &svc->fields[i];
        struct plk_value v;
        char buf[32];
        int64_t t;

        if (f->replay == PLK_REPLAY_NONE || !plk_envelope_member(env, f->name, &v, buf) ||
            v.kind == PLK_K_NULL)
            continue;
        carried = 1;
        if (f->replay != PLK_REPLAY_TIME || (t = time_of(&v)) < 0)
            continue; /* not a number: no time check, the signature still counts */
        if (t < now - window_s || t > now + window_s)
            return PLK_E_STALE_TIME;
        if (t + window_s > until)
            until = t + window_s; /* the time check alone lets it in until t + window */
    }
    if (!carried)
        return PLK_OK; /* a vendor that sends none is not broken: nothing to tell copies by */
    snprintf(key, sizeof key, "%s/%s", union_id, env->sign);

    pthread_mutex_lock(&mu);
    for (int k = 0; k < PURGE_STEP && table != NULL && table->expires <= now; k++) {
        e = table;
        HASH_DEL(table, e);
        free(e);
    }
    HASH_FIND_STR(table, key, e);
    if (e != NULL && e->expires > now) {
        pthread_mutex_unlock(&mu);
        return PLK_E_REPLAYED;
    }
    if (e != NULL) { /* expired but not yet purged: renew it at the back */
        HASH_DEL(table, e);
    } else {
        while (HASH_COUNT(table) >= REPLAY_MAX) {
            struct seen *old = table;

            HASH_DEL(table, old);
            free(old);
        }
        if ((e = calloc(1, sizeof *e)) == NULL) {
            pthread_mutex_unlock(&mu);
            return PLK_E_NOMEM;
        }
        memcpy(e->key, key, sizeof e->key);
    }
    e->expires = until;
    HASH_ADD_STR(table, key, e);
    pthread_mutex_unlock(&mu);
    return PLK_OK;
}

void replay_cleanup(void)
{
    struct seen *e, *tmp;

    pthread_mutex_lock(&mu);
    HASH_ITER (hh, table, e, tmp) {
        HASH_DEL(table, e);
        free(e);
    }
    pthread_mutex_unlock(&mu);
}
