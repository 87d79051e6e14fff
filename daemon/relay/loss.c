/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>

#include "event-util.h"
#include "loss.h"

#define OVERRUN_SIGNAL_INTERVAL_USEC USEC_PER_SEC

/* What a queued signal weighs beyond its payload: an sd_bus_message, its header and the
 * allocator's share (measured). */
#define SIGNAL_OVERHEAD 1200

static uint64_t now(Loss *l) {
        uint64_t t;

        (void) sd_event_now(l->event, CLOCK_MONOTONIC, &t);
        return t;
}

static void update_kernel_drops(Loss *l) {
        uint64_t raw;

        if (!l->netlink || netlink_get_drops(l->netlink, &raw) < 0)
                return;
        /* The kernel's counter is 32 bits wide; add what it moved by since the last look. */
        l->kernel_dropped += (uint32_t) ((uint32_t) raw - l->kernel_drops_raw);
        l->kernel_drops_raw = (uint32_t) raw;
}

uint64_t loss_kernel_dropped(Loss *l) {
        update_kernel_drops(l);
        return l->kernel_dropped;
}

void loss_count_received(Loss *l) {
        l->received++;
}

void loss_count_rejected(Loss *l, unsigned n) {
        l->rejected += n;
}

void loss_count_overrun(Loss *l) {
        l->overruns++;
}

void loss_count_bus_dropped(Loss *l, uint64_t n) {
        l->bus_dropped += n;
}

/* The Overrun signal. */

static bool loss_since_last_signal(Loss *l) {
        return l->kernel_dropped != l->signalled_kernel_dropped || l->bus_dropped != l->signalled_bus_dropped;
}

static void signal_overrun(Loss *l) {
        l->signalled_kernel_dropped = l->kernel_dropped;
        l->signalled_bus_dropped = l->bus_dropped;
        l->overrun_signalled_usec = now(l);
        l->on_overrun(l->kernel_dropped, l->bus_dropped, l->userdata);
        /* Look again in a second: either loss went on (another signal) or it stopped, and the
         * signal then carries the final totals. */
        event_timer_arm(l->overrun_timer, l->overrun_signalled_usec + OVERRUN_SIGNAL_INTERVAL_USEC);
}

static int on_overrun_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Loss *l = userdata;

        update_kernel_drops(l);
        if (loss_since_last_signal(l))
                signal_overrun(l);
        else if (l->congested)
                /* The socket is paused: nobody else looks. */
                event_timer_arm(l->overrun_timer, now(l) + OVERRUN_SIGNAL_INTERVAL_USEC);
        return 0;
}

void loss_check(Loss *l) {
        update_kernel_drops(l);
        if (!loss_since_last_signal(l) || event_source_is_armed(l->overrun_timer))
                return; /* nothing new, or the timer will report it */
        if (l->overrun_signalled_usec == 0 || now(l) >= l->overrun_signalled_usec + OVERRUN_SIGNAL_INTERVAL_USEC)
                signal_overrun(l);
        else
                event_timer_arm(l->overrun_timer, l->overrun_signalled_usec + OVERRUN_SIGNAL_INTERVAL_USEC);
}

/* The queue's weight. sd-bus tells how many messages wait, not their bytes, but it writes them
 * in order: a FIFO of the sizes of the signals cnd queued, trimmed to the queue's length, gives
 * the bytes. Method replies and the like in the queue make it trim less, so the estimate errs on
 * the heavy side. */

static void queue_trim(QueueWeight *w, uint64_t queued) {
        while (w->len > queued) {
                w->bytes -= w->sizes[w->head];
                w->head = (w->head + 1) % w->capacity;
                w->len--;
        }
}

static void queue_note(Loss *l, size_t payload_size) {
        QueueWeight *w = &l->weight;
        uint32_t size = (uint32_t) MIN(payload_size + SIGNAL_OVERHEAD, (size_t) UINT32_MAX);

        if (w->capacity != l->max_queued_signals + 1) {
                /* First use, or a reload changed the bound: start counting afresh. */
                uint32_t *a = reallocarray(w->sizes, l->max_queued_signals + 1, sizeof(uint32_t));

                if (!a)
                        return;
                *w = (QueueWeight) { .sizes = a, .capacity = l->max_queued_signals + 1 };
        }
        if (w->len == w->capacity)
                queue_trim(w, w->len - 1);
        w->sizes[(w->head + w->len) % w->capacity] = size;
        w->len++;
        w->bytes += size;
}

int loss_send(Loss *l, sd_bus_message *signal, size_t payload_size) {
        int r;

        r = sd_bus_send(l->bus, signal, NULL);
        if (r >= 0)
                queue_note(l, payload_size);
        return r;
}

/* Back-pressure. At the high watermark cnd stops reading the connector socket: the kernel then
 * drops what the bus cannot take, and counts it exactly (SO_MEMINFO), instead of cnd spending the
 * CPU the bus needs on reading and discarding it. */
bool loss_may_signal(Loss *l) {
        uint64_t queued = 0;

        if (l->congested)
                return false;
        if (sd_bus_get_n_queued_write(l->bus, &queued) < 0)
                return true;
        queue_trim(&l->weight, queued);
        if (queued < l->max_queued_signals && l->weight.bytes < l->max_queued_bytes)
                return true;

        l->congested = true;
        (void) sd_event_source_set_enabled(l->reader, SD_EVENT_OFF);
        log_ratelimited(&l->log_congested, LOG_WARNING,
                        "Bus write queue holds %" PRIu64 " signals, about %" PRIu64 " KiB; "
                        "pausing the connector socket until it drains.",
                        queued, l->weight.bytes / 1024);
        /* Report the kernel's drops while paused, too. */
        event_timer_arm_unless_armed(l->overrun_timer, now(l) + OVERRUN_SIGNAL_INTERVAL_USEC);
        return false;
}

/* After every loop iteration: resumes reading once the queue is down to the low watermark. */
static int on_drain_check(sd_event_source *s, void *userdata) {
        Loss *l = userdata;
        uint64_t queued = 0;

        if (!l->congested || sd_bus_get_n_queued_write(l->bus, &queued) < 0)
                return 0;
        queue_trim(&l->weight, queued);
        if (queued > l->max_queued_signals / 4 || l->weight.bytes > l->max_queued_bytes / 4)
                return 0;

        l->congested = false;
        log_debug("Bus write queue drained to %" PRIu64 " signals; reading again.", queued);
        return sd_event_source_set_enabled(l->reader, SD_EVENT_ON);
}

/* Lifecycle. */

int loss_init(Loss *l, sd_event *event, LossOverrunHandler on_overrun, void *userdata) {
        int r;

        *l = (Loss) {
                .event = event,
                .on_overrun = on_overrun,
                .userdata = userdata,
                .log_congested = RATELIMIT_INIT(10 * USEC_PER_SEC, 1),
        };
        r = sd_event_add_time(event, &l->overrun_timer, CLOCK_MONOTONIC, 0, 0, on_overrun_timer, l);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(l->overrun_timer, SD_EVENT_OFF);
        return sd_event_add_post(event, &l->drain_check, on_drain_check, l);
}

void loss_done(Loss *l) {
        l->overrun_timer = sd_event_source_disable_unref(l->overrun_timer);
        l->drain_check = sd_event_source_disable_unref(l->drain_check);
        l->weight.sizes = mfree(l->weight.sizes);
}

void loss_set_bus(Loss *l, sd_bus *bus) {
        l->bus = bus;
}

void loss_set_limits(Loss *l, unsigned max_queued_signals, uint64_t max_queued_bytes) {
        l->max_queued_signals = max_queued_signals;
        l->max_queued_bytes = max_queued_bytes;
}

void loss_attach_socket(Loss *l, Netlink *netlink, sd_event_source *reader) {
        l->netlink = netlink;
        l->reader = reader;
        /* KernelDroppedMessages goes on across sockets: count from this one's start. */
        l->kernel_drops_raw = 0;
        update_kernel_drops(l);
        if (l->congested)
                (void) sd_event_source_set_enabled(reader, SD_EVENT_OFF);
}

void loss_detach_socket(Loss *l) {
        update_kernel_drops(l);
        l->netlink = NULL;
        l->reader = NULL;
}
