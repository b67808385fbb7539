/* cli.h - what the commands of the `parklink` CLI share (cli/util.c).
 *
 * Each command (cli/cmd_*.c) is one struct cli_cmd: its name, its option table and its run
 * function. The option table alone drives parsing (getopt_long), environment twins,
 * defaults and the --help text, so help cannot drift from what is parsed. main.c holds the
 * list of commands and dispatches. Only libparklink's public API is used. */
#ifndef PARKLINK_CLI_H
#define PARKLINK_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include "parklink/services.h"

/* Exit codes of every command. */
enum {
    CLI_OK = 0,        /* success; signature verifies; reply state 1 or 2 */
    CLI_FAIL = 1,      /* signature does not verify; reply state 0; HTTP status not 2xx */
    CLI_USAGE = 2,     /* bad usage, bad input, validation failure */
    CLI_TRANSPORT = 3, /* the request could not be sent or the reply is not JSON */
};

#define CLI_MAX_OPTS 16
#define CLI_INPUT_MAX (64u << 20) /* cap on stdin / file input */

struct cli_opt {
    const char *name; /* long name without "--" */
    char short_name;  /* or 0 */
    const char *arg;  /* placeholder of the value ("KEY"); NULL for a flag */
    const char *env;  /* environment twin, or NULL */
    const char *def;  /* default value, or NULL */
    const char *help; /* one line */
    int multi;        /* 1: may be repeated; every occurrence is kept */
};

struct cli_cmd {
    const char *name;
    const char *args;           /* positional synopsis, e.g. "[DATA_TEXT|-]" */
    const char *summary;        /* one line, for `parklink --help` */
    const char *details;        /* text after the options in --help, or NULL */
    const struct cli_opt *opts; /* terminated by an entry with name NULL */
    int (*run)(const struct cli_cmd *cmd, int argc, char **argv);
};

/* Result of cli_parse(). Option i is the i-th entry of cmd->opts. */
struct cli_args {
    const char *val[CLI_MAX_OPTS]; /* last value given, else env twin, else default; NULL
                                      if none. For a flag: "1" when given. */
    int given[CLI_MAX_OPTS];       /* times given on the command line */
    struct {
        int opt;
        const char *val;
    } occ[64]; /* every occurrence of a multi option, in order */
    int nocc;
    char **pos; /* positional arguments (points into argv) */
    int npos;
};

extern const struct cli_cmd cli_cmd_sign, cli_cmd_verify, cli_cmd_call, cli_cmd_services,
    cli_cmd_admin, cli_cmd_vendor_sim;

/* Parse argv (argv[0] is the command name) against cmd->opts; -h/--help is implicit.
 * Returns -1 when parsing succeeded (go on), CLI_OK after printing --help, CLI_USAGE after
 * printing an error and the usage line to stderr. */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *a);

/* Index of the option named `name` in cmd->opts (a programming error aborts: the tables
 * are static). */
int cli_opt_index(const struct cli_cmd *cmd, const char *name);

/* Shorthand: the value of option `name` (see struct cli_args), or NULL. */
const char *cli_val(const struct cli_cmd *cmd, const struct cli_args *a, const char *name);

/* Print the full help of cmd to f. */
void cli_help(const struct cli_cmd *cmd, FILE *f);

/* Print "parklink CMD: <message>" and the usage hint to stderr; returns CLI_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print "parklink CMD: <message>" to stderr. */
void cli_error(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Read an input argument: "-" (or NULL) reads stdin and strips exactly one trailing "\n"
 * (see docs/cli.md); with allow_file, "@PATH" reads that file as it is; anything else is the
 * text itself. *out is malloc'd and NUL-terminated (caller frees), *len excludes the NUL.
 * Input over CLI_INPUT_MAX fails. 0 on success, -1 after printing why. */
int cli_read_input(const struct cli_cmd *cmd, const char *arg, int allow_file, char **out,
                   size_t *len);

/* Find a service by row id, V->P service_name, path (with or without "/unionapi/"), or any
 * other service_name, in that order. NULL if none. */
const struct plk_service *cli_find_service(const char *name);

/* Print a JSON value to stdout, indented (2) with members in order and UTF-8 unescaped,
 * followed by a newline. */
void cli_print_json(const json_t *v);

/* Strictly decode text as JSON (any value; duplicate names refused). NULL after printing
 * an error naming `what`. */
json_t *cli_parse_json(const struct cli_cmd *cmd, const char *what, const char *text, size_t len);

/* Parse a positive number of seconds into milliseconds; -1 if the text is not one. */
long cli_seconds_ms(const char *text);

#endif
