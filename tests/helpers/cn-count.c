/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cn-count: a plain connector listener, the raw ceiling of the benchmarks: joins a group with a
 * large receive buffer, reads with recvmmsg and counts, until IDLE_MS pass without a message
 * (after the first).
 *
 *   cn-count GROUP IDLE_MS
 *
 * Prints "ready" once it has joined, then "received N dropped D first_ns F last_ns L". */

#include <errno.h>
#include <inttypes.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64
#define BUF 20480

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

int main(int argc, char *argv[]) {
        static uint8_t bufs[BATCH][BUF];
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        struct mmsghdr msgs[BATCH];
        struct iovec iov[BATCH];
        uint64_t received = 0, first = 0, last = 0, idle_ns;
        uint32_t meminfo[SK_MEMINFO_VARS] = {};
        socklen_t len = sizeof(meminfo);
        int fd, group, size = 256 << 20;

        if (argc != 3) {
                fprintf(stderr, "usage: cn-count GROUP IDLE_MS\n");
                return 2;
        }
        group = atoi(argv[1]);
        idle_ns = strtoull(argv[2], NULL, 0) * 1000000ULL;

        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
                perror("cn-count");
                return 1;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
        for (int i = 0; i < BATCH; i++) {
                iov[i] = (struct iovec) { .iov_base = bufs[i], .iov_len = BUF };
                msgs[i].msg_hdr = (struct msghdr) { .msg_iov = &iov[i], .msg_iovlen = 1 };
        }
        printf("ready\n");
        fflush(stdout);

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int n;

                if (poll(&p, 1, 100) == 0) {
                        if (received > 0 && now_ns() - last > idle_ns)
                                break;
                        continue;
                }
                n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
                if (n < 0) {
                        if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
                                continue;
                        perror("cn-count: recvmmsg");
                        return 1;
                }
                last = now_ns();
                if (!first)
                        first = last;
                received += (uint64_t) n;
        }
        (void) getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len);
        printf("received %" PRIu64 " dropped %" PRIu32 " first_ns %" PRIu64 " last_ns %" PRIu64 "\n",
               received, meminfo[SK_MEMINFO_DROPS], first, last);
        return 0;
}
