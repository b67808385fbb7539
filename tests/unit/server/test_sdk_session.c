/* test_sdk_session.c - the SDK session table (server/channels/sdk_session.c).
 *
 * Quotas end the oldest session of the same vendor (park), never another vendor's; a full
 * table takes from the vendor holding the most; idle sessions expire on an injected clock;
 * an ended token is answered with why it ended. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "channels/sdk_session.h"

static int64_t fake_now = 1000000;

static int64_t fake_clock(void)
{
    return fake_now;
}

static void setup_limits(unsigned max, unsigned per_vendor, unsigned per_park, unsigned idle)
{
    struct sdk_session_limits lim = {max, per_vendor, per_park, idle};

    fake_now = 1000000;
    sdk_session_set_clock(fake_clock);
    sdk_session_init(&lim);
}

static void login(const char *uid, const char *park, const char *local,
                  char token[SDK_TOKEN_LEN + 1])
{
    assert_int_equal(sdk_session_login(uid, park, local, "KEY", token), 0);
}

static enum plk_status get(const char *token)
{
    struct sdk_session s;

    return sdk_session_get(token, &s);
}

static void test_vendor_quota_evicts_own_oldest(void **state)
{
    char a[5][SDK_TOKEN_LEN + 1], b[SDK_TOKEN_LEN + 1], local[16];

    (void)state;
    setup_limits(1000, 3, 100, 0);
    login("200", "p-b", "b-1", b);
    for (int i = 0; i < 5; i++) {
        snprintf(local, sizeof local, "a-%d", i);
        login("100", i % 2 ? "p-a1" : "p-a2", local, a[i]);
        fake_now++;
    }
    /* vendor 100 holds its quota: its two oldest ended, vendor 200 untouched */
    assert_int_equal(sdk_session_count("100", NULL), 3);
    assert_int_equal(sdk_session_count("200", NULL), 1);
    assert_int_equal(get(a[0]), PLK_E_SESSION_EVICTED);
    assert_int_equal(get(a[1]), PLK_E_SESSION_EVICTED);
    for (int i = 2; i < 5; i++)
        assert_int_equal(get(a[i]), PLK_OK);
    assert_int_equal(get(b), PLK_OK);
    assert_string_equal(plk_errmsg(PLK_E_SESSION_EVICTED),
                        "error:token无效(会话数超过本厂商或车场的配额, 已被更新的登录替换)");
    sdk_session_cleanup();
}

static void test_park_quota_evicts_park_oldest(void **state)
{
    char t[4][SDK_TOKEN_LEN + 1], other[SDK_TOKEN_LEN + 1], local[16];

    (void)state;
    setup_limits(1000, 100, 2, 0);
    login("100", "p2", "x", other);
    for (int i = 0; i < 4; i++) {
        snprintf(local, sizeof local, "lane-%d", i);
        login("100", "p1", local, t[i]);
    }
    assert_int_equal(sdk_session_count(NULL, "p1"), 2);
    assert_int_equal(get(t[0]), PLK_E_SESSION_EVICTED);
    assert_int_equal(get(t[1]), PLK_E_SESSION_EVICTED);
    assert_int_equal(get(t[2]), PLK_OK);
    assert_int_equal(get(t[3]), PLK_OK);
    assert_int_equal(get(other), PLK_OK); /* the vendor's session at another park stays */
    sdk_session_cleanup();
}

static void test_full_table_takes_from_the_largest(void **state)
{
    char a[8][SDK_TOKEN_LEN + 1], b1[SDK_TOKEN_LEN + 1], b2[SDK_TOKEN_LEN + 1], local[16];

    (void)state;
    setup_limits(8, 100, 100, 0);
    login("200", "pb", "b1", b1);
    for (int i = 0; i < 7; i++) {
        snprintf(local, sizeof local, "a-%d", i);
        login("100", "pa", local, a[i]);
    }
    assert_int_equal(sdk_session_count(NULL, NULL), 8);
    /* vendor 200's second login: the table is full, vendor 100 holds the most */
    login("200", "pb", "b2", b2);
    assert_int_equal(sdk_session_count(NULL, NULL), 8);
    assert_int_equal(get(b1), PLK_OK);
    assert_int_equal(get(b2), PLK_OK);
    assert_int_equal(get(a[0]), PLK_E_SESSION_EVICTED);
    assert_int_equal(get(a[1]), PLK_OK);
    sdk_session_cleanup();
}

static void test_idle_expiry(void **state)
{
    char busy[SDK_TOKEN_LEN + 1], quiet[SDK_TOKEN_LEN + 1], fresh[SDK_TOKEN_LEN + 1];

    (void)state;
    setup_limits(1000, 100, 100, 60);
    login("100", "p", "busy", busy);
    login("100", "p", "quiet", quiet);
    fake_now += 40;
    assert_int_equal(get(busy), PLK_OK); /* use keeps it alive */
    fake_now += 40;                      /* quiet: 80 s unused, busy: 40 s */
    assert_int_equal(get(quiet), PLK_E_SESSION_IDLE);
    assert_int_equal(get(busy), PLK_OK);
    /* a later login reaps it: the count drops and the answer stays "idle" */
    login("100", "p", "fresh", fresh);
    assert_int_equal(sdk_session_count("100", NULL), 2);
    assert_int_equal(get(quiet), PLK_E_SESSION_IDLE);
    assert_int_equal(get(fresh), PLK_OK);
    sdk_session_cleanup();
}

static void test_relogin_replaces_and_unknown(void **state)
{
    char t1[SDK_TOKEN_LEN + 1], t2[SDK_TOKEN_LEN + 1];
    struct sdk_session s;

    (void)state;
    setup_limits(0, 0, 0, 0); /* the defaults */
    login("100", "p", "lane", t1);
    login("100", "p", "lane", t2);
    assert_int_equal(sdk_session_count(NULL, NULL), 1);
    assert_int_equal(get(t1), PLK_E_SESSION_UNKNOWN);
    assert_int_equal(sdk_session_get(t2, &s), PLK_OK);
    assert_string_equal(s.union_id, "100");
    assert_string_equal(s.ukey, "KEY");
    assert_int_equal(get("0123456789abcdef0123456789abcdef"), PLK_E_SESSION_UNKNOWN);
    assert_int_equal(get("short"), PLK_E_SESSION_UNKNOWN);
    assert_string_equal(plk_errmsg(PLK_E_SESSION_UNKNOWN), "error:token无效");
    sdk_session_cleanup();
    assert_int_equal(sdk_session_count(NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vendor_quota_evicts_own_oldest),
        cmocka_unit_test(test_park_quota_evicts_park_oldest),
        cmocka_unit_test(test_full_table_takes_from_the_largest),
        cmocka_unit_test(test_idle_expiry),
        cmocka_unit_test(test_relogin_replaces_and_unknown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
