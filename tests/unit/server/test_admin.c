/* test_admin.c - the admin API through admin_handle(), on a real temporary store.
 *
 * Requests are built as the HTTP front would hand them over; replies are parsed back with
 * jansson. Covers the token (generated, kept, replaced), auth failures, CRUD of every
 * resource, validation errors naming the field, conflicts, pagination, routing errors, and
 * that every committed change is visible to admission_decide at once. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <openssl/evp.h>

#include "admin.h"
#include "admin_token.h"
#include "registry.h"
#include "store/store.h"
#include "writer.h"

struct fx {
    char dir[64];
    char path[128];
    struct store *st;
    struct store_session *s; /* the test's own, to look at what the admin wrote */
    char token[300];
    struct snapshot_reader rd;
};

static struct fx *F;

static int setup(void **state)
{
    char err[256];

    F = calloc(1, sizeof(*F));
    snprintf(F->dir, sizeof(F->dir), "/tmp/plk-admin-XXXXXX");
    assert_non_null(mkdtemp(F->dir));
    snprintf(F->path, sizeof(F->path), "%s/t.db", F->dir);
    F->st = store_open(F->path, err, sizeof(err));
    assert_non_null(F->st);
    assert_non_null(F->s = store_session_open(F->st, err, sizeof err));
    assert_int_equal(registry_init(F->st), 0);
    assert_int_equal(admin_init(F->st, NULL, F->token, sizeof(F->token)), 0);
    /* admin writes go through the writer, as in parklinkd */
    assert_int_equal(writer_start(F->st, err, sizeof err), 0);
    *state = F;
    return 0;
}

static int teardown(void **state)
{
    char p[160];

    registry_reader_release(&F->rd);
    writer_stop();
    admin_cleanup();
    registry_cleanup();
    store_session_close(F->s);
    store_close(F->st);
    unlink(F->path);
    snprintf(p, sizeof(p), "%s-wal", F->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", F->path);
    unlink(p);
    rmdir(F->dir);
    free(F);
    F = NULL;
    return 0;
}

/* One request; returns the status, the parsed body in *out (if out). */
static int call_tok(const char *method, const char *path, const char *query, const char *body,
                    const char *token, json_t **out)
{
    char auth[400];
    struct admin_request rq = {
        .method = method,
        .path = path,
        .path_len = strlen(path),
        .query = query,
        .query_len = query ? strlen(query) : 0,
        .body = body,
        .body_len = body ? strlen(body) : 0,
    };
    struct admin_reply rp = {0};
    json_error_t jerr;
    json_t *j;

    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Bearer %s", token);
        rq.authorization = auth;
        rq.authorization_len = strlen(auth);
    }
    admin_handle(&rq, &rp);
    assert_non_null(rp.body);
    j = json_loads(rp.body, 0, &jerr);
    if (j == NULL)
        fail_msg("reply is not JSON: %s", rp.body);
    free(rp.body);
    if (out != NULL)
        *out = j;
    else
        json_decref(j);
    return rp.status;
}

static int call(const char *method, const char *path, const char *query, const char *body,
                json_t **out)
{
    return call_tok(method, path, query, body, F->token, out);
}

/* Call and expect status; for 4xx also that the error text contains `needle`. */
static void expect(int status, const char *needle, const char *method, const char *path,
                   const char *query, const char *body)
{
    json_t *j = NULL;
    int got = call(method, path, query, body, &j);
    const char *err = json_string_value(json_object_get(j, "error"));

    if (got != status)
        fail_msg("%s %s: status %d, want %d (%s)", method, path, got, status,
                 err ? err : "no error text");
    if (needle != NULL && (err == NULL || strstr(err, needle) == NULL))
        fail_msg("%s %s: error '%s' does not mention '%s'", method, path, err ? err : "(none)",
                 needle);
    json_decref(j);
}

static const char *decide(const char *park, const char *plate, int color)
{
    static char buf[32];
    const struct snapshot *s = registry_current(&F->rd);
    const struct park *p = snapshot_park(s, park);
    struct admission a;

    assert_non_null(p);
    admission_decide(s, p, plate, color, (int64_t)time(NULL), &a);
    snprintf(buf, sizeof(buf), "%s/%s/%s", a.status, a.reason, a.share_status);
    return buf;
}

static void add_vendor_and_park(void)
{
    expect(201, NULL, "POST", "/vendors", NULL,
           "{\"union_id\":200002,\"ukey\":\"EA2D90FEEF1E9F8E\",\"name\":\"v\"}");
    expect(201, NULL, "POST", "/parks", NULL,
           "{\"park_id\":\"20003\",\"union_id\":\"200002\",\"policy\":\"members_only\"}");
}

static void test_token(void **state)
{
    char again[100] = "x";
    json_t *j;

    assert_int_equal(strlen(F->token), 64);
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, NULL, &j), 401);
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "missing"));
    json_decref(j);
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, "nope", &j), 401);
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "wrong"));
    json_decref(j);
    assert_int_equal(call("GET", "/vendors", NULL, NULL, NULL), 200);

    /* a restart keeps the stored hash; the token is not known any more */
    assert_int_equal(admin_init(F->st, NULL, again, sizeof(again)), 0);
    assert_string_equal(again, "");
    assert_int_equal(call("GET", "/vendors", NULL, NULL, NULL), 200);

    /* a given token replaces it */
    assert_int_equal(admin_init(F->st, "test-admin-token-0123456789", again, sizeof(again)), 0);
    assert_string_equal(again, "test-admin-token-0123456789");
    assert_int_equal(call("GET", "/vendors", NULL, NULL, NULL), 401);
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, "test-admin-token-0123456789", NULL),
                     200);
    assert_int_equal(admin_init(F->st, NULL, again, sizeof(again)), 0);
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, "test-admin-token-0123456789", NULL),
                     200);
    assert_int_equal(admin_init(F->st, "has space", NULL, 0), -1);
    snprintf(F->token, sizeof(F->token), "test-admin-token-0123456789");
    assert_int_equal(admin_init(F->st, F->token, NULL, 0), 0);
}

static void setting(const char *key, char *out, size_t len)
{
    assert_int_equal(store_setting_get(F->s, key, out, len), STORE_OK);
}

/* The record on disk: a chosen token as salted PBKDF2 (never its plain SHA-256), kept as it is
 * when the same token is given again; a generated one as SHA-256; requests never run the KDF
 * once the token is known (issue 11 hole 7). */
static void test_token_at_rest(void **state)
{
    const char *tok = "test-admin-token-0123456789";
    char rec[1100], again[1100], plain[65];
    unsigned char h[32];
    unsigned int n = 0;
    unsigned long runs;

    (void)state;
    setting(ADMIN_TOKEN_SETTING, rec, sizeof rec);
    assert_int_equal(strncmp(rec, "sha256$", 7), 0); /* setup generated it */
    assert_int_equal(strlen(rec), 7 + 64);

    assert_int_equal(admin_init(F->st, tok, NULL, 0), 0);
    setting(ADMIN_TOKEN_SETTING, rec, sizeof rec);
    assert_int_equal(strncmp(rec, "pbkdf2-sha256$600000$", 21), 0);
    assert_int_equal(strlen(rec), 21 + 32 + 1 + 64);
    EVP_Digest(tok, strlen(tok), h, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(plain + 2 * i, "%02X", h[i]);
    assert_null(strcasestr(rec, plain));

    assert_int_equal(admin_init(F->st, tok, NULL, 0), 0); /* same token: same salt, no write */
    setting(ADMIN_TOKEN_SETTING, again, sizeof again);
    assert_string_equal(again, rec);
    assert_int_equal(admin_init(F->st, "another-token", NULL, 0), 0); /* a new salt */
    setting(ADMIN_TOKEN_SETTING, again, sizeof again);
    assert_string_not_equal(again, rec);
    assert_int_equal(admin_init(F->st, tok, NULL, 0), 0);

    runs = admin_token_kdf_runs();
    for (int i = 0; i < 20; i++) {
        assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, tok, NULL), 200);
        assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, "wrong-token", NULL), 401);
    }
    assert_int_equal(admin_token_kdf_runs(), runs);

    /* not given at start-up: the first right token runs the KDF once, then no more */
    assert_int_equal(admin_init(F->st, NULL, NULL, 0), 0);
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, "wrong-token", NULL), 401);
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, tok, NULL), 200);
    runs = admin_token_kdf_runs();
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, tok, NULL), 200);
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, "wrong-token", NULL), 401);
    assert_int_equal(admin_token_kdf_runs(), runs);
    snprintf(F->token, sizeof F->token, "%s", tok);
}

/* A database of an older parklinkd: its bare SHA-256 row keeps working, and is replaced by a
 * PBKDF2 record (the old row blanked) at the first right token. */
static void test_token_legacy(void **state)
{
    const char *tok = "legacy-token-42";
    char rec[1100], hexh[65];
    unsigned char h[32];
    unsigned int n = 0;

    (void)state;
    EVP_Digest(tok, strlen(tok), h, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(hexh + 2 * i, "%02x", h[i]);
    assert_int_equal(store_setting_put(F->s, ADMIN_TOKEN_SETTING, ""), STORE_OK);
    assert_int_equal(store_setting_put(F->s, ADMIN_TOKEN_LEGACY_SETTING, hexh), STORE_OK);
    assert_int_equal(admin_init(F->st, NULL, NULL, 0), 0);
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, "legacy-token-4", NULL), 401);
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, tok, NULL), 200);
    setting(ADMIN_TOKEN_LEGACY_SETTING, rec, sizeof rec);
    assert_string_equal(rec, "");
    setting(ADMIN_TOKEN_SETTING, rec, sizeof rec);
    assert_int_equal(strncmp(rec, "pbkdf2-sha256$", 14), 0);
    assert_int_equal(admin_init(F->st, NULL, NULL, 0), 0); /* a restart: still the same token */
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, tok, NULL), 200);
    assert_int_equal(call_tok("GET", "/vendors", NULL, NULL, F->token, NULL), 401);
    snprintf(F->token, sizeof F->token, "%s", tok);
}

static void test_vendors(void **state)
{
    json_t *j;

    expect(201, NULL, "POST", "/vendors", NULL,
           "{\"union_id\":\"200002\",\"ukey\":\"K1\",\"callback_url\":\"https://v.example/cb\"}");
    expect(409, "already exists", "POST", "/vendors", NULL, "{\"union_id\":200002,\"ukey\":\"K\"}");
    expect(400, "invalid JSON", "POST", "/vendors", NULL, "{\"union_id\":");
    expect(400, "JSON object", "POST", "/vendors", NULL, "[1]");
    expect(400, "JSON object", "POST", "/vendors", NULL, NULL);
    expect(400, "'ukey' is required", "POST", "/vendors", NULL, "{\"union_id\":1}");
    expect(400, "'union_id' is required", "POST", "/vendors", NULL, "{\"ukey\":\"k\"}");
    expect(400, "'union_id'", "POST", "/vendors", NULL, "{\"union_id\":true,\"ukey\":\"k\"}");
    expect(400, "'union_id'", "POST", "/vendors", NULL,
           "{\"union_id\":\"123456789012345678901\",\"ukey\":\"k\"}");
    expect(400, "'ukey'", "POST", "/vendors", NULL, "{\"union_id\":1,\"ukey\":\"a b\"}");
    expect(400, "'ukey'", "POST", "/vendors", NULL, "{\"union_id\":1,\"ukey\":\"\"}");
    expect(400, "'callback_url'", "POST", "/vendors", NULL,
           "{\"union_id\":1,\"ukey\":\"k\",\"callback_url\":\"ftp://x/y\"}");
    expect(400, "unknown field 'ukye'", "POST", "/vendors", NULL,
           "{\"union_id\":1,\"ukey\":\"k\",\"ukye\":\"k\"}");

    assert_int_equal(call("GET", "/vendors/200002", NULL, NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "ukey")), "K1");
    assert_string_equal(json_string_value(json_object_get(j, "callback_url")),
                        "https://v.example/cb");
    json_decref(j);
    assert_int_equal(call("PATCH", "/vendors/200002", NULL, "{\"name\":\"泊链测试\"}", &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "泊链测试");
    assert_string_equal(json_string_value(json_object_get(j, "ukey")), "K1");
    json_decref(j);
    expect(400, "does not match", "PATCH", "/vendors/200002", NULL, "{\"union_id\":5}");
    expect(404, NULL, "PATCH", "/vendors/5", NULL, "{\"name\":\"x\"}");
    expect(200, NULL, "PUT", "/vendors/200002", NULL, "{\"ukey\":\"K2\"}");
    expect(400, "'ukey' is required", "PUT", "/vendors/200002", NULL, "{\"name\":\"x\"}");
    expect(201, NULL, "PUT", "/vendors/7", NULL, "{\"ukey\":\"K7\"}");
    /* the snapshot knows the new key at once */
    assert_string_equal(snapshot_vendor(registry_current(&F->rd), "200002")->ukey, "K2");
    assert_non_null(snapshot_vendor(registry_current(&F->rd), "7"));

    expect(201, NULL, "POST", "/parks", NULL, "{\"park_id\":\"p\",\"union_id\":7}");
    expect(409, "owns parks", "DELETE", "/vendors/7", NULL, NULL);
    expect(200, NULL, "DELETE", "/parks/p", NULL, NULL);
    expect(200, NULL, "DELETE", "/vendors/7", NULL, NULL);
    expect(404, NULL, "GET", "/vendors/7", NULL, NULL);
    expect(404, NULL, "DELETE", "/vendors/7", NULL, NULL);
    expect(404, NULL, "GET", "/vendors/abc", NULL, NULL);
    assert_null(snapshot_vendor(registry_current(&F->rd), "7"));
    expect(405, "DELETE", "DELETE", "/vendors", NULL, NULL);
}

static void test_parks(void **state)
{
    json_t *j;

    expect(400, "unknown owning vendor", "POST", "/parks", NULL,
           "{\"park_id\":\"20003\",\"union_id\":99}");
    add_vendor_and_park();
    expect(409, "already exists", "POST", "/parks", NULL,
           "{\"park_id\":\"20003\",\"union_id\":200002}");
    expect(400, "'policy'", "POST", "/parks", NULL,
           "{\"park_id\":\"x\",\"union_id\":200002,\"policy\":\"vip\"}");
    expect(400, "'empty_plot'", "POST", "/parks", NULL,
           "{\"park_id\":\"x\",\"union_id\":200002,\"total_plot\":5,\"empty_plot\":6}");
    expect(400, "'total_plot'", "POST", "/parks", NULL,
           "{\"park_id\":\"x\",\"union_id\":200002,\"total_plot\":-1}");
    expect(400, "'park_id'", "POST", "/parks", NULL, "{\"park_id\":\"a/b\",\"union_id\":200002}");
    expect(400, "'reason_msg.3'", "POST", "/parks", NULL,
           "{\"park_id\":\"x\",\"union_id\":200002,\"reason_msg\":{\"3\":\"x\"}}");
    expect(400, "'suspended'", "POST", "/parks", NULL,
           "{\"park_id\":\"x\",\"union_id\":200002,\"suspended\":\"yes\"}");

    assert_string_equal(decide("20003", "NOBODY", 0), "0/1/0");
    assert_int_equal(call("PATCH", "/parks/20003", NULL,
                          "{\"suspended\":true,\"reason_msg\":{\"99\":\"维护中\"}}", &j),
                     200);
    assert_true(json_is_true(json_object_get(j, "suspended")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "reason_msg"), "99")),
                        "维护中");
    assert_true(json_is_null(json_object_get(json_object_get(j, "reason_msg"), "1")));
    json_decref(j);
    assert_string_equal(decide("20003", "NOBODY", 0), "0/99/0");
    assert_int_equal(
        call("PUT", "/parks/20003", NULL, "{\"union_id\":200002,\"total_plot\":9}", &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "policy")), "open");
    assert_int_equal(json_integer_value(json_object_get(j, "total_plot")), 9);
    json_decref(j);
    assert_string_equal(decide("20003", "NOBODY", 0), "1/0/0");
    expect(400, "'union_id' is required", "PUT", "/parks/20003", NULL, "{\"total_plot\":9}");
    expect(201, NULL, "PUT", "/parks/%E4%B8%9C%E9%97%A8", NULL, "{\"union_id\":200002}");
    assert_int_equal(call("GET", "/parks/东门", NULL, NULL, &j), 200);
    json_decref(j);
    assert_int_equal(call("GET", "/parks", "union_id=200002&limit=1", NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
    assert_non_null(json_object_get(j, "next_after"));
    json_decref(j);
    expect(200, NULL, "DELETE", "/parks/20003", NULL, NULL);
    assert_null(snapshot_park(registry_current(&F->rd), "20003"));
}

static void test_blacklist(void **state)
{
    char body[256];
    json_t *j;
    int64_t id;

    add_vendor_and_park();
    expect(400, "'color'", "POST", "/blacklist", NULL, "{\"plate\":\"京A1\",\"color\":8}");
    expect(400, "'color'", "POST", "/blacklist", NULL, "{\"plate\":\"京A1\",\"color\":\"1\"}");
    expect(400, "'plate' is required", "POST", "/blacklist", NULL, "{\"color\":1}");
    expect(400, "'plate'", "POST", "/blacklist", NULL,
           "{\"plate\":\"京A123456789012345\"}"); /* 17 characters */
    expect(400, "'plate'", "POST", "/blacklist", NULL, "{\"plate\":\"   \"}");
    expect(400, "time window", "POST", "/blacklist", NULL,
           "{\"plate\":\"京A1\",\"valid_from\":100,\"valid_until\":100}");
    expect(400, "'valid_from'", "POST", "/blacklist", NULL,
           "{\"plate\":\"京A1\",\"valid_from\":-1}");

    assert_string_equal(decide("20003", "京A12345", 1), "0/1/0");
    assert_int_equal(call("POST", "/blacklist", NULL,
                          "{\"plate\":\" 京a12345\",\"color\":-1,\"reason\":\"逃费\"}", &j),
                     201);
    assert_string_equal(json_string_value(json_object_get(j, "plate")), "京A12345");
    id = json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    assert_string_equal(decide("20003", "京A12345", 1), "0/2/0"); /* visible at once */
    expect(409, "already on the blacklist", "POST", "/blacklist", NULL,
           "{\"plate\":\"京A12345\",\"color\":-1}");

    /* bulk: validated whole, inserted whole */
    expect(400, "entries[1].color", "POST", "/blacklist", NULL,
           "{\"entries\":[{\"plate\":\"B1\"},{\"plate\":\"B2\",\"color\":9}]}");
    expect(400, "'entries'", "POST", "/blacklist", NULL, "{\"entries\":[]}");
    expect(400, "unknown field 'x'", "POST", "/blacklist", NULL,
           "{\"entries\":[{\"plate\":\"B1\"}],\"x\":1}");
    expect(409, "entries[2]", "POST", "/blacklist", NULL,
           "{\"entries\":[{\"plate\":\"B1\"},{\"plate\":\"B2\"},{\"plate\":\"b1\"}]}");
    assert_string_equal(decide("20003", "B1", 0), "0/1/0");
    assert_int_equal(call("POST", "/blacklist", NULL,
                          "{\"entries\":[{\"plate\":\"B1\"},{\"plate\":\"B2\"},"
                          "{\"plate\":\"B3\",\"color\":2}]}",
                          &j),
                     201);
    assert_int_equal(json_integer_value(json_object_get(j, "inserted")), 3);
    assert_int_equal(json_array_size(json_object_get(j, "ids")), 3);
    json_decref(j);
    assert_string_equal(decide("20003", "B1", 0), "0/2/0");
    assert_string_equal(decide("20003", "B3", 0), "0/1/0");

    /* lists */
    assert_int_equal(call("GET", "/blacklist", "limit=2", NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 4);
    assert_int_equal(json_integer_value(json_object_get(j, "limit")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
    assert_int_equal(
        json_integer_value(json_object_get(j, "next_after")),
        json_integer_value(json_object_get(json_array_get(json_object_get(j, "items"), 1), "id")));
    json_decref(j);
    assert_int_equal(call("GET", "/blacklist", "limit=2&offset=3", NULL, &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
    assert_null(json_object_get(j, "next_after"));
    json_decref(j);
    assert_int_equal(call("GET", "/blacklist", NULL, NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "limit")), 50);
    json_decref(j);
    assert_int_equal(call("GET", "/blacklist", "plate=%E4%BA%ACa12345", NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "items"), 0), "reason")),
                        "逃费");
    json_decref(j);
    expect(400, "'limit'", "GET", "/blacklist", "limit=0", NULL);
    expect(400, "'limit'", "GET", "/blacklist", "limit=1001", NULL);
    expect(400, "'offset'", "GET", "/blacklist", "offset=-1", NULL);
    expect(400, "unknown query parameter 'plat'", "GET", "/blacklist", "plat=x", NULL);

    snprintf(body, sizeof(body), "/blacklist/%lld", (long long)id);
    assert_int_equal(call("GET", body, NULL, NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "color")), -1);
    json_decref(j);
    expect(405, NULL, "PATCH", body, NULL, "{}");
    expect(200, NULL, "DELETE", body, NULL, NULL);
    assert_string_equal(decide("20003", "京A12345", 1), "0/1/0");
    expect(404, NULL, "DELETE", body, NULL, NULL);
    expect(404, NULL, "GET", "/blacklist/abc", NULL, NULL);
}

static void test_members_and_reservations(void **state)
{
    char body[256], path[64];
    int64_t t = (int64_t)time(NULL), id;
    json_t *j;

    add_vendor_and_park();
    expect(400, "unknown park", "POST", "/members", NULL,
           "{\"plate\":\"M1\",\"park_id\":\"nope\"}");
    expect(400, "'color'", "POST", "/members", NULL, "{\"plate\":\"M1\",\"color\":-1}");
    assert_int_equal(call("POST", "/members", NULL, "{\"plate\":\"M1\"}", &j), 201);
    assert_true(json_is_null(json_object_get(j, "park_id")));
    id = json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    expect(409, "city-wide", "POST", "/members", NULL, "{\"plate\":\"M1\",\"park_id\":null}");
    expect(201, NULL, "POST", "/members", NULL, "{\"plate\":\"M2\",\"park_id\":\"20003\"}");
    assert_string_equal(decide("20003", "M1", 0), "1/0/0");
    assert_string_equal(decide("20003", "M2", 0), "1/0/0");
    snprintf(path, sizeof(path), "/members/%lld", (long long)id);
    snprintf(body, sizeof(body), "{\"valid_until\":%lld}", (long long)(t - 5));
    expect(200, NULL, "PATCH", path, NULL, body);
    assert_string_equal(decide("20003", "M1", 0), "0/1/0");
    assert_int_equal(call("GET", "/members", "park_id=", NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    assert_int_equal(call("GET", "/members", "park_id=20003", NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    expect(200, NULL, "DELETE", path, NULL, NULL);
    expect(404, NULL, "GET", path, NULL, NULL);

    snprintf(body, sizeof(body),
             "{\"plate\":\"R1\",\"park_id\":\"20003\",\"start\":%lld,\"end\":%lld}",
             (long long)(t - 60), (long long)(t - 60));
    expect(400, "time window", "POST", "/reservations", NULL, body);
    expect(400, "'start' is required", "POST", "/reservations", NULL,
           "{\"plate\":\"R1\",\"park_id\":\"20003\",\"end\":5}");
    expect(400, "'park_id' is required", "POST", "/reservations", NULL,
           "{\"plate\":\"R1\",\"start\":1,\"end\":5}");
    snprintf(body, sizeof(body),
             "{\"plate\":\"R1\",\"park_id\":\"20003\",\"start\":%lld,\"end\":%lld}",
             (long long)(t - 60), (long long)(t + 3600));
    assert_int_equal(call("POST", "/reservations", NULL, body, &j), 201);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "active");
    id = json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    assert_string_equal(decide("20003", "R1", 0), "1/0/1");
    snprintf(path, sizeof(path), "/reservations/%lld", (long long)id);
    expect(400, "'state'", "PATCH", path, NULL, "{\"state\":\"gone\"}");
    expect(400, "time window", "PATCH", path, NULL, "{\"end\":1}");
    expect(200, NULL, "PATCH", path, NULL, "{\"state\":\"cancelled\"}");
    assert_string_equal(decide("20003", "R1", 0), "0/1/0");
    assert_int_equal(call("GET", "/reservations", "state=cancelled&plate=r1", NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
    json_decref(j);
    expect(400, "'state'", "GET", "/reservations", "state=x", NULL);
    expect(200, NULL, "DELETE", path, NULL, NULL);
    expect(404, NULL, "PATCH", path, NULL, "{\"state\":\"active\"}");
}

static void test_routing(void **state)
{
    expect(404, "unknown admin path", "GET", "/foo", NULL, NULL);
    expect(404, "unknown admin path", "GET", "/", NULL, NULL);
    expect(404, "unknown admin path", "GET", "/vendors/1/x", NULL, NULL);
    expect(200, NULL, "GET", "/vendors/", NULL, NULL);
    expect(405, NULL, "PUT", "/blacklist", NULL, "{}");
    expect(400, "duplicate", "POST", "/vendors", NULL, "{\"ukey\":\"a\",\"ukey\":\"b\"}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_at_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vendors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blacklist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_members_and_reservations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
