/* http/admin.c - admin requests run on their own thread (see http/admin.h).
 *
 * A job copies what admin_handle() needs out of the request (so the admin thread never
 * touches h2o memory), waits in a FIFO, runs, and travels back to its worker as an
 * h2o_multithread message. If the request was freed meanwhile (client gone), the reply is
 * dropped. One admin thread keeps admin writes strictly ordered. */
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "http/admin.h"
#include "http/worker.h"
#include "log.h"
#include "metrics.h"
#include "http/reply.h"

struct admin_job {
    h2o_multithread_message_t msg; /* back to the worker; link must start unlinked */
    struct admin_job *next;        /* admin FIFO */
    struct http_worker *worker;
    h2o_req_t *req;                /* NULL once the request was freed */
    struct admin_job **hook;       /* the request-pool slot pointing back at this job */
    char *method, *path, *query, *auth, *body;
    size_t path_len, query_len, auth_len, body_len;
    struct admin_reply reply;
    atomic_int handoff;            /* deferred replies: 1 admin thread done, 2 reply ready */
};

static pthread_t tid;
static int running;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct admin_job *head, **tail = &head;
static int stopping;

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p == NULL)
        h2o_fatal("out of memory");
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void job_free(struct admin_job *job)
{
    free(job->method);
    free(job->path);
    free(job->query);
    free(job->auth);
    free(job->body);
    free(job->reply.body);
    free(job);
}

/* The reply of a deferred job (admin/admin.h, rq->later) is ready: send it home, unless the admin
 * thread is still inside admin_handle for it (then it sends). */
static void job_later(void *arg)
{
    struct admin_job *job = arg;

    if (atomic_exchange(&job->handoff, 2) == 1)
        h2o_multithread_send_message(&job->worker->admin_done, &job->msg);
}

static void *admin_main(void *arg)
{
    pthread_mutex_lock(&mu);
    for (;;) {
        struct admin_job *job;
        int deferred;
        while (head == NULL && !stopping)
            pthread_cond_wait(&cv, &mu);
        if (head == NULL)
            break;
        job = head;
        if ((head = job->next) == NULL)
            tail = &head;
        pthread_mutex_unlock(&mu);

        struct admin_request rq = {
            .method = job->method,
            .path = job->path,
            .path_len = job->path_len,
            .query = job->query,
            .query_len = job->query_len,
            .authorization = job->auth,
            .authorization_len = job->auth_len,
            .body = job->body,
            .body_len = job->body_len,
        };
        rq.later = job_later;
        rq.later_arg = job;
        rq.deferred = &deferred;
        deferred = 0;
        atomic_store(&job->handoff, 0);
        admin_handle(&rq, &job->reply);
        /* a question to a vendor is answered from the delivery thread: whichever of the
         * two threads comes second sends the reply home (job_later) */
        if (!deferred || atomic_exchange(&job->handoff, 1) == 2)
            h2o_multithread_send_message(&job->worker->admin_done, &job->msg);
        /* A bulk load decodes megabytes of JSON and rebuilds plate indexes; give the freed
         * pages back to the system instead of keeping them in malloc's arenas (admin
         * requests are rare; this costs a few milliseconds off the request path). */
        malloc_trim(0);

        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int http_admin_start(void)
{
    stopping = 0;
    if (pthread_create(&tid, NULL, admin_main, NULL) != 0) {
        log_error("cannot start the admin thread");
        return -1;
    }
    running = 1;
    return 0;
}

void http_admin_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&mu);
    stopping = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(tid, NULL);
    running = 0;
}

static void on_request_dispose(void *p)
{
    struct admin_job *job = *(struct admin_job **)p;
    if (job != NULL)
        job->req = NULL;
}

void http_admin_dispatch(struct http_worker *w, h2o_req_t *req, h2o_iovec_t path)
{
    struct admin_job *job = calloc(1, sizeof *job);
    ssize_t auth = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    h2o_iovec_t query = {NULL, 0};

    if (job == NULL)
        h2o_fatal("out of memory");
    if (req->query_at != SIZE_MAX)
        query = h2o_iovec_init(req->path.base + req->query_at + 1,
                               req->path.len - req->query_at - 1);
    job->worker = w;
    job->req = req;
    job->method = dup_n(req->method.base, req->method.len);
    job->path = dup_n(path.base, path.len);
    job->path_len = path.len;
    if (query.base) {
        job->query = dup_n(query.base, query.len);
        job->query_len = query.len;
    }
    if (auth != -1) {
        h2o_iovec_t v = req->headers.entries[auth].value;
        job->auth = dup_n(v.base, v.len);
        job->auth_len = v.len;
    }
    if (req->entity.base) {
        job->body = dup_n(req->entity.base, req->entity.len);
        job->body_len = req->entity.len;
    }
    job->hook = h2o_mem_alloc_shared(&req->pool, sizeof *job->hook, on_request_dispose);
    *job->hook = job;
    w->admin_pending++;
    http_worker_begin(w);

    pthread_mutex_lock(&mu);
    *tail = job;
    tail = &job->next;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

void http_admin_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        struct admin_job *job = H2O_STRUCT_FROM_MEMBER(struct admin_job, msg, m);
        struct http_worker *w = job->worker;
        h2o_req_t *req = job->req;

        h2o_linklist_unlink(&m->link);
        w->admin_pending--;
        http_worker_end(w);
        if (req != NULL) {
            *job->hook = NULL;
            if (job->reply.body != NULL) {
                size_t n = strlen(job->reply.body);
                char *body = h2o_mem_alloc_pool(&req->pool, n);
                memcpy(body, job->reply.body, n);
                reply_send_raw(req, job->reply.status, REPLY_JSON_TYPE, body, n);
            } else {
                reply_send(req, job->reply.status ? job->reply.status : 500, 0,
                           "服务器内部错误", NULL, 0);
            }
        }
        job_free(job);
    }
}
