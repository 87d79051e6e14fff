/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/proc-subscription.c, cnd's cn_proc subscription, driven as the two kinds
 * of kernel drive it: Linux 6.6 and later, which answer the 8-byte struct proc_input LISTEN and
 * filter per socket, and older kernels (Debian 12's 6.1), which ignore that form and keep one
 * machine-wide listener count. What the state machine sends, arms and reports goes to a
 * recorder instead of a socket and a timer. */

#include <errno.h>
#include <linux/cn_proc.h>

#include "log.h"
#include "proc-event.h"
#include "proc-subscription.h"
#include "tests.h"
#include "util.h"

#define MAX_SENT 16

typedef struct Sent {
        uint32_t op;
        bool has_filter;
        uint32_t filter;
        uint32_t ack;
} Sent;

typedef struct Recorder {
        Sent sent[MAX_SENT];
        unsigned n_sent;
        uint32_t next_ack;
        bool probe_armed;
        unsigned restarts;
        unsigned error_changes;
        int send_result;
} Recorder;

static int rec_send(uint32_t op, const uint32_t *filter, uint32_t *ret_ack, void *userdata) {
        Recorder *r = userdata;

        CHECK(r->n_sent < MAX_SENT);
        if (r->send_result < 0)
                return r->send_result;
        r->next_ack += 100;
        r->sent[r->n_sent++] = (Sent) {
                .op = op, .has_filter = filter != NULL, .filter = filter ? *filter : 0, .ack = r->next_ack,
        };
        if (ret_ack)
                *ret_ack = r->next_ack;
        return 0;
}

static void rec_arm_probe(bool arm, void *userdata) {
        ((Recorder *) userdata)->probe_armed = arm;
}

static void rec_restart(void *userdata) {
        ((Recorder *) userdata)->restarts++;
}

static void rec_error_changed(void *userdata) {
        ((Recorder *) userdata)->error_changes++;
}

static const ProcSubscriptionOps ops = {
        .send = rec_send,
        .arm_probe = rec_arm_probe,
        .restart_sequence = rec_restart,
        .error_changed = rec_error_changed,
};

#define ALL_KINDS proc_kinds_to_what_mask(PROC_KINDS_ALL)
#define EXEC_ONLY proc_kind_to_what(PROC_KIND_EXEC)

static void start(ProcSubscription *s, Recorder *r, uint32_t wanted) {
        *r = (Recorder) {};
        proc_subscription_init(s, &ops, r, wanted);
        proc_subscription_listen(s);
        /* The 4-byte LISTEN first, then the 8-byte probe for all events. */
        CHECK_EQ_INT(r->n_sent, 2);
        CHECK_EQ_INT(r->sent[0].op, PROC_CN_MCAST_LISTEN);
        CHECK(!r->sent[0].has_filter);
        CHECK_EQ_INT(r->sent[1].op, PROC_CN_MCAST_LISTEN);
        CHECK(r->sent[1].has_filter);
        CHECK_EQ_INT(r->sent[1].filter, PROC_EVENT_ALL_MASK);
        CHECK(r->probe_armed);
        CHECK(s->listening);
        CHECK_EQ_INT(s->listen_state, PROC_LISTEN_PENDING);
        CHECK_EQ_INT(s->support, PROC_FILTER_UNKNOWN);
        CHECK_EQ_INT(r->restarts, 1);
}

/* 6.6+: both LISTENs are answered, in order. */
static void answer_as_new_kernel(ProcSubscription *s, Recorder *r) {
        proc_subscription_ack(s, r->sent[0].ack + 1, 0);
        CHECK_EQ_INT(s->listen_state, PROC_LISTEN_COUNTED);
        proc_subscription_ack(s, r->sent[1].ack + 1, 0);
        CHECK_EQ_INT(s->support, PROC_FILTER_KERNEL);
        CHECK(!r->probe_armed);
        CHECK(!proc_subscription_filters_locally(s));
}

static void test_new_kernel_all_kinds(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        answer_as_new_kernel(&s, &r);
        /* Every kind wanted: the ALL filter of the probe stays, nothing more is sent. */
        CHECK_EQ_INT(r.n_sent, 2);
        CHECK(!s.kernel_narrows);

        proc_subscription_ignore(&s);
        CHECK(!s.listening);
        CHECK_EQ_INT(r.n_sent, 3);
        CHECK_EQ_INT(r.sent[2].op, PROC_CN_MCAST_IGNORE);
        CHECK(!r.sent[2].has_filter);
}

static void test_new_kernel_narrows(void) {
        ProcSubscription s;
        Recorder r;

        /* Configured for exec only: once the kernel is known to filter, it is asked to. */
        start(&s, &r, EXEC_ONLY);
        answer_as_new_kernel(&s, &r);
        CHECK_EQ_INT(r.n_sent, 3);
        CHECK(r.sent[2].has_filter);
        CHECK_EQ_INT(r.sent[2].filter, EXEC_ONLY);
        CHECK(s.kernel_narrows);
        CHECK_EQ_INT(r.restarts, 2);            /* the sequence restarts with the filter */

        /* Back to every kind at run time: the ALL filter again, and gaps count again. */
        proc_subscription_set_wanted(&s, ALL_KINDS);
        CHECK_EQ_INT(r.n_sent, 4);
        CHECK_EQ_INT(r.sent[3].filter, PROC_EVENT_ALL_MASK);
        CHECK(!s.kernel_narrows);
        CHECK_EQ_INT(r.restarts, 3);
}

static void test_old_kernel(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, EXEC_ONLY);
        /* 6.1: the 4-byte LISTEN is acked, the 8-byte one never is. */
        proc_subscription_ack(&s, r.sent[0].ack + 1, 0);
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_COUNTED);
        proc_subscription_probe_timeout(&s);
        CHECK_EQ_INT(s.support, PROC_FILTER_LOCAL);
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_COUNTED);
        CHECK(proc_subscription_filters_locally(&s));
        /* Such a kernel cannot filter: a change of kinds sends nothing. */
        proc_subscription_set_wanted(&s, ALL_KINDS);
        CHECK_EQ_INT(r.n_sent, 2);

        /* Its LISTEN counted, so the IGNORE must go out or the machine-wide count leaks. */
        proc_subscription_ignore(&s);
        CHECK_EQ_INT(r.n_sent, 3);
        CHECK_EQ_INT(r.sent[2].op, PROC_CN_MCAST_IGNORE);
}

static void test_old_kernel_no_ack_is_refusal(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        /* Nothing answered in time: an old kernel acks every LISTEN that counts. */
        proc_subscription_probe_timeout(&s);
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_REFUSED);
        /* An IGNORE now would take someone else's count. */
        proc_subscription_ignore(&s);
        CHECK_EQ_INT(r.n_sent, 2);
}

static void test_error_ack(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        proc_subscription_ack(&s, r.sent[0].ack + 1, EINVAL);
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_REFUSED);
        CHECK_STREQ(s.error, "cn_proc refused PROC_CN_MCAST_LISTEN: Invalid argument");
        CHECK_EQ_INT(r.error_changes, 1);

        /* A new subscription starts without the old error, and says so. */
        proc_subscription_ignore(&s);
        proc_subscription_listen(&s);
        CHECK_STREQ(s.error, "");
        CHECK_EQ_INT(r.error_changes, 2);
}

static void test_error_ack_to_probe(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        proc_subscription_ack(&s, r.sent[1].ack + 1, EPERM);
        CHECK_EQ_INT(s.support, PROC_FILTER_UNKNOWN);
        CHECK(!r.probe_armed);
        CHECK_CONTAINS(s.error, "8-byte");
}

static void test_unrelated_acks_change_nothing(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        proc_subscription_ack(&s, 12345, EINVAL);
        proc_subscription_ack(&s, r.sent[0].ack, EINVAL);       /* not + 1 */
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_PENDING);
        CHECK_EQ_INT(s.support, PROC_FILTER_UNKNOWN);
        CHECK_STREQ(s.error, "");
        CHECK_EQ_INT(r.error_changes, 0);
}

static void test_client_messages_old_kernel(void) {
        uint32_t listen = PROC_CN_MCAST_LISTEN, ignore = PROC_CN_MCAST_IGNORE;
        ProcInput input = { .mcast_op = PROC_CN_MCAST_IGNORE };
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        proc_subscription_ack(&s, r.sent[0].ack + 1, 0);
        proc_subscription_probe_timeout(&s);

        /* A client's LISTEN or IGNORE moved the machine-wide count: cnd moves it back. */
        proc_subscription_client_sent(&s, &listen, sizeof(listen));
        CHECK_EQ_INT(r.n_sent, 3);
        CHECK_EQ_INT(r.sent[2].op, PROC_CN_MCAST_IGNORE);
        proc_subscription_client_sent(&s, &ignore, sizeof(ignore));
        CHECK_EQ_INT(r.n_sent, 4);
        CHECK_EQ_INT(r.sent[3].op, PROC_CN_MCAST_LISTEN);
        /* The 8-byte form moved nothing on such a kernel, and other data is no op at all. */
        proc_subscription_client_sent(&s, &input, sizeof(input));
        proc_subscription_client_sent(&s, "abc", 3);
        CHECK_EQ_INT(r.n_sent, 4);
}

static void test_client_messages_new_kernel(void) {
        uint32_t listen = PROC_CN_MCAST_LISTEN, ignore = PROC_CN_MCAST_IGNORE;
        ProcSubscription s;
        Recorder r;

        start(&s, &r, EXEC_ONLY);
        answer_as_new_kernel(&s, &r);
        CHECK_EQ_INT(r.n_sent, 3);

        /* On cnd's socket, a LISTEN replaced its filter: set it again. */
        proc_subscription_client_sent(&s, &listen, sizeof(listen));
        CHECK_EQ_INT(r.n_sent, 4);
        CHECK_EQ_INT(r.sent[3].filter, EXEC_ONLY);
        /* An IGNORE switched it off: subscribe again from the start. */
        proc_subscription_client_sent(&s, &ignore, sizeof(ignore));
        CHECK_EQ_INT(r.n_sent, 6);
        CHECK_EQ_INT(r.sent[4].op, PROC_CN_MCAST_LISTEN);
        CHECK(!r.sent[4].has_filter);
        CHECK_EQ_INT(s.support, PROC_FILTER_UNKNOWN);
}

static void test_send_failure(void) {
        ProcSubscription s;
        Recorder r = { .send_result = -ENOBUFS };

        proc_subscription_init(&s, &ops, &r, ALL_KINDS);
        proc_subscription_listen(&s);
        /* Nothing went out: no probe to wait for. */
        CHECK(!r.probe_armed);
        CHECK_EQ_INT(r.n_sent, 0);
}

static void test_listen_op_override(void) {
        ProcSubscription s;
        Recorder r = {};

        proc_subscription_init(&s, &ops, &r, ALL_KINDS);
        s.listen_op = 3;
        proc_subscription_listen(&s);
        CHECK_EQ_INT(r.sent[0].op, 3);
        CHECK_EQ_INT(r.sent[1].op, PROC_CN_MCAST_LISTEN);
}

int main(void) {
        log_set_max_level(LOG_CRIT);

        test_new_kernel_all_kinds();
        test_new_kernel_narrows();
        test_old_kernel();
        test_old_kernel_no_ack_is_refusal();
        test_error_ack();
        test_error_ack_to_probe();
        test_unrelated_acks_change_nothing();
        test_client_messages_old_kernel();
        test_client_messages_new_kernel();
        test_send_failure();
        test_listen_op_override();
        return 0;
}
