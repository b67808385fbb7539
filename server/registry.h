/* registry.h - the in-memory, immutable snapshot of who may do what (DESIGN decision 6).
 *
 * A snapshot holds vendors (union_id -> ukey, callback URL), parks (park_id -> owning vendor,
 * entry policy), the city blacklist, members and shared-parking reservations. Request
 * workers only ever read a snapshot; an admin change commits to the store, then a new
 * snapshot is published and the next request on every worker sees it. A check never waits
 * for a writer and never touches the database. */
#ifndef PARKLINK_REGISTRY_H
#define PARKLINK_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include "parklink/envelope.h"

struct store;
struct snapshot;

struct vendor {
    char union_id[PLK_UNION_ID_MAX + 1];
    char ukey[65];
    const char *name;         /* owned by the snapshot */
    const char *callback_url; /* unified callback URL, "" if none */
    int replay_window_s;      /* 0 = off (server/replay.h) */
};

enum park_policy { PARK_OPEN = 0, PARK_MEMBERS_ONLY = 1 };

struct park {
    char park_id[65];
    char union_id[PLK_UNION_ID_MAX + 1]; /* owning vendor */
    const char *name;
    int total_plot, empty_plot;
    enum park_policy policy;
    int has_prepay;            /* the park has its own in-lot prepayment */
    int suspended;             /* platform refuses every entry: reason "99" */
    const char *reason_msg[4]; /* overrides per reason: [1] non-member, [2] blacklist, [3] "99";
                                  NULL = Chinese default */
};

/* The answer of 10.4, values as the reference types them (strings). */
struct admission {
    const char *status;       /* "1" pass, "0" refused */
    const char *reason;       /* "0", "1", "2", "99" */
    const char *reason_msg;   /* "" when reason is "0" */
    const char *share_status; /* "1" when an active shared reservation exists now */
};

/* Per-thread read handle. Zero-initialise; one per worker thread. */
struct snapshot_reader {
    const struct snapshot *cur;
    uint64_t gen;
};

/* Open a store session of the registry's own on st (used under its reload lock), load
 * everything and publish the first snapshot. 0 ok, -1 error (logged). */
int registry_init(struct store *st);
/* Rebuild from the store (or apply the committed change) and publish; call after every admin
 * write commits, before answering the admin request. Thread-safe. 0 ok, -1 error. */
int registry_reload(void);
/* After each publish that changed a vendor's key, removed or added a vendor or park, or
 * moved a park to another vendor, call cb(arg, the new snapshot) on the reloading thread,
 * under the reload lock (the snapshot is valid during the call; cb must not reload).
 * The one place that ends sessions opened under an old key (SDK sessions, long-polls).
 * One listener; NULL removes it. Thread-safe. */
void registry_on_auth_change(void (*cb)(void *arg, const struct snapshot *s), void *arg);
/* Release the published snapshot (at shutdown, after every reader is gone). */
void registry_cleanup(void);

/* This thread's current snapshot: one atomic load on the fast path; picks up a newer
 * snapshot if one was published. Valid until the next call with the same reader. */
const struct snapshot *registry_current(struct snapshot_reader *r);
/* Drop the reader's reference (worker thread exit). */
void registry_reader_release(struct snapshot_reader *r);

const struct vendor *snapshot_vendor(const struct snapshot *s, const char *union_id);
const struct park *snapshot_park(const struct snapshot *s, const char *park_id);

/* Decide 10.4 for a car (plate, colour 0-7) at park p at unix time now. Pure function of the
 * snapshot: no allocation, no locks, cost independent of list sizes. */
void admission_decide(const struct snapshot *s, const struct park *p, const char *plate, int color,
                      int64_t now, struct admission *out);

/* Normalise a plate for storage and comparison: trim leading/trailing ASCII whitespace and
 * upper-case ASCII letters; every other byte (the province character, for one) is kept as is
 * and compared exactly. Writes out (NUL-terminated) and returns its length, or -1 when the
 * result is empty or longer than REGISTRY_PLATE_MAX bytes. Thread-safe, no allocation. */
#define REGISTRY_PLATE_MAX 64
int registry_plate_norm(const char *in, size_t len, char out[REGISTRY_PLATE_MAX + 1]);

/* Figures about the published snapshot, for /metrics and the benchmark. */
struct registry_stats {
    uint64_t generation; /* bumped at every publish */
    int64_t revision;    /* store revision the snapshot reflects */
    size_t vendors, parks;
    size_t base[3], delta[3]; /* entries: [0] blacklist, [1] members, [2] reservations */
    size_t bytes;             /* heap bytes held by the snapshot (shared bases included) */
    double last_reload_ms;    /* wall time of the last init/reload */
};
/* Fill out from the published snapshot (zeros before registry_init). Thread-safe. */
void registry_get_stats(struct registry_stats *out);

#endif
