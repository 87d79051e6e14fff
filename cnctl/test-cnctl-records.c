/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cnctl's reader of a stream's packets: records as cnd writes them (aligned, several to a
 * packet), and every way a packet or a body can be cut or lie about its sizes. */

#include <errno.h>
#include <string.h>

#include "records.h"
#include "tests.h"
#include "util.h"

typedef struct Packet {
        _Alignas(8) uint8_t bytes[1024];
        size_t size;
} Packet;

static void put(Packet *p, uint16_t type, const void *body, size_t size) {
        struct cnd_record h = { .type = type, .length = (uint32_t) size };

        memcpy(p->bytes + p->size, &h, sizeof(h));
        memcpy(p->bytes + p->size + sizeof(h), body, size);
        p->size += CND_RECORD_ALIGN(sizeof(h) + size);
}

static void test_packet(void) {
        struct cnd_record_hello hello = { .version = CND_STREAM_VERSION, .max_record = 4096 }, hello_read;
        struct cnd_record_lost lost = { .count = 12, .reason = CND_LOST_STREAM_FULL }, lost_read;
        /* A cn_msg and its 3 bytes of data, as the kernel sends them. */
        _Alignas(struct cn_msg) uint8_t msg[sizeof(struct cn_msg) + 3];
        struct cn_msg header;
        const uint8_t *data;
        Packet p = {};
        StreamRecord r;
        size_t off = 0;

        *(struct cn_msg *) msg = (struct cn_msg) { .id = { .idx = 7, .val = 9 }, .seq = 1, .ack = 2, .len = 3, .flags = 4 };
        memcpy(msg + sizeof(struct cn_msg), "abc", 3);
        put(&p, CND_RECORD_HELLO, &hello, sizeof(hello));
        put(&p, CND_RECORD_LOST, &lost, sizeof(lost));
        put(&p, CND_RECORD_MESSAGE, msg, sizeof(msg));
        put(&p, 99, "future", 6);

        CHECK_EQ_INT(stream_packet_next(p.bytes, p.size, &off, &r), 1);
        CHECK_EQ_INT(r.type, CND_RECORD_HELLO);
        CHECK_EQ_INT(stream_record_hello(&r, &hello_read), 0);
        CHECK_EQ_INT(hello_read.max_record, 4096);
        CHECK_EQ_INT(stream_packet_next(p.bytes, p.size, &off, &r), 1);
        CHECK_EQ_INT(stream_record_lost(&r, &lost_read), 0);
        CHECK_EQ_INT(lost_read.count, 12);
        CHECK_EQ_INT(lost_read.reason, CND_LOST_STREAM_FULL);
        CHECK_EQ_INT(stream_packet_next(p.bytes, p.size, &off, &r), 1);
        CHECK_EQ_INT(stream_record_message(&r, &header, &data), 0);
        CHECK_EQ_INT(header.id.idx, 7);
        CHECK_EQ_INT(header.id.val, 9);
        CHECK_EQ_INT(header.len, 3);
        CHECK(memcmp(data, "abc", 3) == 0);
        /* A type this cnctl does not know is still a record, to be skipped. */
        CHECK_EQ_INT(stream_packet_next(p.bytes, p.size, &off, &r), 1);
        CHECK_EQ_INT(r.type, 99);
        CHECK_EQ_INT(r.size, 6);
        CHECK_EQ_INT(stream_packet_next(p.bytes, p.size, &off, &r), 0);
        CHECK_EQ_INT(off, p.size);

        /* Cut anywhere inside a record: refused, never read past the end. */
        for (size_t cut = 1; cut < p.size; cut++) {
                size_t o = 0;
                int k;

                while ((k = stream_packet_next(p.bytes, cut, &o, &r)) > 0)
                        CHECK(r.body + r.size <= p.bytes + cut);
                CHECK(k == 0 || k == -EBADMSG);
        }

        /* A message whose cn_msg len disagrees with the record's length, or too short a body. */
        ((struct cn_msg *) msg)->len = 4;
        r = (StreamRecord) { .type = CND_RECORD_MESSAGE, .body = msg, .size = sizeof(struct cn_msg) + 3 };
        CHECK_EQ_INT(stream_record_message(&r, &header, &data), -EBADMSG);
        r.size = sizeof(struct cn_msg) - 1;
        CHECK_EQ_INT(stream_record_message(&r, &header, &data), -EBADMSG);
        r = (StreamRecord) { .type = CND_RECORD_LOST, .body = (const uint8_t *) &lost, .size = sizeof(lost) - 1 };
        CHECK_EQ_INT(stream_record_lost(&r, &lost_read), -EBADMSG);
}

typedef struct ProcessBody {
        struct cnd_record_process fixed;
        char strings[256];
} ProcessBody;

/* n strings, the first n_named of them named. */
static size_t process_body(ProcessBody *b, const char *const *strings, size_t n, size_t n_named) {
        char *s = b->strings;

        *b = (ProcessBody) {
                .fixed = { .size = sizeof(b->fixed), .pid = 42, .uid = 1000, .exit_code = -1, .exit_signal = -1,
                           .n_strings = (uint32_t) n, .n_named_strings = (uint32_t) n_named, .timestamp_ns = 5 },
        };
        for (size_t i = 0; i < n; i++)
                s = stpcpy(s, strings[i]) + 1;
        b->fixed.strings_size = (uint32_t) (s - b->strings);
        return sizeof(b->fixed) + b->fixed.strings_size;
}

/* n strings, n_named of them named, make a record with this container and one argument. */
static void check_one_argument(const char *const *strings, size_t n, size_t n_named, const char *container,
                               const char *argument) {
        StreamProcessRecord p;
        ProcessBody b;
        StreamRecord r = { .type = CND_RECORD_PROCESS_STARTED, .body = (const uint8_t *) &b };

        r.size = process_body(&b, strings, n, n_named);
        CHECK_EQ_INT(stream_record_process(&r, &p), 0);
        CHECK_STREQ(p.container, container);
        CHECK_EQ_INT(p.n_argv, 1);
        CHECK_STREQ(p.argv[0], argument);
        stream_process_record_done(&p);
}

static void test_process(void) {
        static const char *const strings[] = { "/bin/sh", "", "/user.slice", "app.service", "", "docker:x",
                                               "sh", "-c", "exit 3" };
        static const char *const later[] = { "/bin/sh", "", "/x", "", "", "lxc:y", "new", "sh" };
        StreamProcessRecord p;
        ProcessBody b;
        StreamRecord r = { .type = CND_RECORD_PROCESS_STARTED, .body = (const uint8_t *) &b };

        r.size = process_body(&b, strings, ELEMENTSOF(strings), CND_PROCESS_NAMED_STRINGS);
        CHECK_EQ_INT(stream_record_process(&r, &p), 0);
        CHECK_EQ_INT(p.fixed.pid, 42);
        CHECK_STREQ(p.exe, "/bin/sh");
        CHECK_STREQ(p.unit, "");
        CHECK_STREQ(p.cgroup, "/user.slice");
        CHECK_STREQ(p.user_unit, "app.service");
        CHECK_STREQ(p.machine, "");
        CHECK_STREQ(p.container, "docker:x");
        CHECK_EQ_INT(p.n_argv, 3);
        CHECK_STREQ(p.argv[2], "exit 3");
        CHECK(p.argv[3] == NULL);
        stream_process_record_done(&p);

        /* A later writer naming a seventh string: the arguments still come after the named. An
         * earlier one naming three: the rest "". */
        check_one_argument(later, ELEMENTSOF(later), 7, "lxc:y", "sh");
        check_one_argument(strings, 4, 3, "", "app.service");

        /* Fewer named strings than exe, unit and cgroup, or more named than there are strings. */
        r.size = process_body(&b, strings, 3, 2);
        CHECK_EQ_INT(stream_record_process(&r, &p), -EBADMSG);
        r.size = process_body(&b, strings, 3, 4);
        CHECK_EQ_INT(stream_record_process(&r, &p), -EBADMSG);

        /* An Exited record: the named strings and no arguments. */
        r.size = process_body(&b, strings, CND_PROCESS_NAMED_STRINGS, CND_PROCESS_NAMED_STRINGS);
        CHECK_EQ_INT(stream_record_process(&r, &p), 0);
        CHECK_EQ_INT(p.n_argv, 0);
        CHECK(p.argv[0] == NULL);
        stream_process_record_done(&p);

        /* A writer with a larger fixed part: its strings start where it says. */
        r.size = process_body(&b, strings, CND_PROCESS_NAMED_STRINGS, CND_PROCESS_NAMED_STRINGS);
        memmove(b.strings + 8, b.strings, b.fixed.strings_size);
        b.fixed.size += 8;
        r.size += 8;
        CHECK_EQ_INT(stream_record_process(&r, &p), 0);
        CHECK_STREQ(p.cgroup, "/user.slice");
        stream_process_record_done(&p);

        /* Lies: more strings than there are, strings past the body, a fixed part too small, fewer
         * than three strings, a string without its NUL. */
        r.size = process_body(&b, strings, ELEMENTSOF(strings), CND_PROCESS_NAMED_STRINGS);
        b.fixed.n_strings = 10;
        CHECK_EQ_INT(stream_record_process(&r, &p), -EBADMSG);
        r.size = process_body(&b, strings, ELEMENTSOF(strings), CND_PROCESS_NAMED_STRINGS);
        b.fixed.strings_size += 1;
        CHECK_EQ_INT(stream_record_process(&r, &p), -EBADMSG);
        r.size = process_body(&b, strings, CND_PROCESS_NAMED_STRINGS, CND_PROCESS_NAMED_STRINGS);
        b.fixed.size = 8;
        CHECK_EQ_INT(stream_record_process(&r, &p), -EBADMSG);
        r.size = process_body(&b, strings, 2, 2);
        CHECK_EQ_INT(stream_record_process(&r, &p), -EBADMSG);
        r.size = process_body(&b, strings, CND_PROCESS_NAMED_STRINGS, CND_PROCESS_NAMED_STRINGS) - 1;
        b.fixed.strings_size -= 1;
        CHECK_EQ_INT(stream_record_process(&r, &p), -EBADMSG);
        for (size_t cut = 0; cut < sizeof(b.fixed); cut++) {
                r.size = cut;
                CHECK_EQ_INT(stream_record_process(&r, &p), -EBADMSG);
        }
}

int main(void) {
        test_packet();
        test_process();
        return 0;
}
