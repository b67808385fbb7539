/* wallclock.h - the wall clock the vendor API decides by ("now" of a request).
 *
 * The system clock, unless --clock-start (tests only) set it to start at a given unix time
 * and run on in real seconds from there: tests that depend on the time of day (4.1's default
 * period is "today, China Standard Time") then do not depend on when they run. */
#ifndef PARKLINK_WALLCLOCK_H
#define PARKLINK_WALLCLOCK_H

#include <stdint.h>

/* Set the clock: start 0 = the system clock, else the clock reads `start` now. Call once,
 * before any thread reads it. */
void wallclock_init(int64_t start);

/* Unix seconds on that clock. Any thread. */
int64_t wallclock_now(void);

#endif
