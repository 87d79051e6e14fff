/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Logging to stderr with sd-daemon(3) "<N>" level prefixes, which journald and the service
 * manager understand, and a rate limiter for anything a remote party can trigger. */

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "util.h"

void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);

/* Logs and returns -abs(error), so that `return log_error_errno(r, "...: %m");` reads well.
 * With error == 0 it returns 0. %m is the error's text. */
int log_internal(int level, int error, const char *file, int line, const char *format, ...)
        _printf_(5, 6);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)
#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)

#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")

/* At most `burst` events per `interval_usec`; the suppressed count is reported by the next
 * event that gets through. */
typedef struct RateLimit {
        uint64_t interval_usec;
        unsigned burst;
        uint64_t begin;
        unsigned num;
        unsigned suppressed;
} RateLimit;

#define RATELIMIT_INIT(interval, b) ((RateLimit) { .interval_usec = (interval), .burst = (b) })

/* True if the event may be logged now. *suppressed gets how many were dropped before it. */
bool ratelimit_below(RateLimit *rl, unsigned *suppressed);

#define log_ratelimited(rl, level, ...)                                                 \
        ({                                                                              \
                unsigned _sup_;                                                         \
                if (ratelimit_below((rl), &_sup_)) {                                    \
                        if (_sup_ > 0)                                                  \
                                log_full((level), "(%u similar messages suppressed)", _sup_); \
                        log_full((level), __VA_ARGS__);                                 \
                }                                                                       \
        })
