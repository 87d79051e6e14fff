/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Per-uid windows for journal entries: see journal-limiter.h. The table is open addressing
 * with linear probing, rebuilt by a sweep (no deletions in between). */

#include <string.h>

#include "journal-limiter.h"
#include "util.h"

/* Past this many uids held a sweep makes room, so that probes stay short. */
#define USED_MAX (JOURNAL_LIMITER_UIDS * 3 / 4)

void journal_limiter_init(JournalLimiter *l, uint64_t interval, unsigned burst) {
        memset(l, 0, sizeof(*l));
        journal_limiter_set(l, interval, burst);
}

void journal_limiter_set(JournalLimiter *l, uint64_t interval, unsigned burst) {
        l->interval = interval;
        l->burst = burst;
}

static bool window_ended(const JournalLimiter *l, const JournalWindow *w, uint64_t now) {
        return now < w->start || now - w->start >= l->interval;
}

/* Reports w if it suppressed anything, and starts it anew at now. */
static void window_restart(JournalWindow *w, uint64_t now, JournalLimiterReport report, void *userdata) {
        if (w->suppressed > 0 && report)
                report(w->uid, w->suppressed, userdata);
        w->n = 0;
        w->suppressed = 0;
        w->start = now;
}

static JournalWindow *slot_of(JournalLimiter *l, uint32_t uid) {
        size_t i = (uid * UINT32_C(2654435761)) % JOURNAL_LIMITER_UIDS;

        while (l->slots[i].used && l->slots[i].uid != uid)
                i = (i + 1) % JOURNAL_LIMITER_UIDS;
        return &l->slots[i];
}

void journal_limiter_sweep(JournalLimiter *l, uint64_t now, JournalLimiterReport report, void *userdata) {
        JournalWindow live[JOURNAL_LIMITER_UIDS];
        size_t n = 0;

        for (size_t i = 0; i < JOURNAL_LIMITER_UIDS; i++) {
                JournalWindow *w = &l->slots[i];

                if (!w->used)
                        continue;
                if (window_ended(l, w, now))
                        window_restart(w, now, report, userdata);
                else
                        live[n++] = *w;
        }
        if (l->others.used && window_ended(l, &l->others, now)) {
                window_restart(&l->others, now, report, userdata);
                l->others.used = false;
        }
        memset(l->slots, 0, sizeof(l->slots));
        for (size_t i = 0; i < n; i++)
                *slot_of(l, live[i].uid) = live[i];
        l->n_used = n;
}

/* The window that counts uid's entries, found or made. */
static JournalWindow *window_of(JournalLimiter *l, uint32_t uid, uint64_t now, JournalLimiterReport report,
                                void *userdata) {
        JournalWindow *w = slot_of(l, uid);

        if (w->used)
                return w;
        if (l->n_used >= USED_MAX) {
                journal_limiter_sweep(l, now, report, userdata);
                w = slot_of(l, uid);
        }
        if (l->n_used >= USED_MAX) {
                if (!l->others.used)
                        l->others = (JournalWindow) { .uid = JOURNAL_LIMITER_OTHERS, .used = true, .start = now };
                return &l->others;
        }
        *w = (JournalWindow) { .uid = uid, .used = true, .start = now };
        l->n_used++;
        return w;
}

bool journal_limiter_allow(JournalLimiter *l, uint32_t uid, uint64_t now, JournalLimiterReport report,
                           void *userdata) {
        JournalWindow *w;

        if (l->interval == 0 || l->burst == 0)
                return true;
        w = window_of(l, uid, now, report, userdata);
        if (window_ended(l, w, now))
                window_restart(w, now, report, userdata);
        if (w->n < l->burst) {
                w->n++;
                return true;
        }
        w->suppressed++;
        return false;
}

uint64_t journal_limiter_next_report(const JournalLimiter *l) {
        uint64_t next = 0;

        for (size_t i = 0; i <= JOURNAL_LIMITER_UIDS; i++) {
                const JournalWindow *w = i < JOURNAL_LIMITER_UIDS ? &l->slots[i] : &l->others;

                if (w->used && w->suppressed > 0 && (next == 0 || w->start + l->interval < next))
                        next = w->start + l->interval;
        }
        return next;
}
