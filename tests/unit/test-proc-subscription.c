/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/cnproc/proc-subscription.c, cnd's cn_proc subscription, driven as the two kinds
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

#define MAX_SENT (PROC_LISTENS_MAX + 8)

typedef struct Sent {
        uint32_t op;
        bool has_filter;
        uint32_t filter;
        uint32_t ack;
} Sent;

typedef struct Recorder {
        Sent sent[MAX_SENT];
        unsigned n_sent;
        uint32_t detached[MAX_SENT];    /* ops sent from a socket of their own */
        unsigned n_detached;
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

static int rec_send_detached(uint32_t op, void *userdata) {
        Recorder *r = userdata;

        CHECK(r->n_detached < MAX_SENT);
        r->detached[r->n_detached++] = op;
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
        .send_detached = rec_send_detached,
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
        /* Every kind wanted, still a filter: every kind's bit, never PROC_EVENT_ALL, which
         * would let acks in — anyone's, as many as anyone cares to make the kernel send. */
        CHECK_EQ_INT(r.n_sent, 3);
        CHECK(r.sent[2].has_filter);
        CHECK_EQ_INT(r.sent[2].filter, ALL_KINDS);
        CHECK(r.sent[2].filter != PROC_EVENT_ALL_MASK);
        CHECK(s.kernel_filters);
        CHECK_EQ_INT(r.restarts, 2);

        proc_subscription_ignore(&s);
        CHECK(!s.listening);
        CHECK_EQ_INT(r.n_sent, 4);
        CHECK_EQ_INT(r.sent[3].op, PROC_CN_MCAST_IGNORE);
        CHECK(!r.sent[3].has_filter);
}

static void test_no_kinds_is_every_kind(void) {
        ProcSubscription s;
        Recorder r;

        /* A mask of 0 would read as "nothing" to cnd but as PROC_EVENT_NONE to the kernel. */
        start(&s, &r, 0);
        answer_as_new_kernel(&s, &r);
        CHECK_EQ_INT(r.sent[2].filter, ALL_KINDS);
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
        CHECK(s.kernel_filters);
        CHECK_EQ_INT(r.restarts, 2);            /* the sequence restarts with the filter */

        /* Back to every kind at run time: every kind's bit, and still no acks. */
        proc_subscription_set_wanted(&s, ALL_KINDS);
        CHECK_EQ_INT(r.n_sent, 4);
        CHECK_EQ_INT(r.sent[3].filter, ALL_KINDS);
        CHECK(s.kernel_filters);
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

/* 6.1 with its machine-wide count at -2 (someone sent two IGNOREs too many): cn_proc counts
 * the LISTEN but acks it only once the count is at least one. */
static void test_old_kernel_count_below_zero(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        proc_subscription_probe_timeout(&s);            /* -1: no ack; sent again */
        CHECK_EQ_INT(s.support, PROC_FILTER_LOCAL);
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_PENDING);
        CHECK_EQ_INT(r.n_sent, 3);
        CHECK_EQ_INT(r.sent[2].op, PROC_CN_MCAST_LISTEN);
        CHECK(!r.sent[2].has_filter);
        CHECK(r.probe_armed);
        proc_subscription_probe_timeout(&s);            /* 0: no ack; sent again */
        CHECK_EQ_INT(r.n_sent, 4);
        proc_subscription_ack(&s, r.sent[3].ack + 1, 0); /* 1: acked, events flow */
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_COUNTED);
        CHECK(!r.probe_armed);
        CHECK_STREQ(s.error, "");

        /* Answers to the LISTENs before it, were they to come now, change nothing. */
        proc_subscription_ack(&s, r.sent[0].ack + 1, EPERM);
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_COUNTED);
        CHECK_EQ_INT(r.n_sent, 4);

        /* One IGNORE: the count goes back to zero, not to -2. */
        proc_subscription_ignore(&s);
        CHECK_EQ_INT(r.n_sent, 5);
        CHECK_EQ_INT(r.sent[4].op, PROC_CN_MCAST_IGNORE);
}

/* 6.1, count fine, but the ack read only after the timer fired: the LISTEN sent again counted
 * too, and is taken back, from a socket of its own, when its own ack shows it. */
static void test_old_kernel_late_ack(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        proc_subscription_probe_timeout(&s);
        CHECK_EQ_INT(r.n_sent, 3);
        proc_subscription_ack(&s, r.sent[0].ack + 1, 0);
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_COUNTED);
        proc_subscription_ack(&s, r.sent[2].ack + 1, 0);
        CHECK_EQ_INT(r.n_sent, 3);
        CHECK_EQ_INT(r.n_detached, 1);
        CHECK_EQ_INT(r.detached[0], PROC_CN_MCAST_IGNORE);
        /* The same ack again is not another LISTEN to take back. */
        proc_subscription_ack(&s, r.sent[2].ack + 1, 0);
        CHECK_EQ_INT(r.n_detached, 1);
        proc_subscription_ignore(&s);
        CHECK_EQ_INT(r.n_sent, 4);
        CHECK_EQ_INT(r.sent[3].op, PROC_CN_MCAST_IGNORE);
}

/* 6.6+, its answers read only after the probe's second (cnd's loop was busy): the LISTEN sent
 * again changes nothing on that kernel, the late probe answer makes the kernel filter after
 * all, and nothing is taken back: an IGNORE on cnd's socket would stop its events. */
static void test_new_kernel_acks_read_late(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, EXEC_ONLY);
        proc_subscription_probe_timeout(&s);
        CHECK_EQ_INT(r.n_sent, 3);                      /* LISTEN again */
        proc_subscription_ack(&s, r.sent[0].ack + 1, 0);
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_COUNTED);
        proc_subscription_ack(&s, r.sent[1].ack + 1, 0);        /* the probe's answer */
        CHECK_EQ_INT(s.support, PROC_FILTER_KERNEL);
        CHECK(!r.probe_armed);
        CHECK_EQ_INT(r.n_sent, 4);                      /* the filter, last */
        CHECK(r.sent[3].has_filter);
        CHECK_EQ_INT(r.sent[3].filter, EXEC_ONLY);
        proc_subscription_ack(&s, r.sent[2].ack + 1, 0);
        CHECK_EQ_INT(r.n_sent, 4);
        CHECK_EQ_INT(r.n_detached, 0);
        for (unsigned i = 0; i < r.n_sent; i++)
                CHECK(r.sent[i].op != PROC_CN_MCAST_IGNORE);
        /* A timer that fired meanwhile changes nothing either. */
        proc_subscription_probe_timeout(&s);
        CHECK_EQ_INT(s.support, PROC_FILTER_KERNEL);
        CHECK_EQ_INT(r.n_sent, 4);
}

static void test_old_kernel_never_acks(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        for (unsigned i = 1; i < PROC_LISTENS_MAX; i++) {
                proc_subscription_probe_timeout(&s);
                CHECK_EQ_INT(s.listen_state, PROC_LISTEN_PENDING);
                CHECK(r.probe_armed);
        }
        CHECK_EQ_INT(r.n_sent, PROC_LISTENS_MAX + 1);
        proc_subscription_probe_timeout(&s);
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_REFUSED);
        CHECK_EQ_INT(r.n_sent, PROC_LISTENS_MAX + 1);
        /* The count is still below one: an IGNORE would only take it further down. */
        proc_subscription_ignore(&s);
        CHECK_EQ_INT(r.n_sent, PROC_LISTENS_MAX + 1);
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

/* A listener that captured cnd's acks sends them back to cn_proc (with an op it refuses): the
 * kernel multicasts error acks carrying the values cnd waits for. Each is taken once, and the
 * real one comes first, in cnd's own send. */
static void test_replayed_acks_change_nothing(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        answer_as_new_kernel(&s, &r);
        for (unsigned i = 0; i < 600; i++) {
                proc_subscription_ack(&s, r.sent[0].ack + 1, EINVAL);
                proc_subscription_ack(&s, r.sent[1].ack + 1, EINVAL);
        }
        CHECK_EQ_INT(s.listen_state, PROC_LISTEN_COUNTED);
        CHECK_EQ_INT(s.support, PROC_FILTER_KERNEL);
        CHECK_STREQ(s.error, "");
        CHECK_EQ_INT(r.error_changes, 0);
        CHECK_EQ_INT(r.n_sent, 3);
}

/* The same refusal again is not told again. */
static void test_error_is_told_once(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        proc_subscription_ack(&s, r.sent[1].ack + 1, EPERM);
        proc_subscription_ignore(&s);
        proc_subscription_listen(&s);              /* clears the error: told */
        CHECK_EQ_INT(r.error_changes, 2);
        proc_subscription_ack(&s, r.sent[3].ack + 1, EPERM);
        CHECK_EQ_INT(r.error_changes, 3);
}

static void check_undo(const ProcSubscription *s, uint32_t op, bool eight_bytes, uint32_t expected) {
        ProcInput input = { .mcast_op = op, .event_type = PROC_EVENT_ALL_MASK };

        CHECK_EQ_INT(proc_subscription_undo_op(s, &input, eight_bytes ? sizeof(input) : sizeof(op)), expected);
}

static void test_undo_old_kernel(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        proc_subscription_ack(&s, r.sent[0].ack + 1, 0);
        proc_subscription_probe_timeout(&s);

        /* One count for the machine: whatever a client's 4-byte op did is undone. The 8-byte
         * form moved nothing on such a kernel, and other data is no op at all. */
        check_undo(&s, PROC_CN_MCAST_LISTEN, false, PROC_CN_MCAST_IGNORE);
        check_undo(&s, PROC_CN_MCAST_IGNORE, false, PROC_CN_MCAST_LISTEN);
        check_undo(&s, PROC_CN_MCAST_LISTEN, true, 0);
        check_undo(&s, PROC_CN_MCAST_IGNORE, true, 0);
        CHECK_EQ_INT(proc_subscription_undo_op(&s, "abc", 3), 0);
        check_undo(&s, 3, false, 0);
}

static void test_undo_new_kernel(void) {
        ProcSubscription s;
        Recorder r;

        start(&s, &r, ALL_KINDS);
        answer_as_new_kernel(&s, &r);

        /* A LISTEN in either form counts for the client's socket; an IGNORE from a socket that
         * never listened takes nothing off. */
        check_undo(&s, PROC_CN_MCAST_LISTEN, false, PROC_CN_MCAST_IGNORE);
        check_undo(&s, PROC_CN_MCAST_LISTEN, true, PROC_CN_MCAST_IGNORE);
        check_undo(&s, PROC_CN_MCAST_IGNORE, false, 0);
        check_undo(&s, PROC_CN_MCAST_IGNORE, true, 0);
}

static void test_undo_unknown_kernel(void) {
        ProcSubscription s;
        Recorder r;

        /* Still probing: an IGNORE is put back (an old kernel took one off for everyone); an
         * 8-byte LISTEN is left (an old kernel ignored it). */
        start(&s, &r, ALL_KINDS);
        check_undo(&s, PROC_CN_MCAST_IGNORE, false, PROC_CN_MCAST_LISTEN);
        check_undo(&s, PROC_CN_MCAST_LISTEN, true, 0);
        check_undo(&s, PROC_CN_MCAST_LISTEN, false, PROC_CN_MCAST_IGNORE);
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
        test_no_kinds_is_every_kind();
        test_new_kernel_narrows();
        test_old_kernel();
        test_old_kernel_count_below_zero();
        test_old_kernel_late_ack();
        test_new_kernel_acks_read_late();
        test_old_kernel_never_acks();
        test_error_ack();
        test_error_ack_to_probe();
        test_unrelated_acks_change_nothing();
        test_replayed_acks_change_nothing();
        test_error_is_told_once();
        test_undo_old_kernel();
        test_undo_new_kernel();
        test_undo_unknown_kernel();
        test_send_failure();
        test_listen_op_override();
        return 0;
}
