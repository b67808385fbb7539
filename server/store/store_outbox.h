/* store_outbox.h - the durable outbox of callbacks and commands, on a store session.
 *
 * Every message parklinkd sends a vendor (spec chapters 5 and 11) is written here first and
 * delivered afterwards (DESIGN decision 8): messages, their delivery attempts, and each
 * vendor's delivery settings (push or long-poll, per-service URLs). Like store.h, nothing
 * above this interface speaks SQL: outbox.c, outbox_claims.c, outbox_admin.c and
 * delivery_settings.c implement it once for both engines. Claims lease rows (several nodes
 * on one PostgreSQL claim with FOR UPDATE SKIP LOCKED; an expired lease is free again);
 * finish and ack are idempotent on a row that is no longer pending. Every op takes the
 * caller's session first; called inside store_begin .. store_commit it joins that
 * transaction, else it runs in one of its own. Times here are unix MILLISECONDS: scaled
 * retry schedules (--retry-scale) go below a second. */
#ifndef PARKLINK_STORE_OUTBOX_H
#define PARKLINK_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_OUTBOX_NAME_MAX 64       /* service_name */
#define STORE_OUTBOX_ERROR_MAX 256     /* last_error, attempt error */
#define STORE_OUTBOX_ORIGIN_MAX 128    /* what caused the message: "3.1 20003/A123", "admin" */
#define STORE_OUTBOX_RESPONSE_MAX 1024 /* the start of a vendor's answer kept per attempt */
#define STORE_OUTBOX_URLS_MAX 16384    /* per-service URLs of a vendor, as JSON text */

/* Values are stored; never renumber. */
enum store_outbox_state {
    STORE_OUTBOX_PENDING = 0,   /* waiting for (another) attempt */
    STORE_OUTBOX_DELIVERED = 1, /* the vendor acknowledged it */
    STORE_OUTBOX_DEAD = 2,      /* given up: visible and replayable by the admin API */
};

enum store_outbox_kind {
    STORE_OUTBOX_NOTICE = 0,   /* retried until acknowledged, then dead */
    STORE_OUTBOX_QUESTION = 1, /* one attempt; someone waits for the answer (admin ask) */
};

enum store_delivery_mode {
    STORE_DELIVERY_PUSH = 0, /* POST to the vendor's callback URL */
    STORE_DELIVERY_POLL = 1, /* held for the vendor's long-poll (bpd/download.do) */
};

/* One message. On enqueue the caller fills union_id .. origin; the backend sets id, state
 * (pending), attempts (0) and the times it is given. body is the exact signed bytes that go
 * on the wire (not NUL-terminated, body_len bytes). In rows a backend hands to a callback,
 * body points into backend memory valid during the call only. */
struct store_outbox_msg {
    int64_t id;
    char union_id[STORE_UNION_ID_MAX + 1];
    char park_id[STORE_PARK_ID_MAX + 1]; /* "" when the message concerns no single park */
    char service_name[STORE_OUTBOX_NAME_MAX + 1];
    int kind;                    /* enum store_outbox_kind */
    char url[STORE_URL_MAX + 1]; /* a notify_url override, "" = resolved at send */
    const char *body;
    size_t body_len;
    int state;             /* enum store_outbox_state */
    int attempts;          /* attempts made since enqueue (or replay) */
    int64_t next_at;       /* pending: due at (ms) */
    int64_t created;       /* enqueued at (ms) */
    int64_t delivered_at;  /* 0 until delivered */
    int64_t polled_at;     /* last hand-out on a long-poll, 0 = never */
    int64_t claimed_until; /* a delivery lease ends then; 0 = not leased */
    char last_error[STORE_OUTBOX_ERROR_MAX + 1];
    char origin[STORE_OUTBOX_ORIGIN_MAX + 1];
};

/* One delivery attempt (a POST, or a hand-out on a long-poll). */
struct store_outbox_attempt {
    int64_t at;      /* start (ms); an outcome with at == 0 records no attempt */
    int http_status; /* 0: no HTTP answer (network error, timeout, long-poll hand-out) */
    int duration_ms;
    char url[STORE_URL_MAX + 1];
    char error[STORE_OUTBOX_ERROR_MAX + 1];       /* "" when it succeeded */
    char response[STORE_OUTBOX_RESPONSE_MAX + 1]; /* the start of the answer */
};

/* What became of a claimed message. */
enum store_outbox_outcome {
    STORE_OUTBOX_OK = 0,  /* delivered: state delivered, delivered_at = attempt end (now) */
    STORE_OUTBOX_RETRY,   /* stays pending, due at next_at */
    STORE_OUTBOX_GIVE_UP, /* state dead */
    STORE_OUTBOX_POLLED,  /* handed to a long-poll: pending, polled_at set, re-sent at next_at
                             unless acknowledged first */
};

struct store_outbox_result {
    int64_t id;
    int outcome;                                /* enum store_outbox_outcome */
    int count_attempt;                          /* attempts += count_attempt (requests sent) */
    int64_t now;                                /* when the outcome was decided (ms) */
    int64_t next_at;                            /* RETRY, POLLED */
    const char *error;                          /* becomes last_error ("" or NULL clears it) */
    const struct store_outbox_attempt *attempt; /* recorded when not NULL and at > 0 */
};

/* A vendor's delivery settings. A vendor without a row is push mode without per-service
 * URLs; its unified URL is the vendor's callback_url (store_vendor). */
struct store_delivery {
    char union_id[STORE_UNION_ID_MAX + 1];
    int mode;                             /* enum store_delivery_mode */
    char urls[STORE_OUTBOX_URLS_MAX + 1]; /* JSON object {"service_name": "http://..."} */
    int64_t updated;                      /* unix seconds, set by the backend */
};

/* A list request: filters NULL/"" or -1 when unused; rows come in id order. */
struct store_outbox_query {
    int64_t limit, offset, after_id; /* limit 0 = no limit */
    const char *union_id, *park_id, *service_name;
    int state; /* -1 any */
};

typedef int (*store_outbox_cb)(void *arg, const struct store_outbox_msg *row);
typedef int (*store_outbox_attempt_cb)(void *arg, const struct store_outbox_attempt *row);

/* Write n messages: inside the caller's open transaction on s (the writer's group-commit
 * batch), so they commit with the rows that caused them or not at all; else in one
 * transaction of their own, durable when the op returns. MUST write the new ids back into
 * m[i].id and set state pending, attempts 0. Messages are due at m[i].next_at (0 = at
 * m[i].created). */
enum store_result store_outbox_enqueue(struct store_session *s, struct store_outbox_msg *m,
                                       size_t n);

/* Lease up to limit (0 = no limit) due messages for push delivery: pending NOTICES of
 * vendors in push mode with next_at <= now whose lease is free (none, or one that ended at
 * or before now). Each leased row MUST stay invisible to other claims, on every node, until
 * lease_until or its finish, and MUST be handed to cb (in no particular order); a cb that
 * answers non-zero ends the op with STORE_ABORTED and (in its own transaction) leases
 * nothing. Per-park order: a row is NOT claimed while an earlier (smaller id) pending row of
 * the same vendor and park_id holds a live lease (claimed_until > now), whichever node holds
 * it; rows that merely wait for a retry do not hold later ones back. Rows of one park due
 * together come in one claim. On PostgreSQL the claim takes a transaction-scoped advisory
 * lock per (vendor, park) it serves (held until the transaction ends: run claims in short
 * transactions) and selects with FOR UPDATE SKIP LOCKED. */
enum store_result store_outbox_claim_due(struct store_session *s, int64_t now, int64_t lease_until,
                                         int64_t limit, store_outbox_cb cb, void *arg);

/* Lease up to limit due messages (notices and questions, oldest first) for a long-poll of
 * vendor union_id's park park_id (messages for that park, or for no single park), under the
 * same lease and per-park order rules as claim_due. */
enum store_result store_outbox_claim_for_poll(struct store_session *s, const char *union_id,
                                              const char *park_id, int64_t now, int64_t lease_until,
                                              int64_t limit, store_outbox_cb cb, void *arg);

/* Earliest time a claim_due could return something, as seen at now: the smallest next_at
 * (a leased row's next_at is its lease end) among pending push notices that no earlier
 * live lease of their park holds back. A row held back becomes claimable when the rows
 * before it are finished: the caller claims again after its outcomes commit. STORE_NOT_FOUND
 * when there is none. */
enum store_result store_outbox_next_due(struct store_session *s, int64_t now, int64_t *at);

/* Apply n outcomes in ONE transaction (the caller's, or one of its own): the batched
 * mark_delivered / mark_retry / mark_dead, each ending the row's lease and recording its
 * attempt. A row that is no longer pending (delivered by another node, replayed ...) MUST be
 * left unchanged; its attempt is still recorded (a row that no longer exists records none). */
enum store_result store_outbox_finish(struct store_session *s, const struct store_outbox_result *r,
                                      size_t n);

/* Find the message a long-poll acknowledgement confirms: by id when id > 0 (it must be
 * vendor union_id's, for park park_id or no single park), else the oldest pending message
 * named service_name for that park that was handed to a long-poll (polled_at > 0).
 * STORE_NOT_FOUND if none (a duplicate acknowledgement finds the delivered row by id, or
 * nothing). out->body is NULL (body_len 0). */
enum store_result store_outbox_find_for_ack(struct store_session *s, const char *union_id,
                                            const char *park_id, const char *service_name,
                                            int64_t id, struct store_outbox_msg *out);

/* One message by id (body valid during the call: cb gets the row), and its attempts in
 * time order (attempts may be NULL), from one consistent read. STORE_NOT_FOUND if absent. */
enum store_result store_outbox_get(struct store_session *s, int64_t id, store_outbox_cb cb,
                                   store_outbox_attempt_cb attempts, void *arg);

/* List, with *total (if not NULL) the number of rows matching the filters (ignoring limit,
 * offset and cursor), from one consistent read. */
enum store_result store_outbox_list(struct store_session *s, const struct store_outbox_query *q,
                                    store_outbox_cb cb, void *arg, int64_t *total);

/* A dead notice goes back to pending, due at now, with a fresh schedule (attempts 0; its
 * history stays). STORE_NOT_FOUND, or STORE_CONFLICT when it is not a dead notice. */
enum store_result store_outbox_replay(struct store_session *s, int64_t id, int64_t now);

/* Messages pending and dead, for the gauges. */
enum store_result store_outbox_counts(struct store_session *s, int64_t *pending, int64_t *dead);

/* Drop every lease, making those rows due at now: a single-node SQLite store at start (the
 * one process that held them is gone; the store's lock file guarantees it). On PostgreSQL it
 * MUST NOT be used (other live nodes hold leases that must not be stolen; a dead node's
 * leases simply expire and are claimable then): it changes nothing there and answers
 * STORE_ERROR (logged). */
enum store_result store_outbox_release_all(struct store_session *s, int64_t now);

/* Delete up to limit DELIVERED messages whose delivery ended before `before` (ms), with
 * their attempts, oldest first, in one transaction; *deleted receives how many. Pending
 * and dead messages MUST stay (dead ones are the operator's to replay). */
enum store_result store_outbox_prune(struct store_session *s, int64_t before, int64_t limit,
                                     int64_t *deleted);

/* Delivery settings (delivery_settings.c). get MUST answer STORE_NOT_FOUND for a vendor
 * without a row (the defaults apply); put replaces the row (setting d->updated), moves the
 * vendor's pending messages to the new channel, and MUST answer STORE_FOREIGN_KEY for an
 * unknown vendor, writing nothing. The row goes when its vendor is deleted. */
enum store_result store_delivery_get(struct store_session *s, const char *union_id,
                                     struct store_delivery *out);
enum store_result store_delivery_put(struct store_session *s, struct store_delivery *d);
/* Every vendor's row, one at a time (rows valid during the call). */
enum store_result store_delivery_list(struct store_session *s,
                                      int (*cb)(void *arg, const struct store_delivery *d),
                                      void *arg);

#endif
