/* test_ratelimit.c - server/http/ratelimit.c: the per-vendor one-second window.
 *
 * Counts per vendor independently, resets with each new second, is off at 0, and stays
 * exact when several threads count the same vendor at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <cmocka.h>

#include "http/ratelimit.h"

static void test_window(void **state)
{
    (void)state;
    ratelimit_init(3);
    assert_true(ratelimit_enabled());
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_allow("200002", 1000), 1);
    assert_int_equal(ratelimit_allow("200002", 1000), 0);
    assert_int_equal(ratelimit_allow("200003", 1000), 1); /* another vendor */
    assert_int_equal(ratelimit_allow("200002", 1001), 1); /* a new second */
}

static void test_off(void **state)
{
    (void)state;
    ratelimit_init(0);
    assert_false(ratelimit_enabled());
    for (int i = 0; i < 100; i++)
        assert_int_equal(ratelimit_allow("200002", 5000), 1);
}

static atomic_int granted;

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++)
        if (ratelimit_allow("300001", 7000))
            atomic_fetch_add(&granted, 1);
    return NULL;
}

static void test_threads_share_one_budget(void **state)
{
    pthread_t t[4];
    (void)state;
    ratelimit_init(1000);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&granted), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_threads_share_one_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
