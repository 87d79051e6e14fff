/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cn-inject: multicasts hand-made cn_msg into a connector group as fast as the kernel takes
 * them, or at a given rate (root: the connector lets CAP_NET_ADMIN send to its groups).
 * Each message's data starts with its seq (4 bytes, little endian) so receivers can check
 * order and completeness, then, if it has room, the CLOCK_MONOTONIC time it was sent in
 * nanoseconds (8 bytes), for latency.
 *
 *   cn-inject GROUP IDX VAL COUNT [SIZE [RATE [FIRST_SEQ [SECONDS]]]]
 *
 * RATE 0 means as fast as possible; SECONDS, if given, ends the run early. Prints
 * "sent N in S s". */

#include <errno.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
        struct sockaddr_nl dst = { .nl_family = AF_NETLINK }, src = { .nl_family = AF_NETLINK };
        struct mmsghdr msgs[BATCH];
        struct iovec iov[BATCH];
        unsigned group, size = 4;
        uint32_t idx, val, first = 0;
        unsigned long count, sent = 0;
        double rate = 0, seconds = 0, start;
        size_t frame;
        uint8_t *buf;
        int fd;

        if (argc < 5) {
                fprintf(stderr, "usage: cn-inject GROUP IDX VAL COUNT [SIZE [RATE [FIRST_SEQ]]]\n");
                return 2;
        }
        group = (unsigned) strtoul(argv[1], NULL, 0);
        idx = (uint32_t) strtoul(argv[2], NULL, 0);
        val = (uint32_t) strtoul(argv[3], NULL, 0);
        count = strtoul(argv[4], NULL, 0);
        if (argc > 5)
                size = (unsigned) strtoul(argv[5], NULL, 0);
        if (argc > 6)
                rate = strtod(argv[6], NULL);
        if (argc > 7)
                first = (uint32_t) strtoul(argv[7], NULL, 0);
        if (argc > 8)
                seconds = strtod(argv[8], NULL);
        if (group < 1 || group > 32 || size < 4 || size > CONNECTOR_MAX_MSG_SIZE) {
                fprintf(stderr, "cn-inject: group 1..32, size 4..%d\n", CONNECTOR_MAX_MSG_SIZE);
                return 2;
        }

        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
        if (fd < 0 || bind(fd, (struct sockaddr *) &src, sizeof(src)) < 0) {
                perror("cn-inject: socket");
                return 1;
        }
        dst.nl_groups = 1U << (group - 1);

        frame = NLMSG_SPACE(sizeof(struct cn_msg) + size);
        buf = calloc(BATCH, frame);
        if (!buf)
                return 1;
        for (unsigned i = 0; i < BATCH; i++) {
                struct nlmsghdr *nlh = (struct nlmsghdr *) (buf + i * frame);
                struct cn_msg *msg = NLMSG_DATA(nlh);

                nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + size);
                nlh->nlmsg_type = NLMSG_DONE;
                msg->id.idx = idx;
                msg->id.val = val;
                msg->len = (uint16_t) size;
                iov[i] = (struct iovec) { .iov_base = nlh, .iov_len = nlh->nlmsg_len };
                msgs[i].msg_hdr = (struct msghdr) {
                        .msg_name = &dst, .msg_namelen = sizeof(dst), .msg_iov = &iov[i], .msg_iovlen = 1,
                };
        }

        start = now();
        while (sent < count) {
                unsigned n = (unsigned) (count - sent < BATCH ? count - sent : BATCH);
                int r;

                if (seconds > 0 && (sent & 1023) < BATCH && now() - start >= seconds)
                        break;

                if (rate > 0) {
                        /* Paced: as many as are due by now, at most a batch. At low rates that
                         * is one message at its time (for latency), at high rates batches. */
                        double due = (now() - start) * rate - (double) sent;

                        if (due < 1) {
                                double wait = (1 - due) / rate;
                                struct timespec ts = { (time_t) wait, (long) ((wait - (double) (time_t) wait) * 1e9) };

                                nanosleep(&ts, NULL);
                                continue;
                        }
                        if ((double) n > due)
                                n = (unsigned) due;
                }
                for (unsigned i = 0; i < n; i++) {
                        struct cn_msg *msg = NLMSG_DATA((struct nlmsghdr *) (buf + i * frame));
                        uint32_t seq = first + (uint32_t) (sent + i);

                        msg->seq = seq;
                        memcpy(msg->data, &seq, sizeof(seq));
                        if (size >= 12) {
                                struct timespec ts;
                                uint64_t ns;

                                clock_gettime(CLOCK_MONOTONIC, &ts);
                                ns = (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
                                memcpy(msg->data + 4, &ns, sizeof(ns));
                        }
                }
                r = sendmmsg(fd, msgs, n, 0);
                if (r < 0) {
                        if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
                                continue;
                        perror("cn-inject: sendmmsg");
                        return 1;
                }
                sent += (unsigned) r;
        }
        printf("sent %lu in %.6f s\n", sent, now() - start);
        return 0;
}
