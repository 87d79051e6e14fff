/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.cnd.Connector1.Processes on /org/cnd/Connector1/processes (bus-processes.c): the process
 * table as signals, methods and counters. */

#include <systemd/sd-bus.h>

#include "bus-access.h"
#include "loss.h"
#include "processes.h"

/* What the object works with, handed by whoever wires it: the bus (set by
 * bus_processes_setup()), the loss accounting its signals go through and the checks of who may
 * read the table. */
typedef struct BusProcesses {
        sd_bus *bus;
        Loss *loss;
        AccessChecks *access;
} BusProcesses;

/* The table's signals as D-Bus signals: a Processes with these ops has a BusProcesses as its
 * userdata. */
extern const ProcessesOps bus_processes_ops;

int bus_processes_setup(BusProcesses *b, sd_bus *bus, Processes *ps);
