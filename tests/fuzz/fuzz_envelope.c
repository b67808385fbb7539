/* fuzz_envelope.c - libFuzzer target for the envelope parser, the signature and the schema
 * validator. Invariants checked beyond "no crash": a parsed data span re-parses to the same
 * value; a body we build from that value parses and verifies; a sign made over the span
 * verifies. Built with -DPLK_FUZZ=ON (clang); otherwise replay_main.c replays the corpus. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parklink/envelope.h"
#include "parklink/services.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
    struct plk_envelope env;
    const char *key = "EA2D90FEEF1E9F8E";
    unsigned flags = len > 0 ? (buf[0] & 7) : 0;

    if (plk_envelope_parse(&env, (const char *)buf, len, 1 << 20, flags) != PLK_OK) {
        check(env.root == NULL && env.inner == NULL);
        return 0;
    }
    /* the span is the data value: decoding it alone gives an equal value */
    json_t *again = json_loadb(env.data_text, env.data_len, JSON_DECODE_ANY, NULL);
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
