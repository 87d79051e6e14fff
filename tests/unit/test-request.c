/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/relay/request.c over a socketpair: a Request waits for the message the
 * connector protocol makes its reply (same id and seq, ack + 1) or a family's rule, answers its
 * caller with it, times out with Timeout, is bounded, goes with a caller that leaves the bus, and
 * is answered with an error when the table goes. */

#include <linux/connector.h>

#include "bus-pair.h"
#include "cnd-bus-names.h"
#include "request.h"
#include "util.h"

typedef struct Test {
        BusPair pair;
        RequestTable table;
        /* What the next call's handler puts in the table. */
        uint32_t idx, val, seq, ack;
        RequestReplyMatcher is_reply;
        uint64_t timeout_usec;
        int added;                      /* request_table_add()'s answer */
        /* The reply the caller got. */
        bool replied;
        char error[128];
        uint32_t reply_seq, reply_ack;
        char data[16];
} Test;

static int method_request(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        Test *t = userdata;

        t->added = request_table_add(&t->table, call, t->idx, t->val, t->seq, t->ack, t->is_reply, t->timeout_usec);
        return t->added < 0 ? t->added : 1;
}

static const sd_bus_vtable test_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Request", "", "uuay", method_request, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Test *t = userdata;
        const void *data;
        size_t size;

        t->replied = true;
        if (sd_bus_message_is_method_error(reply, NULL)) {
                snprintf(t->error, sizeof(t->error), "%s", sd_bus_message_get_error(reply)->name);
                return 0;
        }
        CHECK(sd_bus_message_read(reply, "uu", &t->reply_seq, &t->reply_ack) >= 0);
        CHECK(sd_bus_message_read_array(reply, 'y', &data, &size) >= 0);
        CHECK(size < sizeof(t->data));
        memcpy(t->data, data, size);
        t->data[size] = 0;
        return 0;
}

/* The caller sends its Request (as sender, if not NULL); the handler has run when this returns. */
static void request(Test *t, const char *sender) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        unsigned n = t->table.n;

        t->replied = false;
        t->error[0] = t->data[0] = 0;
        t->added = 1;
        CHECK(sd_bus_message_new_method_call(t->pair.client, &m, NULL, "/test", "org.example.Test", "Request") >= 0);
        if (sender)
                CHECK(sd_bus_message_set_sender(m, sender) >= 0);
        CHECK(sd_bus_call_async(t->pair.client, NULL, m, on_reply, t, 0) >= 0);
        for (unsigned i = 0; i < 1000 && t->added == 1 && t->table.n == n; i++)
                CHECK(sd_event_run(t->pair.event, 1000) >= 0);
}

static bool offer(Test *t, uint32_t idx, uint32_t val, uint32_t seq, uint32_t ack, const char *data) {
        _Alignas(struct cn_msg) uint8_t buf[sizeof(struct cn_msg) + 16] = {};
        struct cn_msg *msg = (struct cn_msg *) buf;

        *msg = (struct cn_msg) { .id = { idx, val }, .seq = seq, .ack = ack, .len = (uint16_t) strlen(data) };
        memcpy(msg->data, data, msg->len);
        return request_table_offer(&t->table, msg);
}

static bool ack_only(const struct cn_msg *msg, uint32_t seq, uint32_t ack) {
        return msg->ack == ack + 1;
}

static void test_reply(Test *t) {
        request(t, NULL);
        CHECK_EQ_INT(t->added, 0);
        CHECK_EQ_INT(t->table.n, 1);

        /* Not the reply: another id, another seq, the request's own ack. */
        CHECK(!offer(t, 5, 7, 10, 21, "no"));
        CHECK(!offer(t, 6, 6, 10, 21, "no"));
        CHECK(!offer(t, 5, 6, 11, 21, "no"));
        CHECK(!offer(t, 5, 6, 10, 20, "no"));
        CHECK_EQ_INT(t->table.n, 1);

        CHECK(offer(t, 5, 6, 10, 21, "yes"));
        CHECK_EQ_INT(t->table.n, 0);
        bus_pair_run_until(&t->pair, &t->replied);
        CHECK_STREQ(t->error, "");
        CHECK_EQ_INT(t->reply_seq, 10);
        CHECK_EQ_INT(t->reply_ack, 21);
        CHECK_STREQ(t->data, "yes");

        /* Answered once: the same message again finds nobody waiting. */
        CHECK(!offer(t, 5, 6, 10, 21, "yes"));
}

static void test_family_rule(Test *t) {
        /* cn_proc's rule: the kernel rewrites seq, so only the ack counts. */
        t->is_reply = ack_only;
        request(t, NULL);
        CHECK(offer(t, 5, 6, 777, 21, "ack"));
        bus_pair_run_until(&t->pair, &t->replied);
        CHECK_EQ_INT(t->reply_seq, 777);
        CHECK_STREQ(t->data, "ack");
        t->is_reply = NULL;
}

static void test_timeout(Test *t) {
        t->timeout_usec = 1000;
        request(t, NULL);
        CHECK_EQ_INT(t->table.n, 1);
        bus_pair_run_until(&t->pair, &t->replied);
        CHECK_STREQ(t->error, CND_ERROR_TIMEOUT);
        CHECK_EQ_INT(t->table.n, 0);
        t->timeout_usec = 60 * USEC_PER_SEC;
}

static void test_bound(Test *t) {
        t->table.max = 1;
        request(t, NULL);
        CHECK_EQ_INT(t->added, 0);
        CHECK(request_table_full(&t->table));
        request(t, NULL);
        CHECK_EQ_INT(t->added, -EBUSY);
        bus_pair_run_until(&t->pair, &t->replied);
        CHECK(t->error[0] != 0);        /* the second caller got an error at once */
        t->replied = false;
        CHECK(offer(t, 5, 6, 10, 21, "first"));
        bus_pair_run_until(&t->pair, &t->replied);
        CHECK_STREQ(t->data, "first");
        t->table.max = 8;
}

/* A NameOwnerChanged from the bus for a caller that left: its requests go, unanswered. */
static void test_caller_left(Test *t) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;

        request(t, ":1.7");
        CHECK_EQ_INT(t->table.n, 1);
        CHECK(sd_bus_message_new_signal(t->pair.client, &s, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                        "NameOwnerChanged") >= 0);
        CHECK(sd_bus_message_set_sender(s, "org.freedesktop.DBus") >= 0);
        CHECK(sd_bus_message_append(s, "sss", ":1.7", ":1.7", "") >= 0);
        CHECK(sd_bus_send(t->pair.client, s, NULL) >= 0);
        for (unsigned i = 0; i < 1000 && t->table.n > 0; i++)
                CHECK(sd_event_run(t->pair.event, 1000) >= 0);
        CHECK_EQ_INT(t->table.n, 0);
}

static void test_done(Test *t) {
        request(t, NULL);
        CHECK_EQ_INT(t->table.n, 1);
        request_table_done(&t->table);
        bus_pair_run_until(&t->pair, &t->replied);
        CHECK_STREQ(t->error, SD_BUS_ERROR_FAILED);
}

int main(void) {
        /* Every request is to 5:6 with seq 10 and ack 20 unless a test says otherwise. */
        Test t = { .idx = 5, .val = 6, .seq = 10, .ack = 20, .timeout_usec = 60 * USEC_PER_SEC };

        bus_pair_open(&t.pair);
        request_table_init(&t.table, t.pair.event, 8);
        CHECK(sd_bus_add_object_vtable(t.pair.server, NULL, "/test", "org.example.Test", test_vtable, &t) >= 0);

        test_reply(&t);
        test_family_rule(&t);
        test_timeout(&t);
        test_bound(&t);
        test_caller_left(&t);
        test_done(&t);

        bus_pair_close(&t.pair);
        return EXIT_SUCCESS;
}
