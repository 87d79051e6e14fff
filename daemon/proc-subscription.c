/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <linux/cn_proc.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "proc-event.h"
#include "proc-subscription.h"

void proc_subscription_init(ProcSubscription *s, const ProcSubscriptionOps *ops, void *userdata,
                            uint32_t wanted) {
        *s = (ProcSubscription) {
                .ops = ops,
                .userdata = userdata,
                .wanted = wanted,
                .listen_op = PROC_CN_MCAST_LISTEN,
        };
}

static const char *op_name(uint32_t op) {
        return op == PROC_CN_MCAST_IGNORE ? "PROC_CN_MCAST_IGNORE" : "PROC_CN_MCAST_LISTEN";
}

static int send_op(ProcSubscription *s, uint32_t op, const uint32_t *filter, uint32_t *ret_ack) {
        int r;

        r = s->ops->send(op, filter, ret_ack, s->userdata);
        if (r < 0)
                log_warning_errno(r, "Failed to send %s to cn_proc: %m", op_name(op));
        return r;
}

static void set_error(ProcSubscription *s, const char *what, uint32_t err) {
        snprintf(s->error, sizeof(s->error), "cn_proc refused %s: %s", what, strerror((int) err));
        log_error("%s", s->error);
        s->ops->error_changed(s->userdata);
}

/* On a kernel that filters, ask for just what is configured. With every kind (or none, which
 * the kernel would read as every kind) the ALL filter stays. */
static void apply_kernel_filter(ProcSubscription *s) {
        uint32_t mask = s->wanted;

        s->kernel_narrows = mask != 0 && mask != proc_kinds_to_what_mask(PROC_KINDS_ALL);
        if (!s->kernel_narrows)
                mask = PROC_EVENT_ALL_MASK;
        /* With a narrower filter the kernel sends no ack (the filter applies to it too). */
        (void) send_op(s, PROC_CN_MCAST_LISTEN, &mask, NULL);
        s->ops->restart_sequence(s->userdata);
}

void proc_subscription_listen(ProcSubscription *s) {
        uint32_t all = PROC_EVENT_ALL_MASK;

        s->listening = true;
        s->listen_state = PROC_LISTEN_PENDING;
        s->kernel_narrows = false;
        if (s->error[0]) {
                s->error[0] = '\0';
                s->ops->error_changed(s->userdata);
        }
        s->ops->restart_sequence(s->userdata);

        /* The 4-byte LISTEN every kernel takes and acks: events flow at once. */
        if (send_op(s, s->listen_op, NULL, &s->listen_ack) < 0)
                return;

        /* Then the probe: 6.6+ acks an 8-byte LISTEN for all events (the same subscription,
         * no second listener), older kernels ignore that form without an answer. */
        s->support = PROC_FILTER_UNKNOWN;
        if (send_op(s, PROC_CN_MCAST_LISTEN, &all, &s->probe_ack) < 0)
                return;
        s->ops->arm_probe(true, s->userdata);
}

void proc_subscription_ignore(ProcSubscription *s) {
        s->listening = false;
        s->ops->arm_probe(false, s->userdata);
        /* Older kernels keep one machine-wide listener count: an IGNORE missed here would leak
         * it, and one for a LISTEN that did not count would take someone else's: unless the
         * kernel refused ours (an error ack, or none in time), it counted, answered yet or not.
         * 6.6+ keeps the state per socket and takes an IGNORE either way. */
        if (s->listen_state != PROC_LISTEN_REFUSED || s->support == PROC_FILTER_KERNEL)
                (void) send_op(s, PROC_CN_MCAST_IGNORE, NULL, NULL);
}

void proc_subscription_set_wanted(ProcSubscription *s, uint32_t wanted) {
        s->wanted = wanted;
        if (s->listening && s->support == PROC_FILTER_KERNEL)
                apply_kernel_filter(s);
}

void proc_subscription_probe_timeout(ProcSubscription *s) {
        log_info("cn_proc did not answer the 8-byte LISTEN: a kernel before 6.6, cnd filters events itself.");
        s->support = PROC_FILTER_LOCAL;
        if (s->listen_state == PROC_LISTEN_PENDING) {
                /* Such a kernel acks every LISTEN that counts: this one did not. */
                s->listen_state = PROC_LISTEN_REFUSED;
                log_warning("cn_proc did not acknowledge PROC_CN_MCAST_LISTEN.");
        }
}

void proc_subscription_ack(ProcSubscription *s, uint32_t ack, uint32_t err) {
        if (ack == s->listen_ack + 1) {
                s->listen_state = err == 0 ? PROC_LISTEN_COUNTED : PROC_LISTEN_REFUSED;
                if (err != 0)
                        set_error(s, op_name(PROC_CN_MCAST_LISTEN), err);
        } else if (s->support == PROC_FILTER_UNKNOWN && ack == s->probe_ack + 1) {
                s->ops->arm_probe(false, s->userdata);
                if (err != 0) {
                        set_error(s, "the 8-byte PROC_CN_MCAST_LISTEN", err);
                        return;
                }
                log_debug("cn_proc takes struct proc_input: the kernel filters events.");
                s->support = PROC_FILTER_KERNEL;
                if (s->wanted != proc_kinds_to_what_mask(PROC_KINDS_ALL))
                        apply_kernel_filter(s);
        }
}

void proc_subscription_client_sent(ProcSubscription *s, const void *data, size_t size) {
        uint32_t op;

        if (!s->listening || (size != sizeof(uint32_t) && size != sizeof(ProcInput)))
                return;
        memcpy(&op, data, sizeof(op));
        if (op != PROC_CN_MCAST_LISTEN && op != PROC_CN_MCAST_IGNORE)
                return;

        if (s->support == PROC_FILTER_LOCAL) {
                /* Before 6.6 a LISTEN or IGNORE only moves one machine-wide listener count:
                 * undo the client's move, so that it neither leaks nor silences anyone. The
                 * 8-byte form those kernels ignore moved nothing. */
                if (size == sizeof(uint32_t))
                        (void) send_op(s, op == PROC_CN_MCAST_LISTEN ? PROC_CN_MCAST_IGNORE : PROC_CN_MCAST_LISTEN,
                                       NULL, NULL);
        } else if (op == PROC_CN_MCAST_IGNORE)
                /* 6.6+: an IGNORE switched our socket off. */
                proc_subscription_listen(s);
        else if (s->support == PROC_FILTER_KERNEL)
                /* 6.6+: a LISTEN replaced our socket's filter. */
                apply_kernel_filter(s);
}
