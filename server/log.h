/* log.h - parklinkd's log lines on stderr, filtered by --log-level.
 *
 * One line per event: "2024-05-01T10:00:00Z parklinkd[worker 1] warn: text". Thread-safe
 * (one fprintf per line; stdio locks the stream). The level is set once at start. */
#ifndef PARKLINK_LOG_H
#define PARKLINK_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Set the most verbose level printed (default LOG_INFO). Call before starting threads. */
void log_set_level(enum log_level level);

/* Is `level` printed? Lets callers skip building an expensive message. */
int log_enabled(enum log_level level);

/* Parse "error" | "warn" | "info" | "debug"; -1 if none of them. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level level);

/* Print one line at `level` (printf format). */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
