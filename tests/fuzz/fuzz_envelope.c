/* fuzz_envelope.c - libFuzzer target for the envelope parser, the signature and the schema
 * validator. Invariants checked beyond "no crash": a parsed data span re-parses to the same
 * value; a body we build from that value parses and verifies; a sign made over the span
 * verifies; the lazy parse (flat view, no tree: the server's hot path) accepts and refuses
 * exactly what the eager one does, reads the same envelope, and its view and validation
 * agree with the tree member by member (data's union_id being the envelope's where data has
 * none); no accepted text holds U+0000. Built with -DPLK_FUZZ=ON (clang); otherwise
 * replay_main.c replays the corpus. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parklink/envelope.h"
#include "parklink/services.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

static void check_at(int ok, int line)
{
    if (!ok) {
        fprintf(stderr, "fuzz_envelope.c:%d: invariant broken\n", line);
        abort();
    }
}

#define check(ok) check_at((ok), __LINE__)

/* One member as the flat view has it and as the tree has it: the same value. */
static void check_same_value(const struct plk_value *a, const struct plk_value *b)
{
    check(a->kind == b->kind);
    switch (a->kind) {
    case PLK_K_STR:
    case PLK_K_INT:
        check(a->len == b->len && memcmp(a->text, b->text, a->len) == 0);
        check(a->i == b->i);
        break;
    case PLK_K_REAL:
        check(a->d == b->d || (isnan(a->d) && isnan(b->d)));
        break;
    case PLK_K_BOOL:
        check(a->i == b->i);
        break;
    default:
        break;
    }
}

/* Does any string or member name in v hold U+0000? */
static int has_nul(const json_t *v, int depth)
{
    const char *name;
    json_t *m;
    size_t i;

    if (depth > 2100)
        return 0;
    if (json_is_string(v))
        return memchr(json_string_value(v), '\0', json_string_length(v)) != NULL;
    if (json_is_object(v)) {
        json_object_foreach ((json_t *)v, name, m)
            if (has_nul(m, depth + 1))
                return 1;
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, m)
            if (has_nul(m, depth + 1))
                return 1;
    }
    return 0;
}

/* The lazy parse of the same body agrees with the eager one (status st, envelope eager). */
static void check_lazy(const uint8_t *buf, size_t len, unsigned flags, enum plk_status st,
                       struct plk_envelope *eager)
{
    static struct plk_envelope lazy; /* large: not on the fuzzer's stack */
    enum plk_status lst =
        plk_envelope_parse(&lazy, (const char *)buf, len, 1 << 20, flags | PLK_ENV_LAZY);

    check(lst == st);
    if (st != PLK_OK)
        return;
    check(strcmp(lazy.union_id, eager->union_id) == 0);
    check(strcmp(lazy.sign, eager->sign) == 0);
    check((lazy.service_name == NULL) == (eager->service_name == NULL));
    check(lazy.service_name == NULL || strcmp(lazy.service_name, eager->service_name) == 0);
    check(lazy.data_len == eager->data_len &&
          memcmp(lazy.data_text, eager->data_text, lazy.data_len) == 0);
    if (json_is_object(eager->data)) {
        const char *name;
        json_t *v;
        check(!lazy.view || lazy.nmembers == json_object_size(eager->data));
        json_object_foreach (eager->data, name, v) {
            struct plk_value a, b;
            char abuf[32], bbuf[32];
            check(plk_envelope_member(&lazy, name, &a, abuf) == 1);
            if (strcmp(name, "union_id") == 0 && json_is_null(v) && lazy.union_id[0])
                continue; /* null in data: the envelope's stands in (checked below) */
            plk_value_of_json(v, &b, bbuf);
            check_same_value(&a, &b);
        }
        size_t n;
        const struct plk_service *svcs = plk_services(&n);
        /* the tree holds only what was sent; the view adds the top-level union_id where
         * data has none (spec 1.4), so the tree is compared with that member added */
        json_t *meant = json_deep_copy(eager->data);
        const json_t *uid = json_object_get(eager->data, "union_id");
        if (meant && lazy.union_id[0] && (uid == NULL || json_is_null(uid)))
            json_object_set_new(meant, "union_id", json_integer(strtoll(lazy.union_id, NULL, 10)));
        for (size_t i = 0; meant && i < n; i++) {
            const struct plk_field *b1 = NULL, *b2 = NULL, *b3 = NULL;
            enum plk_status s1 = plk_service_validate_envelope(&svcs[i], &lazy, &b1);
            check(s1 == plk_service_validate(&svcs[i], meant, &b2));
            check(b1 == b2);
            check(s1 == plk_service_validate_envelope(&svcs[i], eager, &b3) && b1 == b3);
        }
        json_decref(meant);
    }
    check(json_equal(plk_envelope_data(&lazy), eager->data));
    plk_envelope_cleanup(&lazy);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
    struct plk_envelope env;
    const char *key = "EA2D90FEEF1E9F8E";
    unsigned flags = len > 0 ? (buf[0] & 7) : 0;

    enum plk_status st = plk_envelope_parse(&env, (const char *)buf, len, 1 << 20, flags);
    check_lazy(buf, len, flags, st, &env);
    if (st != PLK_OK) {
        check(env.root == NULL && env.inner == NULL);
        return 0;
    }
    /* no text of an accepted envelope holds U+0000, at any depth */
    check(!has_nul(env.root ? env.root : env.data, 0));

    /* the span is the data value: decoding it alone gives an equal value */
    json_t *again = json_loadb(env.data_text, env.data_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    check(again != NULL && json_equal(again, env.data));
    json_decref(again);

    /* signing the span and verifying it agree; the envelope's own sign rarely matches */
    char sign[PLK_SIGN_LEN + 1];
    plk_sign(env.data_text, env.data_len, key, sign);
    check(plk_sign_verify(env.data_text, env.data_len, key, sign, PLK_SIGN_LEN) == PLK_OK);
    (void)plk_envelope_verify(&env, key);

    /* validate against every service whose name matches, and always against park_check */
    size_t n;
    const struct plk_service *svcs = plk_services(&n);
    const struct plk_field *bad = NULL;
    (void)plk_service_validate(plk_service_by_id("park_check"), env.data, &bad);
    if (env.service_name)
        for (size_t i = 0; i < n; i++)
            if (strcmp(svcs[i].service_name, env.service_name) == 0)
                (void)plk_service_validate(&svcs[i], env.data, &bad);

    /* what we would send for the same value parses back and verifies */
    char *body = plk_envelope_build(env.data, env.union_id[0] ? env.union_id : NULL, key);
    if (body) {
        struct plk_envelope back;
        check(plk_envelope_parse(&back, body, strlen(body), 0,
                                 PLK_ENV_UNION_ID_OPTIONAL | PLK_ENV_DATA_ARRAY_OK) == PLK_OK);
        check(plk_envelope_verify(&back, key) == PLK_OK);
        check(json_equal(back.data, env.data));
        plk_envelope_cleanup(&back);
        free(body);
    }
    if (json_is_object(env.data)) {
        char *legacy = plk_sign_legacy_text(env.data);
        free(legacy);
    }
    plk_envelope_cleanup(&env);
    return 0;
}
