/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.cnd.Connector1.Processes on /org/cnd/Connector1/processes (bus-processes.c): the process
 * table as signals, methods and counters. */

#include <systemd/sd-bus.h>

#include "bus-access.h"
#include "loss.h"
#include "processes.h"

/* What a ListProcesses reply may take: half of what dbus-daemon's system bus takes of a message
 * (32 MiB), so that the bus never refuses it, which would cost cnd its connection. Past it the
 * call fails with CND_ERROR_TOO_LARGE, and DumpProcesses hands the table over whole. */
#define BUS_PROCESSES_LIST_MAX (16U * 1024U * 1024U)

/* Calls that wait for the scan being read (GetProcess of a pid the table lacks, ListProcesses)
 * at most: past it, the table as it is answers. */
#define BUS_PROCESSES_WAITING_MAX 64U

typedef struct WaitingCall {
        sd_bus_message *call;
        uint32_t pid;                   /* GetProcess's */
} WaitingCall;

/* What the object works with, handed by whoever wires it: the bus (set by
 * bus_processes_setup()), the loss accounting its signals go through and the checks of who may
 * read the table; and its own, the calls waiting for a scan's end. */
typedef struct BusProcesses {
        sd_bus *bus;
        Loss *loss;
        AccessChecks *access;
        size_t list_max;                /* ListProcesses's bound: BUS_PROCESSES_LIST_MAX */
        WaitingCall waiting[BUS_PROCESSES_WAITING_MAX];
        size_t n_waiting;
} BusProcesses;

/* The table's signals as D-Bus signals: a Processes with these ops has a BusProcesses as its
 * userdata. */
extern const ProcessesOps bus_processes_ops;

int bus_processes_setup(BusProcesses *b, sd_bus *bus, Processes *ps);
/* Drops the calls still waiting (cnd is stopping: their callers get no reply from it). */
void bus_processes_done(BusProcesses *b);
