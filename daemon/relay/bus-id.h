/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.cnd.Connector1.Id, one object per known id under /org/cnd/Connector1/id (bus-id.c). */

#include <linux/connector.h>
#include <systemd/sd-bus.h>

#include "idtable.h"
#include "loss.h"

/* What the Id objects work with, handed by the Manager, which owns it: the bus (NULL until cnd
 * is connected), the id table they show and the loss accounting their Message signals go
 * through. */
typedef struct BusIds {
        sd_bus *bus;
        IdTable *ids;
        Loss *loss;
} BusIds;

int bus_id_setup(BusIds *b);
int bus_id_emit_added(BusIds *b, const CnId *id);
int bus_id_emit_removed(BusIds *b, const CnId *id);
int bus_id_emit_registration_changed(BusIds *b, const CnId *id);
int bus_id_emit_message(BusIds *b, const CnId *id, const struct cn_msg *msg);
