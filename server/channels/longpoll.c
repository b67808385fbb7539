/* longpoll.c - held bpd/download.do requests and the table the delivery thread reads.
 *
 * A held poll is a waiter: it sits in a table by park (shared, under one mutex) and in its
 * worker's list of held requests (that worker only). The delivery thread takes a waiter out
 * of the table (state TAKEN) and sends the message to the waiter's worker, which answers;
 * the worker itself removes waiters whose time is up, whose terminal polled again, or
 * whose worker is stopping (state OUT) and answers them "no message". So each waiter is
 * answered and freed exactly once, on its own worker. A 100 ms tick on the worker's loop
 * (ctx.hundred_ms_timeout) runs while the worker holds polls. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <uthash.h>

#include "http/worker.h"
#include "log.h"
#include "metrics.h"
#include "outbox/delivery.h"
#include "channels/longpoll.h"
#include "channels/sdk_session.h"
#include "parklink/services.h"
#include "admission/registry.h"
#include "http/reply.h"

#define MAX_WORKERS 256
#define NO_MESSAGE "{\"state\":1,\"errmsg\":\"暂无消息\"}"
#define PARK_KEY_MAX (21 + 1 + 65)

enum waiter_state {
    W_WAITING, /* in the table */
    W_TAKEN,   /* taken by the delivery thread: a message is on its way to the worker */
    W_OUT,     /* out of the table, to be answered "no message" by its worker */
};

struct waiter {
    h2o_linklist_t held; /* the worker's held list (worker thread only) */
    struct waiter *next; /* park FIFO (under mu) */
    struct wpark *park;
    struct http_worker *w;
    h2o_req_t *req;       /* NULL once the request is gone */
    struct waiter **hook; /* request-pool slot pointing back here */
    char token[SDK_TOKEN_LEN + 1];
    uint64_t deadline; /* h2o_now() ms */
    uint64_t start_ns;
    int state;               /* enum waiter_state, under mu */
    int revoked;             /* W_OUT because its session ended: answered "token无效" */
    UT_hash_handle by_token; /* under mu, while WAITING */
};

struct wpark {
    char key[PARK_KEY_MAX];
    char union_id[21];
    char park_id[65];
    struct waiter *head, *tail;
    UT_hash_handle hh;
};

/* what the delivery thread sends a worker */
struct handout {
    struct outbox_worker_msg wm;
    struct waiter *waiter;
    char *body;
    size_t len;
};

struct lp_worker {
    struct http_worker *w;
    h2o_linklist_t held;
    h2o_timeout_entry_t tick;
    int ready;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct wpark *parks;
static struct waiter *tokens;
static unsigned hold_ms = 30000;
static struct lp_worker workers[MAX_WORKERS];

void longpoll_init(unsigned ms)
{
    const struct http_worker_outbox_hooks hooks = {longpoll_on_worker_messages,
                                                   longpoll_worker_stop};
    const struct delivery_longpoll lp = {longpoll_each_waiting, longpoll_waiting,
                                         longpoll_hand_out};

    hold_ms = ms ? ms : 30000;
    http_worker_set_outbox_hooks(&hooks);
    delivery_set_longpoll(&lp);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void park_key(char *out, const char *union_id, const char *park_id)
{
    snprintf(out, PARK_KEY_MAX, "%s/%s", union_id, park_id);
}

/* ---- the table (under mu) ---- */

static void table_remove_locked(struct waiter *wt, int new_state)
{
    struct wpark *p = wt->park;

    for (struct waiter **q = &p->head; *q != NULL; q = &(*q)->next) {
        if (*q == wt) {
            *q = wt->next;
            break;
        }
    }
    p->tail = NULL;
    for (struct waiter *x = p->head; x != NULL; x = x->next)
        p->tail = x;
    HASH_DELETE(by_token, tokens, wt);
    wt->state = new_state;
    if (p->head == NULL) {
        HASH_DEL(parks, p);
        free(p);
    }
    wt->park = NULL;
}

int longpoll_waiting(const char *union_id, const char *park_id)
{
    char key[PARK_KEY_MAX];
    struct wpark *p;

    park_key(key, union_id, park_id);
    pthread_mutex_lock(&mu);
    HASH_FIND_STR(parks, key, p);
    pthread_mutex_unlock(&mu);
    return p != NULL;
}

void longpoll_each_waiting(void (*cb)(void *arg, const char *union_id, const char *park_id),
                           void *arg)
{
    struct pair {
        char union_id[21], park_id[65];
    } *v = NULL;
    size_t n = 0, i = 0;
    struct wpark *p, *tmp;

    pthread_mutex_lock(&mu);
    n = HASH_COUNT(parks);
    if (n > 0 && (v = malloc(n * sizeof *v)) != NULL) {
        HASH_ITER(hh, parks, p, tmp)
        {
            memcpy(v[i].union_id, p->union_id, sizeof v[i].union_id);
            memcpy(v[i].park_id, p->park_id, sizeof v[i].park_id);
            i++;
        }
    }
    pthread_mutex_unlock(&mu);
    for (size_t k = 0; k < i; k++)
        cb(arg, v[k].union_id, v[k].park_id);
    free(v);
}

static void on_handout(struct outbox_worker_msg *m);

int longpoll_hand_out(const char *union_id, const char *park_id, int64_t id,
                      const char *service_name, const char *body, size_t len)
{
    char key[PARK_KEY_MAX], head[160];
    struct handout *h;
    struct wpark *p;
    struct waiter *wt = NULL;
    size_t hl;

    /* the stored body is a JSON object: the id and name go in front of its members */
    if (len < 2 || body[0] != '{')
        return -1;
    hl = (size_t)snprintf(head, sizeof head,
                          "{\"state\":1,\"errmsg\":\"\",\"message_id\":%lld,\"service_name\":"
                          "\"%.64s\",",
                          (long long)id, service_name);
    if ((h = calloc(1, sizeof *h)) == NULL || (h->body = malloc(hl + len)) == NULL) {
        free(h);
        return -1;
    }
    memcpy(h->body, head, hl);
    memcpy(h->body + hl, body + 1, len - 1);
    h->len = hl + len - 1;
    h->wm.run = on_handout;

    park_key(key, union_id, park_id);
    pthread_mutex_lock(&mu);
    HASH_FIND_STR(parks, key, p);
    if (p != NULL && (wt = p->head) != NULL) {
        table_remove_locked(wt, W_TAKEN);
        h->waiter = wt;
        /* sent under the lock: the worker cannot see W_TAKEN before the message is queued */
        h2o_multithread_send_message(&wt->w->outbox_done, &h->wm.msg);
    }
    pthread_mutex_unlock(&mu);
    if (wt == NULL) {
        free(h->body);
        free(h);
        return -1;
    }
    return 0;
}

/* ---- the worker side ---- */

static void tick_arm(struct lp_worker *lw);

/* Answer a waiter (if its request is still there) and free it. Worker thread; the waiter is
 * out of the table. */
static void finish(struct waiter *wt, const char *body, size_t len)
{
    struct http_worker *w = wt->w;
    const struct plk_service *svc = plk_service_by_id("bpd_download");

    h2o_linklist_unlink(&wt->held);
    if (wt->req != NULL) {
        h2o_req_t *req = wt->req;
        char *copy = h2o_mem_alloc_pool(&req->pool, len);

        *wt->hook = NULL;
        memcpy(copy, body, len);
        if (svc != NULL)
            metrics_record(w->metrics, svc->index, 1, now_ns() - wt->start_ns);
        reply_send_raw(req, 200, REPLY_JSON_TYPE, copy, len);
    }
    http_worker_end(w);
    free(wt);
}

static void on_handout(struct outbox_worker_msg *m)
{
    struct handout *h = (struct handout *)m;

    finish(h->waiter, h->body, h->len);
    free(h->body);
    free(h);
}

void longpoll_on_worker_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        struct outbox_worker_msg *m = H2O_STRUCT_FROM_MEMBER(struct outbox_worker_msg, msg, msg);

        h2o_linklist_unlink(&msg->link);
        m->run(m);
    }
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    struct lp_worker *lw = H2O_STRUCT_FROM_MEMBER(struct lp_worker, tick, entry);
    uint64_t now = h2o_now(lw->w->loop);
    int stopping = atomic_load(&lw->w->stop);
    h2o_linklist_t done;

    h2o_linklist_init_anchor(&done);
    pthread_mutex_lock(&mu);
    for (h2o_linklist_t *l = lw->held.next; l != &lw->held;) {
        struct waiter *wt = H2O_STRUCT_FROM_MEMBER(struct waiter, held, l);

        l = l->next;
        if (wt->state == W_WAITING && (stopping || now >= wt->deadline || wt->req == NULL))
            table_remove_locked(wt, W_OUT);
        if (wt->state == W_OUT) {
            h2o_linklist_unlink(&wt->held);
            h2o_linklist_insert(&done, &wt->held);
        }
    }
    pthread_mutex_unlock(&mu);
    while (!h2o_linklist_is_empty(&done)) {
        struct waiter *wt = H2O_STRUCT_FROM_MEMBER(struct waiter, held, done.next);

        if (wt->revoked) {
            char b[256];
            int n = snprintf(b, sizeof b, "{\"state\":0,\"errmsg\":\"%s\"}",
                             plk_errmsg(PLK_E_SESSION_REVOKED));

            finish(wt, b, (size_t)n);
        } else {
            finish(wt, NO_MESSAGE, sizeof NO_MESSAGE - 1);
        }
    }
    tick_arm(lw);
}

static void tick_arm(struct lp_worker *lw)
{
    if (!h2o_linklist_is_empty(&lw->held) && !h2o_timeout_is_linked(&lw->tick))
        h2o_timeout_link(lw->w->loop, &lw->w->ctx.hundred_ms_timeout, &lw->tick);
}

void longpoll_worker_stop(struct http_worker *w)
{
    struct lp_worker *lw = &workers[w->index % MAX_WORKERS];

    if (!lw->ready || lw->w != w)
        return;
    /* the tick stays linked for up to 100 ms after the last held poll was answered */
    if (h2o_timeout_is_linked(&lw->tick))
        h2o_timeout_unlink(&lw->tick);
    lw->ready = 0;
    lw->w = NULL;
}

void longpoll_end_token(const char *token)
{
    struct waiter *wt;

    pthread_mutex_lock(&mu);
    HASH_FIND(by_token, tokens, token, SDK_TOKEN_LEN, wt);
    if (wt != NULL && wt->state == W_WAITING) {
        table_remove_locked(wt, W_OUT);
        wt->revoked = 1; /* its worker's tick answers it */
    }
    pthread_mutex_unlock(&mu);
}

void longpoll_on_session_ended(void *arg, const char *token)
{
    (void)arg;
    longpoll_end_token(token);
}

/* The request went away before it was answered (not seen with HTTP/1.1, see api/pipeline.h). */
static void on_dispose(void *p)
{
    struct waiter *wt = *(struct waiter **)p;

    if (wt != NULL)
        wt->req = NULL; /* the tick (or the hand-out) frees it */
}

/* The token of a download.do body: {"token":"..."}, or token=... as a form or query field. */
static int read_token(h2o_req_t *req, char out[SDK_TOKEN_LEN + 1], const char **why)
{
    const struct plk_service *svc = plk_service_by_id("bpd_download");
    const struct plk_field *bad = NULL;
    h2o_iovec_t src = req->entity;
    json_t *body = NULL;
    int rc = -1;

    *why = "缺少token";
    if (src.len > 0 && src.base[0] == '{') {
        body = json_loadb(src.base, src.len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(body)) {
            *why = plk_errmsg(PLK_E_NOT_JSON);
            goto out;
        }
    } else {
        /* token=... in a form body or the query string */
        const char *s = src.base;
        size_t n = src.len;

        if (n == 0 && req->query_at != SIZE_MAX) {
            s = req->path.base + req->query_at + 1;
            n = req->path.len - req->query_at - 1;
        }
        for (size_t i = 0; i < n;) {
            size_t j = i;

            while (j < n && s[j] != '&')
                j++;
            if (j - i >= 6 && memcmp(s + i, "token=", 6) == 0) {
                body = json_object();
                json_object_set_new(body, "token", json_stringn(s + i + 6, j - i - 6));
                break;
            }
            i = j + 1;
        }
        if (body == NULL)
            goto out;
    }
    if (svc != NULL && plk_service_validate(svc, body, &bad) != PLK_OK) {
        *why = json_object_get(body, "token") == NULL ? "缺少token" : "token格式错误";
        goto out;
    }
    if (!json_is_string(json_object_get(body, "token")) ||
        json_string_length(json_object_get(body, "token")) != SDK_TOKEN_LEN) {
        *why = plk_errmsg(PLK_E_SESSION_UNKNOWN);
        goto out;
    }
    memcpy(out, json_string_value(json_object_get(body, "token")), SDK_TOKEN_LEN + 1);
    rc = 0;
out:
    json_decref(body);
    return rc;
}

static void answer_now(struct http_worker *w, h2o_req_t *req, int state, const char *errmsg,
                       uint64_t start)
{
    const struct plk_service *svc = plk_service_by_id("bpd_download");

    if (svc != NULL)
        metrics_record(w->metrics, svc->index, state, now_ns() - start);
    reply_send(req, 200, state, errmsg, NULL, 0);
}

void longpoll_download(struct http_worker *w, h2o_req_t *req)
{
    struct lp_worker *lw = &workers[w->index % MAX_WORKERS];
    struct sdk_session s;
    struct waiter *wt, *old;
    char key[PARK_KEY_MAX], token[SDK_TOKEN_LEN + 1];
    const char *why;
    struct wpark *p;
    enum plk_status st;
    uint64_t start = now_ns();

    if (read_token(req, token, &why) != 0) {
        answer_now(w, req, 0, why, start);
        return;
    }
    if ((st = sdk_session_get(token, &s)) != PLK_OK) {
        answer_now(w, req, 0, plk_errmsg(st), start);
        return;
    }
    if (!sdk_session_valid(&s, registry_current(&w->reader))) {
        answer_now(w, req, 0, plk_errmsg(PLK_E_SESSION_REVOKED), start);
        return;
    }
    if (atomic_load(&w->stop)) {
        answer_now(w, req, 1, "暂无消息", start);
        return;
    }
    if (!lw->ready) {
        lw->w = w;
        h2o_linklist_init_anchor(&lw->held);
        lw->tick.cb = on_tick;
        lw->ready = 1;
    }
    if ((wt = calloc(1, sizeof *wt)) == NULL)
        h2o_fatal("out of memory");
    wt->w = w;
    wt->req = req;
    wt->start_ns = start;
    wt->deadline = h2o_now(w->loop) + hold_ms;
    memcpy(wt->token, token, sizeof wt->token);
    wt->hook = h2o_mem_alloc_shared(&req->pool, sizeof *wt->hook, on_dispose);
    *wt->hook = wt;
    http_worker_begin(w);
    h2o_linklist_insert(&lw->held, &wt->held);

    park_key(key, s.union_id, s.park_id);
    pthread_mutex_lock(&mu);
    /* one poll per terminal (spec 12.4): a new one ends the previous one at once */
    HASH_FIND(by_token, tokens, token, SDK_TOKEN_LEN, old);
    if (old != NULL)
        table_remove_locked(old, W_OUT);
    HASH_FIND_STR(parks, key, p);
    if (p == NULL) {
        if ((p = calloc(1, sizeof *p)) == NULL)
            h2o_fatal("out of memory");
        memcpy(p->key, key, sizeof p->key);
        snprintf(p->union_id, sizeof p->union_id, "%s", s.union_id);
        snprintf(p->park_id, sizeof p->park_id, "%s", s.park_id);
        HASH_ADD_STR(parks, key, p);
    }
    wt->park = p;
    if (p->tail != NULL)
        p->tail->next = wt;
    else
        p->head = wt;
    p->tail = wt;
    wt->state = W_WAITING;
    HASH_ADD(by_token, tokens, token[0], SDK_TOKEN_LEN, wt);
    pthread_mutex_unlock(&mu);

    tick_arm(lw);
    /* a key change published between the check above and the insert: its sweep may have
     * missed this poll, so look again (the sweep ends the session before it ends polls) */
    if (sdk_session_get(token, &s) != PLK_OK ||
        !sdk_session_valid(&s, registry_current(&w->reader))) {
        longpoll_end_token(token);
        return;
    }
    delivery_poll_waiting(s.union_id, s.park_id);
}
