/* cmd_sign.c - `parklink sign`: print the Bolink sign of a data text (spec 01, 1.2).
 *
 * Current scheme: the text is hashed byte for byte as given (plk_sign). Legacy schemes take
 * a flat JSON object and build the sorted k=v link string (plk_sign_legacy). Nothing here
 * re-serialises the current-scheme text: what you pass is what is signed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "parklink/sign.h"

static const struct cli_opt opts[] = {
    {"key", 'k', "KEY", "PARKLINK_KEY", NULL, "the vendor key (ukey) to sign with", 0},
    {"legacy", 0, NULL, NULL, NULL, "legacy scheme (spec 1.2.3): DATA_TEXT is a flat JSON object",
     0},
    {"legacy-amp", 0, NULL, NULL, NULL, "legacy variant with \"&key=\" (spec 1.2.4)", 0},
    {"show-text", 0, NULL, NULL, NULL, "also print the exact text that is hashed, on stderr", 0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static int run(const struct cli_cmd *cmd, int argc, char **argv);

const struct cli_cmd cli_cmd_sign = {
    "sign",
    "[DATA_TEXT|-]",
    "print the sign (32 upper-case hex digits) of a data text",
    "DATA_TEXT is the exact JSON text of the `data` value; it is signed byte for byte\n"
    "(sign = upper(hex(md5(DATA_TEXT + \"key=\" + KEY)))): member order, spaces and\n"
    "escapes all count. Without DATA_TEXT, or with '-', the text is read from standard\n"
    "input and exactly one trailing newline (\"\\n\") is stripped, so that\n"
    "`echo '{...}' | parklink sign` signs '{...}'. To sign a text that ends in a newline,\n"
    "pass it as an argument or end the input with one extra newline.\n\n"
    "examples:\n"
    "  parklink sign -k NQ0eSXs720170114 '{\"park_id\":\"1001\"}'\n"
    "  PARKLINK_KEY=... parklink sign --legacy '{\"park_id\":\"1001\",\"union_id\":10001}'\n",
    opts,
    run,
};

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct cli_args a;
    char sign[PLK_SIGN_LEN + 1];
    char *text = NULL, *link = NULL;
    json_t *flat = NULL;
    size_t len;
    const char *key;
    int legacy, amp, rc;

    if ((rc = cli_parse(cmd, argc, argv, &a)) >= 0)
        return rc;
    key = cli_val(cmd, &a, "key");
    legacy = cli_val(cmd, &a, "legacy") != NULL;
    amp = cli_val(cmd, &a, "legacy-amp") != NULL;
    if (key == NULL)
        return cli_usage_error(cmd, "no key: give --key KEY or set PARKLINK_KEY");
    if (legacy && amp)
        return cli_usage_error(cmd, "--legacy and --legacy-amp exclude each other");
    if (a.npos > 1)
        return cli_usage_error(cmd, "one DATA_TEXT at most (quote it)");
    if (cli_read_input(cmd, a.npos ? a.pos[0] : NULL, 0, &text, &len) != 0)
        return CLI_USAGE;

    rc = CLI_USAGE;
    if (!legacy && !amp) {
        plk_sign(text, len, key, sign);
        if (cli_val(cmd, &a, "show-text"))
            fprintf(stderr, "%.*skey=%s\n", (int)len, text, key);
    } else {
        enum plk_status st;
        flat = cli_parse_json(cmd, "DATA_TEXT", text, len);
        if (flat == NULL)
            goto out;
        if (!json_is_object(flat)) {
            cli_error(cmd, "legacy signing takes a flat JSON object");
            goto out;
        }
        st = plk_sign_legacy(flat, key, amp ? PLK_SIGN_LEGACY_AMP : PLK_SIGN_LEGACY, sign);
        if (st != PLK_OK) {
            cli_error(cmd, "%s", plk_strerror(st));
            goto out;
        }
        if (cli_val(cmd, &a, "show-text")) {
            link = plk_sign_legacy_text(flat);
            if (link == NULL) {
                cli_error(cmd, "out of memory");
                goto out;
            }
            fprintf(stderr, "%s%skey=%s\n", link, amp ? "&" : "", key);
        }
    }
    printf("%s\n", sign);
    rc = CLI_OK;
out:
    free(link);
    json_decref(flat);
    free(text);
    return rc;
}
