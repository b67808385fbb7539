/* test_envelope.c - envelope parsing: the exact data span in every shape a client sends, the
 * union_id rules of DESIGN decision 3, double encoding, and one distinct error per kind of
 * malformed body. Also round-trips plk_envelope_build through the parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>
#include "parklink/envelope.h"

static enum plk_status parse(struct plk_envelope *env, const char *body, unsigned flags)
{
    return plk_envelope_parse(env, body, strlen(body), 65536, flags);
}

static void expect_span(const char *body, const char *want_data)
{
    struct plk_envelope env;
    enum plk_status st = parse(&env, body, PLK_ENV_UNION_ID_OPTIONAL);
    if (st != PLK_OK)
        fail_msg("parse failed: %s (%s) for %s", plk_strerror(st), env.detail, body);
    assert_int_equal(env.data_len, strlen(want_data));
    assert_memory_equal(env.data_text, want_data, env.data_len);
    plk_envelope_cleanup(&env);
}

static void test_reference_example_verifies(void **state)
{
    const char *body =
        "{\"data\":{\"park_id\":\"1001\",\"name\":\"北京上地三街9号院停车场\",\"address\":"
        "\"北京上地三街9号\",\"phone\":\"139000334443\",\"lng\":\"123.994449\",\"city_id\":"
        "110000,\"lat\":\"332.466666\",\"total_plot\":90,\"empty_plot\":56,\"union_id\":10001,"
        "\"price_desc\":\"2元每小时\",\"rand\":\"0.210354312785198048\"},"
        "\"sign\":\"F2BA9A4E4362E2C41676FC720B14290C\"}";
    struct plk_envelope env;
    assert_int_equal(parse(&env, body, 0), PLK_OK);
    assert_string_equal(env.union_id, "10001");
    assert_string_equal(env.sign, "F2BA9A4E4362E2C41676FC720B14290C");
    assert_int_equal(plk_envelope_verify(&env, "NQ0eSXs720170114"), PLK_OK);
    assert_int_equal(plk_envelope_verify(&env, "NQ0eSXs720170115"), PLK_E_SIGN_MISMATCH);
    plk_envelope_cleanup(&env);
}

static void test_bench_request(void **state)
{
    const char *body = "{\"union_id\":200002,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\","
                       "\"data\":{\"union_id\":200002,\"park_id\":\"20003\",\"service_name\":"
                       "\"park_check\",\"car_number\":\"京HP00G6\",\"license_color\":0}}";
    struct plk_envelope env;
    assert_int_equal(parse(&env, body, 0), PLK_OK);
    assert_string_equal(env.union_id, "200002");
    assert_string_equal(env.service_name, "park_check");
    assert_int_equal(plk_envelope_verify(&env, "EA2D90FEEF1E9F8E"), PLK_OK);
    plk_envelope_cleanup(&env);
}

static void test_spans_kept_as_sent(void **state)
{
    /* spacing, newlines, member order */
    expect_span("{ \"sign\" : \"A72EA179B90F93A03B5C26C2D013E606\" ,\n \"data\" :\t{ \"a\" : 1 ,"
                "\"b\":[1, 2.50, {\"c\":null}]}\n}",
                "{ \"a\" : 1 ,\"b\":[1, 2.50, {\"c\":null}]}");
    /* \u escapes and escaped slashes stay escaped; floats keep their digits */
    expect_span("{\"data\":{\"car_number\":\"\\u664bQQ1234\",\"url\":\"http:\\/\\/x\",\"fee\":0.0,"
                "\"e\":1E+2},\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}",
                "{\"car_number\":\"\\u664bQQ1234\",\"url\":\"http:\\/\\/x\",\"fee\":0.0,\"e\":1E+2}");
    /* a member named data nested elsewhere, before the real one, is not the span */
    expect_span("{\"x\":{\"data\":{\"evil\":1}},\"y\":[\"data\",{\"data\":2}],\"data\":{\"good\":"
                "\"}{\\\"\"},\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}",
                "{\"good\":\"}{\\\"\"}");
    /* the member name itself written with an escape */
    expect_span("{\"d\\u0061ta\":{\"k\":1},\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}",
                "{\"k\":1}");
    /* empty data object */
    expect_span("{\"data\":{},\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}", "{}");
}

static void test_double_encoded(void **state)
{
    const char *body = "\"{\\\"union_id\\\":200002,\\\"sign\\\":"
                       "\\\"A72EA179B90F93A03B5C26C2D013E606\\\",\\\"data\\\":{\\\"union_id\\\":"
                       "200002,\\\"park_id\\\":\\\"20003\\\",\\\"service_name\\\":"
                       "\\\"park_check\\\",\\\"car_number\\\":\\\"京HP00G6\\\","
                       "\\\"license_color\\\":0}}\"";
    struct plk_envelope env;
    assert_int_equal(parse(&env, body, 0), PLK_OK);
    assert_non_null(env.inner);
    assert_int_equal(plk_envelope_verify(&env, "EA2D90FEEF1E9F8E"), PLK_OK);
    plk_envelope_cleanup(&env);
}

static void test_union_id_places(void **state)
{
    struct plk_envelope env;
    const char *sign = "A72EA179B90F93A03B5C26C2D013E606";
    char body[512];

    snprintf(body, sizeof body, "{\"union_id\":\"200002\",\"sign\":\"%s\",\"data\":{}}", sign);
    assert_int_equal(parse(&env, body, 0), PLK_OK);
    assert_string_equal(env.union_id, "200002");
    plk_envelope_cleanup(&env);

    snprintf(body, sizeof body, "{\"union_id\":200002,\"sign\":\"%s\",\"data\":{\"union_id\":"
                                "\"200002\"}}", sign);
    assert_int_equal(parse(&env, body, 0), PLK_OK);
    plk_envelope_cleanup(&env);

    snprintf(body, sizeof body, "{\"union_id\":200002,\"sign\":\"%s\",\"data\":{\"union_id\":"
                                "200003}}", sign);
    assert_int_equal(parse(&env, body, 0), PLK_E_UNION_ID_CONFLICT);
    assert_non_null(strstr(env.detail, "200003"));
    plk_envelope_cleanup(&env);

    snprintf(body, sizeof body, "{\"sign\":\"%s\",\"data\":{\"park_id\":\"1\"}}", sign);
    assert_int_equal(parse(&env, body, 0), PLK_E_NO_UNION_ID);
    assert_int_equal(parse(&env, body, PLK_ENV_UNION_ID_OPTIONAL), PLK_OK);
    assert_string_equal(env.union_id, "");
    plk_envelope_cleanup(&env);

    snprintf(body, sizeof body, "{\"union_id\":\"abc\",\"sign\":\"%s\",\"data\":{}}", sign);
    assert_int_equal(parse(&env, body, 0), PLK_E_BAD_UNION_ID);
    snprintf(body, sizeof body, "{\"union_id\":\"9223372036854775808\",\"sign\":\"%s\",\"data\":{}}",
             sign);
    assert_int_equal(parse(&env, body, 0), PLK_E_BAD_UNION_ID);
    snprintf(body, sizeof body, "{\"union_id\":\"009223372036854775807\",\"sign\":\"%s\",\"data\":{}}",
             sign);
    assert_int_equal(parse(&env, body, 0), PLK_OK);
    plk_envelope_cleanup(&env);
    snprintf(body, sizeof body, "{\"union_id\":-5,\"sign\":\"%s\",\"data\":{}}", sign);
    assert_int_equal(parse(&env, body, 0), PLK_E_BAD_UNION_ID);
    snprintf(body, sizeof body, "{\"union_id\":{},\"sign\":\"%s\",\"data\":{}}", sign);
    assert_int_equal(parse(&env, body, 0), PLK_E_BAD_UNION_ID);
}

struct bad_case {
    const char *body;
    enum plk_status want;
};

static void test_malformed_bodies(void **state)
{
    static const struct bad_case cases[] = {
        {"", PLK_E_EMPTY},
        {"{\"data\":", PLK_E_NOT_JSON},
        {"union_id=1&sign=x", PLK_E_NOT_JSON},
        {"{\"data\":{\"a\":\"\xff\"},\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_BAD_UTF8},
        {"[1,2]", PLK_E_NOT_OBJECT},
        {"42", PLK_E_NOT_OBJECT},
        {"\"just a string\"", PLK_E_NOT_JSON},
        {"\"[1]\"", PLK_E_NOT_OBJECT},
        {"{\"data\":{},\"data\":{},\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_DUP_KEY},
        {"{\"data\":{\"a\":1,\"a\":2},\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_DUP_KEY},
        {"{\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"union_id\":1}", PLK_E_NO_DATA},
        {"{\"data\":\"{}\",\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_DATA_NOT_OBJECT},
        {"{\"data\":[{}],\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_DATA_NOT_OBJECT},
        {"{\"data\":{},\"union_id\":1}", PLK_E_NO_SIGN},
        {"{\"data\":{},\"union_id\":1,\"sign\":null}", PLK_E_NO_SIGN},
        {"{\"data\":{},\"union_id\":1,\"sign\":\"A72EA179\"}", PLK_E_BAD_SIGN_FORMAT},
        {"{\"data\":{},\"union_id\":1,\"sign\":\"Z72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_BAD_SIGN_FORMAT},
        {"{\"data\":{},\"union_id\":1,\"sign\":12345}", PLK_E_BAD_SIGN_FORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct plk_envelope env;
        enum plk_status st = parse(&env, cases[i].body, 0);
        if (st != cases[i].want)
            fail_msg("case %zu (%s): got %s, want %s", i, cases[i].body, plk_strerror(st),
                     plk_strerror(cases[i].want));
        assert_null(env.root);
        assert_null(env.inner);
        assert_true(strlen(plk_errmsg(st)) > 0);
        plk_envelope_cleanup(&env);
    }
}

static void test_size_cap(void **state)
{
    struct plk_envelope env;
    const char *body = "{\"data\":{},\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}";
    assert_int_equal(plk_envelope_parse(&env, body, strlen(body), 10, 0), PLK_E_TOO_LARGE);
    assert_non_null(strstr(env.detail, "limit"));
    assert_int_equal(plk_envelope_parse(&env, body, strlen(body), strlen(body), 0), PLK_OK);
    plk_envelope_cleanup(&env);
}

static void test_array_data_when_allowed(void **state)
{
    struct plk_envelope env;
    const char *body = "{\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"union_id\":1,"
                       "\"service_name\":\"people_data\",\"data\":[{\"a\":1}]}";
    assert_int_equal(parse(&env, body, PLK_ENV_DATA_ARRAY_OK), PLK_OK);
    assert_string_equal(env.service_name, "people_data");
    assert_int_equal(env.data_len, strlen("[{\"a\":1}]"));
    plk_envelope_cleanup(&env);
}

static void test_build_round_trip(void **state)
{
    json_t *data = json_pack("{s:s,s:s,s:f,s:i,s:s}", "service_name", "repair", "car_number",
                             "苏DDDYY2", "total", 0.01, "pay_time", 1561373813, "url", "a/b");
    char *body = plk_envelope_build(data, "200002", "C160955B1479621F");
    assert_non_null(body);
    assert_non_null(strstr(body, "\"union_id\":200002"));
    assert_non_null(strstr(body, "苏DDDYY2")); /* raw UTF-8, not \u escapes */
    struct plk_envelope env;
    assert_int_equal(parse(&env, body, 0), PLK_OK);
    assert_int_equal(plk_envelope_verify(&env, "C160955B1479621F"), PLK_OK);
    assert_true(json_equal(env.data, data));
    plk_envelope_cleanup(&env);
    free(body);

    body = plk_envelope_build(data, NULL, "C160955B1479621F");
    assert_int_equal(parse(&env, body, PLK_ENV_UNION_ID_OPTIONAL), PLK_OK);
    assert_int_equal(plk_envelope_verify(&env, "C160955B1479621F"), PLK_OK);
    plk_envelope_cleanup(&env);
    free(body);
    json_decref(data);

    /* reals: short where 15 digits read back the same, full precision where they do not */
    data = json_pack("{s:f,s:f}", "a", 0.1, "b", 1.0 / 3.0);
    body = plk_envelope_build(data, NULL, "k");
    assert_non_null(strstr(body, "\"a\":0.10000000000000001"));
    assert_int_equal(parse(&env, body, PLK_ENV_UNION_ID_OPTIONAL), PLK_OK);
    assert_true(json_equal(env.data, data));
    plk_envelope_cleanup(&env);
    free(body);
    json_decref(data);
    data = json_pack("{s:f}", "total", 0.01);
    body = plk_envelope_build(data, NULL, "k");
    assert_non_null(strstr(body, "\"total\":0.01}"));
    free(body);
    json_decref(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_example_verifies),
        cmocka_unit_test(test_bench_request),
        cmocka_unit_test(test_spans_kept_as_sent),
        cmocka_unit_test(test_double_encoded),
        cmocka_unit_test(test_union_id_places),
        cmocka_unit_test(test_malformed_bodies),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_array_data_when_allowed),
        cmocka_unit_test(test_build_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
