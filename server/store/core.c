/* core.c - the store's sessions, transactions and statement API, once for every engine.
 *
 * store_open picks the engine by the URI's scheme; everything else here forwards to the
 * session's engine (engine.h) and keeps the engine-independent state: the transaction depth
 * (so BEGIN/SAVEPOINT/COMMIT are written in one place) and the per-session statement cache
 * (uthash, keyed by the SQL's address). Domain files use sql.h; the rest of parklinkd store.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store/engine.h"
#include "store/sql.h"
#include "store/store.h"

/* ---- the database ---- */

struct store *store_open(const char *uri, char *err, size_t errlen)
{
    const struct store_engine *e = &store_sqlite_engine;

    if (uri == NULL || uri[0] == '\0') {
        snprintf(err, errlen,
                 "empty store URI (expected a SQLite path, sqlite:PATH or "
                 "postgresql://user@host/db)");
        return NULL;
    }
    if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0) {
        e = &store_pg_engine;
    } else if (strncmp(uri, "sqlite:", 7) == 0) {
        uri += 7;
        if (uri[0] == '\0') {
            snprintf(err, errlen, "empty SQLite path in store URI");
            return NULL;
        }
    }
    return e->open(uri, err, errlen);
}

void store_close(struct store *st)
{
    if (st != NULL)
        st->engine->close(st);
}

const char *store_engine_name(const struct store *st)
{
    return st->engine->name;
}

/* ---- sessions ---- */

struct store_session *store_session_open(struct store *st, char *err, size_t errlen)
{
    struct store_session *s = st->engine->session_open(st, err, errlen);

    if (s != NULL) {
        s->st = st;
        s->depth = 0;
        s->cache = NULL;
    }
    return s;
}

void store_session_close(struct store_session *s)
{
    struct sql_stmt *q, *tmp;

    if (s == NULL)
        return;
    if (s->depth > 0)
        store_rollback(s);
    HASH_ITER (hh, s->cache, q, tmp) {
        HASH_DEL(s->cache, q);
        s->st->engine->finalize(q);
    }
    s->st->engine->session_close(s);
}

struct store *store_session_store(const struct store_session *s)
{
    return s->st;
}

/* ---- transactions ---- */

static enum store_result verb(struct store_session *s, enum store_engine_verb v, int arg)
{
    return s->st->engine->tx(s, v, arg);
}

enum store_result store_begin(struct store_session *s, enum store_tx_mode mode)
{
    enum store_result r;

    if (s->depth > 0) {
        log_error("store: store_begin inside an open transaction");
        return STORE_ERROR;
    }
    r = verb(s, mode == STORE_TX_WRITE ? ENGINE_BEGIN_WRITE : ENGINE_BEGIN_READ, 0);
    if (r == STORE_OK)
        s->depth = 1;
    return r;
}

enum store_result store_commit(struct store_session *s)
{
    enum store_result r;

    if (s->depth == 0) {
        log_error("store: store_commit without a transaction");
        return STORE_ERROR;
    }
    r = verb(s, ENGINE_COMMIT, 0);
    if (r != STORE_OK)
        verb(s, ENGINE_ROLLBACK, 0); /* whatever the engine left open */
    s->depth = 0;
    return r;
}

void store_rollback(struct store_session *s)
{
    if (s->depth == 0)
        return;
    verb(s, ENGINE_ROLLBACK, 0);
    s->depth = 0;
}

enum store_result store_savepoint(struct store_session *s)
{
    enum store_result r;

    if (s->depth == 0) {
        log_error("store: store_savepoint without a transaction");
        return STORE_ERROR;
    }
    r = verb(s, ENGINE_SAVEPOINT, s->depth);
    if (r == STORE_OK)
        s->depth++;
    return r;
}

enum store_result store_savepoint_end(struct store_session *s, int keep)
{
    enum store_result r;

    if (s->depth < 2) {
        log_error("store: store_savepoint_end without a savepoint");
        return STORE_ERROR;
    }
    s->depth--;
    r = verb(s, keep ? ENGINE_RELEASE : ENGINE_ROLLBACK_TO, s->depth);
    return r;
}

int store_in_tx(const struct store_session *s)
{
    return s->depth > 0;
}

enum store_result sql_tx_begin(struct store_session *s, enum store_tx_mode mode, int *own)
{
    *own = s->depth == 0;
    return *own ? store_begin(s, mode) : STORE_OK;
}

enum store_result sql_tx_end(struct store_session *s, int own, enum store_result r)
{
    if (!own)
        return r;
    if (r == STORE_OK)
        return store_commit(s);
    store_rollback(s);
    return r;
}

/* ---- statements ---- */

enum sql_dialect sql_dialect(const struct store_session *s)
{
    return s->st->engine->dialect;
}

struct sql_stmt *sql_prepare(struct store_session *s, const char *sql)
{
    struct sql_stmt *q;

    HASH_FIND_PTR(s->cache, &sql, q);
    if (q != NULL)
        return q;
    if ((q = s->st->engine->prepare(s, sql)) == NULL)
        return NULL;
    q->s = s;
    q->sql = sql;
    HASH_ADD_PTR(s->cache, sql, q);
    return q;
}

void sql_bind_int(struct sql_stmt *q, int i, int64_t v)
{
    q->s->st->engine->bind_int(q, i, v);
}

void sql_bind_text(struct sql_stmt *q, int i, const char *v)
{
    q->s->st->engine->bind_text(q, i, v, v != NULL ? strlen(v) : 0);
}

void sql_bind_textn(struct sql_stmt *q, int i, const char *v, size_t len)
{
    q->s->st->engine->bind_text(q, i, v, len);
}

int sql_step(struct sql_stmt *q)
{
    return q->s->st->engine->step(q);
}

int64_t sql_col_int(struct sql_stmt *q, int i)
{
    return q->s->st->engine->col_int(q, i);
}

const char *sql_col_text(struct sql_stmt *q, int i)
{
    size_t len;
    const char *v = q->s->st->engine->col_text(q, i, &len);

    return v != NULL ? v : "";
}

size_t sql_col_len(struct sql_stmt *q, int i)
{
    size_t len = 0;

    return q->s->st->engine->col_text(q, i, &len) != NULL ? len : 0;
}

int sql_col_is_null(struct sql_stmt *q, int i)
{
    size_t len;

    return q->s->st->engine->col_text(q, i, &len) == NULL;
}

void sql_col_copy(struct sql_stmt *q, int i, char *out, size_t size)
{
    size_t len = 0;
    const char *v = q->s->st->engine->col_text(q, i, &len);

    if (size == 0)
        return;
    if (v == NULL)
        len = 0;
    if (len >= size)
        len = size - 1;
    if (len > 0)
        memcpy(out, v, len);
    out[len] = '\0';
}

int64_t sql_changes(struct sql_stmt *q)
{
    return q->s->st->engine->changes(q);
}

void sql_reset(struct sql_stmt *q)
{
    q->s->st->engine->reset(q);
}

enum store_result sql_error(struct sql_stmt *q, const char *what)
{
    return q->s->st->engine->error(q->s, q, what);
}

enum store_result sql_exec(struct sql_stmt *q, const char *what)
{
    enum store_result r = STORE_OK;
    int rc;

    if (q == NULL)
        return STORE_ERROR;
    while ((rc = sql_step(q)) == 1)
        ;
    if (rc < 0)
        r = sql_error(q, what);
    sql_reset(q);
    return r;
}

enum store_result sql_one(struct sql_stmt *q, const char *what,
                          void (*read)(struct sql_stmt *q, void *out), void *out)
{
    enum store_result r;
    int rc;

    if (q == NULL)
        return STORE_ERROR;
    rc = sql_step(q);
    if (rc == 1) {
        if (read != NULL)
            read(q, out);
        r = STORE_OK;
    } else if (rc == 0) {
        r = STORE_NOT_FOUND;
    } else {
        r = sql_error(q, what);
    }
    sql_reset(q);
    return r;
}

enum store_result sql_each(struct sql_stmt *q, const char *what,
                           int (*row)(struct sql_stmt *q, void *arg), void *arg)
{
    enum store_result r = STORE_OK;
    int rc;

    if (q == NULL)
        return STORE_ERROR;
    while ((rc = sql_step(q)) == 1) {
        if (row(q, arg) != 0) {
            r = STORE_ABORTED;
            break;
        }
    }
    if (rc < 0)
        r = sql_error(q, what);
    sql_reset(q);
    return r;
}

static const char SQL_BUMP_REV[] = "UPDATE revision SET rev = rev + 1 WHERE id = 1 RETURNING rev";

static void read_rev(struct sql_stmt *q, void *out)
{
    *(int64_t *)out = sql_col_int(q, 0);
}

enum store_result sql_bump_revision(struct store_session *s, int64_t *rev)
{
    enum store_result r = sql_one(sql_prepare(s, SQL_BUMP_REV), "bump revision", read_rev, rev);

    return r == STORE_NOT_FOUND ? STORE_ERROR : r;
}

int64_t sql_now_s(void)
{
    return (int64_t)time(NULL);
}

int64_t sql_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *store_strerror(enum store_result r)
{
    switch (r) {
    case STORE_OK:
        return "ok";
    case STORE_NOT_FOUND:
        return "not found";
    case STORE_CONFLICT:
        return "already exists";
    case STORE_FOREIGN_KEY:
        return "a referenced record does not exist";
    case STORE_IN_USE:
        return "still referenced by other records";
    case STORE_ABORTED:
        return "aborted by the caller";
    case STORE_BUSY:
        return "the database is locked by another process";
    case STORE_FULL:
        return "the disk is full";
    case STORE_ERROR:
        break;
    }
    return "internal store error";
}
