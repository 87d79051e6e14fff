/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What monitor and proc share: an event loop on the bus that Ctrl-C ends cleanly, and the
 * lines that tell of loss in the stream where it happens: cnd's Overrun signal, and cnd
 * stopping or starting again (whatever happened meanwhile was not seen). */

#include <systemd/sd-event.h>

#include "cnctl.h"

typedef struct Stream Stream;
/* restarted: cnd came back, and its counters start from 0 again. */
typedef void (*StreamLossHandler)(Stream *s, bool restarted, void *userdata);

struct Stream {
        Cnctl *c;
        sd_event *event;
        sd_event_source *bus_io, *bus_timer;    /* the bus in the loop */
        uint64_t kernel_dropped, bus_dropped;   /* cnd's totals when last seen */
        int64_t clock_offset_usec;              /* CLOCK_REALTIME - CLOCK_MONOTONIC */
        StreamLossHandler on_loss;              /* also called when cnd comes back */
        void *userdata;
};

/* The loop, Ctrl-C and SIGTERM handling, the bus attached. */
int stream_init(Stream *s, Cnctl *c);
void stream_done(Stream *s);

/* Adds a match rule of cnd's signals: sender, and the rest of the rule given. */
int stream_add_match(Stream *s, const char *rule_tail, sd_bus_message_handler_t handler, void *userdata);

/* Watches cnd's name and its Overrun signal, and reads its loss counters so that the first
 * Overrun can say how much this stream missed. Fails, with the error printed, when cnd is not
 * there. Call after the stream's own matches, so that nothing falls between. */
int stream_watch_cnd(Stream *s);

/* Runs until Ctrl-C (0) or the bus goes (-1, printed). */
int stream_run(Stream *s);

/* A loss or cnd line: "-- ... --" in text, the given object in JSON. */
int stream_print_event(Stream *s, json_object *json, const char *format, ...) _printf_(3, 4);

/* "12:34:56.789012" for a kernel CLOCK_MONOTONIC time stamp, or for now if 0. */
void stream_format_time(const Stream *s, char buf[static 32], uint64_t monotonic_ns);

/* Copies s to f with control characters escaped (utf8_escape_controls()): names and arguments
 * come from other users' processes and must not drive the terminal. */
void print_sanitized(FILE *f, const char *s);
