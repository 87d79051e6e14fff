/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>

#include "manager.h"
#include "proc.h"

/* How long an 8-byte LISTEN may go unanswered before we take the kernel for one that
 * predates struct proc_input (they ignore that form entirely, no ack). */
#define PROC_PROBE_TIMEOUT_USEC USEC_PER_SEC

static int send_op(Manager *m, uint32_t op, const uint32_t *event_type, uint32_t *ret_ack) {
        ProcInput in = { .mcast_op = op, .event_type = event_type ? *event_type : 0 };
        int r;

        r = manager_send(m, CN_IDX_PROC, CN_VAL_PROC, &in, event_type ? sizeof(in) : sizeof(in.mcast_op),
                         NULL, ret_ack);
        if (r < 0)
                log_warning_errno(r, "Failed to send %s to cn_proc: %m",
                                  op == PROC_CN_MCAST_LISTEN ? "PROC_CN_MCAST_LISTEN" : "PROC_CN_MCAST_IGNORE");
        return r;
}

static uint32_t wanted_mask(Manager *m) {
        return proc_kinds_to_what_mask(m->config.proc_events);
}

/* On a kernel that filters, ask for just what is configured. With every kind (or none, which
 * the kernel would read as every kind) the ALL filter stays. */
static void apply_kernel_filter(Manager *m) {
        uint32_t mask = wanted_mask(m);

        m->proc.kernel_narrows = mask != 0 && mask != proc_kinds_to_what_mask(PROC_KINDS_ALL);
        if (!m->proc.kernel_narrows)
                mask = PROC_EVENT_ALL_MASK;
        /* With a narrower filter the kernel sends no ack (the filter applies to it too). */
        (void) send_op(m, PROC_CN_MCAST_LISTEN, &mask, NULL);
        proc_seq_tracker_reset(&m->proc.seq);
}

static int on_probe_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        log_info("cn_proc did not answer the 8-byte LISTEN: a kernel before 6.6, cnd filters events itself.");
        m->proc.support = PROC_FILTER_LOCAL;
        if (m->proc.listen_state == LISTEN_PENDING) {
                /* Such a kernel acks every LISTEN that counts: this one did not. */
                m->proc.listen_state = LISTEN_REFUSED;
                log_warning("cn_proc did not acknowledge PROC_CN_MCAST_LISTEN.");
        }
        return 0;
}

static void arm_probe_timer(Manager *m) {
        int r;

        if (m->proc.probe_timer) {
                (void) sd_event_source_set_time_relative(m->proc.probe_timer, PROC_PROBE_TIMEOUT_USEC);
                (void) sd_event_source_set_enabled(m->proc.probe_timer, SD_EVENT_ONESHOT);
                return;
        }
        r = sd_event_add_time_relative(m->event, &m->proc.probe_timer, CLOCK_MONOTONIC,
                                       PROC_PROBE_TIMEOUT_USEC, 0, on_probe_timeout, m);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the cn_proc probe timer: %m");
}

void proc_listen(Manager *m) {
        uint32_t all = PROC_EVENT_ALL_MASK;

        m->proc.listening = true;
        m->proc.listen_state = LISTEN_PENDING;
        m->proc.kernel_narrows = false;
        m->proc.error[0] = '\0';
        proc_seq_tracker_reset(&m->proc.seq);

        /* The 4-byte LISTEN every kernel takes and acks: events flow at once. */
        if (send_op(m, m->proc.test_listen_op ?: PROC_CN_MCAST_LISTEN, NULL, &m->proc.listen_ack) < 0)
                return;

        /* Then which kernel this is shows in an answer, not in a version string that would not
         * tell for backports: 6.6+ acks an 8-byte LISTEN for all events (the same subscription,
         * no second listener), older kernels ignore that form without an answer. */
        m->proc.support = PROC_FILTER_UNKNOWN;
        if (send_op(m, PROC_CN_MCAST_LISTEN, &all, &m->proc.probe_ack) < 0)
                return;
        arm_probe_timer(m);
}

void proc_ignore(Manager *m) {
        m->proc.listening = false;
        (void) sd_event_source_set_enabled(m->proc.probe_timer, SD_EVENT_OFF);
        /* Older kernels keep one machine-wide listener count: an IGNORE missed here would leak
         * it, and one for a LISTEN that did not count would take someone else's: unless the
         * kernel refused ours (an error ack, or none in time), it counted, answered yet or not.
         * 6.6+ keeps the state per socket and takes an IGNORE either way. */
        if (m->proc.listen_state != LISTEN_REFUSED || m->proc.support == PROC_FILTER_KERNEL)
                (void) send_op(m, PROC_CN_MCAST_IGNORE, NULL, NULL);
}

void proc_events_changed(Manager *m) {
        if (m->proc.listening && m->proc.support == PROC_FILTER_KERNEL)
                apply_kernel_filter(m);
        (void) sd_bus_emit_properties_changed(m->bus, CND_PROC_PATH, CND_PROC_IFACE, "Events", NULL);
}

void proc_after_client_message(Manager *m, const void *data, size_t size) {
        uint32_t op;

        if (!m->proc.listening || (size != sizeof(uint32_t) && size != sizeof(ProcInput)))
                return;
        memcpy(&op, data, sizeof(op));
        if (op != PROC_CN_MCAST_LISTEN && op != PROC_CN_MCAST_IGNORE)
                return;

        if (m->proc.support == PROC_FILTER_LOCAL) {
                /* Before 6.6 a LISTEN or IGNORE only moves one machine-wide listener count:
                 * undo the client's move, so that it neither leaks nor silences anyone. The
                 * 8-byte form those kernels ignore moved nothing. */
                if (size == sizeof(uint32_t))
                        (void) send_op(m, op == PROC_CN_MCAST_LISTEN ? PROC_CN_MCAST_IGNORE : PROC_CN_MCAST_LISTEN,
                                       NULL, NULL);
        } else if (op == PROC_CN_MCAST_IGNORE)
                /* 6.6+: an IGNORE switched our socket off. */
                proc_listen(m);
        else if (m->proc.support == PROC_FILTER_KERNEL)
                /* 6.6+: a LISTEN replaced our socket's filter. */
                apply_kernel_filter(m);
}

static void note_ack_error(Manager *m, const char *what, uint32_t err) {
        snprintf(m->proc.error, sizeof(m->proc.error), "cn_proc refused %s: %s", what, strerror((int) err));
        log_error("%s", m->proc.error);
        manager_notify_status(m);
}

static void handle_ack(Manager *m, const struct cn_msg *msg, const ProcEvent *ev) {
        if (msg->ack == m->proc.listen_ack + 1) {
                m->proc.listen_state = ev->ack_err == 0 ? LISTEN_COUNTED : LISTEN_REFUSED;
                if (ev->ack_err != 0)
                        note_ack_error(m, "PROC_CN_MCAST_LISTEN", ev->ack_err);
        } else if (m->proc.support == PROC_FILTER_UNKNOWN && msg->ack == m->proc.probe_ack + 1) {
                (void) sd_event_source_set_enabled(m->proc.probe_timer, SD_EVENT_OFF);
                if (ev->ack_err != 0) {
                        note_ack_error(m, "the 8-byte PROC_CN_MCAST_LISTEN", ev->ack_err);
                        return;
                }
                log_debug("cn_proc takes struct proc_input: the kernel filters events.");
                m->proc.support = PROC_FILTER_KERNEL;
                if (wanted_mask(m) != proc_kinds_to_what_mask(PROC_KINDS_ALL))
                        apply_kernel_filter(m);
        }
}

static void track_sequence(Manager *m, const struct cn_msg *msg, const ProcEvent *ev) {
        int lost;

        if (m->proc.kernel_narrows)
                return;
        lost = proc_seq_tracker_see(&m->proc.seq, ev->cpu, msg->seq);
        if (lost > 0)
                log_debug("cn_proc: %d event(s) lost on CPU %" PRIu32 ".", lost, ev->cpu);
}

int proc_handle_message(Manager *m, const struct cn_msg *msg, bool may_signal) {
        ProcEvent ev;

        switch (proc_event_decode(msg->data, msg->len, &ev)) {
        case PROC_DECODE_ACK:
                track_sequence(m, msg, &ev);
                handle_ack(m, msg, &ev);
                return 0;
        case PROC_DECODE_UNKNOWN:
                track_sequence(m, msg, &ev);
                m->proc.unknown++;
                return 0;
        case PROC_DECODE_MALFORMED:
                m->proc.malformed++;
                log_ratelimited(&m->log_rejected, LOG_WARNING,
                                "cn_proc event of %u bytes is too short for its type.", msg->len);
                return 0;
        case PROC_DECODE_EVENT:
                break;
        }

        track_sequence(m, msg, &ev);
        /* Older kernels send every kind: the filter is ours to apply. */
        if (!(m->config.proc_events & (UINT32_C(1) << ev.kind)))
                return 0;
        if (!may_signal || bus_proc_emit_event(m, &ev) < 0)
                return -ENOBUFS;
        return 1;
}

void proc_state_done(ProcState *p) {
        sd_event_source_disable_unref(p->probe_timer);
        p->probe_timer = NULL;
        proc_seq_tracker_done(&p->seq);
}
