/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/relay/loss.c over a socketpair: the Overrun report at once and then at
 * most once a second with the totals, and none once loss stops; back-pressure that pauses the
 * socket's reader when a client does not read and resumes it once the queue has drained. */

#include "bus-pair.h"
#include "loss.h"
#include "util.h"

typedef struct Overruns {
        unsigned n;
        uint64_t kernel_dropped, bus_dropped;
} Overruns;

static void on_overrun(uint64_t kernel_dropped, uint64_t bus_dropped, void *userdata) {
        Overruns *o = userdata;

        o->n++;
        o->kernel_dropped = kernel_dropped;
        o->bus_dropped = bus_dropped;
}

static void run_for(sd_event *e, uint64_t usec) {
        for (uint64_t end = now_usec(CLOCK_MONOTONIC) + usec; now_usec(CLOCK_MONOTONIC) < end;)
                CHECK(sd_event_run(e, 10 * 1000) >= 0);
}

static void test_overrun(BusPair *p) {
        Overruns o = {};
        Loss l;

        CHECK(loss_init(&l, p->event, on_overrun, &o) >= 0);

        /* No loss, no signal. */
        loss_check(&l);
        CHECK_EQ_INT(o.n, 0);

        /* The first loss is reported at once, with the totals. */
        loss_count_bus_dropped(&l, 3);
        loss_check(&l);
        CHECK_EQ_INT(o.n, 1);
        CHECK_EQ_INT(o.bus_dropped, 3);
        CHECK_EQ_INT(o.kernel_dropped, 0);

        /* More within the second waits for it, and comes with the new totals. */
        loss_count_bus_dropped(&l, 2);
        loss_check(&l);
        CHECK_EQ_INT(o.n, 1);
        run_for(p->event, 1200 * 1000);
        CHECK_EQ_INT(o.n, 2);
        CHECK_EQ_INT(o.bus_dropped, 5);

        /* Loss stopped: nothing more. */
        run_for(p->event, 1200 * 1000);
        CHECK_EQ_INT(o.n, 2);

        /* The other counters are not loss. */
        loss_count_received(&l);
        loss_count_rejected(&l, 2);
        loss_count_overrun(&l);
        loss_check(&l);
        CHECK_EQ_INT(o.n, 2);
        CHECK_EQ_INT(l.received, 1);
        CHECK_EQ_INT(l.rejected, 2);
        CHECK_EQ_INT(l.overruns, 1);

        loss_done(&l);
}

static int on_defer(sd_event_source *s, void *userdata) {
        return 0;
}

static void send_big(BusPair *p, Loss *l) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
        static uint8_t payload[60000];

        CHECK(sd_bus_message_new_signal(p->server, &s, "/test", "org.example.Test", "Big") >= 0);
        CHECK(sd_bus_message_append_array(s, 'y', payload, sizeof(payload)) >= 0);
        CHECK(loss_send(l, s, sizeof(payload)) >= 0);
}

/* A client that does not read: the queue grows past the bound, the reader pauses; once the
 * client reads, it drains and the reader resumes. */
static void test_back_pressure(BusPair *p) {
        _cleanup_(sd_event_source_unrefp) sd_event_source *reader = NULL;
        Overruns o = {};
        unsigned sent = 0;
        int enabled;
        Loss l;

        CHECK(loss_init(&l, p->event, on_overrun, &o) >= 0);
        loss_set_bus(&l, p->server);
        loss_set_limits(&l, 8, UINT64_C(1) << 30);
        CHECK(sd_event_add_defer(p->event, &reader, on_defer, NULL) >= 0);
        CHECK(sd_event_source_set_enabled(reader, SD_EVENT_OFF) >= 0);
        CHECK(sd_event_source_set_enabled(reader, SD_EVENT_ON) >= 0);
        loss_attach_socket(&l, NULL, reader);

        /* The loop does not run: nobody reads. */
        while (loss_may_signal(&l)) {
                CHECK(sent < 10000);
                send_big(p, &l);
                sent++;
        }
        CHECK(l.congested);
        CHECK(sd_event_source_get_enabled(reader, &enabled) >= 0);
        CHECK_EQ_INT(enabled, SD_EVENT_OFF);
        CHECK(!loss_may_signal(&l));

        /* The client reads: the queue drains to a quarter, and reading resumes. */
        for (unsigned i = 0; i < 5000 && l.congested; i++)
                CHECK(sd_event_run(p->event, 1000) >= 0);
        CHECK(!l.congested);
        CHECK(sd_event_source_get_enabled(reader, &enabled) >= 0);
        CHECK_EQ_INT(enabled, SD_EVENT_ON);
        CHECK(loss_may_signal(&l));

        loss_detach_socket(&l);
        loss_done(&l);
}

int main(void) {
        BusPair p;

        bus_pair_open(&p);
        test_overrun(&p);
        test_back_pressure(&p);
        bus_pair_close(&p);
        return EXIT_SUCCESS;
}
