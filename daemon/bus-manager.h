/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.cnd.Connector1.Manager on /org/cnd/Connector1 (bus-manager.c), and the setup of every
 * object cnd serves. */

#include <stdint.h>

#include "idtable.h"

typedef struct Manager Manager;

/* Every object cnd serves, on m->bus: the daemon's connection and --bus-introspect's alike. */
int bus_objects_setup(Manager *m);
int bus_manager_setup(Manager *m);
int bus_manager_emit_id_added(Manager *m, const CnId *id);
int bus_manager_emit_id_removed(Manager *m, const CnId *id);
int bus_manager_emit_ids_changed(Manager *m);
int bus_manager_emit_groups_changed(Manager *m);
void bus_manager_emit_overrun(uint64_t kernel_dropped, uint64_t bus_dropped, void *userdata);
