/* delivery.c - the delivery thread (see delivery.h): curl multi, leases, lanes, outcomes.
 *
 * One loop: take what other threads queued (wake-ups, questions, acknowledgements), hand
 * due messages to waiting long-polls, lease due push messages from the store into per-park
 * lanes, start transfers (one per lane, up to --delivery-concurrency), let curl move bytes,
 * turn finished transfers into outcomes, and commit all outcomes of the pass in one store
 * transaction. Other threads reach the loop only through the inbox below and
 * curl_multi_wakeup(); the thread sleeps in curl_multi_poll() until the next message is
 * due, a transfer needs it, or it is woken. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <uthash.h>

#include "log.h"
#include "outbox/delivery.h"
#include "outbox/outbox.h"
#include "outbox_metrics.h"
#include "outbox/receivers.h"
#include "db/writer.h"
#include "parklink/text.h"
#include "admission/registry.h"
#include "store/store_outbox.h"

#define LEASE_MS (10 * 60 * 1000) /* a claimed row is ours this long (other nodes skip it) */
#define BACKLOG_MAX 32768         /* claimed messages held in memory at most */
#define LANE_MAX 1024             /* ... of which for one park; more are deferred */
#define DEFER_MS 1000             /* how long such a message waits to be claimed again */
#define CLAIM_BATCH 1024
#define HOUSEKEEPING_MS 1000 /* gauges, long-poll sweep, question deadlines, pruning */
#define PRUNE_BATCH 1000     /* delivered messages deleted per transaction */
#define PRUNE_EVERY_MS 60000 /* between prunes, unless the retention is shorter */
#define NOTICE_ANSWER_MAX (64u << 10)
#define QUESTION_ANSWER_MAX (8u << 20)
#define HINTS_MAX 1024 /* parks remembered between passes; beyond: sweep all */
#define KEY_MAX (STORE_UNION_ID_MAX + 1 + STORE_PARK_ID_MAX + 1)
#define DELIVERY_NICE 19      /* below the request workers (see delivery_main) */
#define EARLY_ANSWER_MS 60000 /* an answer waits this long for its asker (see early_answer) */
#define EARLY_ANSWER_MAX 256  /* and no more than this many wait */

static struct delivery_longpoll longpoll; /* delivery_set_longpoll(); zero: no channel */

void delivery_set_longpoll(const struct delivery_longpoll *lp)
{
    longpoll = *lp;
}

static int lp_waiting(const char *union_id, const char *park_id)
{
    return longpoll.waiting != NULL && longpoll.waiting(union_id, park_id);
}

static int lp_hand_out(const char *union_id, const char *park_id, int64_t id,
                       const char *service_name, const char *body, size_t len)
{
    if (longpoll.hand_out == NULL)
        return -1;
    return longpoll.hand_out(union_id, park_id, id, service_name, body, len);
}

static void lp_each_waiting(void (*cb)(void *arg, const char *union_id, const char *park_id),
                            void *arg)
{
    if (longpoll.each_waiting != NULL)
        longpoll.each_waiting(cb, arg);
}

/* ---- what other threads queue ---- */

struct hint {
    char key[KEY_MAX]; /* "union_id/park_id" */
    char union_id[STORE_UNION_ID_MAX + 1];
    char park_id[STORE_PARK_ID_MAX + 1];
    UT_hash_handle hh;
};

static struct {
    pthread_mutex_t mu;
    int running; /* multi is valid: wake-ups may be sent */
    int stop;
    int claim; /* new push messages were committed */
    int sweep; /* too many hints: check every waiting park */
    struct hint *hints;
    size_t nhints;
    struct delivery_ask *asks, **asks_tail;
    struct delivery_ack *acks, **acks_tail;
    CURLM *multi;
} inbox = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- the thread's own state ---- */

struct lane;

struct job {
    int64_t id;
    char union_id[STORE_UNION_ID_MAX + 1];
    char park_id[STORE_PARK_ID_MAX + 1];
    char service_name[STORE_OUTBOX_NAME_MAX + 1];
    char *override; /* notify_url, or NULL */
    char *body;
    size_t body_len;
    int attempts; /* made before this one */
    int64_t created;
    char last_error[STORE_OUTBOX_ERROR_MAX + 1]; /* kept when the lease goes back unused */
    struct lane *lane;
    struct job *next;
    UT_hash_handle hh; /* held: by id */

    /* the transfer */
    CURL *easy;
    char *url;
    char *resp;
    size_t resp_len, resp_cap, resp_max;
    int64_t started_ms;
    int sends; /* requests written: libcurl resends once on a fresh connection when a reused
                  one closes without an answer (on_prereq) */
    struct delivery_ask *ask; /* a question: its asker */
    char errbuf[CURL_ERROR_SIZE];
};

struct lane {
    char key[KEY_MAX];
    struct job *head, *tail;
    unsigned queued_n; /* jobs in head..tail */
    int busy;
    int queued; /* in the ready list */
    struct lane *next_ready;
    UT_hash_handle hh;
};

/* outcomes of one pass, committed together: res[i] with its attempt (and error text) in
 * att[i], recorded when record[i]; pointers are tied up at commit, so the arrays may grow */
struct batch {
    struct store_outbox_result *res;
    struct store_outbox_attempt *att;
    unsigned char *record;
    size_t n, cap;
};

/* An answer through the long-poll whose asker the thread has not registered yet: the hint
 * that hands a question out and the asker's own note reach the thread separately, and under
 * load the answer can come back in between. Kept until the asker comes, for EARLY_ANSWER_MS. */
struct early_answer {
    int64_t id; /* the question's message id */
    int64_t expires;
    char *answer;
    size_t answer_len;
    struct early_answer *next;
};

static struct {
    struct delivery_options opt;
    struct store_session *s; /* the delivery thread's own */
    pthread_t tid;
    CURLM *multi;
    struct curl_slist *headers;
    struct snapshot_reader reader;
    const struct snapshot *snap;

    struct job *held; /* by id */
    size_t nheld;
    struct lane *lanes;
    struct lane *ready, **ready_tail;
    unsigned in_flight;
    CURL **spare;
    size_t nspare;

    struct delivery_ask *waiting; /* questions to vendors in poll mode */
    struct early_answer *early;   /* answers that came before their question was waiting */
    unsigned nearly;              /* how many */
    struct job *asking;           /* questions being POSTed (not in a lane) */
    struct batch batch;
    struct delivery_ack *acks_done; /* answered once the batch commits */
    struct delivery_ask *asks_done;

    int64_t next_due;          /* earliest due push message we know of; INT64_MAX: none */
    int64_t next_prune;        /* when delivered messages past the retention go next */
    int claim_more;            /* the last claim was full */
    int shared;                /* several nodes claim (PostgreSQL): per-park order is kept
                                * in SQL, so rows behind a lease wait for its outcome */
    size_t kept;               /* rows the running claim kept ... */
    size_t deferred;           /* ... and deferred (their park's lane was full) */
    int64_t claim_quiet_until; /* a claim that kept nothing: wake-ups do not claim before */
    int64_t next_housekeeping;
} d;

static void serve_park(const char *union_id, const char *park_id);

/* ---- small helpers ---- */

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void lane_key(char *out, const char *union_id, const char *park_id)
{
    snprintf(out, KEY_MAX, "%s/%s", union_id, park_id);
}

static void wake(void)
{
    if (inbox.running)
        curl_multi_wakeup(inbox.multi);
}

/* Cut s (n bytes) to at most max bytes on a UTF-8 boundary, as text for an attempt record;
 * bytes that are not UTF-8 text (an image) are described instead. */
static void excerpt(char *out, size_t cap, const char *s, size_t n, const char *content_type)
{
    size_t take = n < cap - 1 ? n : cap - 1;
    json_t *probe;

    while (take > 0 && take < n && ((unsigned char)s[take] & 0xc0) == 0x80)
        take--;
    probe = take ? json_stringn(s, take) : NULL;
    if (take == 0) {
        out[0] = '\0';
    } else if (probe == NULL || memchr(s, '\0', take) != NULL) {
        snprintf(out, cap, "[%zu bytes of %s]", n, content_type ? content_type : "binary data");
    } else {
        memcpy(out, s, take);
        out[take] = '\0';
    }
    json_decref(probe);
}

/* ---- inbox (any thread) ---- */

static void add_hint_locked(const char *union_id, const char *park_id)
{
    char key[KEY_MAX];
    struct hint *h;

    lane_key(key, union_id, park_id ? park_id : "");
    HASH_FIND_STR(inbox.hints, key, h);
    if (h != NULL)
        return;
    if (inbox.nhints >= HINTS_MAX) {
        inbox.sweep = 1;
        return;
    }
    if ((h = calloc(1, sizeof *h)) == NULL) {
        inbox.sweep = 1;
        return;
    }
    memcpy(h->key, key, sizeof h->key);
    snprintf(h->union_id, sizeof h->union_id, "%s", union_id);
    snprintf(h->park_id, sizeof h->park_id, "%s", park_id ? park_id : "");
    HASH_ADD_STR(inbox.hints, key, h);
    inbox.nhints++;
}

void delivery_notify(const char *union_id, const char *park_id)
{
    pthread_mutex_lock(&inbox.mu);
    if (inbox.running) {
        inbox.claim = 1;
        add_hint_locked(union_id, park_id);
        wake();
    }
    pthread_mutex_unlock(&inbox.mu);
}

void delivery_poll_waiting(const char *union_id, const char *park_id)
{
    pthread_mutex_lock(&inbox.mu);
    if (inbox.running) {
        add_hint_locked(union_id, park_id);
        wake();
    }
    pthread_mutex_unlock(&inbox.mu);
}

void delivery_settings_changed(const char *union_id)
{
    pthread_mutex_lock(&inbox.mu);
    if (inbox.running) {
        inbox.claim = 1;
        inbox.sweep = 1;
        wake();
    }
    pthread_mutex_unlock(&inbox.mu);
}

void delivery_ask(struct delivery_ask *a)
{
    int queued = 0;

    a->next_ = NULL;
    pthread_mutex_lock(&inbox.mu);
    if (inbox.running && !inbox.stop) {
        *inbox.asks_tail = a;
        inbox.asks_tail = &a->next_;
        wake();
        queued = 1;
    }
    pthread_mutex_unlock(&inbox.mu);
    if (!queued) {
        a->outcome = 503;
        snprintf(a->error, sizeof a->error, "the delivery thread is not running");
        a->done(a);
    }
}

static void send_ack_back(struct delivery_ack *a)
{
    h2o_multithread_send_message(a->receiver, &a->wm.msg);
}

void delivery_ack(struct delivery_ack *a)
{
    int queued = 0;

    a->next_ = NULL;
    pthread_mutex_lock(&inbox.mu);
    if (inbox.running && !inbox.stop) {
        *inbox.acks_tail = a;
        inbox.acks_tail = &a->next_;
        wake();
        queued = 1;
    }
    pthread_mutex_unlock(&inbox.mu);
    if (!queued) {
        a->store_error = 1;
        send_ack_back(a);
    }
}

/* ---- outcomes ---- */

/* A new outcome; *att (valid until the next batch_add) holds its error text in ->error and,
 * when record is 1, the attempt to record. */
static struct store_outbox_result *batch_add(int64_t id, int outcome, int count_attempt,
                                             int64_t now, int record,
                                             struct store_outbox_attempt **att)
{
    struct batch *b = &d.batch;
    struct store_outbox_result *r;

    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;

        if ((b->res = realloc(b->res, cap * sizeof *b->res)) == NULL ||
            (b->att = realloc(b->att, cap * sizeof *b->att)) == NULL ||
            (b->record = realloc(b->record, cap)) == NULL)
            h2o_fatal("out of memory");
        b->cap = cap;
    }
    r = &b->res[b->n];
    memset(r, 0, sizeof *r);
    memset(&b->att[b->n], 0, sizeof b->att[b->n]);
    b->record[b->n] = (unsigned char)record;
    r->id = id;
    r->outcome = outcome;
    r->count_attempt = count_attempt;
    r->now = now;
    *att = &b->att[b->n];
    b->n++;
    return r;
}

/* The outcome of a failed attempt number `made` (1-based): retry on the schedule, or dead. */
static void fail_outcome(struct store_outbox_result *r, int made, int64_t now)
{
    int64_t delay = outbox_retry_delay_ms(made, d.opt.retry_scale);

    if (delay < 0) {
        r->outcome = STORE_OUTBOX_GIVE_UP;
        outbox_metrics_dead();
    } else {
        r->outcome = STORE_OUTBOX_RETRY;
        r->next_at = now + delay;
        if (r->next_at < d.next_due)
            d.next_due = r->next_at;
    }
}

static enum store_result write_batch(struct store_session *s, void *arg)
{
    return store_outbox_finish(s, d.batch.res, d.batch.n);
}

/* Commit the pass's outcomes, then answer the acknowledgements that waited for them. */
static void commit_batch(void)
{
    enum store_result sr = STORE_OK;

    if (d.batch.n > 0) {
        for (size_t i = 0; i < d.batch.n; i++) {
            /* error texts quote vendors and are cut to their buffers: keep them UTF-8 */
            plk_utf8_repair(d.batch.att[i].error, strlen(d.batch.att[i].error));
            d.batch.res[i].error = d.batch.att[i].error;
            d.batch.res[i].attempt = d.batch.record[i] ? &d.batch.att[i] : NULL;
        }
        sr = writer_run_sync(d.s, write_batch, NULL);
        if (sr != STORE_OK) {
            /* the leases run out and the messages go again: at least once */
            log_error("outbox: recording %zu delivery outcomes failed (%s)", d.batch.n,
                      store_strerror(sr));
        } else if (d.shared) {
            /* the rows of those parks that a claim held back are due now */
            d.claim_more = 1;
        }
        d.batch.n = 0;
    }
    while (d.acks_done != NULL) {
        struct delivery_ack *a = d.acks_done;

        d.acks_done = a->next_;
        if (sr != STORE_OK && a->found == 1)
            a->store_error = 1;
        send_ack_back(a);
    }
    while (d.asks_done != NULL) {
        struct delivery_ask *a = d.asks_done;

        d.asks_done = a->next_;
        plk_utf8_repair(a->error, strlen(a->error));
        a->done(a);
    }
}

/* ---- URLs ---- */

/* The URL for a message now (override, the vendor's URL for the service, its unified URL),
 * as a fresh string, or NULL when there is none. */
static char *url_for(const char *union_id, const char *service_name, const char *override)
{
    const struct vendor *v = d.snap ? snapshot_vendor(d.snap, union_id) : NULL;
    char own[STORE_URL_MAX + 1];
    const char *u;

    receivers_service_url(union_id, service_name, own, sizeof own);
    u = outbox_choose_url(override, own, v ? v->callback_url : NULL);
    return u ? strdup(u) : NULL;
}

/* ---- transfers ---- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct job *j = arg;
    size_t n = size * nmemb;

    if (j->resp_len + n > j->resp_max)
        return 0; /* CURLE_WRITE_ERROR: the answer is too large */
    if (j->resp_len + n + 1 > j->resp_cap) {
        size_t cap = j->resp_cap ? j->resp_cap : 1024;
        char *p;

        while (cap < j->resp_len + n + 1)
            cap *= 2;
        if ((p = realloc(j->resp, cap)) == NULL)
            return 0;
        j->resp = p;
        j->resp_cap = cap;
    }
    memcpy(j->resp + j->resp_len, ptr, n);
    j->resp_len += n;
    j->resp[j->resp_len] = '\0';
    return n;
}

static CURL *easy_get(void)
{
    CURL *e = d.nspare ? d.spare[--d.nspare] : curl_easy_init();

    if (e == NULL)
        h2o_fatal("curl_easy_init failed");
    return e;
}

static void easy_put(CURL *e)
{
    CURL **s;

    curl_easy_reset(e);
    if (d.nspare < 256 && (s = realloc(d.spare, (d.nspare + 1) * sizeof *s)) != NULL) {
        d.spare = s;
        d.spare[d.nspare++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

static void job_free(struct job *j)
{
    if (j->easy != NULL) {
        curl_multi_remove_handle(d.multi, j->easy);
        easy_put(j->easy);
    }
    free(j->override);
    free(j->body);
    free(j->url);
    free(j->resp);
    free(j);
}

/* libcurl is about to write the request on a connection: once per send, including its own
 * silent resend after a reused connection died without answering (docs/callbacks.md). */
static int on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    struct job *j = arg;

    (void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
    j->sends++;
    return CURL_PREREQFUNC_OK;
}

/* Start the POST of j to j->url. */
static void transfer_start(struct job *j, long timeout_ms)
{
    CURL *e = easy_get();

    j->easy = e;
    j->started_ms = outbox_now_ms();
    j->resp_max = j->ask ? QUESTION_ANSWER_MAX : NOTICE_ANSWER_MAX;
    curl_easy_setopt(e, CURLOPT_URL, j->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, d.headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "parklinkd");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, j);
    j->sends = 0;
    j->errbuf[0] = '\0';
    if (curl_multi_add_handle(d.multi, e) != CURLM_OK)
        h2o_fatal("curl_multi_add_handle failed");
    d.in_flight++;
}

static void lane_ready(struct lane *l)
{
    if (l->queued || l->busy || l->head == NULL)
        return;
    l->queued = 1;
    l->next_ready = NULL;
    *d.ready_tail = l;
    d.ready_tail = &l->next_ready;
}

static void lane_idle(struct lane *l)
{
    l->busy = 0;
    if (l->head != NULL) {
        lane_ready(l);
    } else {
        HASH_DEL(d.lanes, l);
        free(l);
    }
}

/* The park's endpoint did not answer in time: its queued messages are not tried one after
 * another, seconds each, while they hold slots other parks need. Each counts as failed with
 * the same reason (recorded as not sent) and follows its own schedule. */
static void lane_release(struct lane *l, int64_t now, const char *failure)
{
    char why[192];

    snprintf(why, sizeof why, "%.180s", failure); /* it may live in the batch, which moves */
    while (l->head != NULL) {
        struct job *j = l->head;
        struct store_outbox_attempt *a;
        struct store_outbox_result *r = batch_add(j->id, STORE_OUTBOX_RETRY, 1, now, 1, &a);

        a->at = now;
        snprintf(a->error, sizeof a->error,
                 "not sent: the park's endpoint failed just before "
                 "(%s)",
                 why);
        fail_outcome(r, j->attempts + 1, now);
        outbox_metrics_result(OUTBOX_R_TIMEOUT);
        l->head = j->next;
        HASH_DEL(d.held, j);
        d.nheld--;
        job_free(j);
    }
    l->tail = NULL;
    l->queued_n = 0;
}

/* A push notice with no URL: fails like an unanswered attempt, so the schedule still runs
 * (the vendor may configure its URL meanwhile) and ends dead, replayable. */
static void no_url(struct job *j, int64_t now)
{
    struct store_outbox_attempt *a;
    struct store_outbox_result *r = batch_add(j->id, STORE_OUTBOX_RETRY, 1, now, 1, &a);

    a->at = now;
    snprintf(a->error, sizeof a->error, "vendor %s has no callback URL for %s", j->union_id,
             j->service_name);
    fail_outcome(r, j->attempts + 1, now);
    outbox_metrics_result(OUTBOX_R_NO_URL);
}

/* Start transfers from ready lanes while below the concurrency limit. */
static void start_ready(void)
{
    int64_t now = outbox_now_ms();

    while (d.ready != NULL && d.in_flight < d.opt.concurrency) {
        struct lane *l = d.ready;
        struct job *j = l->head;

        if ((d.ready = l->next_ready) == NULL)
            d.ready_tail = &d.ready;
        l->queued = 0;
        l->head = j->next;
        if (l->head == NULL)
            l->tail = NULL;
        l->queued_n--;
        l->busy = 1;
        j->url = url_for(j->union_id, j->service_name, j->override);
        if (j->url == NULL) {
            no_url(j, now);
            HASH_DEL(d.held, j);
            d.nheld--;
            job_free(j);
            lane_idle(l);
            continue;
        }
        transfer_start(j, (long)d.opt.timeout_ms);
    }
}

/* Copy a claimed row into a held job in its lane (rows already held are skipped: their
 * lease was renewed by the claim). */
/* Copy a claimed row into a held job in its lane. Rows already held are skipped (their
 * lease was renewed by the claim); a row whose lane is full waits DEFER_MS to be claimed
 * again, so one park with a huge backlog cannot take every slot. */
static int on_claimed(void *arg, const struct store_outbox_msg *row)
{
    int64_t now = *(const int64_t *)arg;
    struct job *j;
    struct lane *l;
    char key[KEY_MAX];

    HASH_FIND(hh, d.held, &row->id, sizeof row->id, j);
    if (j != NULL)
        return 0;
    lane_key(key, row->union_id, row->park_id);
    HASH_FIND_STR(d.lanes, key, l);
    if (l != NULL && l->queued_n >= LANE_MAX) {
        struct store_outbox_attempt *a;
        struct store_outbox_result *r = batch_add(row->id, STORE_OUTBOX_RETRY, 0, now, 0, &a);

        r->next_at = now + DEFER_MS;
        memcpy(a->error, row->last_error, sizeof a->error);
        d.deferred++;
        return 0;
    }
    if ((j = calloc(1, sizeof *j)) == NULL || (j->body = dup_n(row->body, row->body_len)) == NULL)
        h2o_fatal("out of memory");
    j->id = row->id;
    memcpy(j->union_id, row->union_id, sizeof j->union_id);
    memcpy(j->park_id, row->park_id, sizeof j->park_id);
    memcpy(j->service_name, row->service_name, sizeof j->service_name);
    if (row->url[0] && (j->override = strdup(row->url)) == NULL)
        h2o_fatal("out of memory");
    j->body_len = row->body_len;
    j->attempts = row->attempts;
    j->created = row->created;
    memcpy(j->last_error, row->last_error, sizeof j->last_error);
    HASH_ADD(hh, d.held, id, sizeof j->id, j);
    d.nheld++;
    d.kept++;

    if (l == NULL) {
        if ((l = calloc(1, sizeof *l)) == NULL)
            h2o_fatal("out of memory");
        memcpy(l->key, key, sizeof l->key);
        HASH_ADD_STR(d.lanes, key, l);
    }
    j->lane = l;
    if (l->tail != NULL)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
    l->queued_n++;
    return 0;
}

static int cmp_job_id(const void *a, const void *b)
{
    int64_t x = (*(struct job *const *)a)->id, y = (*(struct job *const *)b)->id;

    return x < y ? -1 : x > y;
}

struct claim_args {
    int64_t now, limit;
};

/* Runs in the writer's batch (or on d.s): on_claimed fills the lanes meanwhile, while the
 * delivery thread waits in writer_run_sync(). */
static enum store_result write_claim(struct store_session *s, void *arg)
{
    struct claim_args *c = arg;

    d.kept = d.deferred = 0;
    return store_outbox_claim_due(s, c->now, c->now + LEASE_MS, c->limit, on_claimed, &c->now);
}

/* Lease due push messages into lanes. */
static void claim(int64_t now)
{
    struct claim_args args = {now, 0};
    int64_t limit = BACKLOG_MAX - (int64_t)d.nheld;
    enum store_result sr;
    struct lane *l, *tmp;

    if (limit > CLAIM_BATCH)
        limit = CLAIM_BATCH;
    if (limit <= 0) {
        d.claim_more = 1;
        return;
    }
    args.limit = limit;
    sr = writer_run_sync(d.s, write_claim, &args);
    if (sr != STORE_OK) {
        log_error("outbox: claiming due messages failed (%s)", store_strerror(sr));
        d.next_due = now + HOUSEKEEPING_MS;
        return;
    }
    /* a full claim may have left more due rows behind; one that kept nothing (every row's
     * park was full) is not repeated on every wake-up for a while */
    d.claim_more = (int64_t)d.kept >= limit / 2;
    if (d.kept == 0 && d.deferred > 0)
        d.claim_quiet_until = now + DEFER_MS / 4;
    /* rows come back in no particular order: keep each lane in id (enqueue) order */
    HASH_ITER (hh, d.lanes, l, tmp) {
        size_t n = 0, i = 0;
        struct job **v, *j;

        for (j = l->head; j != NULL; j = j->next)
            n++;
        if (n > 1 && (v = malloc(n * sizeof *v)) != NULL) {
            for (j = l->head; j != NULL; j = j->next)
                v[i++] = j;
            qsort(v, n, sizeof *v, cmp_job_id);
            for (i = 0; i + 1 < n; i++)
                v[i]->next = v[i + 1];
            v[n - 1]->next = NULL;
            l->head = v[0];
            l->tail = v[n - 1];
            free(v);
        }
        lane_ready(l);
    }
    if (!d.claim_more && store_outbox_next_due(d.s, now, &d.next_due) != STORE_OK)
        d.next_due = INT64_MAX;
}

/* The answer's `state` is 1 (a number, or the string "1" as 11.7 types it)? 1 yes, 0 no
 * (detail says what it was), -1 not a JSON object with a state. */
static int answer_ok(const struct job *j, char *detail, size_t cap)
{
    json_t *o = j->resp ? json_loadb(j->resp, j->resp_len, 0, NULL) : NULL;
    json_t *st = json_object_get(o, "state"), *msg = json_object_get(o, "errmsg");
    int rc = -1;

    if (!json_is_object(o)) {
        snprintf(detail, cap, "the answer is not a JSON object");
    } else if (json_is_integer(st) || json_is_string(st)) {
        long v = json_is_integer(st) ? (long)json_integer_value(st)
                                     : strtol(json_string_value(st), NULL, 10);
        rc = v == 1;
        if (!rc)
            snprintf(detail, cap, "the vendor answered state %ld%s%.200s", v,
                     json_is_string(msg) ? ": " : "",
                     json_is_string(msg) ? json_string_value(msg) : "");
    } else {
        snprintf(detail, cap, "the answer has no state");
    }
    json_decref(o);
    return rc;
}

/* The asker hears the outcome once it is recorded (commit_batch). */
static void ask_done(struct delivery_ask *a)
{
    a->next_ = d.asks_done;
    d.asks_done = a;
}

/* A finished transfer: classify, record, free. */
static void transfer_done(struct job *j, CURLcode code)
{
    int64_t now = outbox_now_ms();
    long status = 0;
    char *ct = NULL;
    struct store_outbox_attempt *a;
    /* every request written counts; a transfer that never wrote one (no connection) too */
    int sent = j->sends > 1 ? j->sends : 1;
    struct store_outbox_result *r = batch_add(j->id, STORE_OUTBOX_OK, sent, now, 1, &a);
    enum outbox_result label = OUTBOX_R_OK;

    d.in_flight--;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(j->easy, CURLINFO_CONTENT_TYPE, &ct);
    a->at = j->started_ms;
    a->http_status = (int)status;
    a->duration_ms = (int)(now - j->started_ms);
    snprintf(a->url, sizeof a->url, "%s", j->url);
    excerpt(a->response, sizeof a->response, j->resp, j->resp_len, ct);

    if (code == CURLE_OPERATION_TIMEDOUT) {
        label = OUTBOX_R_TIMEOUT;
        snprintf(a->error, sizeof a->error, "no answer within %ld ms",
                 j->ask ? (long)j->ask->timeout_ms : (long)d.opt.timeout_ms);
    } else if (code == CURLE_WRITE_ERROR && j->resp_len + 1 >= j->resp_max) {
        label = OUTBOX_R_BAD_REPLY;
        snprintf(a->error, sizeof a->error, "the answer is larger than %zu bytes", j->resp_max);
    } else if (code != CURLE_OK) {
        label = OUTBOX_R_NETWORK;
        snprintf(a->error, sizeof a->error, "%s",
                 j->errbuf[0] ? j->errbuf : curl_easy_strerror(code));
    } else if (status < 200 || status > 299) {
        label = OUTBOX_R_HTTP_ERROR;
        snprintf(a->error, sizeof a->error, "HTTP status %ld", status);
    } else if (j->ask == NULL) {
        int ok = answer_ok(j, a->error, sizeof a->error);

        label = ok == 1 ? OUTBOX_R_OK : ok == 0 ? OUTBOX_R_REFUSED : OUTBOX_R_BAD_REPLY;
    }
    outbox_metrics_result(label);

    if (j->ask != NULL) {
        /* a question: one attempt, the answer (whatever it says) goes to the asker */
        struct delivery_ask *q = j->ask;

        for (struct job **p = &d.asking; *p != NULL; p = &(*p)->next)
            if (*p == j) {
                *p = j->next;
                break;
            }

        q->http_status = status;
        if (label == OUTBOX_R_OK) {
            q->outcome = 200;
            q->answer = j->resp;
            q->answer_len = j->resp_len;
            j->resp = NULL;
            snprintf(q->content_type, sizeof q->content_type, "%s", ct ? ct : "");
            outbox_metrics_delivered(now - j->created);
        } else {
            q->outcome = label == OUTBOX_R_TIMEOUT ? 504 : 502;
            snprintf(q->error, sizeof q->error, "%.250s", a->error);
            r->outcome = STORE_OUTBOX_GIVE_UP;
        }
        ask_done(q);
        job_free(j);
        return;
    }
    if (sent > 1 && label != OUTBOX_R_OK) {
        size_t n = strlen(a->error);

        snprintf(a->error + n, sizeof a->error - n,
                 " (sent %d times: the reused connection closed without an answer)", sent);
    }
    if (label == OUTBOX_R_OK)
        outbox_metrics_delivered(now - j->created);
    else
        fail_outcome(r, j->attempts + sent, now);
    if (label == OUTBOX_R_TIMEOUT && j->lane->head != NULL)
        lane_release(j->lane, now, a->error);
    HASH_DEL(d.held, j);
    d.nheld--;
    {
        struct lane *l = j->lane;

        job_free(j);
        lane_idle(l);
    }
}

static void collect_done(void)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(d.multi, &left)) != NULL) {
        struct job *j = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
        transfer_done(j, m->data.result);
    }
}

/* ---- questions ---- */

static void ask_fail(struct delivery_ask *a, int outcome, const char *why, int64_t now)
{
    struct store_outbox_attempt *at;

    batch_add(a->id, STORE_OUTBOX_GIVE_UP, 1, now, 1, &at);
    at->at = now;
    snprintf(at->error, sizeof at->error, "%s", why);
    a->outcome = outcome;
    snprintf(a->error, sizeof a->error, "%s", why);
    ask_done(a);
}

/* The asker hears the vendor's answer (taken over: the asker frees it). */
static void ask_answered(struct delivery_ask *q, char *answer, size_t answer_len)
{
    q->outcome = 200;
    q->http_status = 200;
    q->answer = answer;
    q->answer_len = answer_len;
    snprintf(q->content_type, sizeof q->content_type, "application/json");
    ask_done(q);
}

static void early_free(struct early_answer *e)
{
    free(e->answer);
    free(e);
}

/* Keep an answer whose asker is not waiting yet; the oldest goes when too many wait. */
static void early_keep(int64_t id, char **answer, size_t answer_len, int64_t now)
{
    struct early_answer *e = calloc(1, sizeof *e), **p;

    if (e == NULL)
        h2o_fatal("out of memory");
    e->id = id;
    e->expires = now + EARLY_ANSWER_MS;
    e->answer = *answer;
    e->answer_len = answer_len;
    *answer = NULL;
    e->next = d.early;
    d.early = e;
    if (++d.nearly > EARLY_ANSWER_MAX) {
        for (p = &d.early; (*p)->next != NULL; p = &(*p)->next)
            ;
        early_free(*p);
        *p = NULL;
        d.nearly--;
    }
}

/* The answer kept for message id, removed from the list; NULL when none. */
static struct early_answer *early_take(int64_t id)
{
    for (struct early_answer **p = &d.early; *p != NULL; p = &(*p)->next) {
        struct early_answer *e = *p;
        if (e->id == id) {
            *p = e->next;
            d.nearly--;
            return e;
        }
    }
    return NULL;
}

/* Drop kept answers past their time (all of them when `all`). */
static void early_expire(int64_t now, int all)
{
    struct early_answer **p = &d.early;

    while (*p != NULL) {
        struct early_answer *e = *p;
        if (all || now >= e->expires) {
            *p = e->next;
            d.nearly--;
            early_free(e);
        } else {
            p = &e->next;
        }
    }
}

static void ask_start(struct delivery_ask *a, int64_t now)
{
    struct job *j;
    struct early_answer *e;

    a->deadline_ = now + a->timeout_ms;
    if (receivers_mode(a->union_id) == STORE_DELIVERY_POLL) {
        /* the vendor polls: the question waits for its poll, the answer for its upload */
        a->via_poll = 1;
        if ((e = early_take(a->id)) != NULL) { /* answered already */
            ask_answered(a, e->answer, e->answer_len);
            e->answer = NULL;
            early_free(e);
            return;
        }
        a->next_ = d.waiting;
        d.waiting = a;
        serve_park(a->union_id, a->park_id);
        return;
    }
    if ((j = calloc(1, sizeof *j)) == NULL || (j->body = dup_n(a->body, a->body_len)) == NULL)
        h2o_fatal("out of memory");
    j->id = a->id;
    snprintf(j->union_id, sizeof j->union_id, "%s", a->union_id);
    snprintf(j->park_id, sizeof j->park_id, "%s", a->park_id);
    snprintf(j->service_name, sizeof j->service_name, "%s", a->service_name);
    j->body_len = a->body_len;
    j->created = now;
    j->ask = a;
    j->url = url_for(a->union_id, a->service_name, NULL);
    if (j->url == NULL) {
        char why[256];

        snprintf(why, sizeof why, "vendor %s has no callback URL for %s", a->union_id,
                 a->service_name);
        outbox_metrics_result(OUTBOX_R_NO_URL);
        job_free(j);
        ask_fail(a, 503, why, now);
        return;
    }
    j->next = d.asking;
    d.asking = j;
    transfer_start(j, (long)a->timeout_ms);
}

/* Questions to polling vendors whose time is up. */
static void ask_deadlines(int64_t now, int all)
{
    struct delivery_ask **p = &d.waiting;

    while (*p != NULL) {
        struct delivery_ask *a = *p;

        if (all || now >= a->deadline_) {
            char why[128];

            *p = a->next_;
            snprintf(why, sizeof why,
                     all ? "parklinkd is shutting down"
                         : "no answer through the long-poll within %u ms",
                     a->timeout_ms);
            outbox_metrics_result(OUTBOX_R_TIMEOUT);
            ask_fail(a, all ? 503 : 504, why, now);
        } else {
            p = &a->next_;
        }
    }
}

static struct delivery_ask *ask_waiting(int64_t id)
{
    for (struct delivery_ask **p = &d.waiting; *p != NULL; p = &(*p)->next_) {
        struct delivery_ask *a = *p;

        if (a->id == id) {
            *p = a->next_;
            return a;
        }
    }
    return NULL;
}

/* ---- long-polls ---- */

struct polled {
    int found;
    struct store_outbox_msg row;
    char *body;
};

struct poll_args {
    const char *union_id, *park_id;
    int64_t now;
    struct polled *p;
};

static int on_poll_row(void *arg, const struct store_outbox_msg *row);

static enum store_result write_poll_claim(struct store_session *s, void *arg)
{
    struct poll_args *a = arg;

    free(a->p->body); /* a failed batch runs again on d.s */
    memset(a->p, 0, sizeof *a->p);
    return store_outbox_claim_for_poll(s, a->union_id, a->park_id, a->now, a->now + LEASE_MS, 1,
                                       on_poll_row, a->p);
}

static int on_poll_row(void *arg, const struct store_outbox_msg *row)
{
    struct polled *p = arg;

    p->row = *row;
    p->row.body = NULL;
    if ((p->body = dup_n(row->body, row->body_len)) == NULL)
        h2o_fatal("out of memory");
    p->row.body_len = row->body_len;
    p->found = 1;
    return 0;
}

/* Hand due messages of one park to its waiting polls, one message per poll. */
static void serve_park(const char *union_id, const char *park_id)
{
    while (lp_waiting(union_id, park_id)) {
        struct polled p = {0};
        int64_t now = outbox_now_ms();
        struct store_outbox_result *r;
        struct store_outbox_attempt *a;
        enum store_result sr;
        int64_t delay;

        struct poll_args args = {union_id, park_id, now, &p};

        sr = writer_run_sync(d.s, write_poll_claim, &args);
        if (sr != STORE_OK || !p.found) {
            if (sr != STORE_OK)
                log_error("outbox: claim for long-poll failed (%s)", store_strerror(sr));
            break;
        }
        if (p.row.kind == STORE_OUTBOX_NOTICE && p.row.attempts >= OUTBOX_MAX_ATTEMPTS) {
            /* handed out as often as the schedule allows, never acknowledged */
            batch_add(p.row.id, STORE_OUTBOX_GIVE_UP, 0, now, 0, &a);
            snprintf(a->error, sizeof a->error, "not acknowledged after the last hand-out");
            outbox_metrics_dead();
            free(p.body);
            continue;
        }
        /* recorded first: a terminal never sees a message the store does not know it has */
        r = batch_add(p.row.id, STORE_OUTBOX_POLLED, 1, now, 1, &a);
        a->at = now;
        snprintf(a->url, sizeof a->url, "bpd/download.do");
        snprintf(a->error, sizeof a->error,
                 "handed to a long-poll; waiting for the "
                 "acknowledgement");
        /* not acknowledged in time: handed out again on the schedule (the last hand-out
         * gets the last delay before the message is given up) */
        delay = outbox_retry_delay_ms(p.row.attempts + 1, d.opt.retry_scale);
        if (delay < 0)
            delay = outbox_retry_delay_ms(OUTBOX_MAX_ATTEMPTS - 1, d.opt.retry_scale);
        r->next_at = now + delay;
        commit_batch();
        if (lp_hand_out(union_id, park_id, p.row.id, p.row.service_name, p.body,
                        p.row.body_len) != 0) {
            /* the poll went away meanwhile: the message is due again at once */
            r = batch_add(p.row.id, STORE_OUTBOX_RETRY, 0, now, 0, &a);
            r->next_at = now;
            snprintf(a->error, sizeof a->error, "the long-poll went away before the hand-out");
            free(p.body);
            break;
        }
        outbox_metrics_result(OUTBOX_R_POLLED);
        free(p.body);
    }
}

static void on_waiting_park(void *arg, const char *union_id, const char *park_id)
{
    serve_park(union_id, park_id);
}

/* ---- acknowledgements ---- */

static void ack_one(struct delivery_ack *a, int64_t now)
{
    struct store_outbox_msg *m = malloc(sizeof *m);
    struct store_outbox_result *r;
    struct store_outbox_attempt *at;
    struct delivery_ask *q;
    enum store_result sr;

    if (m == NULL)
        h2o_fatal("out of memory");
    sr = store_outbox_find_for_ack(d.s, a->union_id, a->park_id, a->service_name, a->message_id, m);
    if (sr == STORE_NOT_FOUND) {
        a->found = 0;
    } else if (sr != STORE_OK) {
        a->store_error = 1;
    } else if (m->state != STORE_OUTBOX_PENDING) {
        a->found = 2;
        a->acked_id = m->id;
    } else {
        a->found = 1;
        a->acked_id = m->id;
        r = batch_add(m->id, STORE_OUTBOX_OK, 0, now, 0, &at);
        if (m->kind == STORE_OUTBOX_QUESTION) {
            /* any answer to a question delivers it; the answer goes to the asker */
            outbox_metrics_result(OUTBOX_R_ACKED);
            outbox_metrics_delivered(now - m->created);
            if ((q = ask_waiting(m->id)) != NULL) {
                ask_answered(q, a->answer, a->answer_len);
                a->answer = NULL;
            } else {
                early_keep(m->id, &a->answer, a->answer_len, now);
            }
        } else if (a->ok) {
            outbox_metrics_result(OUTBOX_R_ACKED);
            outbox_metrics_delivered(now - m->created);
        } else {
            outbox_metrics_result(OUTBOX_R_NACKED);
            snprintf(at->error, sizeof at->error, "the terminal acknowledged with state 0%s%.180s",
                     a->error[0] ? ": " : "", a->error);
            /* the hand-out counted the attempt; the schedule decides what comes next */
            fail_outcome(r, m->attempts > 0 ? m->attempts : 1, now);
        }
    }
    free(m);
    a->next_ = d.acks_done;
    d.acks_done = a;
}

/* ---- the loop ---- */

struct prune_args {
    int64_t before, deleted;
};

static enum store_result write_prune(struct store_session *s, void *arg)
{
    struct prune_args *p = arg;

    return store_outbox_prune(s, p->before, PRUNE_BATCH, &p->deleted);
}

/* Delete delivered messages past the retention, one batch per pass, as a job of the writer's
 * group commit (one write path): a long backlog goes in short steps, one a second, and never
 * holds the writer up for long. */
static void prune(int64_t now)
{
    struct prune_args args = {now - d.opt.retention_ms, 0};
    int64_t deleted, every = d.opt.retention_ms / 2;

    if (d.opt.retention_ms <= 0 || now < d.next_prune)
        return;
    if (writer_run_sync(d.s, write_prune, &args) != STORE_OK)
        log_warn("outbox: deleting delivered messages past the retention failed");
    deleted = args.deleted;
    if (deleted > 0) {
        outbox_metrics_pruned(deleted);
        log_debug("outbox: deleted %lld delivered message(s) past the retention",
                  (long long)deleted);
    }
    if (every > PRUNE_EVERY_MS)
        every = PRUNE_EVERY_MS;
    d.next_prune = deleted == PRUNE_BATCH ? now : now + every;
}

static void housekeeping(int64_t now)
{
    int64_t pending = 0, dead = 0;

    prune(now);
    if (store_outbox_counts(d.s, &pending, &dead) == STORE_OK)
        outbox_metrics_gauges(pending, dead);
    ask_deadlines(now, 0);
    early_expire(now, 0);
    lp_each_waiting(on_waiting_park, NULL);
    d.next_housekeeping = now + HOUSEKEEPING_MS;
}

static void run_pass(void)
{
    struct delivery_ask *asks;
    struct delivery_ack *acks;
    struct hint *hints, *h, *tmp;
    int claim_now, sweep;
    int64_t now;

    pthread_mutex_lock(&inbox.mu);
    asks = inbox.asks;
    inbox.asks = NULL;
    inbox.asks_tail = &inbox.asks;
    acks = inbox.acks;
    inbox.acks = NULL;
    inbox.acks_tail = &inbox.acks;
    hints = inbox.hints;
    inbox.hints = NULL;
    inbox.nhints = 0;
    claim_now = inbox.claim;
    sweep = inbox.sweep;
    inbox.claim = inbox.sweep = 0;
    pthread_mutex_unlock(&inbox.mu);

    now = outbox_now_ms();
    d.snap = registry_current(&d.reader);
    /* questions first: an answer that came in the same pass finds its asker waiting */
    while (asks != NULL) {
        struct delivery_ask *a = asks;

        asks = a->next_;
        ask_start(a, now);
    }
    while (acks != NULL) {
        struct delivery_ack *a = acks;

        acks = a->next_;
        ack_one(a, now);
    }
    /* long-polls: parks named since the last pass (new messages, new polls) */
    if (sweep) {
        lp_each_waiting(on_waiting_park, NULL);
    } else {
        HASH_ITER(hh, hints, h, tmp)
        {
            if (lp_waiting(h->union_id, h->park_id))
                serve_park(h->union_id, h->park_id);
            else if (h->park_id[0] == '\0')
                lp_each_waiting(on_waiting_park, NULL); /* a message for no single park */
        }
    }
    HASH_ITER (hh, hints, h, tmp) {
        HASH_DEL(hints, h);
        free(h);
    }
    if (((claim_now || d.claim_more) && now >= d.claim_quiet_until) || now >= d.next_due)
        claim(now);
    if (now >= d.next_housekeeping)
        housekeeping(now);
    start_ready();
}

static void *delivery_main(void *arg)
{
    /* a car waits at the barrier for park_check; a callback can wait a little: when the CPU
     * is short, the request workers come first. nice 19 still guarantees the thread a share
     * (a remote lift command, a long-poll hand-out must not starve under load); SCHED_IDLE
     * would starve it outright, nice 10 cost park_check 0.89x under a delivery backlog */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), DELIVERY_NICE) != 0)
        log_warn("outbox: cannot lower the delivery thread's priority: %s", strerror(errno));
    d.next_due = 0;
    d.next_housekeeping = 0;
    for (;;) {
        int running = 0, stop;
        int64_t now, wait;

        pthread_mutex_lock(&inbox.mu);
        stop = inbox.stop;
        pthread_mutex_unlock(&inbox.mu);
        if (stop)
            break;
        run_pass();
        curl_multi_perform(d.multi, &running);
        collect_done();
        start_ready();
        commit_batch();

        now = outbox_now_ms();
        wait = d.next_housekeeping - now;
        if (d.next_due != INT64_MAX && d.next_due - now < wait)
            wait = d.next_due - now;
        if (d.claim_more && d.in_flight < d.opt.concurrency)
            wait = 0;
        if (wait < 0)
            wait = 0;
        curl_multi_poll(d.multi, NULL, 0, (int)wait, NULL);
    }
    return NULL;
}

/* ---- start, stop ---- */

int delivery_start(const struct delivery_options *opt)
{
    char err[512];
    enum store_result sr;

    d.opt = *opt;
    if (d.opt.timeout_ms == 0)
        d.opt.timeout_ms = OUTBOX_TIMEOUT_MS;
    if (d.opt.concurrency == 0)
        d.opt.concurrency = 256;
    if (d.opt.retry_scale <= 0)
        d.opt.retry_scale = 1.0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("outbox: libcurl cannot initialise");
        return -1;
    }
    if ((d.s = store_session_open(opt->store, err, sizeof err)) == NULL) {
        log_error("outbox: cannot open a store session for delivery: %s", err);
        return -1;
    }
    if (receivers_load(d.s) != 0) {
        store_session_close(d.s);
        d.s = NULL;
        return -1;
    }
    /* one node on SQLite: leases a previous process held died with it (on PostgreSQL other
     * nodes' leases are live: they expire by themselves) */
    d.shared = strcmp(store_engine_name(opt->store), "sqlite") != 0;
    sr = !d.shared ? store_outbox_release_all(d.s, outbox_now_ms()) : STORE_OK;
    if (sr != STORE_OK) {
        log_error("outbox: releasing old leases failed (%s)", store_strerror(sr));
        store_session_close(d.s);
        d.s = NULL;
        return -1;
    }
    d.multi = curl_multi_init();
    d.headers = curl_slist_append(NULL, "Content-Type: application/json;charset=utf-8");
    d.headers = curl_slist_append(d.headers, "Expect:");
    if (d.multi == NULL || d.headers == NULL) {
        log_error("outbox: libcurl multi handle cannot be created");
        return -1;
    }
    curl_multi_setopt(d.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)d.opt.concurrency);
    curl_multi_setopt(d.multi, CURLMOPT_MAXCONNECTS, (long)d.opt.concurrency);
    d.ready_tail = &d.ready;
    d.next_due = 0;

    pthread_mutex_lock(&inbox.mu);
    inbox.asks_tail = &inbox.asks;
    inbox.acks_tail = &inbox.acks;
    inbox.multi = d.multi;
    inbox.stop = 0;
    inbox.claim = 1;
    inbox.running = 1;
    pthread_mutex_unlock(&inbox.mu);
    if (pthread_create(&d.tid, NULL, delivery_main, NULL) != 0) {
        log_error("outbox: cannot start the delivery thread");
        pthread_mutex_lock(&inbox.mu);
        inbox.running = 0;
        pthread_mutex_unlock(&inbox.mu);
        return -1;
    }
    log_info("outbox: delivery thread started (retry scale %g, timeout %u ms, %u transfers)",
             d.opt.retry_scale, d.opt.timeout_ms, d.opt.concurrency);
    return 0;
}

void delivery_stop(void)
{
    struct job *j, *tmp;
    struct lane *l, *ltmp;
    struct hint *h, *htmp;
    struct delivery_ask *a;
    struct delivery_ack *k;
    int was_running;

    pthread_mutex_lock(&inbox.mu);
    was_running = inbox.running;
    inbox.stop = 1;
    wake();
    pthread_mutex_unlock(&inbox.mu);
    if (was_running)
        pthread_join(d.tid, NULL);

    pthread_mutex_lock(&inbox.mu);
    inbox.running = 0;
    a = inbox.asks;
    inbox.asks = NULL;
    k = inbox.acks;
    inbox.acks = NULL;
    HASH_ITER (hh, inbox.hints, h, htmp) {
        HASH_DEL(inbox.hints, h);
        free(h);
    }
    inbox.nhints = 0;
    pthread_mutex_unlock(&inbox.mu);
    if (!was_running)
        return;

    /* everything still here is answered or dropped; leased rows go again next start */
    while (a != NULL) {
        struct delivery_ask *next = a->next_;

        a->outcome = 503;
        snprintf(a->error, sizeof a->error, "parklinkd is shutting down");
        a->done(a);
        a = next;
    }
    while (k != NULL) {
        struct delivery_ack *next = k->next_;

        k->store_error = 1;
        send_ack_back(k);
        k = next;
    }
    ask_deadlines(outbox_now_ms(), 1);
    early_expire(0, 1);
    while ((j = d.asking) != NULL) {
        d.asking = j->next;
        j->ask->outcome = 503;
        snprintf(j->ask->error, sizeof j->ask->error, "parklinkd is shutting down");
        j->ask->done(j->ask);
        d.in_flight--;
        job_free(j);
    }
    HASH_ITER (hh, d.held, j, tmp) {
        struct store_outbox_attempt *att;

        /* its lease goes back: due again now, for this node's next start or another node
         * (an interrupted send goes again: at least once), no attempt counted */
        batch_add(j->id, STORE_OUTBOX_RETRY, 0, outbox_now_ms(), 0, &att)->next_at =
            outbox_now_ms();
        memcpy(att->error, j->last_error, sizeof att->error);
        HASH_DEL(d.held, j);
        if (j->easy != NULL)
            d.in_flight--;
        job_free(j);
    }
    d.nheld = 0;
    commit_batch();
    HASH_ITER (hh, d.lanes, l, ltmp) {
        HASH_DEL(d.lanes, l);
        free(l);
    }
    d.ready = NULL;
    d.ready_tail = &d.ready;
    for (size_t i = 0; i < d.nspare; i++)
        curl_easy_cleanup(d.spare[i]);
    free(d.spare);
    d.spare = NULL;
    d.nspare = 0;
    free(d.batch.res);
    free(d.batch.att);
    free(d.batch.record);
    memset(&d.batch, 0, sizeof d.batch);
    curl_multi_cleanup(d.multi);
    d.multi = NULL;
    curl_slist_free_all(d.headers);
    d.headers = NULL;
    registry_reader_release(&d.reader);
    store_session_close(d.s);
    d.s = NULL;
    receivers_cleanup();
    curl_global_cleanup();
}
