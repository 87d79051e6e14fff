/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cnd's own rate limit on journal entries, per uid. Pure: time is handed in.
 *
 * journald limits each unit as a whole (LogRateLimitBurst= per LogRateLimitIntervalSec=), and
 * once cnd's unit is over it journald drops cnd's entries whoever they are about: one user's
 * exec loop would hide every other user's programs. So cnd keeps a window per uid, as journald
 * does per unit: at most `burst` entries of one uid in `interval`, counted from its first
 * entry; past that its entries are suppressed and counted, and when its window has ended the
 * count is reported (JournalLimiterReport), once, for a summary entry.
 *
 * The uids are held in a table of JOURNAL_LIMITER_UIDS; windows that have ended are swept out
 * when it fills. With every slot busy (that many uids each with an entry this interval) the
 * uids not in it share one window, reported as uid JOURNAL_LIMITER_OTHERS. */

#include <stdbool.h>
#include <stdint.h>

#define JOURNAL_LIMITER_UIDS 1024U
#define JOURNAL_LIMITER_OTHERS UINT32_MAX

typedef struct JournalWindow {
        uint32_t uid;
        bool used;
        uint32_t n;                     /* entries let through in this window */
        uint64_t suppressed;            /* and suppressed */
        uint64_t start;                 /* µs, the window's first entry */
} JournalWindow;

typedef struct JournalLimiter {
        uint64_t interval;              /* µs; 0: no limit */
        unsigned burst;                 /* 0: no limit */
        JournalWindow slots[JOURNAL_LIMITER_UIDS];
        size_t n_used;
        JournalWindow others;
} JournalLimiter;

/* Called for a window that ended with entries suppressed: n of uid. */
typedef void (*JournalLimiterReport)(uint32_t uid, uint64_t n, void *userdata);

void journal_limiter_init(JournalLimiter *l, uint64_t interval, unsigned burst);
/* New limits (a reload): the windows go on, measured against them. */
void journal_limiter_set(JournalLimiter *l, uint64_t interval, unsigned burst);

/* Whether an entry of uid may be written at now (µs). A window of uid that has ended is
 * reported first, and so are any the table sweeps out to make room. */
bool journal_limiter_allow(JournalLimiter *l, uint32_t uid, uint64_t now, JournalLimiterReport report,
                           void *userdata);

/* Reports and forgets every window that has ended by now. */
void journal_limiter_sweep(JournalLimiter *l, uint64_t now, JournalLimiterReport report, void *userdata);

/* The earliest end of a window with entries suppressed (when a sweep has something to
 * report), or 0 if none. */
uint64_t journal_limiter_next_report(const JournalLimiter *l);
