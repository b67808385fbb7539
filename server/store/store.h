/* store.h - the durable state of parklinkd: one database, sessions on it, and the catalog.
 *
 * Everything above this interface (registry, admin, handlers) speaks in the row structs and
 * result codes below and never in SQL. A database (struct store) is opened once per process
 * from a URI that picks its engine (SQLite or PostgreSQL, engine.h); every thread that
 * touches it opens a session of its own (one connection), and every store operation, in this
 * header and in store_orders.h / store_outbox.h, takes that session as its first argument.
 * An op called inside store_begin .. store_commit joins that transaction; called outside one
 * it runs in a transaction of its own. Every write to vendors, parks or a plate table bumps
 * one global revision; plate rows carry the revision that last wrote them and deletions leave
 * a tombstone, so the registry can load only what changed (store_load with since_rev). */
#ifndef PARKLINK_STORE_H
#define PARKLINK_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Field caps, in bytes (not counting the NUL). Validation lives in the admin_*.c files; a
 * backend MAY assume rows it is given respect them and MUST NOT return rows that break
 * them. */
#define STORE_UNION_ID_MAX 20 /* decimal digits */
#define STORE_UKEY_MAX 64
#define STORE_PARK_ID_MAX 64
#define STORE_PLATE_MAX 64 /* 16 characters of UTF-8, normalised (registry_plate_norm) */
#define STORE_NAME_MAX 256
#define STORE_URL_MAX 1024
#define STORE_TEXT_MAX 256 /* blacklist reason, reason_msg overrides */
#define STORE_SETTING_MAX 1024

enum store_result {
    STORE_OK = 0,
    STORE_NOT_FOUND,   /* no row with that key */
    STORE_CONFLICT,    /* a row with that key (or unique tuple) already exists */
    STORE_FOREIGN_KEY, /* a referenced row is missing (park -> vendor, member -> park) */
    STORE_IN_USE,      /* delete refused: other rows still reference this one */
    STORE_ABORTED,     /* a row callback returned non-zero */
    STORE_BUSY,        /* another process held the database past the busy timeout: nothing
                          was written, the same request may succeed later (logged) */
    STORE_FULL,        /* the disk (or the file size limit) let the database grow no further:
                          nothing was written (logged) */
    STORE_ERROR,       /* anything else; the backend has logged the details to stderr */
};

/* How a put treats an existing row. */
enum store_put_mode {
    STORE_INSERT, /* STORE_CONFLICT if the key exists */
    STORE_UPDATE, /* STORE_NOT_FOUND if it does not */
    STORE_UPSERT, /* either; *created tells which (see the op) */
};

/* The plate tables: the kinds a tombstone can name. Values are stored; never renumber. */
enum store_kind {
    STORE_KIND_BLACKLIST = 1,
    STORE_KIND_MEMBER = 2,
    STORE_KIND_RESERVATION = 3,
};

enum store_reservation_state { STORE_RES_ACTIVE = 0, STORE_RES_CANCELLED = 1 };

/* Times are unix seconds. created/updated/rev are set by the backend on write; the values a
 * caller passes in them are ignored. */
struct store_vendor {
    char union_id[STORE_UNION_ID_MAX + 1];
    char ukey[STORE_UKEY_MAX + 1];
    char name[STORE_NAME_MAX + 1];
    char callback_url[STORE_URL_MAX + 1]; /* "" if none */
    int replay_window_s; /* 0 = off; else refuse replays within it (STORE_REPLAY_WINDOW_MAX) */
    int64_t created, updated;
};

#define STORE_REPLAY_WINDOW_MAX 86400 /* seconds */

struct store_park {
    char park_id[STORE_PARK_ID_MAX + 1];
    char union_id[STORE_UNION_ID_MAX + 1]; /* owning vendor; must exist */
    char name[STORE_NAME_MAX + 1];
    int total_plot, empty_plot;
    int members_only; /* policy: 0 open, 1 members only */
    int has_prepay, suspended;
    char reason_msg[4][STORE_TEXT_MAX + 1]; /* [1] non-member, [2] blacklist, [3] "99"; "" none */
    int64_t created, updated;
};

struct store_blacklist {
    int64_t id; /* assigned on insert */
    char plate[STORE_PLATE_MAX + 1];
    int color; /* 0-7, or -1 = any colour */
    char reason[STORE_TEXT_MAX + 1];
    int64_t valid_from, valid_until; /* valid_until 0 = open-ended */
    int64_t created, rev;
};

struct store_member {
    int64_t id;
    char plate[STORE_PLATE_MAX + 1];
    int color;                           /* 0-7 */
    char park_id[STORE_PARK_ID_MAX + 1]; /* "" = city-wide member */
    int64_t valid_until;                 /* 0 = open-ended */
    int64_t created, updated, rev;
};

struct store_reservation {
    int64_t id;
    char plate[STORE_PLATE_MAX + 1];
    int color; /* 0-7 */
    char park_id[STORE_PARK_ID_MAX + 1];
    int64_t start, end; /* covers start <= t < end */
    int state;          /* enum store_reservation_state */
    int64_t created, updated, rev;
};

/* A list request. Unused filters are NULL/0. Rows come in key order (union_id, park_id, or
 * id). limit 0 means no limit. A cursor (after_key for the text-keyed vendors/parks,
 * after_id for the rest) and offset may be combined; the cursor applies first. */
struct store_query {
    int64_t limit, offset;
    const char *after_key;
    int64_t after_id;
    const char *plate;    /* blacklist, members, reservations: exact normalised plate */
    const char *park_id;  /* members, reservations: that park ("" = city-wide members) */
    const char *union_id; /* parks: owned by that vendor */
    int state;            /* reservations: -1 any, else enum store_reservation_state */
};

/* Row callbacks: return 0 to go on, non-zero to stop (the op then returns STORE_ABORTED).
 * The row is valid only during the call. */
typedef int (*store_vendor_cb)(void *arg, const struct store_vendor *row);
typedef int (*store_park_cb)(void *arg, const struct store_park *row);
typedef int (*store_blacklist_cb)(void *arg, const struct store_blacklist *row);
typedef int (*store_member_cb)(void *arg, const struct store_member *row);
typedef int (*store_reservation_cb)(void *arg, const struct store_reservation *row);

/* What store_load streams. A NULL member skips that table. */
struct store_load_cbs {
    store_vendor_cb vendor;
    store_park_cb park;
    store_blacklist_cb blacklist;
    store_member_cb member;
    store_reservation_cb reservation;
    int (*tombstone)(void *arg, enum store_kind kind, int64_t id);
};

/* ---- the database and its sessions ---- */

struct store;         /* an open database: its engine and URI; shared by every thread */
struct store_session; /* one connection to it, used by one thread at a time */

/* Open the database named by uri: a plain path or "sqlite:PATH" is a SQLite file (created if
 * needed); "postgresql://..." or "postgres://..." a PostgreSQL database (libpq conninfo URI).
 * Connects once, brings the schema up to date (migrations, in the engine's dialect) and
 * checks durability settings. On failure NULL with an English reason in err. Thread-safe to
 * share; it holds no connection that sessions use. */
struct store *store_open(const char *uri, char *err, size_t errlen);

/* Close a database opened with store_open. NULL is fine. Every session must be closed. */
void store_close(struct store *st);

/* "sqlite" or "postgresql". */
const char *store_engine_name(const struct store *st);

/* A session: one connection of its own, with its statement cache. NULL with a reason in err
 * when the engine cannot connect. A session is not thread-safe: one thread uses it at a time
 * (a thread may hand it to another under its own lock). close rolls back an open
 * transaction. */
struct store_session *store_session_open(struct store *st, char *err, size_t errlen);
void store_session_close(struct store_session *s);

/* The database a session was opened on. */
struct store *store_session_store(const struct store_session *s);

/* ---- transactions (the only place BEGIN, SAVEPOINT and COMMIT are written) ---- */

enum store_tx_mode {
    STORE_TX_READ,  /* one consistent snapshot for every read until commit */
    STORE_TX_WRITE, /* a write transaction (SQLite: takes the database's write lock now) */
};

/* Begin a transaction on s. Not nested: STORE_ERROR when one is open. On failure nothing is
 * open. */
enum store_result store_begin(struct store_session *s, enum store_tx_mode mode);
/* Make every write since store_begin durable, or none of them: on failure the transaction
 * has been rolled back and the result says why (STORE_BUSY, STORE_FULL, STORE_ERROR). */
enum store_result store_commit(struct store_session *s);
/* Undo everything since store_begin. Harmless when nothing is open. */
void store_rollback(struct store_session *s);
/* A savepoint inside the open transaction (they nest). savepoint_end(keep 1) keeps what was
 * written since the matching store_savepoint; keep 0 undoes exactly that and leaves the rest
 * of the transaction usable, also after a failed statement (PostgreSQL). */
enum store_result store_savepoint(struct store_session *s);
enum store_result store_savepoint_end(struct store_session *s, int keep);
/* 1 while a transaction is open on s. */
int store_in_tx(const struct store_session *s);

/* ---- the catalog: vendors, parks, plate tables, settings, revision, snapshot load ---- */

/* Vendors, keyed by union_id. put MUST honour mode; on STORE_UPSERT it MUST set *created
 * (if created is not NULL) to 1 when the row was new. delete MUST answer STORE_IN_USE while
 * parks reference the vendor, and change nothing. */
enum store_result store_vendor_get(struct store_session *s, const char *union_id,
                                   struct store_vendor *out);
enum store_result store_vendor_put(struct store_session *s, const struct store_vendor *v,
                                   enum store_put_mode mode, int *created);
enum store_result store_vendor_delete(struct store_session *s, const char *union_id);
/* List: MUST call cb for each row of the page in key order and MUST set *total (if not NULL)
 * to the number of rows matching the filters, ignoring limit/offset/cursor. */
enum store_result store_vendor_list(struct store_session *s, const struct store_query *q,
                                    store_vendor_cb cb, void *arg, int64_t *total);

/* Parks, keyed by park_id. put MUST answer STORE_FOREIGN_KEY when union_id names no vendor.
 * delete MUST also delete (with tombstones) the park's members and reservations. */
enum store_result store_park_get(struct store_session *s, const char *park_id,
                                 struct store_park *out);
enum store_result store_park_put(struct store_session *s, const struct store_park *p,
                                 enum store_put_mode mode, int *created);
enum store_result store_park_delete(struct store_session *s, const char *park_id);
enum store_result store_park_list(struct store_session *s, const struct store_query *q,
                                  store_park_cb cb, void *arg, int64_t *total);

/* City blacklist. (plate, color) is unique: add MUST answer STORE_CONFLICT for a duplicate.
 * add MUST write the new id back into e->id (and created, rev). add_bulk MUST insert all n
 * entries in one transaction or none (first failure's result is returned and *failed_at, if
 * not NULL, set to its index); it MAY take far longer than other ops. */
enum store_result store_blacklist_add(struct store_session *s, struct store_blacklist *e);
enum store_result store_blacklist_add_bulk(struct store_session *s, struct store_blacklist *e,
                                           size_t n, size_t *failed_at);
enum store_result store_blacklist_get(struct store_session *s, int64_t id,
                                      struct store_blacklist *out);
enum store_result store_blacklist_delete(struct store_session *s, int64_t id);
enum store_result store_blacklist_list(struct store_session *s, const struct store_query *q,
                                       store_blacklist_cb cb, void *arg, int64_t *total);

/* Members. (plate, color, park_id) is unique (STORE_CONFLICT); park_id "" is city-wide and
 * stored as such (NULL in SQL). STORE_FOREIGN_KEY for an unknown park. update MUST replace
 * every caller field of the row with that id. */
enum store_result store_member_add(struct store_session *s, struct store_member *m);
enum store_result store_member_update(struct store_session *s, struct store_member *m);
enum store_result store_member_get(struct store_session *s, int64_t id, struct store_member *out);
enum store_result store_member_delete(struct store_session *s, int64_t id);
enum store_result store_member_list(struct store_session *s, const struct store_query *q,
                                    store_member_cb cb, void *arg, int64_t *total);

/* Shared-parking reservations. STORE_FOREIGN_KEY for an unknown park. */
enum store_result store_reservation_add(struct store_session *s, struct store_reservation *r);
enum store_result store_reservation_update(struct store_session *s,
                                           struct store_reservation *r);
enum store_result store_reservation_get(struct store_session *s, int64_t id,
                                        struct store_reservation *out);
enum store_result store_reservation_delete(struct store_session *s, int64_t id);
enum store_result store_reservation_list(struct store_session *s, const struct store_query *q,
                                         store_reservation_cb cb, void *arg, int64_t *total);

/* Settings: a small key/value table (the admin token hash lives here). get MUST answer
 * STORE_NOT_FOUND for a missing key and MUST NUL-terminate out (truncating to len-1).
 * Setting changes do not bump the revision. */
enum store_result store_setting_get(struct store_session *s, const char *key, char *out,
                                    size_t len);
enum store_result store_setting_put(struct store_session *s, const char *key, const char *value);

/* The current revision: every committed write to vendors, parks or a plate table MUST raise
 * it, and once a reader has seen revision R no write with a revision <= R may commit later
 * (writers serialise on the revision row, whichever node they run on). */
enum store_result store_revision(struct store_session *s, int64_t *rev);

/* Stream state for the admission snapshot, all from ONE consistent read: every vendor and
 * park; the plate-table rows whose rev > since_rev (every row, any state, when since_rev is
 * 0); and when since_rev > 0 the tombstones with rev > since_rev. MUST set *rev to the
 * revision that read saw. MUST NOT build the whole result in memory: rows go to the callbacks
 * one at a time (1M rows stream). Callbacks must not use the same session. */
enum store_result store_load(struct store_session *s, int64_t since_rev,
                             const struct store_load_cbs *cbs, void *arg, int64_t *rev);

/* ---- other process-level helpers ---- */

/* English text for a result code, for logs and admin error bodies. Never NULL. */
const char *store_strerror(enum store_result r);

/* Take the one-server lock of the database behind uri (store_lock.c): an exclusive flock()
 * on "<SQLite path>.lock" (created 0600, holding this pid), to keep for the life of the
 * process; closing the descriptor releases it. Returns the descriptor; -2 when uri has no
 * file to lock (":memory:", PostgreSQL: many nodes share it by design); -1 with err set when
 * another process holds it (err names the file and that process's pid) or the file cannot be
 * opened. Writes nothing to the database. */
int store_lock(const char *uri, char *err, size_t errlen);

#endif
