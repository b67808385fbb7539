/* list.h - the admin list queries of the catalog tables (list.c), on sql.h.
 *
 * Every list is "rows matching some filters, in key order, after a cursor, limit, offset,
 * and how many match": the statement of each filter combination is built once (static text
 * for the statement cache) and run with the filters bound. Private to server/store/. */
#ifndef PARKLINK_STORE_LIST_H
#define PARKLINK_STORE_LIST_H

#include <pthread.h>
#include <stdint.h>

#include "store/sql.h"
#include "store/store.h"

#define LIST_CONDS_MAX 4
#define LIST_SQL_MAX 640

/* One table's lists. conds: SQL conditions with at most one "?" each (bound in order). The
 * statements are built at first use; declare one static struct per table. */
struct list_table {
    const char *table, *cols, *key;
    int text_key; /* the cursor is after_key (text) rather than after_id */
    const char *conds[LIST_CONDS_MAX];
    int nconds;
    pthread_once_t once;
    char sel[1 << LIST_CONDS_MAX][LIST_SQL_MAX];
    char cnt[1 << LIST_CONDS_MAX][LIST_SQL_MAX];
};

/* A filter value for conds[i] (used when its bit is set in list_rows' mask). */
struct list_arg {
    const char *text; /* bound as text when the condition has a "?"; NULL binds num */
    int64_t num;
};

/* In one read transaction (joined when s has one open): *total (if not NULL) = the rows
 * matching the conditions of mask, then row(q, arg) for each of the page q selects (key
 * order, after the cursor, limit, offset); a non-zero return stops with STORE_ABORTED. */
enum store_result list_rows(struct store_session *s, struct list_table *t, unsigned mask,
                            const struct list_arg *args, const struct store_query *q,
                            int (*row)(struct sql_stmt *q, void *arg), void *arg, int64_t *total,
                            const char *what);

#endif
