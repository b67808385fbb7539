/* main.c - entry point of the `parklink` CLI: the list of commands and the dispatch.
 *
 * Every command lives in its own cli/cmd_*.c as one struct cli_cmd (cli.h); this file only
 * knows their order. Top level: `parklink --help`, `parklink --version`,
 * `parklink help [COMMAND]`, `parklink COMMAND [args]`. Exit codes are listed in cli.h. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "parklink/client.h"

#define PARKLINK_VERSION "0.1.0"

static const struct cli_cmd *const commands[] = {
    &cli_cmd_sign, &cli_cmd_verify, &cli_cmd_call, &cli_cmd_services, &cli_cmd_admin,
    &cli_cmd_vendor_sim,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fputs("usage: parklink [--help|--version] COMMAND [options] [args]\n\n"
          "Client of the Bolink (泊链) parking platform protocol: sign and verify messages,\n"
          "call any interface of the reference, read the service table, manage parklinkd.\n\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fputs("  help       show the help of a command\n\n"
          "'parklink COMMAND --help' shows a command's options. Exit codes: 0 success, 1\n"
          "signature/reply says no, 2 usage or input error, 3 transport error.\n",
          f);
}

static const struct cli_cmd *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const struct cli_cmd *cmd;
    int rc;

    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("parklink %s\n", PARKLINK_VERSION);
        return CLI_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc == 2) {
            usage(stdout);
            return CLI_OK;
        }
        if ((cmd = find(argv[2])) == NULL) {
            fprintf(stderr, "parklink: unknown command '%s'\n\n", argv[2]);
            usage(stderr);
            return CLI_USAGE;
        }
        cli_help(cmd, stdout);
        return CLI_OK;
    }
    if (argv[1][0] == '-') {
        fprintf(stderr, "parklink: unknown option '%s'\n\n", argv[1]);
        usage(stderr);
        return CLI_USAGE;
    }
    if ((cmd = find(argv[1])) == NULL) {
        fprintf(stderr, "parklink: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return CLI_USAGE;
    }
    if (plk_client_global_init() != PLK_OK) {
        fprintf(stderr, "parklink: libcurl failed to initialise\n");
        return CLI_TRANSPORT;
    }
    rc = cmd->run(cmd, argc - 1, argv + 1);
    plk_client_global_cleanup();
    fflush(stdout);
    return rc;
}
