/* api/router.h - maps a request path (and, for neworder/uploadData, a service_name) to a row of
 * the service table.
 *
 * Built once at start from plk_services(): vendor-to-platform rows are indexed by their path
 * under /unionapi/ (or their absolute path, for the few that live elsewhere) and the rows
 * served at neworder/uploadData by service_name. Lookups are binary searches over sorted
 * arrays; the index is read-only after router_init(), so any thread may use it. */
#ifndef PARKLINK_ROUTER_H
#define PARKLINK_ROUTER_H

#include <stddef.h>
#include "parklink/services.h"

struct route {
    const struct plk_service *svc; /* the row; NULL for neworder/uploadData */
    int upload_data;               /* 1: the row is chosen by data.service_name */
};

/* Build the index. Fails loudly (logs, returns -1) if two rows claim one path or one
 * uploadData service_name. */
int router_init(void);
void router_cleanup(void);

/* Match a path relative to /unionapi/ ("neworder/addorder"), or an absolute path
 * ("/bpd/upload.do") when absolute is 1. Returns 1 and fills *out, or 0 if no row. */
int router_match(const char *path, size_t len, int absolute, struct route *out);

/* The uploadData row named service_name, or NULL. */
const struct plk_service *router_by_name(const char *service_name);

#endif
