/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Who may call the admin methods and those of org.cnd.Connector1.Processes (bus-access.c):
 * the bus's answer about a caller, asked for asynchronously, and the calls waiting for it. */

#include <systemd/sd-bus.h>

#include "conf.h"
#include "log.h"

typedef enum BusAccess {
        BUS_ACCESS_ADMIN,       /* root or [Bus] AdminGroup= */
        BUS_ACCESS_READER,      /* root or [Processes] ReaderGroup= */
        _BUS_ACCESS_MAX,
} BusAccess;

/* Checked calls of each access waiting for the bus's answer at once: readers and admins each
 * have their own share, so that a reader's flood of GetProcess cannot make an admin's call
 * fail, nor the reverse. */
#define ACCESS_QUERIES_MAX 512

typedef struct AdminQuery AdminQuery;

typedef struct AccessChecks {
        const Config *config;           /* the daemon's, whichever is current: the groups */
        AdminQuery *queries;            /* checked calls waiting for the bus's answer */
        unsigned n_queries[_BUS_ACCESS_MAX];    /* waiting, by access */
        RateLimit log_no_groups;
} AccessChecks;

void access_checks_init(AccessChecks *a, const Config *config);
/* Drops the calls still waiting, unanswered. */
void access_checks_done(AccessChecks *a);

/* 1: the caller may use the methods of that access, go on. 0: the question went to the bus; the
 * handler returns 1 and runs again with the same call when the answer is in. Negative:
 * AccessDenied (or LimitsExceeded) is set in *error. */
int bus_verify_access_async(AccessChecks *a, sd_bus_message *call, BusAccess access, sd_bus_error *error);
/* As bus_verify_access_async(), for a method anyone may call that needs to know who calls:
 * 1 with the caller's uid and whether it is root or a member of [Processes] ReaderGroup=. */
int bus_identify_caller_async(AccessChecks *a, sd_bus_message *call, uid_t *ret_uid, bool *ret_reader,
                              sd_bus_error *error);
/* Whether call is a checked call run again with the bus's answer (it was charged to its user's
 * budget when it first arrived: bus-limits.c charges it once). */
bool access_checks_rerun(const AccessChecks *a, sd_bus_message *call);
static inline int bus_verify_admin_async(AccessChecks *a, sd_bus_message *call, sd_bus_error *error) {
        return bus_verify_access_async(a, call, BUS_ACCESS_ADMIN, error);
}
