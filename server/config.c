/* config.c - the option table of parklinkd and the three places options come from.
 *
 * The table below is the only list of options: parsing flags, reading PARKLINK_* variables,
 * reading the --config file and printing --help all walk it, so they cannot drift apart. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <h2o/version.h>

#include "config.h"
#include "log.h"

#ifndef PLK_VERSION
#define PLK_VERSION "0.1.0"
#endif

enum opt_kind { K_STR, K_UINT, K_SIZE, K_LEVEL, K_CONFIG, K_REAL /* (0, max] */ };

struct opt {
    const char *name;    /* flag without "--"; also the config-file name */
    const char *metavar;
    enum opt_kind kind;
    size_t off;          /* member of struct config */
    unsigned long min, max;
    const char *help;
};

#define OFF(m) offsetof(struct config, m)

static const struct opt opts[] = {
    {"listen", "HOST:PORT", K_STR, OFF(listen), 0, 0,
     "address and port to accept HTTP on (IPv6 as [::]:8080)"},
    {"admin-listen", "HOST:PORT", K_STR, OFF(admin_listen), 0, 0,
     "serve the admin API (and /healthz, /metrics) on this address only, e.g. "
     "127.0.0.1:8081 (unset: the admin API shares --listen)"},
    {"store", "URI", K_STR, OFF(store), 0, 0,
     "database: a SQLite path, sqlite:PATH, or postgresql://..."},
    {"threads", "N", K_UINT, OFF(threads), 1, 256,
     "worker threads, each with its own event loop (default: number of cores)"},
    {"admin-token", "TOKEN", K_STR, OFF(admin_token), 0, 0,
     "bearer token of the admin API; unset: the stored one, generated and printed once "
     "at first start"},
    {"body-max", "BYTES", K_SIZE, OFF(body_max), 256, 64ul << 20,
     "largest request body accepted (suffix k or m allowed); larger: HTTP 413"},
    {"admin-body-max", "BYTES", K_SIZE, OFF(admin_body_max), 256, 1ul << 30,
     "largest admin API body (bulk plate loads); without --admin-listen it applies on "
     "connections whose first request carries the admin token, --body-max on all others"},
    {"max-connections", "N", K_UINT, OFF(max_connections), 1, 1000000,
     "open client connections at most (whole process); beyond it new ones wait"},
    {"rate-limit", "N", K_UINT, OFF(rate_limit), 0, 10000000,
     "requests per second allowed per vendor (union_id), 0 = no limit; beyond it HTTP 429"},
    {"log-level", "LEVEL", K_LEVEL, OFF(log_level), 0, 0, "error, warn, info or debug"},
    {"shutdown-timeout", "SECONDS", K_UINT, OFF(shutdown_timeout), 0, 3600,
     "on SIGTERM/SIGINT, time allowed for in-flight requests to finish"},
    {"public-url", "URL", K_STR, OFF(public_url), 0, 0,
     "how vendors and drivers reach this server (http[s]://host[:port]), the base of the QR "
     "code addresses 2.3 hands out; unset: http://<listen>"},
    {"retry-scale", "FACTOR", K_REAL, OFF(retry_scale), 0, 1000,
     "multiply the callback retry schedule (10, 20, 30, 40, 50, 80, 120, 160, 200, 300 s) "
     "by FACTOR; tests use small values"},
    {"callback-timeout", "MS", K_UINT, OFF(callback_timeout), 100, 600000,
     "milliseconds a vendor has to answer a callback before the attempt counts as failed"},
    {"delivery-concurrency", "N", K_UINT, OFF(delivery_concurrency), 1, 10000,
     "callback transfers in flight at once (at most one per car park)"},
    {"outbox-retention", "SECONDS", K_UINT, OFF(outbox_retention), 0, 3650u * 86400,
     "delivered callbacks (and their attempts) are deleted this long after delivery; 0 keeps "
     "them forever; pending and dead ones are always kept (default 30 days)"},
    {"longpoll-hold", "MS", K_UINT, OFF(longpoll_hold), 100, 300000,
     "milliseconds a /bpd/download.do long-poll is held before it answers \"no message\""},
    {"clock-start", "UNIXTIME", K_UINT, OFF(clock_start), 0, 4294967295ul,
     "for tests only: the clock the vendor API decides by (4.1's default period \"today, "
     "China Standard Time\", the limits of time fields, admission validity windows) reads "
     "UNIXTIME at start and runs on in real seconds; stored timestamps, the outbox and "
     "logs keep the system clock; 0 = the system clock everywhere"},
    {"sdk-sessions-max", "N", K_UINT, OFF(sdk_sessions_max), 1, 100000000,
     "SDK login sessions (bpd/upload.do) held in all; when full, idle ones end first, then "
     "the oldest of the vendor holding the most"},
    {"sdk-sessions-per-vendor", "N", K_UINT, OFF(sdk_sessions_per_vendor), 1, 100000000,
     "SDK sessions per vendor; a login past it ends that vendor's oldest session"},
    {"sdk-sessions-per-park", "N", K_UINT, OFF(sdk_sessions_per_park), 1, 100000000,
     "SDK sessions per car park; a login past it ends that park's oldest session"},
    {"sdk-session-idle", "SECONDS", K_UINT, OFF(sdk_session_idle), 0, 3650u * 86400,
     "an SDK session no request has named for this long ends (0 = never)"},
    {"config", "FILE", K_CONFIG, OFF(config_file), 0, 0,
     "read options from FILE: one \"name = value\" per line, names as the flags, # comments"},
};

#define NOPTS (sizeof opts / sizeof opts[0])

static void set_defaults(struct config *cfg)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->listen, "0.0.0.0:8080");
    strcpy(cfg->store, "./parklink.db");
    cfg->threads = cores > 0 ? (unsigned)(cores > 256 ? 256 : cores) : 1;
    cfg->body_max = 65536;
    cfg->admin_body_max = 64ul << 20;
    cfg->max_connections = 10000;
    cfg->rate_limit = 0;
    cfg->log_level = LOG_INFO;
    cfg->shutdown_timeout = 10;
    cfg->retry_scale = 1.0;
    cfg->callback_timeout = 5000;
    cfg->delivery_concurrency = 256;
    cfg->outbox_retention = 30u * 86400;
    cfg->longpoll_hold = 30000;
    cfg->sdk_sessions_max = 100000;
    cfg->sdk_sessions_per_vendor = 10000;
    cfg->sdk_sessions_per_park = 256;
    cfg->sdk_session_idle = 3600;
}

static const struct opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

/* PARKLINK_ + upper-case name with '-' as '_'. */
static void env_name(const struct opt *o, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "PARKLINK_");
    for (const char *p = o->name; *p && n + 1 < cap; p++)
        out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[n] = '\0';
}

/* Parse a decimal count with an optional k/m suffix (x1024); 0 on success. */
static int parse_number(const char *s, int allow_suffix, unsigned long *out)
{
    char *end;
    unsigned long v;

    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno)
        return -1;
    if (allow_suffix && (*end == 'k' || *end == 'K') && end[1] == '\0') {
        if (v > (~0ul >> 10))
            return -1;
        v <<= 10;
        end++;
    } else if (allow_suffix && (*end == 'm' || *end == 'M') && end[1] == '\0') {
        if (v > (~0ul >> 20))
            return -1;
        v <<= 20;
        end++;
    }
    if (*end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* Store `value` into the option's member; on error writes a message naming `where`. */
static int set_opt(struct config *cfg, const struct opt *o, const char *value, const char *where,
                   char *err, size_t errlen)
{
    char *field = (char *)cfg + o->off;
    unsigned long v;
    int level;

    switch (o->kind) {
    case K_STR:
    case K_CONFIG:
        if (strlen(value) >= CONFIG_STR_MAX) {
            snprintf(err, errlen, "%s: value longer than %d bytes", where, CONFIG_STR_MAX - 1);
            return -1;
        }
        if (value[0] == '\0' && o->off != OFF(admin_token)) {
            snprintf(err, errlen, "%s: empty value", where);
            return -1;
        }
        strcpy(field, value);
        return 0;
    case K_UINT:
    case K_SIZE:
        if (parse_number(value, o->kind == K_SIZE, &v) != 0 || v < o->min || v > o->max) {
            snprintf(err, errlen, "%s: '%s' is not a whole number from %lu to %lu%s", where,
                     value, o->min, o->max, o->kind == K_SIZE ? " (k/m suffix allowed)" : "");
            return -1;
        }
        if (o->kind == K_SIZE)
            *(size_t *)field = v;
        else
            *(unsigned *)field = (unsigned)v;
        return 0;
    case K_LEVEL:
        if ((level = log_level_parse(value)) < 0) {
            snprintf(err, errlen, "%s: '%s' is not one of error, warn, info, debug", where,
                     value);
            return -1;
        }
        *(int *)field = level;
        return 0;
    case K_REAL: {
        char *end = NULL;
        double d;

        errno = 0;
        d = strtod(value, &end);
        if (errno || end == value || *end != '\0' || !(d > 0) || d > (double)o->max) {
            snprintf(err, errlen, "%s: '%s' is not a number greater than 0 and at most %lu",
                     where, value, o->max);
            return -1;
        }
        *(double *)field = d;
        return 0;
    }
    }
    return -1;
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int read_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    char line[CONFIG_STR_MAX + 128], where[CONFIG_STR_MAX + 64];
    FILE *f = fopen(path, "r");
    int lineno = 0, rc = -1;

    if (f == NULL) {
        snprintf(err, errlen, "--config: cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line), *eq, *name, *value;
        const struct opt *o;
        size_t vlen;

        lineno++;
        if (*s == '\0' || *s == '#')
            continue;
        if ((eq = strchr(s, '=')) == NULL) {
            snprintf(err, errlen, "%s:%d: expected \"name = value\"", path, lineno);
            goto out;
        }
        *eq = '\0';
        name = trim(s);
        value = trim(eq + 1);
        vlen = strlen(value);
        if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
            value[vlen - 1] = '\0';
            value++;
        }
        o = find_opt(name, strlen(name));
        if (o == NULL || o->kind == K_CONFIG) {
            snprintf(err, errlen, "%s:%d: unknown option '%s'", path, lineno, name);
            goto out;
        }
        snprintf(where, sizeof where, "%s:%d: %s", path, lineno, name);
        if (set_opt(cfg, o, value, where, err, errlen) != 0)
            goto out;
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

/* Value of --config in argv, if any (read before everything else it overrides). */
static const char *argv_config(int argc, char **argv)
{
    const char *found = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            found = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            found = argv[i] + 9;
    }
    return found;
}

static int read_env(struct config *cfg, char *err, size_t errlen)
{
    char name[64];
    for (size_t i = 0; i < NOPTS; i++) {
        const char *v;
        if (opts[i].kind == K_CONFIG)
            continue;
        env_name(&opts[i], name, sizeof name);
        if ((v = getenv(name)) != NULL && set_opt(cfg, &opts[i], v, name, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int read_argv(struct config *cfg, int argc, char **argv, int *exit_now, char *err,
                     size_t errlen)
{
    char where[96];
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value, *eq;
        const struct opt *o;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            config_usage(stdout);
            *exit_now = 1;
            return 0;
        }
        if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
            printf("parklinkd %s (h2o %s)\n", PLK_VERSION, H2O_VERSION);
            *exit_now = 1;
            return 0;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            snprintf(err, errlen, "unexpected argument '%s'", arg);
            return -1;
        }
        arg += 2;
        eq = strchr(arg, '=');
        o = find_opt(arg, eq ? (size_t)(eq - arg) : strlen(arg));
        if (o == NULL) {
            snprintf(err, errlen, "unknown option '%s'", argv[i]);
            return -1;
        }
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            snprintf(err, errlen, "option '--%s' needs a value (%s)", o->name, o->metavar);
            return -1;
        }
        snprintf(where, sizeof where, "--%s", o->name);
        if (o->kind != K_CONFIG && set_opt(cfg, o, value, where, err, errlen) != 0)
            return -1;
    }
    return 0;
}

enum config_result config_load(struct config *cfg, int argc, char **argv)
{
    char err[CONFIG_STR_MAX + 256];
    const char *file;
    int exit_now = 0;

    set_defaults(cfg);
    file = argv_config(argc, argv);
    if (file == NULL)
        file = getenv("PARKLINK_CONFIG");
    if (file && file[0]) {
        if (strlen(file) >= CONFIG_STR_MAX) {
            snprintf(err, sizeof err, "--config: path too long");
            goto fail;
        }
        strcpy(cfg->config_file, file);
        if (read_file(cfg, file, err, sizeof err) != 0)
            goto fail;
    }
    if (read_env(cfg, err, sizeof err) != 0)
        goto fail;
    if (read_argv(cfg, argc, argv, &exit_now, err, sizeof err) != 0)
        goto fail;
    return exit_now ? CONFIG_EXIT : CONFIG_RUN;
fail:
    fprintf(stderr, "parklinkd: %s\n\n", err);
    config_usage(stderr);
    return CONFIG_ERROR;
}

static void format_default(const struct config *d, const struct opt *o, char *out, size_t cap)
{
    const char *field = (const char *)d + o->off;
    switch (o->kind) {
    case K_STR:
    case K_CONFIG:
        snprintf(out, cap, "%s", field[0] ? field : "(none)");
        break;
    case K_UINT:
        snprintf(out, cap, "%u", *(const unsigned *)field);
        break;
    case K_SIZE:
        snprintf(out, cap, "%zu", *(const size_t *)field);
        break;
    case K_LEVEL:
        snprintf(out, cap, "%s", log_level_name(*(const int *)field));
        break;
    case K_REAL:
        snprintf(out, cap, "%g", *(const double *)field);
        break;
    }
}

/* Print text wrapped at 96 columns, continuation lines indented by `indent`. */
static void print_wrapped(FILE *out, const char *text, int indent)
{
    int col = indent;
    const char *p = text;

    while (*p) {
        const char *sp = strchr(p, ' ');
        int w = sp ? (int)(sp - p) : (int)strlen(p);
        if (col > indent && col + 1 + w > 96) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, (size_t)w, out);
        col += w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

void config_usage(FILE *out)
{
    struct config d;
    char head[64], env[64], def[CONFIG_STR_MAX];

    set_defaults(&d);
    fprintf(out, "Usage: parklinkd [OPTION]...\n"
                 "The Bolink (泊链) parking platform server: vendor API under /unionapi/, "
                 "admin API\nunder /admin/v1/, GET /healthz, GET /metrics.\n\n"
                 "Options (each also settable in the environment as PARKLINK_<NAME>, or as\n"
                 "\"name = value\" in the --config file; flags win over the environment, the\n"
                 "environment over the file):\n");
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *o = &opts[i];
        snprintf(head, sizeof head, "--%s %s", o->name, o->metavar);
        env_name(o, env, sizeof env);
        format_default(&d, o, def, sizeof def);
        fprintf(out, "  %-28s ", head);
        print_wrapped(out, o->help, 31);
        fprintf(out, "  %-28s %s, default %s\n", "", env, def);
    }
    fprintf(out, "  %-28s %s\n  %-28s %s\n", "-h, --help", "print this text and exit",
            "-V, --version", "print the version and exit");
}
