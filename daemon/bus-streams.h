/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* AcquireStream, the method of org.cnd.Connector1.Manager that hands out a stream
 * (bus-streams.c); the Manager object's vtable calls it. */

#include <systemd/sd-bus.h>

#include "bus-access.h"
#include "streams.h"

/* The handler's body: reads the options, asks the bus who calls, opens the stream and replies
 * with its client's end. Returns as an sd-bus method handler does. */
int bus_streams_acquire(Streams *st, AccessChecks *access, sd_bus_message *call, sd_bus_error *error);
