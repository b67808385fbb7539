/* main.c - parklinkd: read the config, open the store, start serving, stop on a signal.
 *
 * The order of start-up is the order of dependencies (store -> registry snapshot -> admin
 * token -> HTTP workers), after two steps that write nothing: the listeners are bound, then
 * the database's one-server lock is taken, so a start that cannot bind or finds the database
 * served by another parklinkd exits before the database is created, migrated or written.
 * Shutdown runs it backwards after the workers have finished their in-flight requests. Exit
 * status: 0 after a clean stop, 1 if start-up failed, 2 for a bad option. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "http.h"
#include "http_worker.h"
#include "log.h"
#include "outbox/outbox.h"
#include "qr.h"
#include "readers.h"
#include "registry.h"
#include "store/store.h"
#include "wallclock.h"
#include "writer.h"

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer hook: h2o keeps per-thread free lists of memory chunks (its "recycle"
 * allocators, thread-local and never released, by design) that LSan reports once a worker
 * thread has exited. Nothing else is suppressed. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:h2o_mem_alloc_recycle\n";
}

const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
#endif

int main(int argc, char **argv)
{
    struct config cfg;
    struct store *st = NULL;
    char err[512];
    sigset_t stop_signals;
    int sig, rc = 1, registry_up = 0, lock_fd = -1;

    switch (config_load(&cfg, argc, argv)) {
    case CONFIG_EXIT:
        return 0;
    case CONFIG_ERROR:
        return 2;
    case CONFIG_RUN:
        break;
    }
    log_set_level(cfg.log_level);
    wallclock_init((int64_t)cfg.clock_start);
    if (cfg.clock_start)
        log_warn("--clock-start %u: the vendor API's clock is not the system clock (tests only)",
                 cfg.clock_start);

    /* Every thread inherits this mask, so SIGTERM/SIGINT reach only sigwait() below. A
     * peer closing its socket must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    /* nothing below writes to the database before these two have succeeded (issue 11) */
    if (http_worker_bind_all(&cfg) != 0)
        goto out;
    if ((lock_fd = store_lock(cfg.store, err, sizeof err)) == -1) {
        log_error("--store '%s': %s", cfg.store, err);
        goto out;
    }
    if ((st = store_open(cfg.store, err, sizeof err)) == NULL) {
        log_error("--store '%s': %s", cfg.store, err);
        goto out;
    }
    if (registry_init(st) != 0)
        goto out;
    registry_up = 1;
    if (admin_init(st, cfg.admin_token[0] ? cfg.admin_token : NULL, NULL, 0) != 0)
        goto out;
    /* parking records: the group-commit writer and the workers' read sessions (issue 4) */
    if (qr_init(cfg.public_url, cfg.listen) != 0)
        goto out;
    if (writer_start(st, err, sizeof err) != 0 ||
        readers_init(st, cfg.threads, err, sizeof err) != 0) {
        log_error("--store '%s': %s", cfg.store, err);
        goto out;
    }
    /* the outbox: delivery thread and the SDK's HTTP mode (issue 5, docs/callbacks.md) */
    if (outbox_start(&cfg, st) != 0)
        goto out;
    if (http_start(&cfg) != 0)
        goto out;
    log_info("parklinkd ready (store %s)", cfg.store);

    sigwait(&stop_signals, &sig);
    log_info("%s received: finishing in-flight requests, then exiting",
             sig == SIGTERM ? "SIGTERM" : "SIGINT");
    http_stop();
    rc = 0;
    log_info("stopped");
out:
    writer_stop(); /* after the workers: it finishes every job they queued */
    outbox_stop(); /* after the workers and the writer: they wake it, it answers their asks */
    readers_cleanup();
    http_cleanup();
    admin_cleanup();
    if (registry_up)
        registry_cleanup();
    store_close(st); /* every session is closed by now */
    if (lock_fd >= 0)
        close(lock_fd); /* the last thing: the database is closed */
    return rc;
}
