/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The relay: connector socket -> validated frames -> families and signals. Data flows one way:
 * a frame is checked (cnmsg.c), offered to the families (family.h) and to waiting requests, and
 * published; what could not be published is counted by loss.c. */

#include "cnmsg.h"
#include "relay.h"

/* recvmmsg() rounds per wake-up: bounded, so that bus traffic and timers get their turn (up
 * to 1024 datagrams, a fraction of a millisecond), and large enough that a busy socket is read
 * in few wake-ups and a stream's packet fills before the batch ends. */
#define NETLINK_READS_PER_WAKEUP 16

/* How a group's messages go out on the bus (BatchGroups=, StreamOnlyGroups=). */
typedef enum Publish {
        PUBLISH_MESSAGE,                /* one Message signal each */
        PUBLISH_BATCHED,                /* gathered into Messages signals */
        PUBLISH_STREAMS_ONLY,           /* no signal of its own: streams carry it */
} Publish;

/* Publishes one accepted message of id: returns negative if its signal could not go out. */
static int publish(Relay *relay, CnId *id, const struct cn_msg *msg, Publish how, bool may_signal) {
        const Family *f = family_for_id(msg->id.idx, msg->id.val);
        int r;

        if (f) {
                r = f->decode(relay->families, family_state(relay->families, f), msg, may_signal);
                if (r <= 0)
                        return r;
        }
        if (how == PUBLISH_STREAMS_ONLY)
                return 0;
        if (!may_signal)
                return -ENOBUFS;
        if (how == PUBLISH_BATCHED)
                return batcher_append(relay->batcher, id, msg);
        return bus_id_emit_message(relay->bus_ids, id, msg);
}

static void relay_message(Relay *relay, const struct cn_msg *msg, Publish how) {
        bool created;
        CnId *id;

        loss_count_received(relay->loss);
        id = idtable_get_for_message(relay->ids, msg->id.idx, msg->id.val, &created);
        if (!id) {
                /* Accepted but not publishable: account for it as a loss on our side. */
                loss_count_bus_dropped(relay->loss, 1);
                log_oom();
                return;
        }
        id->received++;
        /* Asked for once at the end of the batch: per message it costs more than the read. */
        if (!id->registered)
                relay->rescan_wanted = true;

        /* A reply to a Request is still an ordinary message for everyone else. */
        if (relay->requests->n > 0)
                (void) request_table_offer(relay->requests, msg);
        /* Streams count their own loss, apart from the bus's. */
        if (relay->streams->n > 0)
                streams_message(relay->streams, msg);

        /* One message, one verdict on the bus, one count if it is lost, however many signals
         * it makes (a family's decoded one and, if enabled, the raw one). A message that makes
         * no signal of its own needs no verdict, unless a family decodes it. */
        if (how == PUBLISH_STREAMS_ONLY && !family_for_id(msg->id.idx, msg->id.val))
                return;
        if (publish(relay, id, msg, how, loss_may_signal(relay->loss)) < 0)
                loss_count_bus_dropped(relay->loss, 1);
}

static void reject(Relay *relay, const NetlinkDatagram *d, unsigned n, const char *reason) {
        loss_count_rejected(relay->loss, n);
        log_ratelimited(relay->log_rejected, LOG_WARNING,
                        "Rejected %u frame(s) from port %" PRIu32 " (group %" PRIu32 "): %s.",
                        n, d->sender, d->group, reason);
}

static Publish publish_for(const Config *c, uint32_t group) {
        if (group == 0)
                return PUBLISH_MESSAGE;         /* unicast: an answer to cnd */
        if (c->stream_only_groups & GROUP_BIT(group))
                return PUBLISH_STREAMS_ONLY;
        return c->batch_groups & GROUP_BIT(group) ? PUBLISH_BATCHED : PUBLISH_MESSAGE;
}

static void handle_datagram(Relay *relay, const NetlinkDatagram *d) {
        Publish how = publish_for(relay->config, d->group);
        CnDatagram dg;

        cn_datagram_init(&dg, d->data, d->size);

        if (d->truncated)
                return reject(relay, d, 1, "datagram larger than a connector message");
        if (d->sender != 0 && !relay->config->accept_userspace_senders)
                return reject(relay, d, MAX(cn_datagram_count(dg), 1U), "sender is not the kernel");

        for (;;) {
                CnFrame f = cn_datagram_next(&dg);

                switch (f.kind) {
                case CN_FRAME_END:
                        return;
                case CN_FRAME_MESSAGE:
                        if (!families_intercept(relay->families, d->group, f.msg))
                                relay_message(relay, f.msg, how);
                        break;
                case CN_FRAME_MALFORMED:
                        reject(relay, d, 1, f.reason);
                        break;
                case CN_FRAME_ERROR:
                        log_ratelimited(relay->log_netlink_error, LOG_NOTICE,
                                        "Netlink error message from port %" PRIu32 ": %s",
                                        d->sender, strerror(abs(f.error)));
                        break;
                case CN_FRAME_OVERRUN:
                        loss_count_overrun(relay->loss);
                        break;
                case CN_FRAME_NOOP:
                        break;
                }
        }
}

/* Batches and stream packets go out at the end of every read batch (batching adds no waiting),
 * loss is reported, and the families learn that the batch is over. */
static void end_of_batch(Relay *relay) {
        if (relay->rescan_wanted) {
                relay->rescan_wanted = false;
                relay->ops->request_rescan(relay->userdata);
        }
        batcher_flush(relay->batcher);
        loss_check(relay->loss);
        streams_batch_done(relay->streams, relay->loss->kernel_dropped);
        FAMILIES_CALL(relay->families, batch_done);
}

int relay_on_netlink_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Relay *relay = userdata;

        relay_turn_taken(relay->turn);
        for (unsigned round = 0; round < NETLINK_READS_PER_WAKEUP; round++) {
                const NetlinkDatagram *d;
                int n = netlink_read(*relay->netlink, &d);

                if (test_hook_read_fault(relay->test_hooks))
                        n = -EIO;
                if (n == -ENOBUFS) {
                        loss_count_overrun(relay->loss);
                        continue;
                }
                if (n < 0) {
                        /* What this wake-up relayed goes out before the socket is replaced. */
                        end_of_batch(relay);
                        return relay->ops->reopen(relay->userdata, n);
                }
                for (int i = 0; i < n; i++)
                        handle_datagram(relay, &d[i]);
                if (n < NETLINK_BATCH)
                        break;
        }

        end_of_batch(relay);
        return 0;
}
