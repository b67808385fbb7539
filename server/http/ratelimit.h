/* http/ratelimit.h - the per-vendor request rate limit (--rate-limit, DESIGN decision 11).
 *
 * A fixed one-second window per union_id, shared by all worker threads: a vendor whose
 * lane controllers spread over many connections (and so over many workers) still gets one
 * budget. Lock-free: one compare-and-swap per counted request, and nothing at all when the
 * limit is off (the default). */
#ifndef PARKLINK_RATELIMIT_H
#define PARKLINK_RATELIMIT_H

#include <stdint.h>

/* Set the limit (requests per second per vendor; 0 = off). Before threads start. */
void ratelimit_init(unsigned per_second);

/* Is the limit on? */
int ratelimit_enabled(void);

/* Count one request of vendor union_id (decimal text) at unix second now. Returns 1 if it
 * is within the limit, 0 if the vendor has used up this second's budget. Thread-safe. */
int ratelimit_allow(const char *union_id, int64_t now);

#endif
