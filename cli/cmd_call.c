/* cmd_call.c - `parklink call`: send one signed request of any interface in the table.
 *
 * SERVICE picks a row of the service table; `data` comes from --data and field=value
 * pairs typed by the row's schema. plk_client_prepare validates, places union_id and
 * service_name, signs and picks the URL; plk_client_post sends. The reply is printed and its
 * `state` decides the exit code (0: state 1/2, 1: state 0, 2: usage/validation, 3: transport). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "parklink/client.h"

static const struct cli_opt opts[] = {
    {"union-id", 'u', "ID", "PARKLINK_UNION_ID", NULL, "your vendor id (union_id)", 0},
    {"key", 'k', "KEY", "PARKLINK_KEY", NULL, "your vendor key (ukey), signs the request", 0},
    {"url", 0, "BASE", "PARKLINK_URL", "http://127.0.0.1:8080",
     "platform base URL, e.g. https://beta.bolink.club", 0},
    {"data", 'd', "JSON", NULL, NULL, "the data object: JSON text, '-' for stdin, @FILE", 0},
    {"top", 0, "NAME=VALUE", NULL, NULL,
     "unsigned top-level member (envelope C, SDK token); NAME:=JSON for JSON", 1},
    {"dry-run", 'n', NULL, NULL, NULL, "print the signed body (URL on stderr), send nothing", 0},
    {"timeout", 0, "SECONDS", "PARKLINK_TIMEOUT", "10", "give up after this long", 0},
    {"raw", 0, NULL, NULL, NULL, "print the reply body as received, not re-indented", 0},
    {"verbose", 'v', NULL, NULL, NULL, "print the URL, the body sent and the HTTP status on stderr",
     0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static int run(const struct cli_cmd *cmd, int argc, char **argv);

const struct cli_cmd cli_cmd_call = {
    "call",
    "SERVICE [FIELD=VALUE | FIELD:=JSON ...]",
    "sign and send a request of one interface, print the reply",
    "SERVICE is a row of `parklink services`: its id (park_check, addorder), its\n"
    "service_name, or its path (neworder/addorder). `data` starts from --data and each\n"
    "FIELD=VALUE sets one member: a number when the row types the field integer/number and\n"
    "VALUE is a JSON number, JSON when the field is an object/array, else a string.\n"
    "FIELD:=JSON sets the JSON value as written. union_id and service_name are added where\n"
    "the interface's envelope keeps them. `data` is checked against the table before\n"
    "anything is sent; an error names the field. The URL is BASE/unionapi/<path>\n"
    "(BASE/unionapi/neworder/uploadData for chapter 10; absolute paths go under BASE).\n\n"
    "exit: 0 reply state 1 or 2, 1 reply state 0, 2 bad usage or data, 3 transport error\n"
    "or a reply that is not JSON with a state.\n\n"
    "examples:\n"
    "  parklink call park_check -u 200002 -k KEY --url http://127.0.0.1:8080 \\\n"
    "      park_id=20003 car_number=京HP00G6 license_color=0\n"
    "  parklink call neworder/addorder -d @entry.json --dry-run\n",
    opts,
    run,
};

/* JSON value of one FIELD=VALUE pair, typed by the row's schema; NULL after an error. */
static json_t *field_value(const struct cli_cmd *cmd, const struct plk_service *svc,
                           const char *name, const char *text, int raw)
{
    const struct plk_field *f = plk_service_field(svc, name);
    json_t *v;

    if (raw)
        return cli_parse_json(cmd, name, text, strlen(text));
    if (f && (f->type == PLK_T_OBJ || f->type == PLK_T_ARR))
        return cli_parse_json(cmd, name, text, strlen(text));
    if (f && (f->type == PLK_T_INT || f->type == PLK_T_NUM) &&
        (text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))) {
        v = json_loads(text, JSON_DECODE_ANY, NULL);
        if (json_is_number(v))
            return v;
        json_decref(v);
    }
    v = json_string(text);
    if (v == NULL)
        cli_error(cmd, "value of %s is not valid UTF-8", name);
    return v;
}

/* Split "NAME=VALUE" / "NAME:=JSON" in place: *name, *value, *raw. -1 if malformed. */
static int split_pair(char *arg, char **name, char **value, int *raw)
{
    char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg)
        return -1;
    *raw = eq > arg && eq[-1] == ':';
    *eq = '\0';
    if (*raw)
        eq[-1] = '\0';
    *name = arg;
    *value = eq + 1;
    return (*name)[0] ? 0 : -1;
}

/* Print what the table says about a field, after a validation error. */
static void explain_field(const struct plk_field *f)
{
    fprintf(stderr, "  %s: %s, %s", f->name, plk_field_type_name(f->type),
            !f->required                     ? "optional"
            : f->flags & PLK_FIELD_ABSENT_OK ? "required (accepted absent)"
                                             : "required");
    if (f->max_len)
        fprintf(stderr, ", max %u %s", (unsigned)f->max_len,
                f->type == PLK_T_INT ? "digits" : "characters");
    if (f->allowed)
        fprintf(stderr, ", %s %s", f->flags & PLK_FIELD_OPEN_ENUM ? "known values" : "one of",
                f->allowed);
    fprintf(stderr, " - %s\n", f->meaning ? f->meaning : "");
}

static int print_reply(const struct cli_cmd *cmd, const struct plk_client_reply *reply, int raw,
                       int verbose)
{
    json_t *json = NULL;
    int state, rc;
    enum plk_status st = plk_client_reply_json(reply, &json, &state);

    if (verbose)
        fprintf(stderr, "< HTTP %ld, %zu bytes\n", reply->status, reply->len);
    if (raw || json == NULL) {
        fwrite(reply->body, 1, reply->len, stdout);
        if (reply->len && reply->body[reply->len - 1] != '\n')
            fputc('\n', stdout);
    } else
        cli_print_json(json);
    if (st != PLK_OK) {
        cli_error(cmd, "%s (HTTP %ld%s)", plk_strerror(st), reply->status,
                  json ? ", no state" : "");
        rc = CLI_TRANSPORT;
    } else {
        if (reply->status < 200 || reply->status > 299)
            cli_error(cmd, "HTTP %ld", reply->status);
        rc = (state == 1 || state == 2) ? CLI_OK : CLI_FAIL;
    }
    json_decref(json);
    return rc;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
    struct plk_client_request rq;
    struct plk_client_reply reply;
    struct plk_client_options copt;
    const struct plk_service *svc;
    struct cli_args a;
    json_t *data = NULL, *top = NULL, *v;
    char *text = NULL;
    size_t len;
    const char *key;
    enum plk_status st;
    int rc, top_opt = cli_opt_index(cmd, "top");

    memset(&rq, 0, sizeof rq);
    memset(&reply, 0, sizeof reply);
    memset(&copt, 0, sizeof copt);
    if ((rc = cli_parse(cmd, argc, argv, &a)) >= 0)
        return rc;
    if (a.npos < 1)
        return cli_usage_error(cmd, "which service? (see 'parklink services')");
    svc = cli_find_service(a.pos[0]);
    if (svc == NULL)
        return cli_usage_error(cmd, "unknown service '%s' (see 'parklink services')", a.pos[0]);
    key = cli_val(cmd, &a, "key");
    if (key == NULL && !(svc->flags & PLK_SVC_UNSIGNED))
        return cli_usage_error(cmd, "no key: give --key KEY or set PARKLINK_KEY");
    copt.timeout_ms = cli_seconds_ms(cli_val(cmd, &a, "timeout"));
    if (copt.timeout_ms < 0)
        return cli_usage_error(cmd, "--timeout takes a number of seconds (0 < s <= 86400)");

    rc = CLI_USAGE;
    if (cli_val(cmd, &a, "data")) {
        if (cli_read_input(cmd, cli_val(cmd, &a, "data"), 1, &text, &len) != 0)
            goto out;
        if ((data = cli_parse_json(cmd, "--data", text, len)) == NULL)
            goto out;
        if (!json_is_object(data) && !json_is_array(data)) {
            cli_error(cmd, "--data must be a JSON object");
            goto out;
        }
    } else if ((data = json_object()) == NULL) {
        cli_error(cmd, "out of memory");
        goto out;
    }
    for (int i = 1; i < a.npos; i++) {
        char *name, *value;
        int raw;
        if (split_pair(a.pos[i], &name, &value, &raw) != 0) {
            rc = cli_usage_error(cmd, "'%s' is not FIELD=VALUE or FIELD:=JSON", a.pos[i]);
            goto out;
        }
        if (!json_is_object(data)) {
            cli_error(cmd, "FIELD=VALUE needs data to be an object");
            goto out;
        }
        if ((v = field_value(cmd, svc, name, value, raw)) == NULL)
            goto out;
        if (json_object_set_new(data, name, v) != 0) {
            cli_error(cmd, "cannot set %s", name);
            goto out;
        }
    }
    for (int i = 0; i < a.nocc; i++) {
        char *name, *value, *arg = (char *)a.occ[i].val;
        int raw;
        if (a.occ[i].opt != top_opt)
            continue;
        if (split_pair(arg, &name, &value, &raw) != 0) {
            rc = cli_usage_error(cmd, "--top '%s' is not NAME=VALUE or NAME:=JSON", arg);
            goto out;
        }
        if (top == NULL && (top = json_object()) == NULL) {
            cli_error(cmd, "out of memory");
            goto out;
        }
        v = raw ? cli_parse_json(cmd, name, value, strlen(value)) : json_string(value);
        if (v == NULL || json_object_set_new(top, name, v) != 0) {
            cli_error(cmd, "bad --top value for %s", name);
            goto out;
        }
    }

    if (svc->dir == PLK_DIR_GET) {
        /* 2.4 and 7 are browser links: print the signed link for a browser to open */
        st = plk_client_link(&rq, cli_val(cmd, &a, "url"), svc, cli_val(cmd, &a, "union-id"),
                             key, data);
        if (st != PLK_OK) {
            cli_error(cmd, "%s: %s", svc->id, rq.detail[0] ? rq.detail : plk_strerror(st));
            if (rq.bad_field)
                explain_field(rq.bad_field);
            goto out;
        }
        printf("%s\n", rq.url);
        rc = CLI_OK;
        goto out;
    }
    st = plk_client_prepare(&rq, cli_val(cmd, &a, "url"), svc, cli_val(cmd, &a, "union-id"), key,
                            data, top);
    if (st != PLK_OK) {
        cli_error(cmd, "%s: %s", svc->id, rq.detail[0] ? rq.detail : plk_strerror(st));
        if (rq.bad_field)
            explain_field(rq.bad_field);
        goto out;
    }
    if (cli_val(cmd, &a, "dry-run")) {
        fprintf(stderr, "POST %s\n", rq.url);
        printf("%s\n", rq.body);
        rc = CLI_OK;
        goto out;
    }
    if (cli_val(cmd, &a, "verbose"))
        fprintf(stderr, "> POST %s\n> %s\n", rq.url, rq.body);
    st = plk_client_post(rq.url, rq.body, rq.len, &copt, &reply);
    if (st != PLK_OK) {
        cli_error(cmd, "%s: %s: %s", rq.url, plk_strerror(st), reply.error);
        rc = CLI_TRANSPORT;
        goto out;
    }
    rc = print_reply(cmd, &reply, cli_val(cmd, &a, "raw") != NULL,
                     cli_val(cmd, &a, "verbose") != NULL);
out:
    plk_client_reply_cleanup(&reply);
    plk_client_request_cleanup(&rq);
    json_decref(top);
    json_decref(data);
    free(text);
    return rc;
}
