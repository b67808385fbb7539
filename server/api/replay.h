/* api/replay.h - the opt-in per-vendor replay window (docs/decisions.md "Replays").
 *
 * The reference has no nonce or time window (spec 1.9). A vendor whose replay_window_s is
 * set gets one on the rows whose data carries a field with a replay role (services.def
 * FIELDX: rand, time_temp, timestamp; flag PLK_SVC_REPLAY): a request whose signature was
 * already seen from that vendor within the window, or whose time field is further than the
 * window from now, is refused. Rows and vendors without it never reach this module. */
#ifndef PARKLINK_REPLAY_H
#define PARKLINK_REPLAY_H

#include <stdint.h>

#include "parklink/envelope.h"
#include "parklink/services.h"

/* Signatures remembered at most (whole process); past it the oldest is forgotten. */
#define REPLAY_MAX 200000

/* Check a verified request of vendor union_id to row svc against a window of window_s > 0
 * seconds at unix time now, and remember it when it passes. PLK_OK;
 * PLK_E_STALE_TIME when a time field is more than window_s from now; PLK_E_REPLAYED when
 * the same signature (same data, same key) was seen within the window. A row none of whose
 * replay fields is present passes unremembered. Thread-safe (one mutex). */
enum plk_status replay_check(const char *union_id, int window_s, const struct plk_service *svc,
                             struct plk_envelope *env, int64_t now);

/* Forget everything (shutdown, tests). */
void replay_cleanup(void);

#endif
