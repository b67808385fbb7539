/* cmd_verify.c - `parklink verify`: parse a request/callback body and check its sign.
 *
 * The body goes through plk_envelope_parse (the parser parklinkd uses), which locates the
 * raw `data` span; the sign is checked over exactly those bytes (plk_envelope_verify).
 * Exit 0 verifies, 1 does not, 2 the body cannot be parsed or the usage is wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "parklink/envelope.h"
#include "parklink/sign.h"

static const struct cli_opt opts[] = {
    {"key", 'k', "KEY", "PARKLINK_KEY", NULL, "the vendor key (ukey) the body was signed with", 0},
    {"quiet", 'q', NULL, NULL, NULL, "print nothing; the exit code says it all", 0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static int run(const struct cli_cmd *cmd, int argc, char **argv);

const struct cli_cmd cli_cmd_verify = {
    "verify",
    "[BODY|-]",
    "check the sign of a request or callback body",
    "BODY is a whole envelope such as {\"union_id\":...,\"sign\":\"...\",\"data\":{...}}\n"
    "(union_id may also sit inside data or be absent; a body that is a JSON string holding\n"
    "the envelope is accepted too). Without BODY, or with '-', it is read from standard\n"
    "input and one trailing newline is stripped. Prints the data text as located in the\n"
    "body, the sign, union_id, service_name and whether the sign verifies (with the\n"
    "expected sign when it does not).\n\n"
    "exit: 0 verifies, 1 does not verify, 2 bad usage or the body cannot be parsed.\n\n"
    "example:\n"
    "  parklink call park_check ... --dry-run | parklink verify -k KEY\n",
    opts,
    run,
};

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct plk_envelope env;
    struct cli_args a;
    char expected[PLK_SIGN_LEN + 1];
    char *body = NULL;
    size_t len;
    const char *key;
    enum plk_status st;
    int rc, quiet;

    memset(&env, 0, sizeof env);
    if ((rc = cli_parse(cmd, argc, argv, &a)) >= 0)
        return rc;
    key = cli_val(cmd, &a, "key");
    quiet = cli_val(cmd, &a, "quiet") != NULL;
    if (key == NULL)
        return cli_usage_error(cmd, "no key: give --key KEY or set PARKLINK_KEY");
    if (a.npos > 1)
        return cli_usage_error(cmd, "one BODY at most (quote it)");
    if (cli_read_input(cmd, a.npos ? a.pos[0] : NULL, 0, &body, &len) != 0)
        return CLI_USAGE;

    rc = CLI_USAGE;
    st = plk_envelope_parse(&env, body, len, 0, PLK_ENV_UNION_ID_OPTIONAL | PLK_ENV_DATA_ARRAY_OK);
    if (st != PLK_OK) {
        cli_error(cmd, "%s%s%s", plk_strerror(st), env.detail[0] ? ": " : "", env.detail);
        goto out;
    }
    st = plk_envelope_verify(&env, key);
    plk_sign(env.data_text, env.data_len, key, expected);
    if (!quiet) {
        printf("data_text:    %.*s\n", (int)env.data_len, env.data_text);
        printf("sign:         %s\n", env.sign);
        printf("union_id:     %s\n", env.union_id[0] ? env.union_id : "-");
        printf("service_name: %s\n", env.service_name ? env.service_name : "-");
        if (st == PLK_OK)
            printf("verified:     yes\n");
        else
            printf("verified:     no (%s; expected %s)\n", plk_strerror(st), expected);
    }
    if (st == PLK_OK)
        rc = CLI_OK;
    else if (st == PLK_E_SIGN_MISMATCH || st == PLK_E_BAD_SIGN_FORMAT)
        rc = CLI_FAIL;
    else
        cli_error(cmd, "%s", plk_strerror(st));
out:
    plk_envelope_cleanup(&env);
    free(body);
    return rc;
}
