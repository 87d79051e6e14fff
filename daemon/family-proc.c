/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <linux/cn_proc.h>
#include <string.h>

#include "family-proc.h"
#include "family.h"
#include "manager.h"

/* How long an 8-byte LISTEN may go unanswered before we take the kernel for one that
 * predates struct proc_input (they ignore that form entirely, no ack). */
#define PROC_PROBE_TIMEOUT_USEC USEC_PER_SEC

static uint32_t wanted_mask(const Config *c) {
        return proc_kinds_to_what_mask(c->proc_events);
}

/* What the subscription asks of the outside world. */

static int send_op(uint32_t op, const uint32_t *filter, uint32_t *ret_ack, void *userdata) {
        ProcFamily *p = userdata;
        ProcInput in = { .mcast_op = op, .event_type = filter ? *filter : 0 };

        return manager_send(p->manager, CN_IDX_PROC, CN_VAL_PROC, &in, filter ? sizeof(in) : sizeof(in.mcast_op),
                            NULL, ret_ack);
}

static int on_probe_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        ProcFamily *p = userdata;

        proc_subscription_probe_timeout(&p->subscription);
        return 0;
}

static void arm_probe(bool arm, void *userdata) {
        ProcFamily *p = userdata;
        int r;

        if (!arm) {
                (void) sd_event_source_set_enabled(p->probe_timer, SD_EVENT_OFF);
                return;
        }
        if (p->probe_timer) {
                (void) sd_event_source_set_time_relative(p->probe_timer, PROC_PROBE_TIMEOUT_USEC);
                (void) sd_event_source_set_enabled(p->probe_timer, SD_EVENT_ONESHOT);
                return;
        }
        r = sd_event_add_time_relative(p->manager->event, &p->probe_timer, CLOCK_MONOTONIC,
                                       PROC_PROBE_TIMEOUT_USEC, 0, on_probe_timeout, p);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the cn_proc probe timer: %m");
}

static void restart_sequence(void *userdata) {
        ProcFamily *p = userdata;

        proc_seq_tracker_reset(&p->seq);
}

static void error_changed(void *userdata) {
        ProcFamily *p = userdata;

        manager_notify_status(p->manager);
}

static const ProcSubscriptionOps subscription_ops = {
        .send = send_op,
        .arm_probe = arm_probe,
        .restart_sequence = restart_sequence,
        .error_changed = error_changed,
};

/* Hooks. */

static int proc_init(Manager *m, void *state) {
        ProcFamily *p = state;

        p->manager = m;
        proc_subscription_init(&p->subscription, &subscription_ops, p, wanted_mask(&m->config));
        /* A test build can make the kernel answer with an error ack, the one way to see cnd
         * handle one for real (a LISTEN without CAP_NET_ADMIN cannot even join group 1). */
        if (m->test_hooks.proc_listen_op)
                p->subscription.listen_op = m->test_hooks.proc_listen_op;
        return 0;
}

static void proc_done(void *state) {
        ProcFamily *p = state;

        p->probe_timer = sd_event_source_disable_unref(p->probe_timer);
        proc_seq_tracker_done(&p->seq);
}

static void proc_joined(Manager *m, void *state, unsigned group) {
        ProcFamily *p = state;

        if (group == CN_IDX_PROC)
                proc_subscription_listen(&p->subscription);
}

/* Before leaving, while the socket still counts as a cn_proc listener. */
static void proc_leaving(Manager *m, void *state, unsigned group) {
        ProcFamily *p = state;

        if (group == CN_IDX_PROC)
                proc_subscription_ignore(&p->subscription);
}

static void proc_reconfigured(Manager *m, void *state, const Config *old) {
        ProcFamily *p = state;

        if (m->config.proc_events == old->proc_events)
                return;
        proc_subscription_set_wanted(&p->subscription, wanted_mask(&m->config));
        bus_proc_emit_events_changed(p);
}

static bool proc_decodes(uint32_t idx, uint32_t val) {
        return idx == CN_IDX_PROC && val == CN_VAL_PROC;
}

static void track_sequence(ProcFamily *p, const struct cn_msg *msg, const ProcEvent *ev) {
        int lost;

        if (p->subscription.kernel_narrows)
                return;
        lost = proc_seq_tracker_see(&p->seq, ev->cpu, msg->seq);
        if (lost > 0)
                log_debug("cn_proc: %d event(s) lost on CPU %" PRIu32 ".", lost, ev->cpu);
}

/* Returns 1 if the event became a signal, 0 if it was not to become one, negative if its
 * signal could not go out. */
static int publish(ProcFamily *p, const struct cn_msg *msg, bool may_signal) {
        Manager *m = p->manager;
        ProcEvent ev;

        switch (proc_event_decode(msg->data, msg->len, &ev)) {
        case PROC_DECODE_ACK:
                track_sequence(p, msg, &ev);
                proc_subscription_ack(&p->subscription, msg->ack, ev.ack_err);
                return 0;
        case PROC_DECODE_UNKNOWN:
                track_sequence(p, msg, &ev);
                p->unknown++;
                return 0;
        case PROC_DECODE_MALFORMED:
                p->malformed++;
                log_ratelimited(&m->log_rejected, LOG_WARNING,
                                "cn_proc event of %u bytes is too short for its type.", msg->len);
                return 0;
        case PROC_DECODE_EVENT:
                break;
        }

        track_sequence(p, msg, &ev);
        /* Older kernels send every kind: the filter is ours to apply. */
        if (!(m->config.proc_events & (UINT32_C(1) << ev.kind)))
                return 0;
        if (!may_signal || bus_proc_emit_event(p, &ev) < 0)
                return -ENOBUFS;
        return 1;
}

static int proc_decode(Manager *m, void *state, const struct cn_msg *msg, bool may_signal) {
        int r = publish(state, msg, may_signal);

        if (r < 0)
                return r;
        return m->config.proc_raw_messages;
}

/* The connector protocol's reply rule does not hold here: cn_proc answers with a seq of its own
 * (a per-CPU event counter), so the ack must tell, and the message must be an ack
 * (PROC_EVENT_NONE): its events carry ack 0, which an ack of 0xffffffff + 1 would match. */
static bool proc_is_reply(const struct cn_msg *msg, uint32_t seq, uint32_t ack) {
        uint32_t what;

        if (msg->ack != ack + 1 || msg->len < sizeof(what))
                return false;
        memcpy(&what, msg->data, sizeof(what));
        return what == PROC_EVENT_NONE;
}

static void proc_client_sent(Manager *m, void *state, const void *data, size_t size) {
        ProcFamily *p = state;

        proc_subscription_client_sent(&p->subscription, data, size);
}

static const char *proc_status(void *state) {
        ProcFamily *p = state;

        return p->subscription.error[0] ? p->subscription.error : NULL;
}

const Family family_proc = {
        .name = "cn_proc",
        .state_size = sizeof(ProcFamily),
        .init = proc_init,
        .done = proc_done,
        .bus_setup = bus_proc_setup,
        .joined = proc_joined,
        .leaving = proc_leaving,
        .reconfigured = proc_reconfigured,
        .decodes = proc_decodes,
        .decode = proc_decode,
        .is_reply = proc_is_reply,
        .client_sent = proc_client_sent,
        .status = proc_status,
};
