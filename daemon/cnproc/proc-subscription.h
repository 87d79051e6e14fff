/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cnd's subscription to cn_proc, as a state machine that does no I/O itself: it asks for
 * messages to be sent, a timer to be armed and the sequence tracking to be restarted through
 * ProcSubscriptionOps, and learns of acks and the timeout through calls. So every path through
 * it — kernels before 6.6 that know only a machine-wide listener count and ignore the 8-byte
 * form, 6.6+ kernels that filter per socket, refusals — is unit-tested without a socket.
 *
 * What the kernels do: every kernel takes the 4-byte PROC_CN_MCAST_LISTEN and, before 6.6, acks
 * it when it counted; 6.6+ also takes the 8-byte struct proc_input, whose event_type becomes the
 * socket's filter, and acks it only when the filter is PROC_EVENT_ALL (the filter applies to the
 * ack too). Which kernel this is shows in whether the 8-byte form is answered, not in a version
 * string that would not tell for backports. */

#include <stdbool.h>
#include <stdint.h>

typedef enum ProcFilterSupport {
        PROC_FILTER_UNKNOWN,    /* probing: the 8-byte LISTEN went out, its ack has not come */
        PROC_FILTER_KERNEL,     /* 6.6+: the kernel filters events for our socket */
        PROC_FILTER_LOCAL,      /* older kernels ignore the 8-byte form: cnd filters */
} ProcFilterSupport;

typedef enum ProcListenState {
        PROC_LISTEN_PENDING,    /* the 4-byte LISTEN went out, no answer yet */
        PROC_LISTEN_COUNTED,    /* acked without error: cnd counts as a listener */
        PROC_LISTEN_REFUSED,    /* an error ack, or (before 6.6) no ack to any LISTEN in time */
} ProcListenState;

/* Before 6.6, cn_proc acks a LISTEN only if its machine-wide listener count is at least one
 * after it, and sends events only then: a count below zero (a privileged program sent more
 * IGNOREs than LISTENs; that kernel does not check) leaves every listener without events. cnd
 * then sends LISTEN again, each raising the count by one, until one is acked, at most this
 * many in all. */
#define PROC_LISTENS_MAX 16

typedef struct ProcSubscriptionOps {
        /* Sends op to cn_proc: the 4-byte form if filter is NULL, else the 8-byte form with
         * *filter as event_type. Stores the ack it used in *ret_ack if that is not NULL. */
        int (*send)(uint32_t op, const uint32_t *filter, uint32_t *ret_ack, void *userdata);
        /* Sends the 4-byte op from a socket of its own that listens to nothing: before 6.6 it
         * moves the machine-wide count like any other; 6.6+ ignores an IGNORE from a socket
         * that never listened, so it cannot touch cnd's own subscription. */
        int (*send_detached)(uint32_t op, void *userdata);
        /* Arms (true) or disarms the probe timeout; when it fires, call
         * proc_subscription_probe_timeout(). */
        void (*arm_probe)(bool arm, void *userdata);
        /* The kernel's sequence numbers start afresh for cnd's purposes (a new subscription or
         * filter): gaps before this are no loss. */
        void (*restart_sequence)(void *userdata);
        /* ProcSubscription.error changed. */
        void (*error_changed)(void *userdata);
} ProcSubscriptionOps;

typedef struct ProcSubscription {
        const ProcSubscriptionOps *ops;
        void *userdata;

        bool listening;
        ProcListenState listen_state;
        ProcFilterSupport support;
        /* The acks we wait for. Each is taken once: the kernel answers in the sender's own
         * call, so the real answer comes before anything a listener could replay. */
        uint32_t listen_acks[PROC_LISTENS_MAX];  /* acks of the 4-byte LISTENs sent */
        unsigned n_listens;
        uint32_t listens_answered;      /* bit i: listen_acks[i]'s answer was taken */
        uint32_t probe_ack;             /* ack of the 8-byte LISTEN that probes for the filter */
        bool probe_answered;
        uint32_t wanted;                /* the kernel event mask of the configured kinds */
        /* The kernel filters for us (6.6+): it keeps acks out, and the events not wanted. The
         * per-CPU sequence then has gaps that are no loss (others' acks take numbers too). */
        bool kernel_filters;
        uint32_t listen_op;             /* the op of the 4-byte LISTEN (a test build may change it) */
        char error[128];                /* the last error ack, for STATUS= and the bus; "" if none */
} ProcSubscription;

void proc_subscription_init(ProcSubscription *s, const ProcSubscriptionOps *ops, void *userdata,
                            uint32_t wanted);

/* Group 1 was joined / is about to be left. */
void proc_subscription_listen(ProcSubscription *s);
void proc_subscription_ignore(ProcSubscription *s);

/* The configured kinds changed: wanted is their kernel event mask. */
void proc_subscription_set_wanted(ProcSubscription *s, uint32_t wanted);

/* An ack event (PROC_EVENT_NONE) arrived with this ack and error. */
void proc_subscription_ack(ProcSubscription *s, uint32_t ack, uint32_t err);

/* The probe timer fired: no answer to the 8-byte LISTEN (or, before 6.6, to the last LISTEN
 * sent again: see PROC_LISTENS_MAX). */
void proc_subscription_probe_timeout(ProcSubscription *s);

/* A client's message to 1:1 went out on a socket of its own, and moved the kernel's listener
 * count if it was a LISTEN or an IGNORE (before 6.6 there is one count for the machine; 6.6+
 * counts a LISTEN per socket). Returns the 4-byte op to send on that same socket to undo it, or
 * 0 if nothing needs undoing. */
uint32_t proc_subscription_undo_op(const ProcSubscription *s, const void *data, size_t size);

/* Whether cnd must drop kinds itself: the kernel does not filter for it. */
static inline bool proc_subscription_filters_locally(const ProcSubscription *s) {
        return s->support != PROC_FILTER_KERNEL;
}
