/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the counting helpers (bus-count, stream-count) share: the clock of their delivery times
 * and the seq check: each message of an id has its seq one above the previous one's; a step
 * forward past it is a gap (messages lost on the way, allowed and counted), a repeat or a step
 * back is disorder. */

#include <stdint.h>
#include <time.h>

static inline uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

typedef struct SeqCount {
        uint64_t received, gaps, disorder;
        uint32_t last_seq;
        int have_last;
} SeqCount;

static inline void seq_count(SeqCount *c, uint32_t seq) {
        if (c->have_last) {
                if (seq == c->last_seq + 1)
                        ;
                else if ((int32_t) (seq - c->last_seq) > 0)
                        c->gaps += seq - c->last_seq - 1;
                else
                        c->disorder++;
        }
        c->last_seq = seq;
        c->have_last = 1;
        c->received++;
}
