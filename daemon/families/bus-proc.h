/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.cnd.Connector1.Proc on /org/cnd/Connector1/proc (bus-proc.c), and the state of cn_proc
 * (connector id 1:1) as a family that it shows: cnd's subscription (proc-subscription.c), the
 * loss its per-CPU sequence numbers show and the process table. The family itself
 * (family-proc.c) decodes each event (proc-event.c) and publishes it here; the object knows
 * nothing of the family's code, only of its state. */

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

int bus_proc_setup(FamilyContext *ctx, void *state);
int bus_proc_emit_event(ProcFamily *p, const ProcEvent *ev);
void bus_proc_emit_events_changed(ProcFamily *p);
