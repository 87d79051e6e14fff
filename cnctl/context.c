/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What every verb is handed: the bus, opened when a verb first needs it. */

#include "bus-util.h"
#include "context.h"

sd_bus *cnctl_bus(Cnctl *c) {
        if (!c->bus && cnctl_bus_open(&c->bus) < 0)
                return NULL;
        return c->bus;
}
