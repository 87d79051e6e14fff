// SPDX-License-Identifier: GPL-2.0
/*
 * cnfeed: a connector module that feeds user space from a real kernel.
 *
 * It registers a control id {idx, 0} whose commands (struct cnfeed_cmd in
 * cnfeed.h) add and remove data ids {idx, val}, multicast bursts from them and
 * echo, and it serves the classic id-notification protocol on {-1, -1} that
 * mainline removed in 2.6.33 (CVE-2010-0410), with the holes closed: only
 * CAP_NET_ADMIN senders, a bounded request table with a quota per socket,
 * requests tied to their socket (not its port id) and freed when it closes,
 * and the idx and val range lists scanned independently.
 *
 * Modelled on samples/connector/cn_test.c and drivers/connector/cn_proc.c.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/connector.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/user_namespace.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "cnfeed.h"
#include "cnfeed-notify.h"

/* Unassigned indices: CN_NETLINK_USERS (11) up to the 26 groups it asks for. */
#define CNFEED_IDX_MIN		11
#define CNFEED_IDX_MAX		26
#define CNFEED_MAX_DATA_IDS	1024
#define CNFEED_MAX_BURST	10000000U
#define CNFEED_MAX_REQUESTS	65536

static unsigned int cnfeed_idx = CNFEED_IDX_DEFAULT;
module_param_named(idx, cnfeed_idx, uint, 0444);
MODULE_PARM_DESC(idx, "connector idx of the control and data ids, 11..26 (default 17)");

static unsigned int cnfeed_max_requests = 64;
module_param_named(max_requests, cnfeed_max_requests, uint, 0444);
MODULE_PARM_DESC(max_requests, "bound of the id-notification request table (default 64)");

static unsigned int cnfeed_max_socket_requests = 16;
module_param_named(max_socket_requests, cnfeed_max_socket_requests, uint, 0444);
MODULE_PARM_DESC(max_socket_requests, "id-notification requests one socket may hold (default 16)");

/*
 * Read-only counters in /sys/module/cnfeed/parameters. Setting one (even at
 * load time) fails with -EPERM.
 */
static atomic_long_t cnfeed_active_requests;
static atomic_long_t cnfeed_data_ids;
static atomic_long_t cnfeed_refused;
static atomic_long_t cnfeed_refused_full;
static atomic_long_t cnfeed_refused_quota;
static atomic_long_t cnfeed_alloc_failed;
static atomic_long_t cnfeed_bad_requests;
static atomic_long_t cnfeed_data_messages;
static atomic_long_t cnfeed_burst_active;
static atomic_long_t cnfeed_burst_sent;

static int cnfeed_counter_set(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static int cnfeed_counter_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%ld\n",
			 atomic_long_read((atomic_long_t *)kp->arg));
}

static const struct kernel_param_ops cnfeed_counter_ops = {
	.set = cnfeed_counter_set,
	.get = cnfeed_counter_get,
};

#define CNFEED_COUNTER(name, desc)					\
	module_param_cb(name, &cnfeed_counter_ops, &cnfeed_##name, 0444); \
	MODULE_PARM_DESC(name, desc " (read-only counter)")

CNFEED_COUNTER(active_requests, "id-notification requests in the table now");
CNFEED_COUNTER(data_ids, "data ids registered now");
CNFEED_COUNTER(refused, "commands and requests refused for lack of CAP_NET_ADMIN");
CNFEED_COUNTER(refused_full, "requests refused because the table was full");
CNFEED_COUNTER(refused_quota, "requests refused because their socket held max_socket_requests");
CNFEED_COUNTER(alloc_failed, "failed allocations, each losing what it was for");
CNFEED_COUNTER(bad_requests, "malformed id-notification requests");
CNFEED_COUNTER(data_messages, "messages received on data ids");
CNFEED_COUNTER(burst_active, "1 while a burst is being sent");
CNFEED_COUNTER(burst_sent, "burst messages multicast since load");

static struct cb_id cnfeed_ctl_id;	/* {cnfeed_idx, CNFEED_CTL_VAL} */
static const struct cb_id cnfeed_notify_id = {
	.idx = CNFEED_NOTIFY_IDX,
	.val = CNFEED_NOTIFY_VAL,
};

struct cnfeed_data_id {
	struct list_head node;
	u32 val;
};

/* Data ids, and stopping; held across cn_add_callback(), which may sleep. */
static DEFINE_MUTEX(cnfeed_lock);
static LIST_HEAD(cnfeed_data_list);
static unsigned int cnfeed_nr_data_ids;
static bool cnfeed_stopping;

/*
 * An id-notification request, keyed by the socket that sent it. Not by its
 * port id: netlink_release() frees the port id before it calls the
 * NETLINK_URELEASE notifier, so a new socket may already hold the same port
 * id when the old one's requests are freed. The entry holds a reference on
 * sk, so the pointer cannot be freed and reused by another socket while the
 * entry exists. portid is for the log. req.ranges points at ranges[], the
 * copy of the request's range lists.
 */
struct cnfeed_request {
	struct list_head node;
	struct sock *sk;
	u32 portid;
	struct cnfeed_notify_parsed req;
	unsigned char ranges[];
};

/*
 * The request table. A mutex: every user is in process context and may
 * sleep: a sender's sendmsg() (see cnfeed_ctl_callback()), the
 * NETLINK_URELEASE notifier (a blocking notifier chain, called from
 * netlink_release()), module init and exit. Notifications are sent after it
 * is dropped (see cnfeed_notify()).
 */
static DEFINE_MUTEX(cnfeed_requests_lock);
static LIST_HEAD(cnfeed_requests);
static unsigned int cnfeed_nr_requests;

/*
 * The one burst: msg and its parameters are set by the command while
 * cnfeed_burst_active goes 0 -> 1, and released by the work before it goes
 * back to 0.
 */
static struct {
	struct work_struct work;
	struct cn_msg *msg;
	u32 count;
	u32 group;
} cnfeed_burst;

/*
 * cn_del_callback() does not wait for callbacks that are running: the
 * connector only keeps its own entry alive. Count ours, so that unload can
 * wait for them (see cnfeed_wait_callbacks()).
 */
static atomic_t cnfeed_inflight = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(cnfeed_inflight_wq);

static void cnfeed_enter(void)
{
	atomic_inc(&cnfeed_inflight);
}

static void cnfeed_leave(void)
{
	if (atomic_dec_and_test(&cnfeed_inflight))
		wake_up(&cnfeed_inflight_wq);
}

static bool cnfeed_sender_capable(struct netlink_skb_parms *nsp)
{
	/* As cn_proc: the socket's opener and the sender both need it. */
	return __netlink_ns_capable(nsp, &init_user_ns, CAP_NET_ADMIN);
}

/*
 * A failed allocation loses what it was for; count it and say so, without
 * letting a sender flood the log.
 */
static void cnfeed_nomem(const char *what)
{
	atomic_long_inc(&cnfeed_alloc_failed);
	pr_warn_ratelimited("out of memory: %s lost\n", what);
}

/*
 * Multicast an added/removed notification of id to the groups of the
 * matching requests, once per group. The groups are collected under the
 * table's lock and the messages sent after it is dropped, with GFP_KERNEL:
 * every caller is in process context. The callers hold cnfeed_lock, which
 * keeps the notifications in the order of the changes.
 * Only cn_netlink_send() is used: its signature is the same in 6.1 and 6.6+,
 * where cn_netlink_send_mult() gained filter arguments.
 */
static void cnfeed_notify(const struct cb_id *id, u32 event)
{
	struct cn_msg msg = {
		.id = *id,
		.ack = event,
	};
	struct cnfeed_request *r;
	unsigned long groups = 0;
	unsigned int bit, n = 0;

	lockdep_assert_held(&cnfeed_lock);

	mutex_lock(&cnfeed_requests_lock);
	list_for_each_entry(r, &cnfeed_requests, node) {
		groups |= cnfeed_notify_groups(&r->req, id->idx, id->val);
		/* Up to 65536 requests of 128 ranges: let others run. */
		if (++n % 256 == 0)
			cond_resched();
	}
	mutex_unlock(&cnfeed_requests_lock);

	for_each_set_bit(bit, &groups, CNFEED_MAX_GROUP) {
		/* -ESRCH: nobody listens to that group now, nothing lost. */
		if (cn_netlink_send(&msg, 0, bit + 1, GFP_KERNEL) == -ENOMEM)
			cnfeed_nomem("a notification");
	}
}

/*
 * Answer a command by the connector protocol: from the control id, same seq,
 * ack + 1, unicast to the sender. GFP_NOWAIT makes the unicast non-blocking:
 * the sender runs this callback from its own sendmsg(), so waiting for room
 * in its receive queue could wait forever.
 */
static void cnfeed_reply(const struct cn_msg *req,
			 const struct netlink_skb_parms *nsp,
			 const void *data, u16 len)
{
	struct cn_msg *msg;
	int err;

	msg = kzalloc(struct_size(msg, data, len), GFP_KERNEL | __GFP_NOWARN);
	if (!msg) {
		cnfeed_nomem("a reply");
		return;
	}
	msg->id = cnfeed_ctl_id;
	msg->seq = req->seq;
	msg->ack = req->ack + 1;
	msg->len = len;
	memcpy(msg->data, data, len);

	err = cn_netlink_send(msg, nsp->portid, 0, GFP_NOWAIT | __GFP_NOWARN);
	if (err == -ENOMEM)
		cnfeed_nomem("a reply");
	else if (err)
		pr_debug("reply to port %u failed: %d\n", nsp->portid, err);
	kfree(msg);
}

static void cnfeed_reply_status(const struct cn_msg *req,
				const struct netlink_skb_parms *nsp, int status)
{
	struct cnfeed_reply reply = { .status = status };

	cnfeed_reply(req, nsp, &reply, sizeof(reply));
}

static struct cnfeed_data_id *cnfeed_find_data_id(u32 val)
{
	struct cnfeed_data_id *d;

	lockdep_assert_held(&cnfeed_lock);
	list_for_each_entry(d, &cnfeed_data_list, node) {
		if (d->val == val)
			return d;
	}
	return NULL;
}

static void cnfeed_data_callback(struct cn_msg *msg,
				 struct netlink_skb_parms *nsp)
{
	cnfeed_enter();
	atomic_long_inc(&cnfeed_data_messages);
	cnfeed_leave();
}

static int cnfeed_add_data_id(u32 val)
{
	struct cb_id id = { .idx = cnfeed_idx, .val = val };
	struct cnfeed_data_id *d;
	int err;

	if (val == CNFEED_CTL_VAL)
		return -EINVAL;

	d = kmalloc(sizeof(*d), GFP_KERNEL | __GFP_NOWARN);
	if (!d) {
		cnfeed_nomem("an ADD_ID command");
		return -ENOMEM;
	}
	d->val = val;

	mutex_lock(&cnfeed_lock);
	if (cnfeed_stopping)
		err = -ESHUTDOWN;
	else if (cnfeed_find_data_id(val))
		err = -EEXIST;
	else if (cnfeed_nr_data_ids >= CNFEED_MAX_DATA_IDS)
		err = -ENOSPC;
	else
		err = cn_add_callback(&id, "cnfeed_data", cnfeed_data_callback);
	if (!err) {
		list_add_tail(&d->node, &cnfeed_data_list);
		atomic_long_set(&cnfeed_data_ids, ++cnfeed_nr_data_ids);
		cnfeed_notify(&id, CNFEED_NOTIFY_ADDED);
	}
	mutex_unlock(&cnfeed_lock);

	if (err)
		kfree(d);
	return err;
}

static void cnfeed_remove_data_id(struct cnfeed_data_id *d)
{
	struct cb_id id = { .idx = cnfeed_idx, .val = d->val };

	lockdep_assert_held(&cnfeed_lock);
	cn_del_callback(&id);
	cnfeed_notify(&id, CNFEED_NOTIFY_REMOVED);
	list_del(&d->node);
	kfree(d);
	atomic_long_set(&cnfeed_data_ids, --cnfeed_nr_data_ids);
}

static int cnfeed_del_data_id(u32 val)
{
	struct cnfeed_data_id *d;
	int err = 0;

	if (val == CNFEED_CTL_VAL)
		return -EINVAL;

	mutex_lock(&cnfeed_lock);
	d = cnfeed_find_data_id(val);
	if (d)
		cnfeed_remove_data_id(d);
	else
		err = -ENOENT;
	mutex_unlock(&cnfeed_lock);
	return err;
}

static void cnfeed_burst_work(struct work_struct *work)
{
	struct cn_msg *msg = cnfeed_burst.msg;
	u32 i;
	int err;

	for (i = 0; i < cnfeed_burst.count; i++) {
		__le32 n = cpu_to_le32(i);

		if (READ_ONCE(cnfeed_stopping))
			break;
		msg->seq = i;
		memcpy(msg->data, &n, sizeof(n));
		/* No listener (-ESRCH) or a full one (-ENOBUFS) is the test's. */
		err = cn_netlink_send(msg, 0, cnfeed_burst.group, GFP_KERNEL);
		if (err == -ENOMEM)
			cnfeed_nomem("a burst message");
		atomic_long_inc(&cnfeed_burst_sent);
		if (i % 64 == 63)
			cond_resched();
	}

	cnfeed_burst.msg = NULL;
	kfree(msg);
	/* Pairs with the cmpxchg that lets the next command reuse the slot. */
	atomic_long_set_release(&cnfeed_burst_active, 0);
}

/*
 * Check a BURST command and claim the burst slot. On success the caller
 * replies first and then queues the work, so the reply precedes the burst.
 */
static int cnfeed_prepare_burst(const struct cnfeed_cmd *cmd)
{
	struct cn_msg *msg;
	int err = 0;

	if (cmd->size < sizeof(__le32) || cmd->size > CONNECTOR_MAX_MSG_SIZE ||
	    cmd->count == 0 || cmd->count > CNFEED_MAX_BURST ||
	    cmd->group > CNFEED_MAX_GROUP)
		return -EINVAL;

	msg = kzalloc(struct_size(msg, data, cmd->size),
		      GFP_KERNEL | __GFP_NOWARN);
	if (!msg) {
		cnfeed_nomem("a BURST command");
		return -ENOMEM;
	}
	msg->id.idx = cnfeed_idx;
	msg->id.val = cmd->val;
	msg->len = cmd->size;

	mutex_lock(&cnfeed_lock);
	if (cnfeed_stopping)
		err = -ESHUTDOWN;
	else if (cmd->val == CNFEED_CTL_VAL || !cnfeed_find_data_id(cmd->val))
		err = -ENOENT;
	else if (atomic_long_cmpxchg(&cnfeed_burst_active, 0, 1) != 0)
		err = -EBUSY;
	if (!err) {
		cnfeed_burst.msg = msg;
		cnfeed_burst.count = cmd->count;
		cnfeed_burst.group = cmd->group ? cmd->group : cnfeed_idx;
	}
	mutex_unlock(&cnfeed_lock);

	if (err)
		kfree(msg);
	return err;
}

static void cnfeed_handle_command(struct cn_msg *msg,
				  struct netlink_skb_parms *nsp)
{
	struct cnfeed_cmd cmd;
	int status;

	/* Answers go to the sender's port; a kernel sender has none. */
	if (!nsp->portid)
		return;

	if (!cnfeed_sender_capable(nsp)) {
		atomic_long_inc(&cnfeed_refused);
		pr_warn_ratelimited("refused a command from port %u: no CAP_NET_ADMIN\n",
				    nsp->portid);
		cnfeed_reply_status(msg, nsp, -EPERM);
		return;
	}

	if (msg->len < sizeof(cmd)) {
		cnfeed_reply_status(msg, nsp, -EINVAL);
		return;
	}
	memcpy(&cmd, msg->data, sizeof(cmd));
	if (cmd.reserved) {
		cnfeed_reply_status(msg, nsp, -EINVAL);
		return;
	}

	switch (cmd.op) {
	case CNFEED_OP_ADD_ID:
		status = cnfeed_add_data_id(cmd.val);
		break;
	case CNFEED_OP_DEL_ID:
		status = cnfeed_del_data_id(cmd.val);
		break;
	case CNFEED_OP_BURST:
		status = cnfeed_prepare_burst(&cmd);
		cnfeed_reply_status(msg, nsp, status);
		if (!status)
			queue_work(system_long_wq, &cnfeed_burst.work);
		return;
	case CNFEED_OP_ECHO:
		cnfeed_reply(msg, nsp, msg->data, msg->len);
		return;
	default:
		status = -EINVAL;
		break;
	}
	cnfeed_reply_status(msg, nsp, status);
}

/*
 * The connector calls its callbacks from the sender's sendmsg(), in process
 * context with none of its locks held (cn_call_callback() in 6.1 and 6.6+),
 * so a callback may take a mutex and allocate with GFP_KERNEL; bursts, which
 * take long, go to a work item.
 */
static void cnfeed_ctl_callback(struct cn_msg *msg,
				struct netlink_skb_parms *nsp)
{
	cnfeed_enter();
	cnfeed_handle_command(msg, nsp);
	cnfeed_leave();
}

static void cnfeed_free_list(struct list_head *list)
{
	struct cnfeed_request *r, *n;

	list_for_each_entry_safe(r, n, list, node) {
		list_del(&r->node);
		sock_put(r->sk);
		kfree(r);
	}
}

/* group == 0: drop the socket's requests with the same range lists. */
static void cnfeed_remove_request(struct sock *sk,
				  const struct cnfeed_notify_parsed *p)
{
	struct cnfeed_request *r, *n;
	LIST_HEAD(gone);

	mutex_lock(&cnfeed_requests_lock);
	list_for_each_entry_safe(r, n, &cnfeed_requests, node) {
		if (r->sk == sk && cnfeed_notify_equal(&r->req, p)) {
			list_move(&r->node, &gone);
			cnfeed_nr_requests--;
		}
	}
	atomic_long_set(&cnfeed_active_requests, cnfeed_nr_requests);
	mutex_unlock(&cnfeed_requests_lock);

	cnfeed_free_list(&gone);
}

static void cnfeed_add_request(const struct netlink_skb_parms *nsp,
			       const struct cnfeed_notify_parsed *p)
{
	size_t size = cnfeed_notify_ranges_size(p);
	struct cnfeed_request *r, *old;
	unsigned int mine = 0;
	int err;

	/*
	 * Charged to the sender's memory cgroup, as its socket is: the entry
	 * lives as long as the socket. A request is not worth an OOM kill in
	 * that cgroup, so it fails instead (__GFP_RETRY_MAYFAIL).
	 */
	r = kmalloc(struct_size(r, ranges, size),
		    GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!r) {
		cnfeed_nomem("a request");
		return;
	}
	r->sk = nsp->sk;
	r->portid = nsp->portid;
	r->req = *p;
	memcpy(r->ranges, p->ranges, size);
	r->req.ranges = r->ranges;

	mutex_lock(&cnfeed_requests_lock);
	list_for_each_entry(old, &cnfeed_requests, node) {
		if (old->sk != nsp->sk)
			continue;
		/* The same request again from the same socket is not doubled. */
		if (old->req.group == p->group &&
		    cnfeed_notify_equal(&old->req, p)) {
			err = -EEXIST;
			goto out_unlock;
		}
		mine++;
	}
	err = cnfeed_notify_admit(mine, cnfeed_nr_requests,
				  cnfeed_max_socket_requests,
				  cnfeed_max_requests);
	if (!err) {
		/* The sender's sendmsg() holds the socket; now we do too. */
		sock_hold(r->sk);
		list_add_tail(&r->node, &cnfeed_requests);
		atomic_long_set(&cnfeed_active_requests, ++cnfeed_nr_requests);
		r = NULL;
	}
out_unlock:
	mutex_unlock(&cnfeed_requests_lock);

	kfree(r);
	if (err == -EDQUOT) {
		atomic_long_inc(&cnfeed_refused_quota);
		pr_warn_ratelimited("refused a request from port %u: over its quota (max_socket_requests=%u)\n",
				    nsp->portid, cnfeed_max_socket_requests);
	} else if (err == -ENOSPC) {
		atomic_long_inc(&cnfeed_refused_full);
		pr_warn_ratelimited("refused a request from port %u: table full (max_requests=%u)\n",
				    nsp->portid, cnfeed_max_requests);
	}
}

/* Requests are not answered: the classic protocol has no reply. */
static void cnfeed_handle_request(struct cn_msg *msg,
				  struct netlink_skb_parms *nsp)
{
	struct cnfeed_notify_parsed p;

	if (!nsp->portid || !nsp->sk)
		return;

	if (!cnfeed_sender_capable(nsp)) {
		atomic_long_inc(&cnfeed_refused);
		pr_warn_ratelimited("refused a request from port %u: no CAP_NET_ADMIN\n",
				    nsp->portid);
		return;
	}

	if (cnfeed_notify_parse(msg->data, msg->len, &p) ||
	    p.group > CNFEED_MAX_GROUP) {
		atomic_long_inc(&cnfeed_bad_requests);
		pr_debug("malformed request from port %u\n", nsp->portid);
		return;
	}

	if (p.group)
		cnfeed_add_request(nsp, &p);
	else
		cnfeed_remove_request(nsp->sk, &p);
}

static void cnfeed_notify_callback(struct cn_msg *msg,
				   struct netlink_skb_parms *nsp)
{
	cnfeed_enter();
	cnfeed_handle_request(msg, nsp);
	cnfeed_leave();
}

/*
 * A connector socket closed: free the requests of every socket that is gone.
 * netlink_release() marks the socket SOCK_DEAD (sock_orphan()) before it calls
 * this, and by then its port id may belong to a new socket with requests of
 * its own, so entries are told apart by their socket, not by n->portid.
 */
static int cnfeed_netlink_event(struct notifier_block *nb,
				unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	struct cnfeed_request *r, *tmp;
	LIST_HEAD(gone);

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_CONNECTOR ||
	    !net_eq(n->net, &init_net))
		return NOTIFY_DONE;

	/* A blocking notifier chain: process context, may sleep. */
	mutex_lock(&cnfeed_requests_lock);
	list_for_each_entry_safe(r, tmp, &cnfeed_requests, node) {
		if (sock_flag(r->sk, SOCK_DEAD)) {
			list_move(&r->node, &gone);
			cnfeed_nr_requests--;
		}
	}
	atomic_long_set(&cnfeed_active_requests, cnfeed_nr_requests);
	mutex_unlock(&cnfeed_requests_lock);

	cnfeed_free_list(&gone);
	return NOTIFY_DONE;
}

static struct notifier_block cnfeed_netlink_nb = {
	.notifier_call = cnfeed_netlink_event,
};

/*
 * Wait until no callback of ours runs, after they were all unregistered.
 * A task may have found our connector entry and not yet entered our code,
 * or have left cnfeed_inflight but not yet returned from cnfeed_leave(); it
 * does not sleep voluntarily in either window, so an RCU-tasks grace period
 * on each side of the wait covers both.
 */
static void cnfeed_wait_callbacks(void)
{
	synchronize_rcu_tasks();
	wait_event(cnfeed_inflight_wq, atomic_read(&cnfeed_inflight) == 0);
	synchronize_rcu_tasks();
}

static void cnfeed_free_requests(void)
{
	LIST_HEAD(gone);

	mutex_lock(&cnfeed_requests_lock);
	list_splice_init(&cnfeed_requests, &gone);
	cnfeed_nr_requests = 0;
	atomic_long_set(&cnfeed_active_requests, 0);
	mutex_unlock(&cnfeed_requests_lock);

	cnfeed_free_list(&gone);
}

static int __init cnfeed_init(void)
{
	int err;

	BUILD_BUG_ON(sizeof(struct cnfeed_cmd) != 24);
	BUILD_BUG_ON(sizeof(struct cn_ctl_msg) != 16);
	BUILD_BUG_ON(sizeof(struct cn_notify_req) != 8);

	if (cnfeed_idx < CNFEED_IDX_MIN || cnfeed_idx > CNFEED_IDX_MAX) {
		pr_err("idx=%u is out of range %u..%u\n", cnfeed_idx,
		       CNFEED_IDX_MIN, CNFEED_IDX_MAX);
		return -EINVAL;
	}
	if (cnfeed_max_requests > CNFEED_MAX_REQUESTS) {
		pr_err("max_requests=%u is above %u\n", cnfeed_max_requests,
		       CNFEED_MAX_REQUESTS);
		return -EINVAL;
	}
	if (cnfeed_max_socket_requests > CNFEED_MAX_REQUESTS) {
		pr_err("max_socket_requests=%u is above %u\n",
		       cnfeed_max_socket_requests, CNFEED_MAX_REQUESTS);
		return -EINVAL;
	}

	cnfeed_ctl_id.idx = cnfeed_idx;
	cnfeed_ctl_id.val = CNFEED_CTL_VAL;
	INIT_WORK(&cnfeed_burst.work, cnfeed_burst_work);

	err = netlink_register_notifier(&cnfeed_netlink_nb);
	if (err)
		return err;

	err = cn_add_callback(&cnfeed_notify_id, "cnfeed_notify",
			      cnfeed_notify_callback);
	if (err) {
		pr_err("cannot register %u:%u: %d\n", cnfeed_notify_id.idx,
		       cnfeed_notify_id.val, err);
		goto err_notifier;
	}

	/* Under cnfeed_lock: a command cannot announce an id before this. */
	mutex_lock(&cnfeed_lock);
	err = cn_add_callback(&cnfeed_ctl_id, "cnfeed", cnfeed_ctl_callback);
	if (!err)
		cnfeed_notify(&cnfeed_ctl_id, CNFEED_NOTIFY_ADDED);
	mutex_unlock(&cnfeed_lock);
	if (err) {
		pr_err("cannot register %u:%u: %d\n", cnfeed_ctl_id.idx,
		       cnfeed_ctl_id.val, err);
		goto err_notify_id;
	}

	pr_info("control id %u:%u, id notification on %u:%u\n",
		cnfeed_ctl_id.idx, cnfeed_ctl_id.val,
		cnfeed_notify_id.idx, cnfeed_notify_id.val);
	return 0;

err_notify_id:
	cn_del_callback(&cnfeed_notify_id);
	cnfeed_wait_callbacks();
err_notifier:
	netlink_unregister_notifier(&cnfeed_netlink_nb);
	cnfeed_free_requests();
	return err;
}

static void __exit cnfeed_exit(void)
{
	struct cnfeed_data_id *d, *n;

	/*
	 * Stop the commands first: from here on they cannot add an id or
	 * start a burst, and a running burst ends at its next message.
	 * Each id goes, then its removal is announced, while {-1, -1} still
	 * serves the requests.
	 */
	mutex_lock(&cnfeed_lock);
	WRITE_ONCE(cnfeed_stopping, true);
	list_for_each_entry_safe(d, n, &cnfeed_data_list, node)
		cnfeed_remove_data_id(d);
	cn_del_callback(&cnfeed_ctl_id);
	cnfeed_notify(&cnfeed_ctl_id, CNFEED_NOTIFY_REMOVED);
	mutex_unlock(&cnfeed_lock);

	cn_del_callback(&cnfeed_notify_id);
	cnfeed_wait_callbacks();

	netlink_unregister_notifier(&cnfeed_netlink_nb);
	cancel_work_sync(&cnfeed_burst.work);
	/* Still set if the work was cancelled before it ran. */
	kfree(cnfeed_burst.msg);
	cnfeed_burst.msg = NULL;
	cnfeed_free_requests();
}

module_init(cnfeed_init);
module_exit(cnfeed_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Connector feed for cnd: data ids, bursts, echo and id notification");
