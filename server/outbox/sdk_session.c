/* sdk_session.c - the token table of SDK HTTP mode (see sdk_session.h).
 *
 * Two uthash indexes over one set of records: by token (every request) and by
 * "park_id/local_id" (a new login replaces the terminal's previous token). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <uthash.h>

#include "outbox/sdk_session.h"

struct rec {
    struct sdk_session s;
    char terminal[65 + 1 + SDK_LOCAL_ID_MAX + 1]; /* park_id "/" local_id */
    UT_hash_handle by_token, by_terminal;
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct rec *tokens, *terminals;

int sdk_session_login(const char *union_id, const char *park_id, const char *local_id,
                      char token[SDK_TOKEN_LEN + 1])
{
    unsigned char raw[SDK_TOKEN_LEN / 2];
    struct rec *r, *old;
    int rc = -1;

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
    snprintf(r->terminal, sizeof r->terminal, "%s/%s", r->s.park_id, r->s.local_id);
    r->s.created = (int64_t)time(NULL);

    pthread_rwlock_wrlock(&lock);
    HASH_FIND(by_terminal, terminals, r->terminal, strlen(r->terminal), old);
    if (old != NULL) {
        HASH_DELETE(by_token, tokens, old);
        HASH_DELETE(by_terminal, terminals, old);
        free(old);
    }
    if (HASH_CNT(by_token, tokens) < SDK_SESSIONS_MAX) {
        HASH_ADD(by_token, tokens, s.token, SDK_TOKEN_LEN, r);
        HASH_ADD(by_terminal, terminals, terminal[0], strlen(r->terminal), r);
        rc = 0;
    }
    pthread_rwlock_unlock(&lock);
    if (rc != 0)
        free(r);
    return rc;
}

int sdk_session_get(const char *token, struct sdk_session *out)
{
    struct rec *r = NULL;

    if (token == NULL || strlen(token) != SDK_TOKEN_LEN)
        return -1;
    pthread_rwlock_rdlock(&lock);
    HASH_FIND(by_token, tokens, token, SDK_TOKEN_LEN, r);
    if (r != NULL)
        *out = r->s;
    pthread_rwlock_unlock(&lock);
    return r != NULL ? 0 : -1;
}

void sdk_session_cleanup(void)
{
    struct rec *r, *tmp;

    pthread_rwlock_wrlock(&lock);
    HASH_ITER(by_token, tokens, r, tmp)
    {
        HASH_DELETE(by_token, tokens, r);
        HASH_DELETE(by_terminal, terminals, r);
        free(r);
    }
    pthread_rwlock_unlock(&lock);
}
