/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Connector families: the kernel users whose messages cnd understands beyond relaying them —
 * cn_proc (family-proc.c) and the id-notification protocol (family-notify.c). Each is one file
 * with one entry in the table in family-table.c; the Manager and the relay call the hooks and
 * know nothing else of them. Every hook may be NULL. A family's state is allocated by
 * family-table.c (state_size bytes, zeroed) and handed to each hook. This header is what a
 * family sees: the hooks and what they are handed, not the table. */

#include <linux/connector.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-access.h"
#include "conf.h"
#include "idtable.h"
#include "log.h"
#include "loss.h"
#include "streams.h"
#include "test-hooks.h"

/* Families in the table of family-table.c, at most. */
#define FAMILIES_MAX 8

/* What a family asks of the daemon; the Manager fills them, userdata is its own. */
typedef struct FamilyOps {
        /* Unicasts one cn_msg to the kernel with new_seq_ack()'s values; returns them. */
        int (*send)(void *userdata, uint32_t idx, uint32_t val, const void *data, size_t size,
                    uint32_t *ret_seq, uint32_t *ret_ack);
        /* The next seq of cnd's and a random ack, as the connector protocol recommends. */
        void (*new_seq_ack)(void *userdata, uint32_t *ret_seq, uint32_t *ret_ack);
        /* What STATUS= says has changed (a family's status). */
        void (*status_changed)(void *userdata);
        /* /proc/net/connector is to be read again soon (rate-limited). */
        void (*request_rescan)(void *userdata);
        /* The Manager's Ids property changed. */
        void (*ids_changed)(void *userdata);
} FamilyOps;

/* What the families are handed instead of the Manager, which owns it and keeps it true: every
 * pointer is the Manager's own (a reload swaps the Config behind config). */
typedef struct FamilyContext {
        sd_event *event;
        sd_bus *bus;                            /* set by families_bus_setup(), NULL before */
        Loss *loss;
        const Config *config;
        IdTable *ids;
        const uint32_t *groups;                 /* groups joined now, bit g-1 for group g */
        AccessChecks *access;
        Streams *streams;                       /* process records go to them too */
        RateLimit *log_rejected;
        const TestHooks *test_hooks;
        const FamilyOps *ops;
        void *userdata;                         /* the ops' */
        void *state[FAMILIES_MAX];              /* by index in the family table */
} FamilyContext;

/* The answer that a family's own exchange with the kernel brought back. */
typedef struct FamilyReply {
        bool answered;
        uint32_t seq, ack;
        uint16_t size;
        uint8_t data[CONNECTOR_MAX_MSG_SIZE];
} FamilyReply;

typedef struct Family {
        const char *name;
        size_t state_size;

        /* Sets up the state (no I/O yet) and frees what it holds. */
        int (*init)(FamilyContext *ctx, void *state);
        void (*done)(void *state);
        /* Registers its D-Bus objects on ctx->bus. */
        int (*bus_setup)(FamilyContext *ctx, void *state);

        /* The groups its configuration needs joined, besides [Connector] Groups=. */
        uint32_t (*groups)(const Config *c);
        /* cnd joined a group / is about to leave one. */
        void (*joined)(FamilyContext *ctx, void *state, unsigned group);
        void (*leaving)(FamilyContext *ctx, void *state, unsigned group);
        /* A new connector socket (at start-up or after a failure): subscribe again. */
        void (*subscribe)(FamilyContext *ctx, void *state);
        /* cnd is stopping, its socket still open: undo what subscribe did. */
        void (*unsubscribe)(FamilyContext *ctx, void *state);
        /* The configuration was reloaded; old is the one before. */
        void (*reconfigured)(FamilyContext *ctx, void *state, const Config *old);
        /* A scan of /proc/net/connector found these ids registered. */
        void (*scanned)(FamilyContext *ctx, void *state, const ConnectorEntry *entries, size_t n);

        /* A frame of the family's own protocol on group, which is not to be relayed (an id
         * notification): returns true if it took msg. */
        bool (*intercept)(FamilyContext *ctx, void *state, unsigned group, const struct cn_msg *msg);

        /* The ids whose messages it decodes. */
        bool (*decodes)(uint32_t idx, uint32_t val);
        /* An accepted message of such an id: publishes what it decodes to, if may_signal.
         * Returns negative if that could not go out (the message counts as lost), 0 if the
         * raw Message is not to go out as well, 1 if it is. */
        int (*decode)(FamilyContext *ctx, void *state, const struct cn_msg *msg, bool may_signal);
        /* Whether msg answers a request to such an id that carried seq and ack; without this
         * hook, the connector protocol's rule (same id and seq, ack + 1) applies. */
        bool (*is_reply)(const struct cn_msg *msg, uint32_t seq, uint32_t ack);
        /* Sends a client's message (Send, Request) to such an id itself, with the seq and ack
         * cnd chose, instead of on cnd's socket; fills *reply if the kernel's answer came back
         * with it. Without this hook the message goes out on cnd's socket and an answer is
         * awaited there. */
        int (*client_send)(FamilyContext *ctx, void *state, const void *data, size_t size, uint32_t seq,
                           uint32_t ack, FamilyReply *reply);

        /* The end of a batch read from the socket, after loss_check(): the loss counters
         * are fresh. */
        void (*batch_done)(FamilyContext *ctx, void *state);

        /* What it has to add to STATUS= (an error, say), or NULL. */
        const char *(*status)(void *state);
} Family;
