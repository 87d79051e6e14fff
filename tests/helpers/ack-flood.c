/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ack-flood: what any local user can do to cn_proc since Linux 6.6: send it messages as fast as
 * the kernel takes them, each of which it answers with an ack event multicast to every listener
 * of group 1. The op (3) is one cn_proc refuses, so the acks carry an error and nothing else
 * changes.
 *
 *   ack-flood SECONDS [ACK]
 *
 * With ACK, every message carries that ack (the kernel's answer then carries ACK + 1: a replay
 * of an ack cnd once waited for); without, a counter. Prints "sent N in S s". */

#include <errno.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* A netlink header, a cn_msg header and the 4-byte op: struct cn_msg ends in a flexible array,
 * so the frame is laid out by hand. */
#define MSG_OFFSET NLMSG_HDRLEN
#define FRAME_SIZE (NLMSG_HDRLEN + sizeof(struct cn_msg) + sizeof(uint32_t))

typedef struct Frame {
        _Alignas(4) unsigned char bytes[FRAME_SIZE];
} Frame;

static struct cn_msg *frame_msg(Frame *f) {
        return (struct cn_msg *) (f->bytes + MSG_OFFSET);
}

int main(int argc, char *argv[]) {
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK }, self = { .nl_family = AF_NETLINK };
        static Frame frames[BATCH];
        struct mmsghdr msgs[BATCH];
        struct iovec iov[BATCH];
        double seconds, start, end;
        unsigned long long sent = 0;
        uint32_t fixed_ack = 0;
        int fd;

        if (argc < 2 || (seconds = strtod(argv[1], NULL)) <= 0) {
                fprintf(stderr, "usage: ack-flood SECONDS [ACK]\n");
                return 2;
        }
        if (argc > 2)
                fixed_ack = (uint32_t) strtoul(argv[2], NULL, 0);

        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
        if (fd < 0 || bind(fd, (struct sockaddr *) &self, sizeof(self)) < 0) {
                perror("ack-flood: socket");
                return 1;
        }

        for (int i = 0; i < BATCH; i++) {
                struct nlmsghdr *nlh = (struct nlmsghdr *) frames[i].bytes;
                struct cn_msg *msg = frame_msg(&frames[i]);
                uint32_t op = 3;

                *nlh = (struct nlmsghdr) { .nlmsg_len = FRAME_SIZE, .nlmsg_type = NLMSG_DONE };
                *msg = (struct cn_msg) { .id = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC }, .len = sizeof(op) };
                memcpy(msg->data, &op, sizeof(op));
                iov[i] = (struct iovec) { .iov_base = frames[i].bytes, .iov_len = FRAME_SIZE };
                msgs[i] = (struct mmsghdr) { .msg_hdr = {
                        .msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = &iov[i], .msg_iovlen = 1,
                } };
        }

        start = now();
        end = start + seconds;
        while (now() < end) {
                int n;

                for (int i = 0; i < BATCH; i++)
                        frame_msg(&frames[i])->ack = argc > 2 ? fixed_ack : (uint32_t) (sent + (unsigned) i);
                n = sendmmsg(fd, msgs, BATCH, 0);
                if (n < 0) {
                        if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
                                continue;
                        perror("ack-flood: sendmmsg");
                        return 1;
                }
                sent += (unsigned) n;
        }
        printf("sent %llu in %.2f s\n", sent, now() - start);
        return 0;
}
