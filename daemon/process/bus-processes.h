/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.cnd.Connector1.Processes on /org/cnd/Connector1/processes (bus-processes.c): the process
 * table as signals, methods and counters. */

#include "processes.h"

typedef struct Manager Manager;

/* The table's signals as D-Bus signals: a Processes with these ops has the Manager as its
 * userdata. */
extern const ProcessesOps bus_processes_ops;

int bus_processes_setup(Manager *m, Processes *ps);
