/* channels/channels.c - the start-up and shutdown of long-poll and the SDK's HTTP mode.
 *
 * Moved out of outbox_start() so that the outbox, the lower layer, starts no part of the
 * channels: main.c calls channels_start() first, then outbox_start(). */
#include "channels/channels.h"
#include "admission/registry.h"
#include "channels/longpoll.h"
#include "channels/sdk_http.h"
#include "channels/sdk_session.h"
#include "config.h"
#include "log.h"

/* A vendor's key changed, or a vendor or park went away: its SDK sessions end, and so do
 * the long-polls held under them. */
static void on_auth_change(void *arg, const struct snapshot *s)
{
    unsigned n;

    (void)arg;
    if ((n = sdk_session_revoke_stale(s, longpoll_on_session_ended, NULL)) > 0)
        log_info("sdk: %u session(s) ended: key changed, or vendor or park deleted", n);
}

int channels_start(const struct config *cfg)
{
    struct sdk_session_limits lim = {
        .max = cfg->sdk_sessions_max,
        .per_vendor = cfg->sdk_sessions_per_vendor,
        .per_park = cfg->sdk_sessions_per_park,
        .idle_s = cfg->sdk_session_idle,
    };

    longpoll_init(cfg->longpoll_hold);
    sdk_http_init(cfg->body_max);
    sdk_session_init(&lim);
    registry_on_auth_change(on_auth_change, NULL);
    return 0;
}

void channels_stop(void)
{
    registry_on_auth_change(NULL, NULL);
    sdk_session_cleanup();
}
