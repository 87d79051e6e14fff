/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Limits what a client may ask of cnd (bus-limits.c): budgets of calls per user, one for the
 * reads anyone may make, one for readers' and one for admins' methods. */

#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-access.h"
#include "util.h"

/* A user's budget of public reads, and of readers' methods: a burst, then a rate (admins get
 * five times both). */
#define CALLS_PER_SEC 200
#define CALLS_BURST 400
/* Calls of each budget a connection may make before the bus has told its uid; charged to the
 * user when it has. */
#define CALLS_BEFORE_UID 32
/* Connections and users remembered, and questions to the bus in flight, at once. */
#define SENDERS_MAX 1024
#define USERS_MAX 128
#define LOOKUPS_MAX 64

typedef struct CallLimiter CallLimiter;

/* The limiter reads the time from event's clock. */
int call_limiter_new(CallLimiter **ret, sd_event *event);
CallLimiter *call_limiter_free(CallLimiter *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(CallLimiter *, call_limiter_free);

/* Filters every incoming call on bus through the limiter, which must outlive the bus. A call
 * that access checks run again with the bus's answer is not charged a second time. */
int call_limiter_attach(CallLimiter *l, sd_bus *bus, const AccessChecks *access);

/* The calls refused so far; 0 for NULL. */
uint64_t call_limiter_refused(const CallLimiter *l);
/* Users remembered, and questions about callers' uids waiting for the bus, now. */
unsigned call_limiter_users(const CallLimiter *l);
unsigned call_limiter_lookups(const CallLimiter *l);
