/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "bus-util.h"
#include "follow.h"
#include "utf8.h"

static int on_exit_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(source), 0);
}

/* How the loop ended, besides 0 (Ctrl-C, SIGTERM) and -errno. */
enum {
        FOLLOW_END_BUS_CLOSED = 1,
        FOLLOW_END_STREAM = 2,          /* a 0-byte read: cnd closed the stream */
};

/* sd-bus's own sd-event glue dispatches one bus message per loop iteration, with the loop's
 * bookkeeping around each. A follower takes whatever has arrived in one go instead, a bounded
 * number at a time (of bus messages, or of a stream's packets) so that Ctrl-C and timers still
 * get their turn. */
#define FOLLOW_BATCH 256

static int follow_process(Follow *f) {
        int r = 0;

        for (unsigned i = 0; i < FOLLOW_BATCH; i++) {
                r = sd_bus_process(f->c->bus, NULL);
                if (r <= 0)
                        break;
        }
        if (r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE)
                return sd_event_exit(f->event, FOLLOW_END_BUS_CLOSED);
        if (r < 0)
                return sd_event_exit(f->event, r);
        return 0;
}

static int on_bus_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        return follow_process(userdata);
}

static int on_bus_time(sd_event_source *source, uint64_t usec, void *userdata) {
        return follow_process(userdata);
}

/* Before each wait: what the bus waits for, and until when (0: it has messages queued). */
static int on_bus_prepare(sd_event_source *source, void *userdata) {
        Follow *f = userdata;
        uint64_t until;
        int events, r;

        events = sd_bus_get_events(f->c->bus);
        if (events < 0)
                return sd_event_exit(f->event, FOLLOW_END_BUS_CLOSED);
        r = sd_event_source_set_io_events(f->bus_io, (uint32_t) events);
        if (r < 0)
                return r;
        r = sd_bus_get_timeout(f->c->bus, &until);
        if (r > 0 && until != UINT64_MAX) {
                r = sd_event_source_set_time(f->bus_timer, until);
                if (r >= 0)
                        r = sd_event_source_set_enabled(f->bus_timer, SD_EVENT_ONESHOT);
                return r;
        }
        return sd_event_source_set_enabled(f->bus_timer, SD_EVENT_OFF);
}

int follow_init(Follow *f, Cnctl *c) {
        sigset_t mask;
        int r;

        *f = (Follow) {
                .c = c,
                .stream_fd = -1,
                .clock_offset_usec = (int64_t) (now_usec(CLOCK_REALTIME) - now_usec(CLOCK_MONOTONIC)),
        };
        if (!cnctl_bus(c))
                return -1;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_new(&f->event);
        if (r >= 0)
                r = sd_event_add_signal(f->event, NULL, SIGINT, on_exit_signal, NULL);
        if (r >= 0)
                r = sd_event_add_signal(f->event, NULL, SIGTERM, on_exit_signal, NULL);
        if (r >= 0)
                r = sd_event_add_io(f->event, &f->bus_io, sd_bus_get_fd(c->bus), 0, on_bus_io, f);
        if (r >= 0)
                r = sd_event_source_set_prepare(f->bus_io, on_bus_prepare);
        if (r >= 0)
                r = sd_event_add_time(f->event, &f->bus_timer, CLOCK_MONOTONIC, 0, 0, on_bus_time, f);
        if (r >= 0)
                r = sd_event_source_set_enabled(f->bus_timer, SD_EVENT_OFF);
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to set up the event loop: %m");
        }
        return 0;
}

void follow_done(Follow *f) {
        f->stream_io = sd_event_source_disable_unref(f->stream_io);
        if (f->stream_fd >= 0)
                close(f->stream_fd);
        f->stream_fd = -1;
        f->packet = mfree(f->packet);
        f->bus_io = sd_event_source_unref(f->bus_io);
        f->bus_timer = sd_event_source_unref(f->bus_timer);
        f->event = sd_event_unref(f->event);
}

bool follow_want_stream(const Follow *f, bool stream_possible) {
        return f->c->via == VIA_STREAM || (f->c->via == VIA_DEFAULT && stream_possible);
}

static int print_lost(Follow *f, const struct cnd_record_lost *lost) {
        _cleanup_(json_object_putp) json_object *j = json_object_new_object();
        const char *reason = lost->reason == CND_LOST_STREAM_FULL ? "stream_full"
                           : lost->reason == CND_LOST_KERNEL      ? "kernel"
                                                                  : "unknown";
        int r;

        if (!j)
                return -ENOMEM;
        json_object_object_add(j, "record", json_object_new_string("Lost"));
        json_object_object_add(j, "count", json_object_new_uint64(lost->count));
        json_object_object_add(j, "reason", json_object_new_string(reason));
        if (lost->reason == CND_LOST_STREAM_FULL)
                r = follow_print_event(f, j, "%" PRIu64 " records lost: the stream was full "
                                       "(cnctl did not read it fast enough)", lost->count);
        else if (lost->reason == CND_LOST_KERNEL)
                r = follow_print_event(f, j, "%" PRIu64 " messages lost: the kernel dropped them before cnd "
                                       "read them (of every id; not all need be this stream's)", lost->count);
        else
                r = follow_print_event(f, j, "%" PRIu64 " records lost (reason %" PRIu32 ")", lost->count,
                                       lost->reason);
        if (f->on_loss)
                f->on_loss(f, false, f->userdata);
        return r;
}

static int take_packet(Follow *f, size_t size) {
        StreamRecord rec;
        size_t offset = 0;
        int r;

        while ((r = stream_packet_next(f->packet, size, &offset, &rec)) > 0) {
                struct cnd_record_lost lost;

                if (rec.type == CND_RECORD_HELLO)
                        continue;       /* version 1 or later: later ones only add */
                if (rec.type == CND_RECORD_LOST)
                        r = stream_record_lost(&rec, &lost) < 0 ? 0 : print_lost(f, &lost);
                else
                        r = f->on_record(f, &rec, f->userdata);
                if (r < 0)
                        return r;
        }
        return r;
}

static int on_stream_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Follow *f = userdata;

        for (unsigned i = 0; i < FOLLOW_BATCH; i++) {
                struct iovec iov = { .iov_base = f->packet, .iov_len = f->max_record };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
                int r;

                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n < 0)
                        return sd_event_exit(f->event, -errno);
                if (n == 0)
                        return sd_event_exit(f->event, FOLLOW_END_STREAM);
                if (mh.msg_flags & MSG_TRUNC)
                        return sd_event_exit(f->event, -EMSGSIZE);      /* larger than cnd said */
                r = take_packet(f, (size_t) n);
                if (r < 0)
                        return sd_event_exit(f->event, r);
        }
        return 0;
}

static int append_options(sd_bus_message *m, const FollowStreamOptions *o) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && o->n_ids > 0) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "Ids");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "a(uu)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(uu)");
                for (size_t i = 0; r >= 0 && i < o->n_ids; i++)
                        r = sd_bus_message_append(m, "(uu)", o->ids[i][0], o->ids[i][1]);
                for (unsigned i = 0; r >= 0 && i < 3; i++)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && o->processes)
                r = sd_bus_message_append(m, "{sv}", "Processes", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* Explains why there is no stream; 1 when the default --via falls back to signals. */
static int acquire_failed(Follow *f, const sd_bus_error *error, int r) {
        if (f->c->via == VIA_DEFAULT && sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_METHOD)) {
                output_note(&f->c->out, "Note: this cnd hands out no streams (it is older than cnctl); "
                            "following its signals instead.");
                return 1;
        }
        if (sd_bus_error_has_name(error, CND_ERROR_LIMITS_EXCEEDED))
                return log_fail("cnd hands out no more streams now: %s Close one, or follow its signals "
                                "with --via=signals.", strempty(error->message));
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED))
                return log_fail("Permission denied: the system bus did not let cnctl acquire a stream (%s). "
                                "--via=signals follows cnd's signals instead.", strempty(error->message));
        return log_call_error("acquire a stream", ACCESS_ANYONE, error, r);
}

static int take_stream_fd(Follow *f, sd_bus_message *reply) {
        int fd, r;

        r = sd_bus_message_read(reply, "hu", &fd, &f->max_record);
        if (r < 0 || f->max_record < sizeof(struct cnd_record) || f->max_record > (64U << 20)) {
                errno = r < 0 ? -r : EBADMSG;
                return log_fail("cnd's answer to AcquireStream makes no sense: %m");
        }
        /* The fd belongs to the reply, which goes. */
        f->stream_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        f->packet = malloc(f->max_record);
        if (f->stream_fd < 0 || !f->packet)
                return log_fail("Failed to take the stream: %m");
        r = sd_event_add_io(f->event, &f->stream_io, f->stream_fd, EPOLLIN, on_stream_io, f);
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to set up the event loop: %m");
        }
        return 0;
}

int follow_acquire_stream(Follow *f, const FollowStreamOptions *options, FollowRecordHandler on_record) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = sd_bus_message_new_method_call(f->c->bus, &m, CND_BUS_NAME, CND_MANAGER_PATH, CND_MANAGER_IFACE,
                                           "AcquireStream");
        if (r >= 0)
                r = append_options(m, options);
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to ask for a stream: %m");
        }
        r = sd_bus_call(f->c->bus, m, 0, &error, &reply);
        if (r < 0)
                return acquire_failed(f, &error, r);
        f->on_record = on_record;
        return take_stream_fd(f, reply);
}

int follow_add_match(Follow *f, const char *rule_tail, sd_bus_message_handler_t handler, void *userdata) {
        _cleanup_(freep) char *rule = NULL;
        int r;

        if (asprintf(&rule, "type='signal',sender='%s',%s", CND_BUS_NAME, rule_tail) < 0)
                return log_fail("Out of memory.");
        /* Synchronous on purpose: once this returns, the bus filters for us and nothing that
         * comes later is missed; a stream prints nothing before. */
        r = sd_bus_add_match(f->c->bus, NULL, rule, handler, userdata);
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to subscribe to cnd's signals (%s): %m", rule);
        }
        return 0;
}

void follow_format_time(const Follow *f, char buf[static 32], uint64_t monotonic_ns) {
        uint64_t usec = monotonic_ns ? (uint64_t) ((int64_t) (monotonic_ns / 1000) + f->clock_offset_usec)
                                     : now_usec(CLOCK_REALTIME);

        format_clock(buf, usec);
}

int follow_print_event(Follow *f, json_object *json, const char *format, ...) {
        va_list ap;

        if (f->c->out.json != JSON_OFF)
                return output_json(&f->c->out, json);
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
        Follow *f = userdata;
        uint64_t kernel, bus, before = f->kernel_dropped + f->bus_dropped;
        int r;

        r = sd_bus_message_read(m, "tt", &kernel, &bus);
        if (r < 0 || !json)
                return 0;
        (void) sd_bus_message_rewind(m, true);
        json_object_object_add(json, "signal", json_object_new_string("Overrun"));
        if (json_read_args(m, names, json) < 0)
                return 0;
        f->kernel_dropped = kernel;
        f->bus_dropped = bus;
        r = follow_print_event(f, json, "cnd lost %" PRIu64 " messages (totals since it started: %" PRIu64
                               " dropped by the kernel, %" PRIu64 " by cnd)",
                               kernel + bus > before ? kernel + bus - before : kernel + bus, kernel, bus);
        if (f->on_loss)
                f->on_loss(f, false, f->userdata);
        return r < 0 ? sd_event_exit(f->event, r) : 0;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(json_object_putp) json_object *json = json_object_new_object();
        static const char *const names[] = { "name", "old_owner", "new_owner", NULL };
        const char *name, *old_owner, *new_owner;
        Follow *f = userdata;
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
                f->kernel_dropped = f->bus_dropped = 0;
                if (f->on_loss)
                        f->on_loss(f, true, f->userdata);
                r = follow_print_event(f, json, "cnd started again; what happened while it was away was not seen");
        } else
                r = follow_print_event(f, json, "cnd stopped; waiting for it to start again");
        return r < 0 ? sd_event_exit(f->event, r) : 0;
}

int follow_watch_cnd(Follow *f) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(json_object_putp) json_object *manager = NULL;
        _cleanup_(freep) char *rule = NULL;
        int r;

        if (asprintf(&rule, "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                     "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='%s'", CND_BUS_NAME) < 0)
                return log_fail("Out of memory.");
        r = sd_bus_add_match(f->c->bus, NULL, rule, on_owner_changed, f);
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to watch cnd's name on the bus: %m");
        }
        r = follow_add_match(f, "path='" CND_MANAGER_PATH "',interface='" CND_MANAGER_IFACE "',member='Overrun'",
                             on_overrun, f);
        if (r < 0)
                return r;
        /* Also finds out whether cnd is there (or makes the bus start it). */
        r = cnd_get_all(f->c->bus, CND_MANAGER_PATH, CND_MANAGER_IFACE, &manager, &error);
        if (r < 0)
                return log_call_error("read cnd's loss counters", ACCESS_ANYONE, &error, r);
        f->kernel_dropped = json_get_u64(manager, "kernel_dropped_messages");
        f->bus_dropped = json_get_u64(manager, "bus_dropped_messages");
        return 0;
}

int follow_run(Follow *f) {
        int r;

        r = sd_event_loop(f->event);
        if (r == -EPIPE)
                return 0;       /* the reader went away: nothing left to do */
        if (r == FOLLOW_END_BUS_CLOSED)
                return log_fail("The system bus closed the connection.");
        if (r == FOLLOW_END_STREAM)
                return log_fail("cnd stopped; the stream ended.");
        if (r != 0) {
                errno = r < 0 ? -r : EIO;
                return log_fail(f->stream_fd >= 0 ? "Failed to read cnd's stream: %m"
                                                  : "Failed to follow cnd's signals: %m");
        }
        return 0;
}

void print_sanitized(FILE *f, const char *s) {
        _cleanup_(freep) char *escaped = NULL;

        if (utf8_escape_controls(s, &escaped) < 0)
                return; /* out of memory: nothing rather than the raw text */
        fputs(escaped, f);
}
