/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/shared/proc-event.c: struct proc_event payloads built as the kernel builds them
 * (the uapi struct's own members, in an 8-byte aligned buffer, sizeof(struct proc_event) bytes),
 * decoded into the fields of each D-Bus signal in order; acks; every length a payload can be cut
 * at, the shorter bodies of older kernels included; kinds this cnd does not know; task names
 * made valid UTF-8; the kind <-> kernel event bit mapping; and the per-CPU sequence tracker that
 * counts lost events. Every decode runs on a heap copy of exactly the payload's size, so that
 * ASan and valgrind see any read past its end.
 */

#include <errno.h>
#include <stdalign.h>

#include "proc-event.h"
#include "tests.h"
#include "util.h"

/* Not in the uapi headers of kernels before 6.6. */
#ifndef PROC_EVENT_NONZERO_EXIT
#define PROC_EVENT_NONZERO_EXIT 0x20000000
#endif

#define HEADER_SIZE ((size_t) PROC_EVENT_HEADER_SIZE)
#define EVENT_SIZE sizeof(struct proc_event)
#define TIMESTAMP UINT64_C(0x0123456789abcdef)

/* A payload under construction: the kernel's struct proc_event, with room for more. */
typedef union EventBuffer {
        struct proc_event ev;
        uint8_t bytes[sizeof(struct proc_event) + 32];
} EventBuffer;

/* What the signal of each kind carries, and the least the oldest kernels send. */
typedef struct KindInfo {
        ProcKind kind;
        uint32_t what;
        unsigned n_fields;
        size_t min_body;
} KindInfo;

static const KindInfo kinds[] = {
        { PROC_KIND_FORK,     PROC_EVENT_FORK,     4, 16 },
        { PROC_KIND_EXEC,     PROC_EVENT_EXEC,     2,  8 },
        { PROC_KIND_UID,      PROC_EVENT_UID,      4, 16 },
        { PROC_KIND_GID,      PROC_EVENT_GID,      4, 16 },
        { PROC_KIND_SID,      PROC_EVENT_SID,      2,  8 },
        { PROC_KIND_PTRACE,   PROC_EVENT_PTRACE,   4, 16 },
        { PROC_KIND_COMM,     PROC_EVENT_COMM,     2, 24 },     /* pid, tgid, comm[16] */
        { PROC_KIND_COREDUMP, PROC_EVENT_COREDUMP, 4,  8 },     /* parent came later */
        { PROC_KIND_EXIT,     PROC_EVENT_EXIT,     6, 16 },     /* parent came later */
};

/* Distinct values, the extremes among them; test_every_kind() rotates them through the fields. */
static const uint32_t values[6] = {
        0, UINT32_C(0xffffffff), 1, UINT32_C(0x7fffffff), UINT32_C(0x80000000), UINT32_C(0x12345678),
};

/* Starts a payload: the bytes not set later are a pattern, not zeros, so that a field the
 * decoder must not read cannot pass for a zero it filled in. */
static void event_init(EventBuffer *b, uint32_t what, uint32_t cpu, uint64_t timestamp_ns) {
        CHECK((uintptr_t) b % 8 == 0);
        memset(b, 0xa5, sizeof(*b));
        memcpy(&b->ev.what, &what, sizeof(what));       /* an enum, and unknown values too */
        b->ev.cpu = cpu;
        b->ev.timestamp_ns = timestamp_ns;
}

/* The body of a kind, through the uapi struct's members, with the values of its signal in
 * signal order: this checks the decoder's order against the kernel's layout. */
static void event_set_fields(EventBuffer *b, ProcKind kind, const uint32_t v[6]) {
        struct proc_event *ev = &b->ev;

        memset(&ev->event_data, 0, sizeof(ev->event_data));
        switch (kind) {
        case PROC_KIND_FORK:
                ev->event_data.fork.parent_pid = (__kernel_pid_t) v[0];
                ev->event_data.fork.parent_tgid = (__kernel_pid_t) v[1];
                ev->event_data.fork.child_pid = (__kernel_pid_t) v[2];
                ev->event_data.fork.child_tgid = (__kernel_pid_t) v[3];
                break;
        case PROC_KIND_EXEC:
                ev->event_data.exec.process_pid = (__kernel_pid_t) v[0];
                ev->event_data.exec.process_tgid = (__kernel_pid_t) v[1];
                break;
        case PROC_KIND_UID:
                ev->event_data.id.process_pid = (__kernel_pid_t) v[0];
                ev->event_data.id.process_tgid = (__kernel_pid_t) v[1];
                ev->event_data.id.r.ruid = v[2];
                ev->event_data.id.e.euid = v[3];
                break;
        case PROC_KIND_GID:
                ev->event_data.id.process_pid = (__kernel_pid_t) v[0];
                ev->event_data.id.process_tgid = (__kernel_pid_t) v[1];
                ev->event_data.id.r.rgid = v[2];
                ev->event_data.id.e.egid = v[3];
                break;
        case PROC_KIND_SID:
                ev->event_data.sid.process_pid = (__kernel_pid_t) v[0];
                ev->event_data.sid.process_tgid = (__kernel_pid_t) v[1];
                break;
        case PROC_KIND_PTRACE:
                ev->event_data.ptrace.process_pid = (__kernel_pid_t) v[0];
                ev->event_data.ptrace.process_tgid = (__kernel_pid_t) v[1];
                ev->event_data.ptrace.tracer_pid = (__kernel_pid_t) v[2];
                ev->event_data.ptrace.tracer_tgid = (__kernel_pid_t) v[3];
                break;
        case PROC_KIND_COMM:
                ev->event_data.comm.process_pid = (__kernel_pid_t) v[0];
                ev->event_data.comm.process_tgid = (__kernel_pid_t) v[1];
                break;
        case PROC_KIND_COREDUMP:
                ev->event_data.coredump.process_pid = (__kernel_pid_t) v[0];
                ev->event_data.coredump.process_tgid = (__kernel_pid_t) v[1];
                ev->event_data.coredump.parent_pid = (__kernel_pid_t) v[2];
                ev->event_data.coredump.parent_tgid = (__kernel_pid_t) v[3];
                break;
        case PROC_KIND_EXIT:
                ev->event_data.exit.process_pid = (__kernel_pid_t) v[0];
                ev->event_data.exit.process_tgid = (__kernel_pid_t) v[1];
                ev->event_data.exit.exit_code = v[2];
                ev->event_data.exit.exit_signal = v[3];
                ev->event_data.exit.parent_pid = (__kernel_pid_t) v[4];
                ev->event_data.exit.parent_tgid = (__kernel_pid_t) v[5];
                break;
        default:
                CHECK(!"unknown kind");
        }
}

/* The 16 bytes of comm as given, NUL or not. */
static void event_set_comm(EventBuffer *b, const char comm[16]) {
        memcpy(b->ev.event_data.comm.comm, comm, sizeof(b->ev.event_data.comm.comm));
}

/* Decodes the first size bytes of b from a heap copy of exactly that size. */
static ProcDecode decode(const EventBuffer *b, size_t size, ProcEvent *ret) {
        uint8_t *copy;
        ProcDecode d;

        CHECK(size <= sizeof(b->bytes));
        copy = malloc(MAX(size, (size_t) 1));
        CHECK(copy);
        memcpy(copy, b->bytes, size);
        /* Whatever ret held before must not show through. */
        memset(ret, 0x5a, sizeof(*ret));
        d = proc_event_decode(copy, size, ret);
        free(copy);
        return d;
}

static void test_layout(void) {
        EventBuffer b;

        /* What the decoder and these tests assume of the uapi header. */
        CHECK_EQ_INT(HEADER_SIZE, 16);
        CHECK_EQ_INT(EVENT_SIZE, 40);
        CHECK_EQ_INT(offsetof(struct proc_event, cpu), 4);
        CHECK_EQ_INT(offsetof(struct proc_event, timestamp_ns), 8);
        CHECK_EQ_INT(sizeof(b.ev.event_data.exit), 24);
        CHECK_EQ_INT(sizeof(b.ev.event_data.comm), 24);
        CHECK(alignof(EventBuffer) >= 8);
        CHECK_EQ_INT(ELEMENTSOF(kinds), _PROC_KIND_MAX);
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                CHECK_EQ_INT(kinds[i].kind, i);
}

static void check_event(const ProcEvent *ev, const KindInfo *k, uint32_t cpu, uint64_t timestamp_ns,
                        const uint32_t v[6]) {
        CHECK_EQ_INT(ev->kind, k->kind);
        CHECK_EQ_INT(ev->what, k->what);
        CHECK_EQ_INT(ev->cpu, cpu);
        CHECK(ev->timestamp_ns == timestamp_ns);
        CHECK_EQ_INT(ev->n_fields, k->n_fields);
        for (unsigned i = 0; i < ELEMENTSOF(ev->fields); i++)
                CHECK_EQ_INT(ev->fields[i], i < k->n_fields ? v[i] : 0);
        CHECK_EQ_INT(ev->ack_err, 0);
}

/* Every kind at the kernel's size, each value in each field position. */
static void test_every_kind(void) {
        static const uint32_t cpus[] = { 0, 1, 7, 8191, UINT32_C(0xffffffff) };
        static const uint64_t timestamps[] = { 0, 1, TIMESTAMP, UINT64_MAX };

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                const KindInfo *k = &kinds[i];

                for (unsigned rot = 0; rot < ELEMENTSOF(values); rot++) {
                        uint32_t v[6];
                        uint32_t cpu = cpus[(i + rot) % ELEMENTSOF(cpus)];
                        uint64_t ts = timestamps[(i + rot) % ELEMENTSOF(timestamps)];
                        EventBuffer b;
                        ProcEvent ev;

                        for (unsigned f = 0; f < 6; f++)
                                v[f] = values[(f + rot) % ELEMENTSOF(values)];
                        event_init(&b, k->what, cpu, ts);
                        event_set_fields(&b, k->kind, v);
                        if (k->kind == PROC_KIND_COMM)
                                event_set_comm(&b, "kworker/u8:2\0\0\0");

                        CHECK_EQ_INT(decode(&b, EVENT_SIZE, &ev), PROC_DECODE_EVENT);
                        check_event(&ev, k, cpu, ts, v);
                        if (k->kind == PROC_KIND_COMM)
                                CHECK_STREQ(ev.comm, "kworker/u8:2");
                        else
                                CHECK_STREQ(ev.comm, "");

                        /* The least a kernel sends is enough, with the same values where
                         * they are present. */
                        CHECK_EQ_INT(decode(&b, HEADER_SIZE + k->min_body, &ev), PROC_DECODE_EVENT);
                        CHECK_EQ_INT(ev.kind, k->kind);
                        CHECK_EQ_INT(ev.n_fields, k->n_fields);
                        for (unsigned f = 0; f < k->n_fields; f++)
                                CHECK_EQ_INT(ev.fields[f], f * 4 < k->min_body ? v[f] : 0);
                }
        }

        /* One by hand, against the table above: fork's order is parent, then child. */
        {
                EventBuffer b;
                ProcEvent ev;

                event_init(&b, PROC_EVENT_FORK, 3, TIMESTAMP);
                memset(&b.ev.event_data, 0, sizeof(b.ev.event_data));
                b.ev.event_data.fork.parent_pid = 100;
                b.ev.event_data.fork.parent_tgid = 101;
                b.ev.event_data.fork.child_pid = 200;
                b.ev.event_data.fork.child_tgid = 201;
                CHECK_EQ_INT(decode(&b, EVENT_SIZE, &ev), PROC_DECODE_EVENT);
                CHECK_EQ_INT(ev.kind, PROC_KIND_FORK);
                CHECK_EQ_INT(ev.what, PROC_EVENT_FORK);
                CHECK_EQ_INT(ev.cpu, 3);
                CHECK(ev.timestamp_ns == TIMESTAMP);
                CHECK_EQ_INT(ev.n_fields, 4);
                CHECK_EQ_INT(ev.fields[0], 100);
                CHECK_EQ_INT(ev.fields[1], 101);
                CHECK_EQ_INT(ev.fields[2], 200);
                CHECK_EQ_INT(ev.fields[3], 201);
                CHECK_EQ_INT(ev.fields[4], 0);
                CHECK_EQ_INT(ev.fields[5], 0);
                /* The same words by name. */
                CHECK_EQ_INT(ev.fork.parent_pid, 100);
                CHECK_EQ_INT(ev.fork.parent_tgid, 101);
                CHECK_EQ_INT(ev.fork.child_pid, 200);
                CHECK_EQ_INT(ev.fork.child_tgid, 201);
        }
}

static void test_ack(void) {
        static const uint32_t errs[] = { 0, EPERM, EINVAL, ENOMEM, UINT32_C(0xffffffff) };

        for (size_t i = 0; i < ELEMENTSOF(errs); i++) {
                EventBuffer b;
                ProcEvent ev;

                /* As cn_proc_ack() builds it; send_msg() of newer kernels then sets the CPU. */
                event_init(&b, PROC_EVENT_NONE, UINT32_C(0xffffffff), TIMESTAMP);
                memset(&b.ev.event_data, 0, sizeof(b.ev.event_data));
                b.ev.event_data.ack.err = errs[i];

                CHECK_EQ_INT(decode(&b, EVENT_SIZE, &ev), PROC_DECODE_ACK);
                CHECK_EQ_INT(ev.what, PROC_EVENT_NONE);
                CHECK_EQ_INT(ev.ack_err, errs[i]);
                CHECK_EQ_INT(ev.cpu, 0xffffffff);
                CHECK(ev.timestamp_ns == TIMESTAMP);
                CHECK_EQ_INT(ev.n_fields, 0);
                for (unsigned f = 0; f < ELEMENTSOF(ev.fields); f++)
                        CHECK_EQ_INT(ev.fields[f], 0);
                CHECK_STREQ(ev.comm, "");

                /* err is all an ack needs; a byte less is too short. */
                CHECK_EQ_INT(decode(&b, HEADER_SIZE + 4, &ev), PROC_DECODE_ACK);
                CHECK_EQ_INT(ev.ack_err, errs[i]);
                for (size_t size = 0; size < HEADER_SIZE + 4; size++)
                        CHECK_EQ_INT(decode(&b, size, &ev), PROC_DECODE_MALFORMED);
                CHECK_EQ_INT(decode(&b, sizeof(b.bytes), &ev), PROC_DECODE_ACK);
                CHECK_EQ_INT(ev.ack_err, errs[i]);
        }

        /* The CPU as this host's kernel (6.18) sends it: the one send_msg() ran on. */
        {
                EventBuffer b;
                ProcEvent ev;

                event_init(&b, PROC_EVENT_NONE, 1, TIMESTAMP);
                b.ev.event_data.ack.err = 0;
                CHECK_EQ_INT(decode(&b, EVENT_SIZE, &ev), PROC_DECODE_ACK);
                CHECK_EQ_INT(ev.cpu, 1);
                CHECK_EQ_INT(ev.ack_err, 0);
        }
}

/* Shorter than the header, and than each kind's minimum: the boundary exactly. */
static void test_short(void) {
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                const KindInfo *k = &kinds[i];
                uint32_t v[6] = { 11, 12, 13, 14, 15, 16 };
                EventBuffer b;
                ProcEvent ev;

                event_init(&b, k->what, 2, TIMESTAMP);
                event_set_fields(&b, k->kind, v);
                if (k->kind == PROC_KIND_COMM)
                        event_set_comm(&b, "sh\0\0\0\0\0\0\0\0\0\0\0\0\0");

                for (size_t size = 0; size < HEADER_SIZE; size++) {
                        CHECK_EQ_INT(decode(&b, size, &ev), PROC_DECODE_MALFORMED);
                        CHECK_EQ_INT(ev.n_fields, 0);
                        CHECK_STREQ(ev.comm, "");
                }
                for (size_t size = HEADER_SIZE; size < HEADER_SIZE + k->min_body; size++)
                        CHECK_EQ_INT(decode(&b, size, &ev), PROC_DECODE_MALFORMED);

                CHECK_EQ_INT(decode(&b, HEADER_SIZE + k->min_body - 1, &ev), PROC_DECODE_MALFORMED);
                CHECK_EQ_INT(decode(&b, HEADER_SIZE + k->min_body, &ev), PROC_DECODE_EVENT);
                CHECK_EQ_INT(ev.kind, k->kind);
                CHECK_EQ_INT(ev.fields[0], 11);
                CHECK_EQ_INT(ev.fields[1], 12);
                if (k->kind == PROC_KIND_COMM)
                        CHECK_STREQ(ev.comm, "sh");

                /* Every size from the minimum up is an event. */
                for (size_t size = HEADER_SIZE + k->min_body; size <= sizeof(b.bytes); size++)
                        CHECK_EQ_INT(decode(&b, size, &ev), PROC_DECODE_EVENT);
        }
}

/* Older kernels: exit without its parent (before Linux 4.x), coredump likewise; bodies between
 * the sizes keep what is whole and leave the rest 0. */
static void test_old_kernels(void) {
        const uint32_t v[6] = { 4242, 4241, 0x0900, 17, 1, 1 };
        EventBuffer b;
        ProcEvent ev;

        event_init(&b, PROC_EVENT_EXIT, 0, TIMESTAMP);
        event_set_fields(&b, PROC_KIND_EXIT, v);
        /* Nonzero parent fields in the bytes cut off: a decoder reading them would show. */
        b.ev.event_data.exit.parent_pid = 777;
        b.ev.event_data.exit.parent_tgid = 778;

        CHECK_EQ_INT(decode(&b, HEADER_SIZE + 16, &ev), PROC_DECODE_EVENT);
        CHECK_EQ_INT(ev.kind, PROC_KIND_EXIT);
        CHECK_EQ_INT(ev.n_fields, 6);
        CHECK_EQ_INT(ev.fields[0], 4242);
        CHECK_EQ_INT(ev.fields[1], 4241);
        CHECK_EQ_INT(ev.fields[2], 0x0900);
        CHECK_EQ_INT(ev.fields[3], 17);
        CHECK_EQ_INT(ev.fields[4], 0);
        CHECK_EQ_INT(ev.fields[5], 0);
        CHECK_EQ_INT(ev.exit.pid, 4242);
        CHECK_EQ_INT(ev.exit.tgid, 4241);
        CHECK_EQ_INT(ev.exit.exit_code, 0x0900);
        CHECK_EQ_INT(ev.exit.exit_signal, 17);
        CHECK_EQ_INT(ev.exit.parent_tgid, 0);

        for (size_t body = 17; body < 20; body++) {
                CHECK_EQ_INT(decode(&b, HEADER_SIZE + body, &ev), PROC_DECODE_EVENT);
                CHECK_EQ_INT(ev.fields[3], 17);
                CHECK_EQ_INT(ev.fields[4], 0);         /* partial */
                CHECK_EQ_INT(ev.fields[5], 0);
        }
        CHECK_EQ_INT(decode(&b, HEADER_SIZE + 20, &ev), PROC_DECODE_EVENT);
        CHECK_EQ_INT(ev.fields[4], 777);               /* whole */
        CHECK_EQ_INT(ev.fields[5], 0);
        for (size_t body = 21; body < 24; body++) {
                CHECK_EQ_INT(decode(&b, HEADER_SIZE + body, &ev), PROC_DECODE_EVENT);
                CHECK_EQ_INT(ev.fields[4], 777);
                CHECK_EQ_INT(ev.fields[5], 0);         /* partial */
        }
        CHECK_EQ_INT(decode(&b, HEADER_SIZE + 24, &ev), PROC_DECODE_EVENT);
        CHECK_EQ_INT(ev.fields[4], 777);
        CHECK_EQ_INT(ev.fields[5], 778);

        event_init(&b, PROC_EVENT_COREDUMP, 5, TIMESTAMP);
        memset(&b.ev.event_data, 0, sizeof(b.ev.event_data));
        b.ev.event_data.coredump.process_pid = 300;
        b.ev.event_data.coredump.process_tgid = 299;
        b.ev.event_data.coredump.parent_pid = 1;
        b.ev.event_data.coredump.parent_tgid = 2;

        CHECK_EQ_INT(decode(&b, HEADER_SIZE + 8, &ev), PROC_DECODE_EVENT);
        CHECK_EQ_INT(ev.kind, PROC_KIND_COREDUMP);
        CHECK_EQ_INT(ev.n_fields, 4);
        CHECK_EQ_INT(ev.cpu, 5);
        CHECK_EQ_INT(ev.fields[0], 300);
        CHECK_EQ_INT(ev.fields[1], 299);
        CHECK_EQ_INT(ev.fields[2], 0);
        CHECK_EQ_INT(ev.fields[3], 0);
        for (size_t body = 9; body < 12; body++) {
                CHECK_EQ_INT(decode(&b, HEADER_SIZE + body, &ev), PROC_DECODE_EVENT);
                CHECK_EQ_INT(ev.fields[2], 0);
                CHECK_EQ_INT(ev.fields[3], 0);
        }
        CHECK_EQ_INT(decode(&b, HEADER_SIZE + 12, &ev), PROC_DECODE_EVENT);
        CHECK_EQ_INT(ev.fields[2], 1);
        CHECK_EQ_INT(ev.fields[3], 0);
        CHECK_EQ_INT(decode(&b, HEADER_SIZE + 16, &ev), PROC_DECODE_EVENT);
        CHECK_EQ_INT(ev.fields[2], 1);
        CHECK_EQ_INT(ev.fields[3], 2);
        CHECK_EQ_INT(decode(&b, HEADER_SIZE + 7, &ev), PROC_DECODE_MALFORMED);
}

static void test_unknown(void) {
        static const uint32_t whats[] = {
                0x400,                                  /* the "next" bit */
                PROC_EVENT_NONZERO_EXIT,                /* a filter bit, never an event */
                PROC_EVENT_FORK | PROC_EVENT_EXEC,      /* two at once */
                PROC_EVENT_COREDUMP | PROC_EVENT_EXIT,
                0x8, 0x10, 0x20, 0x800, 0x10000000,
                PROC_EVENT_ALL_MASK,
                UINT32_C(0xffffffff),
        };

        for (size_t i = 0; i < ELEMENTSOF(whats); i++) {
                EventBuffer b;
                ProcEvent ev;

                event_init(&b, whats[i], 6, TIMESTAMP);
                memset(&b.ev.event_data, 0, sizeof(b.ev.event_data));
                CHECK_EQ_INT(decode(&b, EVENT_SIZE, &ev), PROC_DECODE_UNKNOWN);
                /* The header is still read: the seq tracker needs the CPU. */
                CHECK_EQ_INT(ev.what, whats[i]);
                CHECK_EQ_INT(ev.cpu, 6);
                CHECK(ev.timestamp_ns == TIMESTAMP);
                CHECK_EQ_INT(ev.n_fields, 0);

                /* An unknown kind has no minimum body; the header it must have. */
                CHECK_EQ_INT(decode(&b, HEADER_SIZE, &ev), PROC_DECODE_UNKNOWN);
                CHECK_EQ_INT(decode(&b, HEADER_SIZE - 1, &ev), PROC_DECODE_MALFORMED);
                CHECK_EQ_INT(decode(&b, sizeof(b.bytes), &ev), PROC_DECODE_UNKNOWN);
        }
}

/* A later kernel may make struct proc_event longer: more than needed is fine. */
static void test_longer(void) {
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                const KindInfo *k = &kinds[i];
                const uint32_t v[6] = { 21, 22, 23, 24, 25, 26 };
                EventBuffer b;
                ProcEvent ev;

                event_init(&b, k->what, 1, TIMESTAMP);
                event_set_fields(&b, k->kind, v);
                if (k->kind == PROC_KIND_COMM)
                        event_set_comm(&b, "systemd-journal");
                /* Bytes after the struct: the pattern again. */
                memset(b.bytes + EVENT_SIZE, 0xff, sizeof(b.bytes) - EVENT_SIZE);

                CHECK_EQ_INT(decode(&b, sizeof(b.bytes), &ev), PROC_DECODE_EVENT);
                check_event(&ev, k, 1, TIMESTAMP, v);
                if (k->kind == PROC_KIND_COMM)
                        CHECK_STREQ(ev.comm, "systemd-journal");
        }
}

static void check_comm_decode(const char comm[16], const char *expected) {
        const uint32_t v[6] = { 31, 32 };
        EventBuffer b;
        ProcEvent ev;

        event_init(&b, PROC_EVENT_COMM, 0, TIMESTAMP);
        event_set_fields(&b, PROC_KIND_COMM, v);
        event_set_comm(&b, comm);
        CHECK_EQ_INT(decode(&b, EVENT_SIZE, &ev), PROC_DECODE_EVENT);
        CHECK_EQ_INT(ev.kind, PROC_KIND_COMM);
        CHECK_EQ_INT(ev.n_fields, 2);
        CHECK_EQ_INT(ev.fields[0], 31);
        CHECK_EQ_INT(ev.fields[1], 32);
        CHECK_EQ_INT(ev.comm[16], '\0');
        CHECK_STREQ(ev.comm, expected);

        /* The same at the minimum size, from a copy that ends right after comm. */
        CHECK_EQ_INT(decode(&b, HEADER_SIZE + 24, &ev), PROC_DECODE_EVENT);
        CHECK_STREQ(ev.comm, expected);
}

/* The comm field of a Comm event: 16 bytes, NUL-padded by the kernel, but not trusted to be. */
static void test_comm(void) {
        /* Sixteen bytes and no NUL: all sixteen, and no more. */
        check_comm_decode("abcdefghijklmnop", "abcdefghijklmnop");
        /* The kernel's own: 15 and a NUL. */
        check_comm_decode("abcdefghijklmno", "abcdefghijklmno");
        check_comm_decode("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", "");
        /* A NUL in the middle cuts, whatever follows it. */
        check_comm_decode("ab\0cdefghijklmn", "ab");
        check_comm_decode("ab\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "ab");
        /* Valid UTF-8 stays. */
        check_comm_decode("caf\xc3\xa9\0\0\0\0\0\0\0\0\0\0", "caf\xc3\xa9");
        check_comm_decode("\xe6\x97\xa5\xe6\x9c\xac\0\0\0\0\0\0\0\0\0", "\xe6\x97\xa5\xe6\x9c\xac");
        check_comm_decode("\xf0\x9f\x98\x80\0\0\0\0\0\0\0\0\0\0\0", "\xf0\x9f\x98\x80");
        /* A character that ends exactly at byte 16 stays too. */
        check_comm_decode("abcdefghijklmn\xc3\xa9", "abcdefghijklmn\xc3\xa9");
        /* The kernel cuts at 15 bytes, maybe inside a character: its start becomes '?'. */
        check_comm_decode("abcdefghijklmn\xc3", "abcdefghijklmn?");
        check_comm_decode("abcdefghijklm\xe6\x97", "abcdefghijklm?" "?");
        check_comm_decode("abcdefghijkl\xf0\x9f\x98", "abcdefghijkl?" "?" "?");
        check_comm_decode("\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5",
                          "\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5");
        check_comm_decode("a\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5\xe6\x9c\xac\xe6\x97",
                          "a\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5\xe6\x9c\xac?" "?");
        /* Sixteen bytes, no NUL, a character cut by the end of the field. */
        check_comm_decode("abcdefghijklmno\xc3", "abcdefghijklmno?");
        check_comm_decode("abcdefghijklmn\xe6\x97", "abcdefghijklmn?" "?");
        /* Invalid bytes, one '?' each. */
        check_comm_decode("a\xff" "b\0\0\0\0\0\0\0\0\0\0\0\0", "a?b");
        check_comm_decode("\xc0\x80x\0\0\0\0\0\0\0\0\0\0\0\0", "?" "?x");
        check_comm_decode("\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\0", "?");
        check_comm_decode("\xed\xa0\x80z\0\0\0\0\0\0\0\0\0\0\0", "?" "?" "?z");
        check_comm_decode("\xf4\x90\x80\x80\0\0\0\0\0\0\0\0\0\0\0", "?" "?" "?" "?");
        check_comm_decode("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
                          "?" "?" "?" "?" "?" "?" "?" "?" "?" "?" "?" "?" "?" "?" "?" "?");
}

static void check_utf8(const char *in, const char *expected) {
        char buf[64];
        size_t n = strlen(in);

        CHECK(n < sizeof(buf));
        memcpy(buf, in, n + 1);
        proc_comm_make_utf8(buf);
        CHECK_STREQ(buf, expected);
        /* In place, byte for byte. */
        CHECK_EQ_INT(strlen(buf), n);
        /* And the result is left as it is. */
        proc_comm_make_utf8(buf);
        CHECK_STREQ(buf, expected);
}

static void test_make_utf8(void) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "", "" },
                { "abc", "abc" },
                { "\x01\x7f", "\x01\x7f" },
                /* The edges of each length. */
                { "\xc2\x80", "\xc2\x80" },                     /* U+0080 */
                { "\xdf\xbf", "\xdf\xbf" },                     /* U+07FF */
                { "\xe0\xa0\x80", "\xe0\xa0\x80" },             /* U+0800 */
                { "\xed\x9f\xbf", "\xed\x9f\xbf" },             /* U+D7FF */
                { "\xee\x80\x80", "\xee\x80\x80" },             /* U+E000 */
                { "\xf0\x90\x80\x80", "\xf0\x90\x80\x80" },     /* U+10000 */
                { "\xf4\x8f\xbf\xbd", "\xf4\x8f\xbf\xbd" },     /* U+10FFFD */
                { "\xf4\x8f\xbf\xbf", "????" },                 /* U+10FFFF, a noncharacter */
                { "caf\xc3\xa9", "caf\xc3\xa9" },
                { "\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac" },
                { "\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!" },
                /* Noncharacters, which sd-bus refuses in a string. */
                { "\xef\xb7\x90", "???" },                     /* U+FDD0 */
                { "a\xef\xb7\xaf" "b", "a???b" },              /* U+FDEF */
                { "\xef\xb7\xb0", "\xef\xb7\xb0" },           /* U+FDF0 */
                { "\xef\xbf\xbe", "???" },                     /* U+FFFE */
                { "\xef\xbf\xbf", "???" },                     /* U+FFFF */
                { "\xf0\x9f\xbf\xbf", "????" },               /* U+1FFFF */
                { "\xf4\x8f\xbf\xbe", "????" },               /* U+10FFFE */
                /* Bytes that never start a character. */
                { "\xff", "?" },
                { "a\xff" "b", "a?b" },
                { "\xfe", "?" },
                { "\xf5\x80\x80\x80", "?" "?" "?" "?" },
                { "\xf8\x88\x80\x80\x80", "?" "?" "?" "?" "?" },
                /* Lone continuation bytes. */
                { "\x80", "?" },
                { "\xbf", "?" },
                { "a\x80\x80" "b", "a?" "?b" },
                /* Overlong forms. */
                { "\xc0\x80", "?" "?" },
                { "\xc1\xbf", "?" "?" },
                { "\xe0\x80\xaf", "?" "?" "?" },
                { "\xe0\x9f\xbf", "?" "?" "?" },
                { "\xf0\x80\x80\xaf", "?" "?" "?" "?" },
                { "\xf0\x8f\xbf\xbf", "?" "?" "?" "?" },
                /* Surrogates. */
                { "\xed\xa0\x80", "?" "?" "?" },
                { "\xed\xbf\xbf", "?" "?" "?" },
                /* Above U+10FFFF. */
                { "\xf4\x90\x80\x80", "?" "?" "?" "?" },
                { "\xf4\xbf\xbf\xbf", "?" "?" "?" "?" },
                /* Cut characters: only the start is bad, what follows it is judged anew. */
                { "\xc3", "?" },
                { "\xc3" "a", "?a" },
                { "\xe6\x97", "?" "?" },
                { "\xe6\x97" "a", "?" "?a" },
                { "\xf0\x9f\x98", "?" "?" "?" },
                { "\xc3\xa9\xc3", "\xc3\xa9?" },
                { "\xc3\xc3\xa9", "?\xc3\xa9" },
                { "\xe6\xc3\xa9", "?\xc3\xa9" },
                { "\xf0\x9f\xe6\x97\xa5", "?" "?\xe6\x97\xa5" },
                { "ok\xe6\x97\xa5\xff" "ok", "ok\xe6\x97\xa5?ok" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_utf8(cases[i].in, cases[i].out);

        /* Every byte after an ASCII letter, and every lead byte before a continuation: one
         * byte in, one byte (itself or '?') out, nothing read past the NUL. */
        for (unsigned c = 1; c < 256; c++) {
                char buf[4] = { 'x', (char) c, 0, 0 };
                char *heap;

                proc_comm_make_utf8(buf);
                CHECK_EQ_INT(buf[0], 'x');
                CHECK_EQ_INT((unsigned char) buf[1], c < 0x80 ? c : '?');
                CHECK_EQ_INT(buf[2], 0);

                /* An exact-size heap copy: a lead byte must not look past the NUL. */
                heap = malloc(2);
                CHECK(heap);
                heap[0] = (char) c;
                heap[1] = 0;
                proc_comm_make_utf8(heap);
                CHECK_EQ_INT((unsigned char) heap[0], c < 0x80 ? c : '?');
                free(heap);
        }
}

static void test_kind_to_what(void) {
        uint32_t all = 0;

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                CHECK_EQ_INT(proc_kind_to_what(kinds[i].kind), kinds[i].what);
                CHECK_EQ_INT(proc_kinds_to_what_mask(UINT32_C(1) << kinds[i].kind), kinds[i].what);
                all |= kinds[i].what;
        }
        CHECK_EQ_INT(proc_kind_to_what(_PROC_KIND_MAX), 0);
        CHECK_EQ_INT(proc_kind_to_what((ProcKind) -1), 0);

        CHECK_EQ_INT(all, 0xc00003c7);
        CHECK_EQ_INT(proc_kinds_to_what_mask(PROC_KINDS_ALL), 0xc00003c7);
        CHECK_EQ_INT(proc_kinds_to_what_mask(0), 0);
        CHECK_EQ_INT(proc_kinds_to_what_mask(UINT32_C(1) << PROC_KIND_FORK | UINT32_C(1) << PROC_KIND_EXIT),
                     PROC_EVENT_FORK | PROC_EVENT_EXIT);
        /* Bits past the last kind mean nothing. */
        CHECK_EQ_INT(proc_kinds_to_what_mask(UINT32_C(1) << _PROC_KIND_MAX), 0);
        CHECK_EQ_INT(proc_kinds_to_what_mask(UINT32_C(0xffffffff)), 0xc00003c7);
        /* The kernel's ALL is ours plus the NONZERO_EXIT filter bit. */
        CHECK_EQ_INT(PROC_EVENT_ALL_MASK, 0xe00003c7);
        CHECK_EQ_INT(PROC_EVENT_ALL_MASK, proc_kinds_to_what_mask(PROC_KINDS_ALL) | PROC_EVENT_NONZERO_EXIT);
}

static int see(ProcSeqTracker *t, uint32_t cpu, uint32_t seq) {
        return proc_seq_tracker_see(t, cpu, seq);
}

static void test_seq_basic(void) {
        ProcSeqTracker t = {};

        /* The first event of a CPU compares with nothing. */
        CHECK_EQ_INT(see(&t, 0, 1000), 0);
        CHECK_EQ_INT(t.lost, 0);
        CHECK(t.n_cpus >= 1);
        CHECK(t.next_seq[0] == 1001);

        /* In order: nothing lost. */
        for (uint32_t s = 1001; s < 1100; s++)
                CHECK_EQ_INT(see(&t, 0, s), 0);
        CHECK_EQ_INT(t.lost, 0);

        /* A gap of k is k lost. */
        CHECK_EQ_INT(see(&t, 0, 1101), 1);             /* 1100 missed */
        CHECK_EQ_INT(t.lost, 1);
        CHECK_EQ_INT(see(&t, 0, 1105), 3);
        CHECK_EQ_INT(t.lost, 4);
        CHECK_EQ_INT(see(&t, 0, 1106), 0);
        CHECK_EQ_INT(see(&t, 0, 2106), 999);
        CHECK_EQ_INT(t.lost, 1003);
        proc_seq_tracker_done(&t);
        CHECK(!t.next_seq);
        CHECK_EQ_INT(t.n_cpus, 0);
        CHECK_EQ_INT(t.lost, 0);

        /* The largest gap counted, and the first one taken for a restart. */
        CHECK_EQ_INT(see(&t, 0, 0), 0);
        CHECK_EQ_INT(see(&t, 0, (uint32_t) INT32_MAX + 1), INT32_MAX);
        CHECK_EQ_INT(t.lost, INT32_MAX);
        proc_seq_tracker_done(&t);
        CHECK_EQ_INT(see(&t, 0, 0), 0);
        CHECK_EQ_INT(see(&t, 0, (uint32_t) INT32_MAX + 2), 0);
        CHECK_EQ_INT(t.lost, 0);
        CHECK_EQ_INT(see(&t, 0, (uint32_t) INT32_MAX + 3), 0);
        proc_seq_tracker_done(&t);
}

/* Each CPU counts on its own; messages of different CPUs interleave freely. */
static void test_seq_cpus(void) {
        ProcSeqTracker t = {};

        CHECK_EQ_INT(see(&t, 0, 10), 0);
        CHECK_EQ_INT(see(&t, 1, 500), 0);
        CHECK_EQ_INT(see(&t, 0, 11), 0);
        CHECK_EQ_INT(see(&t, 2, 7), 0);
        CHECK_EQ_INT(see(&t, 1, 501), 0);
        CHECK_EQ_INT(see(&t, 0, 12), 0);
        CHECK_EQ_INT(see(&t, 2, 8), 0);
        CHECK_EQ_INT(t.lost, 0);

        CHECK_EQ_INT(see(&t, 1, 504), 2);              /* 502, 503 */
        CHECK_EQ_INT(see(&t, 0, 13), 0);               /* CPU 0 is not disturbed by it */
        CHECK_EQ_INT(see(&t, 2, 9), 0);
        CHECK_EQ_INT(see(&t, 0, 15), 1);               /* 14 */
        CHECK_EQ_INT(see(&t, 2, 20), 10);              /* 10..19 */
        CHECK_EQ_INT(see(&t, 1, 505), 0);
        CHECK_EQ_INT(t.lost, 13);

        /* A CPU that shows up late starts fresh. */
        CHECK_EQ_INT(see(&t, 3, 123456), 0);
        CHECK_EQ_INT(see(&t, 3, 123457), 0);
        CHECK_EQ_INT(t.lost, 13);
        proc_seq_tracker_done(&t);
}

/* An ack takes its CPU's next number like any event (kernels since 4.x send it through the
 * same path: this host's 6.18 acked a LISTEN with cpu 0 and that CPU's counter as seq), so it
 * is tracked like one; an old kernel's ack names cpu -1 and takes no number: skipped. */
static void test_seq_acks(void) {
        ProcSeqTracker t = {};

        /* What the kernel sends after a LISTEN: the ack, then events, on CPU 0. */
        CHECK_EQ_INT(see(&t, 0, 100), 0);              /* the ack */
        CHECK_EQ_INT(see(&t, 0, 101), 0);
        CHECK_EQ_INT(see(&t, 0, 102), 0);
        CHECK_EQ_INT(see(&t, 0, 104), 1);              /* 103 lost */
        CHECK_EQ_INT(t.lost, 1);
        proc_seq_tracker_done(&t);

        /* Losses are counted on the CPU they happened on, each message for itself. */
        CHECK_EQ_INT(see(&t, 0, 10), 0);
        CHECK_EQ_INT(see(&t, 1, 5), 0);
        CHECK_EQ_INT(see(&t, 0, 11), 0);               /* an ack on CPU 0 */
        CHECK_EQ_INT(see(&t, 1, 7), 1);                /* 6 lost on CPU 1 */
        CHECK_EQ_INT(see(&t, 0, 12), 0);
        CHECK_EQ_INT(t.lost, 1);

        /* An old kernel's ack: no CPU, no number, no effect. */
        CHECK_EQ_INT(see(&t, UINT32_C(0xffffffff), 4242), 0);
        CHECK_EQ_INT(see(&t, 0, 13), 0);
        CHECK_EQ_INT(see(&t, 0, 15), 1);
        CHECK_EQ_INT(t.lost, 2);
        proc_seq_tracker_done(&t);
}

/* A seq at or before the last one is a restart, not a loss. */
static void test_seq_backwards(void) {
        ProcSeqTracker t = {};

        CHECK_EQ_INT(see(&t, 0, 100), 0);
        CHECK_EQ_INT(see(&t, 0, 50), 0);
        CHECK_EQ_INT(t.lost, 0);
        CHECK_EQ_INT(see(&t, 0, 51), 0);               /* counting goes on from 50 */
        CHECK_EQ_INT(see(&t, 0, 53), 1);
        CHECK_EQ_INT(see(&t, 0, 53), 0);               /* equal */
        CHECK_EQ_INT(see(&t, 0, 54), 0);
        CHECK_EQ_INT(see(&t, 0, 0), 0);
        CHECK_EQ_INT(see(&t, 0, 1), 0);
        CHECK_EQ_INT(t.lost, 1);
        proc_seq_tracker_done(&t);
}

/* The kernel's counter is a u32 and wraps. */
static void test_seq_wrap(void) {
        ProcSeqTracker t = {};

        CHECK_EQ_INT(see(&t, 0, UINT32_C(0xfffffffe)), 0);
        CHECK_EQ_INT(see(&t, 0, UINT32_C(0xffffffff)), 0);
        CHECK_EQ_INT(see(&t, 0, 0), 0);
        CHECK_EQ_INT(see(&t, 0, 1), 0);
        CHECK_EQ_INT(t.lost, 0);

        /* 0xfffffffe, then 1: 0xffffffff and 0 are missing. */
        CHECK_EQ_INT(see(&t, 1, UINT32_C(0xfffffffe)), 0);
        CHECK_EQ_INT(see(&t, 1, 1), 2);
        CHECK_EQ_INT(t.lost, 2);
        CHECK_EQ_INT(see(&t, 2, UINT32_C(0xffffffff)), 0);
        CHECK_EQ_INT(see(&t, 2, 1), 1);                /* 0 */
        CHECK_EQ_INT(see(&t, 3, UINT32_C(0xfffffffd)), 0);
        CHECK_EQ_INT(see(&t, 3, UINT32_C(0xffffffff)), 1);
        CHECK_EQ_INT(see(&t, 3, 0), 0);
        CHECK_EQ_INT(t.lost, 4);

        /* The first seq a CPU shows may be the last one before the wrap. */
        CHECK_EQ_INT(see(&t, 4, UINT32_C(0xffffffff)), 0);
        CHECK(t.next_seq[4] != 0);                     /* seen, though seq + 1 wraps */
        CHECK_EQ_INT(see(&t, 4, 0), 0);
        CHECK_EQ_INT(see(&t, 4, 1), 0);
        CHECK_EQ_INT(t.lost, 4);
        proc_seq_tracker_done(&t);
}

/* The CPU number comes from the message: it sizes the table, up to PROC_SEQ_MAX_CPUS. */
static void test_seq_cpu_numbers(void) {
        ProcSeqTracker t = {};

        /* At or past the limit, a message is skipped and allocates nothing. */
        CHECK_EQ_INT(see(&t, PROC_SEQ_MAX_CPUS, 5), 0);
        CHECK_EQ_INT(see(&t, UINT32_C(0xffffffff), 6), 0);
        CHECK(!t.next_seq);
        CHECK_EQ_INT(t.n_cpus, 0);
        CHECK_EQ_INT(t.lost, 0);
        CHECK_EQ_INT(see(&t, 0, 0), 0);
        CHECK_EQ_INT(see(&t, 0, 2), 1);
        proc_seq_tracker_done(&t);

        /* The table grows to any CPU below the limit, and keeps what it held. */
        CHECK_EQ_INT(see(&t, 0, 100), 0);
        CHECK_EQ_INT(see(&t, 1, 200), 0);
        CHECK_EQ_INT(see(&t, 2, 300), 0);
        CHECK(t.n_cpus >= 3);
        CHECK_EQ_INT(see(&t, 4000, 7), 0);
        CHECK(t.n_cpus > 4000);
        CHECK(t.n_cpus <= PROC_SEQ_MAX_CPUS);
        CHECK(t.next_seq[4000] == 8);
        for (size_t c = 3; c < t.n_cpus; c++)
                if (c != 4000)
                        CHECK(t.next_seq[c] == 0);
        CHECK_EQ_INT(see(&t, 0, 101), 0);
        CHECK_EQ_INT(see(&t, 1, 201), 0);
        CHECK_EQ_INT(see(&t, 2, 302), 1);
        CHECK_EQ_INT(see(&t, 4000, 10), 2);
        CHECK_EQ_INT(see(&t, PROC_SEQ_MAX_CPUS - 1, 1), 0);
        CHECK_EQ_INT(t.n_cpus, PROC_SEQ_MAX_CPUS);
        CHECK_EQ_INT(see(&t, PROC_SEQ_MAX_CPUS - 1, 2), 0);
        CHECK_EQ_INT(see(&t, 4000, 11), 0);
        CHECK_EQ_INT(see(&t, 0, 102), 0);
        CHECK_EQ_INT(t.lost, 3);
        proc_seq_tracker_done(&t);

        /* Straight to a high CPU, then the ones below it. */
        CHECK_EQ_INT(see(&t, 4000, 1), 0);
        CHECK(t.n_cpus > 4000);
        for (uint32_t c = 0; c < 4000; c += 97)
                CHECK_EQ_INT(see(&t, c, c), 0);
        CHECK_EQ_INT(see(&t, 4000, 3), 1);
        proc_seq_tracker_done(&t);
}

static void test_seq_reset_done(void) {
        ProcSeqTracker t = {};

        /* Both on a tracker that never saw anything. */
        proc_seq_tracker_reset(&t);
        CHECK(!t.next_seq);
        proc_seq_tracker_done(&t);
        proc_seq_tracker_done(&t);

        CHECK_EQ_INT(see(&t, 0, 0), 0);
        CHECK_EQ_INT(see(&t, 0, 5), 4);
        CHECK_EQ_INT(see(&t, 9, 50), 0);

        /* Reset forgets the CPUs; the count of lost events stays. */
        proc_seq_tracker_reset(&t);
        CHECK_EQ_INT(t.lost, 4);
        for (size_t c = 0; c < t.n_cpus; c++)
                CHECK(t.next_seq[c] == 0);
        CHECK_EQ_INT(see(&t, 0, 1000), 0);             /* first again, not a gap of 994 */
        CHECK_EQ_INT(see(&t, 9, 10), 0);
        CHECK_EQ_INT(see(&t, 0, 1002), 1);
        CHECK_EQ_INT(t.lost, 5);

        /* Done frees the table (valgrind and ASan check) and clears everything. */
        proc_seq_tracker_done(&t);
        CHECK(!t.next_seq);
        CHECK_EQ_INT(t.n_cpus, 0);
        CHECK_EQ_INT(t.lost, 0);

        /* And the tracker is usable again. */
        CHECK_EQ_INT(see(&t, 1, 1), 0);
        CHECK_EQ_INT(see(&t, 1, 3), 1);
        proc_seq_tracker_done(&t);
}

static void test_exit_status(void) {
        int32_t code, sig;
        bool core;

        /* exit(3) */
        proc_exit_status_decode(3 << 8, &code, &sig, &core);
        CHECK_EQ_INT(code, 3);
        CHECK_EQ_INT(sig, -1);
        CHECK(!core);
        proc_exit_status_decode(0, &code, &sig, &core);
        CHECK_EQ_INT(code, 0);
        CHECK_EQ_INT(sig, -1);
        proc_exit_status_decode(255 << 8, &code, &sig, &core);
        CHECK_EQ_INT(code, 255);
        /* Killed by SIGTERM, by SIGSEGV with a core dump. */
        proc_exit_status_decode(15, &code, &sig, &core);
        CHECK_EQ_INT(code, -1);
        CHECK_EQ_INT(sig, 15);
        CHECK(!core);
        proc_exit_status_decode(11 | 0x80, &code, &sig, &core);
        CHECK_EQ_INT(code, -1);
        CHECK_EQ_INT(sig, 11);
        CHECK(core);
        /* A stopped status (0x7f) is no exit. */
        proc_exit_status_decode((19 << 8) | 0x7f, &code, &sig, &core);
        CHECK_EQ_INT(code, -1);
        CHECK_EQ_INT(sig, -1);
        CHECK(!core);
}

int main(void) {
        test_layout();
        test_exit_status();
        test_every_kind();
        test_ack();
        test_short();
        test_old_kernels();
        test_unknown();
        test_longer();
        test_comm();
        test_make_utf8();
        test_kind_to_what();
        test_seq_basic();
        test_seq_cpus();
        test_seq_acks();
        test_seq_backwards();
        test_seq_wrap();
        test_seq_cpu_numbers();
        test_seq_reset_done();
        return EXIT_SUCCESS;
}
