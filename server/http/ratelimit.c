/* http/ratelimit.c - fixed-window counters in a lock-free open-addressed table (ratelimit.h).
 *
 * A slot holds the vendor key and one 64-bit word: the window's second (high 32 bits) and
 * the count in it (low 32 bits), so starting a new window and counting are one CAS. Vendors
 * are few (hundreds); if the table ever fills, requests of vendors without a slot pass and
 * a warning is logged once, rather than refusing traffic because of the limiter itself. */
#include <stdatomic.h>
#include <stdlib.h>

#include "log.h"
#include "http/ratelimit.h"

#define SLOTS 4096 /* power of two */

struct slot {
    _Atomic uint64_t key;    /* union_id as a number; 0 = free */
    _Atomic uint64_t window; /* second << 32 | count */
};

static struct slot table[SLOTS];
static unsigned limit;
static atomic_int warned;

void ratelimit_init(unsigned per_second)
{
    limit = per_second;
}

int ratelimit_enabled(void)
{
    return limit != 0;
}

static struct slot *slot_for(uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    for (unsigned i = 0; i < SLOTS; i++) {
        struct slot *s = &table[(h + i) & (SLOTS - 1)];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire), zero = 0;
        if (k == key)
            return s;
        if (k == 0) {
            if (atomic_compare_exchange_strong(&s->key, &zero, key) || zero == key)
                return s;
        }
    }
    return NULL;
}

int ratelimit_allow(const char *union_id, int64_t now)
{
    uint64_t key = strtoull(union_id, NULL, 10), cur, next, sec = (uint32_t)now;
    struct slot *s;

    if (limit == 0)
        return 1;
    if (key == 0)
        key = 1;
    if ((s = slot_for(key)) == NULL) {
        if (atomic_exchange(&warned, 1) == 0)
            log_warn("rate limit table full: vendors beyond %d are not limited", SLOTS);
        return 1;
    }
    cur = atomic_load_explicit(&s->window, memory_order_relaxed);
    do {
        if ((cur >> 32) != sec)
            next = sec << 32 | 1;
        else if ((cur & 0xFFFFFFFFu) >= limit)
            return 0;
        else
            next = cur + 1;
    } while (!atomic_compare_exchange_weak_explicit(&s->window, &cur, next,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed));
    return 1;
}
