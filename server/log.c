/* log.c - stderr log lines with a UTC timestamp and a level filter (see log.h).
 *
 * The level is written once before threads start and only read afterwards, so it needs no
 * synchronisation. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static enum log_level max_level = LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
    max_level = level;
}

int log_enabled(enum log_level level)
{
    return level <= max_level;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

const char *log_level_name(enum log_level level)
{
    return (unsigned)level < sizeof names / sizeof names[0] ? names[level] : "?";
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char stamp[32], text[1024];
    struct tm tm;
    time_t now = time(NULL);
    va_list ap;

    if (!log_enabled(level))
        return;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s parklinkd %s: %s\n", stamp, log_level_name(level), text);
}
