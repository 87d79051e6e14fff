/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The NETLINK_CONNECTOR socket: opening it (libnl-3), group membership, batched non-blocking
 * reads, sending, and the kernel's drop counter. No parsing and no policy here. */

#include <linux/connector.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "util.h"

/* The connector socket's event source: below the bus (normal priority), so that under a flood
 * method calls are still served. */
#define NETLINK_SOURCE_PRIORITY (SD_EVENT_PRIORITY_NORMAL + 10)

/* Datagrams per recvmmsg() and the buffer for each: one connector message is at most
 * 16 (nlmsghdr) + 20 (cn_msg) + 16384 bytes; a larger datagram is truncated and rejected. */
#define NETLINK_BATCH 64
#define NETLINK_DATAGRAM_MAX (20 * 1024)

/* The most data a message to the kernel may carry: cn_rx_skb() silently drops one whose cn_msg
 * header and data together exceed CONNECTOR_MAX_MSG_SIZE, so 16384 - 20 = 16364 bytes. */
#define NETLINK_SEND_DATA_MAX (CONNECTOR_MAX_MSG_SIZE - 20)

typedef struct Netlink Netlink;

typedef struct NetlinkDatagram {
        const uint8_t *data;    /* 8-byte aligned */
        size_t size;
        uint32_t sender;        /* the sender's netlink port id; 0 is the kernel */
        uint32_t group;         /* the multicast group it came on; 0 for unicast */
        bool truncated;
} NetlinkDatagram;

int netlink_open(Netlink **ret, uint64_t receive_buffer_bytes);
Netlink *netlink_free(Netlink *nl);
DEFINE_TRIVIAL_CLEANUP_FUNC(Netlink *, netlink_free);

int netlink_get_fd(const Netlink *nl);
uint32_t netlink_get_port(const Netlink *nl);

/* Sets the receive queue size, past net.core.rmem_max where we have CAP_NET_ADMIN. */
int netlink_set_receive_buffer(Netlink *nl, uint64_t bytes);

/* -EINVAL for a group the kernel does not offer. */
int netlink_join_group(Netlink *nl, unsigned group);
int netlink_leave_group(Netlink *nl, unsigned group);

/* Reads what is queued, up to NETLINK_BATCH datagrams, without blocking. Returns how many
 * (0: nothing queued), -ENOBUFS when the kernel had to drop messages for us (the socket stays
 * usable), or another negative errno. The datagrams live until the next call. */
int netlink_read(Netlink *nl, const NetlinkDatagram **ret);

/* Unicasts one cn_msg to the kernel. */
int netlink_send(Netlink *nl, uint32_t idx, uint32_t val, uint32_t seq, uint32_t ack,
                 uint16_t flags, const void *data, size_t size);

/* Messages the kernel dropped because this socket's receive queue was full (SO_MEMINFO). */
int netlink_get_drops(const Netlink *nl, uint64_t *ret);
