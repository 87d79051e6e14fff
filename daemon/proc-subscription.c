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

/* Told once per new error: the same text again is neither logged nor notified again. */
static void set_error(ProcSubscription *s, const char *what, uint32_t err) {
        char error[sizeof(s->error)];

        snprintf(error, sizeof(error), "cn_proc refused %s: %s", what, strerror((int) err));
        if (streq(error, s->error))
                return;
        memcpy(s->error, error, sizeof(error));
        log_error("%s", s->error);
        s->ops->error_changed(s->userdata);
}

/* On a kernel that filters, ask for just the configured kinds (all of them if none is set),
 * as a mask that is never PROC_EVENT_ALL: with any other mask the kernel also keeps acks
 * (PROC_EVENT_NONE) out of our socket, those to others and those anyone can make it send, so
 * a flood of them cannot fill our queue and push events out. */
static void apply_kernel_filter(ProcSubscription *s) {
        uint32_t mask = s->wanted ?: proc_kinds_to_what_mask(PROC_KINDS_ALL);

        s->kernel_filters = true;
        /* The kernel sends no ack for it: the filter applies to the ack too. */
        (void) send_op(s, PROC_CN_MCAST_LISTEN, &mask, NULL);
        s->ops->restart_sequence(s->userdata);
}

void proc_subscription_listen(ProcSubscription *s) {
        uint32_t all = PROC_EVENT_ALL_MASK;

        s->listening = true;
        s->listen_state = PROC_LISTEN_PENDING;
        s->kernel_filters = false;
        if (s->error[0]) {
                s->error[0] = '\0';
                s->ops->error_changed(s->userdata);
        }
        s->ops->restart_sequence(s->userdata);

        /* The 4-byte LISTEN every kernel takes and acks: events flow at once. */
        if (send_op(s, s->listen_op, NULL, &s->listen_ack) < 0)
                return;
        s->listen_ack_pending = true;

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
        if (s->listen_ack_pending && ack == s->listen_ack + 1) {
                s->listen_ack_pending = false;
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
                apply_kernel_filter(s);
        }
}

uint32_t proc_subscription_undo_op(const ProcSubscription *s, const void *data, size_t size) {
        uint32_t op;

        if (size != sizeof(uint32_t) && size != sizeof(ProcInput))
                return 0;
        memcpy(&op, data, sizeof(op));

        if (op == PROC_CN_MCAST_LISTEN) {
                /* Counted by every kernel in the 4-byte form, and by 6.6+ in the 8-byte one,
                 * which older kernels ignore: an IGNORE on the same socket takes it back. */
                if (size == sizeof(uint32_t) || s->support == PROC_FILTER_KERNEL)
                        return PROC_CN_MCAST_IGNORE;
                return 0;
        }
        if (op == PROC_CN_MCAST_IGNORE && size == sizeof(uint32_t)) {
                /* Before 6.6 an IGNORE takes one off the machine's count, whoever sent it:
                 * a LISTEN puts it back. 6.6+ takes nothing off for a socket that never
                 * listened. While the kernel is not known yet, putting it back is the safe
                 * side: at worst a listener count too many, never events stopped for all. */
                if (s->support != PROC_FILTER_KERNEL)
                        return PROC_CN_MCAST_LISTEN;
        }
        return 0;
}
