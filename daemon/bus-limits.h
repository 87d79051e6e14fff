/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Limits what any client may ask of cnd per connection (bus-limits.c): a budget of the calls
 * anyone may make, kept per sender. */

#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "util.h"

typedef struct CallLimiter CallLimiter;

/* The limiter reads the time from event's clock. */
int call_limiter_new(CallLimiter **ret, sd_event *event);
CallLimiter *call_limiter_free(CallLimiter *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(CallLimiter *, call_limiter_free);

/* Filters every incoming call on bus through the limiter, which must outlive the bus. */
int call_limiter_attach(CallLimiter *l, sd_bus *bus);

/* The calls refused so far; 0 for NULL. */
uint64_t call_limiter_refused(const CallLimiter *l);
