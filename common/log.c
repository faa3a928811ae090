/*  log.c - one-line logging to stderr (see log.h for the line format). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/*  Process-wide logger settings, written once in main() before threads start. */
static char s_role = 'C';
static int s_id = 0;
static log_level_t s_level = LOG_LEVEL_INFO;

void
log_set_role(char role, int id)
{
    s_role = role;
    s_id = id;
}

void
log_set_level(log_level_t level)
{
    s_level = level;
}

bool
log_enabled(log_level_t level)
{
    return level <= s_level;
}

void
log_write(log_level_t level, const char *fmt, ...)
{
    static const char letters[] = "EWID";
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%c%d %ld %s.%03ldZ %c %s\n", s_role, s_id, (long)getpid(), when,
            (long)(tv.tv_usec / 1000), letters[level], msg);
}
