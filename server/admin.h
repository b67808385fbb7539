/* admin.h - the admin API (/admin/v1/...), independent of the HTTP library.
 *
 * The HTTP front hands over method, path, query, the Authorization header and the body; the
 * admin module checks the bearer token, runs the operation against the store, reloads the
 * registry after a committed change, and returns a status code and a JSON body. Resources:
 * vendors, parks, blacklist, members, reservations (see docs/admin-api.md). */
#ifndef PARKLINK_ADMIN_H
#define PARKLINK_ADMIN_H

#include <stddef.h>

struct store;

struct admin_request {
    const char *method;      /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *path;        /* after "/admin/v1", e.g. "/vendors/200002" */
    size_t path_len;
    const char *query;       /* raw query string without '?', or NULL */
    size_t query_len;
    const char *authorization; /* value of the Authorization header, or NULL */
    size_t authorization_len;
    const char *body;
    size_t body_len;
};

struct admin_reply {
    int status;              /* HTTP status */
    char *body;              /* malloc'd JSON text; caller frees */
};

/* Prepare the admin module: make sure an admin token exists. On first start a token is
 * generated, its hash stored, and the token printed once to stderr (and written to
 * token_out if not NULL, for tests). 0 ok, -1 error. */
int admin_init(struct store *st, char *token_out, size_t token_out_len);

/* Handle one admin request. Thread-safe; may block on the store (admin traffic is rare). */
void admin_handle(const struct admin_request *rq, struct admin_reply *out);

#endif
