/* admission/lookup.h - the snapshot's plate lists as the rules ask them (inside admission/).
 *
 * registry.c owns the lists (blacklist, members, reservations) and how they are indexed;
 * rules.c decides 10.4 with them and knows nothing of the index. Not for other folders: they
 * ask admission_decide (rules.h). */
#ifndef PARKLINK_ADMISSION_LOOKUP_H
#define PARKLINK_ADMISSION_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

struct snapshot;
struct park;

/* The plate lists of a snapshot. */
enum { SET_BLACKLIST = 0, SET_MEMBERS = 1, SET_RESERVATIONS = 2, SET__COUNT };

/* A key to look up: normalised plate and its hash, colour, park (park_len 0: none). */
struct pkey {
    const char *plate;
    size_t plate_len;
    uint32_t hash;
    int color;
    const char *park;
    size_t park_len;
};

/* Fill k for the normalised plate norm (len > 0 bytes, registry_plate_norm), colour and park
 * p (NULL: none). k points into norm and p; no allocation. */
void snapshot_plate_key(struct pkey *k, const char *norm, size_t len, int color,
                        const struct park *p);

/* Does list `set` of s hold an entry for k valid at now? Entries without a park match any
 * park; entries with one only that park. s not NULL; lock-free, no allocation. */
int snapshot_plate_listed(const struct snapshot *s, int set, const struct pkey *k, int64_t now);

#endif
