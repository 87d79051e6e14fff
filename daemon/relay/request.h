/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Outstanding Request calls: each waits, without blocking the loop, for the reply the connector
 * protocol defines (same id, same seq, ack + 1), its timeout, or its caller leaving the bus. */

#include <linux/connector.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cnd-bus-names.h"

typedef struct Request Request;

/* Whether msg answers a request to its id that carried seq and ack. */
typedef bool (*RequestReplyMatcher)(const struct cn_msg *msg, uint32_t seq, uint32_t ack);

typedef struct RequestTable {
        sd_event *event;
        Request *head, *tail;   /* oldest first */
        unsigned n;
        unsigned max;
        sd_bus_slot *owner_match;       /* NameOwnerChanged: callers leaving the bus */
} RequestTable;

void request_table_init(RequestTable *t, sd_event *event, unsigned max);
/* Drops every request; their callers get an error reply. */
void request_table_done(RequestTable *t);

static inline bool request_table_full(const RequestTable *t) {
        return t->n >= t->max;
}

/* Starts waiting for the reply to a message just sent with (seq, ack). The reply to the call
 * is sent from here, whatever the outcome. is_reply may be NULL for the connector protocol's
 * rule: same id and seq, ack + 1. */
int request_table_add(RequestTable *t, sd_bus_message *call, uint32_t idx, uint32_t val,
                      uint32_t seq, uint32_t ack, RequestReplyMatcher is_reply, uint64_t timeout_usec);

/* Offers an accepted message to the waiting requests; a request it answers gets its reply and
 * goes. Returns true if it answered one. */
bool request_table_offer(RequestTable *t, const struct cn_msg *msg);
