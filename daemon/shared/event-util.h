/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

/* Arms the one-shot timer s for usec (CLOCK_MONOTONIC), replacing any earlier deadline. */
static inline void event_timer_arm(sd_event_source *s, uint64_t usec) {
        (void) sd_event_source_set_time(s, usec);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* Arms it only if it is not armed already: the earlier deadline stands. */
static inline void event_timer_arm_unless_armed(sd_event_source *s, uint64_t usec) {
        int enabled = SD_EVENT_OFF;

        (void) sd_event_source_get_enabled(s, &enabled);
        if (enabled == SD_EVENT_OFF)
                event_timer_arm(s, usec);
}

static inline bool event_source_is_armed(sd_event_source *s) {
        int enabled = SD_EVENT_OFF;

        (void) sd_event_source_get_enabled(s, &enabled);
        return enabled != SD_EVENT_OFF;
}
