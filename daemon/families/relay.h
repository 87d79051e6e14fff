/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The relay (relay.c): the connector socket's event handler. Reads what the socket holds and
 * hands each frame on: to a family, to waiting requests, to the streams, to the bus; then
 * flushes the batches and the streams and reports loss. userdata is a Relay. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "batch.h"
#include "bus-id.h"
#include "conf.h"
#include "family-table.h"
#include "idtable.h"
#include "log.h"
#include "loss.h"
#include "netlink.h"
#include "relay-turn.h"
#include "request.h"
#include "streams.h"
#include "test-hooks.h"

/* What the relay asks of the Manager; userdata is the Manager's own. */
typedef struct RelayOps {
        /* /proc/net/connector is to be read again soon (rate-limited): a message came from an
         * id not known to be registered. */
        void (*request_rescan)(void *userdata);
        /* The socket failed with error (not ENOBUFS): a new socket, the same groups. */
        int (*reopen)(void *userdata, int error);
} RelayOps;

/* What the relay is handed instead of the Manager, which owns it: every pointer is the
 * Manager's own (netlink points at its socket, which a reopen replaces). */
typedef struct Relay {
        Netlink *const *netlink;
        Loss *loss;
        IdTable *ids;
        Batcher *batcher;
        RequestTable *requests;
        FamilyContext *families;
        BusIds *bus_ids;
        Streams *streams;
        const Config *config;
        TestHooks *test_hooks;
        RateLimit *log_rejected;
        RateLimit *log_netlink_error;
        RelayTurn *turn;                /* counts the bus's messages between reads */
        const RelayOps *ops;
        void *userdata;                 /* the ops' */
        bool rescan_wanted;             /* a message of an id not known as registered, this batch */
} Relay;

int relay_on_netlink_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);
