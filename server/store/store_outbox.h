/* store_outbox.h - the durable outbox of callbacks and commands, as a store sub-interface.
 *
 * Every message parklinkd sends a vendor (spec chapters 5 and 11) is written here first and
 * delivered afterwards (DESIGN decision 8): messages, their delivery attempts, and each
 * vendor's delivery settings (push or long-poll, per-service URLs). Like store.h, nothing
 * above this interface speaks SQL; sqlite_outbox.c implements it today, and the ops are
 * shaped so a PostgreSQL backend can claim rows with FOR UPDATE SKIP LOCKED (claim_due
 * leases rows; finish and ack are idempotent on a row that is no longer pending). Times
 * here are unix MILLISECONDS: scaled retry schedules (--retry-scale) go below a second. */
#ifndef PARKLINK_STORE_OUTBOX_H
#define PARKLINK_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_tx.h"

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

struct store_outbox;

struct store_outbox_ops {
    /* Write n messages. tx NULL: in one transaction of their own, durable when the op
     * returns. tx given: inside that open session transaction (store_tx.h: the writer's
     * group-commit batch, on a session opened on this same handle), so the messages commit
     * with the rows that caused them or not at all; the backend then neither begins,
     * commits nor locks. MUST write the new ids back into m[i].id and set state pending,
     * attempts 0. Messages are due at m[i].next_at (0 = at m[i].created). */
    enum store_result (*enqueue)(struct store_outbox *ob, struct store_tx *tx,
                                 struct store_outbox_msg *m, size_t n);

    /* The ops below that take a tx run inside that session's open transaction when it is
     * given (as enqueue does), else in a transaction of their own. */

    /* Lease up to limit due messages for push delivery: pending NOTICES of vendors in push
     * mode with next_at <= now and no live lease. Each leased row MUST stay invisible to
     * other claims until lease_until or its finish, and MUST be handed to cb (in no
     * particular order). A backend serving many nodes claims with FOR UPDATE SKIP LOCKED. */
    enum store_result (*claim_due)(struct store_outbox *ob, struct store_tx *tx, int64_t now,
                                   int64_t lease_until, int64_t limit, store_outbox_cb cb,
                                   void *arg);

    /* Lease up to limit due messages (notices and questions, oldest first) for a long-poll
     * of vendor union_id's park park_id (messages for that park, or for no single park). */
    enum store_result (*claim_for_poll)(struct store_outbox *ob, struct store_tx *tx,
                                        const char *union_id, const char *park_id, int64_t now,
                                        int64_t lease_until, int64_t limit, store_outbox_cb cb,
                                        void *arg);

    /* Earliest time a claim_due could return something: the smallest next_at (or lease end)
     * among pending push notices. STORE_NOT_FOUND when there is none. */
    enum store_result (*next_due)(struct store_outbox *ob, int64_t *at);

    /* Apply n outcomes in ONE transaction (the batched mark_delivered / mark_retry /
     * mark_dead), each ending the row's lease and recording its attempt. A row that is no
     * longer pending (delivered by another node, replayed ...) MUST be left unchanged; its
     * attempt is still recorded. */
    enum store_result (*finish)(struct store_outbox *ob, struct store_tx *tx,
                                const struct store_outbox_result *r, size_t n);

    /* Find the message a long-poll acknowledgement confirms: by id when id > 0 (it must be
     * vendor union_id's, for park park_id or no single park), else the oldest pending message
     * named service_name for that park that was handed to a long-poll (polled_at > 0).
     * STORE_NOT_FOUND if none (a duplicate acknowledgement finds the delivered row by id,
     * or nothing). */
    enum store_result (*find_for_ack)(struct store_outbox *ob, const char *union_id,
                                      const char *park_id, const char *service_name, int64_t id,
                                      struct store_outbox_msg *out);

    /* One message by id (body valid during the call: cb gets the row), and its attempts in
     * time order (attempts may be NULL). STORE_NOT_FOUND if absent. */
    enum store_result (*get)(struct store_outbox *ob, int64_t id, store_outbox_cb cb,
                             store_outbox_attempt_cb attempts, void *arg);

    /* List, with *total (if not NULL) the number of rows matching the filters. */
    enum store_result (*list)(struct store_outbox *ob, const struct store_outbox_query *q,
                              store_outbox_cb cb, void *arg, int64_t *total);

    /* A dead notice goes back to pending, due at now, with a fresh schedule (attempts 0; its
     * history stays). STORE_NOT_FOUND, or STORE_CONFLICT when it is not a dead notice. */
    enum store_result (*replay)(struct store_outbox *ob, int64_t id, int64_t now);

    /* Messages pending and dead, for the gauges. */
    enum store_result (*counts)(struct store_outbox *ob, int64_t *pending, int64_t *dead);

    /* Drop every lease, making those rows due at now (a single-node store at start: the
     * process that held them is gone). */
    enum store_result (*release_all)(struct store_outbox *ob, int64_t now);

    /* Delete up to limit DELIVERED messages whose delivery ended before `before` (ms), with
     * their attempts, oldest first, in one transaction; *deleted receives how many. Pending
     * and dead messages MUST stay (dead ones are the operator's to replay). */
    enum store_result (*prune)(struct store_outbox *ob, struct store_tx *tx, int64_t before,
                               int64_t limit, int64_t *deleted);

    /* Delivery settings. get MUST answer STORE_NOT_FOUND for a vendor without a row (the
     * defaults apply); put replaces the row and MUST answer STORE_FOREIGN_KEY for an unknown
     * vendor. The row goes when its vendor is deleted. */
    enum store_result (*delivery_get)(struct store_outbox *ob, const char *union_id,
                                      struct store_delivery *out);
    enum store_result (*delivery_put)(struct store_outbox *ob, struct store_delivery *d);
    /* Every vendor's row, one at a time (rows valid during the call). */
    enum store_result (*delivery_list)(struct store_outbox *ob,
                                       int (*cb)(void *arg, const struct store_delivery *d),
                                       void *arg);
};

/* A backend's outbox handle starts with this; struct store points at it (store->outbox). */
struct store_outbox {
    const struct store_outbox_ops *ops;
};

/* SQLite backend (sqlite_outbox.c): state kept beside the store handle sqlite.c opened on
 * db, serialised by its mutex lock. NULL with a reason in err on failure. */
struct sqlite3;
struct store_outbox *store_sqlite_outbox_open(struct sqlite3 *db, void *lock, char *err,
                                              size_t errlen);
void store_sqlite_outbox_close(struct store_outbox *ob);

/* Wrappers: store_outbox_enqueue(st, ...) reads as the other store calls. Those taking a
 * tx use the outbox of the session's handle when tx is given (st may then be NULL). */
static inline struct store_outbox *store_outbox_of(struct store *st, struct store_tx *tx)
{
    return tx != NULL ? tx->st->outbox : st->outbox;
}
static inline enum store_result store_outbox_enqueue(struct store *st, struct store_tx *tx,
                                                     struct store_outbox_msg *m, size_t n)
{
    struct store_outbox *ob = store_outbox_of(st, tx);

    return ob->ops->enqueue(ob, tx, m, n);
}
static inline enum store_result store_outbox_claim_due(struct store *st, struct store_tx *tx,
                                                       int64_t now, int64_t lease_until,
                                                       int64_t limit, store_outbox_cb cb, void *arg)
{
    struct store_outbox *ob = store_outbox_of(st, tx);

    return ob->ops->claim_due(ob, tx, now, lease_until, limit, cb, arg);
}
static inline enum store_result store_outbox_claim_for_poll(struct store *st, struct store_tx *tx,
                                                            const char *union_id,
                                                            const char *park_id, int64_t now,
                                                            int64_t lease_until, int64_t limit,
                                                            store_outbox_cb cb, void *arg)
{
    struct store_outbox *ob = store_outbox_of(st, tx);

    return ob->ops->claim_for_poll(ob, tx, union_id, park_id, now, lease_until, limit, cb, arg);
}
static inline enum store_result store_outbox_next_due(struct store *st, int64_t *at)
{
    return st->outbox->ops->next_due(st->outbox, at);
}
static inline enum store_result store_outbox_finish(struct store *st, struct store_tx *tx,
                                                    const struct store_outbox_result *r, size_t n)
{
    struct store_outbox *ob = store_outbox_of(st, tx);

    return ob->ops->finish(ob, tx, r, n);
}
static inline enum store_result store_outbox_find_for_ack(struct store *st, const char *union_id,
                                                          const char *park_id,
                                                          const char *service_name, int64_t id,
                                                          struct store_outbox_msg *out)
{
    return st->outbox->ops->find_for_ack(st->outbox, union_id, park_id, service_name, id, out);
}
static inline enum store_result store_outbox_get(struct store *st, int64_t id, store_outbox_cb cb,
                                                 store_outbox_attempt_cb attempts, void *arg)
{
    return st->outbox->ops->get(st->outbox, id, cb, attempts, arg);
}
static inline enum store_result store_outbox_list(struct store *st,
                                                  const struct store_outbox_query *q,
                                                  store_outbox_cb cb, void *arg, int64_t *total)
{
    return st->outbox->ops->list(st->outbox, q, cb, arg, total);
}
static inline enum store_result store_outbox_replay(struct store *st, int64_t id, int64_t now)
{
    return st->outbox->ops->replay(st->outbox, id, now);
}
static inline enum store_result store_outbox_counts(struct store *st, int64_t *pending,
                                                    int64_t *dead)
{
    return st->outbox->ops->counts(st->outbox, pending, dead);
}
static inline enum store_result store_outbox_release_all(struct store *st, int64_t now)
{
    return st->outbox->ops->release_all(st->outbox, now);
}
static inline enum store_result store_outbox_prune(struct store *st, struct store_tx *tx,
                                                   int64_t before, int64_t limit,
                                                   int64_t *deleted)
{
    struct store_outbox *ob = store_outbox_of(st, tx);
    return ob->ops->prune(ob, tx, before, limit, deleted);
}
static inline enum store_result store_delivery_get(struct store *st, const char *union_id,
                                                   struct store_delivery *out)
{
    return st->outbox->ops->delivery_get(st->outbox, union_id, out);
}
static inline enum store_result store_delivery_put(struct store *st, struct store_delivery *d)
{
    return st->outbox->ops->delivery_put(st->outbox, d);
}
static inline enum store_result
store_delivery_list(struct store *st, int (*cb)(void *arg, const struct store_delivery *d),
                    void *arg)
{
    return st->outbox->ops->delivery_list(st->outbox, cb, arg);
}

#endif
