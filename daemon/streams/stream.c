/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* One stream and its write path (stream.h). The counting rule per stream: every record meant
 * for it is in a packet the client can read or counted in lost[], which a lost record reports
 * as soon as a packet can go out. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream.h"
#include "util.h"

#define LOST_RECORD_SIZE CND_RECORD_ALIGN(sizeof(struct cnd_record) + sizeof(struct cnd_record_lost))

void stream_options_done(StreamOptions *o) {
        o->ids = mfree(o->ids);
        o->n_ids = 0;
}

/* val 0xffffffff is every val of its idx; idx 0xffffffff is a wildcard only with it, as the
 * pair (0xffffffff, 0xffffffff), every id: an idx of its own it is not (the id-notification
 * id {-1,-1} is never relayed). */
bool stream_options_match(const StreamOptions *o, uint32_t idx, uint32_t val) {
        for (size_t i = 0; i < o->n_ids; i++) {
                bool any_val = o->ids[i].val == UINT32_MAX;

                if ((o->ids[i].idx == idx || (any_val && o->ids[i].idx == UINT32_MAX)) &&
                    (any_val || o->ids[i].val == val))
                        return true;
        }
        return false;
}

static void put_record(Stream *s, uint16_t type, const void *body, size_t size) {
        struct cnd_record h = { .type = type, .length = (uint32_t) size };
        size_t total = CND_RECORD_ALIGN(sizeof(h) + size);
        uint8_t *p = s->packet + s->packet_size;

        memcpy(p, &h, sizeof(h));
        memcpy(p + sizeof(h), body, size);
        memset(p + sizeof(h) + size, 0, total - sizeof(h) - size);
        s->packet_size += total;
}

static int reserve(Stream *s, size_t size) {
        uint8_t *p;

        if (size <= s->packet_allocated)
                return 0;
        p = realloc(s->packet, MAX(size, (size_t) STREAM_PACKET_TARGET));
        if (!p)
                return -ENOMEM;
        s->packet = p;
        s->packet_allocated = MAX(size, (size_t) STREAM_PACKET_TARGET);
        return 0;
}

/* A new packet starts with what the stream missed, so the client learns of a loss before it
 * reads what came after it. */
static void begin_packet(Stream *s) {
        for (unsigned reason = CND_LOST_STREAM_FULL; reason <= CND_LOST_KERNEL; reason++) {
                struct cnd_record_lost body = { .count = s->lost[reason], .reason = reason };

                s->packet_lost[reason] = s->lost[reason];
                if (body.count > 0)
                        put_record(s, CND_RECORD_LOST, &body, sizeof(body));
        }
}

static void drop_packet(Stream *s) {
        s->lost[CND_LOST_STREAM_FULL] += s->packet_records;
        s->lost_total += s->packet_records;
        s->packet_size = 0;
        s->packet_records = 0;
        memset(s->packet_lost, 0, sizeof(s->packet_lost));
}

static void set_full(Stream *s, bool full) {
        s->full = full;
        (void) sd_event_source_set_io_events(s->source, full ? EPOLLOUT : 0);
}

void stream_flush(Stream *s) {
        ssize_t n;

        if (s->dead || s->full)
                return;
        if (s->packet_size == 0) {
                /* Nothing gathered, but a loss to report: it goes out on its own. */
                if (s->lost[CND_LOST_STREAM_FULL] == 0 && s->lost[CND_LOST_KERNEL] == 0)
                        return;
                if (reserve(s, 2 * LOST_RECORD_SIZE) < 0)
                        return;
                begin_packet(s);
        }

        n = send(s->fd, s->packet, s->packet_size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
                drop_packet(s);
                set_full(s, true);
                return;
        }
        if (n < 0) {
                /* EPIPE: the client closed its end. */
                drop_packet(s);
                s->dead = true;
                return;
        }
        for (unsigned reason = CND_LOST_STREAM_FULL; reason <= CND_LOST_KERNEL; reason++)
                s->lost[reason] -= s->packet_lost[reason];
        memset(s->packet_lost, 0, sizeof(s->packet_lost));
        s->packet_size = 0;
        s->packet_records = 0;
        /* A large record made the packet grow: give the memory back. */
        if (s->packet_allocated > STREAM_PACKET_TARGET) {
                s->packet = mfree(s->packet);
                s->packet_allocated = 0;
        }
}

void stream_add(Stream *s, uint16_t type, const void *body, size_t size) {
        size_t total = CND_RECORD_ALIGN(sizeof(struct cnd_record) + size);

        if (s->dead)
                return;
        /* The packet goes out before this record would take it past the target, counting the
         * room kept for the lost records: it then never outgrows its buffer. */
        if (!s->full && s->packet_size > 0 &&
            s->packet_size + 2 * LOST_RECORD_SIZE + total > STREAM_PACKET_TARGET)
                stream_flush(s);
        if (s->full || s->dead || total + 2 * LOST_RECORD_SIZE > STREAM_RECORD_MAX ||
            reserve(s, s->packet_size + 2 * LOST_RECORD_SIZE + total) < 0) {
                s->lost[CND_LOST_STREAM_FULL]++;
                s->lost_total++;
                return;
        }
        if (s->packet_size == 0)
                begin_packet(s);
        put_record(s, type, body, size);
        s->packet_records++;
}

void stream_count_lost(Stream *s, enum cnd_lost_reason reason, uint64_t count) {
        s->lost[reason] += count;
        /* StreamLostRecords counts what cnd could not write, not the kernel's drops. */
        if (reason == CND_LOST_STREAM_FULL)
                s->lost_total += count;
}

static int on_stream_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Stream *s = userdata;

        if (revents & (EPOLLHUP | EPOLLERR)) {
                s->dead = true;
                s->on_closed(s, s->userdata);
                return 0;
        }
        if (revents & EPOLLOUT) {
                /* Room again: the loss is reported first, before anything new. */
                set_full(s, false);
                stream_flush(s);
                if (s->dead)
                        s->on_closed(s, s->userdata);
        }
        return 0;
}

static int setup_socket(int fd, uint32_t buffer_bytes) {
        /* The kernel doubles what it is given; past net.core.wmem_max only with
         * CAP_NET_ADMIN, which cnd holds for the connector (without it, what wmem_max allows). */
        int half = (int) (buffer_bytes / 2);

        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &half, sizeof(half)) < 0 &&
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &half, sizeof(half)) < 0)
                return -errno;
        /* The client has nothing to say on it: what it writes fails (EPIPE) instead of
         * filling cnd's receive queue. */
        if (shutdown(fd, SHUT_RD) < 0)
                return -errno;
        return fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
}

int stream_new(Stream **ret, sd_event *event, uid_t uid, bool all_processes, StreamOptions *options,
               StreamClosedHandler on_closed, void *userdata, int *ret_client_fd) {
        struct cnd_record_hello hello = { .version = CND_STREAM_VERSION, .max_record = STREAM_RECORD_MAX };
        _cleanup_(closep) int client_fd = -1;
        int fds[2], r;
        Stream *s;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
                return -errno;
        client_fd = fds[1];

        s = calloc(1, sizeof(Stream));
        if (!s) {
                close(fds[0]);
                return -ENOMEM;
        }
        *s = (Stream) {
                .fd = fds[0],
                .uid = uid,
                .all_processes = all_processes,
                .options = *options,
                .on_closed = on_closed,
                .userdata = userdata,
        };
        *options = (StreamOptions) {};

        r = setup_socket(s->fd, s->options.buffer_bytes);
        if (r >= 0)
                r = sd_event_add_io(event, &s->source, s->fd, 0, on_stream_io, s);
        if (r < 0) {
                stream_free(s);
                return r;
        }
        (void) sd_event_source_set_description(s->source, "stream");

        stream_add(s, CND_RECORD_HELLO, &hello, sizeof(hello));
        stream_flush(s);

        *ret = s;
        *ret_client_fd = TAKE_FD(client_fd);
        return 0;
}

Stream *stream_free(Stream *s) {
        if (!s)
                return NULL;
        sd_event_source_disable_unref(s->source);
        if (s->fd >= 0)
                close(s->fd);
        stream_options_done(&s->options);
        free(s->packet);
        return mfree(s);
}
