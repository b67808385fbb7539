/* test_sign.c - every vector of tests/data/sign-vectors.json (copied from the reference's
 * spec/sign-vectors.json), the negative controls of spec 1.2.7, legacy link strings and the
 * constant-time verifier's format checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>
#include <jansson.h>
#include "parklink/sign.h"

static json_t *load_vectors(void)
{
    json_error_t err;
    json_t *root = json_load_file(PLK_TEST_DATA "/sign-vectors.json", 0, &err);
    if (root == NULL)
        fail_msg("cannot read sign-vectors.json: %s", err.text);
    return root;
}

static void test_current_vectors(void **state)
{
    json_t *root = load_vectors(), *v;
    size_t i;
    json_t *vectors = json_object_get(root, "vectors");
    assert_true(json_array_size(vectors) >= 6);
    json_array_foreach(vectors, i, v) {
        const char *text = json_string_value(json_object_get(v, "data_text"));
        const char *key = json_string_value(json_object_get(v, "key"));
        const char *want = json_string_value(json_object_get(v, "sign"));
        char got[PLK_SIGN_LEN + 1];
        plk_sign(text, strlen(text), key, got);
        assert_string_equal(got, want);
        assert_int_equal(plk_sign_verify(text, strlen(text), key, want, strlen(want)), PLK_OK);
    }
    json_decref(root);
}

static void test_legacy_vectors(void **state)
{
    json_t *root = load_vectors(), *v;
    size_t i;
    json_array_foreach(json_object_get(root, "legacy"), i, v) {
        const char *text = json_string_value(json_object_get(v, "signed_text"));
        const char *key = json_string_value(json_object_get(v, "key"));
        const char *want = json_string_value(json_object_get(v, "sign"));
        char got[PLK_SIGN_LEN + 1];
        /* the link string followed directly by key= is the current formula on that text */
        plk_sign(text, strlen(text), key, got);
        assert_string_equal(got, want);
    }
    json_decref(root);
}

/* The legacy vector rebuilt from a flat object: sorted names, empties dropped. */
static void test_legacy_from_object(void **state)
{
    json_t *flat = json_loads(
        "{\"union_id\":10001,\"park_id\":\"1001\",\"name\":\"北京上地三街9号院停车场\","
        "\"address\":\"北京上地三街9号\",\"phone\":\"13899884433\",\"lng\":\"123.994449\","
        "\"lat\":\"32.466666\",\"total_plot\":90,\"empty_plot\":56,"
        "\"rand\":\"0.20354312785198048\",\"remark\":\"\",\"price_desc\":null,"
        "\"server_id\":\"null\",\"sign\":\"ignored\"}",
        0, NULL);
    assert_non_null(flat);
    char *text = plk_sign_legacy_text(flat);
    assert_string_equal(text, "address=北京上地三街9号&empty_plot=56&lat=32.466666&"
                              "lng=123.994449&name=北京上地三街9号院停车场&park_id=1001&"
                              "phone=13899884433&rand=0.20354312785198048&total_plot=90&"
                              "union_id=10001");
    free(text);
    char got[PLK_SIGN_LEN + 1];
    assert_int_equal(plk_sign_legacy(flat, "NQ0eSXs720170114", PLK_SIGN_LEGACY, got), PLK_OK);
    assert_string_equal(got, "82A4EA10F60AEE4172AE4F3C774156EB");
    assert_int_equal(plk_sign_legacy(flat, "NQ0eSXs720170114", PLK_SIGN_LEGACY_AMP, got),
                     PLK_OK);
    assert_string_not_equal(got, "82A4EA10F60AEE4172AE4F3C774156EB");
    assert_int_equal(plk_sign_legacy(flat, "k", PLK_SIGN_CURRENT, got), PLK_E_INVALID_ARG);
    json_decref(flat);
}

static const char V1[] =
    "{\"park_id\":\"1001\",\"name\":\"北京上地三街9号院停车场\",\"address\":\"北京上地三街9号\","
    "\"phone\":\"139000334443\",\"lng\":\"123.994449\",\"city_id\":110000,\"lat\":\"332.466666\","
    "\"total_plot\":90,\"empty_plot\":56,\"union_id\":10001,\"price_desc\":\"2元每小时\","
    "\"rand\":\"0.210354312785198048\"}";
static const char V6[] = "{\"comid\":\"kytest2020032501\",\"union_id\":\"200279\","
                         "\"car_number\":\"晋QQ1234\",\"lock_status\":1}";

/* Spec 1.2.7 negative controls: each must be rejected. */
static void test_negative_controls(void **state)
{
    assert_int_equal(plk_sign_verify(V1, strlen(V1), "NQ0eSXs720170114",
                                     "83D9310C802B6BA083485CBA63CB5D6F", 32),
                     PLK_E_SIGN_MISMATCH);
    assert_int_equal(plk_sign_verify(V6, strlen(V6), "MAVXUU3C2545G9K1",
                                     "112154A8276BFBCD85BAD075EE822202", 32),
                     PLK_E_SIGN_MISMATCH);
    /* the escaped form of the plate is other bytes, so the genuine sign fails on it */
    const char esc[] = "{\"comid\":\"kytest2020032501\",\"union_id\":\"200279\","
                       "\"car_number\":\"\\u664bQQ1234\",\"lock_status\":1}";
    char got[PLK_SIGN_LEN + 1];
    plk_sign(esc, strlen(esc), "MAVXUU3C2545G9K1", got);
    assert_string_equal(got, "123DE15470698B1D189882A6A19CA171");
    assert_int_equal(plk_sign_verify(esc, strlen(esc), "MAVXUU3C2545G9K1",
                                     "4973765089F20FCFE45868796F81278A", 32),
                     PLK_E_SIGN_MISMATCH);
    const char spaced[] = "{\"comid\": \"kytest2020032501\", \"union_id\": \"200279\", "
                          "\"car_number\": \"晋QQ1234\", \"lock_status\": 1}";
    plk_sign(spaced, strlen(spaced), "MAVXUU3C2545G9K1", got);
    assert_string_equal(got, "09A48D71B1D1CB7B299F9886DDACBB8B");
}

static void test_verify_format(void **state)
{
    /* lower-case hex of the right digest is accepted */
    assert_int_equal(plk_sign_verify(V6, strlen(V6), "MAVXUU3C2545G9K1",
                                     "4973765089f20fcfe45868796f81278a", 32),
                     PLK_OK);
    assert_int_equal(plk_sign_verify(V6, strlen(V6), "MAVXUU3C2545G9K1", "4973", 4),
                     PLK_E_BAD_SIGN_FORMAT);
    assert_int_equal(plk_sign_verify(V6, strlen(V6), "MAVXUU3C2545G9K1",
                                     "4973765089F20FCFE45868796F81278G", 32),
                     PLK_E_BAD_SIGN_FORMAT);
    /* wrong key */
    assert_int_equal(plk_sign_verify(V6, strlen(V6), "MAVXUU3C2545G9K2",
                                     "4973765089F20FCFE45868796F81278A", 32),
                     PLK_E_SIGN_MISMATCH);
    /* every character that is not a hex digit is refused, NUL included */
    char bad[33] = "4973765089F20FCFE45868796F81278A";
    for (int c = 0; c < 256; c++) {
        int hex = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
        char norm[PLK_SIGN_LEN + 1];
        bad[7] = (char)c;
        assert_int_equal(plk_sign_normalize(bad, 32, norm),
                         hex ? PLK_OK : PLK_E_BAD_SIGN_FORMAT);
    }
    /* the normalized form compares as is: upper case matches, lower case does not */
    assert_int_equal(plk_sign_matches(V6, strlen(V6), "MAVXUU3C2545G9K1",
                                      "4973765089F20FCFE45868796F81278A"),
                     PLK_OK);
    assert_int_equal(plk_sign_matches(V6, strlen(V6), "MAVXUU3C2545G9K1",
                                      "4973765089f20fcfe45868796f81278a"),
                     PLK_E_SIGN_MISMATCH);
}

/* A sign wrong in a single digit is refused wherever that digit stands: the first and last,
 * and both sides of the middle (a comparison of only one half would pass one of them). Each
 * changed digit stays a valid hex digit, so the refusal is the comparison's. */
static void test_one_digit_off(void **state)
{
    static const size_t positions[] = {0, 1, 15, 16, 30, 31};
    const char *good = "4973765089F20FCFE45868796F81278A";

    for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++) {
        char off[PLK_SIGN_LEN + 1];

        memcpy(off, good, sizeof off);
        off[positions[i]] = off[positions[i]] == '0' ? '1' : '0';
        assert_int_equal(plk_sign_matches(V6, strlen(V6), "MAVXUU3C2545G9K1", off),
                         PLK_E_SIGN_MISMATCH);
        assert_int_equal(plk_sign_verify(V6, strlen(V6), "MAVXUU3C2545G9K1", off, 32),
                         PLK_E_SIGN_MISMATCH);
    }
    assert_int_equal(plk_sign_matches(V6, strlen(V6), "MAVXUU3C2545G9K1", good), PLK_OK);
}

/* 2.4's redirect sign: MD5(KEY + timestamp_ms), vector V8. */
static void test_redirect_sign(void **state)
{
    char got[PLK_SIGN_LEN + 1];
    plk_md5_hex2("1232FDA8DCD1E3D7", 16, "1584082770000", 13, got);
    assert_string_equal(got, "0F1A106C865E84863EC862DD93FE1156");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_current_vectors),   cmocka_unit_test(test_legacy_vectors),
        cmocka_unit_test(test_legacy_from_object), cmocka_unit_test(test_negative_controls),
        cmocka_unit_test(test_verify_format),     cmocka_unit_test(test_redirect_sign),
        cmocka_unit_test(test_one_digit_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
