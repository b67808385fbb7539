/* admission/rules.h - 10.4 park_check decided: may this car enter this park now?
 *
 * The rules (DESIGN decision 6) over the worker's snapshot (registry.h): a pure function, no
 * allocation, no lock, cost independent of the lists' sizes. api/admission.c formats the
 * answer. */
#ifndef PARKLINK_ADMISSION_RULES_H
#define PARKLINK_ADMISSION_RULES_H

#include <stdint.h>

#include "admission/registry.h"

/* The answer of 10.4, values as the reference types them (strings). */
struct admission {
    const char *status;       /* "1" pass, "0" refused */
    const char *reason;       /* "0", "1", "2", "99" */
    const char *reason_msg;   /* "" when reason is "0" */
    const char *share_status; /* "1" when an active shared reservation exists now */
};

/* Decide 10.4 for a car (plate, colour 0-7) at park p at unix time now. Pure function of the
 * snapshot: no allocation, no locks, cost independent of list sizes. */
void admission_decide(const struct snapshot *s, const struct park *p, const char *plate, int color,
                      int64_t now, struct admission *out);

#endif
