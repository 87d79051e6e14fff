/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/relay/batch.c over a socketpair: one Messages signal per id per batch,
 * its elements in arrival order, ids in the order they came; a signal sent early before it
 * would pass 64 KiB; an id that goes takes its signal out first; nothing counted as lost. */

#include <linux/connector.h>

#include "batch.h"
#include "bus-pair.h"
#include "cnd-bus-names.h"
#include "util.h"

#define MAX_SIGNALS 16

typedef struct Received {
        unsigned n;
        char path[MAX_SIGNALS][CN_ID_PATH_MAX];
        unsigned count[MAX_SIGNALS];            /* elements */
        uint32_t seqs[MAX_SIGNALS][8];          /* the first elements' seqs */
} Received;

static int on_messages(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Received *r = userdata;
        uint32_t seq, ack;
        uint16_t flags;
        const void *data;
        size_t size;
        int k;

        CHECK(r->n < MAX_SIGNALS);
        snprintf(r->path[r->n], sizeof(r->path[r->n]), "%s", sd_bus_message_get_path(m));
        CHECK(sd_bus_message_enter_container(m, 'a', "(uuqay)") >= 0);
        while ((k = sd_bus_message_enter_container(m, 'r', "uuqay")) > 0) {
                CHECK(sd_bus_message_read(m, "uuq", &seq, &ack, &flags) >= 0);
                CHECK(sd_bus_message_read_array(m, 'y', &data, &size) >= 0);
                CHECK_EQ_INT(ack, seq + 1000);
                if (r->count[r->n] < ELEMENTSOF(r->seqs[0]))
                        r->seqs[r->n][r->count[r->n]] = seq;
                r->count[r->n]++;
                CHECK(sd_bus_message_exit_container(m) >= 0);
        }
        CHECK(k >= 0);
        r->n++;
        return 0;
}

static void append(Batcher *b, const CnId *id, uint32_t seq, size_t size) {
        static _Alignas(struct cn_msg) uint8_t buf[sizeof(struct cn_msg) + CONNECTOR_MAX_MSG_SIZE];
        struct cn_msg *msg = (struct cn_msg *) buf;

        *msg = (struct cn_msg) { .id = { id->idx, id->val }, .seq = seq, .ack = seq + 1000, .len = (uint16_t) size };
        memset(msg->data, 'x', size);
        CHECK(batcher_append(b, id, msg) >= 0);
}

/* Runs the loop until n signals are in (or a few seconds have passed). */
static void receive(BusPair *p, Received *r, unsigned n) {
        for (unsigned i = 0; i < 5000 && r->n < n; i++)
                CHECK(sd_event_run(p->event, 1000) >= 0);
        CHECK_EQ_INT(r->n, n);
}

static CnId make_id(uint32_t idx, uint32_t val) {
        CnId id = { .idx = idx, .val = val };

        snprintf(id.path, sizeof(id.path), "%s/%" PRIu32 "/%" PRIu32, CND_ID_PATH_PREFIX, idx, val);
        return id;
}

int main(void) {
        CnId a = make_id(5, 6), b = make_id(7, 8);
        Received r = {};
        Batcher batcher;
        BusPair p;
        Loss loss;

        bus_pair_open(&p);
        CHECK(loss_init(&loss, p.event, NULL, NULL) >= 0);
        loss_set_bus(&loss, p.server);
        loss_set_limits(&loss, 1024, 64 << 20);
        batcher_init(&batcher, &loss);
        CHECK(sd_bus_match_signal(p.client, NULL, NULL, NULL, CND_ID_IFACE, "Messages", on_messages, &r) >= 0);

        /* One read batch: two ids, interleaved. */
        append(&batcher, &a, 1, 10);
        append(&batcher, &a, 2, 0);
        append(&batcher, &b, 3, 20);
        append(&batcher, &a, 4, 30);
        append(&batcher, &b, 5, 0);
        batcher_flush(&batcher);
        receive(&p, &r, 2);
        CHECK_STREQ(r.path[0], a.path);
        CHECK_EQ_INT(r.count[0], 3);
        CHECK_EQ_INT(r.seqs[0][0], 1);
        CHECK_EQ_INT(r.seqs[0][1], 2);
        CHECK_EQ_INT(r.seqs[0][2], 4);
        CHECK_STREQ(r.path[1], b.path);
        CHECK_EQ_INT(r.count[1], 2);
        CHECK_EQ_INT(r.seqs[1][0], 3);
        CHECK_EQ_INT(r.seqs[1][1], 5);

        /* Nothing pending: a flush sends nothing. */
        batcher_flush(&batcher);
        for (unsigned i = 0; i < 20; i++)
                CHECK(sd_event_run(p.event, 1000) >= 0);
        CHECK_EQ_INT(r.n, 2);

        /* 64 KiB: four elements of 16000 bytes fit in one signal, the fifth starts the next, and
         * the full one goes out at once, before the batch ends. */
        r = (Received) {};
        for (uint32_t seq = 10; seq < 15; seq++)
                append(&batcher, &a, seq, 16000);
        receive(&p, &r, 1);
        CHECK_EQ_INT(r.count[0], 4);
        batcher_flush(&batcher);
        receive(&p, &r, 2);
        CHECK_EQ_INT(r.count[1], 1);
        CHECK_EQ_INT(r.seqs[1][0], 14);

        /* An id that goes takes its signal out first; the other waits for the flush. */
        r = (Received) {};
        append(&batcher, &a, 20, 1);
        append(&batcher, &b, 21, 1);
        batcher_forget(&batcher, &b);
        receive(&p, &r, 1);
        CHECK_STREQ(r.path[0], b.path);
        batcher_flush(&batcher);
        receive(&p, &r, 2);
        CHECK_STREQ(r.path[1], a.path);

        CHECK_EQ_INT(loss.bus_dropped, 0);

        batcher_done(&batcher);
        loss_done(&loss);
        bus_pair_close(&p);
        return EXIT_SUCCESS;
}
