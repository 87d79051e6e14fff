/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cn_proc (connector id 1:1) as a family: cnd's subscription (proc-subscription.c), each event
 * decoded (proc-event.c) and published on /org/cnd/Connector1/proc (bus-proc.c), and the loss
 * its per-CPU sequence numbers show. */

#include <systemd/sd-event.h>

#include "bus-processes.h"
#include "family.h"
#include "proc-event.h"
#include "proc-subscription.h"
#include "processes.h"

typedef struct ProcFamily {
        FamilyContext *ctx;
        ProcSubscription subscription;
        ProcSeqTracker seq;             /* LostEvents */
        sd_event_source *probe_timer;
        uint64_t unknown;               /* events of a what cnd does not know */
        uint64_t malformed;             /* events too short for their what */
        Processes processes;            /* the process table, /org/cnd/Connector1/processes */
        BusProcesses bus_processes;     /* what that object works with */
} ProcFamily;

/* bus-proc.c */
int bus_proc_setup(FamilyContext *ctx, void *state);
int bus_proc_emit_event(ProcFamily *p, const ProcEvent *ev);
void bus_proc_emit_events_changed(ProcFamily *p);
