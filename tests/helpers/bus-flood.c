/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bus-flood: one user's sustained flood of the reads anyone may make: CONNECTIONS connections,
 * each keeping DEPTH calls to cnd (GetAll, GetManagedObjects and Introspect in turn) in flight
 * and sending the next as each reply comes in, for SECONDS or until SIGTERM; then it waits for
 * the replies still due and prints "calls N answered A refused R" (refused: LimitsExceeded).
 *
 *   bus-flood ADDRESS CONNECTIONS SECONDS */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "cnd-bus-names.h"

#define DEPTH 4

typedef struct Flood {
        sd_event *event;
        unsigned long calls, answered, refused, in_flight;
        unsigned next;
        int stopping;
} Flood;

static int send_one(Flood *f, sd_bus *bus);

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Flood *f = userdata;

        f->in_flight--;
        if (sd_bus_message_is_method_error(reply, CND_ERROR_LIMITS_EXCEEDED))
                f->refused++;
        else if (!sd_bus_message_is_method_error(reply, NULL))
                f->answered++;
        if (!f->stopping)
                (void) send_one(f, sd_bus_message_get_bus(reply));
        else if (f->in_flight == 0)
                (void) sd_event_exit(f->event, 0);
        return 0;
}

static int send_one(Flood *f, sd_bus *bus) {
        unsigned which = f->next++ % 3;
        int r;

        if (which == 0)
                r = sd_bus_call_method_async(bus, NULL, CND_BUS_NAME, CND_MANAGER_PATH,
                                             "org.freedesktop.DBus.Properties", "GetAll", on_reply, f, "s",
                                             CND_MANAGER_IFACE);
        else if (which == 1)
                r = sd_bus_call_method_async(bus, NULL, CND_BUS_NAME, CND_MANAGER_PATH,
                                             "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", on_reply, f,
                                             NULL);
        else
                r = sd_bus_call_method_async(bus, NULL, CND_BUS_NAME, CND_MANAGER_PATH,
                                             "org.freedesktop.DBus.Introspectable", "Introspect", on_reply, f, NULL);
        if (r >= 0) {
                f->calls++;
                f->in_flight++;
        }
        return r;
}

static int on_end(sd_event_source *s, uint64_t usec, void *userdata) {
        Flood *f = userdata;

        f->stopping = 1;
        if (f->in_flight == 0)
                return sd_event_exit(f->event, 0);
        return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return on_end(NULL, 0, userdata);
}

static int connect_one(Flood *f, const char *address) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_attach_event(bus, f->event, SD_EVENT_PRIORITY_NORMAL);
        for (unsigned i = 0; r >= 0 && i < DEPTH; i++)
                r = send_one(f, bus);
        /* The event loop keeps the connection; it lives until the program ends. */
        return r;
}

int main(int argc, char *argv[]) {
        Flood f = {};
        long connections;
        double seconds;
        int r;

        if (argc != 4 || (connections = strtol(argv[2], NULL, 10)) <= 0 || (seconds = strtod(argv[3], NULL)) <= 0) {
                fprintf(stderr, "usage: bus-flood ADDRESS CONNECTIONS SECONDS\n");
                return 2;
        }
        r = sd_event_new(&f.event);
        if (r >= 0) {
                sigset_t mask;

                sigemptyset(&mask);
                sigaddset(&mask, SIGTERM);
                sigprocmask(SIG_BLOCK, &mask, NULL);
                r = sd_event_add_signal(f.event, NULL, SIGTERM, on_sigterm, &f);
        }
        for (long i = 0; r >= 0 && i < connections; i++)
                r = connect_one(&f, argv[1]);
        if (r >= 0)
                r = sd_event_add_time_relative(f.event, NULL, CLOCK_MONOTONIC, (uint64_t) (seconds * 1e6), 0, on_end,
                                               &f);
        if (r >= 0)
                r = sd_event_loop(f.event);
        if (r < 0) {
                fprintf(stderr, "bus-flood: %d\n", r);
                return 1;
        }
        printf("calls %lu answered %lu refused %lu\n", f.calls, f.answered, f.refused);
        return 0;
}
