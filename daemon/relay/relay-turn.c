/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The connector socket's source sits below the bus's, so that method calls are answered under
 * a flood of kernel messages. But sd-event runs one source per iteration, the highest pending,
 * and sd-bus handles one message per dispatch: a bus that always has a message waiting — a
 * sustained flood of calls, even of calls refused at once — would keep the socket unread
 * until the kernel drops what it cannot queue, and cn_proc's table has to resync. So the
 * messages handled from the bus are counted, and once RELAY_TURN_EVERY of them have gone by
 * since the relay last ran, the socket's source is put above the bus's until it runs: it goes
 * next if it has data, or as soon as it has. Each turn reads up to a few batches
 * (relay_on_netlink_io()), so the relay keeps its pace whatever comes from the bus. */

#include "netlink.h"
#include "relay-turn.h"

void relay_turn_init(RelayTurn *t, sd_event_source *const *source, unsigned every) {
        *t = (RelayTurn) {
                .source = source,
                .every = every,
        };
}

static int on_bus_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        RelayTurn *t = userdata;

        if (++t->bus_messages < t->every || t->raised || !*t->source)
                return 0;
        if (sd_event_source_set_priority(*t->source, SD_EVENT_PRIORITY_NORMAL - 1) >= 0) {
                t->raised = true;
                t->turns++;
        }
        return 0;
}

int relay_turn_attach(RelayTurn *t, sd_bus *bus) {
        return sd_bus_add_filter(bus, NULL, on_bus_message, t);
}

void relay_turn_taken(RelayTurn *t) {
        t->bus_messages = 0;
        if (t->raised && *t->source)
                (void) sd_event_source_set_priority(*t->source, NETLINK_SOURCE_PRIORITY);
        t->raised = false;
}
