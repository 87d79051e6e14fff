/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "log.h"
#include "test-hooks.h"

#if CND_TEST_HOOKS
void test_hooks_load(TestHooks *h) {
        const char *e;

        *h = (TestHooks) {};
        h->connector_list = secure_getenv("CND_TEST_CONNECTOR_LIST");
        if (h->connector_list)
                log_notice("Test hook: reading connector ids from %s.", h->connector_list);
        e = secure_getenv("CND_TEST_PROC_LISTEN_OP");
        if (e)
                h->proc_listen_op = (uint32_t) strtoul(e, NULL, 0);
        e = secure_getenv("CND_TEST_NETLINK_READ_FAULT");
        if (e)
                h->read_fault = strtoul(e, NULL, 0);
        e = secure_getenv("CND_TEST_PROCESS_QUEUE_MAX");
        if (e)
                h->process_queue_max = strtoul(e, NULL, 0);
        e = secure_getenv("CND_TEST_LIST_PROCESSES_MAX");
        if (e)
                h->list_processes_max = strtoul(e, NULL, 0);
        e = secure_getenv("CND_TEST_PAUSE_SOCKET_USEC");
        if (e)
                h->pause_socket_usec = strtoul(e, NULL, 0);
        e = secure_getenv("CND_TEST_UNIT_LOOKUP");
        if (e && streq(e, "1")) {
                h->unit_lookup = true;
                log_notice("Test hook: looking up units without systemd.");
        }
}
#endif
