/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <linux/cn_proc.h>
#include <string.h>

#include "bus-proc.h"
#include "cnmsg.h"
#include "family.h"
#include "netlink.h"

/* How long an 8-byte LISTEN may go unanswered before we take the kernel for one that
 * predates struct proc_input (they ignore that form entirely, no ack). */
#define PROC_PROBE_TIMEOUT_USEC USEC_PER_SEC

/* What the Proc signals, the process table and the journal need. */
static uint32_t wanted_mask(const Config *c) {
        return proc_kinds_to_what_mask(c->proc_events | processes_wanted_kinds(c));
}

static bool group_joined(const FamilyContext *ctx) {
        return *ctx->groups & GROUP_BIT(CN_IDX_PROC);
}

/* What the subscription asks of the outside world. */

static int send_op(uint32_t op, const uint32_t *filter, uint32_t *ret_ack, void *userdata) {
        ProcFamily *p = userdata;
        ProcInput in = { .mcast_op = op, .event_type = filter ? *filter : 0 };

        return p->ctx->ops->send(p->ctx->userdata, CN_IDX_PROC, CN_VAL_PROC, &in,
                                filter ? sizeof(in) : sizeof(in.mcast_op), NULL, ret_ack);
}

static int send_detached(uint32_t op, void *userdata) {
        _cleanup_(netlink_freep) Netlink *nl = NULL;
        ProcFamily *p = userdata;
        uint32_t seq, ack;
        int r;

        r = netlink_open(&nl, 0);
        if (r < 0)
                return r;
        p->ctx->ops->new_seq_ack(p->ctx->userdata, &seq, &ack);
        return netlink_send(nl, CN_IDX_PROC, CN_VAL_PROC, seq, ack, 0, &op, sizeof(op));
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
        r = sd_event_add_time_relative(p->ctx->event, &p->probe_timer, CLOCK_MONOTONIC,
                                       PROC_PROBE_TIMEOUT_USEC, 0, on_probe_timeout, p);
        /* After the socket: an answer read at the same time as the timeout counts. */
        if (r >= 0)
                r = sd_event_source_set_priority(p->probe_timer, NETLINK_SOURCE_PRIORITY + 1);
        if (r < 0)
                log_warning_errno(r, "Failed to arm the cn_proc probe timer: %m");
}

static void restart_sequence(void *userdata) {
        ProcFamily *p = userdata;

        proc_seq_tracker_reset(&p->seq);
}

static void error_changed(void *userdata) {
        ProcFamily *p = userdata;

        p->ctx->ops->status_changed(p->ctx->userdata);
}

static const ProcSubscriptionOps subscription_ops = {
        .send = send_op,
        .send_detached = send_detached,
        .arm_probe = arm_probe,
        .restart_sequence = restart_sequence,
        .error_changed = error_changed,
};

/* Hooks. */

static int proc_init(FamilyContext *ctx, void *state) {
        ProcFamily *p = state;

        p->ctx = ctx;
        p->bus_processes = (BusProcesses) {
                .loss = ctx->loss, .access = ctx->access,
                .list_max = ctx->test_hooks->list_processes_max ?: BUS_PROCESSES_LIST_MAX,
        };
        processes_init(&p->processes, ctx->event, ctx->config, ctx->loss, ctx->streams,
                       ctx->test_hooks->process_queue_max,
                       &bus_processes_ops, &p->bus_processes);
        proc_subscription_init(&p->subscription, &subscription_ops, p, wanted_mask(ctx->config));
        /* A test build can make the kernel answer with an error ack, the one way to see cnd
         * handle one for real (a LISTEN without CAP_NET_ADMIN cannot even join group 1). */
        if (ctx->test_hooks->proc_listen_op)
                p->subscription.listen_op = ctx->test_hooks->proc_listen_op;
        /* A test build can look up units on a host without systemd, in a cgroup tree of its own. */
        if (ctx->test_hooks->unit_lookup)
                p->processes.read_flags &= ~PROCESS_READ_NO_UNIT;
        return 0;
}

static void proc_done(void *state) {
        ProcFamily *p = state;

        p->probe_timer = sd_event_source_disable_unref(p->probe_timer);
        proc_seq_tracker_done(&p->seq);
        processes_done(&p->processes);
        bus_processes_done(&p->bus_processes);
}

static void proc_joined(FamilyContext *ctx, void *state, unsigned group) {
        ProcFamily *p = state;

        if (group != CN_IDX_PROC)
                return;
        proc_subscription_listen(&p->subscription);
        processes_update(&p->processes, true, p->seq.lost);
}

/* Before leaving, while the socket still counts as a cn_proc listener. */
static void proc_leaving(FamilyContext *ctx, void *state, unsigned group) {
        ProcFamily *p = state;

        if (group != CN_IDX_PROC)
                return;
        proc_subscription_ignore(&p->subscription);
        processes_update(&p->processes, false, p->seq.lost);
}

static void proc_reconfigured(FamilyContext *ctx, void *state, const Config *old) {
        ProcFamily *p = state;

        processes_update(&p->processes, group_joined(ctx), p->seq.lost);
        if (wanted_mask(ctx->config) != wanted_mask(old))
                proc_subscription_set_wanted(&p->subscription, wanted_mask(ctx->config));
        if (ctx->config->proc_events != old->proc_events)
                bus_proc_emit_events_changed(p);
}

static void proc_batch_done(FamilyContext *ctx, void *state) {
        ProcFamily *p = state;

        processes_batch_done(&p->processes, p->seq.lost);
}

static bool proc_decodes(uint32_t idx, uint32_t val) {
        return idx == CN_IDX_PROC && val == CN_VAL_PROC;
}

static void track_sequence(ProcFamily *p, const struct cn_msg *msg, const ProcEvent *ev) {
        int lost;

        if (p->subscription.kernel_filters)
                return;
        lost = proc_seq_tracker_see(&p->seq, ev->cpu, msg->seq);
        if (lost > 0)
                log_debug("cn_proc: %d event(s) lost on CPU %" PRIu32 ".", lost, ev->cpu);
}

/* Returns 1 if the event became a signal, 0 if it was not to become one, negative if its
 * signal could not go out. */
static int publish(ProcFamily *p, const struct cn_msg *msg, bool may_signal) {
        const FamilyContext *ctx = p->ctx;
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
                log_ratelimited(ctx->log_rejected, LOG_WARNING,
                                "cn_proc event of %u bytes is too short for its type.", msg->len);
                return 0;
        case PROC_DECODE_EVENT:
                break;
        }

        track_sequence(p, msg, &ev);
        /* The table and the journal take every kind they asked for, whatever Events= lets out. */
        processes_event(&p->processes, &ev, may_signal);
        /* Older kernels send every kind, and the table's kinds are asked for too: the filter is
         * ours to apply. */
        if (!(ctx->config->proc_events & (UINT32_C(1) << ev.kind)))
                return 0;
        if (!may_signal || bus_proc_emit_event(p, &ev) < 0)
                return -ENOBUFS;
        return 1;
}

static int proc_decode(FamilyContext *ctx, void *state, const struct cn_msg *msg, bool may_signal) {
        int r = publish(state, msg, may_signal);

        if (r < 0)
                return r;
        return ctx->config->proc_raw_messages;
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

/* Clients' messages. cn_proc answers by multicast on group 1, and acts on the socket a message
 * came from (6.6+ keeps a LISTEN's filter per socket): so a client's message goes out on a
 * socket of its own, joined to group 1, never on cnd's, whose filter and subscription it would
 * change. The connector runs cn_proc in the sender's own send(2), so the answer is queued on
 * that socket when the send returns: only what is queued then can be the reply, and anyone who
 * would forge one would have had to guess the random ack before it was sent. */

/* Until the op is taken, the socket gets every event of the machine: room for a busy moment
 * between joining and sending, so the answer is not the one the kernel drops. Only what is
 * queued takes memory. */
#define CLIENT_SOCKET_BUFFER (4 * 1024 * 1024)

/* Takes the first ack with the expected ack value among what is queued now. */
static void find_reply(Netlink *nl, uint32_t seq, uint32_t ack, FamilyReply *reply) {
        for (;;) {
                const NetlinkDatagram *d;
                int n = netlink_read(nl, &d);

                if (n == -ENOBUFS)
                        continue;
                if (n <= 0)
                        return;
                for (int i = 0; i < n; i++) {
                        CnDatagram dg;

                        if (d[i].sender != 0 || d[i].truncated)
                                continue;
                        cn_datagram_init(&dg, d[i].data, d[i].size);
                        for (CnFrame f = cn_datagram_next(&dg); f.kind != CN_FRAME_END; f = cn_datagram_next(&dg))
                                if (f.kind == CN_FRAME_MESSAGE && proc_decodes(f.msg->id.idx, f.msg->id.val) &&
                                    proc_is_reply(f.msg, seq, ack)) {
                                        *reply = (FamilyReply) {
                                                .answered = true,
                                                .seq = f.msg->seq,
                                                .ack = f.msg->ack,
                                                .size = f.msg->len,
                                        };
                                        memcpy(reply->data, f.msg->data, f.msg->len);
                                        return;
                                }
                }
        }
}

static int proc_client_send(FamilyContext *ctx, void *state, const void *data, size_t size, uint32_t seq,
                            uint32_t ack, FamilyReply *reply) {
        _cleanup_(netlink_freep) Netlink *nl = NULL;
        ProcFamily *p = state;
        uint32_t undo, undo_seq, undo_ack;
        int r;

        r = netlink_open(&nl, CLIENT_SOCKET_BUFFER);
        if (r < 0)
                return r;
        r = netlink_join_group(nl, CN_IDX_PROC);
        if (r < 0)
                return r;
        r = netlink_send(nl, CN_IDX_PROC, CN_VAL_PROC, seq, ack, 0, data, size);
        if (r < 0)
                return r;
        find_reply(nl, seq, ack, reply);

        /* A LISTEN or IGNORE moved the kernel's listener count; closing the socket would not
         * move it back. */
        undo = proc_subscription_undo_op(&p->subscription, data, size);
        if (undo != 0) {
                ctx->ops->new_seq_ack(ctx->userdata, &undo_seq, &undo_ack);
                r = netlink_send(nl, CN_IDX_PROC, CN_VAL_PROC, undo_seq, undo_ack, 0, &undo, sizeof(undo));
                if (r < 0)
                        log_warning_errno(r, "Failed to undo a client's cn_proc subscription: %m");
        }
        return 0;
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
        .batch_done = proc_batch_done,
        .decodes = proc_decodes,
        .decode = proc_decode,
        .is_reply = proc_is_reply,
        .client_send = proc_client_send,
        .status = proc_status,
};
