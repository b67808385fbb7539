/* pg_engine.c - the PostgreSQL engine of the store (engine.h) on libpq: many nodes, one database.
 *
 * A session is one PGconn. Domain SQL (?N placeholders) is rewritten to $N, prepared once per
 * session and connection at its first run (parameter types from that run's binds: int8, text,
 * NULL unknown) and run with PQsendQueryPrepared in single-row mode, so every result streams
 * one row at a time (store_load of 1M rows holds one). Text format both ways. Transactions are
 * READ COMMITTED for writes and REPEATABLE READ READ ONLY for reads; errors map by SQLSTATE.
 * A lost connection fails what was running and is re-established at the next use outside a
 * transaction (a node survives a PostgreSQL restart). docs/server.md "PostgreSQL". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "store/engine.h"
#include "store/migrations.h"
#include "store/pg.h"

#define PG_OID_INT8 20
#define PG_OID_TEXT 25
#define PG_MAX_PARAMS 99 /* ?1 .. ?99 */

struct pg_store {
    struct store base;
    char *uri;
};

struct pg_stmt;

struct pg_session {
    struct store_session base;
    PGconn *conn;
    unsigned conn_gen;      /* raised at every (re)connect: prepared names die with it */
    unsigned next_name;     /* statement names s<n>, unique on this session */
    struct pg_stmt *active; /* the statement whose results are still on the wire */
    char sqlstate[6];       /* of the last failure ("" none: e.g. a lost connection) */
    char errmsg[512];
};

struct pg_stmt {
    struct sql_stmt base;
    char *text; /* the SQL with $n */
    int nparams;
    char name[24]; /* server-side name while prepared_gen == conn_gen */
    unsigned prepared_gen;
    Oid ptypes[PG_MAX_PARAMS];   /* the types it was prepared with */
    Oid types[PG_MAX_PARAMS];    /* this run's binds (0: NULL) */
    char *values[PG_MAX_PARAMS]; /* owned copies; NULL for SQL NULL */
    int lengths[PG_MAX_PARAMS];
    int started, done, failed;
    PGresult *row;    /* the current row's single-row result */
    PGresult **queue; /* rows fetched ahead when another statement needed the wire */
    size_t qhead, qlen, qcap;
    int64_t changes;
    char sqlstate[6]; /* its own failure, kept: another statement may fail before it is read */
    char errmsg[512];
};

static struct pg_session *sess_of(struct store_session *s)
{
    return (struct pg_session *)s;
}

static struct pg_stmt *stmt_of(struct sql_stmt *q)
{
    return (struct pg_stmt *)q;
}

/* ---- errors ---- */

/* Keep the failure's SQLSTATE and its primary message, on one line (libpq's own messages,
 * e.g. a lost connection, span several). */
static void set_error(struct pg_session *ps, const PGresult *res)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char *p;
    size_t n;

    if (msg == NULL || msg[0] == '\0')
        msg = PQerrorMessage(ps->conn);
    snprintf(ps->sqlstate, sizeof ps->sqlstate, "%s", state != NULL ? state : "");
    snprintf(ps->errmsg, sizeof ps->errmsg, "%s", msg != NULL && msg[0] ? msg : "unknown error");
    for (p = ps->errmsg; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    n = strlen(ps->errmsg);
    while (n > 0 && ps->errmsg[n - 1] == ' ')
        ps->errmsg[--n] = '\0';
}

static enum store_result map_sqlstate(const char *state)
{
    if (strcmp(state, "23505") == 0)
        return STORE_CONFLICT;
    if (strcmp(state, "23503") == 0)
        return STORE_FOREIGN_KEY;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 ||
        strcmp(state, "57014") == 0)
        return STORE_BUSY; /* serialisation, deadlock, lock_timeout, statement_timeout */
    if (strcmp(state, "53100") == 0)
        return STORE_FULL;
    return STORE_ERROR; /* lost connections ("" or class 08) included */
}

static enum store_result report(struct pg_session *ps, const char *what)
{
    enum store_result r = map_sqlstate(ps->sqlstate);

    if (r != STORE_CONFLICT && r != STORE_FOREIGN_KEY)
        log_error("postgresql: %s: %s (%s; SQLSTATE %s%s)", what, ps->errmsg, store_strerror(r),
                  ps->sqlstate[0] ? ps->sqlstate : "none",
                  PQstatus(ps->conn) != CONNECTION_OK ? "; connection lost" : "");
    return r;
}

/* The statement's failure becomes the session's (it may have been read off the wire before
 * another statement ran), then it is mapped as any. */
static enum store_result pg_error(struct store_session *s, struct sql_stmt *qq, const char *what)
{
    struct pg_session *ps = sess_of(s);
    struct pg_stmt *q = qq != NULL ? stmt_of(qq) : NULL;

    if (q != NULL && q->failed && q->errmsg[0] != '\0') {
        memcpy(ps->sqlstate, q->sqlstate, sizeof ps->sqlstate);
        memcpy(ps->errmsg, q->errmsg, sizeof ps->errmsg);
    }
    return report(ps, what);
}

static void keep_error(struct pg_session *ps, struct pg_stmt *q)
{
    q->failed = 1;
    memcpy(q->sqlstate, ps->sqlstate, sizeof q->sqlstate);
    memcpy(q->errmsg, ps->errmsg, sizeof q->errmsg);
}

/* ---- the wire: one statement's results at a time ---- */

static void queue_push(struct pg_stmt *q, PGresult *res)
{
    if (q->qlen == q->qcap) {
        size_t cap = q->qcap ? q->qcap * 2 : 64;
        PGresult **n = realloc(q->queue, cap * sizeof *n);

        if (n == NULL) {
            PQclear(res); /* out of memory: the row is lost, the statement fails */
            q->failed = 1;
            return;
        }
        q->queue = n;
        q->qcap = cap;
    }
    q->queue[(q->qhead + q->qlen++) % q->qcap] = res;
}

/* Everything after the rows: the final result (changes, or the error) and the NULL. */
static void take_final(struct pg_session *ps, struct pg_stmt *q, PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        const char *n = PQcmdTuples(res);

        q->changes = n[0] ? strtoll(n, NULL, 10) : 0;
    } else {
        set_error(ps, res);
        keep_error(ps, q);
    }
    PQclear(res);
}

/* Read q's remaining results off the wire: kept (keep 1, another statement needs the wire
 * while q is being stepped) or dropped (its reset). */
static void drain(struct pg_session *ps, struct pg_stmt *q, int keep)
{
    PGresult *res;

    while ((res = PQgetResult(ps->conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_SINGLE_TUPLE && keep && !q->failed)
            queue_push(q, res);
        else if (PQresultStatus(res) == PGRES_SINGLE_TUPLE)
            PQclear(res);
        else
            take_final(ps, q, res);
    }
    q->done = 1;
    if (ps->active == q)
        ps->active = NULL;
}

static void free_wire(struct pg_session *ps)
{
    if (ps->active != NULL) {
        log_debug("postgresql: buffering the rest of a statement to run another one");
        drain(ps, ps->active, 1);
    }
}

/* ---- connections ---- */

/* A connection to uri; a server that does not answer is given up after 10 s to connect, and
 * after about a minute of silence on an open TCP connection (keepalives). */
static PGconn *connect_uri(const char *uri, char *err, size_t errlen)
{
    /* defaults first: what the URI names overrides them (expand_dbname) */
    const char *keys[] = {"connect_timeout",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "fallback_application_name",
                          "dbname",
                          NULL};
    const char *vals[] = {"10", "30", "10", "3", "parklinkd", uri, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        size_t n;

        snprintf(err, errlen, "cannot connect: %s", PQerrorMessage(c));
        n = strlen(err);
        while (n > 0 && err[n - 1] == '\n')
            err[--n] = '\0';
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* What every session's connection runs first, again after a reconnect: a row lock waited
 * for longer than the SQLite engine's busy timeout answers STORE_BUSY (55P03), as SQLite's
 * busy timeout does. */
#define PG_SESSION_SETUP "SET lock_timeout = '5s'"

static void quiet_notice(void *arg, const char *msg)
{
    log_debug("postgresql: %s", msg);
}

static int session_setup(PGconn *c)
{
    PGresult *res;
    int ok;

    PQsetNoticeProcessor(c, quiet_notice, NULL);
    res = PQexec(c, PG_SESSION_SETUP);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok ? 0 : -1;
}

/* Outside a transaction a broken connection is re-established before use. */
static int ensure_conn(struct pg_session *ps)
{
    if (PQstatus(ps->conn) == CONNECTION_OK)
        return 0;
    if (ps->base.depth > 0) { /* the transaction is gone with it: the caller rolls back */
        set_error(ps, NULL);
        return -1;
    }
    ps->active = NULL;
    PQreset(ps->conn);
    ps->conn_gen++;
    if (PQstatus(ps->conn) != CONNECTION_OK || session_setup(ps->conn) != 0) {
        set_error(ps, NULL);
        return -1;
    }
    log_warn("postgresql: reconnected a session after a lost connection");
    return 0;
}

/* ---- the database ---- */

static int show_setting(PGconn *c, const char *name, char *out, size_t len)
{
    char sql[64];
    PGresult *res;
    int ok;

    snprintf(sql, sizeof sql, "SHOW %s", name);
    res = PQexec(c, sql);
    ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    snprintf(out, len, "%s", ok ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return ok ? 0 : -1;
}

/* Refuse a server that would acknowledge a commit it can lose on a crash (the SQLite
 * engine's synchronous=FULL read-back, in PostgreSQL's terms). */
static int check_durable(PGconn *c, char *err, size_t errlen)
{
    char sync[32], fsync_[32];

    if (show_setting(c, "synchronous_commit", sync, sizeof sync) != 0 ||
        show_setting(c, "fsync", fsync_, sizeof fsync_) != 0) {
        snprintf(err, errlen, "cannot read the durability settings: %s", PQerrorMessage(c));
        return -1;
    }
    if (strcmp(sync, "off") == 0 || strcmp(fsync_, "off") == 0) {
        snprintf(err, errlen,
                 "not durable (synchronous_commit=%s, fsync=%s): an acknowledged write could "
                 "be lost on a crash; parklinkd needs both on (e.g. ALTER DATABASE ... SET "
                 "synchronous_commit = on)",
                 sync, fsync_);
        return -1;
    }
    return 0;
}

static struct store *pg_open(const char *uri, char *err, size_t errlen)
{
    struct pg_store *st;
    PGconn *c = connect_uri(uri, err, errlen);

    if (c == NULL)
        return NULL;
    if (PQserverVersion(c) < 120000) {
        snprintf(err, errlen,
                 "PostgreSQL %d is too old (parklinkd needs 12 or later: AS MATERIALIZED)",
                 PQserverVersion(c) / 10000);
        PQfinish(c);
        return NULL;
    }
    if (check_durable(c, err, errlen) != 0 || store_pg_migrate(c, err, errlen) != 0) {
        PQfinish(c);
        return NULL;
    }
    PQfinish(c);
    if ((st = calloc(1, sizeof *st)) == NULL || (st->uri = strdup(uri)) == NULL) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->base.engine = &store_pg_engine;
    return &st->base;
}

static void pg_close(struct store *st)
{
    struct pg_store *p = (struct pg_store *)st;

    free(p->uri);
    free(p);
}

static struct store_session *pg_session_open(struct store *st, char *err, size_t errlen)
{
    struct pg_session *ps = calloc(1, sizeof *ps);

    if (ps == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if ((ps->conn = connect_uri(((struct pg_store *)st)->uri, err, errlen)) == NULL) {
        free(ps);
        return NULL;
    }
    if (session_setup(ps->conn) != 0) {
        snprintf(err, errlen, "session setup: %s", PQerrorMessage(ps->conn));
        PQfinish(ps->conn);
        free(ps);
        return NULL;
    }
    ps->conn_gen = 1;
    return &ps->base;
}

static void pg_session_close(struct store_session *s)
{
    struct pg_session *ps = sess_of(s);

    PQfinish(ps->conn);
    free(ps);
}

/* ---- transaction verbs ---- */

static int run_simple(struct pg_session *ps, const char *sql, int *rolled_back)
{
    PGresult *res;
    int ok;

    free_wire(ps);
    res = PQexec(ps->conn, sql);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        set_error(ps, res);
    else if (rolled_back != NULL)
        *rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
    PQclear(res);
    return ok ? 0 : -1;
}

static enum store_result pg_tx(struct store_session *s, enum store_engine_verb verb, int arg)
{
    static const char BEGIN_WRITE[] = "BEGIN ISOLATION LEVEL READ COMMITTED";
    static const char BEGIN_READ[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    struct pg_session *ps = sess_of(s);
    char sql[96];
    int rolled_back = 0;

    switch (verb) {
    case ENGINE_BEGIN_READ:
    case ENGINE_BEGIN_WRITE:
        snprintf(sql, sizeof sql, "%s", verb == ENGINE_BEGIN_READ ? BEGIN_READ : BEGIN_WRITE);
        if (ensure_conn(ps) != 0)
            return report(ps, "begin");
        if (run_simple(ps, sql, NULL) == 0)
            return STORE_OK;
        if (PQstatus(ps->conn) == CONNECTION_OK)
            return report(ps, "begin");
        /* the server went away since the last use: BEGIN did nothing, so try once more */
        if (ensure_conn(ps) != 0 || run_simple(ps, sql, NULL) != 0)
            return report(ps, "begin");
        return STORE_OK;
    case ENGINE_COMMIT:
        if (run_simple(ps, "COMMIT", &rolled_back) != 0)
            return report(ps, "commit");
        if (rolled_back) { /* a statement had failed: PostgreSQL ended it with ROLLBACK */
            snprintf(ps->sqlstate, sizeof ps->sqlstate, "25P02");
            snprintf(ps->errmsg, sizeof ps->errmsg,
                     "the transaction had failed and was rolled back at commit");
            return report(ps, "commit");
        }
        return STORE_OK;
    case ENGINE_ROLLBACK:
        if (PQstatus(ps->conn) != CONNECTION_OK)
            return STORE_OK; /* nothing is open on a lost connection */
        return run_simple(ps, "ROLLBACK", NULL) == 0 ? STORE_OK : report(ps, "rollback");
    case ENGINE_SAVEPOINT:
        snprintf(sql, sizeof sql, "SAVEPOINT sp%d", arg);
        return run_simple(ps, sql, NULL) == 0 ? STORE_OK : report(ps, "savepoint");
    case ENGINE_RELEASE:
        snprintf(sql, sizeof sql, "RELEASE SAVEPOINT sp%d", arg);
        return run_simple(ps, sql, NULL) == 0 ? STORE_OK : report(ps, "release savepoint");
    case ENGINE_ROLLBACK_TO:
        snprintf(sql, sizeof sql, "ROLLBACK TO SAVEPOINT sp%d; RELEASE SAVEPOINT sp%d", arg, arg);
        return run_simple(ps, sql, NULL) == 0 ? STORE_OK : report(ps, "rollback to savepoint");
    }
    return STORE_ERROR;
}

/* ---- statements ---- */

/* Rewrite ?N to $N outside quoted text, identifiers and comments; *nparams gets the largest
 * N. NULL (logged) for ?0 or an N past PG_MAX_PARAMS. */
char *store_pg_rewrite(const char *sql, int *nparams)
{
    size_t n = strlen(sql);
    char *out = malloc(n + 1), *o = out;
    const char *p = sql;

    *nparams = 0;
    if (out == NULL)
        return NULL;
    while (*p) {
        if (*p == '\'' || *p == '"') { /* '..'' ..' and ".."" .." */
            char quote = *p;
            int escapes = *p == '\'' && p > sql && (p[-1] == 'E' || p[-1] == 'e');

            *o++ = *p++;
            while (*p) {
                if (escapes && *p == '\\' && p[1]) {
                    *o++ = *p++;
                } else if (*p == quote) {
                    if (p[1] != quote)
                        break;
                    *o++ = *p++;
                }
                *o++ = *p++;
            }
            if (*p)
                *o++ = *p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                *o++ = *p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            size_t len = end != NULL ? (size_t)(end + 2 - p) : strlen(p);

            memcpy(o, p, len);
            o += len;
            p += len;
        } else if (p[0] == '?' && p[1] >= '0' && p[1] <= '9') {
            long v = strtol(p + 1, (char **)&p, 10);

            if (v < 1 || v > PG_MAX_PARAMS) {
                log_error("postgresql: placeholder ?%ld out of range (1..%d) in: %s", v,
                          PG_MAX_PARAMS, sql);
                free(out);
                return NULL;
            }
            if (v > *nparams)
                *nparams = (int)v;
            o += sprintf(o, "$%ld", v); /* never longer than ?N */
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static struct sql_stmt *pg_prepare(struct store_session *s, const char *sql)
{
    struct pg_session *ps = sess_of(s);
    struct pg_stmt *q = calloc(1, sizeof *q);

    if (q == NULL || (q->text = store_pg_rewrite(sql, &q->nparams)) == NULL) {
        if (q != NULL)
            log_error("postgresql: cannot prepare: %s", sql);
        free(q);
        return NULL;
    }
    snprintf(q->name, sizeof q->name, "s%u", ++ps->next_name);
    q->done = 1;
    return &q->base;
}

static void clear_rows(struct pg_stmt *q)
{
    PQclear(q->row);
    q->row = NULL;
    while (q->qlen > 0) {
        PQclear(q->queue[q->qhead]);
        q->qhead = (q->qhead + 1) % q->qcap;
        q->qlen--;
    }
    q->qhead = 0;
}

static void pg_reset(struct sql_stmt *qq)
{
    struct pg_stmt *q = stmt_of(qq);
    struct pg_session *ps = sess_of(qq->s);
    int i;

    if (ps->active == q)
        drain(ps, q, 0);
    clear_rows(q);
    for (i = 0; i < q->nparams; i++) {
        free(q->values[i]);
        q->values[i] = NULL;
        q->types[i] = 0;
    }
    q->started = 0;
    q->done = 1;
    q->failed = 0;
    q->errmsg[0] = '\0';
}

static void pg_finalize(struct sql_stmt *qq)
{
    struct pg_stmt *q = stmt_of(qq);

    /* no DEALLOCATE: the core finalises only as the session's connection closes */
    pg_reset(qq);
    free(q->queue);
    free(q->text);
    free(q);
}

static void bind_value(struct sql_stmt *qq, int i, const char *v, size_t len, Oid type)
{
    struct pg_stmt *q = stmt_of(qq);
    char *copy = NULL;

    if (i < 1 || i > q->nparams) {
        log_error("postgresql: bind of parameter %d out of range (1..%d): %s", i, q->nparams,
                  qq->sql);
        q->failed = 1;
        return;
    }
    if (v != NULL) {
        if ((copy = malloc(len + 1)) == NULL) {
            q->failed = 1;
            return;
        }
        memcpy(copy, v, len);
        copy[len] = '\0';
    }
    free(q->values[i - 1]);
    q->values[i - 1] = copy;
    q->lengths[i - 1] = (int)len;
    q->types[i - 1] = v != NULL ? type : 0;
}

static void pg_bind_int(struct sql_stmt *q, int i, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);

    bind_value(q, i, buf, (size_t)n, PG_OID_INT8);
}

static void pg_bind_text(struct sql_stmt *q, int i, const char *v, size_t len)
{
    bind_value(q, i, v, len, PG_OID_TEXT);
}

/* Prepare q on this connection when it is not, or when a bind's type differs from the one it
 * was prepared with (a NULL fits any). */
static int ensure_prepared(struct pg_session *ps, struct pg_stmt *q)
{
    PGresult *res;
    int i, same = q->prepared_gen == ps->conn_gen;

    for (i = 0; same && i < q->nparams; i++)
        if (q->types[i] != 0 && q->types[i] != q->ptypes[i])
            same = 0;
    if (same)
        return 0;
    if (q->prepared_gen == ps->conn_gen) { /* other types: a new name, the old one dropped */
        char sql[48];

        snprintf(sql, sizeof sql, "DEALLOCATE %s", q->name);
        PQclear(PQexec(ps->conn, sql));
        snprintf(q->name, sizeof q->name, "s%u", ++ps->next_name);
        for (i = 0; i < q->nparams; i++)
            if (q->types[i] == 0)
                q->types[i] = q->ptypes[i];
    }
    res = PQprepare(ps->conn, q->name, q->text, q->nparams, q->types);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        set_error(ps, res);
        PQclear(res);
        log_debug("postgresql: prepare: %s: %s", ps->errmsg, q->base.sql);
        return -1;
    }
    PQclear(res);
    memcpy(q->ptypes, q->types, sizeof q->ptypes);
    q->prepared_gen = ps->conn_gen;
    return 0;
}

static int start(struct pg_session *ps, struct pg_stmt *q)
{
    free_wire(ps);
    q->changes = 0;
    if (q->failed) { /* a bind that did not take */
        snprintf(ps->sqlstate, sizeof ps->sqlstate, "%s", "");
        snprintf(ps->errmsg, sizeof ps->errmsg, "a parameter could not be bound");
        return -1;
    }
    if (ensure_conn(ps) != 0 || ensure_prepared(ps, q) != 0)
        return -1;
    if (!PQsendQueryPrepared(ps->conn, q->name, q->nparams, (const char *const *)q->values,
                             q->lengths, NULL, 0) ||
        !PQsetSingleRowMode(ps->conn)) {
        set_error(ps, NULL);
        drain(ps, q, 0);
        return -1;
    }
    ps->active = q;
    q->done = 0;
    return 0;
}

static int pg_step(struct sql_stmt *qq)
{
    struct pg_stmt *q = stmt_of(qq);
    struct pg_session *ps = sess_of(qq->s);
    PGresult *res;

    PQclear(q->row);
    q->row = NULL;
    if (!q->started) {
        q->started = 1;
        if (start(ps, q) != 0) {
            keep_error(ps, q);
            return -1;
        }
    }
    if (q->qlen > 0) { /* rows read ahead */
        q->row = q->queue[q->qhead];
        q->qhead = (q->qhead + 1) % q->qcap;
        q->qlen--;
        return 1;
    }
    while (!q->done && (res = PQgetResult(ps->conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_SINGLE_TUPLE) {
            q->row = res;
            return 1;
        }
        take_final(ps, q, res);
    }
    if (!q->done) {
        q->done = 1;
        ps->active = NULL;
    }
    return q->failed ? -1 : 0;
}

static int64_t pg_col_int(struct sql_stmt *qq, int i)
{
    struct pg_stmt *q = stmt_of(qq);
    const char *v;

    if (q->row == NULL || i < 0 || i >= PQnfields(q->row) || PQgetisnull(q->row, 0, i))
        return 0;
    v = PQgetvalue(q->row, 0, i);
    if (v[0] == 't' || v[0] == 'f') /* a boolean expression: SQLite's 1 and 0 */
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct sql_stmt *qq, int i, size_t *len)
{
    struct pg_stmt *q = stmt_of(qq);

    *len = 0;
    if (q->row == NULL || i < 0 || i >= PQnfields(q->row) || PQgetisnull(q->row, 0, i))
        return NULL;
    *len = (size_t)PQgetlength(q->row, 0, i);
    return PQgetvalue(q->row, 0, i);
}

static int64_t pg_changes(struct sql_stmt *q)
{
    return stmt_of(q)->changes;
}

const struct store_engine store_pg_engine = {
    .name = "postgresql",
    .dialect = SQL_POSTGRESQL,
    .open = pg_open,
    .close = pg_close,
    .session_open = pg_session_open,
    .session_close = pg_session_close,
    .tx = pg_tx,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_int = pg_bind_int,
    .bind_text = pg_bind_text,
    .step = pg_step,
    .col_int = pg_col_int,
    .col_text = pg_col_text,
    .changes = pg_changes,
    .reset = pg_reset,
    .error = pg_error,
};
