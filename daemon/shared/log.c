/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>
#include <strings.h>
#include <time.h>

#include "log.h"

static int max_level = LOG_INFO;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg",   [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",       [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",     [LOG_DEBUG] = "debug",
};

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcasecmp(s, level_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

int log_internal(int level, int error, const char *file, int line, const char *format, ...) {
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;

        if (level <= max_level) {
                /* %m in the format must print the error we were handed, not whatever errno
                 * happens to be. */
                errno = error;
                fprintf(stderr, "<%d>", level);
                if (max_level >= LOG_DEBUG)
                        fprintf(stderr, "%s:%d: ", file, line);
                va_start(ap, format);
                vfprintf(stderr, format, ap);
                va_end(ap);
                fputc('\n', stderr);
        }

        errno = saved;
        return -error;
}

bool ratelimit_below(RateLimit *rl, unsigned *suppressed) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        *suppressed = 0;
        if (rl->begin == 0 || now - rl->begin >= rl->interval_usec) {
                *suppressed = rl->suppressed;
                rl->begin = now;
                rl->num = 1;
                rl->suppressed = 0;
                return true;
        }
        if (rl->num < rl->burst) {
                rl->num++;
                return true;
        }
        rl->suppressed++;
        return false;
}
