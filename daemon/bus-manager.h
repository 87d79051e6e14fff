/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.cnd.Connector1.Manager on /org/cnd/Connector1 (bus-manager.c). */

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus-access.h"
#include "bus-limits.h"
#include "family-table.h"
#include "idtable.h"
#include "loss.h"
#include "request.h"
#include "streams.h"

/* What the object's methods ask of the Manager; userdata is the Manager's own. */
typedef struct BusManagerOps {
        /* Re-reads the configuration; on a parse error keeps the old one, the text in *error. */
        int (*reload)(void *userdata, char **error);
        /* JoinGroup and LeaveGroup. */
        int (*join_group)(void *userdata, unsigned group);
        int (*leave_group)(void *userdata, unsigned group);
        /* Reads /proc/net/connector now and applies the difference. */
        int (*scan_ids)(void *userdata);
        /* Unicasts one cn_msg to the kernel with new_seq_ack()'s values; returns them. */
        int (*send)(void *userdata, uint32_t idx, uint32_t val, const void *data, size_t size,
                    uint32_t *ret_seq, uint32_t *ret_ack);
        void (*new_seq_ack)(void *userdata, uint32_t *ret_seq, uint32_t *ret_ack);
} BusManagerOps;

/* What the object is handed instead of the Manager, which owns it: every pointer is the
 * Manager's own (call_limiter points at its field, set once cnd starts up). */
typedef struct BusManager {
        sd_bus *bus;                            /* NULL until cnd is connected */
        const uint32_t *groups;                 /* groups joined now, bit g-1 for group g */
        IdTable *ids;
        Loss *loss;
        RequestTable *requests;
        AccessChecks *access;
        CallLimiter *const *call_limiter;
        FamilyContext *families;
        Streams *streams;
        const BusManagerOps *ops;
        void *userdata;                         /* the ops' */
} BusManager;

int bus_manager_setup(BusManager *b);
int bus_manager_emit_id_added(BusManager *b, const CnId *id);
int bus_manager_emit_id_removed(BusManager *b, const CnId *id);
int bus_manager_emit_ids_changed(BusManager *b);
int bus_manager_emit_groups_changed(BusManager *b);
/* Loss's on_overrun; userdata is a BusManager. */
void bus_manager_emit_overrun(uint64_t kernel_dropped, uint64_t bus_dropped, void *userdata);
