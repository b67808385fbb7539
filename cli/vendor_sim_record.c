/* vendor_sim_record.c - the message log and ring of `parklink vendor-sim` (see the header).
 *
 * The ring drops its oldest entries when it holds `keep` of them or SIM_RECORDS_MAX_BYTES
 * of text, so a long-running simulator stays bounded; the log file keeps everything. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vendor_sim_record.h"

int sim_records_init(struct sim_records *r, const char *log_path, int to_stdout, size_t keep,
                     char *err, size_t errcap)
{
    memset(r, 0, sizeof *r);
    r->next_seq = 1;
    r->cap = keep ? keep : 1;
    r->ring = calloc(r->cap, sizeof *r->ring);
    r->by_service = json_object();
    r->by_answer = json_object();
    if (r->ring == NULL || r->by_service == NULL || r->by_answer == NULL) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    if (log_path) {
        if ((r->out = fopen(log_path, "a")) == NULL) {
            snprintf(err, errcap, "cannot open %s: %s", log_path, strerror(errno));
            goto fail;
        }
        r->own_out = 1;
    } else if (to_stdout) {
        r->out = stdout;
    }
    return 0;
fail:
    sim_records_cleanup(r);
    return -1;
}

static void drop_oldest(struct sim_records *r)
{
    struct sim_entry *e = &r->ring[r->first];

    r->bytes -= e->len;
    free(e->service);
    free(e->line);
    memset(e, 0, sizeof *e);
    r->first = (r->first + 1) % r->cap;
    r->n--;
}

static void count(json_t *table, const char *name)
{
    json_t *v = json_object_get(table, name);
    json_object_set_new(table, name, json_integer(v ? json_integer_value(v) + 1 : 1));
}

uint64_t sim_records_add(struct sim_records *r, json_t *rec, const char *service,
                         const char *action)
{
    static int warned;
    uint64_t seq = r->next_seq++;
    struct sim_entry *e;
    char *line;

    json_object_set_new(rec, "seq", json_integer((json_int_t)seq));
    r->total++;
    count(r->by_service, service[0] ? service : "-");
    count(r->by_answer, action);
    if ((line = json_dumps(rec, JSON_COMPACT)) == NULL)
        return seq;
    if (r->out) {
        if ((fputs(line, r->out) == EOF || fputc('\n', r->out) == EOF || fflush(r->out) != 0) &&
            !warned) {
            fprintf(stderr, "parklink vendor-sim: cannot write the log: %s\n", strerror(errno));
            warned = 1;
        }
    }
    while (r->n > 0 && (r->n == r->cap || r->bytes + strlen(line) > SIM_RECORDS_MAX_BYTES))
        drop_oldest(r);
    e = &r->ring[(r->first + r->n) % r->cap];
    e->seq = seq;
    e->line = line;
    e->len = strlen(line);
    e->service = strdup(service);
    if (e->service == NULL) {
        free(line);
        memset(e, 0, sizeof *e);
        return seq;
    }
    r->bytes += e->len;
    r->n++;
    return seq;
}

char *sim_records_list(const struct sim_records *r, uint64_t since, const char *service,
                       size_t *len)
{
    size_t need = 3, at = 0;
    char *out;

    for (size_t i = 0; i < r->n; i++) {
        const struct sim_entry *e = &r->ring[(r->first + i) % r->cap];
        if (e->seq > since && (service == NULL || strcmp(service, e->service) == 0))
            need += e->len + 1;
    }
    if ((out = malloc(need)) == NULL)
        return NULL;
    out[at++] = '[';
    for (size_t i = 0; i < r->n; i++) {
        const struct sim_entry *e = &r->ring[(r->first + i) % r->cap];
        if (e->seq <= since || (service != NULL && strcmp(service, e->service) != 0))
            continue;
        if (at > 1)
            out[at++] = ',';
        memcpy(out + at, e->line, e->len);
        at += e->len;
    }
    out[at++] = ']';
    out[at] = '\0';
    *len = at;
    return out;
}

json_t *sim_records_stats(const struct sim_records *r)
{
    return json_pack("{s:I,s:I,s:I,s:O,s:O}", "messages", (json_int_t)r->total, "kept",
                     (json_int_t)r->n, "last_seq", (json_int_t)(r->next_seq - 1), "by_service",
                     r->by_service, "by_answer", r->by_answer);
}

void sim_records_reset(struct sim_records *r)
{
    while (r->n > 0)
        drop_oldest(r);
    r->first = 0;
    r->total = 0;
    json_object_clear(r->by_service);
    json_object_clear(r->by_answer);
}

void sim_records_cleanup(struct sim_records *r)
{
    if (r->ring)
        sim_records_reset(r);
    free(r->ring);
    json_decref(r->by_service);
    json_decref(r->by_answer);
    if (r->own_out && r->out)
        fclose(r->out);
    memset(r, 0, sizeof *r);
}
