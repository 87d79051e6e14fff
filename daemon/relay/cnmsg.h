/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Validation of connector datagrams: bytes in, validated struct cn_msg out. Pure (no I/O, no
 * allocation), so that it is unit-tested and fuzzed on its own. */

#include <linux/connector.h>
#include <stddef.h>
#include <stdint.h>

typedef enum CnFrameKind {
        CN_FRAME_END,           /* no more frames in the datagram */
        CN_FRAME_MESSAGE,       /* .msg is a validated cn_msg with .msg->len data bytes */
        CN_FRAME_NOOP,          /* NLMSG_NOOP: nothing to do */
        CN_FRAME_ERROR,         /* NLMSG_ERROR: .error is the (negative) errno it carries */
        CN_FRAME_OVERRUN,       /* NLMSG_OVERRUN: the sender says data was lost */
        CN_FRAME_MALFORMED,     /* dropped; .reason says why */
} CnFrameKind;

typedef struct CnFrame {
        CnFrameKind kind;
        const struct cn_msg *msg;
        int error;
        const char *reason;
} CnFrame;

/* Walks the netlink messages of one datagram. The buffer must be 4-byte aligned, as netlink
 * data is. */
typedef struct CnDatagram {
        const uint8_t *next;
        size_t left;
} CnDatagram;

static inline void cn_datagram_init(CnDatagram *d, const void *buf, size_t size) {
        *d = (CnDatagram) { .next = buf, .left = size };
}

/* Returns the next frame. A broken netlink header ends the walk (the rest cannot be framed);
 * a bad cn_msg inside a sound netlink message is reported and the walk goes on. */
CnFrame cn_datagram_next(CnDatagram *d);

/* Counts the frames left, for rejecting a whole datagram. Malformed framing counts as one. */
unsigned cn_datagram_count(CnDatagram d);
