/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Manager owns the event loop, the bus connection, the connector socket and the
 * configuration, and wires the parts that each own their state: the id table (idtable.c), the
 * loss accounting (loss.c), batching (batch.c), waiting requests (request.c), the families
 * (family.h) and admin checks (bus-access.c). Data flows socket -> cnmsg -> family -> bus. */

#include <linux/connector.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "batch.h"
#include "bus-access.h"
#include "bus-id.h"
#include "bus-limits.h"
#include "bus-manager.h"
#include "cnd-bus-names.h"
#include "conf.h"
#include "family.h"
#include "idtable.h"
#include "log.h"
#include "loss.h"
#include "netlink.h"
#include "relay.h"
#include "request.h"
#include "streams.h"
#include "test-hooks.h"

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        Netlink *netlink;

        sd_event_source *netlink_source;
        sd_event_source *scan_timer;            /* every ScanIntervalSec */
        sd_event_source *rescan_timer;          /* soon, after a message from an unknown id */

        /* Where the configuration comes from, for reloads. */
        char *config_file;
        bool config_must_exist;
        bool use_dropins;
        Config config;

        const char *connector_list_path;        /* /proc/net/connector, or a test's file */
        IdTable ids;
        uint64_t last_scan_usec;

        uint32_t groups;                        /* groups joined now, bit g-1 for group g */
        uint32_t left_at_runtime;               /* configured groups an admin left by LeaveGroup */
        uint32_t failed_groups;                 /* groups the kernel would not let us join */

        Loss loss;
        Batcher batcher;
        RequestTable requests;
        Streams streams;                        /* the sockets AcquireStream handed out */
        FamilyContext families;                 /* what the families are handed (family.h) */
        BusIds bus_ids;                         /* what the Id objects are handed (bus-id.c) */
        BusManager bus_manager;                 /* what the Manager object is handed (bus-manager.c) */
        Relay relay;                            /* what the socket's handler is handed (relay.c) */
        RelayTurn relay_turn;                   /* the socket read between bus messages (relay-turn.c) */

        AccessChecks access;                    /* admin and reader checks (bus-access.c) */
        CallLimiter *call_limiter;              /* budgets of the calls anyone may make (bus-limits.c) */

        uint32_t send_seq;                      /* seq of the next message cnd sends */
        bool stopped;                           /* manager_stop() ran */

        RateLimit reopen_limit;
        RateLimit log_rejected;
        RateLimit log_netlink_error;
        TestHooks test_hooks;
} Manager;

int manager_new(Manager **ret, const char *config_file, bool config_must_exist, bool use_dropins,
                Config *config);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

int manager_startup(Manager *m);
int manager_run(Manager *m);

/* Re-reads the configuration and applies it; on a parse error keeps the old one and returns
 * the error text in *error. */
int manager_reload(Manager *m, char **error);

/* Group membership; both are no-ops if nothing changes. Group 1 also (un)subscribes cn_proc. */
int manager_join_group(Manager *m, unsigned group);
int manager_leave_group(Manager *m, unsigned group);
/* JoinGroup and LeaveGroup: the same, and a configured group an admin left stays left across
 * reloads until an admin joins it again. */
int manager_join_group_at_runtime(Manager *m, unsigned group);
int manager_leave_group_at_runtime(Manager *m, unsigned group);

/* Sends STATUS= with what cnd is doing and any cn_proc error. */
void manager_notify_status(Manager *m);

/* Reads /proc/net/connector now and applies the difference. */
int manager_scan_ids(Manager *m);

/* The next seq of cnd's and a random ack, as the connector protocol recommends. */
void manager_new_seq_ack(Manager *m, uint32_t *ret_seq, uint32_t *ret_ack);

/* Unicasts one cn_msg to the kernel with manager_new_seq_ack()'s values; returns them. */
int manager_send(Manager *m, uint32_t idx, uint32_t val, const void *data, size_t size,
                 uint32_t *ret_seq, uint32_t *ret_ack);

uint64_t manager_now_usec(Manager *m);

/* The Manager object's BusManager, from m's own fields (m->bus as it is now). */
void manager_fill_bus_manager(Manager *m);
/* Every object cnd serves, on m->bus: the daemon's connection and --bus-introspect's alike. */
int manager_bus_objects_setup(Manager *m);

/* Rescans /proc/net/connector soon (rate-limited): a message came from an unknown id. */
void manager_request_rescan(Manager *m);

/* After a socket error other than ENOBUFS: a new socket, the same groups and subscriptions. */
int manager_reopen_netlink(Manager *m, int error);
