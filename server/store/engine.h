/* engine.h - what a database engine gives the store core: connections, statements, errors.
 *
 * core.c implements the store's public session and transaction API (store.h) and the domain
 * files' statement API (sql.h) once, on top of one of these vtables: sqlite_engine.c (the
 * embedded default) and pg_engine.c (libpq, many nodes). An engine knows nothing of vendors,
 * orders or the outbox; the domain files know nothing of the engine beyond sql_dialect.
 * Private to server/store/. */
#ifndef PARKLINK_STORE_ENGINE_H
#define PARKLINK_STORE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <uthash.h>

#include "store/sql.h"
#include "store/store.h"

struct store_engine;

/* An engine's database handle starts with this. */
struct store {
    const struct store_engine *engine;
};

/* An engine's session starts with this; core.c owns every member. */
struct store_session {
    struct store *st;
    int depth;              /* 0 no transaction, 1 in one, 1 + n inside n savepoints */
    struct sql_stmt *cache; /* prepared statements by SQL address (uthash, core.c) */
};

/* An engine's statement starts with this; core.c owns every member. */
struct sql_stmt {
    struct store_session *s;
    const char *sql; /* the cache key: the domain file's static text */
    UT_hash_handle hh; /* in the session's cache */
};

/* Transaction verbs the core asks an engine to run. */
enum store_engine_verb {
    ENGINE_BEGIN_READ,
    ENGINE_BEGIN_WRITE,
    ENGINE_COMMIT,
    ENGINE_ROLLBACK,
    ENGINE_SAVEPOINT,    /* arg: the savepoint's depth, for its name */
    ENGINE_RELEASE,      /* keep the savepoint of that depth */
    ENGINE_ROLLBACK_TO,  /* undo to the savepoint of that depth, then release it */
};

struct store_engine {
    const char *name; /* "sqlite", "postgresql" */
    enum sql_dialect dialect;

    /* Open the database (uri without a "sqlite:" prefix; a PostgreSQL URI as given), migrate
     * it and check it; NULL with an English reason in err. close frees it (sessions are
     * closed by then). */
    struct store *(*open)(const char *uri, char *err, size_t errlen);
    void (*close)(struct store *st);

    /* A new connection: returns the engine's session struct (its first member the
     * struct store_session, zeroed: the core fills it). close disconnects it (the core has
     * finalised every statement and ended any transaction). */
    struct store_session *(*session_open)(struct store *st, char *err, size_t errlen);
    void (*session_close)(struct store_session *s);

    /* Run a transaction verb; after a successful ENGINE_COMMIT the engine does its
     * housekeeping (SQLite: checkpoints). Failures mapped as sql_error does. */
    enum store_result (*tx)(struct store_session *s, enum store_engine_verb verb, int arg);

    /* Statements: prepare returns the engine's statement struct (first member struct
     * sql_stmt, zeroed: the core fills it) or NULL (logged); finalize frees it. */
    struct sql_stmt *(*prepare)(struct store_session *s, const char *sql);
    void (*finalize)(struct sql_stmt *q);
    void (*bind_int)(struct sql_stmt *q, int i, int64_t v);
    void (*bind_text)(struct sql_stmt *q, int i, const char *v, size_t len); /* v NULL: NULL */
    int (*step)(struct sql_stmt *q); /* 1 row, 0 done, -1 failed */
    int64_t (*col_int)(struct sql_stmt *q, int i);
    const char *(*col_text)(struct sql_stmt *q, int i, size_t *len); /* NULL for SQL NULL */
    int64_t (*changes)(struct sql_stmt *q);
    void (*reset)(struct sql_stmt *q);
    /* Map (and log, unless expected) the failure of q's last step or of the last verb. */
    enum store_result (*error)(struct store_session *s, struct sql_stmt *q, const char *what);
};

extern const struct store_engine store_sqlite_engine;
extern const struct store_engine store_pg_engine;

#endif
