/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.cnd.Connector1.Id, one object per known id under /org/cnd/Connector1/id (bus-id.c). */

#include <linux/connector.h>

#include "idtable.h"

typedef struct Manager Manager;

int bus_id_setup(Manager *m);
int bus_id_emit_added(Manager *m, const CnId *id);
int bus_id_emit_removed(Manager *m, const CnId *id);
int bus_id_emit_registration_changed(Manager *m, const CnId *id);
int bus_id_emit_message(Manager *m, const CnId *id, const struct cn_msg *msg);
