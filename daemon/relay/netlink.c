/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>

#include "netlink.h"
#include "util.h"

struct Netlink {
        struct nl_sock *sock;
        int fd;

        /* recvmmsg() state, allocated once: reading is the hot path. */
        uint8_t *buffers;
        struct mmsghdr headers[NETLINK_BATCH];
        struct iovec iov[NETLINK_BATCH];
        struct sockaddr_nl senders[NETLINK_BATCH];
        NetlinkDatagram datagrams[NETLINK_BATCH];
};

/* libnl folds errno into its own codes; map back the ones a caller can act on. */
static int nlerr_to_errno(int nlerr) {
        switch (abs(nlerr)) {
        case NLE_INVAL:
        case NLE_RANGE:
                return -EINVAL;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_AGAIN:
                return -EAGAIN;
        case NLE_PERM:
        case NLE_NOACCESS:
                return -EPERM;
        case NLE_BAD_SOCK:
                return -EBADF;
        case NLE_MSGSIZE:
                return -EMSGSIZE;
        case NLE_OPNOTSUPP:
        case NLE_AF_NOSUPPORT:
                return -EOPNOTSUPP;
        case NLE_INTR:
                return -EINTR;
        default:
                return -EIO;
        }
}

/* Netlink multicast is unreliable by design; a big queue absorbs bursts. SO_RCVBUFFORCE
 * passes net.core.rmem_max (libnl's nl_socket_set_buffer_size() does not), and needs
 * CAP_NET_ADMIN; without it we fall back to what SO_RCVBUF gives. */
int netlink_set_receive_buffer(Netlink *nl, uint64_t bytes) {
        int size = (int) MIN(bytes, (uint64_t) INT32_MAX / 2);

        if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) >= 0)
                return 0;
        if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
                return -errno;
        return 0;
}

static void setup_batch(Netlink *nl) {
        for (size_t i = 0; i < NETLINK_BATCH; i++) {
                nl->iov[i] = (struct iovec) {
                        .iov_base = nl->buffers + i * NETLINK_DATAGRAM_MAX,
                        .iov_len = NETLINK_DATAGRAM_MAX,
                };
                nl->headers[i].msg_hdr = (struct msghdr) {
                        .msg_name = &nl->senders[i],
                        .msg_namelen = sizeof(nl->senders[i]),
                        .msg_iov = &nl->iov[i],
                        .msg_iovlen = 1,
                };
        }
}

int netlink_open(Netlink **ret, uint64_t receive_buffer_bytes) {
        _cleanup_(freep) Netlink *nl = NULL;
        int r;

        nl = calloc(1, sizeof(Netlink));
        if (!nl)
                return -ENOMEM;
        nl->fd = -1;

        /* Only touched pages become resident, so the full batch costs little while messages
         * are small. */
        nl->buffers = aligned_alloc(8, (size_t) NETLINK_BATCH * NETLINK_DATAGRAM_MAX);
        if (!nl->buffers)
                return -ENOMEM;
        setup_batch(nl);

        nl->sock = nl_socket_alloc();
        if (!nl->sock) {
                free(nl->buffers);
                return -ENOMEM;
        }
        /* Multicast traffic carries the senders' sequence numbers, not ours. */
        nl_socket_disable_seq_check(nl->sock);
        nl_socket_disable_auto_ack(nl->sock);

        r = nl_connect(nl->sock, NETLINK_CONNECTOR);
        if (r < 0)
                goto fail;
        r = nl_socket_set_nonblocking(nl->sock);
        if (r < 0)
                goto fail;

        nl->fd = nl_socket_get_fd(nl->sock);
        (void) netlink_set_receive_buffer(nl, receive_buffer_bytes);

        *ret = TAKE_PTR(nl);
        return 0;

fail:
        nl_socket_free(nl->sock);
        free(nl->buffers);
        return nlerr_to_errno(r);
}

Netlink *netlink_free(Netlink *nl) {
        if (!nl)
                return NULL;
        nl_socket_free(nl->sock); /* closes the fd */
        free(nl->buffers);
        return mfree(nl);
}

int netlink_get_fd(const Netlink *nl) {
        return nl->fd;
}

uint32_t netlink_get_port(const Netlink *nl) {
        return nl_socket_get_local_port(nl->sock);
}

int netlink_join_group(Netlink *nl, unsigned group) {
        int r = nl_socket_add_membership(nl->sock, (int) group);

        return r < 0 ? nlerr_to_errno(r) : 0;
}

int netlink_leave_group(Netlink *nl, unsigned group) {
        int r = nl_socket_drop_membership(nl->sock, (int) group);

        return r < 0 ? nlerr_to_errno(r) : 0;
}

/* libnl's nl_recv() allocates a buffer per datagram and reads one per system call; at
 * hundreds of thousands of messages a second that is where the time would go, so the hot path
 * reads batches into preallocated buffers on libnl's socket instead. */
int netlink_read(Netlink *nl, const NetlinkDatagram **ret) {
        int n;

        for (size_t i = 0; i < NETLINK_BATCH; i++)
                nl->headers[i].msg_hdr.msg_namelen = sizeof(nl->senders[i]);

        n = recvmmsg(nl->fd, nl->headers, NETLINK_BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                return -errno;
        }

        for (int i = 0; i < n; i++) {
                const struct sockaddr_nl *sa = &nl->senders[i];

                nl->datagrams[i] = (NetlinkDatagram) {
                        .data = nl->iov[i].iov_base,
                        .size = MIN((size_t) nl->headers[i].msg_len, (size_t) NETLINK_DATAGRAM_MAX),
                        .sender = sa->nl_pid,
                        /* netlink reports the group as a one-bit mask (groups 1..32). */
                        .group = (unsigned) ffs((int) sa->nl_groups),
                        .truncated = nl->headers[i].msg_hdr.msg_flags & MSG_TRUNC,
                };
        }
        *ret = nl->datagrams;
        return n;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free);

int netlink_send(Netlink *nl, uint32_t idx, uint32_t val, uint32_t seq, uint32_t ack,
                 uint16_t flags, const void *data, size_t size) {
        _cleanup_(nlmsg_freep) struct nl_msg *m = NULL;
        struct nlmsghdr *nlh;
        struct cn_msg *msg;
        int r;

        if (size > NETLINK_SEND_DATA_MAX)
                return -EMSGSIZE;

        /* libnl's default message size is a page; a connector message may be four. */
        m = nlmsg_alloc_size(NLMSG_SPACE(sizeof(struct cn_msg) + size));
        if (!m)
                return -ENOMEM;
        nlh = nlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, NLMSG_DONE, (int) (sizeof(struct cn_msg) + size), 0);
        if (!nlh)
                return -ENOMEM;

        msg = nlmsg_data(nlh);
        *msg = (struct cn_msg) {
                .id = { .idx = idx, .val = val },
                .seq = seq,
                .ack = ack,
                .len = (uint16_t) size,
                .flags = flags,
        };
        if (size > 0)
                memcpy(msg->data, data, size);

        /* libnl hides the send(2) errno behind its own codes; the caller wants the real text. */
        errno = 0;
        r = nl_send_auto(nl->sock, m);
        if (r < 0)
                return errno > 0 ? -errno : nlerr_to_errno(r);
        return 0;
}

int netlink_get_drops(const Netlink *nl, uint64_t *ret) {
        uint32_t meminfo[SK_MEMINFO_VARS] = {};
        socklen_t len = sizeof(meminfo);

        if (getsockopt(nl->fd, SOL_SOCKET, SO_MEMINFO, meminfo, &len) < 0)
                return -errno;
        if (len <= SK_MEMINFO_DROPS * sizeof(uint32_t))
                return -EOPNOTSUPP;
        *ret = meminfo[SK_MEMINFO_DROPS];
        return 0;
}
