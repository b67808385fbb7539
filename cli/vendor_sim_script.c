/* vendor_sim_script.c - parse and apply the answer script of `parklink vendor-sim`.
 *
 * Grammar (whitespace around tokens is ignored; rules are separated by ',' or newlines):
 *   SCRIPT := RULE { "," RULE }        RULE := NAME "=" ACTION
 *   ACTION := "ok" | "fail" [":" N] | "http" CODE [":" N] | "timeout" [":" N]
 *           | "delay" ":" MS [":" N] | "drop" [":" N] | "bad-json" [":" N]
 * N counts the messages the action applies to; without it the action applies to all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parklink/services.h"
#include "vendor_sim_script.h"

static const struct {
    const char *word;
    enum sim_action action;
} actions[] = {
    {"ok", SIM_ACT_OK},       {"fail", SIM_ACT_FAIL}, {"timeout", SIM_ACT_TIMEOUT},
    {"delay", SIM_ACT_DELAY}, {"drop", SIM_ACT_DROP}, {"bad-json", SIM_ACT_BAD_JSON},
};

const char *sim_action_name(enum sim_action a)
{
    if (a == SIM_ACT_HTTP)
        return "http";
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (actions[i].action == a)
            return actions[i].word;
    return "?";
}

const char *sim_action_label(enum sim_action a, unsigned arg, char *buf, size_t cap)
{
    if (a == SIM_ACT_HTTP)
        snprintf(buf, cap, "http%u", arg);
    else
        snprintf(buf, cap, "%s", sim_action_name(a));
    return buf;
}

/* Trim spaces, tabs and CRs from both ends of [*b, *e). */
static void trim(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t' || **b == '\r'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

/* Parse the decimal number [b, e) into *out (max inclusive). -1 if it is not one. */
static int number(const char *b, const char *e, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;

    trim(&b, &e);
    if (b == e || e - b > 10)
        return -1;
    for (; b < e; b++) {
        if (*b < '0' || *b > '9')
            return -1;
        v = v * 10 + (unsigned long)(*b - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static int known_name(const char *name)
{
    const struct plk_service *s;

    if (strcmp(name, "*") == 0)
        return 1;
    if (plk_service_by_name(name, PLK_DIR_P2V))
        return 1;
    s = plk_service_by_id(name);
    return s && s->dir == PLK_DIR_P2V;
}

/* Parse one rule [b, e) into r. */
static int parse_rule(struct sim_rule *r, const char *b, const char *e, char *err, size_t errcap)
{
    const char *eq = memchr(b, '=', (size_t)(e - b)), *nb = b, *ne, *ab, *ae, *c1, *c2 = NULL;
    unsigned long v;
    size_t wl;
    int act = -1;

    memset(r, 0, sizeof *r);
    r->limit = -1;
    if (eq == NULL) {
        snprintf(err, errcap, "rule '%.*s' is not SERVICE=ACTION", (int)(e - b), b);
        return -1;
    }
    ne = eq;
    trim(&nb, &ne);
    if (ne == nb || (size_t)(ne - nb) > SIM_SCRIPT_NAME_MAX) {
        snprintf(err, errcap, "rule '%.*s': bad service name", (int)(e - b), b);
        return -1;
    }
    memcpy(r->name, nb, (size_t)(ne - nb));
    r->name[ne - nb] = '\0';
    if (!known_name(r->name)) {
        snprintf(err, errcap,
                 "rule '%.*s': '%s' is not '*' nor a callback service "
                 "(see 'parklink services')",
                 (int)(e - b), b, r->name);
        return -1;
    }
    ab = eq + 1;
    ae = e;
    trim(&ab, &ae);
    /* ACTION [":" X [":" Y]] */
    c1 = memchr(ab, ':', (size_t)(ae - ab));
    if (c1)
        c2 = memchr(c1 + 1, ':', (size_t)(ae - c1 - 1));
    wl = (size_t)((c1 ? c1 : ae) - ab);
    {
        const char *wb = ab, *we = ab + wl;
        trim(&wb, &we);
        wl = (size_t)(we - wb);
        ab = wb;
    }
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strlen(actions[i].word) == wl && memcmp(actions[i].word, ab, wl) == 0)
            act = (int)actions[i].action;
    if (act == -1 && wl == 7 && memcmp(ab, "http", 4) == 0) {
        if (number(ab + 4, ab + 7, 599, &v) != 0 || v < 400) {
            snprintf(err, errcap, "rule '%s': http needs a status 400-599 (http500)", r->name);
            return -1;
        }
        act = SIM_ACT_HTTP;
        r->arg = (unsigned)v;
    }
    r->action = (enum sim_action)(act < 0 ? 0 : act);
    if (act == -1) {
        snprintf(err, errcap,
                 "rule '%s': unknown action '%.*s' (ok, fail, httpNNN, timeout, "
                 "delay, drop, bad-json)",
                 r->name, (int)wl, ab);
        return -1;
    }
    if (r->action == SIM_ACT_DELAY) {
        if (c1 == NULL || number(c1 + 1, c2 ? c2 : ae, SIM_DELAY_MAX_MS, &v) != 0) {
            snprintf(err, errcap, "rule '%s': delay needs milliseconds (delay:200), at most %u",
                     r->name, SIM_DELAY_MAX_MS);
            return -1;
        }
        r->arg = (unsigned)v;
        c1 = c2;
        c2 = NULL;
    }
    if (c2 != NULL) {
        snprintf(err, errcap, "rule '%s': too many ':' parts", r->name);
        return -1;
    }
    if (c1 != NULL) {
        if (r->action == SIM_ACT_OK) {
            snprintf(err, errcap, "rule '%s': ok takes no count", r->name);
            return -1;
        }
        if (number(c1 + 1, ae, 1000000000UL, &v) != 0 || v == 0) {
            snprintf(err, errcap, "rule '%s': the count must be a positive number", r->name);
            return -1;
        }
        r->limit = (long)v;
    }
    return 0;
}

int sim_script_parse(struct sim_script *s, const char *text, size_t len, char *err, size_t errcap)
{
    struct sim_script *tmp;
    const char *b = text, *e = text + len, *p;
    int rc = -1;

    trim(&b, &e);
    while (b < e && (*b == '\n' || e[-1] == '\n')) { /* a file's trailing newline */
        if (*b == '\n')
            b++;
        else
            e--;
        trim(&b, &e);
    }
    if ((size_t)(e - b) > SIM_SCRIPT_MAX_TEXT) {
        snprintf(err, errcap, "script longer than %d bytes", SIM_SCRIPT_MAX_TEXT);
        return -1;
    }
    if (memchr(b, '\0', (size_t)(e - b))) {
        snprintf(err, errcap, "script contains a NUL byte");
        return -1;
    }
    if ((tmp = calloc(1, sizeof *tmp)) == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    if (b == e) {
        strcpy(tmp->rules[0].name, "*");
        tmp->rules[0].action = SIM_ACT_OK;
        tmp->rules[0].limit = -1;
        tmp->n = 1;
        strcpy(tmp->text, "*=ok");
        goto done;
    }
    memcpy(tmp->text, b, (size_t)(e - b));
    for (p = b; p <= e;) {
        const char *q = p;
        while (q < e && *q != ',' && *q != '\n')
            q++;
        const char *rb = p, *re = q;
        trim(&rb, &re);
        if (rb < re) {
            if (tmp->n == SIM_SCRIPT_MAX_RULES) {
                snprintf(err, errcap, "more than %d rules", SIM_SCRIPT_MAX_RULES);
                goto out;
            }
            if (parse_rule(&tmp->rules[tmp->n], rb, re, err, errcap) != 0)
                goto out;
            for (size_t i = 0; i < tmp->n; i++)
                if (strcmp(tmp->rules[i].name, tmp->rules[tmp->n].name) == 0) {
                    snprintf(err, errcap, "'%s' has two rules", tmp->rules[i].name);
                    goto out;
                }
            tmp->n++;
        }
        p = q + 1;
    }
done:
    memcpy(s, tmp, sizeof *s);
    rc = 0;
out:
    free(tmp);
    return rc;
}

void sim_script_decide(struct sim_script *s, const char *name, const char *id,
                       struct sim_decision *d)
{
    int hit = -1, star = -1;

    for (size_t i = 0; i < s->n && hit < 0; i++) {
        const char *rn = s->rules[i].name;
        if (strcmp(rn, "*") == 0)
            star = (int)i;
        else if ((name && strcmp(rn, name) == 0) || (id && strcmp(rn, id) == 0))
            hit = (int)i;
    }
    if (hit < 0)
        hit = star;
    memset(d, 0, sizeof *d);
    d->rule = hit;
    d->action = SIM_ACT_OK;
    if (hit < 0)
        return;
    struct sim_rule *r = &s->rules[hit];
    d->nth = ++r->matched;
    if (r->limit < 0 || d->nth <= (unsigned long)r->limit) {
        d->action = r->action;
        d->arg = r->arg;
    }
}

void sim_script_rearm(struct sim_script *s)
{
    for (size_t i = 0; i < s->n; i++)
        s->rules[i].matched = 0;
}

json_t *sim_script_json(const struct sim_script *s)
{
    json_t *o = json_object(), *rules = json_array();

    if (o == NULL || rules == NULL) {
        json_decref(o);
        json_decref(rules);
        return NULL;
    }
    json_object_set_new(o, "script", json_string(s->text));
    json_object_set_new(o, "rules", rules);
    for (size_t i = 0; i < s->n; i++) {
        const struct sim_rule *r = &s->rules[i];
        char label[16];
        json_t *j = json_pack("{s:s,s:s}", "service", r->name, "action",
                              sim_action_label(r->action, r->arg, label, sizeof label));
        if (j == NULL)
            continue;
        if (r->action == SIM_ACT_DELAY)
            json_object_set_new(j, "ms", json_integer(r->arg));
        if (r->limit >= 0)
            json_object_set_new(j, "count", json_integer(r->limit));
        json_object_set_new(j, "matched", json_integer((json_int_t)r->matched));
        json_array_append_new(rules, j);
    }
    return o;
}
