/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/relay/cnmsg.c: datagrams built by hand from struct nlmsghdr and struct cn_msg,
 * as the kernel frames them, walked frame by frame; every way a header can lie about a length;
 * and a seeded mutation loop that asks only for termination and for data inside the buffer.
 * Every walk runs on a heap copy of exactly the datagram's size, so that ASan and valgrind see
 * any read past its end. */

#include <linux/netlink.h>

#include "cnmsg.h"
#include "tests.h"
#include "util.h"

#define HDRLEN ((size_t) NLMSG_HDRLEN)
#define CNLEN sizeof(struct cn_msg)

/* Large enough for a cn_msg whose u16 len is at its maximum. */
#define DATAGRAM_MAX (HDRLEN + CNLEN + 65536 + 4096)

/* A datagram under construction. The bytes come from malloc(), so they are 8-byte aligned. */
typedef struct Datagram {
        uint8_t *bytes;
        size_t size;
} Datagram;

static Datagram *datagram_new(void) {
        Datagram *d = calloc(1, sizeof(Datagram));

        CHECK(d);
        d->bytes = calloc(1, DATAGRAM_MAX);
        CHECK(d->bytes);
        CHECK((uintptr_t) d->bytes % 8 == 0);
        return d;
}

static void datagram_free(Datagram *d) {
        if (!d)
                return;
        free(d->bytes);
        free(d);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Datagram *, datagram_free);

static void put(Datagram *d, const void *p, size_t n) {
        CHECK(d->size + n <= DATAGRAM_MAX);
        memcpy(d->bytes + d->size, p, n);
        d->size += n;
}

static void put_fill(Datagram *d, uint8_t byte, size_t n) {
        CHECK(d->size + n <= DATAGRAM_MAX);
        memset(d->bytes + d->size, byte, n);
        d->size += n;
}

/* Pads to the next netlink alignment with junk, which the walk must skip without reading. */
static void pad(Datagram *d) {
        put_fill(d, 0xaa, NLMSG_ALIGN(d->size) - d->size);
}

/* Appends a bare netlink header whose nlmsg_len may lie; returns its offset. */
static size_t put_nlmsg(Datagram *d, uint16_t type, uint32_t nlmsg_len) {
        struct nlmsghdr h = {
                .nlmsg_len = nlmsg_len,
                .nlmsg_type = type,
                .nlmsg_seq = 0x11111111,
                .nlmsg_pid = 0,
        };
        size_t offset = d->size;

        put(d, &h, sizeof(h));
        return offset;
}

static uint8_t pattern(uint32_t seed, size_t i) {
        return (uint8_t) (seed * 31 + i * 7 + 1);
}

/* Appends a netlink message carrying *msg (whose len field may lie), data_bytes bytes of data in
 * the pattern of msg->seq, and trailing junk bytes; nlmsg_len covers exactly that. Not padded.
 * Returns the offset of the netlink header. */
static size_t put_cn_raw(Datagram *d, uint16_t type, const struct cn_msg *msg, size_t data_bytes,
                         size_t trailing) {
        size_t offset = put_nlmsg(d, type, (uint32_t) (HDRLEN + CNLEN + data_bytes + trailing));

        put(d, msg, CNLEN);
        for (size_t i = 0; i < data_bytes; i++) {
                uint8_t b = pattern(msg->seq, i);

                put(d, &b, 1);
        }
        put_fill(d, 0x5a, trailing);
        return offset;
}

/* Fills a header whose ack and flags follow from seq, so that every field is checked. */
static void make_cn(struct cn_msg *msg, uint32_t idx, uint32_t val, uint32_t seq, uint16_t len) {
        *msg = (struct cn_msg) {
                .id = { .idx = idx, .val = val },
                .seq = seq,
                .ack = ~seq,
                .len = len,
                .flags = (uint16_t) (seq ^ 0xbeef),
        };
}

/* A well-formed message as the kernel sends it (NLMSG_DONE, exact length), not padded. */
static size_t put_cn(Datagram *d, uint32_t idx, uint32_t val, uint32_t seq, uint16_t len) {
        struct cn_msg msg;

        make_cn(&msg, idx, val, seq, len);
        return put_cn_raw(d, NLMSG_DONE, &msg, len, 0);
}

static void put_error(Datagram *d, int error) {
        struct nlmsgerr e = {
                .error = error,
                .msg = { .nlmsg_len = (uint32_t) HDRLEN, .nlmsg_type = NLMSG_DONE },
        };

        put_nlmsg(d, NLMSG_ERROR, (uint32_t) (HDRLEN + sizeof(e)));
        put(d, &e, sizeof(e));
}

static const char *kind_name(CnFrameKind k) {
        switch (k) {
        case CN_FRAME_END:
                return "END";
        case CN_FRAME_MESSAGE:
                return "MESSAGE";
        case CN_FRAME_NOOP:
                return "NOOP";
        case CN_FRAME_ERROR:
                return "ERROR";
        case CN_FRAME_OVERRUN:
                return "OVERRUN";
        case CN_FRAME_MALFORMED:
                return "MALFORMED";
        }
        return "INVALID";
}

/* A walk over an exactly sized copy of a datagram, checking what must hold for every frame. */
typedef struct Walk {
        uint8_t *buf;
        size_t size;
        CnDatagram dg;
        unsigned frames;
} Walk;

static void walk_begin_bytes(Walk *w, const uint8_t *bytes, size_t size) {
        *w = (Walk) { .size = size, .buf = malloc(MAX(size, (size_t) 1)) };
        CHECK(w->buf);
        if (size > 0)
                memcpy(w->buf, bytes, size);
        cn_datagram_init(&w->dg, w->buf, size);
}

static void walk_begin(Walk *w, const Datagram *d) {
        walk_begin_bytes(w, d->bytes, d->size);
}

static void walk_end(Walk *w) {
        w->buf = mfree(w->buf);
}

static CnFrame walk_next(Walk *w) {
        size_t left = w->dg.left;
        CnFrame f = cn_datagram_next(&w->dg);

        CHECK(f.kind >= CN_FRAME_END && f.kind <= CN_FRAME_MALFORMED);
        if (f.kind == CN_FRAME_END) {
                CHECK_EQ_INT(w->dg.left, 0);
                return f;
        }

        /* Every frame consumes something, so the walk ends; and never more than a netlink
         * header's worth per frame, so it ends within size/4 + 1 frames at the latest. */
        CHECK(w->dg.left < left);
        w->frames++;
        CHECK(w->frames <= w->size / 4 + 1);

        if (f.kind == CN_FRAME_MESSAGE) {
                const uint8_t *p = (const uint8_t *) f.msg;

                CHECK(f.msg);
                CHECK(p >= w->buf + HDRLEN);
                CHECK((uintptr_t) p % 4 == 0);
                CHECK(f.msg->len <= CONNECTOR_MAX_MSG_SIZE);
                CHECK((size_t) (p - w->buf) + CNLEN + f.msg->len <= w->size);
        } else
                CHECK(!f.msg);
        if (f.kind == CN_FRAME_MALFORMED)
                CHECK(f.reason && f.reason[0] != '\0');
        return f;
}

/* The kinds of all frames of a datagram, space-separated, ending in END. Also checks that the
 * walk stays at END and that cn_datagram_count() agrees (counted after the checked walk, so that
 * a walk that never ends fails a check instead of hanging). */
static char *walk_kinds(const Datagram *d) {
        char *s = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);
        CnDatagram start;
        CnFrameKind k;
        bool first = true;
        Walk w;

        CHECK(f);
        walk_begin(&w, d);
        start = w.dg;
        do {
                k = walk_next(&w).kind;
                fprintf(f, "%s%s", first ? "" : " ", kind_name(k));
                first = false;
        } while (k != CN_FRAME_END);
        CHECK_EQ_INT(walk_next(&w).kind, CN_FRAME_END);
        CHECK_EQ_INT(cn_datagram_count(start), w.frames);
        walk_end(&w);
        CHECK(fclose(f) == 0);
        return s;
}

#define CHECK_WALK(d, expected)                                                         \
        do {                                                                            \
                _cleanup_(freep) char *_kinds_ = walk_kinds(d);                         \
                CHECK_STREQ(_kinds_, (expected));                                       \
        } while (0)

/* The next frame must be the message make_cn() makes of the arguments, with its data. */
#define CHECK_NEXT_MESSAGE(w, idx_, val_, seq_, len_)                                   \
        do {                                                                            \
                struct cn_msg _e_;                                                      \
                make_cn(&_e_, (idx_), (val_), (seq_), (len_));                          \
                CnFrame _f_ = walk_next(w);                                             \
                CHECK_EQ_INT(_f_.kind, CN_FRAME_MESSAGE);                               \
                CHECK_EQ_INT(_f_.msg->id.idx, _e_.id.idx);                              \
                CHECK_EQ_INT(_f_.msg->id.val, _e_.id.val);                              \
                CHECK_EQ_INT(_f_.msg->seq, _e_.seq);                                    \
                CHECK_EQ_INT(_f_.msg->ack, _e_.ack);                                    \
                CHECK_EQ_INT(_f_.msg->len, _e_.len);                                    \
                CHECK_EQ_INT(_f_.msg->flags, _e_.flags);                                \
                for (size_t _i_ = 0; _i_ < _e_.len; _i_++)                              \
                        CHECK_EQ_INT(_f_.msg->data[_i_], pattern(_e_.seq, _i_));        \
        } while (0)

static void test_empty(void) {
        _cleanup_(datagram_freep) Datagram *d = datagram_new();
        CnDatagram dg;

        CHECK_WALK(d, "END");

        cn_datagram_init(&dg, NULL, 0);
        CHECK_EQ_INT(cn_datagram_count(dg), 0);
        CHECK_EQ_INT(cn_datagram_next(&dg).kind, CN_FRAME_END);
        CHECK_EQ_INT(cn_datagram_next(&dg).kind, CN_FRAME_END);
}

static void test_single_message(void) {
        _cleanup_(datagram_freep) Datagram *d = datagram_new();
        struct cn_msg msg = {
                .id = { .idx = 0x01020304, .val = 0xa0b0c0d0 },
                .seq = 0xdeadbeef,
                .ack = 0x12345678,
                .len = 7,
                .flags = 0xfedc,
        };
        const uint8_t data[7] = { 0x00, 0xff, 0x10, 0x7f, 0x80, 0x01, 0xee };
        CnFrame f;
        Walk w;

        put_nlmsg(d, NLMSG_DONE, (uint32_t) (HDRLEN + CNLEN + sizeof(data)));
        put(d, &msg, CNLEN);
        put(d, data, sizeof(data));
        CHECK_WALK(d, "MESSAGE END");

        walk_begin(&w, d);
        f = walk_next(&w);
        CHECK_EQ_INT(f.kind, CN_FRAME_MESSAGE);
        CHECK((const uint8_t *) f.msg == w.buf + HDRLEN);
        CHECK_EQ_INT(f.msg->id.idx, 0x01020304);
        CHECK_EQ_INT(f.msg->id.val, 0xa0b0c0d0);
        CHECK_EQ_INT(f.msg->seq, 0xdeadbeef);
        CHECK_EQ_INT(f.msg->ack, 0x12345678);
        CHECK_EQ_INT(f.msg->len, 7);
        CHECK_EQ_INT(f.msg->flags, 0xfedc);
        CHECK(memcmp(f.msg->data, data, sizeof(data)) == 0);
        CHECK_EQ_INT(walk_next(&w).kind, CN_FRAME_END);
        walk_end(&w);

        /* The same, padded to alignment at the end of the datagram, as recvmsg() may give it. */
        pad(d);
        CHECK_EQ_INT(d->size, HDRLEN + CNLEN + 8);
        CHECK_WALK(d, "MESSAGE END");

        /* Length 0 has no data at all. */
        d->size = 0;
        put_cn(d, 1, 1, 42, 0);
        CHECK_EQ_INT(d->size, HDRLEN + CNLEN);
        CHECK_WALK(d, "MESSAGE END");
        walk_begin(&w, d);
        CHECK_NEXT_MESSAGE(&w, 1, 1, 42, 0);
        CHECK_EQ_INT(walk_next(&w).kind, CN_FRAME_END);
        walk_end(&w);

        /* Extreme id values come back unchanged. */
        d->size = 0;
        put_cn(d, UINT32_MAX, UINT32_MAX, UINT32_MAX, 1);
        pad(d);
        put_cn(d, 0, 0, 0, 0);
        walk_begin(&w, d);
        CHECK_NEXT_MESSAGE(&w, UINT32_MAX, UINT32_MAX, UINT32_MAX, 1);
        CHECK_NEXT_MESSAGE(&w, 0, 0, 0, 0);
        CHECK_EQ_INT(walk_next(&w).kind, CN_FRAME_END);
        walk_end(&w);
}

static void test_several_messages(void) {
        static const uint16_t lens[] = { 1, 3, 5, 0, 4, 2, 7, 6, 8, 255 };
        _cleanup_(datagram_freep) Datagram *d = datagram_new();
        Walk w;

        for (size_t i = 0; i < ELEMENTSOF(lens); i++) {
                put_cn(d, 10 + (uint32_t) i, (uint32_t) i, 1000 + (uint32_t) i, lens[i]);
                if (i + 1 < ELEMENTSOF(lens))
                        pad(d);
        }
        CHECK_WALK(d, "MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE END");

        walk_begin(&w, d);
        CHECK_EQ_INT(cn_datagram_count(w.dg), ELEMENTSOF(lens));
        for (size_t i = 0; i < ELEMENTSOF(lens); i++)
                CHECK_NEXT_MESSAGE(&w, 10 + (uint32_t) i, (uint32_t) i, 1000 + (uint32_t) i, lens[i]);
        CHECK_EQ_INT(walk_next(&w).kind, CN_FRAME_END);
        walk_end(&w);

        /* Fewer than a header's worth of bytes after the last message cannot be framed. */
        pad(d);
        put_fill(d, 0, 8);
        CHECK_WALK(d, "MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE MALFORMED END");

        /* Messages with types the connector accepts from user space are messages too. */
        static const uint16_t types[] = { NLMSG_MIN_TYPE, NLMSG_MIN_TYPE + 1, 0x100, 0x7fff, 0xffff };
        d->size = 0;
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                struct cn_msg msg;

                make_cn(&msg, types[i], 0, types[i], 3);
                put_cn_raw(d, types[i], &msg, 3, 1);
                pad(d);
        }
        CHECK_WALK(d, "MESSAGE MESSAGE MESSAGE MESSAGE MESSAGE END");
        walk_begin(&w, d);
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                CHECK_NEXT_MESSAGE(&w, types[i], 0, types[i], 3);
        CHECK_EQ_INT(walk_next(&w).kind, CN_FRAME_END);
        walk_end(&w);
}

static void test_control_messages(void) {
        _cleanup_(datagram_freep) Datagram *d = datagram_new();
        CnFrame f;
        Walk w;

        put_nlmsg(d, NLMSG_NOOP, (uint32_t) HDRLEN);
        put_error(d, -EPERM);
        put_nlmsg(d, NLMSG_OVERRUN, (uint32_t) HDRLEN);
        put_error(d, 0); /* an ACK */
        put_cn(d, 5, 6, 7, 8);
        CHECK_WALK(d, "NOOP ERROR OVERRUN ERROR MESSAGE END");

        walk_begin(&w, d);
        CHECK_EQ_INT(walk_next(&w).kind, CN_FRAME_NOOP);
        f = walk_next(&w);
        CHECK_EQ_INT(f.kind, CN_FRAME_ERROR);
        CHECK_EQ_INT(f.error, -EPERM);
        CHECK_EQ_INT(walk_next(&w).kind, CN_FRAME_OVERRUN);
        f = walk_next(&w);
        CHECK_EQ_INT(f.kind, CN_FRAME_ERROR);
        CHECK_EQ_INT(f.error, 0);
        CHECK_NEXT_MESSAGE(&w, 5, 6, 7, 8);
        CHECK_EQ_INT(walk_next(&w).kind, CN_FRAME_END);
        walk_end(&w);

        /* NLMSG_ERROR needs its error code; the rest of struct nlmsgerr is optional. */
        for (size_t n = 0; n <= sizeof(int); n++) {
                int error = -ENOBUFS;

                d->size = 0;
                put_nlmsg(d, NLMSG_ERROR, (uint32_t) (HDRLEN + n));
                put(d, &error, n);
                pad(d);
                put_cn(d, 1, 2, 3, 4);
                if (n < sizeof(int)) {
                        CHECK_WALK(d, "MALFORMED MESSAGE END");
                        continue;
                }
                CHECK_WALK(d, "ERROR MESSAGE END");
                walk_begin(&w, d);
                f = walk_next(&w);
                CHECK_EQ_INT(f.error, -ENOBUFS);
                CHECK_NEXT_MESSAGE(&w, 1, 2, 3, 4);
                walk_end(&w);
        }

        /* NOOP and OVERRUN may carry a payload; it is not looked at. */
        d->size = 0;
        put_nlmsg(d, NLMSG_NOOP, (uint32_t) HDRLEN + 5);
        put_fill(d, 0xff, 5);
        pad(d);
        put_nlmsg(d, NLMSG_OVERRUN, (uint32_t) HDRLEN + 4);
        put_fill(d, 0xff, 4);
        CHECK_WALK(d, "NOOP OVERRUN END");
}

static void test_reserved_types(void) {
        _cleanup_(datagram_freep) Datagram *d = datagram_new();
        Walk w;

        /* 0 and 5..15 are reserved control types: dropped, and the walk goes on. */
        for (uint16_t type = 0; type < NLMSG_MIN_TYPE; type++) {
                struct cn_msg msg;

                if (type >= NLMSG_NOOP && type <= NLMSG_OVERRUN)
                        continue;
                make_cn(&msg, 9, 9, 9, 4);
                d->size = 0;
                put_cn_raw(d, type, &msg, 4, 0);
                put_cn(d, 3, 4, 5, 6);
                CHECK_WALK(d, "MALFORMED MESSAGE END");
                walk_begin(&w, d);
                CHECK_EQ_INT(walk_next(&w).kind, CN_FRAME_MALFORMED);
                CHECK_NEXT_MESSAGE(&w, 3, 4, 5, 6);
                walk_end(&w);
        }
}

static void test_broken_framing(void) {
        _cleanup_(datagram_freep) Datagram *d = datagram_new();

        /* Shorter than a netlink header: whatever the bytes claim. */
        for (size_t n = 1; n < HDRLEN; n++) {
                d->size = 0;
                put_cn(d, 1, 1, 1, 0);
                d->size = n;
                CHECK_WALK(d, "MALFORMED END");
        }

        /* nlmsg_len below the header size: must not loop on the same header, and what follows
         * cannot be found. */
        for (uint32_t len = 0; len < HDRLEN; len++) {
                d->size = 0;
                put_nlmsg(d, NLMSG_DONE, len);
                put_cn(d, 1, 1, 1, 0);
                CHECK_WALK(d, "MALFORMED END");
        }

        /* nlmsg_len past the end of the datagram, by a little or by a lot. */
        static const uint32_t over[] = { 1, 3, 4, 100, 65536 };
        for (size_t i = 0; i < ELEMENTSOF(over); i++) {
                d->size = 0;
                put_cn(d, 1, 1, 1, 4);
                put_nlmsg(d, NLMSG_DONE, (uint32_t) (HDRLEN + CNLEN + 8 + over[i]));
                put(d, &(struct cn_msg) { .len = 8 }, CNLEN);
                put_fill(d, 0, 8);
                CHECK_WALK(d, "MESSAGE MALFORMED END");
        }
        d->size = 0;
        put_nlmsg(d, NLMSG_DONE, UINT32_MAX);
        put_fill(d, 0, 64);
        CHECK_WALK(d, "MALFORMED END");
        d->size = 0;
        put_nlmsg(d, NLMSG_DONE, UINT32_MAX - 2); /* where NLMSG_ALIGN() would wrap to 0 */
        put_fill(d, 0, 64);
        CHECK_WALK(d, "MALFORMED END");

        /* A sound message, then one whose length covers exactly the rest but not its padding. */
        d->size = 0;
        put_cn(d, 1, 1, 1, 3);
        pad(d);
        put_cn(d, 2, 2, 2, 3);
        CHECK_WALK(d, "MESSAGE MESSAGE END");
}

static void test_cn_msg_bounds(void) {
        _cleanup_(datagram_freep) Datagram *d = datagram_new();
        Walk w;

        /* Payload shorter than struct cn_msg: framing is sound, so the walk goes on. */
        for (size_t n = 0; n < CNLEN; n++) {
                d->size = 0;
                put_nlmsg(d, NLMSG_DONE, (uint32_t) (HDRLEN + n));
                put_fill(d, 0, n);
                pad(d);
                put_cn(d, 7, 7, 7, 7);
                CHECK_WALK(d, "MALFORMED MESSAGE END");
        }

        /* cn_msg.len larger than what follows it. */
        static const size_t shortfall[] = { 1, 2, 3, 4, 5, 100 };
        for (size_t i = 0; i < ELEMENTSOF(shortfall); i++) {
                struct cn_msg msg;

                make_cn(&msg, 1, 2, 3, (uint16_t) (10 + shortfall[i]));
                d->size = 0;
                put_cn_raw(d, NLMSG_DONE, &msg, 10, 0);
                pad(d);
                put_cn(d, 7, 7, 7, 7);
                CHECK_WALK(d, "MALFORMED MESSAGE END");
        }
        {
                struct cn_msg msg;

                make_cn(&msg, 1, 2, 3, 1);
                d->size = 0;
                put_cn_raw(d, NLMSG_DONE, &msg, 0, 0);
                CHECK_WALK(d, "MALFORMED END");
        }

        /* CONNECTOR_MAX_MSG_SIZE is the most; a frame big enough for more does not help. */
        d->size = 0;
        put_cn(d, 4, 4, 4, CONNECTOR_MAX_MSG_SIZE);
        CHECK_WALK(d, "MESSAGE END");
        walk_begin(&w, d);
        CHECK_NEXT_MESSAGE(&w, 4, 4, 4, CONNECTOR_MAX_MSG_SIZE);
        walk_end(&w);

        static const uint32_t too_big[] = { CONNECTOR_MAX_MSG_SIZE + 1, CONNECTOR_MAX_MSG_SIZE + 4, 65535 };
        for (size_t i = 0; i < ELEMENTSOF(too_big); i++) {
                d->size = 0;
                put_cn(d, 4, 4, 4, (uint16_t) too_big[i]);
                pad(d);
                put_cn(d, 7, 7, 7, 7);
                CHECK_WALK(d, "MALFORMED MESSAGE END");
        }

        /* Trailing bytes after the data: up to 3 of padding are fine, 4 or more are not. */
        for (size_t trailing = 0; trailing <= 9; trailing++)
                for (uint16_t len = 0; len <= 5; len++) {
                        struct cn_msg msg;

                        make_cn(&msg, 8, len, 100 + len, len);
                        d->size = 0;
                        put_cn_raw(d, NLMSG_DONE, &msg, len, trailing);
                        pad(d);
                        put_cn(d, 9, 9, 9, 1);
                        if (trailing >= 4) {
                                CHECK_WALK(d, "MALFORMED MESSAGE END");
                                continue;
                        }
                        CHECK_WALK(d, "MESSAGE MESSAGE END");
                        walk_begin(&w, d);
                        CHECK_NEXT_MESSAGE(&w, 8, len, 100 + len, len);
                        CHECK_NEXT_MESSAGE(&w, 9, 9, 9, 1);
                        walk_end(&w);
                }
}

static void test_count(void) {
        _cleanup_(datagram_freep) Datagram *d = datagram_new();
        struct cn_msg bad;
        CnDatagram dg;

        make_cn(&bad, 1, 1, 1, 50);

        for (unsigned i = 0; i < 3; i++) {
                put_cn(d, i, i, i, (uint16_t) (i * 3));
                pad(d);
        }
        cn_datagram_init(&dg, d->bytes, d->size);
        CHECK_EQ_INT(cn_datagram_count(dg), 3);
        /* Counting works on a copy: the walk still starts at the first frame. */
        CHECK_EQ_INT(cn_datagram_next(&dg).kind, CN_FRAME_MESSAGE);
        CHECK_EQ_INT(cn_datagram_count(dg), 2);

        /* Mixed: every frame counts once, whatever its kind. */
        d->size = 0;
        put_cn(d, 1, 1, 1, 1);
        pad(d);
        put_nlmsg(d, NLMSG_NOOP, (uint32_t) HDRLEN);
        put_error(d, -EINVAL);
        put_nlmsg(d, NLMSG_OVERRUN, (uint32_t) HDRLEN);
        put_nlmsg(d, 5, (uint32_t) HDRLEN);
        put_cn_raw(d, NLMSG_DONE, &bad, 2, 0);
        pad(d);
        put_cn(d, 2, 2, 2, 2);
        pad(d);
        cn_datagram_init(&dg, d->bytes, d->size);
        CHECK_EQ_INT(cn_datagram_count(dg), 7);
        CHECK_WALK(d, "MESSAGE NOOP ERROR OVERRUN MALFORMED MALFORMED MESSAGE END");

        /* Broken framing counts as one frame, however much is left. */
        put_nlmsg(d, NLMSG_DONE, 0);
        put_cn(d, 3, 3, 3, 3);
        cn_datagram_init(&dg, d->bytes, d->size);
        CHECK_EQ_INT(cn_datagram_count(dg), 8);

        memset(d->bytes, 0xff, 4096);
        cn_datagram_init(&dg, d->bytes, 4096);
        CHECK_EQ_INT(cn_datagram_count(dg), 1);
        cn_datagram_init(&dg, d->bytes, 7);
        CHECK_EQ_INT(cn_datagram_count(dg), 1);
        cn_datagram_init(&dg, d->bytes, 0);
        CHECK_EQ_INT(cn_datagram_count(dg), 0);
}

/* Random mutations of a valid datagram. Nothing is expected of the frames but that the walk
 * ends, that every frame is one of the kinds, and that a message's data lies inside the buffer
 * (walk_next() checks those); the sanitizers check the reads. */
static void test_mutations(void) {
        _cleanup_(datagram_freep) Datagram *base = datagram_new();
        _cleanup_(datagram_freep) Datagram *d = datagram_new();
        size_t headers[16], n_headers = 0;
        uint64_t x = UINT64_C(0x2545f4914f6cdd1d);
        unsigned messages = 0;

        static const uint16_t lens[] = { 1, 3, 0, 5, 16, 2 };
        for (size_t i = 0; i < ELEMENTSOF(lens); i++) {
                headers[n_headers++] = put_cn(base, 1, (uint32_t) i, (uint32_t) i, lens[i]);
                pad(base);
                if (i == 2) {
                        headers[n_headers++] = put_nlmsg(base, NLMSG_NOOP, (uint32_t) HDRLEN);
                        headers[n_headers++] = base->size;
                        put_error(base, -EPERM);
                }
        }

#define NEXT() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
        for (unsigned i = 0; i < 100000; i++) {
                unsigned n_mutations = 1 + (unsigned) (NEXT() % 4);
                size_t h;
                Walk w;

                memcpy(d->bytes, base->bytes, base->size);
                d->size = base->size;

                for (unsigned m = 0; m < n_mutations; m++) {
                        uint64_t r = NEXT();

                        h = headers[(r >> 8) % n_headers];
                        switch (r % 6) {
                        case 0: /* any byte */
                                d->bytes[(r >> 16) % d->size] = (uint8_t) (r >> 40);
                                break;
                        case 1: { /* a length near the real ones */
                                uint32_t len = (uint32_t) ((r >> 16) % (base->size + 64));

                                memcpy(d->bytes + h, &len, sizeof(len));
                                break;
                        }
                        case 2: { /* any length */
                                uint32_t len = (uint32_t) (r >> 32);

                                memcpy(d->bytes + h, &len, sizeof(len));
                                break;
                        }
                        case 3: { /* a type, mostly a small one */
                                uint16_t type = (uint16_t) ((r >> 16) % 20);

                                if ((r >> 40) % 8 == 0)
                                        type = (uint16_t) (r >> 48);
                                memcpy(d->bytes + h + offsetof(struct nlmsghdr, nlmsg_type), &type, sizeof(type));
                                break;
                        }
                        case 4: { /* the cn_msg len, near the real ones or anywhere */
                                uint16_t len = (uint16_t) ((r >> 16) % 40);

                                if ((r >> 40) % 4 == 0)
                                        len = (uint16_t) (r >> 48);
                                if (h + HDRLEN + CNLEN <= d->size)
                                        memcpy(d->bytes + h + HDRLEN + offsetof(struct cn_msg, len), &len, sizeof(len));
                                break;
                        }
                        case 5: /* truncation */
                                d->size = (r >> 16) % (d->size + 1);
                                if (d->size == 0)
                                        d->size = 1;
                                break;
                        }
                }

                walk_begin(&w, d);
                for (CnFrameKind k; (k = walk_next(&w).kind) != CN_FRAME_END; )
                        if (k == CN_FRAME_MESSAGE)
                                messages++;
                walk_end(&w);
        }
#undef NEXT
        /* The mutations leave many messages intact: proof that the loop walked something. */
        CHECK(messages > 100000);
}

int main(void) {
        test_empty();
        test_single_message();
        test_several_messages();
        test_control_messages();
        test_reserved_types();
        test_broken_framing();
        test_cn_msg_bounds();
        test_count();
        test_mutations();
        return EXIT_SUCCESS;
}
