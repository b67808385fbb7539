/* cmd_vendor_sim.c - `parklink vendor-sim`: a vendor's callback receiver, for tests.
 *
 * An HTTP server (h2o, one thread, its own event loop) that plays the vendor receiving
 * parklinkd's callbacks and commands (spec chapters 5, 6.4, 9.1, 11): every POST is parsed
 * as an envelope, matched to a P->V row of the service table, its sign verified, answered
 * as the script says (vendor_sim_script.c) with the reference's answers
 * (vendor_sim_answer.c), and recorded (vendor_sim_record.c). /_sim/... lets tests read the
 * record and change the script at run time. Delays and held answers are h2o timers, so a
 * held request never blocks the others. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "cli.h"
#include "parklink/envelope.h"
#include "vendor_sim_answer.h"
#include "vendor_sim_record.h"
#include "vendor_sim_script.h"
#include "vendor_sim_server.h"

#define SHUTDOWN_MS 3000 /* how long a stop waits for connections to finish */

static const struct cli_opt opts[] = {
    {"listen", 'l', "HOST:PORT", "PARKLINK_SIM_LISTEN", "127.0.0.1:9090",
     "address to listen on; port 0 picks a free port", 0},
    {"key", 'k', "KEY", "PARKLINK_KEY", NULL,
     "key that verifies messages whose union_id has no --vendor key", 0},
    {"vendor", 'V', "UNION_ID:KEY", NULL, NULL, "the key of one vendor (union_id)", 1},
    {"script", 's', "RULES", "PARKLINK_SIM_SCRIPT", "*=ok",
     "how to answer, e.g. 'query_price=fail:2,*=ok'; @FILE reads a file", 0},
    {"hold-ms", 0, "MS", NULL, "10000", "how long the timeout action holds a request", 0},
    {"log", 0, "FILE", NULL, NULL, "append one JSON line per message to FILE, not stdout", 0},
    {"quiet", 'q', NULL, NULL, NULL, "no log on stdout, no start-up line on stderr", 0},
    {"tariff", 0, "FREE:YUAN[:CAP]", NULL, "15:2:20",
     "query_price tariff: free minutes, yuan per started hour, daily cap", 0},
    {"keep", 0, "N", NULL, "10000", "messages kept in memory for /_sim/messages", 0},
    {"max-body", 0, "BYTES", NULL, "1048576", "largest request body accepted", 0},
    {NULL, 0, NULL, NULL, NULL, NULL, 0},
};

static int run(const struct cli_cmd *cmd, int argc, char **argv);

const struct cli_cmd cli_cmd_vendor_sim = {
    "vendor-sim",
    "",
    "act as a vendor's callback receiver: verify, answer and record what parklinkd sends",
    "Every POST (any path) is a message: its envelope is parsed, its service found by\n"
    "data.service_name (else the last path segment, else the one P->V row its fields fit),\n"
    "its sign checked with the --vendor key of its union_id, else --key. A bad sign is\n"
    "answered {\"state\":0,\"errmsg\":\"签名错误\"}, a body that does not parse HTTP 400.\n"
    "Unsigned rows (6.4) may come without sign, as a bare object.\n\n"
    "script: comma-separated SERVICE=ACTION rules; SERVICE is a service_name (or row id)\n"
    "or * for the rest; N counts the messages an action applies to, then ok follows:\n"
    "  ok            the reference's answer (questions get computed data; 5.4 a PNG)\n"
    "  fail[:N]      state 0 with the interface's failure text\n"
    "  http500[:N]   that HTTP status (any 400-599) with a state-0 body\n"
    "  timeout[:N]   hold the request --hold-ms, then answer ok (others go on)\n"
    "  delay:MS[:N]  answer ok after MS milliseconds\n"
    "  drop[:N]      close the connection without an answer\n"
    "  bad-json[:N]  HTTP 200 with a body that is not JSON\n"
    "  e.g. 'operate_liftrod=fail:2,space_notify=timeout:1,*=ok'\n\n"
    "log line: {\"seq\",\"time_ms\",\"path\",\"service_name\",\"section\",\"union_id\",\n"
    "\"sign_ok\",\"schema_ok\",\"duplicate\",\"action\",\"data\",\"body\",\"answer\",\n"
    "\"http_status\",\"latency_ms\"}, flushed per message.\n\n"
    "control: GET /healthz; GET /_sim/messages[?since=SEQ&service=NAME]; GET /_sim/stats;\n"
    "GET|POST /_sim/script (POST body: new rules); POST /_sim/reset (forget messages,\n"
    "counters and what the car park learnt).\n\n"
    "SIGTERM or SIGINT stops it (exit 0).\n\n"
    "example:\n"
    "  parklink vendor-sim --listen 127.0.0.1:9090 --key EA2D90FEEF1E9F8E \\\n"
    "      --script 'outpark=fail:2,*=ok' --log callbacks.jsonl\n",
    opts,
    run,
};

struct sim {
    struct sim_server srv;
    h2o_linklist_t pending; /* struct message: answers waiting for their timer */
    struct sim_script script;
    struct sim_memory mem;
    struct sim_tariff tariff;
    struct sim_records records;
    const char *key;
    json_t *vendors; /* union_id -> key */
    unsigned hold_ms;
};

struct sim_handler {
    h2o_handler_t super;
    struct sim *sim;
};

/* A message being answered: lives in its request's pool until it is answered. */
struct message {
    h2o_timeout_entry_t te;
    h2o_linklist_t link; /* in sim->pending while held */
    struct sim *sim;
    h2o_req_t *req;
    json_t *rec; /* the record being filled */
    struct sim_answer ans;
    long long t0_ms;
    char service[SIM_SCRIPT_NAME_MAX + 1];
    char action[16];
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int reply_error(h2o_req_t *req, int status, const char *errmsg)
{
    sim_send_error(req, status, errmsg);
    return 0;
}

static int reply_json(h2o_req_t *req, int status, json_t *v)
{
    sim_send_json(req, status, v);
    return 0;
}

/* ---- answering and recording ---------------------------------------------------------- */

/* Record the message with its answer, then send the answer (or close, for drop). The
 * message lives in the request's pool, so nothing touches it after the send. */
static void finish(struct message *m)
{
    struct sim *sim = m->sim;
    h2o_req_t *req = m->req;
    struct sim_answer ans = m->ans;

    if (h2o_linklist_is_linked(&m->link))
        h2o_linklist_unlink(&m->link);
    json_object_set(m->rec, "answer", ans.logged);
    json_object_set_new(m->rec, "http_status", ans.status ? json_integer(ans.status) : json_null());
    json_object_set_new(m->rec, "latency_ms", json_integer(now_ms() - m->t0_ms));
    sim_records_add(&sim->records, m->rec, m->service, m->action);
    json_decref(m->rec);
    m->rec = NULL;
    memset(&m->ans, 0, sizeof m->ans);

    if (ans.status == 0)
        sim_send_nothing(req); /* drop */
    else
        sim_send(req, ans.status, ans.content_type, ans.body, ans.len);
    sim_answer_cleanup(&ans);
}

static void on_timer(h2o_timeout_entry_t *te)
{
    finish(H2O_STRUCT_FROM_MEMBER(struct message, te, te));
}

/* Answer now, or after `ms` milliseconds from a timer. */
static void answer(struct message *m, int later, uint64_t ms)
{
    h2o_timeout_t *to;

    if (!later || (to = sim_server_timeout(&m->sim->srv, ms)) == NULL) {
        finish(m);
        return;
    }
    m->te.cb = on_timer;
    h2o_timeout_link(m->sim->srv.loop, to, &m->te);
    h2o_linklist_insert(&m->sim->pending, &m->link);
}

/* The body as a JSON string, or base64 when it is not UTF-8 text. */
static void record_body(json_t *rec, const char *body, size_t len)
{
    json_t *s = json_stringn(body ? body : "", len);

    if (s) {
        json_object_set_new(rec, "body", s);
        return;
    }
    json_object_set_new(rec, "body", json_null());
    char *b64 = malloc(4 * ((len + 2) / 3) + 1);
    if (b64 && len <= 0x7fffffff) {
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)body, (int)len);
        json_object_set_new(rec, "body_base64", json_string(b64));
    }
    free(b64);
}

/* The row a message without service_name is for: the last path segment, else the only
 * P->V row whose schema its data fits (with the row's service_name added). */
static const struct plk_service *infer_service(h2o_iovec_t path, const json_t *data)
{
    const struct plk_service *rows, *found = NULL;
    char seg[SIM_SCRIPT_NAME_MAX + 1];
    size_t n, i = path.len, fits = 0;

    while (i > 0 && path.base[i - 1] != '/')
        i--;
    if (path.len - i > 0 && path.len - i <= SIM_SCRIPT_NAME_MAX) {
        memcpy(seg, path.base + i, path.len - i);
        seg[path.len - i] = '\0';
        if ((found = plk_service_by_name(seg, PLK_DIR_P2V)) != NULL)
            return found;
        if ((found = plk_service_by_id(seg)) != NULL && found->dir == PLK_DIR_P2V)
            return found;
        found = NULL;
    }
    rows = plk_services(&n);
    for (i = 0; i < n; i++) {
        const struct plk_service *s = &rows[i];
        json_t *copy;
        int ok;
        if (s->dir != PLK_DIR_P2V)
            continue;
        if (json_is_array(data)) { /* only envelope D (9.1) carries an array */
            if (strcmp(s->envelope, "D") == 0)
                return s;
            continue;
        }
        /* a row without fields would fit every object */
        if (s->nfields == 0 || !json_is_object(data) || (copy = json_deep_copy(data)) == NULL)
            continue;
        if (s->service_name[0] && plk_service_field(s, "service_name"))
            json_object_set_new(copy, "service_name", json_string(s->service_name));
        ok = plk_service_validate(s, copy, NULL) == PLK_OK;
        json_decref(copy);
        if (ok) {
            found = s;
            fits++;
        }
    }
    return fits == 1 ? found : NULL;
}

/* A bare, unsigned message (envelope P, 6.4): the object whose fields fit an UNSIGNED
 * P->V row. Returns the row and the decoded object (new reference), or NULL. */
static const struct plk_service *bare_message(const char *body, size_t len, json_t **obj)
{
    const struct plk_service *rows;
    size_t n;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);

    *obj = NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    rows = plk_services(&n);
    for (size_t i = 0; i < n; i++)
        if (rows[i].dir == PLK_DIR_P2V && (rows[i].flags & PLK_SVC_UNSIGNED) &&
            plk_service_validate(&rows[i], o, NULL) == PLK_OK) {
            *obj = o;
            return &rows[i];
        }
    json_decref(o);
    return NULL;
}

static const char *key_for(struct sim *sim, const char *union_id)
{
    json_t *k = union_id[0] ? json_object_get(sim->vendors, union_id) : NULL;
    return k ? json_string_value(k) : sim->key;
}

static int on_message(struct sim *sim, h2o_req_t *req)
{
    struct message *m = h2o_mem_alloc_pool(&req->pool, sizeof *m);
    struct plk_envelope env;
    const struct plk_service *svc = NULL;
    const struct plk_field *bad = NULL;
    const json_t *data = NULL;
    json_t *bare = NULL;
    const char *body = req->entity.base, *name = NULL, *key;
    size_t len = req->entity.base ? req->entity.len : 0;
    enum plk_status st;
    struct sim_decision d = {SIM_ACT_OK, 0, -1, 0};
    char msg[256];
    int sign_ok = 0, later = 0;
    uint64_t wait = 0;

    memset(m, 0, sizeof *m);
    m->sim = sim;
    m->req = req;
    m->t0_ms = now_ms();
    /* the members in the order the log shows them; later steps fill them in */
    m->rec =
        json_pack("{s:i,s:I,s:n,s:n,s:n,s:n,s:b,s:n,s:n,s:b,s:s,s:n}", "seq", 0, "time_ms",
                  (json_int_t)m->t0_ms, "path", "service_name", "section", "union_id", "sign_ok", 0,
                  "schema_ok", "schema_error", "duplicate", 0, "action", "", "data");
    if (m->rec == NULL)
        return reply_error(req, 500, plk_errmsg(PLK_E_NOMEM));
    json_object_set_new(m->rec, "path", json_stringn(req->path.base, req->path.len));
    record_body(m->rec, body, len);

    st = plk_envelope_parse(&env, body, len, 0,
                            PLK_ENV_UNION_ID_OPTIONAL | PLK_ENV_DATA_ARRAY_OK |
                                PLK_ENV_SIGN_OPTIONAL);
    if (st == PLK_E_NO_DATA && (svc = bare_message(body, len, &bare)) != NULL) {
        data = bare;
        sign_ok = 1; /* an unsigned row: nothing to verify */
    } else if (st == PLK_OK) {
        data = env.data;
        name = env.service_name;
        if (name) {
            svc = plk_service_by_name(name, PLK_DIR_P2V);
        } else {
            svc = infer_service(req->path_normalized, data);
        }
        if (env.union_id[0])
            json_object_set_new(m->rec, "union_id", json_string(env.union_id));
        if (env.sign[0] == '\0' && !(svc && (svc->flags & PLK_SVC_UNSIGNED)))
            st = PLK_E_NO_SIGN;
        else if (env.sign[0] == '\0')
            sign_ok = 1;
        else if ((key = key_for(sim, env.union_id)) != NULL)
            sign_ok = plk_envelope_verify(&env, key) == PLK_OK;
    }
    if (data)
        json_object_set(m->rec, "data", (json_t *)data);
    if (name == NULL && svc)
        name = svc->service_name[0] ? svc->service_name : svc->id;
    snprintf(m->service, sizeof m->service, "%s", name ? name : "");
    if (name)
        json_object_set_new(m->rec, "service_name", json_string(name));
    if (svc) {
        json_object_set_new(m->rec, "section", json_string(svc->section));
        json_object_set_new(m->rec, "schema_ok",
                            json_boolean(plk_service_validate(svc, data, &bad) == PLK_OK));
        if (bad)
            json_object_set_new(m->rec, "schema_error", json_string(bad->name));
    }
    json_object_set_new(m->rec, "sign_ok", json_boolean(sign_ok));

    if (st != PLK_OK && bare == NULL) {
        snprintf(msg, sizeof msg, "%s%s%s", plk_errmsg(st), env.detail[0] ? ": " : "", env.detail);
        strcpy(m->action, "parse-error");
        if (sim_answer_error(&m->ans, 400, msg) != 0)
            goto oom;
    } else if (!sign_ok) {
        strcpy(m->action, "sign-error");
        if (sim_answer_error(&m->ans, 200, plk_errmsg(PLK_E_SIGN_MISMATCH)) != 0)
            goto oom;
    } else if (name && svc == NULL) {
        snprintf(msg, sizeof msg, "%s: %s", plk_errmsg(PLK_E_UNKNOWN_SERVICE), name);
        strcpy(m->action, "unknown-service");
        if (sim_answer_error(&m->ans, 200, msg) != 0)
            goto oom;
    } else {
        sim_script_decide(&sim->script, name, svc ? svc->id : NULL, &d);
        sim_action_label(d.action, d.arg, m->action, sizeof m->action);
        if (sim_answer_make(&sim->mem, &sim->tariff, svc, data, d.action, d.arg, m->t0_ms,
                            &m->ans) != 0)
            goto oom;
        json_object_set_new(m->rec, "duplicate", json_boolean(m->ans.duplicate));
        later = d.action == SIM_ACT_TIMEOUT || d.action == SIM_ACT_DELAY;
        wait = d.action == SIM_ACT_TIMEOUT ? sim->hold_ms : d.arg;
    }
    json_object_set_new(m->rec, "action", json_string(m->action));
    json_decref(bare);
    plk_envelope_cleanup(&env);
    answer(m, later, wait);
    return 0;
oom:
    json_decref(bare);
    plk_envelope_cleanup(&env);
    json_decref(m->rec);
    return reply_error(req, 500, plk_errmsg(PLK_E_NOMEM));
}

/* ---- control endpoints ---------------------------------------------------------------- */

/* The value of query parameter `name` (not decoded) into buf; 0 if absent. */
static int query_param(h2o_req_t *req, const char *name, char *buf, size_t cap)
{
    const char *p, *end = req->path.base + req->path.len;
    size_t nl = strlen(name);

    if (req->query_at == SIZE_MAX)
        return 0;
    for (p = req->path.base + req->query_at + 1; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        if ((size_t)(e - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
            snprintf(buf, cap, "%.*s", (int)(e - p - nl - 1), p + nl + 1);
            return 1;
        }
        p = e + 1;
    }
    return 0;
}

static int on_control(struct sim *sim, h2o_req_t *req, h2o_iovec_t path)
{
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
              h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    int post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
    char err[256];

    if (h2o_memis(path.base, path.len, H2O_STRLIT("/healthz")) && get)
        return reply_json(req, 200, json_pack("{s:i,s:s}", "state", 1, "errmsg", "ok"));
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_sim/messages")) && get) {
        char since_text[32], service[SIM_SCRIPT_NAME_MAX + 1], *end, *text;
        size_t len;
        unsigned long long since = 0;
        int by_service = query_param(req, "service", service, sizeof service);
        if (query_param(req, "since", since_text, sizeof since_text)) {
            since = strtoull(since_text, &end, 10);
            if (since_text[0] < '0' || since_text[0] > '9' || *end != '\0')
                return reply_error(req, 400, "since 须为非负整数");
        }
        if ((text = sim_records_list(&sim->records, since, by_service ? service : NULL, &len)) ==
            NULL)
            return reply_error(req, 500, plk_errmsg(PLK_E_NOMEM));
        sim_send(req, 200, SIM_JSON_TYPE, text, len);
        free(text);
        return 0;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_sim/stats")) && get) {
        json_t *s = sim_records_stats(&sim->records);
        size_t held = 0;
        for (h2o_linklist_t *l = sim->pending.next; l != &sim->pending; l = l->next)
            held++;
        if (s)
            json_object_set_new(s, "pending", json_integer((json_int_t)held));
        return reply_json(req, 200, s);
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_sim/script"))) {
        if (post && sim_script_parse(&sim->script, req->entity.base ? req->entity.base : "",
                                     req->entity.base ? req->entity.len : 0, err, sizeof err) != 0)
            return reply_error(req, 400, err);
        if (post || get) {
            json_t *j = sim_script_json(&sim->script);
            if (j)
                json_object_set_new(j, "state", json_integer(1));
            return reply_json(req, 200, j);
        }
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_sim/reset")) && post) {
        sim_records_reset(&sim->records);
        sim_memory_reset(&sim->mem);
        sim_script_rearm(&sim->script);
        return reply_json(req, 200, json_pack("{s:i,s:s}", "state", 1, "errmsg", "成功"));
    }
    if (!h2o_memis(path.base, path.len, H2O_STRLIT("/healthz")) &&
        !h2o_memis(path.base, path.len, H2O_STRLIT("/_sim/messages")) &&
        !h2o_memis(path.base, path.len, H2O_STRLIT("/_sim/stats")) &&
        !h2o_memis(path.base, path.len, H2O_STRLIT("/_sim/script")) &&
        !h2o_memis(path.base, path.len, H2O_STRLIT("/_sim/reset"))) {
        snprintf(err, sizeof err, "接口不存在: %.*s", (int)(path.len > 100 ? 100 : path.len),
                 path.base);
        return reply_error(req, 404, err);
    }
    return reply_error(req, 405, "请求方法不允许");
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct sim *sim = ((struct sim_handler *)self)->sim;
    h2o_iovec_t path = req->path_normalized;

    if (h2o_memis(path.base, path.len, H2O_STRLIT("/healthz")) ||
        (path.len >= 5 && memcmp(path.base, "/_sim", 5) == 0 &&
         (path.len == 5 || path.base[5] == '/')))
        return on_control(sim, req, path);
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("POST"));
        return reply_error(req, 405, "请求方法不允许");
    }
    return on_message(sim, req);
}

/* Read the options into sim and configure h2o. 0, or -1 after printing why. */
static int setup(const struct cli_cmd *cmd, struct sim *sim, const struct cli_args *a)
{
    struct sim_handler *h;
    char err[256], *text = NULL;
    size_t len;
    unsigned long v;
    char *end;
    const char *s;

    sim->key = cli_val(cmd, a, "key");
    if ((sim->vendors = json_object()) == NULL || sim_memory_init(&sim->mem) != 0) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    for (int i = 0; i < a->nocc; i++) {
        const char *colon = strchr(a->occ[i].val, ':');
        char id[PLK_UNION_ID_MAX + 1];
        json_t *raw;
        if (a->occ[i].opt != cli_opt_index(cmd, "vendor"))
            continue;
        if (colon == NULL || colon[1] == '\0' ||
            (raw = json_stringn(a->occ[i].val, (size_t)(colon - a->occ[i].val))) == NULL) {
            cli_usage_error(cmd, "--vendor '%s' is not UNION_ID:KEY", a->occ[i].val);
            return -1;
        }
        enum plk_status st = plk_union_id_text(raw, id);
        json_decref(raw);
        if (st != PLK_OK) {
            cli_usage_error(cmd, "--vendor '%s': union_id is not a positive integer",
                            a->occ[i].val);
            return -1;
        }
        json_object_set_new(sim->vendors, id, json_string(colon + 1));
    }
    if (sim->key == NULL && json_object_size(sim->vendors) == 0) {
        cli_usage_error(cmd, "no key: give --key KEY (or PARKLINK_KEY) or --vendor ID:KEY");
        return -1;
    }
    if (cli_read_input(cmd, cli_val(cmd, a, "script"), 1, &text, &len) != 0)
        return -1;
    if (sim_script_parse(&sim->script, text, len, err, sizeof err) != 0) {
        free(text);
        cli_usage_error(cmd, "--script: %s", err);
        return -1;
    }
    free(text);
    s = cli_val(cmd, a, "hold-ms");
    v = strtoul(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end || v > SIM_DELAY_MAX_MS) {
        cli_usage_error(cmd, "--hold-ms takes milliseconds (at most %u)", SIM_DELAY_MAX_MS);
        return -1;
    }
    sim->hold_ms = (unsigned)v;
    if (sim_tariff_parse(&sim->tariff, cli_val(cmd, a, "tariff")) != 0) {
        cli_usage_error(cmd, "--tariff takes FREE_MINUTES:YUAN_PER_HOUR[:DAILY_CAP] (15:2:20)");
        return -1;
    }
    s = cli_val(cmd, a, "keep");
    v = strtoul(s, &end, 10);
    if (s[0] < '1' || s[0] > '9' || *end || v > 10000000) {
        cli_usage_error(cmd, "--keep takes a number of messages (1-10000000)");
        return -1;
    }
    if (sim_records_init(&sim->records, cli_val(cmd, a, "log"), !cli_val(cmd, a, "quiet"),
                         (size_t)v, err, sizeof err) != 0) {
        cli_error(cmd, "%s", err);
        return -1;
    }
    s = cli_val(cmd, a, "max-body");
    v = strtoul(s, &end, 10);
    if (s[0] < '1' || s[0] > '9' || *end || v > (64ul << 20)) {
        cli_usage_error(cmd, "--max-body takes bytes (1-67108864)");
        return -1;
    }
    h = (struct sim_handler *)sim_server_init(&sim->srv, v, sizeof *h);
    h->super.on_req = on_req;
    h->sim = sim;
    return 0;
}

static int run(const struct cli_cmd *cmd, int argc, char **argv)
{
    /* static: h2o's objects stay reachable until they are torn down */
    static struct sim sim_storage;
    struct sim *sim = &sim_storage;
    struct cli_args a;
    char shown[300];
    int rc, clean;

    memset(sim, 0, sizeof *sim);
    h2o_linklist_init_anchor(&sim->pending);
    if ((rc = cli_parse(cmd, argc, argv, &a)) >= 0)
        return rc;
    if (a.npos > 0)
        return cli_usage_error(cmd, "unexpected argument '%s'", a.pos[0]);
    rc = CLI_USAGE;
    if (setup(cmd, sim, &a) != 0)
        goto out;
    rc = CLI_FAIL;
    if (sim_server_listen(&sim->srv, cmd, cli_val(cmd, &a, "listen"), shown, sizeof shown) != 0)
        goto out;
    if (!cli_val(cmd, &a, "quiet"))
        fprintf(stderr, "parklink vendor-sim: listening on %s (script %s)\n", shown,
                sim->script.text);

    sim_server_run(&sim->srv);

    /* what is held is answered now, then the connections may finish */
    while (!h2o_linklist_is_empty(&sim->pending)) {
        struct message *m = H2O_STRUCT_FROM_MEMBER(struct message, link, sim->pending.next);
        h2o_timeout_unlink(&m->te);
        finish(m);
    }
    clean = sim_server_drain(&sim->srv, SHUTDOWN_MS);
    if (!cli_val(cmd, &a, "quiet"))
        fprintf(stderr, "parklink vendor-sim: stopped after %llu message(s)\n",
                (unsigned long long)(sim->records.next_seq - 1));
    sim_server_dispose(&sim->srv, clean);
    rc = CLI_OK;
out:
    sim_server_dispose(&sim->srv, 0);
    sim_records_cleanup(&sim->records);
    sim_memory_cleanup(&sim->mem);
    json_decref(sim->vendors);
    return rc;
}
