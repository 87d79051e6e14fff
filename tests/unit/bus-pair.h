/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Two sd-bus connections over a socketpair, served by one event loop: the server end stands for
 * cnd's connection to the bus, the client ends for callers. No bus daemon: there are no unique
 * names unless a test gives messages one (sd_bus_message_set_sender()). */

#include <stdbool.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "tests.h"

typedef struct BusPair {
        sd_event *event;
        sd_bus *server, *client;
} BusPair;

static inline void bus_pair_open(BusPair *p) {
        sd_id128_t id;
        int fds[2];

        *p = (BusPair) {};
        CHECK(sd_event_new(&p->event) >= 0);
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) == 0);
        CHECK(sd_id128_randomize(&id) >= 0);

        CHECK(sd_bus_new(&p->server) >= 0);
        CHECK(sd_bus_set_fd(p->server, fds[0], fds[0]) >= 0);
        CHECK(sd_bus_set_server(p->server, true, id) >= 0);
        CHECK(sd_bus_set_anonymous(p->server, true) >= 0);
        CHECK(sd_bus_start(p->server) >= 0);

        CHECK(sd_bus_new(&p->client) >= 0);
        CHECK(sd_bus_set_fd(p->client, fds[1], fds[1]) >= 0);
        CHECK(sd_bus_start(p->client) >= 0);

        CHECK(sd_bus_attach_event(p->server, p->event, SD_EVENT_PRIORITY_NORMAL) >= 0);
        CHECK(sd_bus_attach_event(p->client, p->event, SD_EVENT_PRIORITY_NORMAL) >= 0);
}

static inline void bus_pair_close(BusPair *p) {
        sd_bus_flush_close_unref(p->client);
        sd_bus_flush_close_unref(p->server);
        sd_event_unref(p->event);
        *p = (BusPair) {};
}

/* Runs the loop until *done or a few seconds have passed. */
static inline void bus_pair_run_until(BusPair *p, const bool *done) {
        for (unsigned i = 0; i < 5000 && !*done; i++)
                CHECK(sd_event_run(p->event, 1000) >= 0);
        CHECK(*done);
}
