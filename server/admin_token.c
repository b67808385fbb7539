/* admin_token.c - the admin token's record on disk and its check per request (admin_token.h).
 *
 * Records (settings row ADMIN_TOKEN_SETTING):  pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>
 * for a chosen token, sha256$<hash hex> for a generated one. The legacy row (a bare SHA-256 hex
 * of either kind) is still read; it is replaced, and blanked, once the token is known in
 * clear (given at start-up, or the first right token of a request). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "admin_token.h"
#include "log.h"
#include "store/store.h"
#include "writer.h"

#define KDF_ITERATIONS 600000 /* OWASP 2023 for PBKDF2-HMAC-SHA256; ~0.2 s on one core */
#define KDF_ITER_MIN 1000
#define KDF_ITER_MAX 100000000
#define SALT_LEN 16
#define HASH_LEN 32
#define RANDOM_BYTES 32

enum kind { K_NONE, K_SHA256, K_PBKDF2, K_LEGACY };

static struct {
    pthread_mutex_t mu;      /* everything below after init */
    struct store_session *s; /* admin_token_init's, during it only */
    enum kind kind;
    unsigned iterations;
    unsigned char salt[SALT_LEN], hash[HASH_LEN];
    unsigned char mac_key[32], mac[32]; /* HMAC of the verified token, memory only */
    int have_mac;
    atomic_ulong kdf_runs;
} tk = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void hex(const unsigned char *buf, size_t len, char *out)
{
    size_t n = 0;

    OPENSSL_buf2hexstr_ex(out, len * 2 + 1, &n, buf, len, '\0');
}

/* Parse len bytes of hex at s into out; 0 ok. */
static int unhex(const char *s, size_t slen, unsigned char *out, size_t len)
{
    char tmp[2 * HASH_LEN + 1];
    long n = 0;
    unsigned char *b;

    if (slen != 2 * len || slen >= sizeof tmp)
        return -1;
    memcpy(tmp, s, slen);
    tmp[slen] = '\0';
    if ((b = OPENSSL_hexstr2buf(tmp, &n)) == NULL || n != (long)len) {
        OPENSSL_free(b);
        return -1;
    }
    memcpy(out, b, len);
    OPENSSL_free(b);
    return 0;
}

static int sha256(const char *t, size_t n, unsigned char out[HASH_LEN])
{
    unsigned int len = 0;

    return EVP_Digest(t, n, out, &len, EVP_sha256(), NULL) == 1 && len == HASH_LEN ? 0 : -1;
}

static int kdf(const char *t, size_t n, const unsigned char *salt, unsigned iterations,
               unsigned char out[HASH_LEN])
{
    atomic_fetch_add(&tk.kdf_runs, 1);
    return PKCS5_PBKDF2_HMAC(t, (int)n, salt, SALT_LEN, (int)iterations, EVP_sha256(), HASH_LEN,
                             out) == 1
               ? 0
               : -1;
}

static int mac(const char *t, size_t n, unsigned char out[32])
{
    size_t len = 0;

    return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, tk.mac_key, sizeof tk.mac_key,
                     (const unsigned char *)t, n, out, 32, &len) != NULL &&
                   len == 32
               ? 0
               : -1;
}

/* Parse a record into tk (kind, iterations, salt, hash); 0 ok. */
static int parse(const char *rec, enum kind legacy_or_sha)
{
    const char *p;
    char *end;
    unsigned long it;

    if (legacy_or_sha == K_LEGACY) {
        tk.kind = K_LEGACY;
        return unhex(rec, strlen(rec), tk.hash, HASH_LEN);
    }
    if (strncmp(rec, "sha256$", 7) == 0) {
        tk.kind = K_SHA256;
        return unhex(rec + 7, strlen(rec + 7), tk.hash, HASH_LEN);
    }
    if (strncmp(rec, "pbkdf2-sha256$", 14) != 0)
        return -1;
    it = strtoul(rec + 14, &end, 10);
    if (*end != '$' || it < KDF_ITER_MIN || it > KDF_ITER_MAX)
        return -1;
    p = end + 1;
    if ((end = strchr(p, '$')) == NULL || unhex(p, (size_t)(end - p), tk.salt, SALT_LEN) != 0 ||
        unhex(end + 1, strlen(end + 1), tk.hash, HASH_LEN) != 0)
        return -1;
    tk.kind = K_PBKDF2;
    tk.iterations = (unsigned)it;
    return 0;
}

struct records {
    const char *rec;
};

/* The new record and the blanked legacy row, in one transaction. */
static enum store_result write_records(struct store_session *s, void *arg)
{
    const struct records *w = arg;
    enum store_result r = store_setting_put(s, ADMIN_TOKEN_SETTING, w->rec);

    return r == STORE_OK ? store_setting_put(s, ADMIN_TOKEN_LEGACY_SETTING, "") : r;
}

/* Store a new PBKDF2 record of token t (a fresh salt) and blank the legacy row: on tk.s
 * during admin_token_init, else through the writer (the first right token, any thread). */
static int store_pbkdf2(const char *t, size_t n)
{
    struct records w;
    char rec[64 + 2 * SALT_LEN + 2 * HASH_LEN], s[2 * SALT_LEN + 1], h[2 * HASH_LEN + 1];

    if (RAND_bytes(tk.salt, SALT_LEN) != 1 || kdf(t, n, tk.salt, KDF_ITERATIONS, tk.hash) != 0)
        return -1;
    tk.kind = K_PBKDF2;
    tk.iterations = KDF_ITERATIONS;
    hex(tk.salt, SALT_LEN, s);
    hex(tk.hash, HASH_LEN, h);
    snprintf(rec, sizeof rec, "pbkdf2-sha256$%u$%s$%s", tk.iterations, s, h);
    w.rec = rec;
    if (tk.s == NULL)
        return writer_run_sync(NULL, write_records, &w) == STORE_OK ? 0 : -1;
    if (store_begin(tk.s, STORE_TX_WRITE) != STORE_OK)
        return -1;
    if (write_records(tk.s, &w) != STORE_OK) {
        store_rollback(tk.s);
        return -1;
    }
    return store_commit(tk.s) == STORE_OK ? 0 : -1;
}

/* Read ADMIN_TOKEN_SETTING, or else the legacy row, into tk. 1 found, 0 none, -1 error. */
static int load(void)
{
    char rec[STORE_SETTING_MAX + 1] = "";
    enum store_result r = store_setting_get(tk.s, ADMIN_TOKEN_SETTING, rec, sizeof rec);
    enum kind k = K_SHA256;

    if (r == STORE_NOT_FOUND || (r == STORE_OK && rec[0] == '\0')) {
        k = K_LEGACY;
        r = store_setting_get(tk.s, ADMIN_TOKEN_LEGACY_SETTING, rec, sizeof rec);
    }
    if (r == STORE_NOT_FOUND || (r == STORE_OK && rec[0] == '\0'))
        return 0;
    if (r != STORE_OK)
        return -1;
    if (parse(rec, k) != 0) {
        log_error("admin: the stored admin token record is corrupt; set a new token with "
                  "--admin-token");
        return -1;
    }
    if (k != K_LEGACY) { /* a row left by a start that stopped half-way through a migration */
        r = store_setting_get(tk.s, ADMIN_TOKEN_LEGACY_SETTING, rec, sizeof rec);
        if (r == STORE_OK && rec[0] != '\0' &&
            store_setting_put(tk.s, ADMIN_TOKEN_LEGACY_SETTING, "") != STORE_OK)
            return -1;
    }
    return 1;
}

static int token_ok(const char *t, size_t n)
{
    if (n == 0 || n > ADMIN_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < 0x21 || t[i] > 0x7e)
            return 0;
    }
    return 1;
}

static void copy_out(char *out, size_t len, const char *s)
{
    if (out != NULL && len > 0)
        snprintf(out, len, "%s", s);
}

int admin_token_init(struct store_session *s, const char *given, char *token_out,
                     size_t token_out_len)
{
    unsigned char raw[RANDOM_BYTES], h[HASH_LEN];
    char token[RANDOM_BYTES * 2 + 1], rec[16 + 2 * HASH_LEN];
    int rc = -1, found;

    pthread_mutex_lock(&tk.mu);
    tk.s = s;
    tk.kind = K_NONE;
    tk.have_mac = 0;
    copy_out(token_out, token_out_len, "");
    if (RAND_bytes(tk.mac_key, sizeof tk.mac_key) != 1) {
        log_error("admin: no randomness for the admin token");
        goto out;
    }
    if (given != NULL && !token_ok(given, strlen(given))) {
        log_error("admin: the admin token must be 1-%d printable ASCII characters without spaces",
                  ADMIN_TOKEN_MAX);
        goto out;
    }
    if ((found = load()) < 0)
        goto out;
    if (given != NULL) {
        size_t n = strlen(given);

        /* the same token as stored, with today's parameters: nothing to write */
        if (!(found && tk.kind == K_PBKDF2 && tk.iterations == KDF_ITERATIONS &&
              kdf(given, n, tk.salt, tk.iterations, h) == 0 &&
              CRYPTO_memcmp(h, tk.hash, HASH_LEN) == 0) &&
            store_pbkdf2(given, n) != 0)
            goto out;
        if (mac(given, n, tk.mac) != 0)
            goto out;
        tk.have_mac = 1;
        copy_out(token_out, token_out_len, given);
        rc = 0;
        goto out;
    }
    if (found) {
        rc = 0;
        goto out;
    }
    /* first start: a random token, which a fast hash keeps (256 bits cannot be guessed) */
    if (RAND_bytes(raw, sizeof raw) != 1) {
        log_error("admin: no randomness for the admin token");
        goto out;
    }
    hex(raw, sizeof raw, token);
    if (sha256(token, strlen(token), tk.hash) != 0)
        goto out;
    hex(tk.hash, HASH_LEN, rec + 7);
    memcpy(rec, "sha256$", 7);
    if (store_setting_put(s, ADMIN_TOKEN_SETTING, rec) != STORE_OK)
        goto out;
    tk.kind = K_SHA256;
    fprintf(stderr, "parklinkd: admin token (shown once): %s\n", token);
    copy_out(token_out, token_out_len, token);
    rc = 0;
out:
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(token, sizeof token);
    if (rc != 0)
        tk.kind = K_NONE;
    tk.s = NULL; /* from now on the token's writes go through the writer */
    pthread_mutex_unlock(&tk.mu);
    return rc;
}

int admin_token_check(const char *t, size_t n)
{
    unsigned char h[HASH_LEN];
    int ok = 0;

    if (n == 0 || n > ADMIN_TOKEN_MAX)
        return 0;
    pthread_mutex_lock(&tk.mu);
    if (tk.have_mac) { /* only one token is right: no KDF for any other */
        ok = mac(t, n, h) == 0 && CRYPTO_memcmp(h, tk.mac, 32) == 0;
        goto out;
    }
    switch (tk.kind) {
    case K_SHA256:
    case K_LEGACY:
        ok = sha256(t, n, h) == 0 && CRYPTO_memcmp(h, tk.hash, HASH_LEN) == 0;
        break;
    case K_PBKDF2:
        ok = kdf(t, n, tk.salt, tk.iterations, h) == 0 && CRYPTO_memcmp(h, tk.hash, HASH_LEN) == 0;
        break;
    case K_NONE:
        break;
    }
    if (ok && tk.kind == K_LEGACY && store_pbkdf2(t, n) != 0)
        log_warn("admin: could not replace the legacy admin token record");
    if (ok && tk.kind != K_SHA256 && mac(t, n, tk.mac) == 0)
        tk.have_mac = 1;
out:
    pthread_mutex_unlock(&tk.mu);
    OPENSSL_cleanse(h, sizeof h);
    return ok;
}

unsigned long admin_token_kdf_runs(void)
{
    return atomic_load(&tk.kdf_runs);
}
