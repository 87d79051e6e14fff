/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* bus-count: a fast D-Bus subscriber for tests and benchmarks (sd-bus, no interpreter in the
 * way). Counts cnd's Message and Messages signals below a path, checks that each id's seq
 * rises by one (a gap is allowed and counted, a repeat or step back is an error), and exits
 * after EXPECT messages or IDLE_MS without any.
 *
 *   bus-count ADDRESS PATH_NAMESPACE EXPECT IDLE_MS
 *
 * SIGTERM or SIGINT ends it too; SIGUSR1 makes it print "progress N". Prints "ready" once its
 * match is in place, then at the end
 * "received N gaps G disorder D first_ns F last_ns L", and, for messages that carry cn-inject's
 * send time, "latency_us p50 P p99 Q max M". */

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "cnd-bus-names.h"
#include "counting.h"

#define LATENCY_MAX 2000000

typedef struct Counter {
        SeqCount seq;
        uint64_t first_ns, last_ns;
        uint32_t *latency_us;   /* of the messages that carry their send time */
        size_t n_latency;
} Counter;

static volatile sig_atomic_t stop, progress;

static void on_stop(int sig) {
        stop = 1;
}

static void on_progress(int sig) {
        progress = 1;
}

static void note_latency(Counter *c, const void *data, size_t size) {
        uint64_t sent;

        if (size < 12 || !c->latency_us || c->n_latency >= LATENCY_MAX)
                return;
        memcpy(&sent, (const uint8_t *) data + 4, sizeof(sent));
        c->latency_us[c->n_latency++] = (uint32_t) ((now_ns() - sent) / 1000);
}

static int compare_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

        return x < y ? -1 : x > y;
}

static void count_one(Counter *c, uint32_t seq) {
        seq_count(&c->seq, seq);
        c->last_ns = now_ns();
        if (!c->first_ns)
                c->first_ns = c->last_ns;
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Counter *c = userdata;
        uint32_t idx, val, seq, ack;
        uint16_t flags;
        const void *data;
        size_t size;
        int r;

        if (sd_bus_message_is_signal(m, CND_ID_IFACE, "Message")) {
                r = sd_bus_message_read(m, "uuuuq", &idx, &val, &seq, &ack, &flags);
                if (r >= 0 && sd_bus_message_read_array(m, 'y', &data, &size) >= 0)
                        note_latency(c, data, size);
                if (r >= 0)
                        count_one(c, seq);
        } else if (sd_bus_message_is_signal(m, CND_ID_IFACE, "Messages")) {
                r = sd_bus_message_enter_container(m, 'a', "(uuqay)");
                while (r > 0 && (r = sd_bus_message_enter_container(m, 'r', "uuqay")) > 0) {
                        (void) sd_bus_message_read(m, "uuq", &seq, &ack, &flags);
                        if (sd_bus_message_read_array(m, 'y', &data, &size) >= 0)
                                note_latency(c, data, size);
                        (void) sd_bus_message_exit_container(m);
                        count_one(c, seq);
                }
        }
        return 0;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        Counter c = {};
        uint64_t expect, idle_ns, last_activity;
        char rule[512];
        int r;

        if (argc != 5) {
                fprintf(stderr, "usage: bus-count ADDRESS PATH_NAMESPACE EXPECT IDLE_MS\n");
                return 2;
        }
        expect = strtoull(argv[3], NULL, 0);
        c.latency_us = malloc(LATENCY_MAX * sizeof(uint32_t));
        signal(SIGTERM, on_stop);
        signal(SIGINT, on_stop);
        signal(SIGUSR1, on_progress);
        idle_ns = strtoull(argv[4], NULL, 0) * 1000000ULL;

        if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, argv[1]) < 0 ||
            sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0) {
                fprintf(stderr, "bus-count: cannot connect to %s\n", argv[1]);
                return 1;
        }
        snprintf(rule, sizeof(rule), "type='signal',sender='" CND_BUS_NAME "',path_namespace='%s'", argv[2]);
        r = sd_bus_add_match(bus, NULL, rule, on_signal, &c);
        if (r < 0) {
                fprintf(stderr, "bus-count: AddMatch failed: %s\n", strerror(-r));
                return 1;
        }
        printf("ready\n");
        fflush(stdout);

        last_activity = now_ns();
        while ((c.seq.received < expect || expect == 0) && !stop) {
                if (progress) {
                        progress = 0;
                        printf("progress %" PRIu64 "\n", c.seq.received);
                        fflush(stdout);
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "bus-count: %s\n", strerror(-r));
                        break;
                }
                if (r > 0) {
                        last_activity = now_ns();
                        continue;
                }
                if (c.seq.received > 0 && now_ns() - last_activity > idle_ns)
                        break;
                if (c.seq.received == 0 && now_ns() - last_activity > 60 * 1000000000ULL)
                        break;
                (void) sd_bus_wait(bus, 100000);
        }

        printf("received %" PRIu64 " gaps %" PRIu64 " disorder %" PRIu64 " first_ns %" PRIu64 " last_ns %" PRIu64 "\n",
               c.seq.received, c.seq.gaps, c.seq.disorder, c.first_ns, c.last_ns);
        if (c.n_latency > 0) {
                qsort(c.latency_us, c.n_latency, sizeof(uint32_t), compare_u32);
                printf("latency_us p50 %" PRIu32 " p99 %" PRIu32 " max %" PRIu32 "\n",
                       c.latency_us[c.n_latency / 2], c.latency_us[c.n_latency * 99 / 100],
                       c.latency_us[c.n_latency - 1]);
        }
        sd_bus_flush_close_unref(bus);
        return 0;
}
