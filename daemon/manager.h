/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The Manager owns the event loop, the bus connection, the connector socket, the id table and
 * the configuration, and wires them: socket -> cnmsg -> bus. */

#include <linux/connector.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cnd-bus-names.h"
#include "conf.h"
#include "idtable.h"
#include "log.h"
#include "netlink.h"
#include "proc.h"
#include "request.h"

typedef struct AdminQuery AdminQuery;

/* The estimated bytes of cnd's signals in sd-bus's write queue (relay.c). */
typedef struct QueueWeight {
        uint32_t *sizes;                        /* FIFO ring */
        size_t capacity, head, len;
        uint64_t bytes;
} QueueWeight;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        Netlink *netlink;

        sd_event_source *netlink_source;
        sd_event_source *scan_timer;            /* every ScanIntervalSec */
        sd_event_source *rescan_timer;          /* soon, after a message from an unknown id */
        sd_event_source *overrun_timer;         /* paces the Overrun signal */

        /* Where the configuration comes from, for reloads. */
        char *config_file;
        bool config_must_exist;
        bool use_dropins;
        Config config;

        const char *connector_list_path;        /* /proc/net/connector, or a test's file */
        IdTable ids;
        CnId **batch_pending;                   /* ids with a Messages signal being built */
        size_t n_batch_pending, batch_pending_allocated;
        RequestTable requests;
        ProcState proc;
        uint32_t groups;                        /* groups joined now, bit g-1 for group g */
        uint32_t left_at_runtime;               /* configured groups an admin left by LeaveGroup */
        uint32_t failed_groups;                 /* groups the kernel would not let us join */
        uint32_t notify_group;                  /* where id notifications come, 0 = none */
        uint64_t last_scan_usec;

        /* Counters of org.cnd.Connector1(5); kernel drops are read from the socket on demand. */
        uint64_t received;
        uint64_t rejected;
        uint64_t bus_dropped;
        uint64_t overruns;
        uint64_t kernel_dropped;
        uint32_t kernel_drops_raw;              /* last SO_MEMINFO value, which wraps */

        /* Hysteresis on sd-bus's write queue: at MaxQueuedSignals cnd stops reading the socket
         * (see relay.c) until the queue is back under a quarter of it. */
        bool bus_congested;
        sd_event_source *drain_check;
        QueueWeight queue_weight;

        /* Totals carried by the last Overrun signal, and when it went out. */
        uint64_t overrun_signalled_usec;
        uint64_t signalled_kernel_dropped;
        uint64_t signalled_bus_dropped;

        uint32_t send_seq;                      /* seq of the next message cnd sends */
        bool stopped;                           /* manager_stop() ran */

        AdminQuery *admin_queries;              /* admin calls waiting for the bus's answer */
        unsigned n_admin_queries;

        RateLimit reopen_limit;
        unsigned long test_read_fault;          /* test hook CND_TEST_NETLINK_READ_FAULT */
        RateLimit log_rejected;
        RateLimit log_netlink_error;
        RateLimit log_bus_dropped;
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

/* Whether signals may go out now (see bus_congested). */
bool manager_may_send_signal(Manager *m);

/* Sends STATUS= with what cnd is doing and any cn_proc error. */
void manager_notify_status(Manager *m);

/* Reads /proc/net/connector now and applies the difference. */
int manager_scan_ids(Manager *m);

/* Whether the kernel has the id registered now, from a fresh scan. */
bool manager_id_registered(Manager *m, uint32_t idx, uint32_t val);

/* Unicasts one cn_msg to the kernel with the next seq of cnd's and a random ack, as the
 * connector protocol recommends; returns both. */
int manager_send(Manager *m, uint32_t idx, uint32_t val, const void *data, size_t size,
                 uint32_t *ret_seq, uint32_t *ret_ack);

uint64_t manager_now_usec(Manager *m);

/* Rescans /proc/net/connector soon (rate-limited): a message came from an unknown id. */
void manager_request_rescan(Manager *m);

/* After a socket error other than ENOBUFS: a new socket, the same groups and subscriptions. */
int manager_reopen_netlink(Manager *m, int error);

/* relay.c */
/* Folds the socket's drop counter into m->kernel_dropped. */
void manager_update_kernel_drops(Manager *m);
int relay_on_netlink_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);
int relay_on_overrun_timer(sd_event_source *s, uint64_t usec, void *userdata);
/* A signal carrying data_size bytes went into sd-bus's write queue. */
void relay_note_queued(Manager *m, size_t data_size);
/* After every loop iteration that dispatched something: resumes reading once the bus queue
 * has drained. */
int relay_on_post(sd_event_source *s, void *userdata);

/* bus-access.c */
/* 1: the caller may use admin methods (root or [Bus] AdminGroup=), go on. 0: the question went
 * to the bus; the handler returns 1 and runs again with the same call when the answer is in.
 * Negative: AccessDenied (or LimitsExceeded) is set in *error. */
int bus_verify_admin_async(Manager *m, sd_bus_message *call, sd_bus_error *error);
void bus_access_done(Manager *m);

/* bus-manager.c */
/* Every object cnd serves, on m->bus: the daemon's connection and --bus-introspect's alike. */
int bus_objects_setup(Manager *m);
int bus_manager_setup(Manager *m);
int bus_manager_emit_id_added(Manager *m, const CnId *id);
int bus_manager_emit_id_removed(Manager *m, const CnId *id);
int bus_manager_emit_ids_changed(Manager *m);
int bus_manager_emit_groups_changed(Manager *m);
int bus_manager_emit_overrun(Manager *m);

/* bus-id.c */
int bus_id_setup(Manager *m);
int bus_id_emit_added(Manager *m, const CnId *id);
int bus_id_emit_removed(Manager *m, const CnId *id);
int bus_id_emit_registration_changed(Manager *m, const CnId *id);
int bus_id_emit_message(Manager *m, const CnId *id, const struct cn_msg *msg);
/* Batched mode (BatchGroups=): adds a message to its id's Messages signal, sending that first
 * if the message would take it past 64 KiB. A negative return: this message is lost (and any
 * earlier ones of a batch that failed to send are counted in BusDroppedMessages). */
int bus_id_batch_append(Manager *m, CnId *id, const struct cn_msg *msg);
/* Sends every pending Messages signal. */
void bus_id_batch_flush_all(Manager *m);
/* Sends the id's pending batch, if any, and frees its batch state: the id is going. */
void bus_id_batch_free(Manager *m, CnId *id);
/* Frees the id's batch state without sending anything: cnd is going. */
void bus_id_batch_release(CnId *id);
