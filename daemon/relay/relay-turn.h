/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The relay's turn (relay-turn.c): the connector socket is read at least once every
 * RELAY_TURN_EVERY messages from the bus, however busy the bus is. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

/* Bus messages handled in a row before the socket, if it has data, goes first. */
#define RELAY_TURN_EVERY 32

typedef struct RelayTurn {
        sd_event_source *const *source;         /* the socket's, whichever is current; may be NULL */
        unsigned every;
        unsigned bus_messages;                  /* since the relay last ran */
        bool raised;                            /* the socket is above the bus now */
        uint64_t turns;                         /* times it was put above the bus */
} RelayTurn;

void relay_turn_init(RelayTurn *t, sd_event_source *const *source, unsigned every);
/* Counts every message cnd handles from bus: attach before any filter that may consume one. */
int relay_turn_attach(RelayTurn *t, sd_bus *bus);
/* The relay runs: the count starts again and the socket goes back below the bus. */
void relay_turn_taken(RelayTurn *t);
