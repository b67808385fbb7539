/* vendor_sim_script.h - the answer script of `parklink vendor-sim` (cmd_vendor_sim.c).
 *
 * A script is comma-separated rules "SERVICE=ACTION[:ARG][:COUNT]" that decide how the
 * simulated vendor answers each message: ok, fail, httpNNN, timeout, delay, drop, bad-json.
 * SERVICE is a service_name (or row id) of a P->V row of the service table, or `*`. Each
 * rule counts the messages it matched, so "fail:2" fails twice and then answers ok.
 * Pure data and parsing: no I/O, no h2o; single-threaded use. */
#ifndef PARKLINK_VENDOR_SIM_SCRIPT_H
#define PARKLINK_VENDOR_SIM_SCRIPT_H

#include <stddef.h>
#include <jansson.h>

#define SIM_SCRIPT_MAX_RULES 64
#define SIM_SCRIPT_MAX_TEXT 4096
#define SIM_SCRIPT_NAME_MAX 64
#define SIM_DELAY_MAX_MS 3600000u

enum sim_action {
    SIM_ACT_OK,       /* the canned success answer */
    SIM_ACT_FAIL,     /* HTTP 200, state 0 */
    SIM_ACT_HTTP,     /* HTTP error status (arg: 400..599), state 0 body */
    SIM_ACT_TIMEOUT,  /* hold the request for --hold-ms, then answer ok */
    SIM_ACT_DELAY,    /* answer ok after arg milliseconds */
    SIM_ACT_DROP,     /* close the connection without an answer */
    SIM_ACT_BAD_JSON, /* HTTP 200 with a body that is not JSON */
};

struct sim_rule {
    char name[SIM_SCRIPT_NAME_MAX + 1]; /* service_name, row id or "*" */
    enum sim_action action;
    unsigned arg;          /* SIM_ACT_HTTP: status; SIM_ACT_DELAY: milliseconds */
    long limit;            /* the action applies to the first `limit` matches; -1: to all */
    unsigned long matched; /* messages this rule matched since the script was (re)armed */
};

struct sim_script {
    struct sim_rule rules[SIM_SCRIPT_MAX_RULES];
    size_t n;
    char text[SIM_SCRIPT_MAX_TEXT + 1]; /* the script as given, trimmed */
};

/* What the script decided for one message. */
struct sim_decision {
    enum sim_action action; /* SIM_ACT_OK once a rule's count is used up */
    unsigned arg;
    int rule;          /* index of the matching rule, -1 when none matched */
    unsigned long nth; /* this message is the rule's nth match (1-based); 0 if none */
};

/* Parse `text` (len bytes, need not be NUL-terminated) into *s. An empty text means "*=ok".
 * Rule names must be `*` or name a P->V row (service_name or id); a name may appear once.
 * On error returns -1 with a one-line reason in err (s is then unchanged); 0 on success. */
int sim_script_parse(struct sim_script *s, const char *text, size_t len, char *err, size_t errcap);

/* Decide the answer to a message of service `name` (row `id`; either may be NULL or ""):
 * the first rule naming it, else the `*` rule, else ok. Counts the match. */
void sim_script_decide(struct sim_script *s, const char *name, const char *id,
                       struct sim_decision *d);

/* Reset every rule's match counter (POST /_sim/reset). */
void sim_script_rearm(struct sim_script *s);

/* "ok", "fail", "http", "timeout", "delay", "drop", "bad-json". */
const char *sim_action_name(enum sim_action a);

/* The action as the log and stats name it: like sim_action_name() but "http500" etc. for
 * SIM_ACT_HTTP. Writes into buf (at least 16 bytes) and returns it. */
const char *sim_action_label(enum sim_action a, unsigned arg, char *buf, size_t cap);

/* {"script": text, "rules": [{"service","action","arg"?,"count"?,"matched"}...]}; new
 * reference, NULL on allocation failure. */
json_t *sim_script_json(const struct sim_script *s);

#endif
