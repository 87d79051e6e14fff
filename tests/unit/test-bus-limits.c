/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/bus-limits.c over a socketpair: a sender's burst of public reads goes
 * through up to its budget and is refused with LimitsExceeded past it, another sender has a
 * budget of its own, calls other than public reads are never counted, and the refusals are. */

#include "bus-limits.h"
#include "bus-pair.h"
#include "cnd-bus-names.h"
#include "util.h"

/* bus-limits.c's CALLS_BURST; the test sends this many more, far more than the refill in the
 * seconds a slow machine could take (CALLS_PER_SEC). */
#define BURST 400
#define EXTRA 1000

typedef struct Replies {
        unsigned n, limited, wanted;
        bool done;
} Replies;

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Replies *r = userdata;

        if (sd_bus_message_is_method_error(reply, CND_ERROR_LIMITS_EXCEEDED))
                r->limited++;
        r->done = ++r->n == r->wanted;
        return 0;
}

/* Sends n calls from sender, then waits for all their replies. */
static void call(BusPair *p, const char *sender, const char *iface, const char *member, unsigned n, Replies *r) {
        *r = (Replies) { .wanted = n };
        for (unsigned i = 0; i < n; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                CHECK(sd_bus_message_new_method_call(p->client, &m, NULL, "/org/example", iface, member) >= 0);
                CHECK(sd_bus_message_set_sender(m, sender) >= 0);
                if (streq(member, "Get"))
                        CHECK(sd_bus_message_append(m, "ss", "org.example", "Thing") >= 0);
                CHECK(sd_bus_call_async(p->client, NULL, m, on_reply, r, 0) >= 0);
        }
        bus_pair_run_until(p, &r->done);
}

int main(void) {
        _cleanup_(call_limiter_freep) CallLimiter *l = NULL;
        unsigned refused;
        BusPair p;
        Replies r;

        bus_pair_open(&p);
        CHECK(call_limiter_new(&l, p.event) >= 0);
        CHECK(call_limiter_attach(l, p.server) >= 0);
        CHECK_EQ_INT(call_limiter_refused(l), 0);
        CHECK_EQ_INT(call_limiter_refused(NULL), 0);

        /* A burst past the budget: the budget's worth goes through (and finds no object), the
         * rest is refused. */
        call(&p, ":1.1", "org.freedesktop.DBus.Properties", "Get", BURST + EXTRA, &r);
        CHECK(r.limited > 0);
        CHECK(r.limited <= EXTRA);
        CHECK_EQ_INT(call_limiter_refused(l), r.limited);
        refused = r.limited;

        /* The same sender's other calls are not public reads: never limited. */
        call(&p, ":1.1", "org.example", "DoSomething", 10, &r);
        CHECK_EQ_INT(r.limited, 0);

        /* Another sender has its own budget. */
        call(&p, ":1.2", "org.freedesktop.DBus.Introspectable", "Introspect", 10, &r);
        CHECK_EQ_INT(r.limited, 0);

        /* The first sender is still over its budget: what it earned back since (CALLS_PER_SEC)
         * is a few calls at most. */
        call(&p, ":1.1", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", EXTRA, &r);
        CHECK(r.limited > 0);
        CHECK_EQ_INT(call_limiter_refused(l), refused + r.limited);

        bus_pair_close(&p);
        return EXIT_SUCCESS;
}
