/* admin/admin.h - the admin API (/admin/v1/...), independent of the HTTP library.
 *
 * The HTTP front hands over method, path, query, the Authorization header and the body; the
 * admin module checks the bearer token, runs the operation against the store, reloads the
 * registry after a committed change, and returns a status code and a JSON body. Resources:
 * vendors, parks, blacklist, members, reservations, monthly cards, lane screen texts (see
 * docs/admin-api.md). */
#ifndef PARKLINK_ADMIN_H
#define PARKLINK_ADMIN_H

#include <stdarg.h>
#include <stddef.h>
#include <jansson.h>

struct store;

struct admin_request {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *path;   /* after "/admin/v1", e.g. "/vendors/200002" */
    size_t path_len;
    const char *query; /* raw query string without '?', or NULL */
    size_t query_len;
    const char *authorization; /* value of the Authorization header, or NULL */
    size_t authorization_len;
    const char *body;
    size_t body_len;
    /* Replies that come later (POST /ask/...: the vendor is asked; admin/outbox.c). When
     * later and deferred are set, admin_handle may set *deferred = 1 and return before the
     * reply exists; *out is then filled on another thread, which calls later(later_arg)
     * exactly once, possibly before admin_handle has returned. The request's strings are
     * not used after admin_handle returns. When later is NULL the call waits. */
    void (*later)(void *arg);
    void *later_arg;
    int *deferred;
};

struct admin_reply {
    int status; /* HTTP status */
    char *body; /* malloc'd JSON text; caller frees */
};

/* For the admin_*.c files: set *out to status and the compact text of j (takes the
 * reference), or to {"error": <printf text>} (bytes of the text that are not UTF-8 become
 * '?'). A reply that cannot be built is a logged 500; out of memory aborts (server policy). */
void admin_reply_json(struct admin_reply *out, int status, json_t *j);
void admin_reply_error(struct admin_reply *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void admin_reply_verror(struct admin_reply *out, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Percent-decode n bytes of a path segment or query value (libcurl); malloc'd (curl_free),
 * or NULL if the result would hold a NUL byte or memory ran out. */
char *admin_decode(const char *s, size_t n);

/* 1 when the n bytes at s are valid UTF-8. Every key and value the store keeps is text, and PostgreSQL
 * refuses other bytes: a key that is not UTF-8 names nothing. */
int admin_is_utf8(const char *s, size_t n);

/* One decoded query-string pair; both strings are curl_free'd by the caller. */
struct admin_param {
    char *key, *val;
};

/* Split the query string q (n bytes) at '&' and percent-decode each name=value into out
 * (at most max pairs; *count receives how many). 0 ok; -1 more than max pairs; -2 a bad
 * percent-encoding. Pairs decoded before a failure stay in out (count says how many). */
int admin_parse_query(const char *q, size_t n, struct admin_param *out, int max, int *count);

/* The value of the first pair named name, or NULL. */
const char *admin_param_find(const struct admin_param *params, int n, const char *name);

/* Prepare the admin module on store st: it opens a session of its own for its reads (writes
 * go through the writer, writer_run_sync; DESIGN decision 10). The registry must be
 * initialised on the same store, since every change calls registry_reload. The token: when
 * given_token is not NULL it becomes the admin token (a salted PBKDF2 of it replaces the stored
 * record; 1-256 printable ASCII characters, no spaces); else the stored record is used, and on
 * first start a random token is generated, its SHA-256 stored, and the token printed once to
 * stderr (admin/token.h). The token
 * in clear is written to token_out (if not NULL) when it was given or generated, else "" (only
 * its hash is kept). 0 ok, -1 error (logged). Call before admin_handle runs on any thread. */
int admin_init(struct store *st, const char *given_token, char *token_out, size_t token_out_len);

/* Close what admin_init opened (its store session); admin_handle must not run any more. A
 * second admin_init closes the first one's itself. */
void admin_cleanup(void);

/* 1 if `authorization` (len bytes, the Authorization header's value) carries the admin token
 * ("Bearer <token>"), else 0. Thread-safe, no store access: the HTTP front asks it on a
 * worker thread to give a connection the admin body cap (http/gate.h). */
int admin_token_matches(const char *authorization, size_t len);

/* Handle one admin request: out->status and a malloc'd JSON out->body (never NULL; the caller
 * frees it). Thread-safe; may block on the store and on a registry reload (admin traffic is
 * rare). 401 without the right bearer token, 404 unknown path or record, 405 wrong method,
 * 400 invalid input ({"error":"..."} names the field), 409 duplicate or still in use. */
void admin_handle(const struct admin_request *rq, struct admin_reply *out);

#endif
