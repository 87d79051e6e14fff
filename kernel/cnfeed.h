/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cnfeed: a connector module that feeds user space from a real kernel, and the classic
 * id-notification protocol on {-1, -1}. This header is shared by the module and its users
 * (cnd, the tests); it has only uapi types.
 */
#ifndef _UAPI_LINUX_CNFEED_H
#define _UAPI_LINUX_CNFEED_H

#include <linux/types.h>

/* An index the kernel leaves unassigned (include/uapi/linux/connector.h uses 1..10). */
#define CNFEED_IDX_DEFAULT	17

/* The control id is {idx, CNFEED_CTL_VAL}; data ids are {idx, val} with val != 0. */
#define CNFEED_CTL_VAL		0

enum cnfeed_op {
	CNFEED_OP_ADD_ID = 1,	/* register data id {idx, val} */
	CNFEED_OP_DEL_ID = 2,	/* unregister it */
	CNFEED_OP_BURST	 = 3,	/* multicast count messages of size bytes from data id val */
	CNFEED_OP_ECHO	 = 4,	/* answer with the same data */
};

/*
 * A command: the data of a cn_msg to the control id, from a sender with CAP_NET_ADMIN.
 * Every command is answered by the connector protocol — a cn_msg from the control id with the
 * command's seq and ack + 1, unicast to the sender: ECHO with the command's own data, the others
 * with a struct cnfeed_reply. Commands from other senders are refused (status -EPERM).
 */
struct cnfeed_cmd {
	__u32 op;
	__u32 val;	/* ADD_ID, DEL_ID, BURST: the data id's val (not 0) */
	__u32 count;	/* BURST: how many messages */
	__u32 size;	/* BURST: data bytes each, 4..CONNECTOR_MAX_MSG_SIZE */
	__u32 group;	/* BURST: multicast group, 0 = the module's idx */
	__u32 reserved;	/* 0 */
	__u8 data[];	/* ECHO: anything */
};

struct cnfeed_reply {
	__s32 status;	/* 0 or a negative errno */
};

/*
 * Burst messages: id {idx, val}, seq = their number from 0, ack 0, the first four data bytes
 * the same number (little endian), the rest zero. They are sent from a work item, so the
 * command's reply comes first and the burst follows.
 */

/*
 * The classic id-notification protocol (removed from mainline in 2.6.33), served on
 * {CNFEED_NOTIFY_IDX, CNFEED_NOTIFY_VAL}. A request is a cn_msg whose data is a struct
 * cn_ctl_msg followed by idx_notify_num then val_notify_num struct cn_notify_req, with
 * len == 8 * (idx_notify_num + val_notify_num). group 1..CNFEED_MAX_GROUP adds the request
 * for the sending socket; group == 0 removes that socket's requests with equal ranges. When an
 * id the module manages is added or removed and lies in one of a request's idx ranges and one
 * of its val ranges (first <= x < first + range), the module multicasts to the request's group
 * a cn_msg with that id, seq 0, len 0, and ack 0 for added, 1 for removed: one message per
 * group, however many requests for that group match.
 */
#define CNFEED_NOTIFY_IDX	0xffffffffU
#define CNFEED_NOTIFY_VAL	0xffffffffU

/* Limits of one request. */
#define CNFEED_NOTIFY_MAX_RANGES	64

/*
 * Multicast groups a request (or a burst) may name: 1..32. The connector asks
 * for CN_NETLINK_USERS + 0xf groups and netlink rounds that up to 32.
 */
#define CNFEED_MAX_GROUP		32

struct cn_notify_req {
	__u32 first;
	__u32 range;
};

struct cn_ctl_msg {
	__u32 idx_notify_num;
	__u32 val_notify_num;
	__u32 group;
	__u32 len;
	__u8 data[];
};

/* ack of a notification */
#define CNFEED_NOTIFY_ADDED	0
#define CNFEED_NOTIFY_REMOVED	1

#endif /* _UAPI_LINUX_CNFEED_H */
