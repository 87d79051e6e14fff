/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Manager's cn_proc side: its subscription (LISTEN/IGNORE, the 6.6+ event filter found by
 * its ack), and each 1:1 message turned into a typed signal on /org/cnd/Connector1/proc. */

#include <linux/connector.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "cnd-bus-names.h"
#include "proc-event.h"

typedef enum ProcFilterSupport {
        PROC_FILTER_UNKNOWN,    /* probing: the 8-byte LISTEN went out, its ack has not come */
        PROC_FILTER_KERNEL,     /* 6.6+: the kernel filters events for our socket */
        PROC_FILTER_LOCAL,      /* older kernels ignore the 8-byte form: cnd filters */
} ProcFilterSupport;

typedef struct ProcState {
        bool listening;
        /* Whether our 4-byte LISTEN counts as a listener: known from its ack, or, on kernels
         * before 6.6 that send none when it does not count, from no ack within the probe time. */
        enum { LISTEN_PENDING, LISTEN_COUNTED, LISTEN_REFUSED } listen_state;
        ProcFilterSupport support;
        uint32_t probe_ack;             /* ack of the 8-byte LISTEN that probes for the filter */
        uint32_t listen_ack;            /* ack of the 4-byte LISTEN on older kernels */
        sd_event_source *probe_timer;
        ProcSeqTracker seq;
        bool kernel_narrows;            /* the kernel sends us a subset: gaps are no loss */
        uint64_t unknown;               /* events of a what cnd does not know */
        uint64_t malformed;             /* events too short for their what */
        char error[128];                /* the last error ack, for STATUS; "" if none */
        uint32_t test_listen_op;        /* test hook: the op of the 4-byte LISTEN, 0 = LISTEN */
} ProcState;

typedef struct Manager Manager;

/* Group 1 joined/about to be left. */
void proc_listen(Manager *m);
void proc_ignore(Manager *m);
/* The configured Events= changed. */
void proc_events_changed(Manager *m);
/* A client sent data to 1:1 on cnd's socket: put cnd's own subscription back if needed. */
void proc_after_client_message(Manager *m, const void *data, size_t size);
/* An accepted 1:1 message. may_signal says whether the bus takes signals now. Returns 1 if
 * it became a signal, 0 if it was not to become one, negative if its signal was dropped. */
int proc_handle_message(Manager *m, const struct cn_msg *msg, bool may_signal);
void proc_state_done(ProcState *p);

/* bus-proc.c */
int bus_proc_setup(Manager *m);
int bus_proc_emit_event(Manager *m, const ProcEvent *ev);
