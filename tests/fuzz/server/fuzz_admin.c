/* fuzz_admin.c - libFuzzer target for the admin API (admin_handle) on a real SQLite store.
 *
 * An input is "<method digit><path>[?query]\n<body>": the digit picks GET, POST, PUT, PATCH
 * or DELETE (an odd digit past 4 sends no token), the path follows /admin/v1. Invariants
 * beyond "no crash": every reply has an HTTP status the API documents and a body that is
 * one JSON value; never a 500 (what the fuzzer can send is the caller's fault, not the
 * server's). The store lives in a temporary folder (tmpfs when there is one) for the whole
 * run, so changes accumulate as they would on a server. FUZZ_ADMIN_TRACE=1 prints each
 * request's status (for writing seeds). Built with -DPLK_FUZZ=ON (clang); otherwise
 * replay_main.c replays the corpus. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "admin.h"
#include "registry.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

#define TOKEN "fuzz-admin-token"

static struct store *st;
static char dir[64];

static void check_at(int ok, int line, const struct admin_reply *out)
{
    if (!ok) {
        fprintf(stderr, "fuzz_admin.c:%d: invariant broken: status %d body %.300s\n", line,
                out->status, out->body ? out->body : "(null)");
        abort();
    }
}

#define check(ok) check_at((ok), __LINE__, &out)

static void cleanup(void)
{
    static const char *const files[] = {"admin.db", "admin.db-wal", "admin.db-shm"};
    char path[128];

    admin_cleanup();
    registry_cleanup();
    store_close(st); /* after every session on it */
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void setup(void)
{
    char path[128], err[256];

    snprintf(dir, sizeof dir, "%s/plk-fuzz-admin-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    snprintf(path, sizeof path, "%s/admin.db", dir);
    if ((st = store_open(path, err, sizeof err)) == NULL || registry_init(st) != 0 ||
        admin_init(st, TOKEN, NULL, 0) != 0) {
        fprintf(stderr, "fuzz_admin.c: setup failed: %s\n", err);
        abort();
    }
    atexit(cleanup);
}

static int documented(int status)
{
    static const int ok[] = {200, 201, 400, 401, 404, 405, 409, 413, 503, 504};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (status == ok[i])
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    static const char auth[] = "Bearer " TOKEN;
    struct admin_request rq = {0};
    struct admin_reply out = {0};
    const char *text = (const char *)buf, *nl, *q;
    char *path;
    json_t *j;

    if (st == NULL)
        setup();
    if (len < 2 || buf[0] < '0' || buf[0] > '9')
        return 0;
    rq.method = methods[(buf[0] - '0') % 5];
    if (buf[0] <= '4' || (buf[0] - '0') % 2 == 0) {
        rq.authorization = auth;
        rq.authorization_len = sizeof auth - 1;
    }
    text++;
    len--;
    nl = memchr(text, '\n', len);
    /* the front hands over a path without NUL bytes (h2o stops at them); so does this */
    path = strndup(text, nl ? (size_t)(nl - text) : len);
    if (path == NULL)
        return 0;
    rq.path = path;
    rq.path_len = strlen(path);
    if ((q = memchr(path, '?', rq.path_len)) != NULL) {
        rq.query = q + 1;
        rq.query_len = rq.path_len - (size_t)(q + 1 - path);
        rq.path_len = (size_t)(q - path);
    }
    if (nl != NULL) {
        rq.body = nl + 1;
        rq.body_len = len - (size_t)(nl + 1 - text);
    }

    admin_handle(&rq, &out);
    if (getenv("FUZZ_ADMIN_TRACE")) /* for writing seeds: what each input got */
        fprintf(stderr, "%s %s -> %d %.120s\n", rq.method, path, out.status,
                out.body ? out.body : "");
    check(out.body != NULL);
    check(documented(out.status));
    j = json_loads(out.body, JSON_DECODE_ANY, NULL);
    check(j != NULL);
    json_decref(j);
    free(out.body);
    free(path);
    return 0;
}
