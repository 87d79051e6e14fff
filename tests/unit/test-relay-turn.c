/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/relay/relay-turn.c over a socketpair, an eventfd standing in for the
 * connector socket: every message cnd's end handles from the bus is counted, and none is
 * consumed; the socket's source goes above the bus once RELAY_TURN_EVERY of them have gone by
 * since the relay last ran, not one message earlier, once per turn however many follow; it goes
 * back below when the relay runs, and the count starts again; a socket that is not open is not
 * raised, and is as soon as it is. And what it is for: a flood of bus messages all waiting at
 * once lets the relay run at least every RELAY_TURN_EVERY of them, where without the turn it
 * waits until the bus has nothing more. */

#include <sys/eventfd.h>

#include "bus-pair.h"
#include "netlink.h"
#include "relay-turn.h"
#include "util.h"

#define RAISED_PRIORITY (SD_EVENT_PRIORITY_NORMAL - 1)

typedef struct Test {
        BusPair pair;
        RelayTurn turn;
        bool attached;
        sd_event_source *socket;        /* the connector socket's stand-in; NULL: "not open" */
        /* Bus messages cnd's end has handled (a match of its own, after the turn's filter). */
        unsigned handled;
        /* The relay's runs, and what it found when it ran. */
        unsigned runs, runs_in_flood, max_since_last;
        unsigned flood_total;
        bool answered;
} Test;

static int priority_of(sd_event_source *s) {
        int64_t p;

        CHECK(sd_event_source_get_priority(s, &p) >= 0);
        return (int) p;
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Test *t = userdata;

        t->handled++;
        return 0;
}

static int method_echo(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(call, NULL);
}

static const sd_bus_vtable test_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Echo", "", "", method_echo, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

/* The relay as relay_on_netlink_io() begins: the turn is taken. The eventfd is never read, so
 * the stand-in socket always has data, as a socket under a kernel flood does. */
static int on_socket(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Test *t = userdata;

        t->runs++;
        if (t->attached) {
                if (t->turn.bus_messages > t->max_since_last)
                        t->max_since_last = t->turn.bus_messages;
                relay_turn_taken(&t->turn);
        }
        if (t->handled < t->flood_total)
                t->runs_in_flood++;
        return 0;
}

/* Sends n signals from the caller's end, all at once: they are in the socket, none left in the
 * caller's queue, before cnd's end reads the first. Runs the loop until it has handled them. */
static void send_signals(Test *t, unsigned n) {
        unsigned want = t->handled + n;
        uint64_t queued;

        for (unsigned i = 0; i < n; i++)
                CHECK(sd_bus_emit_signal(t->pair.client, "/test", "org.example.Test", "Tick", NULL) >= 0);
        CHECK(sd_bus_get_n_queued_write(t->pair.client, &queued) >= 0);
        CHECK_EQ_INT(queued, 0);
        while (t->handled < want)
                CHECK(sd_event_run(t->pair.event, 1000 * 1000) >= 0);
}

static int on_echo_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Test *t = userdata;

        CHECK(!sd_bus_message_is_method_error(reply, NULL));
        t->answered = true;
        return 0;
}

static void open_pair(Test *t, bool attach) {
        int fd;

        *t = (Test) {};
        bus_pair_open(&t->pair);
        relay_turn_init(&t->turn, &t->socket, RELAY_TURN_EVERY);
        /* Before the match and the object, as cnd attaches it before anything that may consume a
         * message. */
        if (attach)
                CHECK(relay_turn_attach(&t->turn, t->pair.server) >= 0);
        t->attached = attach;
        CHECK(sd_bus_add_match(t->pair.server, NULL, "type='signal',interface='org.example.Test'", on_signal, t) >=
              0);
        CHECK(sd_bus_add_object_vtable(t->pair.server, NULL, "/test", "org.example.Test", test_vtable, t) >= 0);
        fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        CHECK(fd >= 0);
        CHECK(sd_event_add_io(t->pair.event, &t->socket, fd, EPOLLIN, on_socket, t) >= 0);
        CHECK(sd_event_source_set_io_fd_own(t->socket, true) >= 0);
        CHECK(sd_event_source_set_priority(t->socket, NETLINK_SOURCE_PRIORITY) >= 0);
        /* The two ends authenticate first, so that the loop has nothing but the test's messages
         * to handle; the call that waits for it is not the test's to count. */
        CHECK(sd_bus_call_method_async(t->pair.client, NULL, NULL, "/test", "org.example.Test", "Echo",
                                       on_echo_reply, t, "") >= 0);
        bus_pair_run_until(&t->pair, &t->answered);
        relay_turn_taken(&t->turn);
        t->answered = false;
}

static void close_pair(Test *t) {
        t->socket = sd_event_source_disable_unref(t->socket);
        bus_pair_close(&t->pair);
}

/* The counting, with a socket that has nothing to read: the relay never runs by itself. */
static void test_counting(void) {
        sd_event_source *open;
        Test t;

        open_pair(&t, true);
        CHECK_EQ_INT(priority_of(t.socket), NETLINK_SOURCE_PRIORITY);

        /* One message short of a turn: below the bus still. */
        send_signals(&t, RELAY_TURN_EVERY - 1);
        CHECK_EQ_INT(t.turn.bus_messages, RELAY_TURN_EVERY - 1);
        CHECK(!t.turn.raised);
        CHECK_EQ_INT(t.turn.turns, 0);
        CHECK_EQ_INT(priority_of(t.socket), NETLINK_SOURCE_PRIORITY);

        /* The turn's message: above the bus. */
        send_signals(&t, 1);
        CHECK_EQ_INT(t.turn.bus_messages, RELAY_TURN_EVERY);
        CHECK(t.turn.raised);
        CHECK_EQ_INT(t.turn.turns, 1);
        CHECK_EQ_INT(priority_of(t.socket), RAISED_PRIORITY);

        /* More before the relay runs: still one turn, counted on. */
        send_signals(&t, 3 * RELAY_TURN_EVERY);
        CHECK_EQ_INT(t.turn.bus_messages, 4 * RELAY_TURN_EVERY);
        CHECK_EQ_INT(t.turn.turns, 1);
        CHECK_EQ_INT(priority_of(t.socket), RAISED_PRIORITY);

        /* The relay runs: below again, from 0. */
        relay_turn_taken(&t.turn);
        CHECK_EQ_INT(t.turn.bus_messages, 0);
        CHECK(!t.turn.raised);
        CHECK_EQ_INT(priority_of(t.socket), NETLINK_SOURCE_PRIORITY);
        /* Taken again without a turn due: nothing changes. */
        relay_turn_taken(&t.turn);
        CHECK_EQ_INT(priority_of(t.socket), NETLINK_SOURCE_PRIORITY);

        /* A method call counts too (the call; its reply goes the other way), and is answered: the
         * filter consumes nothing. */
        CHECK(sd_bus_call_method_async(t.pair.client, NULL, NULL, "/test", "org.example.Test", "Echo",
                                       on_echo_reply, &t, "") >= 0);
        bus_pair_run_until(&t.pair, &t.answered);
        CHECK_EQ_INT(t.turn.bus_messages, 1);
        send_signals(&t, RELAY_TURN_EVERY - 2);
        CHECK(!t.turn.raised);
        send_signals(&t, 1);
        CHECK(t.turn.raised);
        CHECK_EQ_INT(t.turn.turns, 2);
        relay_turn_taken(&t.turn);

        /* No socket (closed, being reopened): nothing to raise, the count goes on; the socket
         * that comes back is raised at the next message, its turn overdue. */
        open = TAKE_PTR(t.socket);
        send_signals(&t, RELAY_TURN_EVERY + 5);
        CHECK(!t.turn.raised);
        CHECK_EQ_INT(t.turn.turns, 2);
        CHECK_EQ_INT(priority_of(open), NETLINK_SOURCE_PRIORITY);
        t.socket = open;
        send_signals(&t, 1);
        CHECK(t.turn.raised);
        CHECK_EQ_INT(t.turn.turns, 3);
        CHECK_EQ_INT(priority_of(t.socket), RAISED_PRIORITY);

        CHECK_EQ_INT(t.runs, 0);        /* the eventfd never had data */
        close_pair(&t);
}

/* A flood of bus messages, all waiting before the loop runs, and a socket that always has data.
 * Returns the relay's runs while the flood was still being handled. */
static unsigned flood(bool attach, unsigned *ret_max_since_last) {
        unsigned n = 8 * RELAY_TURN_EVERY, runs;
        Test t;

        open_pair(&t, attach);
        CHECK(eventfd_write(sd_event_source_get_io_fd(t.socket), 1) >= 0);
        t.flood_total = n;
        send_signals(&t, n);
        runs = t.runs_in_flood;
        *ret_max_since_last = t.max_since_last;
        close_pair(&t);
        return runs;
}

static void test_flood(void) {
        unsigned runs, max_since_last;

        /* With the turn: the relay runs after each RELAY_TURN_EVERY messages (the turn due after
         * the last of them comes once the flood is over). */
        runs = flood(true, &max_since_last);
        printf("turn: the relay ran %u times during a flood of %u bus messages, at most %u messages apart\n", runs,
               8 * RELAY_TURN_EVERY, max_since_last);
        CHECK(runs >= 7);
        CHECK(max_since_last <= RELAY_TURN_EVERY);

        /* Without it, the socket below the bus waits for the bus to have nothing more. */
        runs = flood(false, &max_since_last);
        printf("no turn: the relay ran %u times during the flood\n", runs);
        CHECK_EQ_INT(runs, 0);
}

int main(void) {
        test_counting();
        test_flood();
        return EXIT_SUCCESS;
}
