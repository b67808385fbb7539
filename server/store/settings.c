/* settings.c - the settings table and the global revision (store.h), on sql.h.
 *
 * Settings are a small key/value table (the admin token record lives there); writing one
 * does not raise the revision. */
#include <stddef.h>

#include "store/sql.h"
#include "store/store.h"

static const char SQL_SET_GET[] = "SELECT value FROM settings WHERE key = ?1";
static const char SQL_SET_PUT[] = "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value";
static const char SQL_GET_REV[] = "SELECT rev FROM revision WHERE id = 1";

struct text_out {
    char *out;
    size_t len;
};

static void read_value(struct sql_stmt *q, void *arg)
{
    struct text_out *t = arg;

    sql_col_copy(q, 0, t->out, t->len);
}

enum store_result store_setting_get(struct store_session *s, const char *key, char *out, size_t len)
{
    struct sql_stmt *q = sql_prepare(s, SQL_SET_GET);
    struct text_out t = {out, len};

    if (q != NULL)
        sql_bind_text(q, 1, key);
    return sql_one(q, "setting get", read_value, &t);
}

enum store_result store_setting_put(struct store_session *s, const char *key, const char *value)
{
    struct sql_stmt *q;
    enum store_result r;
    int own;

    if ((r = sql_tx_begin(s, STORE_TX_WRITE, &own)) != STORE_OK)
        return r;
    if ((q = sql_prepare(s, SQL_SET_PUT)) == NULL)
        return sql_tx_end(s, own, STORE_ERROR);
    sql_bind_text(q, 1, key);
    sql_bind_text(q, 2, value);
    return sql_tx_end(s, own, sql_exec(q, "setting put"));
}

static void read_rev(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

enum store_result store_revision(struct store_session *s, int64_t *rev)
{
    enum store_result r = sql_one(sql_prepare(s, SQL_GET_REV), "revision", read_rev, rev);

    return r == STORE_NOT_FOUND ? STORE_ERROR : r;
}
