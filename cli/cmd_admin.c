/* cmd_admin.c - `parklink admin`: call parklinkd's admin API (BASE/admin/v1/...).
 *
 * A thin, generic client: METHOD and PATH are passed through, the body is checked to be
 * JSON before it is sent, the bearer token comes from --token or PARKLINK_ADMIN_TOKEN. The
 * resources themselves (vendors, parks, blacklist, members, reservations) are the server's
 * business; see docs/admin-api.md. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "parklink/client.h"

static const struct cli_opt opts[] = {
    {"url", 0, "BASE", "PARKLINK_ADMIN_URL", "http://127.0.0.1:8080", "parklinkd base URL", 0},
    {"token", 't', "TOKEN", "PARKLINK_ADMIN_TOKEN", NULL,
     "admin bearer token (printed by parklinkd at first start)", 0},
    {"timeout", 0, "SECONDS", "PARKLINK_TIMEOUT", "10", "give up after this long", 0},
    {"raw", 0, NULL, NULL, NULL, "print the reply body as received, not re-indented", 0},
    {"verbose", 'v', NULL, NULL, NULL, "print the request and the HTTP status on stderr", 0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static int run(const struct cli_cmd *cmd, int argc, char **argv);

const struct cli_cmd cli_cmd_admin = {
    "admin",
    "METHOD PATH [JSON|-|@FILE]",
    "call parklinkd's admin API and print the JSON reply",
    "Sends METHOD (GET, POST, PUT, PATCH, DELETE) to BASE/admin/v1PATH with\n"
    "'Authorization: Bearer TOKEN'. PATH may carry a query string. The optional body is\n"
    "JSON text, '-' for standard input or @FILE; it is checked to be JSON first.\n\n"
    "exit: 0 HTTP 2xx, 1 any other HTTP status, 2 bad usage or body, 3 transport error.\n\n"
    "examples:\n"
    "  export PARKLINK_ADMIN_TOKEN=...\n"
    "  parklink admin GET /vendors\n"
    "  parklink admin POST /vendors '{\"union_id\":200002,\"ukey\":\"EA2D90FEEF1E9F8E\"}'\n",
    opts,
    run,
};

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

/* BASE (trailing "/" and "/admin/v1" ignored) + "/admin/v1" + PATH; malloc'd or NULL. */
static char *admin_url(const char *base, const char *path)
{
    static const char api[] = "/admin/v1";
    size_t blen = strlen(base), n;
    char *url;

    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    if (blen >= sizeof api - 1 && memcmp(base + blen - (sizeof api - 1), api, sizeof api - 1) == 0)
        blen -= sizeof api - 1;
    n = blen + sizeof api + strlen(path) + 1;
    url = malloc(n);
    if (url)
        snprintf(url, n, "%.*s%s%s%s", (int)blen, base, api, path[0] == '/' ? "" : "/", path);
    return url;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct plk_client_options copt;
    struct plk_client_reply reply;
    struct cli_args a;
    char method[8] = "", *url = NULL, *body = NULL;
    size_t len = 0, i;
    json_t *json = NULL;
    enum plk_status st;
    int rc;

    memset(&copt, 0, sizeof copt);
    memset(&reply, 0, sizeof reply);
    if ((rc = cli_parse(cmd, argc, argv, &a)) >= 0)
        return rc;
    if (a.npos < 2)
        return cli_usage_error(cmd, "METHOD and PATH are required");
    if (a.npos > 3)
        return cli_usage_error(cmd, "too many arguments (quote the JSON body)");
    for (i = 0; a.pos[0][i] && i < sizeof method - 1; i++)
        method[i] = (char)toupper((unsigned char)a.pos[0][i]);
    method[i] = '\0';
    for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(method, methods[i]) == 0 && strlen(a.pos[0]) == strlen(method))
            break;
    if (i == sizeof methods / sizeof methods[0])
        return cli_usage_error(cmd, "METHOD must be GET, POST, PUT, PATCH or DELETE, not '%s'",
                               a.pos[0]);
    if (strpbrk(a.pos[1], " \r\n\t"))
        return cli_usage_error(cmd, "PATH must not contain spaces");
    copt.timeout_ms = cli_seconds_ms(cli_val(cmd, &a, "timeout"));
    if (copt.timeout_ms < 0)
        return cli_usage_error(cmd, "--timeout takes a number of seconds (0 < s <= 86400)");
    copt.bearer = cli_val(cmd, &a, "token");
    copt.content_type = "application/json";

    rc = CLI_USAGE;
    if (a.npos == 3) {
        if (cli_read_input(cmd, a.pos[2], 1, &body, &len) != 0)
            goto out;
        if ((json = cli_parse_json(cmd, "the body", body, len)) == NULL)
            goto out;
        json_decref(json);
        json = NULL;
    }
    if ((url = admin_url(cli_val(cmd, &a, "url"), a.pos[1])) == NULL) {
        cli_error(cmd, "out of memory");
        goto out;
    }
    if (cli_val(cmd, &a, "verbose"))
        fprintf(stderr, "> %s %s%s%s\n", method, url, body ? "\n> " : "", body ? body : "");
    st = plk_client_request(method, url, body, len, &copt, &reply);
    if (st != PLK_OK) {
        cli_error(cmd, "%s: %s: %s", url, plk_strerror(st), reply.error);
        rc = CLI_TRANSPORT;
        goto out;
    }
    if (cli_val(cmd, &a, "verbose"))
        fprintf(stderr, "< HTTP %ld, %zu bytes\n", reply.status, reply.len);
    if (reply.len > 0) {
        json = cli_val(cmd, &a, "raw") ? NULL : json_loadb(reply.body, reply.len, 0, NULL);
        if (json) {
            cli_print_json(json);
        } else {
            fwrite(reply.body, 1, reply.len, stdout);
            if (reply.body[reply.len - 1] != '\n')
                fputc('\n', stdout);
        }
    }
    if (reply.status >= 200 && reply.status <= 299) {
        rc = CLI_OK;
    } else {
        cli_error(cmd, "HTTP %ld", reply.status);
        rc = CLI_FAIL;
    }
out:
    json_decref(json);
    plk_client_reply_cleanup(&reply);
    free(url);
    free(body);
    return rc;
}
