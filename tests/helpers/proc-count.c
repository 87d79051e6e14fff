/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* proc-count: counts cnd's Fork and Exit signals per parent process, for the fork-storm
 * benchmark. Exits are matched to forks by pid (an exit's parent may read 0 while the task is
 * reaped). After IDLE_MS without a signal (or SIGINT/SIGTERM) it prints, for every parent
 * with at least MIN forks, "parent P forks F exits E".
 *
 *   proc-count ADDRESS IDLE_MS MIN */

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "cnd-bus-names.h"

#define MAX_PID (1U << 22)      /* pid_max's ceiling */

static uint32_t *parent_of;     /* child pid -> parent tgid of its Fork, 0 if none */
static uint32_t *forks, *exits; /* per parent tgid */
static volatile sig_atomic_t stop;

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        uint32_t a, b, c, d;

        if (sd_bus_message_is_signal(m, CND_PROC_IFACE, "Fork")) {
                if (sd_bus_message_read(m, "uuuu", &a, &b, &c, &d) >= 0 && b < MAX_PID && c < MAX_PID) {
                        forks[b]++;
                        parent_of[c] = b;
                }
        } else if (sd_bus_message_is_signal(m, CND_PROC_IFACE, "Exit")) {
                if (sd_bus_message_read(m, "u", &a) >= 0 && a < MAX_PID && parent_of[a]) {
                        exits[parent_of[a]]++;
                        parent_of[a] = 0;
                }
        }
        return 0;
}

static void on_stop(int sig) {
        stop = 1;
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        uint64_t idle_ms, last;
        uint32_t min;
        int r, seen = 0;

        if (argc != 4) {
                fprintf(stderr, "usage: proc-count ADDRESS IDLE_MS MIN\n");
                return 2;
        }
        idle_ms = strtoull(argv[2], NULL, 0);
        min = (uint32_t) strtoul(argv[3], NULL, 0);
        parent_of = calloc(MAX_PID, sizeof(uint32_t));
        forks = calloc(MAX_PID, sizeof(uint32_t));
        exits = calloc(MAX_PID, sizeof(uint32_t));
        if (!parent_of || !forks || !exits)
                return 1;
        signal(SIGINT, on_stop);
        signal(SIGTERM, on_stop);

        if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, argv[1]) < 0 ||
            sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0) {
                fprintf(stderr, "proc-count: cannot connect to %s\n", argv[1]);
                return 1;
        }
        r = sd_bus_add_match(bus, NULL, "type='signal',sender='" CND_BUS_NAME "',"
                             "path='" CND_PROC_PATH "'", on_signal, NULL);
        if (r < 0)
                return 1;
        printf("ready\n");
        fflush(stdout);

        last = now_ms();
        while (!stop) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0) {
                        last = now_ms();
                        seen = 1;
                        continue;
                }
                if (seen && now_ms() - last > idle_ms)
                        break;
                (void) sd_bus_wait(bus, 100000);
        }

        for (uint32_t p = 1; p < MAX_PID; p++)
                if (forks[p] >= min)
                        printf("parent %" PRIu32 " forks %" PRIu32 " exits %" PRIu32 "\n", p, forks[p], exits[p]);
        sd_bus_flush_close_unref(bus);
        return 0;
}
