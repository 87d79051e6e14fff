/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What cnd accepted, rejected and lost, and the back-pressure that decides where loss happens.
 * Loss is the only writer of the counters of org.cnd.Connector1(5) that the counting rule of
 * cnd(8) adds up (delivered + KernelDroppedMessages + BusDroppedMessages == sent), of the bus
 * queue's weight, and of the Overrun signal's pacing. Every relayed signal goes out through
 * loss_send(), so none is left out of the queue's weight. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "netlink.h"

/* The estimated bytes of cnd's signals in sd-bus's write queue. */
typedef struct QueueWeight {
        uint32_t *sizes;                        /* FIFO ring */
        size_t capacity, head, len;
        uint64_t bytes;
} QueueWeight;

/* Sends the Overrun signal with the totals so far. */
typedef void (*LossOverrunHandler)(uint64_t kernel_dropped, uint64_t bus_dropped, void *userdata);

typedef struct Loss {
        sd_event *event;
        sd_bus *bus;
        Netlink *netlink;                       /* whose drop counter is read */
        sd_event_source *reader;                /* the socket's source: paused while congested */

        uint64_t received;                      /* cn_msg accepted from the socket */
        uint64_t rejected;                      /* frames dropped as malformed or from non-kernel senders */
        uint64_t bus_dropped;                   /* accepted, but the bus could not take them */
        uint64_t overruns;                      /* ENOBUFS seen */
        uint64_t kernel_dropped;                /* the socket's drop counter, summed across sockets */
        uint32_t kernel_drops_raw;              /* its last value (it is 32 bits wide and wraps) */

        /* Back-pressure: at max_queued_signals signals or max_queued_bytes in sd-bus's write
         * queue, reading pauses until the queue is down to a quarter of both. */
        unsigned max_queued_signals;
        uint64_t max_queued_bytes;
        bool congested;
        QueueWeight weight;
        sd_event_source *drain_check;
        RateLimit log_congested;

        /* The Overrun signal: at most one a second while loss goes on. */
        sd_event_source *overrun_timer;
        uint64_t overrun_signalled_usec;
        uint64_t signalled_kernel_dropped, signalled_bus_dropped;
        LossOverrunHandler on_overrun;
        void *userdata;
} Loss;

int loss_init(Loss *l, sd_event *event, LossOverrunHandler on_overrun, void *userdata);
void loss_done(Loss *l);

void loss_set_bus(Loss *l, sd_bus *bus);
void loss_set_limits(Loss *l, unsigned max_queued_signals, uint64_t max_queued_bytes);

/* A new connector socket and its event source: its drop counter starts from 0. */
void loss_attach_socket(Loss *l, Netlink *netlink, sd_event_source *reader);
/* The socket goes: its last drops are counted first. */
void loss_detach_socket(Loss *l);

void loss_count_received(Loss *l);
void loss_count_rejected(Loss *l, unsigned n);
void loss_count_overrun(Loss *l);
void loss_count_bus_dropped(Loss *l, uint64_t n);

/* The verdict for one accepted message: may its signals go out now? False pauses the socket
 * (once, at the high watermark) and the message is to be counted with loss_count_bus_dropped(). */
bool loss_may_signal(Loss *l);

/* Sends a relayed signal whose payload is payload_size bytes and weighs it into the queue. */
int loss_send(Loss *l, sd_bus_message *signal, size_t payload_size);

/* KernelDroppedMessages, fresh from the socket. */
uint64_t loss_kernel_dropped(Loss *l);

/* After a read batch: reports new loss through the Overrun signal, paced. */
void loss_check(Loss *l);
