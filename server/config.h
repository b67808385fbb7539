/* config.h - parklinkd's settings: command-line flags, PARKLINK_* environment, config file.
 *
 * One option table (config.c) drives parsing and `parklinkd --help`. Every option is a long
 * flag (--body-max), has an environment twin (PARKLINK_BODY_MAX) and may appear in the file
 * named by --config as "body-max = 65536". Precedence: flag > environment > file > default
 * (DESIGN decision 12). The struct is filled once in main() and read-only afterwards. */
#ifndef PARKLINK_CONFIG_H
#define PARKLINK_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#define CONFIG_STR_MAX 1024

struct config {
    char listen[CONFIG_STR_MAX];      /* HOST:PORT */
    char admin_listen[CONFIG_STR_MAX]; /* HOST:PORT of the admin API alone; "" = on listen */
    char store[CONFIG_STR_MAX];       /* SQLite path, sqlite:PATH or postgresql://... */
    unsigned threads;                 /* worker threads, >= 1 */
    char admin_token[CONFIG_STR_MAX]; /* "" = use the stored one / generate at first start */
    size_t body_max;                  /* vendor request body cap, bytes */
    size_t admin_body_max;            /* admin request body cap (bulk loads), bytes */
    unsigned max_connections;         /* open client connections, whole process */
    unsigned rate_limit;              /* per-vendor requests per second; 0 = off */
    int log_level;                    /* enum log_level */
    unsigned shutdown_timeout;        /* seconds to finish in-flight requests on SIGTERM */
    char public_url[CONFIG_STR_MAX]; /* base of addresses handed out (2.3 QR codes); "" =
                                        http://<listen> */
    char config_file[CONFIG_STR_MAX]; /* the file read, "" if none */
    /* the outbox (server/outbox/, docs/callbacks.md) */
    double retry_scale;               /* factor on the retry schedule (1.0 = the reference's) */
    unsigned callback_timeout;        /* ms a vendor has to answer a push */
    unsigned delivery_concurrency;    /* transfers in flight at most */
    unsigned outbox_retention;        /* s a delivered callback is kept; 0 = forever */
    unsigned longpoll_hold;           /* ms a bpd/download.do poll is held */
    unsigned clock_start;             /* tests: the vendor API's clock starts here; 0 = off */
    /* SDK HTTP-mode sessions (channels/sdk_session.h) */
    unsigned sdk_sessions_max;        /* whole table */
    unsigned sdk_sessions_per_vendor; /* per union_id */
    unsigned sdk_sessions_per_park;   /* per park_id */
    unsigned sdk_session_idle;        /* s unused before a session ends; 0 = never */
};

enum config_result {
    CONFIG_RUN = 0,   /* settings complete: start the server */
    CONFIG_EXIT = 1,  /* --help or --version was printed: exit 0 */
    CONFIG_ERROR = 2, /* a bad option or value; message and usage printed: exit 2 */
};

/* Fill cfg from defaults, the config file (--config or PARKLINK_CONFIG), the environment and
 * argv, in that order. Prints --help/--version to stdout and errors (with the usage) to
 * stderr. Not thread-safe (reads the environment). */
enum config_result config_load(struct config *cfg, int argc, char **argv);

/* Print the option list with each option's environment name and default. */
void config_usage(FILE *out);

#endif
