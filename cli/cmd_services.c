/* cmd_services.c - `parklink services`: show the service table (lib/services.def).
 *
 * Three renderings of the same rows: a text list / one row's fields (for people), JSON (for
 * scripts) and Markdown (docs/api.md is this command's output; a test compares the two, so
 * the API reference cannot drift from the table that the server and the client use). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "parklink/client.h"

static const struct cli_opt opts[] = {
    {"json", 0, NULL, NULL, NULL, "print the table (or the one row) as JSON", 0},
    {"markdown", 0, NULL, NULL, NULL, "print the table as the Markdown API reference", 0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static int run(const struct cli_cmd *cmd, int argc, char **argv);

const struct cli_cmd cli_cmd_services = {
    "services",
    "[SERVICE]",
    "list the interfaces of the service table, or one interface's fields",
    "Without SERVICE: one line per interface (section, direction, id, path or\n"
    "service_name, title). With SERVICE (an id, service_name or path): its URL, envelope,\n"
    "flags and every field of `data` with type, required, max length, allowed values and\n"
    "meaning. --markdown renders the whole table as docs/api.md:\n"
    "  parklink services --markdown > docs/api.md\n",
    opts,
    run,
};

static const struct {
    unsigned bit;
    const char *name;
    const char *meaning;
} flag_names[] = {
    {PLK_SVC_SIGNED, "SIGNED", "current sign scheme: md5(DATA_TEXT + \"key=\" + KEY)"},
    {PLK_SVC_LEGACY_SIGN, "LEGACY_SIGN", "legacy sorted k=v sign over a flat object"},
    {PLK_SVC_PARK_SCOPED, "PARK_SCOPED", "data.park_id must be a park of the calling vendor"},
    {PLK_SVC_WRITES, "WRITES", "changes stored state; answered once durable"},
    {PLK_SVC_IDEMPOTENT, "IDEMPOTENT", "repeats are idempotent on (park_id, order_id)"},
    {PLK_SVC_UPLOAD_DATA, "UPLOAD_DATA",
     "served at neworder/uploadData, chosen by data.service_name"},
    {PLK_SVC_UNION_TOP, "UNION_TOP", "union_id at the top level of the envelope"},
    {PLK_SVC_UNSIGNED, "UNSIGNED", "no signature"},
    {PLK_SVC_QUESTION, "QUESTION", "the platform waits for the vendor's answer"},
    {PLK_SVC_NO_UNION_ID, "NO_UNION_ID", "union_id is not part of the message"},
    {PLK_SVC_REPLAY, "REPLAY",
     "data carries rand or a timestamp (FIELDX): the vendor's opt-in replay window applies"},
};
#define NFLAGS (sizeof flag_names / sizeof flag_names[0])

/* The path or service_name by which people know the row. */
static const char *handle_of(const struct plk_service *s)
{
    if (s->path[0] && !(s->flags & PLK_SVC_UPLOAD_DATA))
        return s->path;
    return s->service_name[0] ? s->service_name : "-";
}

/* URL path under the platform's base ("" base); "" for callbacks (the vendor's URL). */
static char *url_path_of(const struct plk_service *s)
{
    return plk_client_url("", s);
}

static void print_flags(FILE *f, unsigned flags, const char *sep, const char *quote)
{
    const char *s = "";
    for (size_t i = 0; i < NFLAGS; i++) {
        if (flags & flag_names[i].bit) {
            fprintf(f, "%s%s%s%s", s, quote, flag_names[i].name, quote);
            s = sep;
        }
    }
    if (s[0] == '\0')
        fputs("-", f);
}

/* ---- text --------------------------------------------------------------------------- */

static void list_text(void)
{
    size_t n, wsec = 7, wid = 2, whandle = 19;
    const struct plk_service *t = plk_services(&n);

    for (size_t i = 0; i < n; i++) {
        if (strlen(t[i].section) > wsec)
            wsec = strlen(t[i].section);
        if (strlen(t[i].id) > wid)
            wid = strlen(t[i].id);
        if (strlen(handle_of(&t[i])) > whandle)
            whandle = strlen(handle_of(&t[i]));
    }
    printf("%-*s  %-4s  %-*s  %-*s  %s\n", (int)wsec, "SECTION", "DIR", (int)wid, "ID",
           (int)whandle, "PATH / SERVICE_NAME", "TITLE");
    for (size_t i = 0; i < n; i++)
        printf("%-*s  %-4s  %-*s  %-*s  %s\n", (int)wsec, t[i].section,
               plk_direction_name(t[i].dir), (int)wid, t[i].id, (int)whandle, handle_of(&t[i]),
               t[i].title);
}

/* "yes", "no", or "tolerated" (the reference requires it; accepted absent). */
static const char *required_word(const struct plk_field *f)
{
    if (!f->required)
        return "no";
    return (f->flags & PLK_FIELD_ABSENT_OK) ? "tolerated" : "yes";
}

static int show_text(const struct plk_service *s)
{
    char *url = url_path_of(s);
    size_t wname = 5, wtype = 4;

    if (url == NULL)
        return CLI_USAGE;
    printf("%s - %s%s%s%s\n\n", s->id, s->title, s->title_zh[0] ? " (" : "", s->title_zh,
           s->title_zh[0] ? ")" : "");
    printf("section:      %s\n", s->section);
    printf("direction:    %s\n", plk_direction_name(s->dir));
    printf("url path:     %s\n", url[0] ? url : "(the receiver's URL)");
    printf("service_name: %s\n", s->service_name[0] ? s->service_name : "-");
    printf("envelope:     %s\n", s->envelope);
    printf("flags:        ");
    print_flags(stdout, s->flags, " ", "");
    printf("\n\n");
    free(url);
    if (s->nfields == 0) {
        printf("(no fields in data)\n");
        return CLI_OK;
    }
    for (size_t i = 0; i < s->nfields; i++) {
        if (strlen(s->fields[i].name) > wname)
            wname = strlen(s->fields[i].name);
        if (strlen(plk_field_type_name(s->fields[i].type)) > wtype)
            wtype = strlen(plk_field_type_name(s->fields[i].type));
    }
    printf("%-*s  %-*s  %-9s  %-4s  %-14s  %s\n", (int)wname, "FIELD", (int)wtype, "TYPE", "REQ",
           "MAX", "ALLOWED", "MEANING");
    /* REQ "tolerated": required by the reference, accepted absent; ALLOWED "...|*": other
     * values accepted too (docs/decisions.md) */
    for (size_t i = 0; i < s->nfields; i++) {
        const struct plk_field *f = &s->fields[i];
        char max[8] = "-";
        if (f->max_len)
            snprintf(max, sizeof max, "%u", (unsigned)f->max_len);
        char allowed[160];
        snprintf(allowed, sizeof allowed, "%s%s", f->allowed ? f->allowed : "-",
                 (f->flags & PLK_FIELD_OPEN_ENUM) ? "|*" : "");
        printf("%-*s  %-*s  %-9s  %-4s  %-14s  %s\n", (int)wname, f->name, (int)wtype,
               plk_field_type_name(f->type), required_word(f), max, allowed,
               f->meaning ? f->meaning : "");
    }
    return CLI_OK;
}

/* ---- JSON --------------------------------------------------------------------------- */

static json_t *row_json(const struct plk_service *s)
{
    json_t *o = NULL, *flags = json_array(), *fields = json_array();
    char *url = url_path_of(s);

    if (flags == NULL || fields == NULL || url == NULL)
        goto out;
    for (size_t i = 0; i < NFLAGS; i++)
        if (s->flags & flag_names[i].bit)
            json_array_append_new(flags, json_string(flag_names[i].name));
    for (size_t i = 0; i < s->nfields; i++) {
        const struct plk_field *f = &s->fields[i];
        json_t *allowed = json_null();
        if (f->allowed) {
            char *copy = strdup(f->allowed), *save = NULL;
            allowed = json_array();
            for (char *p = copy ? strtok_r(copy, "|", &save) : NULL; p && allowed;
                 p = strtok_r(NULL, "|", &save))
                json_array_append_new(allowed, json_string(p));
            free(copy);
        }
        json_array_append_new(fields, json_pack("{s:s, s:s, s:b, s:b, s:i, s:o, s:b, s:s}", "name",
                                                f->name, "type", plk_field_type_name(f->type),
                                                "required", f->required, "absent_ok",
                                                (f->flags & PLK_FIELD_ABSENT_OK) != 0, "max_len",
                                                (int)f->max_len, "allowed", allowed, "open_enum",
                                                (f->flags & PLK_FIELD_OPEN_ENUM) != 0, "meaning",
                                                f->meaning ? f->meaning : ""));
    }
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:O}", "id", s->id, "section",
                  s->section, "direction", plk_direction_name(s->dir), "path", s->path, "url_path",
                  url, "service_name", s->service_name, "envelope", s->envelope, "flags", flags,
                  "title", s->title, "title_zh", s->title_zh, "fields", fields);
out:
    free(url);
    json_decref(flags);
    json_decref(fields);
    return o;
}

static int print_json(const struct cli_cmd *cmd, const struct plk_service *one)
{
    size_t n;
    const struct plk_service *t = plk_services(&n);
    json_t *out = one ? row_json(one) : json_array();

    if (out == NULL)
        goto fail;
    for (size_t i = 0; one == NULL && i < n; i++) {
        json_t *row = row_json(&t[i]);
        if (row == NULL || json_array_append_new(out, row) != 0)
            goto fail;
    }
    cli_print_json(out);
    json_decref(out);
    return CLI_OK;
fail:
    json_decref(out);
    cli_error(cmd, "out of memory");
    return CLI_USAGE;
}

/* ---- Markdown ----------------------------------------------------------------------- */

/* A table cell: '|' escaped, line breaks flattened. */
static void md_cell(const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", stdout);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', stdout);
        else
            fputc(*s, stdout);
    }
}

static void md_allowed(const char *allowed)
{
    const char *p = allowed;
    if (allowed == NULL)
        return;
    while (*p) {
        size_t k = strcspn(p, "|");
        printf("%s`%.*s`", p == allowed ? "" : ", ", (int)k, p);
        p += k;
        if (*p == '|')
            p++;
    }
}

static void md_row(const struct plk_service *s)
{
    char *url = url_path_of(s);

    printf("<a id=\"%s\"></a>\n### %s `%s`: ", s->id, s->section, s->id);
    md_cell(s->title);
    printf("\n\n");
    if (s->title_zh[0])
        printf("%s\n\n", s->title_zh);
    printf("| | |\n|---|---|\n");
    printf("| direction | %s |\n", plk_direction_name(s->dir));
    if (url && url[0])
        printf("| URL path | `%s` |\n", url);
    else
        printf("| URL | the receiver's own URL (callback) |\n");
    if (s->service_name[0])
        printf("| service_name | `%s` |\n", s->service_name);
    printf("| envelope | %s |\n| flags | ", s->envelope);
    print_flags(stdout, s->flags, " ", "`");
    printf(" |\n\n");
    free(url);
    if (s->nfields == 0) {
        printf("No fields in `data`.\n\n");
        return;
    }
    printf("| field | type | required | max | allowed | meaning |\n");
    printf("|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < s->nfields; i++) {
        const struct plk_field *f = &s->fields[i];
        printf("| `%s` | %s | %s | ", f->name, plk_field_type_name(f->type),
               f->required ? (f->flags & PLK_FIELD_ABSENT_OK) ? "yes (accepted absent)" : "yes"
                           : "no");
        if (f->max_len)
            printf("%u", (unsigned)f->max_len);
        printf(" | ");
        md_allowed(f->allowed);
        if (f->flags & PLK_FIELD_OPEN_ENUM)
            printf(", others accepted as sent");
        printf(" | ");
        md_cell(f->meaning);
        printf(" |\n");
    }
    printf("\n");
}

static int print_markdown(const struct plk_service *one)
{
    size_t n;
    const struct plk_service *t = plk_services(&n);

    if (one) {
        md_row(one);
        return CLI_OK;
    }
    printf("# parklink API reference\n\n"
           "<!-- Generated by `parklink services --markdown` from lib/services.def; do not edit.\n"
           "     Regenerate: build/cli/parklink services --markdown > docs/api.md -->\n\n"
           "Every interface parklink knows, one row of the service table (`lib/services.def`)\n"
           "each. The same rows drive parklinkd's router and validation and the `parklink`\n"
           "CLI, and the integration tests fail when this file differs from the table.\n"
           "The protocol itself (envelope, signature, replies) is `spec/01-protocol.md`.\n\n"
           "Directions: `V->P` the vendor calls the platform (parklinkd serves it); `P->V`\n"
           "the platform calls the vendor (callbacks); `GET` browser redirects; `both` SDK\n"
           "transports. URL paths are under the platform's base URL. Envelope letters are\n"
           "those of spec 1.4. Types: `string` also accepts a number, `integer` and `number`\n"
           "also accept a numeric string; `max` counts characters.\n\n"
           "| flag | meaning |\n|---|---|\n");
    for (size_t i = 0; i < NFLAGS; i++) {
        printf("| `%s` | ", flag_names[i].name);
        md_cell(flag_names[i].meaning);
        printf(" |\n");
    }
    printf("\n## Index\n\n| § | id | dir | path / service_name | title | 中文 |\n"
           "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        const char *h = handle_of(&t[i]);
        printf("| %s | [`%s`](#%s) | %s | %s%s%s | ", t[i].section, t[i].id, t[i].id,
               plk_direction_name(t[i].dir), h[0] == '-' ? "" : "`", h, h[0] == '-' ? "" : "`");
        md_cell(t[i].title);
        printf(" | ");
        md_cell(t[i].title_zh);
        printf(" |\n");
    }
    printf("\n## Interfaces\n\n");
    for (size_t i = 0; i < n; i++)
        md_row(&t[i]);
    return CLI_OK;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
    const struct plk_service *one = NULL;
    struct cli_args a;
    int rc, json, md;

    if ((rc = cli_parse(cmd, argc, argv, &a)) >= 0)
        return rc;
    json = cli_val(cmd, &a, "json") != NULL;
    md = cli_val(cmd, &a, "markdown") != NULL;
    if (json && md)
        return cli_usage_error(cmd, "--json and --markdown exclude each other");
    if (a.npos > 1)
        return cli_usage_error(cmd, "one SERVICE at most");
    if (a.npos == 1 && (one = cli_find_service(a.pos[0])) == NULL)
        return cli_usage_error(cmd, "unknown service '%s'", a.pos[0]);
    if (json)
        return print_json(cmd, one);
    if (md)
        return print_markdown(one);
    if (one)
        return show_text(one);
    list_text();
    return CLI_OK;
}
