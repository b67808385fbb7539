/* receivers.h - how each vendor receives messages: push or poll, and its per-service URLs.
 *
 * An in-memory copy of the store's delivery settings (store_outbox.h), loaded at start and
 * replaced by the admin API when it writes them, so that the delivery thread (choosing a
 * URL) and request workers (deciding whether an entry's 5.2 has anyone to go to) never read
 * the database for it. A vendor without settings pushes to its unified callback_url (the
 * registry snapshot). Thread-safe (a read-write lock). */
#ifndef PARKLINK_RECEIVERS_H
#define PARKLINK_RECEIVERS_H

#include <stddef.h>

#include "store/store_outbox.h"

/* Load every vendor's settings from st. 0 ok, -1 error (logged). Main thread, at start. */
int receivers_load(struct store_session *s);

/* Replace one vendor's settings (after the store committed them). Any thread. */
void receivers_put(const struct store_delivery *d);

/* Forget everything (shutdown). */
void receivers_cleanup(void);

/* The vendor's mode (enum store_delivery_mode). Any thread. */
int receivers_mode(const char *union_id);

/* Copy the vendor's own URL for service_name into out (cap bytes): 1 when it has one, else 0
 * (out is then ""). Any thread. */
int receivers_service_url(const char *union_id, const char *service_name, char *out, size_t cap);

/* Does the vendor receive service_name at all: poll mode, a URL for it, or a unified URL
 * (unified_url: its callback_url from the registry, may be NULL)? Any thread. */
int receivers_reachable(const char *union_id, const char *service_name, const char *unified_url);

#endif
