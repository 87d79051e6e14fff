/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>

#include "bus-util.h"
#include "stream.h"
#include "utf8.h"

static int on_exit_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(source), 0);
}

/* sd-bus's own sd-event glue dispatches one bus message per loop iteration, with the loop's
 * bookkeeping around each. A stream takes whatever has arrived in one go instead, a bounded
 * number at a time so that Ctrl-C and timers still get their turn. */
#define STREAM_BATCH 256

static int stream_process(Stream *s) {
        int r = 0;

        for (unsigned i = 0; i < STREAM_BATCH; i++) {
                r = sd_bus_process(s->c->bus, NULL);
                if (r <= 0)
                        break;
        }
        if (r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE)
                return sd_event_exit(s->event, EXIT_FAILURE);
        if (r < 0)
                return sd_event_exit(s->event, r);
        return 0;
}

static int on_bus_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        return stream_process(userdata);
}

static int on_bus_time(sd_event_source *source, uint64_t usec, void *userdata) {
        return stream_process(userdata);
}

/* Before each wait: what the bus waits for, and until when (0: it has messages queued). */
static int on_bus_prepare(sd_event_source *source, void *userdata) {
        Stream *s = userdata;
        uint64_t until;
        int events, r;

        events = sd_bus_get_events(s->c->bus);
        if (events < 0)
                return sd_event_exit(s->event, EXIT_FAILURE);
        r = sd_event_source_set_io_events(s->bus_io, (uint32_t) events);
        if (r < 0)
                return r;
        r = sd_bus_get_timeout(s->c->bus, &until);
        if (r > 0 && until != UINT64_MAX) {
                r = sd_event_source_set_time(s->bus_timer, until);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s->bus_timer, SD_EVENT_ONESHOT);
                return r;
        }
        return sd_event_source_set_enabled(s->bus_timer, SD_EVENT_OFF);
}

int stream_init(Stream *s, Cnctl *c) {
        sigset_t mask;
        int r;

        *s = (Stream) {
                .c = c,
                .clock_offset_usec = (int64_t) (now_usec(CLOCK_REALTIME) - now_usec(CLOCK_MONOTONIC)),
        };
        if (!cnctl_bus(c))
                return -1;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_new(&s->event);
        if (r >= 0)
                r = sd_event_add_signal(s->event, NULL, SIGINT, on_exit_signal, NULL);
        if (r >= 0)
                r = sd_event_add_signal(s->event, NULL, SIGTERM, on_exit_signal, NULL);
        if (r >= 0)
                r = sd_event_add_io(s->event, &s->bus_io, sd_bus_get_fd(c->bus), 0, on_bus_io, s);
        if (r >= 0)
                r = sd_event_source_set_prepare(s->bus_io, on_bus_prepare);
        if (r >= 0)
                r = sd_event_add_time(s->event, &s->bus_timer, CLOCK_MONOTONIC, 0, 0, on_bus_time, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->bus_timer, SD_EVENT_OFF);
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to set up the event loop: %m");
        }
        return 0;
}

void stream_done(Stream *s) {
        s->bus_io = sd_event_source_unref(s->bus_io);
        s->bus_timer = sd_event_source_unref(s->bus_timer);
        s->event = sd_event_unref(s->event);
}

int stream_add_match(Stream *s, const char *rule_tail, sd_bus_message_handler_t handler, void *userdata) {
        _cleanup_(freep) char *rule = NULL;
        int r;

        if (asprintf(&rule, "type='signal',sender='%s',%s", CND_BUS_NAME, rule_tail) < 0)
                return log_fail("Out of memory.");
        /* Synchronous on purpose: once this returns, the bus filters for us and nothing that
         * comes later is missed; a stream prints nothing before. */
        r = sd_bus_add_match(s->c->bus, NULL, rule, handler, userdata);
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to subscribe to cnd's signals (%s): %m", rule);
        }
        return 0;
}

void stream_format_time(const Stream *s, char buf[static 32], uint64_t monotonic_ns) {
        uint64_t usec = monotonic_ns ? (uint64_t) ((int64_t) (monotonic_ns / 1000) + s->clock_offset_usec)
                                     : now_usec(CLOCK_REALTIME);

        format_clock(buf, usec);
}

int stream_print_event(Stream *s, json_object *json, const char *format, ...) {
        va_list ap;

        if (s->c->out.json != JSON_OFF)
                return output_json(&s->c->out, json);
        fputs("-- ", stdout);
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        puts(" --");
        return fflush(stdout) == 0 ? 0 : -errno;
}

static int on_overrun(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(json_object_putp) json_object *json = json_object_new_object();
        static const char *const names[] = { "kernel_dropped", "bus_dropped", NULL };
        Stream *s = userdata;
        uint64_t kernel, bus, before = s->kernel_dropped + s->bus_dropped;
        int r;

        r = sd_bus_message_read(m, "tt", &kernel, &bus);
        if (r < 0 || !json)
                return 0;
        (void) sd_bus_message_rewind(m, true);
        json_object_object_add(json, "signal", json_object_new_string("Overrun"));
        if (json_read_args(m, names, json) < 0)
                return 0;
        s->kernel_dropped = kernel;
        s->bus_dropped = bus;
        r = stream_print_event(s, json, "cnd lost %" PRIu64 " messages (totals since it started: %" PRIu64
                               " dropped by the kernel, %" PRIu64 " by cnd)",
                               kernel + bus > before ? kernel + bus - before : kernel + bus, kernel, bus);
        if (s->on_loss)
                s->on_loss(s, false, s->userdata);
        return r < 0 ? sd_event_exit(s->event, r) : 0;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(json_object_putp) json_object *json = json_object_new_object();
        static const char *const names[] = { "name", "old_owner", "new_owner", NULL };
        const char *name, *old_owner, *new_owner;
        Stream *s = userdata;
        int r;

        r = sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner);
        if (r < 0 || !json || !streq(name, CND_BUS_NAME))
                return 0;
        (void) sd_bus_message_rewind(m, true);
        json_object_object_add(json, "signal", json_object_new_string("NameOwnerChanged"));
        if (json_read_args(m, names, json) < 0)
                return 0;
        if (*new_owner) {
                /* A new cnd counts from 0. */
                s->kernel_dropped = s->bus_dropped = 0;
                if (s->on_loss)
                        s->on_loss(s, true, s->userdata);
                r = stream_print_event(s, json, "cnd started again; what happened while it was away was not seen");
        } else
                r = stream_print_event(s, json, "cnd stopped; waiting for it to start again");
        return r < 0 ? sd_event_exit(s->event, r) : 0;
}

int stream_watch_cnd(Stream *s) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(json_object_putp) json_object *manager = NULL;
        _cleanup_(freep) char *rule = NULL;
        int r;

        if (asprintf(&rule, "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                     "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='%s'", CND_BUS_NAME) < 0)
                return log_fail("Out of memory.");
        r = sd_bus_add_match(s->c->bus, NULL, rule, on_owner_changed, s);
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to watch cnd's name on the bus: %m");
        }
        r = stream_add_match(s, "path='" CND_MANAGER_PATH "',interface='" CND_MANAGER_IFACE "',member='Overrun'",
                             on_overrun, s);
        if (r < 0)
                return r;
        /* Also finds out whether cnd is there (or makes the bus start it). */
        r = cnd_get_all(s->c->bus, CND_MANAGER_PATH, CND_MANAGER_IFACE, &manager, &error);
        if (r < 0)
                return log_call_error("read cnd's loss counters", ACCESS_ANYONE, &error, r);
        s->kernel_dropped = json_get_u64(manager, "kernel_dropped_messages");
        s->bus_dropped = json_get_u64(manager, "bus_dropped_messages");
        return 0;
}

int stream_run(Stream *s) {
        int r;

        r = sd_event_loop(s->event);
        if (r == -EPIPE)
                return 0;       /* the reader went away: nothing left to do */
        if (r == EXIT_FAILURE)
                return log_fail("The system bus closed the connection.");
        if (r != 0) {
                errno = r < 0 ? -r : EIO;
                return log_fail("Failed to follow cnd's signals: %m");
        }
        return 0;
}

void print_sanitized(FILE *f, const char *s) {
        _cleanup_(freep) char *escaped = NULL;

        if (utf8_escape_controls(s, &escaped) < 0)
                return; /* out of memory: nothing rather than the raw text */
        fputs(escaped, f);
}
