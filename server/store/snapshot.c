/* snapshot.c - store_load: the state of the admission snapshot, streamed (store.h), on sql.h.
 *
 * One read transaction (the caller's, or one of its own) sees the revision and every table
 * at the same instant; rows go to the callbacks one at a time as the statements step, so a
 * million blacklist rows never sit in memory together. An incremental load (since_rev > 0)
 * selects only rows and tombstones written after since_rev (the rev indexes). */
#include <stddef.h>

#include "store/catalog_rows.h"
#include "store/sql.h"
#include "store/store.h"

static const char SQL_LOAD_VENDORS[] = "SELECT " VENDOR_COLS " FROM vendors";
static const char SQL_LOAD_PARKS[] = "SELECT " PARK_COLS " FROM parks";
static const char SQL_LOAD_BL[] = "SELECT " BL_COLS " FROM blacklist WHERE rev > ?1";
static const char SQL_LOAD_MEM[] = "SELECT " MEM_COLS " FROM members WHERE rev > ?1";
static const char SQL_LOAD_RES[] = "SELECT " RES_COLS " FROM reservations WHERE rev > ?1";
static const char SQL_LOAD_ALL_BL[] = "SELECT " BL_COLS " FROM blacklist";
static const char SQL_LOAD_ALL_MEM[] = "SELECT " MEM_COLS " FROM members";
static const char SQL_LOAD_ALL_RES[] = "SELECT " RES_COLS " FROM reservations";
static const char SQL_LOAD_TOMBSTONES[] = "SELECT kind, id FROM tombstones WHERE rev > ?1";

struct tomb_emit {
    int (*cb)(void *arg, enum store_kind kind, int64_t id);
    void *arg;
};

static int emit_tombstone(struct sql_stmt *q, void *arg)
{
    struct tomb_emit *t = arg;

    return t->cb(t->arg, (enum store_kind)sql_col_int(q, 0), sql_col_int(q, 1));
}

/* One table: every row (all) when since_rev is 0, else the changed ones (since, ?1). */
static enum store_result load_table(struct store_session *s, const char *all, const char *since,
                                    int64_t since_rev, int (*row)(struct sql_stmt *, void *),
                                    void *arg, const char *what)
{
    struct sql_stmt *q = sql_prepare(s, since_rev > 0 ? since : all);

    if (q != NULL && since_rev > 0)
        sql_bind_int(q, 1, since_rev);
    return sql_each(q, what, row, arg);
}

enum store_result store_load(struct store_session *s, int64_t since_rev,
                             const struct store_load_cbs *cbs, void *arg, int64_t *rev)
{
    struct catalog_emit e = {.arg = arg};
    struct tomb_emit t = {cbs->tombstone, arg};
    enum store_result r;
    int own;

    if ((r = sql_tx_begin(s, STORE_TX_READ, &own)) != STORE_OK)
        return r;
    r = store_revision(s, rev);
    if (r == STORE_OK && cbs->vendor != NULL) {
        e.cb.vendor = cbs->vendor;
        r = sql_each(sql_prepare(s, SQL_LOAD_VENDORS), "load vendors", catalog_emit_vendor, &e);
    }
    if (r == STORE_OK && cbs->park != NULL) {
        e.cb.park = cbs->park;
        r = sql_each(sql_prepare(s, SQL_LOAD_PARKS), "load parks", catalog_emit_park, &e);
    }
    if (r == STORE_OK && cbs->blacklist != NULL) {
        e.cb.blacklist = cbs->blacklist;
        r = load_table(s, SQL_LOAD_ALL_BL, SQL_LOAD_BL, since_rev, catalog_emit_blacklist, &e,
                       "load blacklist");
    }
    if (r == STORE_OK && cbs->member != NULL) {
        e.cb.member = cbs->member;
        r = load_table(s, SQL_LOAD_ALL_MEM, SQL_LOAD_MEM, since_rev, catalog_emit_member, &e,
                       "load members");
    }
    if (r == STORE_OK && cbs->reservation != NULL) {
        e.cb.reservation = cbs->reservation;
        r = load_table(s, SQL_LOAD_ALL_RES, SQL_LOAD_RES, since_rev, catalog_emit_reservation, &e,
                       "load reservations");
    }
    if (r == STORE_OK && cbs->tombstone != NULL && since_rev > 0) {
        struct sql_stmt *q = sql_prepare(s, SQL_LOAD_TOMBSTONES);

        if (q != NULL)
            sql_bind_int(q, 1, since_rev);
        r = sql_each(q, "load tombstones", emit_tombstone, &t);
    }
    return sql_tx_end(s, own, r);
}
