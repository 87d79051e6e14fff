/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The relay: connector socket -> validated frames -> signals, and the accounting of what is
 * lost on the way (the kernel's drop counter, the bus queue, the Overrun signal). */

#include <linux/cn_proc.h>

#include "cnmsg.h"
#include "manager.h"
#include "notify.h"

/* recvmmsg() rounds per wake-up: bounded, so that bus traffic and timers get their turn. */
#define NETLINK_READS_PER_WAKEUP 4

#define OVERRUN_SIGNAL_INTERVAL_USEC USEC_PER_SEC

/* Loss accounting and the Overrun signal. */

void manager_update_kernel_drops(Manager *m) {
        uint64_t raw;

        if (!m->netlink || netlink_get_drops(m->netlink, &raw) < 0)
                return;
        /* The kernel's counter is 32 bits wide; add what it moved by since the last look. */
        m->kernel_dropped += (uint32_t) ((uint32_t) raw - m->kernel_drops_raw);
        m->kernel_drops_raw = (uint32_t) raw;
}

static bool loss_since_last_signal(Manager *m) {
        return m->kernel_dropped != m->signalled_kernel_dropped ||
               m->bus_dropped != m->signalled_bus_dropped;
}

static void signal_overrun(Manager *m) {
        m->signalled_kernel_dropped = m->kernel_dropped;
        m->signalled_bus_dropped = m->bus_dropped;
        m->overrun_signalled_usec = manager_now_usec(m);
        (void) bus_manager_emit_overrun(m);
        /* Look again in a second: either loss went on (another signal) or it stopped, and the
         * signal then carries the final totals. */
        (void) sd_event_source_set_time(m->overrun_timer, m->overrun_signalled_usec + OVERRUN_SIGNAL_INTERVAL_USEC);
        (void) sd_event_source_set_enabled(m->overrun_timer, SD_EVENT_ONESHOT);
}

static void arm_overrun_timer(Manager *m) {
        int enabled = SD_EVENT_OFF;

        (void) sd_event_source_get_enabled(m->overrun_timer, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;
        (void) sd_event_source_set_time(m->overrun_timer, manager_now_usec(m) + OVERRUN_SIGNAL_INTERVAL_USEC);
        (void) sd_event_source_set_enabled(m->overrun_timer, SD_EVENT_ONESHOT);
}

int relay_on_overrun_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        manager_update_kernel_drops(m);
        if (loss_since_last_signal(m))
                signal_overrun(m);
        else if (m->bus_congested)
                arm_overrun_timer(m);   /* the socket is paused: nobody else looks */
        return 0;
}

/* Called whenever a counter of lost messages may have moved. */
static void note_loss(Manager *m) {
        int enabled = SD_EVENT_OFF;

        manager_update_kernel_drops(m);
        if (!loss_since_last_signal(m))
                return;
        (void) sd_event_source_get_enabled(m->overrun_timer, &enabled);
        if (enabled != SD_EVENT_OFF)
                return; /* the timer will report it */
        if (m->overrun_signalled_usec == 0 ||
            manager_now_usec(m) >= m->overrun_signalled_usec + OVERRUN_SIGNAL_INTERVAL_USEC)
                signal_overrun(m);
        else {
                (void) sd_event_source_set_time(m->overrun_timer, m->overrun_signalled_usec + OVERRUN_SIGNAL_INTERVAL_USEC);
                (void) sd_event_source_set_enabled(m->overrun_timer, SD_EVENT_ONESHOT);
        }
}

/* The relay: datagram -> frames -> signals. */

/* What cnd's signals in sd-bus's write queue weigh. sd-bus tells how many messages wait, not
 * their bytes, but it writes them in order: a FIFO of the sizes of the signals cnd queued,
 * trimmed to the queue's length, gives the bytes. Method replies and the like in the queue
 * make it trim less, so the estimate errs on the heavy side. */
#define SIGNAL_OVERHEAD 1200    /* an sd_bus_message, its header and the allocator's share (measured) */

static void queue_trim(Manager *m, uint64_t queued) {
        QueueWeight *w = &m->queue_weight;

        while (w->len > queued) {
                w->bytes -= w->sizes[w->head];
                w->head = (w->head + 1) % w->capacity;
                w->len--;
        }
}

void relay_note_queued(Manager *m, size_t data_size) {
        QueueWeight *w = &m->queue_weight;
        uint32_t size = (uint32_t) MIN(data_size + SIGNAL_OVERHEAD, (size_t) UINT32_MAX);

        if (w->capacity != m->config.max_queued_signals + 1) {
                /* First use, or a reload changed the bound: start counting afresh. */
                uint32_t *a = reallocarray(w->sizes, m->config.max_queued_signals + 1, sizeof(uint32_t));

                if (!a)
                        return;
                *w = (QueueWeight) { .sizes = a, .capacity = m->config.max_queued_signals + 1 };
        }
        if (w->len == w->capacity)
                queue_trim(m, w->len - 1);
        w->sizes[(w->head + w->len) % w->capacity] = size;
        w->len++;
        w->bytes += size;
}

/* Back-pressure. At a high watermark — MaxQueuedSignals= messages or MaxQueuedBytes= in
 * sd-bus's write queue — cnd stops reading the connector socket: the kernel then drops what the
 * bus cannot take, and counts it exactly (SO_MEMINFO), instead of cnd spending the CPU the bus
 * needs on reading and discarding it. Reading resumes at the low watermark, a quarter of both
 * (relay_on_post). */
bool manager_may_send_signal(Manager *m) {
        uint64_t queued = 0;

        if (m->bus_congested)
                return false;
        if (sd_bus_get_n_queued_write(m->bus, &queued) < 0)
                return true;
        queue_trim(m, queued);
        if (queued < m->config.max_queued_signals && m->queue_weight.bytes < m->config.max_queued_bytes)
                return true;

        m->bus_congested = true;
        (void) sd_event_source_set_enabled(m->netlink_source, SD_EVENT_OFF);
        log_ratelimited(&m->log_bus_dropped, LOG_WARNING,
                        "Bus write queue holds %" PRIu64 " signals, about %" PRIu64 " KiB; "
                        "pausing the connector socket until it drains.",
                        queued, m->queue_weight.bytes / 1024);
        /* Report the kernel's drops while paused, too. */
        arm_overrun_timer(m);
        return false;
}

int relay_on_post(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        uint64_t queued = 0;

        if (!m->bus_congested || sd_bus_get_n_queued_write(m->bus, &queued) < 0)
                return 0;
        queue_trim(m, queued);
        if (queued > m->config.max_queued_signals / 4 || m->queue_weight.bytes > m->config.max_queued_bytes / 4)
                return 0;

        m->bus_congested = false;
        log_debug("Bus write queue drained to %" PRIu64 " signals; reading again.", queued);
        return sd_event_source_set_enabled(m->netlink_source, SD_EVENT_ON);
}

static void relay_message(Manager *m, const struct cn_msg *msg, bool batched) {
        bool created, may_signal, lost = false;
        CnId *id;

        id = idtable_get_for_message(&m->ids, msg->id.idx, msg->id.val, &created);
        if (!id) {
                /* Accepted but not publishable: account for it as a loss on our side. */
                m->received++;
                m->bus_dropped++;
                log_oom();
                return;
        }
        m->received++;
        id->received++;
        if (!id->registered)
                manager_request_rescan(m);

        /* A reply to a Request is still an ordinary message for everyone else. */
        if (m->requests.n > 0)
                (void) request_table_offer(&m->requests, msg);

        /* One message, one verdict on the bus, one count if it is lost, however many signals
         * it makes (cn_proc's typed one and, if enabled, the raw one). */
        may_signal = manager_may_send_signal(m);
        if (msg->id.idx == CN_IDX_PROC && msg->id.val == CN_VAL_PROC) {
                lost = proc_handle_message(m, msg, may_signal) < 0;
                if (!m->config.proc_raw_messages) {
                        m->bus_dropped += lost;
                        return;
                }
        }
        if (!may_signal)
                lost = true;
        else if (batched)
                lost = bus_id_batch_append(m, id, msg) < 0;
        else
                lost = bus_id_emit_message(m, id, msg) < 0;
        m->bus_dropped += lost;
}

static void reject(Manager *m, const NetlinkDatagram *d, unsigned n, const char *reason) {
        m->rejected += n;
        log_ratelimited(&m->log_rejected, LOG_WARNING,
                        "Rejected %u frame(s) from port %" PRIu32 " (group %" PRIu32 "): %s.",
                        n, d->sender, d->group, reason);
}

static void handle_datagram(Manager *m, const NetlinkDatagram *d) {
        CnDatagram dg;

        cn_datagram_init(&dg, d->data, d->size);

        if (d->truncated)
                return reject(m, d, 1, "datagram larger than a connector message");
        if (d->sender != 0 && !m->config.accept_userspace_senders)
                return reject(m, d, MAX(cn_datagram_count(dg), 1U), "sender is not the kernel");

        for (;;) {
                CnFrame f = cn_datagram_next(&dg);

                switch (f.kind) {
                case CN_FRAME_END:
                        return;
                case CN_FRAME_MESSAGE:
                        if (d->group != 0 && d->group == m->notify_group &&
                            notify_handle_message(m, f.msg))
                                break;
                        relay_message(m, f.msg, d->group != 0 && (m->config.batch_groups & GROUP_BIT(d->group)));
                        break;
                case CN_FRAME_MALFORMED:
                        reject(m, d, 1, f.reason);
                        break;
                case CN_FRAME_ERROR:
                        log_ratelimited(&m->log_netlink_error, LOG_NOTICE,
                                        "Netlink error message from port %" PRIu32 ": %s",
                                        d->sender, strerror(abs(f.error)));
                        break;
                case CN_FRAME_OVERRUN:
                        m->overruns++;
                        break;
                case CN_FRAME_NOOP:
                        break;
                }
        }
}

int relay_on_netlink_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;

        for (unsigned round = 0; round < NETLINK_READS_PER_WAKEUP; round++) {
                const NetlinkDatagram *d;
                int n = netlink_read(m->netlink, &d);

                /* Test hook: no real socket error but ENOBUFS can be caused from outside. */
                if (m->test_read_fault > 0 && --m->test_read_fault == 0)
                        n = -EIO;

                if (n == -ENOBUFS) {
                        m->overruns++;
                        continue;
                }
                if (n < 0) {
                        /* What this wake-up relayed goes out before the socket is replaced. */
                        bus_id_batch_flush_all(m);
                        note_loss(m);
                        return manager_reopen_netlink(m, n);
                }
                for (int i = 0; i < n; i++)
                        handle_datagram(m, &d[i]);
                if (n < NETLINK_BATCH)
                        break;
        }

        /* Batches go out at the end of every read batch: batching adds no waiting. */
        bus_id_batch_flush_all(m);
        note_loss(m);
        return 0;
}

