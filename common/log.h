/*  log.h - one-line logging to stderr.

    Each line reads `<R><id> <pid> <time> <E|W|I|D> message`, where R is the role letter
    (B broker, S shard, M merger, C command line). The macros check the level before
    formatting. The logger's settings are process-wide (like redis' serverLog): set them
    once in main() before starting threads. Never log from a signal handler.
*/
#ifndef CADRE_LOG_H
#define CADRE_LOG_H

#include <stdbool.h>

typedef enum { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG } log_level_t;

/*  Sets the role letter and instance id printed on every line (default 'C', 0). */
void log_set_role(char role, int id);
/*  Sets the most verbose level that is printed (default LOG_LEVEL_INFO). */
void log_set_level(log_level_t level);
/*  True when messages at level would be printed. */
bool log_enabled(log_level_t level);
/*  Formats and prints one line; use the macros below instead. */
void log_write(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)                                                                              \
    do {                                                                                           \
        if (log_enabled(LOG_LEVEL_WARN)) {                                                         \
            log_write(LOG_LEVEL_WARN, __VA_ARGS__);                                                \
        }                                                                                          \
    } while (0)
#define log_info(...)                                                                              \
    do {                                                                                           \
        if (log_enabled(LOG_LEVEL_INFO)) {                                                         \
            log_write(LOG_LEVEL_INFO, __VA_ARGS__);                                                \
        }                                                                                          \
    } while (0)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_enabled(LOG_LEVEL_DEBUG)) {                                                        \
            log_write(LOG_LEVEL_DEBUG, __VA_ARGS__);                                               \
        }                                                                                          \
    } while (0)

#endif
