/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bus-emit: the bus ceiling of the benchmarks. A bare sd-bus program that owns
 * org.cnd.Connector1 and emits COUNT Message signals just as cnd would (same path, interface,
 * signature and data size), as fast as the bus takes them: it waits when its queue is long
 * instead of dropping.
 *
 *   bus-emit ADDRESS IDX VAL COUNT SIZE */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "cnd-bus-names.h"

#define QUEUE_HIGH 8192

int main(int argc, char *argv[]) {
        uint8_t data[16384] = {};
        char path[64];
        sd_bus *bus = NULL;
        uint32_t idx, val;
        uint64_t count;
        size_t size;
        int r;

        if (argc != 6) {
                fprintf(stderr, "usage: bus-emit ADDRESS IDX VAL COUNT SIZE\n");
                return 2;
        }
        idx = (uint32_t) strtoul(argv[2], NULL, 0);
        val = (uint32_t) strtoul(argv[3], NULL, 0);
        count = strtoull(argv[4], NULL, 0);
        size = strtoul(argv[5], NULL, 0);
        if (size > sizeof(data))
                return 2;
        snprintf(path, sizeof(path), CND_ID_PATH_PREFIX "/%" PRIu32 "/%" PRIu32, idx, val);

        if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, argv[1]) < 0 ||
            sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0 ||
            sd_bus_request_name(bus, CND_BUS_NAME, 0) < 0) {
                fprintf(stderr, "bus-emit: cannot connect or own the name on %s\n", argv[1]);
                return 1;
        }
        printf("ready\n");
        fflush(stdout);

        for (uint64_t seq = 0; seq < count; seq++) {
                sd_bus_message *m = NULL;
                uint64_t queued = 0;

                memcpy(data, &seq, size < 4 ? size : 4);
                r = sd_bus_message_new_signal(bus, &m, path, CND_ID_IFACE, "Message");
                if (r >= 0)
                        r = sd_bus_message_append(m, "uuuuq", idx, val, (uint32_t) seq, 0, 0);
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', data, size);
                if (r >= 0)
                        r = sd_bus_send(bus, m, NULL);
                sd_bus_message_unref(m);
                if (r < 0) {
                        fprintf(stderr, "bus-emit: %s\n", strerror(-r));
                        return 1;
                }
                while (sd_bus_get_n_queued_write(bus, &queued) >= 0 && queued > QUEUE_HIGH) {
                        (void) sd_bus_process(bus, NULL);
                        (void) sd_bus_wait(bus, 1000);
                }
        }
        (void) sd_bus_flush(bus);
        printf("emitted %" PRIu64 "\n", count);
        sd_bus_flush_close_unref(bus);
        return 0;
}
