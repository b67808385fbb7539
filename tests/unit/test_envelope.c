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
#include "parklink/services.h"

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
    expect_span(
        "{\"data\":{\"car_number\":\"\\u664bQQ1234\",\"url\":\"http:\\/\\/x\",\"fee\":0.0,"
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

    snprintf(body, sizeof body,
             "{\"union_id\":200002,\"sign\":\"%s\",\"data\":{\"union_id\":"
             "\"200002\"}}",
             sign);
    assert_int_equal(parse(&env, body, 0), PLK_OK);
    plk_envelope_cleanup(&env);

    snprintf(body, sizeof body,
             "{\"union_id\":200002,\"sign\":\"%s\",\"data\":{\"union_id\":"
             "200003}}",
             sign);
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
    snprintf(body, sizeof body,
             "{\"union_id\":\"9223372036854775808\",\"sign\":\"%s\",\"data\":{}}", sign);
    assert_int_equal(parse(&env, body, 0), PLK_E_BAD_UNION_ID);
    snprintf(body, sizeof body,
             "{\"union_id\":\"009223372036854775807\",\"sign\":\"%s\",\"data\":{}}", sign);
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
        {"{\"data\":{},\"data\":{},\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}", PLK_E_DUP_KEY},
        {"{\"data\":{\"a\":1,\"a\":2},\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_DUP_KEY},
        {"{\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"union_id\":1}", PLK_E_NO_DATA},
        {"{\"data\":\"{}\",\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}", PLK_E_DATA_NOT_OBJECT},
        {"{\"data\":[{}],\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}", PLK_E_DATA_NOT_OBJECT},
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

/* --- the flat view (PLK_ENV_LAZY): what the server's hot path reads ------------------------ */

static const char BENCH_BODY[] =
    "{\"union_id\":200002,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{\"union_id\":"
    "200002,\"park_id\":\"20003\",\"service_name\":\"park_check\",\"car_number\":\"京HP00G6\","
    "\"license_color\":0}}";

static void test_lazy_builds_no_tree(void **state)
{
    struct plk_envelope env, eager;
    struct plk_value v;
    char buf[32];

    assert_int_equal(parse(&env, BENCH_BODY, PLK_ENV_LAZY), PLK_OK);
    assert_null(env.root);
    assert_null(env.data);
    assert_true(env.view);
    assert_int_equal(env.nmembers, 5);
    assert_string_equal(env.union_id, "200002");
    assert_string_equal(env.service_name, "park_check");
    assert_int_equal(plk_envelope_verify(&env, "EA2D90FEEF1E9F8E"), PLK_OK);

    assert_true(plk_envelope_member(&env, "car_number", &v, buf));
    assert_int_equal(v.kind, PLK_K_STR);
    assert_string_equal(v.text, "京HP00G6");
    assert_true(plk_envelope_member(&env, "license_color", &v, buf));
    assert_int_equal(v.kind, PLK_K_INT);
    assert_int_equal(v.i, 0);
    assert_int_equal(v.len, 1);
    assert_memory_equal(v.text, "0", 1);
    assert_false(plk_envelope_member(&env, "order_id", &v, buf));
    assert_null(env.data); /* still no tree */

    /* asked for, the tree is the one the eager parse builds */
    assert_int_equal(parse(&eager, BENCH_BODY, 0), PLK_OK);
    assert_true(json_equal(plk_envelope_data(&env), eager.data));
    assert_non_null(env.data);
    plk_envelope_cleanup(&eager);
    plk_envelope_cleanup(&env);
}

static void test_lazy_nested_and_wide_data(void **state)
{
    struct plk_envelope env;
    struct plk_value v;
    char buf[32], body[4096];
    size_t n;

    /* a container inside data: the tree is built at once (jansson checks its names) */
    assert_int_equal(parse(&env,
                           "{\"data\":{\"a\":[1, {\"b\":2}],\"c\":\"x\"},\"sign\":"
                           "\"A72EA179B90F93A03B5C26C2D013E606\",\"union_id\":1}",
                           PLK_ENV_LAZY),
                     PLK_OK);
    assert_non_null(env.data);
    assert_true(plk_envelope_member(&env, "a", &v, buf));
    assert_int_equal(v.kind, PLK_K_ARR);
    assert_int_equal(v.len, strlen("[1, {\"b\":2}]"));
    assert_memory_equal(v.text, "[1, {\"b\":2}]", v.len);
    plk_envelope_cleanup(&env);

    /* more members than the view holds: lookups go to the tree */
    n = (size_t)snprintf(body, sizeof body,
                         "{\"union_id\":1,\"sign\":"
                         "\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{");
    for (int i = 0; i < PLK_ENV_MEMBERS + 10; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s\"m%d\":%d", i ? "," : "", i, i);
    snprintf(body + n, sizeof body - n, "}}");
    assert_int_equal(parse(&env, body, PLK_ENV_LAZY), PLK_OK);
    assert_false(env.view);
    assert_true(plk_envelope_member(&env, "m55", &v, buf));
    assert_int_equal(v.kind, PLK_K_INT);
    assert_int_equal(v.i, 55);
    assert_string_equal(v.text, "55");
    plk_envelope_cleanup(&env);
}

/* Escapes and whitespace make raw texts longer than decoded ones: the view must still hold the
 * decoded texts, and the data span must still be the exact bytes as sent. */
static void test_lazy_escapes_and_spaces(void **state)
{
    static const char data[] = "{ \"a\\u0062\" : \"\\u4eac\\\"x\" ,\n\t\"n\" : -12 ,"
                               " \"t\" : true , \"s\" : \"plain\" }";
    char body[512], buf[32];
    struct plk_envelope env;
    struct plk_value v;

    snprintf(body, sizeof body,
             " {\r\n \"union_id\" : 1 ,\n \"sign\" : \"A72EA179B90F93A03B5C26C2D013E606\" ,"
             " \"d\\u0061ta\" : %s , \"x\" : [ \"]\" , \"\\\\\" ] }\n",
             data);
    for (int lazy = 0; lazy <= 1; lazy++) {
        assert_int_equal(parse(&env, body, lazy ? PLK_ENV_LAZY : 0), PLK_OK);
        assert_int_equal(env.data_len, strlen(data));
        assert_memory_equal(env.data_text, data, env.data_len);
        assert_true(plk_envelope_member(&env, "ab", &v, buf));
        assert_int_equal(v.kind, PLK_K_STR);
        assert_string_equal(v.text, "\xe4\xba\xac\"x");
        assert_true(plk_envelope_member(&env, "n", &v, buf));
        assert_int_equal(v.kind, PLK_K_INT);
        assert_int_equal(v.i, -12);
        assert_memory_equal(v.text, "-12", v.len);
        assert_true(plk_envelope_member(&env, "t", &v, buf));
        assert_int_equal(v.kind, PLK_K_BOOL);
        assert_true(plk_envelope_member(&env, "s", &v, buf));
        assert_string_equal(v.text, "plain");
        plk_envelope_cleanup(&env);
    }
}

static void test_lazy_numbers(void **state)
{
    static const struct {
        const char *value;
        enum plk_status st;
        enum plk_kind kind;
        const char *text;
    } cases[] = {
        {"-0", PLK_OK, PLK_K_INT, "0"},
        {"-9223372036854775808", PLK_OK, PLK_K_INT, "-9223372036854775808"},
        {"9223372036854775808", PLK_E_NOT_JSON, PLK_K_NULL, NULL},
        {"1.50", PLK_OK, PLK_K_REAL, "1.50"},
        {"1E2", PLK_OK, PLK_K_REAL, "1E2"},
        {"1e999", PLK_E_NOT_JSON, PLK_K_NULL, NULL},
        {"18446744073709551615", PLK_E_NOT_JSON, PLK_K_NULL, NULL},
        {"123456789012345678901234567890", PLK_E_NOT_JSON, PLK_K_NULL, NULL},
        {"-123456789012345678901234567890", PLK_E_NOT_JSON, PLK_K_NULL, NULL},
        {"0.1e1", PLK_OK, PLK_K_REAL, "0.1e1"},
        {"12345678901234567890.5", PLK_OK, PLK_K_REAL, "12345678901234567890.5"},
        {"true", PLK_OK, PLK_K_BOOL, "true"},
        {"null", PLK_OK, PLK_K_NULL, "null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[256], buf[32];
        struct plk_envelope env;
        struct plk_value v;
        snprintf(body, sizeof body,
                 "{\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":"
                 "{\"x\":%s}}",
                 cases[i].value);
        assert_int_equal(parse(&env, body, PLK_ENV_LAZY), cases[i].st);
        assert_int_equal(parse(&env, body, 0), cases[i].st); /* eager agrees */
        plk_envelope_cleanup(&env);
        if (cases[i].st != PLK_OK)
            continue;
        assert_int_equal(parse(&env, body, PLK_ENV_LAZY), PLK_OK);
        assert_true(plk_envelope_member(&env, "x", &v, buf));
        assert_int_equal(v.kind, cases[i].kind);
        assert_int_equal(v.len, strlen(cases[i].text));
        assert_memory_equal(v.text, cases[i].text, v.len);
        plk_envelope_cleanup(&env);
    }
}

/* Corners where a lenient reader slips (yajl did, before simdjson): both parse modes refuse
 * them as jansson does. */
static void test_strict_corners(void **state)
{
    static const struct {
        const char *body;
        enum plk_status st;
    } cases[] = {
        /* an unfinished string after the value (yajl waits for more text) */
        {"{\"data\":{},\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}\"}",
         PLK_E_NOT_JSON},
        /* form feed and vertical tab are not JSON whitespace */
        {"{\"data\":{},\f\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_NOT_JSON},
        {"{\"data\":{},\v\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_NOT_JSON},
        /* a lone surrogate escape (yajl would write '?') */
        {"{\"data\":{\"a\":\"\\ud800x\"},\"union_id\":1,\"sign\":"
         "\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_NOT_JSON},
        /* overlong UTF-8 and an encoded surrogate */
        {"{\"data\":{\"a\":\"\xc0\x80\"},\"union_id\":1,\"sign\":"
         "\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_BAD_UTF8},
        {"{\"data\":{\"a\":\"\xed\xa0\x80\"},\"union_id\":1,\"sign\":"
         "\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_BAD_UTF8},
        /* \u0000 in a member name: refused as a NUL like in any text */
        {"{\"data\":{\"a\\u0000\":1},\"union_id\":1,\"sign\":"
         "\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_FIELD_NUL},
        /* repeated names at each depth */
        {"{\"data\":{\"a\":1,\"a\":2},\"union_id\":1,\"sign\":"
         "\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_DUP_KEY},
        {"{\"data\":{\"a\":{\"b\":1,\"b\":1}},\"union_id\":1,\"sign\":"
         "\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_DUP_KEY},
        {"{\"data\":{},\"union_id\":1,\"union_id\":1,\"sign\":"
         "\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_E_DUP_KEY},
        /* a surrogate pair is fine */
        {"{\"data\":{\"a\":\"\\ud83d\\ude00\"},\"union_id\":1,\"sign\":"
         "\"A72EA179B90F93A03B5C26C2D013E606\"}",
         PLK_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct plk_envelope env;
        for (unsigned lazy = 0; lazy <= PLK_ENV_LAZY; lazy += PLK_ENV_LAZY) {
            enum plk_status st = parse(&env, cases[i].body, lazy);
            if (st != cases[i].st)
                fail_msg("case %zu (%s): %s, want %s (%s)", i, lazy ? "lazy" : "eager",
                         plk_strerror(st), plk_strerror(cases[i].st), env.detail);
            if (st == PLK_OK) {
                struct plk_value v;
                char buf[32];
                assert_true(plk_envelope_member(&env, "a", &v, buf));
                assert_string_equal(v.text, "\xf0\x9f\x98\x80");
            }
            plk_envelope_cleanup(&env);
        }
    }
}

static void test_validate_envelope_matches_tree(void **state)
{
    const struct plk_service *svc = plk_service_by_id("park_check");
    static const char *datas[] = {
        "{\"park_id\":\"1\",\"car_number\":\"京A12345\",\"license_color\":0}",
        "{\"park_id\":\"1\",\"license_color\":0}",
        "{\"park_id\":\"1\",\"car_number\":[1],\"license_color\":0}",
        "{\"park_id\":\"1\",\"car_number\":\"京A12345京A12345京A12345京A12345\"}",
        "{\"park_id\":\"1\",\"car_number\":\"京A1\",\"license_color\":1.5}",
        "{\"park_id\":\"1\",\"car_number\":\"京A1\",\"license_color\":\"2\"}",
        "{\"park_id\":\"1\",\"car_number\":\"京A1\",\"license_color\":1e30}",
    };
    for (size_t i = 0; i < sizeof datas / sizeof datas[0]; i++) {
        char body[512];
        struct plk_envelope env;
        const struct plk_field *b1 = NULL, *b2 = NULL;
        snprintf(body, sizeof body,
                 "{\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":"
                 "{\"union_id\":1,\"service_name\":\"park_check\",%s}",
                 datas[i] + 1);
        assert_int_equal(parse(&env, body, PLK_ENV_LAZY), PLK_OK);
        enum plk_status lazy_st = plk_service_validate_envelope(svc, &env, &b1);
        enum plk_status tree_st = plk_service_validate(svc, plk_envelope_data(&env), &b2);
        assert_int_equal(lazy_st, tree_st);
        assert_ptr_equal(b1, b2);
        assert_int_equal(lazy_st == PLK_OK, i == 0 || i == 5);
        plk_envelope_cleanup(&env);
    }
}

/* Issue 11: U+0000 in any text the envelope reads is refused, naming where, in the flat view
 * (park_check's path), beyond it, in nested containers, at the top, in a double-encoded body,
 * eager and lazy alike. "\\u0000" (an escaped backslash before u0000) is no NUL. */
static void test_nul_refused_everywhere(void **state)
{
    static const struct {
        const char *body;
        const char *where; /* in env.detail; NULL: accepted */
    } cases[] = {
        {"{\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{"
         "\"car_number\":\"\\u0000京BL001\"}}",
         "data.car_number"},
        {"{\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{"
         "\"order_id\":\"U6\\u0000X\"}}",
         "data.order_id"},
        {"{\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{"
         "\"car_number\":\"\\u0000\"}}",
         "data.car_number"},
        {"{\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{"
         "\"remark\":{\"pay_channel\":\"1\\u0000\"}}}",
         "data.remark"},
        {"{\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{"
         "\"items\":[{\"k\\u0000\":1}]}}",
         "data.items"},
        {"{\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"token\":\"t\\u0000\","
         "\"data\":{}}",
         "token"},
        {"{\"union_id\":\"1\\u0000\",\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{}}",
         "union_id"},
        {"\"{\\\"union_id\\\":1,\\\"sign\\\":\\\"A72EA179B90F93A03B5C26C2D013E606\\\","
         "\\\"data\\\":{\\\"car_number\\\":\\\"\\\\u0000A\\\"}}\"",
         "data.car_number"},
        {"{\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{"
         "\"car_number\":\"a\\\\u0000\"}}",
         NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (unsigned lazy = 0; lazy <= PLK_ENV_LAZY; lazy += PLK_ENV_LAZY) {
            struct plk_envelope env;
            enum plk_status st = parse(&env, cases[i].body, lazy);
            enum plk_status want = cases[i].where ? PLK_E_FIELD_NUL : PLK_OK;
            if (st != want)
                fail_msg("case %zu (%s): %s (%s), want %s", i, lazy ? "lazy" : "eager",
                         plk_strerror(st), env.detail, plk_strerror(want));
            if (cases[i].where && strstr(env.detail, cases[i].where) == NULL)
                fail_msg("case %zu: detail '%s' does not name %s", i, env.detail, cases[i].where);
            plk_envelope_cleanup(&env);
        }
    assert_non_null(strstr(plk_errmsg(PLK_E_FIELD_NUL), "NUL"));
}

/* Issue 11: 48 members fill the flat view; a NUL in the 49th (read past the view) is refused
 * too. */
static void test_nul_beyond_the_view(void **state)
{
    char body[4096];
    size_t n = (size_t)snprintf(body, sizeof body,
                                "{\"union_id\":1,\"sign\":"
                                "\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{");
    for (int i = 0; i < PLK_ENV_MEMBERS; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "\"m%d\":%d,", i, i);
    snprintf(body + n, sizeof body - n, "\"last\":\"x\\u0000\"}}");
    for (unsigned lazy = 0; lazy <= PLK_ENV_LAZY; lazy += PLK_ENV_LAZY) {
        struct plk_envelope env;
        assert_int_equal(parse(&env, body, lazy), PLK_E_FIELD_NUL);
        assert_non_null(strstr(env.detail, "data.last"));
        plk_envelope_cleanup(&env);
    }
}

/* Issue 11: union_id only at the top level is data's union_id for every reader of the view
 * (and so for the validator); when data has one it is data's own; null in data counts as
 * absent. */
static void test_top_union_id_is_datas(void **state)
{
    static const char *const bodies[] = {
        "{\"union_id\":200002,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{"
        "\"park_id\":\"20003\",\"service_name\":\"park_check\",\"car_number\":\"A1\"}}",
        "{\"union_id\":\"0200002\",\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{"
        "\"park_id\":\"20003\",\"union_id\":null,\"service_name\":\"park_check\","
        "\"car_number\":\"A1\"}}",
        "{\"union_id\":200002,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{"
        "\"park_id\":\"20003\",\"service_name\":\"park_check\",\"car_number\":\"A1\","
        "\"nested\":{\"a\":[1]}}}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        for (unsigned lazy = 0; lazy <= PLK_ENV_LAZY; lazy += PLK_ENV_LAZY) {
            struct plk_envelope env;
            struct plk_value v;
            const struct plk_field *bad = NULL;
            char buf[32];
            assert_int_equal(parse(&env, bodies[i], lazy), PLK_OK);
            assert_true(plk_envelope_member(&env, "union_id", &v, buf));
            assert_int_equal(v.kind, PLK_K_INT);
            assert_int_equal(v.i, 200002);
            assert_int_equal(v.len, 6);
            assert_memory_equal(v.text, "200002", 6);
            enum plk_status st =
                plk_service_validate_envelope(plk_service_by_id("park_check"), &env, &bad);
            if (st != PLK_OK)
                fail_msg("body %zu: %s (field %s)", i, plk_strerror(st), bad ? bad->name : "-");
            plk_envelope_cleanup(&env);
        }
    /* data's own union_id, when it has one, is what the view gives */
    struct plk_envelope env;
    struct plk_value v;
    char buf[32];
    assert_int_equal(parse(&env,
                           "{\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{"
                           "\"union_id\":\"007\"}}",
                           PLK_ENV_LAZY),
                     PLK_OK);
    assert_true(plk_envelope_member(&env, "union_id", &v, buf));
    assert_int_equal(v.kind, PLK_K_STR);
    assert_string_equal(v.text, "007");
    plk_envelope_cleanup(&env);
    /* neither place: still absent */
    assert_int_equal(parse(&env, "{\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":{}}",
                           PLK_ENV_LAZY | PLK_ENV_UNION_ID_OPTIONAL),
                     PLK_OK);
    assert_false(plk_envelope_member(&env, "union_id", &v, buf));
    plk_envelope_cleanup(&env);
    /* both, disagreeing: refused as before */
    assert_int_equal(parse(&env,
                           "{\"union_id\":1,\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\","
                           "\"data\":{\"union_id\":2}}",
                           PLK_ENV_LAZY),
                     PLK_E_UNION_ID_CONFLICT);
    plk_envelope_cleanup(&env);
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
        cmocka_unit_test(test_lazy_builds_no_tree),
        cmocka_unit_test(test_lazy_nested_and_wide_data),
        cmocka_unit_test(test_lazy_numbers),
        cmocka_unit_test(test_lazy_escapes_and_spaces),
        cmocka_unit_test(test_strict_corners),
        cmocka_unit_test(test_validate_envelope_matches_tree),
        cmocka_unit_test(test_nul_refused_everywhere),
        cmocka_unit_test(test_nul_beyond_the_view),
        cmocka_unit_test(test_top_union_id_is_datas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
