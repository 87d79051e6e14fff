/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
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

_Static_assert(PROC_LISTENS_MAX <= 32, "listens_answered has a bit per LISTEN");

/* The 4-byte LISTEN every kernel takes and acks: events flow at once. */
static int send_listen(ProcSubscription *s) {
        int r;

        assert(s->n_listens < PROC_LISTENS_MAX);
        r = send_op(s, s->listen_op, NULL, &s->listen_acks[s->n_listens]);
        if (r >= 0)
                s->n_listens++;
        return r;
}

void proc_subscription_listen(ProcSubscription *s) {
        uint32_t all = PROC_EVENT_ALL_MASK;

        s->listening = true;
        s->listen_state = PROC_LISTEN_PENDING;
        s->n_listens = 0;
        s->listens_answered = 0;
        s->probe_answered = false;
        s->kernel_filters = false;
        if (s->error[0]) {
                s->error[0] = '\0';
                s->ops->error_changed(s->userdata);
        }
        s->ops->restart_sequence(s->userdata);

        if (send_listen(s) < 0)
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
         * kernel refused ours (an error ack), it counted, answered yet or not. One IGNORE
         * however many LISTENs went out: those sent again made up for others' IGNOREs, and
         * when none was answered the count is still below one, which another IGNORE would
         * only deepen. 6.6+ keeps the state per socket and takes an IGNORE either way. */
        if (s->n_listens > 0 && (s->listen_state != PROC_LISTEN_REFUSED || s->support == PROC_FILTER_KERNEL))
                (void) send_op(s, PROC_CN_MCAST_IGNORE, NULL, NULL);
}

void proc_subscription_set_wanted(ProcSubscription *s, uint32_t wanted) {
        s->wanted = wanted;
        if (s->listening && s->support == PROC_FILTER_KERNEL)
                apply_kernel_filter(s);
}

void proc_subscription_probe_timeout(ProcSubscription *s) {
        if (s->support == PROC_FILTER_KERNEL)
                return;         /* answered meanwhile */
        if (s->support == PROC_FILTER_UNKNOWN)
                log_info("cn_proc did not answer the 8-byte LISTEN: a kernel before 6.6, cnd filters events itself.");
        s->support = PROC_FILTER_LOCAL;
        if (s->listen_state != PROC_LISTEN_PENDING)
                return;

        /* Such a kernel counts every LISTEN from a sender with CAP_NET_ADMIN and acks it if the
         * count is at least one then: no ack means the count is below one with ours in it, and
         * it sends no events to anyone. Each LISTEN more raises it by one. (Or the acks are
         * still unread, cnd's loop busy for a second: a 6.6+ kernel does not count a LISTEN
         * again on the same socket, and the filter its late answer to the probe brings is
         * sent after; an older one acks the LISTENs, and those sent again are taken back.) */
        if (s->n_listens < PROC_LISTENS_MAX) {
                if (s->n_listens == 1)
                        log_warning("cn_proc did not acknowledge PROC_CN_MCAST_LISTEN within a second. On a "
                                    "kernel before 6.6 this means its machine-wide listener count is below one "
                                    "(a program sent PROC_CN_MCAST_IGNORE more often than LISTEN), and it sends "
                                    "events to no one. Sending LISTEN again.");
                if (send_listen(s) >= 0) {
                        s->ops->arm_probe(true, s->userdata);
                        return;
                }
        }
        s->listen_state = PROC_LISTEN_REFUSED;
        log_error("cn_proc acknowledged none of %u PROC_CN_MCAST_LISTEN: no process events will arrive.",
                  s->n_listens);
}

/* The answer to our i-th 4-byte LISTEN. */
static void listen_answered(ProcSubscription *s, unsigned i, uint32_t err) {
        s->listens_answered |= UINT32_C(1) << i;
        if (err != 0) {
                if (s->listen_state != PROC_LISTEN_PENDING)
                        return;         /* another LISTEN of ours counted */
                s->listen_state = PROC_LISTEN_REFUSED;
                if (s->support == PROC_FILTER_LOCAL)
                        s->ops->arm_probe(false, s->userdata);
                set_error(s, op_name(PROC_CN_MCAST_LISTEN), err);
                return;
        }
        if (s->listen_state == PROC_LISTEN_COUNTED) {
                /* Answered late, after another LISTEN went out in its stead. Before 6.6 both
                 * counted and one was not needed: it is taken back from a socket of its own,
                 * which before 6.6 moves the same count, and on 6.6+ (whose probe answer would
                 * have come first, but might have been lost) cannot turn cnd's socket off. */
                if (s->support == PROC_FILTER_LOCAL) {
                        log_debug("cn_proc acknowledged a PROC_CN_MCAST_LISTEN sent again: taking one back.");
                        if (s->ops->send_detached(PROC_CN_MCAST_IGNORE, s->userdata) < 0)
                                log_warning("Failed to take back a PROC_CN_MCAST_LISTEN sent again.");
                }
                return;
        }
        if (i > 0)
                log_notice("cn_proc acknowledged PROC_CN_MCAST_LISTEN number %u: its listener count is one "
                           "again, events flow.", i + 1);
        s->listen_state = PROC_LISTEN_COUNTED;
        /* While the kernel is unknown the timer is the probe's; after, it waited for this. */
        if (s->support == PROC_FILTER_LOCAL)
                s->ops->arm_probe(false, s->userdata);
}

void proc_subscription_ack(ProcSubscription *s, uint32_t ack, uint32_t err) {
        for (unsigned i = 0; i < s->n_listens; i++)
                if (ack == s->listen_acks[i] + 1 && !(s->listens_answered & (UINT32_C(1) << i))) {
                        listen_answered(s, i, err);
                        return;
                }
        /* The probe's answer, maybe after its timeout (acks read late): the kernel filters. */
        if (s->support != PROC_FILTER_KERNEL && !s->probe_answered && ack == s->probe_ack + 1) {
                s->probe_answered = true;
                s->ops->arm_probe(false, s->userdata);
                if (err != 0) {
                        set_error(s, "the 8-byte PROC_CN_MCAST_LISTEN", err);
                        return;
                }
                if (s->support == PROC_FILTER_LOCAL)
                        log_info("cn_proc answered the 8-byte LISTEN late: the kernel filters events after all.");
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
