/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What monitor and proc share: following cnd live, from a stream of its own (AcquireStream)
 * or from its signals, in an event loop that Ctrl-C ends cleanly; and the lines that tell of
 * loss where it happens: a stream's lost records, or on signals cnd's Overrun signal and cnd
 * stopping or starting again (whatever happened meanwhile was not seen). */

#include <systemd/sd-event.h>

#include "context.h"
#include "records.h"

typedef struct Follow Follow;
/* restarted: cnd came back, and its counters start from 0 again. */
typedef void (*FollowLossHandler)(Follow *f, bool restarted, void *userdata);
/* A record of the stream other than hello and lost, which follow.c handles. Negative ends the
 * loop with that error (a failed write to stdout). */
typedef int (*FollowRecordHandler)(Follow *f, const StreamRecord *r, void *userdata);

/* What a stream is asked to carry (AcquireStream's options). */
typedef struct FollowStreamOptions {
        const uint32_t (*ids)[2];       /* (idx, val) pairs; val UINT32_MAX: every val */
        size_t n_ids;
        bool processes;
} FollowStreamOptions;

struct Follow {
        Cnctl *c;
        sd_event *event;
        sd_event_source *bus_io, *bus_timer;    /* the bus in the loop */
        uint64_t kernel_dropped, bus_dropped;   /* cnd's totals when last seen (signals) */
        int64_t clock_offset_usec;              /* CLOCK_REALTIME - CLOCK_MONOTONIC */
        FollowLossHandler on_loss;              /* also called when cnd comes back */
        void *userdata;

        int stream_fd;                          /* -1 when following signals */
        sd_event_source *stream_io;
        uint8_t *packet;                        /* max_record bytes */
        uint32_t max_record;
        FollowRecordHandler on_record;
};

/* The loop, Ctrl-C and SIGTERM handling, the bus attached. */
int follow_init(Follow *f, Cnctl *c);
void follow_done(Follow *f);

/* Whether to read a stream: --via=, and for the default whether the verb's arguments let a
 * stream carry what it is asked for. */
bool follow_want_stream(const Follow *f, bool stream_possible);

/* Acquires a stream and reads its records in the loop: on_record gets them (with userdata, the
 * Follow's). Returns 0 with the stream set up, 1 when cnd has no streams and the default --via
 * falls back to signals (noted on stderr), or -1 with the error printed. */
int follow_acquire_stream(Follow *f, const FollowStreamOptions *options, FollowRecordHandler on_record);

/* Adds a match rule of cnd's signals: sender, and the rest of the rule given. */
int follow_add_match(Follow *f, const char *rule_tail, sd_bus_message_handler_t handler, void *userdata);

/* Watches cnd's name and its Overrun signal, and reads its loss counters so that the first
 * Overrun can say how much this follower missed. Fails, with the error printed, when cnd is not
 * there. Call after the verb's own matches, so that nothing falls between. Signals only: a
 * stream says what it lost itself, and ends when cnd does. */
int follow_watch_cnd(Follow *f);

/* Runs until Ctrl-C (0), the bus goes or a stream ends (-1, printed). */
int follow_run(Follow *f);

/* A loss or cnd line: "-- ... --" in text, the given object in JSON. */
int follow_print_event(Follow *f, json_object *json, const char *format, ...) _printf_(3, 4);

/* "12:34:56.789012" for a kernel CLOCK_MONOTONIC time stamp, or for now if 0. */
void follow_format_time(const Follow *f, char buf[static 32], uint64_t monotonic_ns);

/* Copies s to f with control characters escaped (utf8_escape_controls()): names and arguments
 * come from other users' processes and must not drive the terminal. */
void print_sanitized(FILE *f, const char *s);
