/* test_client.c - lib/client.c: URL selection per service row, request bodies (they parse
 * back with plk_envelope_parse and their sign verifies; union_id and service_name land where
 * the envelope wants them), validation errors naming the field, reply decoding, and a
 * transport failure carrying curl's text. Synthetic rows keep the tests independent of the
 * table's contents; park_check (10.4) is also used from the real table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <jansson.h>
#include "parklink/client.h"
#include "parklink/envelope.h"
#include "parklink/sign.h"

#define KEY "EA2D90FEEF1E9F8E"

static const struct plk_field check_fields[] = {
    {"union_id", PLK_T_INT, 1, 20, NULL, "vendor id", 0, 0},
    {"park_id", PLK_T_STR, 1, 64, NULL, "car-park id", 0, 0},
    {"service_name", PLK_T_STR, 1, 64, "park_check", "interface name", 0, 0},
    {"car_number", PLK_T_STR, 1, 16, NULL, "plate", 0, 0},
    {"license_color", PLK_T_INT, 0, 1, "0|1|2|3|4|5|6|7", "plate colour", 0, 0},
};
static const struct plk_field order_fields[] = {
    {"park_id", PLK_T_STR, 1, 64, NULL, "car-park id", 0, 0},
    {"order_id", PLK_T_STR, 1, 64, NULL, "order id", 0, 0},
};
static const struct plk_field legacy_fields[] = {
    {"park_id", PLK_T_STR, 1, 64, NULL, "car-park id", 0, 0},
    {"union_id", PLK_T_INT, 1, 20, NULL, "vendor id", 0, 0},
};
static const struct plk_field people_fields[] = {
    {"name", PLK_T_STR, 1, 32, NULL, "person", 0, 0},
};

/* A synthetic row; the title is the id. */
#define ROW(id_, sec, dir_, path_, sname, flags_, env, f, n)                                       \
    {                                                                                              \
        .id = id_, .section = sec, .dir = dir_, .path = path_, .service_name = sname,              \
        .flags = flags_, .envelope = env, .title = id_, .title_zh = "", .fields = f, .nfields = n  \
    }
#define SIGNED PLK_SVC_SIGNED
#define TOP PLK_SVC_UNION_TOP

/* envelope A, uploadData */
static const struct plk_service row_check =
    ROW("t_check", "10.4", PLK_DIR_V2P, "neworder/uploadData", "park_check",
        SIGNED | PLK_SVC_UPLOAD_DATA, "A", check_fields, 5);
/* envelope A, relative path, no union_id field in the schema */
static const struct plk_service row_a =
    ROW("t_a", "3.1", PLK_DIR_V2P, "neworder/addorder", "", SIGNED, "A", order_fields, 2);
/* envelope B: union_id at the top level */
static const struct plk_service row_b =
    ROW("t_b", "3.8", PLK_DIR_V2P, "neworder/queryescape", "", SIGNED | TOP, "B", order_fields, 2);
static const struct plk_service row_abs =
    ROW("t_abs", "SDK", PLK_DIR_V2P, "/bpd/upload.do", "", SIGNED, "S", NULL, 0);
static const struct plk_service row_full =
    ROW("t_full", "8.7", PLK_DIR_V2P, "http://120.79.137.171:8085/yitong/facekey/personRecord", "",
        SIGNED | TOP, "C", people_fields, 1);
static const struct plk_service row_cb = ROW("t_cb", "5.9", PLK_DIR_P2V, "", "repair",
                                             SIGNED | PLK_SVC_NO_UNION_ID, "A", order_fields, 2);
static const struct plk_service row_legacy = ROW("t_legacy", "L", PLK_DIR_V2P, "park/addpark", "",
                                                 PLK_SVC_LEGACY_SIGN, "L", legacy_fields, 2);
static const struct plk_service row_plain =
    ROW("t_plain", "6.4", PLK_DIR_P2V, "", "", PLK_SVC_UNSIGNED | PLK_SVC_NO_UNION_ID, "P",
        order_fields, 2);
static const struct plk_service row_get =
    ROW("t_get", "7", PLK_DIR_GET, "getlicence", "", PLK_SVC_UNSIGNED, "Q", NULL, 0);
static const struct plk_service row_d =
    ROW("t_d", "9.1", PLK_DIR_P2V, "", "people_data", SIGNED | TOP, "D", people_fields, 1);
static const struct plk_service row_nopath =
    ROW("t_nopath", "8.3", PLK_DIR_V2P, "", "", SIGNED | TOP, "C", NULL, 0);

static json_t *j(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    if (v == NULL)
        fail_msg("bad test JSON %s: %s", text, err.text);
    return v;
}

static void expect_url(const char *base, const struct plk_service *svc, const char *want)
{
    char *url = plk_client_url(base, svc);
    assert_non_null(url);
    assert_string_equal(url, want);
    free(url);
}

static void test_url_selection(void **state)
{
    expect_url("http://h:8080", &row_check, "http://h:8080/unionapi/neworder/uploadData");
    expect_url("http://h:8080", &row_a, "http://h:8080/unionapi/neworder/addorder");
    expect_url("http://h:8080/", &row_a, "http://h:8080/unionapi/neworder/addorder");
    expect_url("https://beta.bolink.club/unionapi/", &row_a,
               "https://beta.bolink.club/unionapi/neworder/addorder");
    expect_url("https://beta.bolink.club/unionapi", &row_check,
               "https://beta.bolink.club/unionapi/neworder/uploadData");
    expect_url("http://h/prefix", &row_b, "http://h/prefix/unionapi/neworder/queryescape");
    expect_url("http://h:8080", &row_abs, "http://h:8080/bpd/upload.do");
    expect_url("http://h:8080/unionapi", &row_abs, "http://h:8080/bpd/upload.do");
    expect_url("http://h:8080", &row_full, "http://h:8080/yitong/facekey/personRecord");
    /* callbacks: the base is the receiver's URL, taken as is */
    expect_url("http://vendor.example/cb/", &row_cb, "http://vendor.example/cb/");
    expect_url("", &row_a, "/unionapi/neworder/addorder");
    assert_null(plk_client_url(NULL, &row_a));
    assert_null(plk_client_url("http://h", NULL));
}

/* Parse a built body like the server does; the sign must verify over the raw data span. */
static void parse_verified(struct plk_envelope *env, const char *body, unsigned flags)
{
    enum plk_status st = plk_envelope_parse(env, body, strlen(body), 0, flags);
    if (st != PLK_OK)
        fail_msg("built body does not parse (%s: %s): %s", plk_strerror(st), env->detail, body);
    assert_int_equal(plk_envelope_verify(env, KEY), PLK_OK);
    assert_int_equal(plk_envelope_verify(env, "WRONGKEY00000000"), PLK_E_SIGN_MISMATCH);
}

static void test_envelope_a_upload_data(void **state)
{
    struct plk_client_request rq;
    struct plk_envelope env = {0};
    json_t *data = j("{\"park_id\":\"20003\",\"car_number\":\"京HP00G6\",\"license_color\":0}");

    assert_int_equal(plk_client_prepare(&rq, "http://h:1/", &row_check, "200002", KEY, data, NULL),
                     PLK_OK);
    assert_string_equal(rq.url, "http://h:1/unionapi/neworder/uploadData");
    assert_int_equal(rq.len, strlen(rq.body));
    parse_verified(&env, rq.body, 0);
    assert_string_equal(env.union_id, "200002");
    assert_string_equal(env.service_name, "park_check");
    /* union_id inside data (first, as a number), not at the top level */
    assert_null(json_object_get(env.root, "union_id"));
    assert_true(json_is_integer(json_object_get(env.data, "union_id")));
    assert_int_equal(strncmp(env.data_text, "{\"union_id\":200002,", 19), 0);
    /* the caller's data is not modified */
    assert_null(json_object_get(data, "union_id"));
    assert_null(json_object_get(data, "service_name"));
    plk_envelope_cleanup(&env);
    plk_client_request_cleanup(&rq);
    plk_client_request_cleanup(&rq); /* idempotent */
    json_decref(data);
}

/* data already complete: signed byte-exactly as serialised; reproduces vector V9. */
static void test_vector_v9(void **state)
{
    struct plk_client_request rq;
    const struct plk_service *real = plk_service_by_id("park_check");
    json_t *data = j("{\"union_id\":200002,\"park_id\":\"20003\",\"service_name\":\"park_check\","
                     "\"car_number\":\"京HP00G6\",\"license_color\":0}");

    assert_non_null(real);
    assert_int_equal(plk_client_prepare(&rq, "http://h", real, NULL, KEY, data, NULL), PLK_OK);
    assert_string_equal(rq.body,
                        "{\"sign\":\"A72EA179B90F93A03B5C26C2D013E606\",\"data\":"
                        "{\"union_id\":200002,\"park_id\":\"20003\",\"service_name\":"
                        "\"park_check\",\"car_number\":\"京HP00G6\",\"license_color\":0}}");
    plk_client_request_cleanup(&rq);
    /* the same union_id given again (as text) is no conflict */
    assert_int_equal(plk_client_prepare(&rq, "http://h", real, "200002", KEY, data, NULL), PLK_OK);
    assert_non_null(strstr(rq.body, "A72EA179B90F93A03B5C26C2D013E606"));
    plk_client_request_cleanup(&rq);
    json_decref(data);
}

static void test_envelope_a_and_b(void **state)
{
    struct plk_client_request rq;
    struct plk_envelope env = {0};
    json_t *data = j("{\"park_id\":\"p1\",\"order_id\":\"o1\"}");

    /* A without a union_id field in the schema: still inside data */
    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_a, "42", KEY, data, NULL), PLK_OK);
    parse_verified(&env, rq.body, 0);
    assert_null(json_object_get(env.root, "union_id"));
    assert_int_equal(json_integer_value(json_object_get(env.data, "union_id")), 42);
    assert_null(env.service_name);
    plk_envelope_cleanup(&env);
    plk_client_request_cleanup(&rq);

    /* B: top level only */
    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_b, "42", KEY, data, NULL), PLK_OK);
    parse_verified(&env, rq.body, 0);
    assert_string_equal(env.union_id, "42");
    assert_true(json_is_integer(json_object_get(env.root, "union_id")));
    assert_null(json_object_get(env.data, "union_id"));
    assert_int_equal(env.data_len, strlen("{\"park_id\":\"p1\",\"order_id\":\"o1\"}"));
    plk_envelope_cleanup(&env);
    plk_client_request_cleanup(&rq);

    /* B with the union_id only in data: taken from there for the top level */
    json_object_set_new(data, "union_id", json_string("42"));
    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_b, NULL, KEY, data, NULL), PLK_OK);
    parse_verified(&env, rq.body, 0);
    assert_string_equal(env.union_id, "42");
    plk_envelope_cleanup(&env);
    plk_client_request_cleanup(&rq);
    json_decref(data);
}

static void test_union_id_errors(void **state)
{
    struct plk_client_request rq;
    json_t *data = j("{\"union_id\":7,\"park_id\":\"p\",\"car_number\":\"A1\"}");

    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_check, "8", KEY, data, NULL),
                     PLK_E_UNION_ID_CONFLICT);
    assert_non_null(strstr(rq.detail, "8"));
    assert_null(rq.body);
    plk_client_request_cleanup(&rq);
    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_check, "12a", KEY, data, NULL),
                     PLK_E_BAD_UNION_ID);
    plk_client_request_cleanup(&rq);
    json_object_del(data, "union_id");
    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_check, NULL, KEY, data, NULL),
                     PLK_E_NO_UNION_ID);
    plk_client_request_cleanup(&rq);
    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_b, NULL, KEY, data, NULL),
                     PLK_E_NO_UNION_ID);
    plk_client_request_cleanup(&rq);
    /* a callback without union_id needs none; a given one is ignored */
    json_t *cb = j("{\"park_id\":\"p\",\"order_id\":\"o\"}");
    assert_int_equal(plk_client_prepare(&rq, "http://vendor/cb", &row_cb, "5", KEY, cb, NULL),
                     PLK_OK);
    assert_null(strstr(rq.body, "union_id"));
    assert_non_null(strstr(rq.body, "\"service_name\":\"repair\""));
    assert_string_equal(rq.url, "http://vendor/cb");
    plk_client_request_cleanup(&rq);
    /* an SDK message (envelope S) keeps no union_id: the given one is ignored, not compared;
     * vector V4 (SDK login) comes out byte-exact */
    json_t *sdk = j("{\"union_id\":\"200208\",\"park_id\":\"21835\","
                    "\"local_id\":\"0071cc97102b_1001_qh321_quanhao-atest1\"}");
    assert_int_equal(
        plk_client_prepare(&rq, "http://h", &row_abs, "5", "8403A41ED5EF20BC", sdk, NULL), PLK_OK);
    assert_string_equal(rq.body, "{\"sign\":\"CB649425CB5548A375099103AB04CC1E\",\"data\":"
                                 "{\"union_id\":\"200208\",\"park_id\":\"21835\","
                                 "\"local_id\":\"0071cc97102b_1001_qh321_quanhao-atest1\"}}");
    plk_client_request_cleanup(&rq);
    json_decref(sdk);
    json_decref(cb);
    json_decref(data);
}

/* A validation failure names the field, both in bad_field and in the detail text. */
static void expect_invalid(const char *data_text, enum plk_status want, const char *field)
{
    struct plk_client_request rq;
    json_t *data = j(data_text);
    enum plk_status st = plk_client_prepare(&rq, "http://h", &row_check, "1", KEY, data, NULL);
    if (st != want)
        fail_msg("%s: got %s, want %s", data_text, plk_strerror(st), plk_strerror(want));
    assert_non_null(rq.bad_field);
    assert_string_equal(rq.bad_field->name, field);
    assert_non_null(strstr(rq.detail, field));
    assert_null(rq.body);
    assert_null(rq.url);
    plk_client_request_cleanup(&rq);
    json_decref(data);
}

static void test_validation_names_field(void **state)
{
    expect_invalid("{\"park_id\":\"p\"}", PLK_E_FIELD_MISSING, "car_number");
    expect_invalid("{\"car_number\":\"A1\"}", PLK_E_FIELD_MISSING, "park_id");
    expect_invalid("{\"park_id\":\"p\",\"car_number\":\"京A123456789012345\"}",
                   PLK_E_FIELD_TOO_LONG, "car_number");
    expect_invalid("{\"park_id\":\"p\",\"car_number\":\"A1\",\"license_color\":9}",
                   PLK_E_FIELD_ENUM, "license_color");
    expect_invalid("{\"park_id\":\"p\",\"car_number\":\"A1\",\"license_color\":\"blue\"}",
                   PLK_E_FIELD_TYPE, "license_color");
    expect_invalid("{\"park_id\":{},\"car_number\":\"A1\"}", PLK_E_FIELD_TYPE, "park_id");
}

static void test_service_name(void **state)
{
    struct plk_client_request rq;
    json_t *data =
        j("{\"park_id\":\"p\",\"car_number\":\"A1\",\"service_name\":\"get_screen_str\"}");

    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_check, "1", KEY, data, NULL),
                     PLK_E_UNKNOWN_SERVICE);
    assert_non_null(strstr(rq.detail, "park_check"));
    plk_client_request_cleanup(&rq);
    json_decref(data);
}

static void test_legacy_body(void **state)
{
    struct plk_client_request rq;
    char want[PLK_SIGN_LEN + 1];
    json_t *data = j("{\"park_id\":\"1001\",\"rand\":\"0.5\",\"empty\":\"\"}"), *body, *flat;

    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_legacy, "10001", KEY, data, NULL),
                     PLK_OK);
    assert_string_equal(rq.url, "http://h/unionapi/park/addpark");
    body = j(rq.body);
    assert_null(json_object_get(body, "data"));
    assert_int_equal(json_integer_value(json_object_get(body, "union_id")), 10001);
    flat = json_deep_copy(body);
    json_object_del(flat, "sign");
    assert_int_equal(plk_sign_legacy(flat, KEY, PLK_SIGN_LEGACY, want), PLK_OK);
    assert_string_equal(json_string_value(json_object_get(body, "sign")), want);
    json_decref(flat);
    json_decref(body);
    plk_client_request_cleanup(&rq);
    json_decref(data);
}

static void test_plain_get_nopath_nokey(void **state)
{
    struct plk_client_request rq;
    json_t *data = j("{\"park_id\":\"p\",\"order_id\":\"o\"}");

    /* unsigned plain body: data alone, no key needed */
    assert_int_equal(plk_client_prepare(&rq, "http://v/notify", &row_plain, "3", NULL, data, NULL),
                     PLK_OK);
    assert_string_equal(rq.body, "{\"park_id\":\"p\",\"order_id\":\"o\"}");
    plk_client_request_cleanup(&rq);
    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_get, "3", KEY, data, NULL),
                     PLK_E_INVALID_ARG);
    assert_non_null(strstr(rq.detail, "GET"));
    plk_client_request_cleanup(&rq);
    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_nopath, "3", KEY, data, NULL),
                     PLK_E_INVALID_ARG);
    plk_client_request_cleanup(&rq);
    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_a, "3", NULL, data, NULL),
                     PLK_E_INVALID_ARG);
    assert_non_null(strstr(rq.detail, "key"));
    plk_client_request_cleanup(&rq);
    json_t *arr = j("[1]");
    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_a, "3", KEY, arr, NULL),
                     PLK_E_DATA_NOT_OBJECT);
    plk_client_request_cleanup(&rq);
    json_decref(arr);
    json_decref(data);
}

/* Envelope C: unsigned top-level members spliced in front, timestamp added. */
static void test_envelope_c_top(void **state)
{
    struct plk_client_request rq;
    struct plk_envelope env = {0};
    json_t *data = j("{\"name\":\"张三\"}"), *top = j("{\"platform_name\":\"shanghai\"}");

    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_full, "200568", KEY, data, top),
                     PLK_OK);
    parse_verified(&env, rq.body, 0);
    assert_string_equal(json_string_value(json_object_get(env.root, "platform_name")), "shanghai");
    assert_true(json_is_integer(json_object_get(env.root, "timestamp")));
    assert_string_equal(env.union_id, "200568");
    plk_envelope_cleanup(&env);
    plk_client_request_cleanup(&rq);

    json_t *bad = j("{\"sign\":\"x\"}");
    assert_int_equal(plk_client_prepare(&rq, "http://h", &row_full, "1", KEY, data, bad),
                     PLK_E_INVALID_ARG);
    plk_client_request_cleanup(&rq);
    json_decref(bad);
    json_decref(top);
    json_decref(data);
}

/* Envelope D: data is an array, each element validated; service_name at the top level. */
static void test_envelope_d_array(void **state)
{
    struct plk_client_request rq;
    struct plk_envelope env = {0};
    json_t *data = j("[{\"name\":\"a\"},{\"name\":\"b\"}]");

    assert_int_equal(plk_client_prepare(&rq, "http://v/cb", &row_d, "9", KEY, data, NULL), PLK_OK);
    parse_verified(&env, rq.body, PLK_ENV_DATA_ARRAY_OK);
    assert_string_equal(env.service_name, "people_data");
    assert_string_equal(env.union_id, "9");
    plk_envelope_cleanup(&env);
    plk_client_request_cleanup(&rq);
    json_array_append_new(data, j("{\"nom\":\"c\"}"));
    assert_int_equal(plk_client_prepare(&rq, "http://v/cb", &row_d, "9", KEY, data, NULL),
                     PLK_E_FIELD_MISSING);
    assert_string_equal(rq.bad_field->name, "name");
    assert_non_null(strstr(rq.detail, "data[2]"));
    plk_client_request_cleanup(&rq);
    json_decref(data);
}

static void test_reply_json(void **state)
{
    struct plk_client_reply r = {0};
    json_t *json;
    int st;

    r.body = "{\"state\":1,\"errmsg\":\"上传成功\"}";
    r.len = strlen(r.body);
    assert_int_equal(plk_client_reply_json(&r, &json, &st), PLK_OK);
    assert_int_equal(st, 1);
    assert_string_equal(json_string_value(json_object_get(json, "errmsg")), "上传成功");
    json_decref(json);
    r.body = "{\"state\":\"0\"}";
    r.len = strlen(r.body);
    assert_int_equal(plk_client_reply_json(&r, NULL, &st), PLK_OK);
    assert_int_equal(st, 0);
    r.body = "{\"code\":200}";
    r.len = strlen(r.body);
    assert_int_equal(plk_client_reply_json(&r, &json, &st), PLK_E_REPLY);
    assert_int_equal(st, -1);
    assert_non_null(json); /* an object without state is still handed back */
    json_decref(json);
    r.body = "<html>bad gateway</html>";
    r.len = strlen(r.body);
    assert_int_equal(plk_client_reply_json(&r, &json, &st), PLK_E_REPLY);
    assert_null(json);
}

/* A port nobody listens on: connection refused, with curl's text. */
static void test_transport_error(void **state)
{
    struct plk_client_reply reply = {0};
    struct plk_client_options opt = {.timeout_ms = 3000};
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t slen = sizeof sa;
    char url[64];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    json_t *data = j("{\"park_id\":\"p\",\"car_number\":\"A1\"}");

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
    close(fd); /* bound, never listened: the port is closed */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", ntohs(sa.sin_port));

    assert_int_equal(plk_client_post(url, "{}", 2, &opt, &reply), PLK_E_HTTP);
    assert_true(strlen(reply.error) > 0);
    assert_int_equal(reply.status, 0);
    assert_null(reply.body);
    plk_client_reply_cleanup(&reply);

    assert_int_equal(plk_client_call(url, &row_check, "1", KEY, data, NULL, &opt, &reply),
                     PLK_E_HTTP);
    assert_true(strlen(reply.error) > 0);
    plk_client_reply_cleanup(&reply);

    /* validation fails before anything is sent */
    json_object_del(data, "car_number");
    assert_int_equal(plk_client_call(url, &row_check, "1", KEY, data, NULL, &opt, &reply),
                     PLK_E_FIELD_MISSING);
    assert_string_equal(reply.bad_field->name, "car_number");
    assert_non_null(strstr(reply.error, "car_number"));
    plk_client_reply_cleanup(&reply);

    assert_int_equal(plk_client_request("GET", "ftp://127.0.0.1/x", NULL, 0, &opt, &reply),
                     PLK_E_HTTP);
    plk_client_reply_cleanup(&reply);
    opt.bearer = "a\r\nX-Injected: 1";
    assert_int_equal(plk_client_request("GET", url, NULL, 0, &opt, &reply), PLK_E_INVALID_ARG);
    plk_client_reply_cleanup(&reply);
    json_decref(data);
}

/* 2.4 and 7 are browser links: the 2.4 link carries sign = md5(KEY + timestamp) (vector V8),
 * values are URL-encoded, and a bad field is named before anything is built. */
static void test_browser_links(void **state)
{
    struct plk_client_request rq;
    json_t *data = json_pack("{s:s,s:I}", "park_id", "20003", "timestamp",
                             (json_int_t)1584082770000LL);

    assert_int_equal(plk_client_link(&rq, "https://beta.bolink.club/unionapi/",
                                     plk_service_by_id("gettoken"), "200002", "1232FDA8DCD1E3D7",
                                     data),
                     PLK_OK);
    assert_string_equal(rq.url, "https://beta.bolink.club/web/parkingos/gettoken?park_id=20003&"
                                "timestamp=1584082770000&union_id=200002&is_private_cloud=1&"
                                "sign=0F1A106C865E84863EC862DD93FE1156");
    assert_string_equal(rq.body, "");
    plk_client_request_cleanup(&rq);
    assert_int_equal(plk_client_link(&rq, "http://h", plk_service_by_id("gettoken"), "200002",
                                     NULL, data),
                     PLK_E_INVALID_ARG);
    plk_client_request_cleanup(&rq);
    json_decref(data);

    data = json_pack("{s:s}", "redirectUrl", "http://a.b/c?d=1&e=中");
    assert_int_equal(plk_client_link(&rq, "http://h", plk_service_by_id("getlicence"), NULL,
                                     NULL, data),
                     PLK_OK);
    assert_string_equal(rq.url,
                        "http://h/unionapi/getlicence?redirectUrl=http%3A%2F%2Fa.b%2Fc%3Fd%3D1%26e"
                        "%3D%E4%B8%AD");
    plk_client_request_cleanup(&rq);
    json_decref(data);

    data = json_pack("{s:s}", "other", "x");
    assert_int_equal(plk_client_link(&rq, "http://h", plk_service_by_id("getlicence"), NULL,
                                     NULL, data),
                     PLK_E_FIELD_MISSING);
    assert_string_equal(rq.bad_field->name, "redirectUrl");
    plk_client_request_cleanup(&rq);
    /* a POST row is not a link */
    assert_int_equal(plk_client_link(&rq, "http://h", plk_service_by_id("park_check"), NULL,
                                     NULL, data),
                     PLK_E_INVALID_ARG);
    plk_client_request_cleanup(&rq);
    json_decref(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_selection),
        cmocka_unit_test(test_envelope_a_upload_data),
        cmocka_unit_test(test_vector_v9),
        cmocka_unit_test(test_envelope_a_and_b),
        cmocka_unit_test(test_union_id_errors),
        cmocka_unit_test(test_validation_names_field),
        cmocka_unit_test(test_service_name),
        cmocka_unit_test(test_legacy_body),
        cmocka_unit_test(test_plain_get_nopath_nokey),
        cmocka_unit_test(test_envelope_c_top),
        cmocka_unit_test(test_envelope_d_array),
        cmocka_unit_test(test_reply_json),
        cmocka_unit_test(test_transport_error),
        cmocka_unit_test(test_browser_links),
    };
    int rc;

    if (plk_client_global_init() != PLK_OK)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    plk_client_global_cleanup();
    return rc;
}
