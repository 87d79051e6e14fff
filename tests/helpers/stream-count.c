/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* stream-count: a fast stream client for tests and benchmarks, the counterpart of bus-count for
 * a socket of one's own. Asks cnd for a stream of one id (AcquireStream), reads its packets as
 * they come and counts the message records, checking that the id's seq rises (a gap is allowed
 * and counted, a repeat or step back is disorder), and the lost records by reason. Ends at the
 * end of the stream, or IDLE_MS after the last message (up to a minute for the first).
 *
 *   stream-count ADDRESS IDX:VAL|IDX:* IDLE_MS [BUFFER_BYTES]
 *
 * SIGTERM or SIGINT ends it too. Prints "ready" once the stream is open, then at the end
 * "received N gaps G disorder D lost_full F lost_kernel K first_ns F last_ns L eof E", the times
 * those of the reads that brought the first and the last message. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "cnd-bus-names.h"
#include "cnd-stream.h"
#include "counting.h"

typedef struct Counter {
        SeqCount seq;
        uint64_t lost[3]; /* by enum cnd_lost_reason */
        uint64_t first_ns, last_ns;
} Counter;

static volatile sig_atomic_t stop;

static void on_stop(int sig) {
        stop = 1;
}

/* One packet: whole records, one after the other (<cnd/stream.h>). Returns the messages in it,
 * or -1 if it is not what the header says. */
static int count_packet(Counter *c, const uint8_t *p, size_t size) {
        int messages = 0;

        for (size_t off = 0; off < size;) {
                struct cnd_record h;
                const uint8_t *body = p + off + sizeof(h);

                if (size - off < sizeof(h))
                        return -1;
                memcpy(&h, p + off, sizeof(h));
                if (h.length > size - off - sizeof(h))
                        return -1;
                if (h.type == CND_RECORD_MESSAGE && h.length >= sizeof(struct cn_msg)) {
                        struct cn_msg m;

                        memcpy(&m, body, sizeof(m));
                        seq_count(&c->seq, m.seq);
                        messages++;
                } else if (h.type == CND_RECORD_LOST && h.length >= sizeof(struct cnd_record_lost)) {
                        struct cnd_record_lost l;

                        memcpy(&l, body, sizeof(l));
                        if (l.reason == CND_LOST_STREAM_FULL || l.reason == CND_LOST_KERNEL)
                                c->lost[l.reason] += l.count;
                } else if (h.type == CND_RECORD_HELLO && h.length >= sizeof(struct cnd_record_hello)) {
                        struct cnd_record_hello hello;

                        memcpy(&hello, body, sizeof(hello));
                        if (hello.version != CND_STREAM_VERSION)
                                fprintf(stderr, "stream-count: stream format %" PRIu32 ", expected %d\n", hello.version,
                                        CND_STREAM_VERSION);
                }
                off += CND_RECORD_ALIGN(sizeof(h) + h.length);
        }
        return messages;
}

static int parse_id(const char *s, uint32_t *idx, uint32_t *val) {
        char *end;

        *idx = (uint32_t) strtoul(s, &end, 0);
        if (*end != ':')
                return -1;
        if (strcmp(end + 1, "*") == 0) {
                *val = UINT32_MAX;
                return 0;
        }
        *val = (uint32_t) strtoul(end + 1, &end, 0);
        return *end ? -1 : 0;
}

/* AcquireStream for the id; returns the stream's fd (ours to close) and its largest packet. */
static int acquire(sd_bus *bus, uint32_t idx, uint32_t val, uint32_t buffer_bytes, uint32_t *ret_max) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        int fd = -1, r;

        r = sd_bus_message_new_method_call(bus, &m, CND_BUS_NAME, CND_MANAGER_PATH, CND_MANAGER_IFACE, "AcquireStream");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(m, "{sv}", "Ids", "a(uu)", 1, idx, val);
        if (r >= 0 && buffer_bytes > 0)
                r = sd_bus_message_append(m, "{sv}", "BufferBytes", "u", buffer_bytes);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "hu", &fd, ret_max);
        if (r >= 0)
                r = fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (r < 0)
                fprintf(stderr, "stream-count: AcquireStream failed: %s\n",
                        error.message ? error.message : strerror(-r));
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        return r < 0 ? -1 : fd;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        Counter c = {};
        uint32_t idx, val, max_record = 0, buffer_bytes = 0;
        uint64_t idle_ns, last_activity;
        uint8_t *packet;
        int fd, eof = 0;

        if (argc < 4 || argc > 5 || parse_id(argv[2], &idx, &val) < 0) {
                fprintf(stderr, "usage: stream-count ADDRESS IDX:VAL|IDX:* IDLE_MS [BUFFER_BYTES]\n");
                return 2;
        }
        idle_ns = strtoull(argv[3], NULL, 0) * 1000000ULL;
        if (argc == 5)
                buffer_bytes = (uint32_t) strtoul(argv[4], NULL, 0);
        signal(SIGTERM, on_stop);
        signal(SIGINT, on_stop);

        if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, argv[1]) < 0 || sd_bus_set_bus_client(bus, 1) < 0 ||
            sd_bus_negotiate_fds(bus, 1) < 0 || sd_bus_start(bus) < 0) {
                fprintf(stderr, "stream-count: cannot connect to %s\n", argv[1]);
                return 1;
        }
        fd = acquire(bus, idx, val, buffer_bytes, &max_record);
        if (fd < 0)
                return 1;
        packet = malloc(max_record);
        if (!packet)
                return 1;
        printf("ready\n");
        fflush(stdout);

        last_activity = now_ns();
        while (!stop && !eof) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now;

                if (poll(&p, 1, 100) < 0 && errno != EINTR)
                        break;
                /* Drain what is there before looking at the clock again. */
                for (;;) {
                        ssize_t n = recv(fd, packet, max_record, MSG_DONTWAIT);
                        int messages;

                        if (n == 0) {
                                eof = 1;
                                break;
                        }
                        if (n < 0) {
                                if (errno != EAGAIN && errno != EINTR)
                                        fprintf(stderr, "stream-count: recv: %s\n", strerror(errno));
                                break;
                        }
                        messages = count_packet(&c, packet, (size_t) n);
                        if (messages < 0) {
                                fprintf(stderr, "stream-count: a packet of %zd bytes with a broken record\n", n);
                                return 1;
                        }
                        if (messages > 0) {
                                c.last_ns = now_ns();
                                if (!c.first_ns)
                                        c.first_ns = c.last_ns;
                                last_activity = c.last_ns;
                        }
                }
                now = now_ns();
                if (c.seq.received > 0 && now - last_activity > idle_ns)
                        break;
                if (c.seq.received == 0 && now - last_activity > 60 * 1000000000ULL)
                        break;
        }

        printf("received %" PRIu64 " gaps %" PRIu64 " disorder %" PRIu64 " lost_full %" PRIu64 " lost_kernel %" PRIu64
               " first_ns %" PRIu64 " last_ns %" PRIu64 " eof %d\n",
               c.seq.received, c.seq.gaps, c.seq.disorder, c.lost[CND_LOST_STREAM_FULL], c.lost[CND_LOST_KERNEL],
               c.first_ns, c.last_ns, eof);
        free(packet);
        close(fd);
        sd_bus_flush_close_unref(bus);
        return 0;
}
