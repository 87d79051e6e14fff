/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bus-greedy: a client that asks and never reads: it sends N calls to cnd (GetManagedObjects,
 * GetAll and Introspect in turn) without ever reading a reply, then waits to be killed. Prints
 * "sent N" once they are written.
 *
 *   bus-greedy ADDRESS N */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "cnd-bus-names.h"

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        long n, sent = 0;
        int r;

        if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0) {
                fprintf(stderr, "usage: bus-greedy ADDRESS N\n");
                return 2;
        }
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "bus-greedy: cannot connect: %d\n", r);
                return 1;
        }

        for (long i = 0; i < n; i++) {
                sd_bus_message *m = NULL;
                int which = (int) (i % 3);

                if (which == 0)
                        r = sd_bus_message_new_method_call(bus, &m, CND_BUS_NAME, CND_MANAGER_PATH,
                                                           "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
                else if (which == 1) {
                        r = sd_bus_message_new_method_call(bus, &m, CND_BUS_NAME, CND_MANAGER_PATH,
                                                           "org.freedesktop.DBus.Properties", "GetAll");
                        if (r >= 0)
                                r = sd_bus_message_append(m, "s", CND_MANAGER_IFACE);
                } else
                        r = sd_bus_message_new_method_call(bus, &m, CND_BUS_NAME, CND_MANAGER_PATH,
                                                           "org.freedesktop.DBus.Introspectable", "Introspect");
                if (r >= 0)
                        r = sd_bus_send(bus, m, NULL);
                sd_bus_message_unref(m);
                if (r < 0)
                        break;
                sent++;
        }
        /* Writes what sd-bus still holds, reading nothing. */
        while (sd_bus_flush(bus) > 0)
                ;
        printf("sent %ld\n", sent);
        fflush(stdout);
        pause();
        return 0;
}
