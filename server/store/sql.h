/* sql.h - the one way a domain file of the store talks SQL, whichever engine runs it.
 *
 * Domain files (vendors, plates, orders, outbox ...) hold only their SQL and the code that
 * binds and reads it; they call these functions, core.c dispatches them to the session's
 * engine (engine.h: sqlite_engine.c, pg_engine.c). Private to server/store/.
 *
 * The dialect domain SQL is written in: SQLite's and PostgreSQL's common ground.
 *  - Placeholders are ?1, ?2 ... (each may repeat); the PostgreSQL engine rewrites them to $n.
 *  - Integers are bound with sql_bind_int (int8) and text with sql_bind_text (text), so a
 *    value's type never depends on inference; compare and insert like with like.
 *  - Expected outcomes never come from a failing statement (on PostgreSQL a failed statement
 *    spoils the whole transaction): use INSERT ... ON CONFLICT DO NOTHING / DO UPDATE,
 *    conditional UPDATE ... WHERE state = ..., and RETURNING. A statement that fails ends
 *    the op; its caller rolls back (the writer rolls back to the job's savepoint).
 *  - Row locks and other engine-only clauses: pick the text by sql_dialect(s), both strings
 *    static, side by side in the domain file.
 *
 * The one NULL rule: sql_bind_text(q, i, NULL) binds SQL NULL, any other pointer binds that
 * text ("" is the empty string, not NULL); sql_col_text answers "" for NULL, and
 * sql_col_is_null tells the two apart where it matters.
 *
 * Statements are prepared once per session and cached under the SQL's ADDRESS: pass string
 * literals or other static text, never a buffer. A statement is in use from its first bind
 * until sql_reset (sql_exec, sql_one and sql_each reset it themselves). */
#ifndef PARKLINK_STORE_SQL_H
#define PARKLINK_STORE_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct sql_stmt;

enum sql_dialect {
    SQL_SQLITE = 0,
    SQL_POSTGRESQL = 1,
};

enum sql_dialect sql_dialect(const struct store_session *s);

/* The statement for sql on s (prepared on first use, then cached). NULL (logged) if it does
 * not prepare: a bug in the SQL or a lost connection. */
struct sql_stmt *sql_prepare(struct store_session *s, const char *sql);

/* Bind parameter i (1-based: ?i). */
void sql_bind_int(struct sql_stmt *q, int i, int64_t v);
void sql_bind_text(struct sql_stmt *q, int i, const char *v); /* NULL -> SQL NULL */
/* Text of explicit length (need not be NUL-terminated; may hold any byte but NUL). */
void sql_bind_textn(struct sql_stmt *q, int i, const char *v, size_t len);

/* Run (first call) or advance the statement: 1 a row is ready, 0 no more rows, -1 it failed
 * (then sql_error says why; the statement must still be reset). */
int sql_step(struct sql_stmt *q);

/* Columns of the current row (0-based). */
int64_t sql_col_int(struct sql_stmt *q, int i);
const char *sql_col_text(struct sql_stmt *q, int i); /* "" for NULL; valid until next step */
size_t sql_col_len(struct sql_stmt *q, int i);        /* bytes of sql_col_text */
int sql_col_is_null(struct sql_stmt *q, int i);
/* Copy text column i into out (size bytes, always NUL-terminated, truncated to fit). */
void sql_col_copy(struct sql_stmt *q, int i, char *out, size_t size);

/* Rows written by the statement's last run (INSERT/UPDATE/DELETE). */
int64_t sql_changes(struct sql_stmt *q);

/* Ready the statement for its next use: drop the result, clear the bindings. */
void sql_reset(struct sql_stmt *q);

/* The store result of q's failure, logged with `what` unless it is an expected outcome
 * (STORE_CONFLICT, STORE_FOREIGN_KEY): unique violations STORE_CONFLICT, foreign keys
 * STORE_FOREIGN_KEY, a lock wait that ran out, a deadlock or a serialisation failure
 * STORE_BUSY, a full disk STORE_FULL, the rest STORE_ERROR. */
enum store_result sql_error(struct sql_stmt *q, const char *what);

/* Step q to its end ignoring rows, then reset it. STORE_ERROR if q is NULL. */
enum store_result sql_exec(struct sql_stmt *q, const char *what);

/* Step q once: STORE_OK with the row handed to read(q, out), STORE_NOT_FOUND without one;
 * then reset it. read may be NULL (existence check). */
enum store_result sql_one(struct sql_stmt *q, const char *what,
                          void (*read)(struct sql_stmt *q, void *out), void *out);

/* Step q through every row, calling row(q, arg) for each; a non-zero return stops with
 * STORE_ABORTED. Then reset it. */
enum store_result sql_each(struct sql_stmt *q, const char *what,
                           int (*row)(struct sql_stmt *q, void *arg), void *arg);

/* An op's transaction: join the caller's when one is open on s, else begin one of its own
 * (mode). sql_tx_end commits an own transaction when r is STORE_OK (returning the commit's
 * result), rolls it back otherwise, and leaves a joined transaction alone; it returns r
 * (or the commit's failure). Always pair them, as `int own; r = sql_tx_begin(s, mode,
 * &own); ... return sql_tx_end(s, own, r);`. */
enum store_result sql_tx_begin(struct store_session *s, enum store_tx_mode mode, int *own);
enum store_result sql_tx_end(struct store_session *s, int own, enum store_result r);

/* Raise the global revision inside the open write transaction; *rev gets the new value. The
 * row lock this takes serialises every catalog writer until commit (all nodes). */
enum store_result sql_bump_revision(struct store_session *s, int64_t *rev);

/* Wall-clock seconds and milliseconds, the one clock domain files stamp rows with. */
int64_t sql_now_s(void);
int64_t sql_now_ms(void);

#endif
