/* wallclock.c - the vendor API's wall clock: the system clock plus a fixed offset that only
 * --clock-start (tests) makes non-zero. Written once at start, read by every worker. */
#include <time.h>

#include "wallclock.h"

static int64_t offset;

void wallclock_init(int64_t start)
{
    offset = start > 0 ? start - (int64_t)time(NULL) : 0;
}

int64_t wallclock_now(void)
{
    return (int64_t)time(NULL) + offset;
}
