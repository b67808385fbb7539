/* list.c - the catalog's list queries (list.h): one static statement per filter combination.
 *
 * The statement texts are generated once per table (pthread_once) into the table's static
 * struct, so the session statement cache, keyed by address, holds at most 2^n of each; the
 * values are always bound (?n), never pasted. No cursor is "after the empty key / id 0" and
 * no limit is INT64_MAX, so every combination is one text on both engines. */
#include <stdio.h>
#include <string.h>

#include "store/list.h"

static struct list_table *building; /* under pthread_once: one table at a time */
static pthread_mutex_t build_mu = PTHREAD_MUTEX_INITIALIZER;

/* conds[i] with its "?" numbered ?n (n advanced when it has one), appended at out + *len. */
static void add_cond(char *out, size_t size, size_t *len, const char *cond, int *n)
{
    const char *p = strchr(cond, '?');

    if (p == NULL)
        *len += (size_t)snprintf(out + *len, size - *len, " AND %s", cond);
    else
        *len += (size_t)snprintf(out + *len, size - *len, " AND %.*s?%d%s", (int)(p - cond), cond,
                                 (*n)++, p + 1);
}

static void build(void)
{
    struct list_table *t = building;

    for (unsigned m = 0; m < (1u << t->nconds); m++) {
        size_t ls = 0, lc = 0;
        int ns = 1, nc = 1;

        ls = (size_t)snprintf(t->sel[m], LIST_SQL_MAX, "SELECT %s FROM %s WHERE 1 = 1", t->cols,
                              t->table);
        lc = (size_t)snprintf(t->cnt[m], LIST_SQL_MAX, "SELECT count(*) FROM %s WHERE 1 = 1",
                              t->table);
        for (int i = 0; i < t->nconds; i++) {
            if (m & (1u << i)) {
                add_cond(t->sel[m], LIST_SQL_MAX, &ls, t->conds[i], &ns);
                add_cond(t->cnt[m], LIST_SQL_MAX, &lc, t->conds[i], &nc);
            }
        }
        snprintf(t->sel[m] + ls, LIST_SQL_MAX - ls,
                 " AND %s > ?%d ORDER BY %s LIMIT ?%d OFFSET ?%d", t->key, ns, t->key, ns + 1,
                 ns + 2);
    }
}

static void ensure_built(struct list_table *t)
{
    pthread_mutex_lock(&build_mu); /* pthread_once takes no argument: hand t over */
    building = t;
    pthread_once(&t->once, build);
    pthread_mutex_unlock(&build_mu);
}

/* Bind the filters of mask from ?1; returns the next parameter number. */
static int bind_args(struct sql_stmt *q, const struct list_table *t, unsigned mask,
                     const struct list_arg *args)
{
    int n = 1;

    for (int i = 0; i < t->nconds; i++) {
        if (!(mask & (1u << i)) || strchr(t->conds[i], '?') == NULL)
            continue;
        if (args[i].text != NULL)
            sql_bind_text(q, n++, args[i].text);
        else
            sql_bind_int(q, n++, args[i].num);
    }
    return n;
}

static void read_count(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

enum store_result list_rows(struct store_session *s, struct list_table *t, unsigned mask,
                            const struct list_arg *args, const struct store_query *qry,
                            int (*row)(struct sql_stmt *q, void *arg), void *arg, int64_t *total,
                            const char *what)
{
    struct sql_stmt *q;
    enum store_result r;
    int own, n;

    ensure_built(t);
    if ((r = sql_tx_begin(s, STORE_TX_READ, &own)) != STORE_OK)
        return r;
    if (total != NULL) {
        if ((q = sql_prepare(s, t->cnt[mask])) == NULL)
            return sql_tx_end(s, own, STORE_ERROR);
        bind_args(q, t, mask, args);
        r = sql_one(q, what, read_count, total);
        if (r == STORE_NOT_FOUND)
            r = STORE_ERROR;
    }
    if (r == STORE_OK) {
        if ((q = sql_prepare(s, t->sel[mask])) == NULL)
            return sql_tx_end(s, own, STORE_ERROR);
        n = bind_args(q, t, mask, args);
        if (t->text_key)
            sql_bind_text(q, n, qry->after_key != NULL ? qry->after_key : "");
        else
            sql_bind_int(q, n, qry->after_id > 0 ? qry->after_id : 0);
        sql_bind_int(q, n + 1, qry->limit > 0 ? qry->limit : INT64_MAX);
        sql_bind_int(q, n + 2, qry->offset > 0 ? qry->offset : 0);
        r = sql_each(q, what, row, arg);
    }
    return sql_tx_end(s, own, r);
}
