/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/bus/bus-limits.c over a socketpair, the client end standing in for the bus
 * that tells each caller's uid (GetConnectionUnixUser; here the uid is the first number of the
 * name, ":1000.3" is uid 1000's): a burst of public reads goes through up to the budget and is
 * refused with LimitsExceeded past it; the budget is the user's, so its other and new
 * connections find it spent while another user's is whole; a connection makes a few calls
 * before its uid is known and no more; the readers', the admins' and the public budgets are
 * separate; the users remembered and the questions in flight are bounded; calls of no budget
 * are never counted, and the refusals are. */

#include <stdio.h>
#include <stdlib.h>

#include "bus-limits.h"
#include "bus-pair.h"
#include "cnd-bus-names.h"
#include "util.h"

/* Far more than the refill in the seconds a slow machine could take (CALLS_PER_SEC). */
#define EXTRA 1000
#define HELD_MAX 256

typedef struct Test {
        BusPair p;
        CallLimiter *l;
        unsigned n, limited, wanted;
        bool done;
        bool hold;                              /* the stand-in bus keeps its answers */
        sd_bus_message *held[HELD_MAX];
        unsigned n_held;
} Test;

static int answer_uid(sd_bus_message *call) {
        const char *name;

        CHECK(sd_bus_message_read(call, "s", &name) >= 0);
        return sd_bus_reply_method_return(call, "u", (uint32_t) strtoul(name + 1, NULL, 10));
}

static int method_get_uid(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        Test *t = userdata;

        if (!t->hold)
                return answer_uid(call);
        CHECK(t->n_held < HELD_MAX);
        t->held[t->n_held++] = sd_bus_message_ref(call);
        return 1;
}

static const sd_bus_vtable dbus_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("GetConnectionUnixUser", "s", "u", method_get_uid, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static void release_held(Test *t) {
        t->hold = false;
        for (unsigned i = 0; i < t->n_held; i++) {
                CHECK(answer_uid(t->held[i]) >= 0);
                sd_bus_message_unref(t->held[i]);
        }
        t->n_held = 0;
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Test *t = userdata;

        if (sd_bus_message_is_method_error(reply, CND_ERROR_LIMITS_EXCEEDED))
                t->limited++;
        t->done = ++t->n == t->wanted;
        return 0;
}

/* Sends n calls from sender, then waits for all their replies and for the uid lookups (unless
 * held). Returns how many were refused. */
static unsigned call(Test *t, const char *sender, const char *iface, const char *member, unsigned n) {
        t->n = t->limited = 0;
        t->wanted = n;
        t->done = false;
        for (unsigned i = 0; i < n; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                CHECK(sd_bus_message_new_method_call(t->p.client, &m, NULL, "/org/example", iface, member) >= 0);
                CHECK(sd_bus_message_set_sender(m, sender) >= 0);
                if (streq(member, "Get"))
                        CHECK(sd_bus_message_append(m, "ss", "org.example", "Thing") >= 0);
                CHECK(sd_bus_call_async(t->p.client, NULL, m, on_reply, t, 0) >= 0);
        }
        bus_pair_run_until(&t->p, &t->done);
        for (unsigned i = 0; i < 100 && !t->hold && call_limiter_lookups(t->l) > 0; i++)
                CHECK(sd_event_run(t->p.event, 1000) >= 0);
        return t->limited;
}

#define PROPERTIES "org.freedesktop.DBus.Properties"
#define IFACE_INTRO "org.freedesktop.DBus.Introspectable"

static void test_one_budget_per_user(Test *t) {
        uint64_t refused = call_limiter_refused(t->l);
        unsigned limited;
        char name[32];

        /* Once the uid is known, a burst past the budget: the budget's worth goes through, the
         * rest is refused. */
        CHECK_EQ_INT(call(t, ":1000.1", PROPERTIES, "Get", 1), 0);
        limited = call(t, ":1000.1", PROPERTIES, "Get", CALLS_BURST + EXTRA);
        CHECK(limited > 0);
        CHECK(limited <= EXTRA + 1);
        CHECK_EQ_INT(call_limiter_refused(t->l), refused + limited);

        /* The same user's calls of no budget are never limited. */
        CHECK_EQ_INT(call(t, ":1000.1", "org.example", "DoSomething", 10), 0);

        /* New connections of the same user: a call each while the uid is asked for, then the
         * user's spent budget. What it earns back meanwhile (CALLS_PER_SEC) is some calls on a
         * slow machine, not most: with a budget per connection none would be refused. */
        limited = 0;
        for (unsigned c = 2; c < 50; c++) {
                snprintf(name, sizeof(name), ":1000.%u", c);
                CHECK_EQ_INT(call(t, name, IFACE_INTRO, "Introspect", 1), 0);
                limited += call(t, name, IFACE_INTRO, "Introspect", 10);
        }
        CHECK(limited > 48 * 10 / 2);

        /* Another user has a budget of its own. */
        CHECK_EQ_INT(call(t, ":2000.1", IFACE_INTRO, "Introspect", 10), 0);
        CHECK_EQ_INT(call(t, ":2000.1", IFACE_INTRO, "Introspect", 10), 0);
}

static void test_budgets_separate(Test *t) {
        unsigned limited = 0;

        /* A reader's flood spends its readers' budget alone. */
        CHECK_EQ_INT(call(t, ":3000.1", CND_PROCESSES_IFACE, "GetProcess", 1), 0);
        CHECK(call(t, ":3000.1", CND_PROCESSES_IFACE, "GetProcess", CALLS_BURST + EXTRA) > 0);
        CHECK_EQ_INT(call(t, ":3000.1", CND_MANAGER_IFACE, "Send", 10), 0);
        CHECK_EQ_INT(call(t, ":3000.2", PROPERTIES, "GetAll", 10), 0);
        CHECK(call(t, ":3000.2", CND_PROCESSES_IFACE, "ListProcesses", 100) > 50);

        /* An admin's runaway script spends the admins' budget alone. */
        CHECK_EQ_INT(call(t, ":4000.1", CND_MANAGER_IFACE, "Send", 1), 0);
        for (unsigned i = 0; i < 6; i++)        /* in parts: bus_pair_run_until()'s bound */
                limited += call(t, ":4000.1", CND_MANAGER_IFACE, "Send", (5 * CALLS_BURST + EXTRA) / 6);
        CHECK(limited > 0);
        CHECK_EQ_INT(call(t, ":4000.1", CND_PROCESSES_IFACE, "GetProcess", 10), 0);
        CHECK_EQ_INT(call(t, ":4000.1", PROPERTIES, "Get", 10), 0);
}

static void test_before_the_uid(Test *t) {
        char name[32];

        /* While the bus has not answered, a connection makes CALLS_BEFORE_UID calls and no more. */
        t->hold = true;
        CHECK_EQ_INT(call(t, ":5000.1", PROPERTIES, "Get", CALLS_BEFORE_UID + 10), 10);
        CHECK_EQ_INT(call_limiter_lookups(t->l), 1);

        /* Questions in flight are bounded: past LOOKUPS_MAX, new connections still make their
         * calls, and ask at their next. */
        for (unsigned c = 2; c < LOOKUPS_MAX + 50; c++) {
                snprintf(name, sizeof(name), ":5000.%u", c);
                CHECK_EQ_INT(call(t, name, IFACE_INTRO, "Introspect", 1), 0);
        }
        CHECK_EQ_INT(call_limiter_lookups(t->l), LOOKUPS_MAX);
        release_held(t);
        for (unsigned i = 0; i < 100 && call_limiter_lookups(t->l) > 0; i++)
                CHECK(sd_event_run(t->p.event, 1000) >= 0);
        CHECK_EQ_INT(call_limiter_lookups(t->l), 0);
}

/* Root has no budget; AcquireStream spends the public one. */
static void test_root_and_streams(Test *t) {
        CHECK_EQ_INT(call(t, ":0.1", PROPERTIES, "Get", 1), 0);
        for (unsigned i = 0; i < 4; i++)
                CHECK_EQ_INT(call(t, ":0.1", PROPERTIES, "Get", CALLS_BURST), 0);

        CHECK_EQ_INT(call(t, ":6000.1", CND_MANAGER_IFACE, "AcquireStream", 1), 0);
        CHECK(call(t, ":6000.1", CND_MANAGER_IFACE, "AcquireStream", CALLS_BURST + EXTRA) > 0);
        CHECK(call(t, ":6000.1", PROPERTIES, "Get", 10) > 0);
        CHECK_EQ_INT(call(t, ":6000.1", CND_MANAGER_IFACE, "Send", 10), 0);
}

static void test_users_bounded(Test *t) {
        char name[32];

        for (unsigned u = 0; u < 2 * USERS_MAX; u++) {
                snprintf(name, sizeof(name), ":%u.1", 10000 + u);
                CHECK_EQ_INT(call(t, name, PROPERTIES, "GetAll", 1), 0);
        }
        CHECK_EQ_INT(call_limiter_users(t->l), USERS_MAX);
}

int main(void) {
        Test t = {};

        bus_pair_open(&t.p);
        CHECK(call_limiter_new(&t.l, t.p.event) >= 0);
        CHECK(call_limiter_attach(t.l, t.p.server, NULL) >= 0);
        CHECK(sd_bus_add_object_vtable(t.p.client, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       dbus_vtable, &t) >= 0);
        CHECK_EQ_INT(call_limiter_refused(t.l), 0);
        CHECK_EQ_INT(call_limiter_refused(NULL), 0);

        test_one_budget_per_user(&t);
        test_budgets_separate(&t);
        test_before_the_uid(&t);
        test_root_and_streams(&t);
        test_users_bounded(&t);

        call_limiter_free(t.l);
        bus_pair_close(&t.p);
        return EXIT_SUCCESS;
}
