/* test_replay.c - the per-vendor replay window (server/api/replay.c).
 *
 * Rows are real rows of the service table: 2.2 (rand), 3.3 (time_temp in ms), 3.10
 * (timestamp in seconds, optional). A repeat within the window is refused, a time outside
 * it too; a request carrying none of the fields is never remembered, and the table marks
 * exactly the rows that carry one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/replay.h"

#define NOW 1700000000
#define W 300

/* Check data (JSON text) as vendor uid's request to row id at time now. */
static enum plk_status check(const char *uid, const char *id, const char *data, int64_t now)
{
    const struct plk_service *svc = plk_service_by_id(id);
    json_t *d = json_loads(data, 0, NULL);
    char *body;
    struct plk_envelope env;
    enum plk_status st;

    assert_non_null(svc);
    assert_non_null(d);
    body = plk_envelope_build(d, uid, "KEY0123456789ABC");
    assert_non_null(body);
    assert_int_equal(plk_envelope_parse(&env, body, strlen(body), 0, PLK_ENV_LAZY), PLK_OK);
    st = replay_check(uid, W, svc, &env, now);
    plk_envelope_cleanup(&env);
    free(body);
    json_decref(d);
    return st;
}

static void test_rand_repeat_is_refused_within_the_window(void **state)
{
    const char *a = "{\"park_id\":\"P1\",\"type\":2,\"union_id\":100,\"rand\":\"0.123\"}";
    const char *b = "{\"park_id\":\"P1\",\"type\":2,\"union_id\":100,\"rand\":\"0.456\"}";

    (void)state;
    replay_cleanup();
    assert_int_equal(check("100", "updatepark", a, NOW), PLK_OK);
    assert_int_equal(check("100", "updatepark", a, NOW + 10), PLK_E_REPLAYED);
    assert_int_equal(check("100", "updatepark", b, NOW + 10), PLK_OK); /* a new rand */
    /* the same data (top-level union_id only) from another vendor is not its copy */
    assert_int_equal(
        check("200", "updatepark", "{\"park_id\":\"P1\",\"type\":2,\"rand\":\"0.123\"}", NOW + 10),
        PLK_OK);
    assert_int_equal(
        check("100", "updatepark", "{\"park_id\":\"P1\",\"type\":2,\"rand\":\"0.123\"}", NOW + 10),
        PLK_OK);
    /* past the window a rand-only request is forgotten: what the window cannot protect */
    assert_int_equal(check("100", "updatepark", a, NOW + W + 1), PLK_OK);
    assert_string_equal(plk_errmsg(PLK_E_REPLAYED),
                        "重复的请求(疑似重放): 请更换rand或时间戳后重新签名");
}

static void test_time_field_window(void **state)
{
    char data[256];

    (void)state;
    replay_cleanup();
    /* milliseconds (3.3 time_temp) */
    snprintf(data, sizeof data,
             "{\"park_id\":\"P1\",\"amount\":1,\"trade_no\":\"T1\",\"notify_url\":\"http://x\","
             "\"time_temp\":\"%lld\"}",
             (long long)NOW * 1000);
    assert_int_equal(check("100", "paymonthcard", data, NOW + 5), PLK_OK);
    assert_int_equal(check("100", "paymonthcard", data, NOW + 6), PLK_E_REPLAYED);
    assert_int_equal(check("100", "paymonthcard", data, NOW + W + 1), PLK_E_STALE_TIME);
    assert_int_equal(check("100", "paymonthcard", data, NOW - W - 1), PLK_E_STALE_TIME);
    /* seconds (3.10 timestamp), a time at the far edge of the future: remembered until
     * that time + the window, as long as the time check alone would let it in */
    snprintf(data, sizeof data,
             "{\"union_id\":100,\"park_id\":\"P1\",\"amount\":2,\"trade_no\":\"R1\","
             "\"timestamp\":%lld}",
             (long long)NOW + W);
    assert_int_equal(check("100", "getwxredpacketurlnew", data, NOW), PLK_OK);
    assert_int_equal(check("100", "getwxredpacketurlnew", data, NOW + W + 10), PLK_E_REPLAYED);
    assert_string_equal(plk_errmsg(PLK_E_STALE_TIME), "请求时间戳超出允许范围(疑似重放)");
}

static void test_without_the_fields_nothing_is_remembered(void **state)
{
    const char *data = "{\"union_id\":100,\"park_id\":\"P1\",\"amount\":2,\"trade_no\":\"R2\"}";
    const char *odd = "{\"park_id\":\"P1\",\"amount\":1,\"trade_no\":\"T2\",\"notify_url\":"
                      "\"http://x\",\"time_temp\":\"soon\"}";

    (void)state;
    replay_cleanup();
    assert_int_equal(check("100", "getwxredpacketurlnew", data, NOW), PLK_OK);
    assert_int_equal(check("100", "getwxredpacketurlnew", data, NOW), PLK_OK);
    /* a time field that is not a number: no time check, but a copy is still a copy */
    assert_int_equal(check("100", "paymonthcard", odd, NOW), PLK_OK);
    assert_int_equal(check("100", "paymonthcard", odd, NOW + 1), PLK_E_REPLAYED);
    replay_cleanup();
}

static void test_table_marks_the_rows(void **state)
{
    const char *marked[] = {"addpark", "updatepark", "paymonthcard", "bolinkparkpay",
                            "getwxredpacketurlnew"};
    size_t n, count = 0;
    const struct plk_service *rows = plk_services(&n);

    (void)state;
    for (size_t i = 0; i < sizeof marked / sizeof marked[0]; i++)
        assert_true(plk_service_by_id(marked[i])->flags & PLK_SVC_REPLAY);
    for (size_t i = 0; i < n; i++)
        count += (rows[i].flags & PLK_SVC_REPLAY) != 0;
    assert_int_equal(count, sizeof marked / sizeof marked[0]);
    assert_false(plk_service_by_id("park_check")->flags & PLK_SVC_REPLAY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rand_repeat_is_refused_within_the_window),
        cmocka_unit_test(test_time_field_window),
        cmocka_unit_test(test_without_the_fields_nothing_is_remembered),
        cmocka_unit_test(test_table_marks_the_rows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
