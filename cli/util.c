/* util.c - shared helpers of the parklink CLI: option parsing from a command's option table,
 * --help rendering, input reading (stdin, files), JSON output, service lookup.
 *
 * Parsing is getopt_long over a struct option array built from the table; environment
 * twins and defaults are filled in afterwards, so the same table is the help text. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static size_t nopts(const struct cli_cmd *cmd)
{
    size_t n = 0;
    while (cmd->opts && cmd->opts[n].name)
        n++;
    return n;
}

int cli_opt_index(const struct cli_cmd *cmd, const char *name)
{
    for (size_t i = 0; cmd->opts && cmd->opts[i].name; i++)
        if (strcmp(cmd->opts[i].name, name) == 0)
            return (int)i;
    fprintf(stderr, "parklink: internal error: %s has no option --%s\n", cmd->name, name);
    abort();
}

const char *cli_val(const struct cli_cmd *cmd, const struct cli_args *a, const char *name)
{
    return a->val[cli_opt_index(cmd, name)];
}

__attribute__((format(printf, 2, 0))) static void vreport(const struct cli_cmd *cmd,
                                                          const char *fmt, va_list ap)
{
    fprintf(stderr, "parklink%s%s: ", cmd ? " " : "", cmd ? cmd->name : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
}

static void usage_line(const struct cli_cmd *cmd, FILE *f)
{
    fprintf(f, "usage: parklink %s%s%s%s\n", cmd->name, nopts(cmd) ? " [options]" : "",
            cmd->args && cmd->args[0] ? " " : "", cmd->args ? cmd->args : "");
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    usage_line(cmd, stderr);
    fprintf(stderr, "Try 'parklink %s --help' for more.\n", cmd->name);
    return CLI_USAGE;
}

/* "-k, --key KEY" into buf. */
static void opt_label(const struct cli_opt *o, char *buf, size_t cap)
{
    if (o->short_name)
        snprintf(buf, cap, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
    else
        snprintf(buf, cap, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

void cli_help(const struct cli_cmd *cmd, FILE *f)
{
    static const struct cli_opt help = {"help", 'h', NULL, NULL, NULL, "show this help and exit",
                                        0};
    size_t n = nopts(cmd), width = 0;
    char label[96];

    usage_line(cmd, f);
    fprintf(f, "\n%s\n\noptions:\n", cmd->summary);
    for (size_t i = 0; i <= n; i++) {
        opt_label(i < n ? &cmd->opts[i] : &help, label, sizeof label);
        if (strlen(label) > width)
            width = strlen(label);
    }
    for (size_t i = 0; i <= n; i++) {
        const struct cli_opt *o = i < n ? &cmd->opts[i] : &help;
        opt_label(o, label, sizeof label);
        fprintf(f, "  %-*s  %s", (int)width, label, o->help);
        if (o->def || o->env || o->multi) {
            const char *sep = " (";
            size_t extra = (o->multi ? 12 : 0) + (o->env ? strlen(o->env) + 6 : 0) +
                           (o->def ? strlen(o->def) + 10 : 0);
            if (width + strlen(o->help) + extra + 6 > 100) { /* keep lines within 100 */
                fprintf(f, "\n  %-*s  (", (int)width, "");
                sep = "";
            }
            if (o->multi) {
                fprintf(f, "%srepeatable", sep);
                sep = "; ";
            }
            if (o->env) {
                fprintf(f, "%senv %s", sep, o->env);
                sep = "; ";
            }
            if (o->def)
                fprintf(f, "%sdefault %s", sep, o->def);
            fputc(')', f);
        }
        fputc('\n', f);
    }
    if (cmd->details)
        fprintf(f, "\n%s", cmd->details);
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *a)
{
    struct option lopts[CLI_MAX_OPTS + 2];
    char shorts[3 * CLI_MAX_OPTS + 4];
    size_t n = nopts(cmd), k = 0;
    int c, idx;

    memset(a, 0, sizeof *a);
    if (n > CLI_MAX_OPTS) {
        cli_error(cmd, "internal error: too many options");
        return CLI_USAGE;
    }
    /* '+' would stop at the first positional; we want options anywhere (GNU permutation),
     * ':' makes a missing value return ':' instead of '?'. */
    shorts[k++] = ':';
    for (size_t i = 0; i < n; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        lopts[i] =
            (struct option){o->name, o->arg ? required_argument : no_argument, NULL, 256 + (int)i};
        if (o->short_name) {
            shorts[k++] = o->short_name;
            if (o->arg)
                shorts[k++] = ':';
        }
    }
    shorts[k++] = 'h';
    shorts[k] = '\0';
    lopts[n] = (struct option){"help", no_argument, NULL, 'h'};
    lopts[n + 1] = (struct option){NULL, 0, NULL, 0};

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
        if (c == 'h') {
            cli_help(cmd, stdout);
            return CLI_OK;
        }
        if (c == '?') {
            if (optopt >= 256 && optopt < 256 + (int)n)
                return cli_usage_error(cmd, "option '--%s' takes no value",
                                       cmd->opts[optopt - 256].name);
            if (optopt && optopt < 256)
                return cli_usage_error(cmd, "unknown option '-%c'", optopt);
            return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
        if (c == ':') {
            if (optopt && optopt < 256)
                return cli_usage_error(cmd, "option '-%c' needs a value", optopt);
            return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        }
        idx = -1;
        if (c >= 256) {
            idx = c - 256;
        } else {
            for (size_t i = 0; i < n; i++)
                if (cmd->opts[i].short_name == c)
                    idx = (int)i;
        }
        if (idx < 0)
            return cli_usage_error(cmd, "unknown option");
        if (a->given[idx] && !cmd->opts[idx].multi && cmd->opts[idx].arg)
            return cli_usage_error(cmd, "option --%s given twice", cmd->opts[idx].name);
        a->given[idx]++;
        a->val[idx] = cmd->opts[idx].arg ? optarg : "1";
        if (cmd->opts[idx].multi) {
            if (a->nocc >= (int)(sizeof a->occ / sizeof a->occ[0]))
                return cli_usage_error(cmd, "too many --%s options", cmd->opts[idx].name);
            a->occ[a->nocc].opt = idx;
            a->occ[a->nocc].val = a->val[idx];
            a->nocc++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct cli_opt *o = &cmd->opts[i];
        if (a->given[i])
            continue;
        if (o->env) {
            const char *e = getenv(o->env);
            if (e && e[0])
                a->val[i] = e;
        }
        if (a->val[i] == NULL && o->def)
            a->val[i] = o->def;
    }
    a->pos = argv + optind;
    a->npos = argc - optind;
    return -1;
}

static int read_stream(const struct cli_cmd *cmd, FILE *f, const char *what, char **out,
                       size_t *len)
{
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap), *nb;

    if (buf == NULL)
        goto nomem;
    for (;;) {
        if (cap - n < 2) {
            if (cap > CLI_INPUT_MAX) {
                cli_error(cmd, "%s is larger than %u bytes", what, CLI_INPUT_MAX);
                free(buf);
                return -1;
            }
            nb = realloc(buf, cap * 2);
            if (nb == NULL)
                goto nomem;
            buf = nb;
            cap *= 2;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        cli_error(cmd, "cannot read %s: %s", what, strerror(errno));
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
nomem:
    free(buf);
    cli_error(cmd, "out of memory");
    return -1;
}

int cli_read_input(const struct cli_cmd *cmd, const char *arg, int allow_file, char **out,
                   size_t *len)
{
    *out = NULL;
    *len = 0;
    if (arg == NULL || strcmp(arg, "-") == 0) {
        if (read_stream(cmd, stdin, "standard input", out, len) != 0)
            return -1;
        /* A shell's echo or a heredoc ends with one newline that is not part of the
         * text; exactly one is stripped, so "\n\n" keeps one. */
        if (*len > 0 && (*out)[*len - 1] == '\n')
            (*out)[--*len] = '\0';
        return 0;
    }
    if (allow_file && arg[0] == '@') {
        FILE *f = fopen(arg + 1, "rb");
        int rc;
        if (f == NULL) {
            cli_error(cmd, "cannot open %s: %s", arg + 1, strerror(errno));
            return -1;
        }
        rc = read_stream(cmd, f, arg + 1, out, len);
        fclose(f);
        return rc;
    }
    *len = strlen(arg);
    *out = malloc(*len + 1);
    if (*out == NULL) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    memcpy(*out, arg, *len + 1);
    return 0;
}

const struct plk_service *cli_find_service(const char *name)
{
    static const char prefix[] = "/unionapi/";
    const struct plk_service *s;
    const char *p = name;

    if ((s = plk_service_by_id(name)) != NULL)
        return s;
    if ((s = plk_service_by_name(name, PLK_DIR_V2P)) != NULL)
        return s;
    if (strncmp(p, prefix, sizeof prefix - 1) == 0)
        p += sizeof prefix - 1;
    if ((s = plk_service_by_path(p, strlen(p))) != NULL)
        return s;
    if (p != name && (s = plk_service_by_path(name, strlen(name))) != NULL)
        return s;
    if ((s = plk_service_by_name(name, PLK_DIR_P2V)) != NULL)
        return s;
    return plk_service_by_name(name, PLK_DIR_BOTH);
}

void cli_print_json(const json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    fputc('\n', stdout);
}

json_t *cli_parse_json(const struct cli_cmd *cmd, const char *what, const char *text, size_t len)
{
    json_error_t err;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (v == NULL)
        cli_error(cmd, "%s is not valid JSON: %s (line %d, column %d)", what, err.text, err.line,
                  err.column);
    return v;
}

long cli_seconds_ms(const char *text)
{
    char *end;
    double s;

    if (text == NULL || text[0] == '\0')
        return -1;
    errno = 0;
    s = strtod(text, &end);
    if (errno || *end != '\0' || !(s > 0) || s > 86400)
        return -1;
    return (long)(s * 1000 + 0.5);
}
