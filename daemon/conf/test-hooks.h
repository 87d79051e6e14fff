/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Faults that cannot be produced for real on the machines the tests run on, made by cnd itself
 * when a test asks through CND_TEST_* environment variables. Only a build configured with
 * meson -Dtest_hooks=true reads them; in any other build (the installed daemon) every hook is
 * inert and no CND_TEST_* variable is looked at. cnd(8) lists them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct TestHooks {
        /* CND_TEST_CONNECTOR_LIST=FILE: read the registered ids from FILE instead of
         * /proc/net/connector (a kernel without modules cannot register ids for a test). */
        const char *connector_list;
        /* CND_TEST_PROC_LISTEN_OP=N: send N instead of PROC_CN_MCAST_LISTEN in the 4-byte
         * subscription; the kernel answers an unknown op with an error ack. 0 = none. */
        uint32_t proc_listen_op;
        /* CND_TEST_NETLINK_READ_FAULT=N: the Nth read of the connector socket fails as a
         * broken socket would. 0 = none. */
        unsigned long read_fault;
        /* CND_TEST_PROCESS_QUEUE_MAX=N: hold at most N process events while their reads are
         * made (instead of PROCESS_QUEUE_MAX), so that a storm overflows it. 0 = the default. */
        unsigned long process_queue_max;
        /* CND_TEST_LIST_PROCESSES_MAX=N: ListProcesses answers TooLarge past N bytes (instead of
         * BUS_PROCESSES_LIST_MAX), so that a test reaches the bound with a table it can make
         * quickly. 0 = the default. */
        size_t list_processes_max;
        /* CND_TEST_PAUSE_SOCKET_USEC=N: leave the connector socket unread for N µs after start,
         * as an event loop busy elsewhere or a full bus queue would: cn_proc's answers to the
         * subscription wait in it past the probe's second. 0 = none. */
        unsigned long pause_socket_usec;
        /* CND_TEST_UNIT_LOOKUP=1: look up units, user units and machines although the system
         * was not booted with systemd (sd_booted() false, which makes cnd skip them): they
         * come from the path in /proc/PID/cgroup, so a cgroup tree made as a test's shows
         * them. */
        bool unit_lookup;
} TestHooks;

#if CND_TEST_HOOKS
void test_hooks_load(TestHooks *h);

static inline bool test_hook_read_fault(TestHooks *h) {
        return h->read_fault > 0 && --h->read_fault == 0;
}
#else
static inline void test_hooks_load(TestHooks *h) {
        *h = (TestHooks) {};
}

static inline bool test_hook_read_fault(TestHooks *h) {
        return false;
}
#endif
