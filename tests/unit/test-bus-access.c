/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/bus/bus-access.c over a socketpair, the client end standing in for the bus
 * that vouches for callers (GetConnectionCredentials): root is let in, a member of the admin
 * group is, anyone else is refused with AccessDenied naming the group; a bus that reports no
 * groups lets only root in; no admin group means root only; a bus that does not answer lets
 * nobody in. Each allowed call runs its handler twice: once to ask, once with the answer.
 * Readers and admins wait for the bus's answer in shares of their own: a caller who fills the
 * readers' share (the bus slow to answer about it) gets LimitsExceeded past it, and an admin's
 * call still passes; and the reverse. */

#include "bus-access.h"
#include "bus-pair.h"
#include "cnd-bus-names.h"
#include "util.h"

#define ADMIN_GID 4242
/* The caller the stand-in bus is slow to tell about: its questions wait until released. */
#define SLOW_CALLER ":1.7"

typedef struct Test {
        BusPair pair;
        Config config;
        AccessChecks access;
        /* What the stand-in bus says of the caller. */
        uint32_t uid;
        bool report_groups, fail;
        uint32_t gids[4];
        unsigned n_gids;
        /* Questions about SLOW_CALLER, not answered yet. */
        sd_bus_message *held[ACCESS_QUERIES_MAX + 1];
        unsigned n_held;
        /* What the caller got. */
        bool replied, allowed;
        char error[128], message[256];
        unsigned handler_runs;
} Test;

static int method_admin(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        Test *t = userdata;
        int r;

        t->handler_runs++;
        r = bus_verify_admin_async(&t->access, call, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return sd_bus_reply_method_return(call, NULL);
}

static int method_read(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        Test *t = userdata;
        int r;

        t->handler_runs++;
        r = bus_verify_access_async(&t->access, call, BUS_ACCESS_READER, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return sd_bus_reply_method_return(call, NULL);
}

static const sd_bus_vtable test_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Admin", "", "", method_admin, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Read", "", "", method_read, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static int reply_credentials(Test *t, sd_bus_message *call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        CHECK(sd_bus_message_new_method_return(call, &reply) >= 0);
        CHECK(sd_bus_message_open_container(reply, 'a', "{sv}") >= 0);
        CHECK(sd_bus_message_append(reply, "{sv}", "UnixUserID", "u", t->uid) >= 0);
        if (t->report_groups) {
                CHECK(sd_bus_message_open_container(reply, 'e', "sv") >= 0);
                CHECK(sd_bus_message_append(reply, "s", "UnixGroupIDs") >= 0);
                CHECK(sd_bus_message_open_container(reply, 'v', "au") >= 0);
                CHECK(sd_bus_message_append_array(reply, 'u', t->gids, t->n_gids * sizeof(uint32_t)) >= 0);
                CHECK(sd_bus_message_close_container(reply) >= 0);
                CHECK(sd_bus_message_close_container(reply) >= 0);
        }
        CHECK(sd_bus_message_append(reply, "{sv}", "ProcessID", "u", 1) >= 0);
        CHECK(sd_bus_message_close_container(reply) >= 0);
        return sd_bus_send(NULL, reply, NULL);
}

/* The bus's side: the caller's uid and, if the bus reports them, its groups; about SLOW_CALLER,
 * later. */
static int method_credentials(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        Test *t = userdata;
        const char *name;

        if (t->fail)
                return sd_bus_error_set(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER, "No such caller.");
        CHECK(sd_bus_message_read(call, "s", &name) >= 0);
        if (streq(name, SLOW_CALLER)) {
                CHECK(t->n_held < ELEMENTSOF(t->held));
                t->held[t->n_held++] = sd_bus_message_ref(call);
                return 1;
        }
        return reply_credentials(t, call);
}

static const sd_bus_vtable dbus_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("GetConnectionCredentials", "s", "a{sv}", method_credentials, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Test *t = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        t->replied = true;
        t->allowed = !e;
        if (e) {
                snprintf(t->error, sizeof(t->error), "%s", e->name);
                snprintf(t->message, sizeof(t->message), "%s", strempty(e->message));
        }
        return 0;
}

static const char *method_of(BusAccess access) {
        return access == BUS_ACCESS_ADMIN ? "Admin" : "Read";
}

static void send_call(Test *t, const char *sender, BusAccess access, sd_bus_message_handler_t callback,
                      void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

        CHECK(sd_bus_message_new_method_call(t->pair.client, &m, NULL, "/test", "org.example.Test",
                                             method_of(access)) >= 0);
        CHECK(sd_bus_message_set_sender(m, sender) >= 0);
        CHECK(sd_bus_call_async(t->pair.client, NULL, m, callback, userdata, 0) >= 0);
}

/* Calls the method of that access as a caller the stand-in bus describes; waits for the
 * answer. */
static void call_as(Test *t, BusAccess access) {
        t->replied = t->allowed = false;
        t->error[0] = t->message[0] = 0;
        t->handler_runs = 0;
        send_call(t, ":1.5", access, on_reply, t);
        bus_pair_run_until(&t->pair, &t->replied);
        CHECK_EQ_INT(t->access.n_queries[access], 0);
}

static void call_admin(Test *t) {
        call_as(t, BUS_ACCESS_ADMIN);
        CHECK_EQ_INT(t->access.n_queries[BUS_ACCESS_READER], 0);
}

static void caller(Test *t, uint32_t uid, bool report_groups, const uint32_t *gids, unsigned n) {
        t->uid = uid;
        t->report_groups = report_groups;
        t->n_gids = n;
        if (n > 0)      /* memcpy() from NULL is undefined even for no bytes */
                memcpy(t->gids, gids, n * sizeof(uint32_t));
}

/* The answers a flood of calls got. */
typedef struct Flood {
        unsigned replied, allowed, limited;
        bool refused_one;
} Flood;

static int on_flood_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Flood *f = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        f->replied++;
        if (!e)
                f->allowed++;
        else if (streq(e->name, CND_ERROR_LIMITS_EXCEEDED))
                f->limited++;
        f->refused_one = f->limited > 0;
        return 0;
}

static void run_until_count(Test *t, const unsigned *n, unsigned want) {
        for (unsigned i = 0; i < 5000 && *n < want; i++)
                CHECK(sd_event_run(t->pair.event, 1000 * 1000) >= 0);
        CHECK_EQ_INT(*n, want);
}

/* SLOW_CALLER fills the share of access, and one call more; while the bus keeps it waiting, a
 * caller of the other access passes; then the bus answers and every waiting call is let in. */
static void test_full_share(Test *t, BusAccess access) {
        BusAccess other = access == BUS_ACCESS_ADMIN ? BUS_ACCESS_READER : BUS_ACCESS_ADMIN;
        Flood f = {};

        caller(t, 0, true, NULL, 0);
        for (unsigned i = 0; i < ACCESS_QUERIES_MAX + 1; i++)
                send_call(t, SLOW_CALLER, access, on_flood_reply, &f);
        bus_pair_run_until(&t->pair, &f.refused_one);
        /* Run on until every question the share holds has reached the bus. */
        run_until_count(t, &t->n_held, ACCESS_QUERIES_MAX);
        CHECK_EQ_INT(t->access.n_queries[access], ACCESS_QUERIES_MAX);
        CHECK_EQ_INT(t->n_held, ACCESS_QUERIES_MAX);
        CHECK_EQ_INT(f.replied, 1);
        CHECK_EQ_INT(f.limited, 1);

        /* The other access has its own share. */
        call_as(t, other);
        CHECK(t->allowed);
        CHECK_EQ_INT(t->handler_runs, 2);
        CHECK_EQ_INT(t->access.n_queries[access], ACCESS_QUERIES_MAX);

        /* The bus answers: the waiting calls are let in, and the share is empty again. */
        for (unsigned i = 0; i < t->n_held; i++) {
                CHECK(reply_credentials(t, t->held[i]) >= 0);
                t->held[i] = sd_bus_message_unref(t->held[i]);
        }
        t->n_held = 0;
        run_until_count(t, &f.replied, ACCESS_QUERIES_MAX + 1);
        CHECK_EQ_INT(f.allowed, ACCESS_QUERIES_MAX);
        CHECK_EQ_INT(t->access.n_queries[access], 0);
        CHECK_EQ_INT(t->access.n_queries[other], 0);
}

int main(void) {
        static const uint32_t member[] = { 100, ADMIN_GID }, other[] = { 100, 101 };
        Test t = {};

        bus_pair_open(&t.pair);
        config_init(&t.config);
        t.config.admin_group = strdup("admins");
        CHECK(t.config.admin_group);
        t.config.admin_gid = ADMIN_GID;
        access_checks_init(&t.access, &t.config);
        CHECK(sd_bus_add_object_vtable(t.pair.server, NULL, "/test", "org.example.Test", test_vtable, &t) >= 0);
        CHECK(sd_bus_add_object_vtable(t.pair.client, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       dbus_vtable, &t) >= 0);

        caller(&t, 0, true, NULL, 0);
        call_admin(&t);
        CHECK(t.allowed);
        CHECK_EQ_INT(t.handler_runs, 2);

        caller(&t, 1000, true, member, ELEMENTSOF(member));
        call_admin(&t);
        CHECK(t.allowed);

        caller(&t, 1000, true, other, ELEMENTSOF(other));
        call_admin(&t);
        CHECK(!t.allowed);
        CHECK_STREQ(t.error, SD_BUS_ERROR_ACCESS_DENIED);
        CHECK_CONTAINS(t.message, "admins");

        /* A bus that reports no groups: members cannot be told apart, only root is let in. */
        caller(&t, 1000, false, NULL, 0);
        call_admin(&t);
        CHECK(!t.allowed);
        caller(&t, 0, false, NULL, 0);
        call_admin(&t);
        CHECK(t.allowed);

        /* No admin group: root only. */
        t.config.admin_group = mfree(t.config.admin_group);
        t.config.admin_gid = 0;
        caller(&t, 1000, true, member, ELEMENTSOF(member));
        call_admin(&t);
        CHECK(!t.allowed);
        CHECK_CONTAINS(t.message, "Only root may call Admin");

        /* The bus would not say who the caller is: nobody. */
        caller(&t, 0, true, NULL, 0);
        t.fail = true;
        call_admin(&t);
        CHECK(!t.allowed);
        CHECK_STREQ(t.error, SD_BUS_ERROR_ACCESS_DENIED);

        t.fail = false;
        test_full_share(&t, BUS_ACCESS_READER);
        test_full_share(&t, BUS_ACCESS_ADMIN);

        access_checks_done(&t.access);
        config_done(&t.config);
        bus_pair_close(&t.pair);
        return EXIT_SUCCESS;
}
