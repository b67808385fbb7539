/* sdk_session.c - the token table of SDK HTTP mode (see sdk_session.h).
 *
 * Records are indexed by token (every request) and by "park_id/local_id" (a new login
 * replaces the terminal's previous token), and sit in two oldest-first lists: their
 * vendor's and their park's (group), so the oldest session of a vendor or park is found in
 * O(1) when a quota is reached. The ends of recent sessions are kept in a small ring
 * (tombstones) so a terminal is told why its token stopped working. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <uthash.h>
#include <utlist.h>

#include "channels/sdk_session.h"
#include "admission/registry.h"

#define TOMBS 8192 /* ends remembered for their errmsg */

struct group {
    char key[66]; /* union_id or park_id */
    unsigned n;
    int pinned;       /* a login is filling it: not freed when empty */
    struct rec *head; /* oldest first */
    UT_hash_handle hh;
};

struct rec {
    struct sdk_session s; /* s.used is written under the read lock: read it through used */
    _Atomic int64_t used;
    char terminal[65 + 1 + SDK_LOCAL_ID_MAX + 1]; /* park_id "/" local_id */
    struct group *vg, *pg;
    struct rec *vprev, *vnext, *pprev, *pnext;
    UT_hash_handle by_token, by_terminal;
};

struct tomb {
    char token[SDK_TOKEN_LEN + 1];
    enum plk_status why;
    int live;
    UT_hash_handle hh;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct rec *tokens, *terminals;
static struct group *vendors, *parks;
static unsigned count;
static struct tomb tombs[TOMBS], *tomb_index;
static unsigned tomb_next;
static int64_t last_reap;
static struct sdk_session_limits limits = {SDK_SESSIONS_MAX, SDK_SESSIONS_PER_VENDOR,
                                           SDK_SESSIONS_PER_PARK, SDK_SESSION_IDLE_S};
static int64_t (*clock_fn)(void);

static int64_t now_s(void)
{
    return clock_fn ? clock_fn() : (int64_t)time(NULL);
}

void sdk_session_set_clock(int64_t (*now)(void))
{
    clock_fn = now;
}

/* ---- under the write lock ---- */

static struct group *group_get(struct group **head, const char *key)
{
    struct group *g;

    HASH_FIND_STR(*head, key, g);
    if (g == NULL) {
        if ((g = calloc(1, sizeof *g)) == NULL)
            return NULL;
        snprintf(g->key, sizeof g->key, "%s", key);
        HASH_ADD_STR(*head, key, g);
    }
    return g;
}

static void group_put(struct group **head, struct group *g)
{
    if (g->n == 0 && !g->pinned) {
        HASH_DEL(*head, g);
        free(g);
    }
}

static void tomb_add(const char *token, enum plk_status why)
{
    struct tomb *t = &tombs[tomb_next];

    tomb_next = (tomb_next + 1) % TOMBS;
    if (t->live)
        HASH_DEL(tomb_index, t);
    memcpy(t->token, token, sizeof t->token);
    t->why = why;
    t->live = 1;
    HASH_ADD(hh, tomb_index, token, SDK_TOKEN_LEN, t);
}

/* Take r out of every index and free it; why != PLK_OK leaves a tombstone. */
static void drop(struct rec *r, enum plk_status why)
{
    struct group *vg = r->vg, *pg = r->pg;

    HASH_DELETE(by_token, tokens, r);
    HASH_DELETE(by_terminal, terminals, r);
    DL_DELETE2(vg->head, r, vprev, vnext);
    DL_DELETE2(pg->head, r, pprev, pnext);
    vg->n--;
    pg->n--;
    group_put(&vendors, vg);
    group_put(&parks, pg);
    count--;
    if (why != PLK_OK)
        tomb_add(r->s.token, why);
    free(r);
}

static int idle(const struct rec *r, int64_t now)
{
    return limits.idle_s > 0 && now - atomic_load(&r->used) > (int64_t)limits.idle_s;
}

/* End idle sessions; returns how many. */
static unsigned reap_idle(int64_t now)
{
    struct rec *r, *tmp;
    unsigned n = 0;

    last_reap = now;
    if (limits.idle_s == 0)
        return 0;
    HASH_ITER (by_token, tokens, r, tmp) {
        if (idle(r, now)) {
            drop(r, PLK_E_SESSION_IDLE);
            n++;
        }
    }
    return n;
}

/* The table is full: the oldest session of the vendor that holds the most ends. */
static void evict_from_largest(void)
{
    struct group *g, *tmp, *big = NULL;

    HASH_ITER (hh, vendors, g, tmp) {
        if (big == NULL || g->n > big->n)
            big = g;
    }
    if (big != NULL && big->head != NULL)
        drop(big->head, PLK_E_SESSION_EVICTED);
}

/* ---- the interface ---- */

void sdk_session_init(const struct sdk_session_limits *lim)
{
    sdk_session_cleanup();
    pthread_rwlock_wrlock(&lock);
    limits.max = lim && lim->max ? lim->max : SDK_SESSIONS_MAX;
    limits.per_vendor = lim && lim->per_vendor ? lim->per_vendor : SDK_SESSIONS_PER_VENDOR;
    limits.per_park = lim && lim->per_park ? lim->per_park : SDK_SESSIONS_PER_PARK;
    limits.idle_s = lim ? lim->idle_s : SDK_SESSION_IDLE_S;
    pthread_rwlock_unlock(&lock);
}

int sdk_session_login(const char *union_id, const char *park_id, const char *local_id,
                      const char *ukey, char token[SDK_TOKEN_LEN + 1])
{
    unsigned char raw[SDK_TOKEN_LEN / 2];
    struct rec *r, *old;
    struct group *vg, *pg;
    int64_t now = now_s();

    if (RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    if ((r = calloc(1, sizeof *r)) == NULL)
        return -1;
    memcpy(r->s.token, token, SDK_TOKEN_LEN + 1);
    snprintf(r->s.union_id, sizeof r->s.union_id, "%s", union_id);
    snprintf(r->s.park_id, sizeof r->s.park_id, "%s", park_id);
    snprintf(r->s.local_id, sizeof r->s.local_id, "%s", local_id ? local_id : "");
    snprintf(r->s.ukey, sizeof r->s.ukey, "%s", ukey);
    snprintf(r->terminal, sizeof r->terminal, "%s/%s", r->s.park_id, r->s.local_id);
    r->s.created = now;
    atomic_init(&r->used, now);

    pthread_rwlock_wrlock(&lock);
    HASH_FIND(by_terminal, terminals, r->terminal, strlen(r->terminal), old);
    if (old != NULL)
        drop(old, PLK_OK); /* replaced: the reference answers the old token "token无效" */
    if (limits.idle_s > 0 && now - last_reap >= (int64_t)(limits.idle_s / 8 + 1))
        reap_idle(now);
    vg = group_get(&vendors, r->s.union_id);
    pg = group_get(&parks, r->s.park_id);
    if (vg == NULL || pg == NULL) {
        if (vg != NULL)
            group_put(&vendors, vg);
        if (pg != NULL)
            group_put(&parks, pg);
        pthread_rwlock_unlock(&lock);
        free(r);
        return -1;
    }
    vg->pinned = pg->pinned = 1;
    /* room: first the vendor's own quota, then the park's, then the whole table */
    while (vg->n >= limits.per_vendor && vg->head != NULL)
        drop(vg->head, PLK_E_SESSION_EVICTED);
    while (pg->n >= limits.per_park && pg->head != NULL)
        drop(pg->head, PLK_E_SESSION_EVICTED);
    /* a full table scans for idle sessions at most once a second (a flood of logins must
     * not cost a scan each) */
    if (count >= limits.max && (now == last_reap || reap_idle(now) == 0)) {
        while (count >= limits.max && count > 0)
            evict_from_largest();
    }
    vg->pinned = pg->pinned = 0;
    r->vg = vg;
    r->pg = pg;
    DL_APPEND2(vg->head, r, vprev, vnext);
    DL_APPEND2(pg->head, r, pprev, pnext);
    vg->n++;
    pg->n++;
    count++;
    HASH_ADD(by_token, tokens, s.token, SDK_TOKEN_LEN, r);
    HASH_ADD(by_terminal, terminals, terminal[0], strlen(r->terminal), r);
    pthread_rwlock_unlock(&lock);
    return 0;
}

enum plk_status sdk_session_get(const char *token, struct sdk_session *out)
{
    struct rec *r = NULL;
    struct tomb *t = NULL;
    enum plk_status st = PLK_E_SESSION_UNKNOWN;
    int64_t now = now_s();

    if (token == NULL || strlen(token) != SDK_TOKEN_LEN)
        return PLK_E_SESSION_UNKNOWN;
    pthread_rwlock_rdlock(&lock);
    HASH_FIND(by_token, tokens, token, SDK_TOKEN_LEN, r);
    if (r != NULL && idle(r, now)) {
        st = PLK_E_SESSION_IDLE; /* reaped at a later login or sweep */
    } else if (r != NULL) {
        atomic_store(&r->used, now);
        *out = r->s;
        out->used = now;
        st = PLK_OK;
    } else {
        HASH_FIND(hh, tomb_index, token, SDK_TOKEN_LEN, t);
        if (t != NULL)
            st = t->why;
    }
    pthread_rwlock_unlock(&lock);
    return st;
}

int sdk_session_valid(const struct sdk_session *s, const struct snapshot *snap)
{
    const struct vendor *v = snapshot_vendor(snap, s->union_id);
    const struct park *p = snapshot_park(snap, s->park_id);

    return v != NULL && strcmp(v->ukey, s->ukey) == 0 && p != NULL &&
           strcmp(p->union_id, s->union_id) == 0;
}

unsigned sdk_session_revoke_stale(const struct snapshot *snap,
                                  void (*ended)(void *arg, const char *token), void *arg)
{
    char(*gone)[SDK_TOKEN_LEN + 1] = NULL;
    size_t n = 0, cap = 0;
    struct rec *r, *tmp;
    int64_t now = now_s();

    pthread_rwlock_wrlock(&lock);
    HASH_ITER (by_token, tokens, r, tmp) {
        int stale = !sdk_session_valid(&r->s, snap);

        if (!stale && !idle(r, now))
            continue;
        if (n == cap) {
            void *g = realloc(gone, (cap = cap ? cap * 2 : 64) * sizeof *gone);

            if (g == NULL)
                break; /* the rest end at the next sweep; requests check validity anyway */
            gone = g;
        }
        memcpy(gone[n++], r->s.token, SDK_TOKEN_LEN + 1);
        drop(r, stale ? PLK_E_SESSION_REVOKED : PLK_E_SESSION_IDLE);
    }
    last_reap = now;
    pthread_rwlock_unlock(&lock);
    for (size_t i = 0; ended != NULL && i < n; i++)
        ended(arg, gone[i]);
    free(gone);
    return (unsigned)n;
}

unsigned sdk_session_count(const char *union_id, const char *park_id)
{
    struct group *g = NULL;
    unsigned n;

    pthread_rwlock_rdlock(&lock);
    if (union_id != NULL)
        HASH_FIND_STR(vendors, union_id, g);
    else if (park_id != NULL)
        HASH_FIND_STR(parks, park_id, g);
    n = union_id == NULL && park_id == NULL ? count : g != NULL ? g->n : 0;
    pthread_rwlock_unlock(&lock);
    return n;
}

void sdk_session_cleanup(void)
{
    struct rec *r, *tmp;

    pthread_rwlock_wrlock(&lock);
    HASH_ITER (by_token, tokens, r, tmp) {
        drop(r, PLK_OK);
    }
    HASH_CLEAR(hh, tomb_index);
    memset(tombs, 0, sizeof tombs);
    tomb_next = 0;
    last_reap = 0;
    pthread_rwlock_unlock(&lock);
}
