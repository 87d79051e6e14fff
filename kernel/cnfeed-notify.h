/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cnfeed-notify.h: validation and matching of id-notification requests
 * (struct cn_ctl_msg, see cnfeed.h) and the rules of the request table, as
 * pure functions of bytes and counts.
 *
 * The same code runs in the cnfeed module and in user space (cnd's tests and
 * fuzzers), so it uses only uapi types and reads every field with memcpy():
 * the request is wherever the connector left it, with no alignment promised.
 */
#ifndef _CNFEED_NOTIFY_H
#define _CNFEED_NOTIFY_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>
#endif

#include "cnfeed.h"

/*
 * A validated request. ranges points into the parsed buffer (or into the
 * module's copy of it): idx_num then val_num struct cn_notify_req, unaligned.
 */
struct cnfeed_notify_parsed {
	__u32 idx_num;
	__u32 val_num;
	__u32 group;
	const unsigned char *ranges;
};

static inline __u32 cnfeed_notify_get_u32(const unsigned char *p)
{
	__u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Bytes of the range lists of a parsed request. */
static inline size_t
cnfeed_notify_ranges_size(const struct cnfeed_notify_parsed *p)
{
	return ((size_t)p->idx_num + p->val_num) * sizeof(struct cn_notify_req);
}

/*
 * Validate the data of a cn_msg to {CNFEED_NOTIFY_IDX, CNFEED_NOTIFY_VAL}.
 * Returns 0 and fills *out, or -EINVAL (and leaves *out alone) when the data
 * is shorter than struct cn_ctl_msg, a count is 0 or above
 * CNFEED_NOTIFY_MAX_RANGES, len is not 8 times the number of ranges, or the
 * ranges do not fit in size. Bytes after the ranges are ignored.
 */
static inline int cnfeed_notify_parse(const void *data, size_t size,
				      struct cnfeed_notify_parsed *out)
{
	const unsigned char *d = (const unsigned char *)data;
	__u32 idx_num, val_num, group, len;
	size_t want;

	if (!d || size < sizeof(struct cn_ctl_msg))
		return -EINVAL;

	idx_num = cnfeed_notify_get_u32(d +
			offsetof(struct cn_ctl_msg, idx_notify_num));
	val_num = cnfeed_notify_get_u32(d +
			offsetof(struct cn_ctl_msg, val_notify_num));
	group = cnfeed_notify_get_u32(d + offsetof(struct cn_ctl_msg, group));
	len = cnfeed_notify_get_u32(d + offsetof(struct cn_ctl_msg, len));

	if (idx_num == 0 || idx_num > CNFEED_NOTIFY_MAX_RANGES ||
	    val_num == 0 || val_num > CNFEED_NOTIFY_MAX_RANGES)
		return -EINVAL;

	/* Both counts are small, so this cannot overflow. */
	want = ((size_t)idx_num + val_num) * sizeof(struct cn_notify_req);
	if ((size_t)len != want)
		return -EINVAL;
	if (size - sizeof(struct cn_ctl_msg) < want)
		return -EINVAL;

	out->idx_num = idx_num;
	out->val_num = val_num;
	out->group = group;
	out->ranges = d + sizeof(struct cn_ctl_msg);
	return 0;
}

/* The i-th range of p (idx ranges first, then val ranges). */
static inline void cnfeed_notify_range(const struct cnfeed_notify_parsed *p,
				       __u32 i, __u32 *first, __u32 *range)
{
	const unsigned char *r = p->ranges + (size_t)i *
				 sizeof(struct cn_notify_req);

	*first = cnfeed_notify_get_u32(r +
			offsetof(struct cn_notify_req, first));
	*range = cnfeed_notify_get_u32(r +
			offsetof(struct cn_notify_req, range));
}

/* first <= x < first + range, without computing first + range. */
static inline bool cnfeed_notify_in_range(__u32 x, __u32 first, __u32 range)
{
	return x >= first && x - first < range;
}

static inline bool
cnfeed_notify_in_ranges(const struct cnfeed_notify_parsed *p, __u32 start,
			__u32 n, __u32 x)
{
	__u32 i, first, range;

	for (i = start; i < start + n; i++) {
		cnfeed_notify_range(p, i, &first, &range);
		if (cnfeed_notify_in_range(x, first, range))
			return true;
	}
	return false;
}

/*
 * Does the id {idx, val} fall in the request? The idx and val lists are
 * scanned independently: some idx range must hold idx and some val range val.
 */
static inline bool cnfeed_notify_match(const struct cnfeed_notify_parsed *p,
				       __u32 idx, __u32 val)
{
	return cnfeed_notify_in_ranges(p, 0, p->idx_num, idx) &&
	       cnfeed_notify_in_ranges(p, p->idx_num, p->val_num, val);
}

/*
 * The groups to announce a change of {idx, val} to, as a mask: bit g - 1 for
 * group g. Or-ing the masks of every request gives one message per group,
 * however many requests name it. Group 0 and groups above CNFEED_MAX_GROUP
 * have no bit (the module keeps no such request).
 */
static inline __u32 cnfeed_notify_groups(const struct cnfeed_notify_parsed *p,
					 __u32 idx, __u32 val)
{
	if (p->group == 0 || p->group > CNFEED_MAX_GROUP ||
	    !cnfeed_notify_match(p, idx, val))
		return 0;
	return (__u32)1 << (p->group - 1);
}

/*
 * May a socket that holds mine of the table's total requests add one more?
 * 0, -EDQUOT over the socket's quota (checked first: one socket cannot make
 * the table look full to the others), or -ENOSPC when the table is full.
 */
static inline int cnfeed_notify_admit(unsigned int mine, unsigned int total,
				      unsigned int max_socket,
				      unsigned int max_total)
{
	if (mine >= max_socket)
		return -EDQUOT;
	if (total >= max_total)
		return -ENOSPC;
	return 0;
}

/* Do two requests have the same range lists (whatever their groups)? */
static inline bool cnfeed_notify_equal(const struct cnfeed_notify_parsed *a,
				       const struct cnfeed_notify_parsed *b)
{
	return a->idx_num == b->idx_num && a->val_num == b->val_num &&
	       memcmp(a->ranges, b->ranges, cnfeed_notify_ranges_size(a)) == 0;
}

#endif /* _CNFEED_NOTIFY_H */
