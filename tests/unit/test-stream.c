/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Streams (daemon/streams/) on real socketpairs and a real event loop: the records and packets
 * a client reads, exact loss when its socket is full, the lost record first once there is room,
 * the kernel's drops, privacy of process records, the limits, and a client that goes. */

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "streams.h"
#include "tests.h"
#include "util.h"

#define GROUP_IDX 0x4242U

typedef struct Tally {
        unsigned packets, hellos, messages, processes, lost_records;
        uint64_t lost[3];
        uint32_t next_seq;              /* messages come in order */
        bool lost_before_message;       /* a lost record came before the first message after a loss */
        struct cnd_record_process last_process;
        char last_strings[512];
} Tally;

static void take_record(Tally *t, const struct cnd_record *h, const uint8_t *body) {
        switch (h->type) {
        case CND_RECORD_HELLO: {
                const struct cnd_record_hello *hello = (const void *) body;

                CHECK_EQ_INT(t->packets + t->messages, 0);      /* in the first packet */
                CHECK_EQ_INT(hello->version, CND_STREAM_VERSION);
                CHECK_EQ_INT(hello->max_record, STREAM_RECORD_MAX);
                t->hellos++;
                break;
        }
        case CND_RECORD_MESSAGE: {
                const struct cn_msg *m = (const void *) body;

                CHECK_EQ_INT(h->length, sizeof(*m) + m->len);
                CHECK_EQ_INT(m->id.idx, GROUP_IDX);
                CHECK(m->seq >= t->next_seq);
                t->next_seq = m->seq + 1;
                t->messages++;
                break;
        }
        case CND_RECORD_LOST: {
                const struct cnd_record_lost *l = (const void *) body;

                CHECK(l->count > 0);
                CHECK(l->reason == CND_LOST_STREAM_FULL || l->reason == CND_LOST_KERNEL);
                t->lost[l->reason] += l->count;
                t->lost_records++;
                break;
        }
        case CND_RECORD_PROCESS_STARTED:
        case CND_RECORD_PROCESS_EXITED:
                memcpy(&t->last_process, body, sizeof(t->last_process));
                memset(t->last_strings, 0, sizeof(t->last_strings));
                memcpy(t->last_strings, body + t->last_process.size,
                       MIN((size_t) t->last_process.strings_size, sizeof(t->last_strings) - 1));
                t->processes++;
                break;
        default:
                CHECK(!"unknown record type");
        }
}

/* Reads every packet waiting on fd; returns how many. */
static unsigned read_packets(int fd, Tally *t) {
        static uint8_t packet[STREAM_RECORD_MAX + 1];
        unsigned n = 0;

        for (;;) {
                ssize_t size = recv(fd, packet, sizeof(packet), MSG_DONTWAIT);
                size_t off = 0;

                if (size < 0) {
                        CHECK(errno == EAGAIN);
                        return n;
                }
                CHECK(size > 0);                        /* no packet is empty */
                CHECK((size_t) size <= STREAM_RECORD_MAX);
                while (off < (size_t) size) {
                        struct cnd_record h;

                        CHECK(off % CND_RECORD_ALIGNTO == 0);
                        CHECK(off + sizeof(h) <= (size_t) size);
                        memcpy(&h, packet + off, sizeof(h));
                        CHECK(off + sizeof(h) + h.length <= (size_t) size);
                        take_record(t, &h, packet + off + sizeof(h));
                        off += CND_RECORD_ALIGN(sizeof(h) + h.length);
                }
                CHECK_EQ_INT(off, size);
                t->packets++;
                n++;
        }
}

static void message(Streams *st, uint32_t val, uint32_t seq, size_t size) {
        static union {
                struct cn_msg msg;
                uint8_t bytes[sizeof(struct cn_msg) + CONNECTOR_MAX_MSG_SIZE];
        } m;

        m.msg = (struct cn_msg) { .id = { .idx = GROUP_IDX, .val = val }, .seq = seq, .len = (uint16_t) size };
        memset(m.msg.data, (int) (seq & 0xff), size);
        streams_message(st, &m.msg);
}

static int open_stream(Streams *st, uid_t uid, bool all, bool processes, uint32_t buffer_bytes, int *ret_fd) {
        StreamOptions o = { .processes = processes, .buffer_bytes = buffer_bytes ?: STREAM_BUFFER_DEFAULT };

        o.ids = calloc(1, sizeof(StreamId));
        CHECK(o.ids);
        o.ids[0] = (StreamId) { .idx = GROUP_IDX, .val = UINT32_MAX };
        o.n_ids = 1;
        return streams_open(st, uid, all, &o, ret_fd);
}

static void test_records(sd_event *event, const Config *c) {
        Streams st;
        Tally t = {};
        int fd;

        streams_init(&st, event, c);
        CHECK_EQ_INT(open_stream(&st, 1000, false, false, 0, &fd), 0);
        CHECK_EQ_INT(read_packets(fd, &t), 1);
        CHECK_EQ_INT(t.hellos, 1);

        /* A read batch of messages of every size from 0 to 999 bytes, and one of another id. */
        for (uint32_t i = 0; i < 1000; i++)
                message(&st, i % 7, i, i);
        streams_message(&st, &(struct cn_msg) { .id = { .idx = GROUP_IDX + 1 } });
        streams_batch_done(&st, 0);
        read_packets(fd, &t);
        CHECK_EQ_INT(t.messages, 1000);
        /* Several records to a packet, and packets near the target size. */
        CHECK(t.packets > 1 && t.packets < 1000 * 500 / STREAM_PACKET_TARGET + 5);
        CHECK_EQ_INT(t.lost_records, 0);

        /* Small records fill packets to the target without the buffer ever growing past it. */
        for (uint32_t i = 0; i < 5000; i++) {
                message(&st, 1, 1000 + i, 16);
                CHECK(st.streams[0]->packet_allocated <= STREAM_PACKET_TARGET);
        }
        streams_batch_done(&st, 0);
        read_packets(fd, &t);
        CHECK_EQ_INT(t.messages, 6000);
        CHECK_EQ_INT(t.lost_records, 0);

        /* A batch with nothing for the stream writes nothing: no empty packet. */
        streams_batch_done(&st, 0);
        CHECK_EQ_INT(read_packets(fd, &t), 0);
        streams_done(&st);
        close(fd);
}

/* The client does not read: cnd fills the socket, then counts every record it could not write;
 * once the client reads, the loss is reported before anything newer. */
static void test_full_socket(sd_event *event, const Config *c) {
        Streams st;
        Tally t = {};
        uint32_t seq = 0;
        int fd;

        streams_init(&st, event, c);
        CHECK_EQ_INT(open_stream(&st, 1000, false, false, STREAM_BUFFER_MIN, &fd), 0);
        for (unsigned batch = 0; batch < 50; batch++) {
                for (unsigned i = 0; i < 100; i++)
                        message(&st, 0, seq++, 1000);
                streams_batch_done(&st, 0);
        }
        CHECK(st.streams[0]->full);
        CHECK(streams_lost_records(&st) > 0);

        /* Room again: the event loop sees it, and the lost record goes out at once. */
        read_packets(fd, &t);
        CHECK_EQ_INT(sd_event_run(event, 1000 * USEC_PER_MSEC), 1);
        CHECK(!st.streams[0]->full);
        read_packets(fd, &t);
        CHECK_EQ_INT(t.lost[CND_LOST_STREAM_FULL], streams_lost_records(&st));
        CHECK_EQ_INT(t.messages + t.lost[CND_LOST_STREAM_FULL], seq);

        /* And what comes now arrives. */
        message(&st, 0, seq++, 10);
        streams_batch_done(&st, 0);
        read_packets(fd, &t);
        CHECK_EQ_INT(t.messages + t.lost[CND_LOST_STREAM_FULL], seq);
        streams_done(&st);
        close(fd);
}

static void test_kernel_drops(sd_event *event, const Config *c) {
        Streams st;
        Tally t = {};
        int fd;

        streams_init(&st, event, c);
        streams_batch_done(&st, 40);           /* before the stream: not its loss */
        CHECK_EQ_INT(open_stream(&st, 0, true, false, 0, &fd), 0);
        streams_batch_done(&st, 45);
        message(&st, 0, 0, 4);
        streams_batch_done(&st, 45);
        read_packets(fd, &t);
        CHECK_EQ_INT(t.lost[CND_LOST_KERNEL], 5);
        CHECK_EQ_INT(t.lost_records, 1);
        CHECK_EQ_INT(t.messages, 1);
        /* Kernel drops are not the stream's socket's: StreamLostRecords does not count them. */
        CHECK_EQ_INT(streams_lost_records(&st), 0);
        streams_done(&st);
        close(fd);
}

static void test_process_privacy(sd_event *event, const Config *c) {
        char *argv[] = { (char *) "sleep", (char *) "10", NULL };
        StreamProcess p = {
                .pid = 4242, .ppid = 1, .uid = 2000, .exit_code = -1, .exit_signal = -1,
                .start_time = 77, .timestamp_ns = 88, .exe = "/usr/bin/sleep", .unit = "app.service",
                .cgroup = "/system.slice/docker-x.scope", .user_unit = "", .container = "docker:x",
                .pid_namespace = 4026531836, .mount_namespace = 4026531841, .namespace_pid = 1, .argv = argv,
        };
        Tally reader = {}, other = {}, own = {};
        int fd_reader, fd_other, fd_own;
        Streams st;

        streams_init(&st, event, c);
        CHECK_EQ_INT(open_stream(&st, 1000, true, true, 0, &fd_reader), 0);
        CHECK_EQ_INT(open_stream(&st, 1000, false, true, 0, &fd_other), 0);
        CHECK_EQ_INT(open_stream(&st, 2000, false, true, 0, &fd_own), 0);
        streams_process(&st, CND_RECORD_PROCESS_STARTED, &p);
        streams_batch_done(&st, 0);
        read_packets(fd_reader, &reader);
        read_packets(fd_other, &other);
        read_packets(fd_own, &own);
        CHECK_EQ_INT(reader.processes, 1);
        CHECK_EQ_INT(other.processes, 0);
        CHECK_EQ_INT(own.processes, 1);

        CHECK_EQ_INT(own.last_process.pid, 4242);
        CHECK_EQ_INT(own.last_process.uid, 2000);
        CHECK_EQ_INT(own.last_process.start_time, 77);
        CHECK_EQ_INT(own.last_process.size, sizeof(struct cnd_record_process));
        CHECK_EQ_INT(own.last_process.pid_namespace, 4026531836);
        CHECK_EQ_INT(own.last_process.mount_namespace, 4026531841);
        CHECK_EQ_INT(own.last_process.namespace_pid, 1);
        /* The named strings, the unknown machine as "", then the arguments. */
        CHECK_EQ_INT(own.last_process.n_named_strings, CND_PROCESS_NAMED_STRINGS);
        CHECK_EQ_INT(own.last_process.n_strings, CND_PROCESS_NAMED_STRINGS + 2);
        CHECK_EQ_INT(own.last_process.strings_size,
                     sizeof("/usr/bin/sleep\0app.service\0/system.slice/docker-x.scope\0\0\0docker:x\0sleep\00010"));
        CHECK(memcmp(own.last_strings, "/usr/bin/sleep\0app.service\0/system.slice/docker-x.scope\0\0\0docker:x\0sleep\00010",
                     own.last_process.strings_size) == 0);
        streams_done(&st);
        close(fd_reader);
        close(fd_other);
        close(fd_own);
}

/* A record that would not fit a packet goes without its arguments. */
static void test_process_body_bound(void) {
        _cleanup_(freep) void *body = NULL;
        _cleanup_(freep) char *big = malloc(STREAM_RECORD_MAX);
        char *argv[] = { big, NULL };
        StreamProcess p = { .pid = 1, .exe = "/bin/x", .argv = argv };
        size_t size;

        CHECK(big);
        memset(big, 'a', STREAM_RECORD_MAX - 1);
        big[STREAM_RECORD_MAX - 1] = 0;
        CHECK_EQ_INT(stream_process_body(&p, &body, &size), 0);
        CHECK_EQ_INT(((struct cnd_record_process *) body)->n_strings, CND_PROCESS_NAMED_STRINGS);
        CHECK_EQ_INT(size, sizeof(struct cnd_record_process) + strlen("/bin/x") + CND_PROCESS_NAMED_STRINGS);
}

static void test_limits(sd_event *event, Config *c) {
        int fds[4] = { -1, -1, -1, -1 }, fd;
        uint8_t buf[64];
        Streams st;

        c->streams_max_per_user = 2;
        c->streams_max = 3;
        streams_init(&st, event, c);
        CHECK_EQ_INT(open_stream(&st, 1000, false, false, 0, &fds[0]), 0);
        CHECK_EQ_INT(open_stream(&st, 1000, false, false, 0, &fds[1]), 0);
        CHECK_EQ_INT(open_stream(&st, 1000, false, false, 0, &fd), -EDQUOT);
        CHECK_EQ_INT(open_stream(&st, 1001, false, false, 0, &fds[2]), 0);
        CHECK_EQ_INT(open_stream(&st, 1002, false, false, 0, &fd), -ENFILE);

        /* A client that goes frees its place: the hang-up is seen by the event loop. */
        close(fds[0]);
        CHECK_EQ_INT(sd_event_run(event, 1000 * USEC_PER_MSEC), 1);
        CHECK_EQ_INT(st.n, 2);
        CHECK_EQ_INT(open_stream(&st, 1000, false, false, 0, &fds[3]), 0);

        /* One that goes while cnd writes to it: marked at the write, freed at the batch's end. */
        close(fds[1]);
        message(&st, 0, 0, 8);
        streams_batch_done(&st, 0);
        CHECK_EQ_INT(st.n, 2);
        streams_done(&st);
        CHECK_EQ_INT(st.n, 0);

        /* The client's end reads EOF once cnd closes its own, after what was written. */
        CHECK_EQ_INT(recv(fds[2], buf, sizeof(buf), MSG_DONTWAIT),
                     sizeof(struct cnd_record) + sizeof(struct cnd_record_hello));
        CHECK_EQ_INT(recv(fds[2], buf, sizeof(buf), MSG_DONTWAIT),
                     CND_RECORD_ALIGN(sizeof(struct cnd_record) + sizeof(struct cn_msg) + 8));
        CHECK_EQ_INT(recv(fds[2], buf, sizeof(buf), MSG_DONTWAIT), 0);
        close(fds[2]);
        close(fds[3]);
}

static void test_match(void) {
        StreamId every = { UINT32_MAX, UINT32_MAX }, one_idx = { 3, UINT32_MAX }, one = { 3, 4 },
                 odd = { UINT32_MAX, 5 };

        CHECK(stream_options_match(&(StreamOptions) { .ids = &every, .n_ids = 1 }, 5, 7));
        CHECK(stream_options_match(&(StreamOptions) { .ids = &every, .n_ids = 1 }, 1, 1));
        CHECK(stream_options_match(&(StreamOptions) { .ids = &one_idx, .n_ids = 1 }, 3, 9));
        CHECK(!stream_options_match(&(StreamOptions) { .ids = &one_idx, .n_ids = 1 }, 4, 9));
        CHECK(stream_options_match(&(StreamOptions) { .ids = &one, .n_ids = 1 }, 3, 4));
        CHECK(!stream_options_match(&(StreamOptions) { .ids = &one, .n_ids = 1 }, 3, 5));
        /* idx 0xffffffff stands for every idx only in the pair that means every id. */
        CHECK(stream_options_match(&(StreamOptions) { .ids = &odd, .n_ids = 1 }, UINT32_MAX, 5));
        CHECK(!stream_options_match(&(StreamOptions) { .ids = &odd, .n_ids = 1 }, 3, 5));
}

int main(void) {
        _cleanup_(config_done) Config c;
        sd_event *event = NULL;

        config_init(&c);
        CHECK_EQ_INT(sd_event_new(&event), 0);
        test_match();
        test_records(event, &c);
        test_full_socket(event, &c);
        test_kernel_drops(event, &c);
        test_process_privacy(event, &c);
        test_process_body_bound();
        test_limits(event, &c);
        sd_event_unref(event);
        printf("ok\n");
        return 0;
}
