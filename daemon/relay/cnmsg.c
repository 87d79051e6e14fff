/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <linux/netlink.h>

#include "cnmsg.h"
#include "util.h"

static CnFrame malformed(const char *reason) {
        return (CnFrame) { .kind = CN_FRAME_MALFORMED, .reason = reason };
}

static CnFrame parse_cn_msg(const uint8_t *payload, size_t size) {
        const struct cn_msg *msg = (const struct cn_msg *) payload;

        if (size < sizeof(struct cn_msg))
                return malformed("payload shorter than struct cn_msg");
        if (msg->len > CONNECTOR_MAX_MSG_SIZE)
                return malformed("cn_msg len above CONNECTOR_MAX_MSG_SIZE");
        if (msg->len > size - sizeof(struct cn_msg))
                return malformed("cn_msg len exceeds the netlink payload");
        /* The kernel sets nlmsg_len to exactly header + cn_msg + len; allow only the alignment
         * padding a careful user-space sender might add, nothing else. */
        if (size - sizeof(struct cn_msg) - msg->len >= NLMSG_ALIGNTO)
                return malformed("trailing bytes after cn_msg data");

        return (CnFrame) { .kind = CN_FRAME_MESSAGE, .msg = msg };
}

static CnFrame parse_error(const uint8_t *payload, size_t size) {
        const struct nlmsgerr *err = (const struct nlmsgerr *) payload;

        if (size < sizeof(err->error))
                return malformed("NLMSG_ERROR shorter than its error code");
        return (CnFrame) { .kind = CN_FRAME_ERROR, .error = err->error };
}

CnFrame cn_datagram_next(CnDatagram *d) {
        const struct nlmsghdr *nlh = (const struct nlmsghdr *) d->next;
        size_t payload_size, step;

        if (d->left == 0)
                return (CnFrame) { .kind = CN_FRAME_END };

        if (d->left < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > d->left) {
                const char *reason = d->left < NLMSG_HDRLEN ? "truncated netlink header"
                        : nlh->nlmsg_len < NLMSG_HDRLEN ? "netlink length below header size"
                        : "netlink length exceeds datagram";
                d->left = 0;
                return malformed(reason);
        }

        payload_size = nlh->nlmsg_len - NLMSG_HDRLEN;
        step = MIN(NLMSG_ALIGN(nlh->nlmsg_len), d->left);
        d->next += step;
        d->left -= step;

        switch (nlh->nlmsg_type) {
        case NLMSG_NOOP:
                return (CnFrame) { .kind = CN_FRAME_NOOP };
        case NLMSG_ERROR:
                return parse_error(NLMSG_DATA(nlh), payload_size);
        case NLMSG_OVERRUN:
                return (CnFrame) { .kind = CN_FRAME_OVERRUN };
        case NLMSG_DONE:
                /* The connector always sends NLMSG_DONE; it accepts any type >= NLMSG_MIN_TYPE
                 * on input, so user-space senders may use those too. */
                return parse_cn_msg(NLMSG_DATA(nlh), payload_size);
        default:
                if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
                        return parse_cn_msg(NLMSG_DATA(nlh), payload_size);
                return malformed("reserved netlink message type");
        }
}

unsigned cn_datagram_count(CnDatagram d) {
        unsigned n = 0;

        while (cn_datagram_next(&d).kind != CN_FRAME_END)
                n++;
        return n;
}
