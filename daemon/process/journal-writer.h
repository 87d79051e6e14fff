/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Journal entries written off the event loop. sd_journal_sendv() sends a datagram to
 * journald's socket and blocks while journald's queue on it is full (a backlogged or stopped
 * journald): made by the event loop, that would stall the relay and the bus with it. So the
 * loop only queues entries (journal_writer_push(), which never blocks) and one thread writes
 * them, in order. The queue is bounded (entries and bytes): an entry that finds it full is
 * dropped and counted, and once the thread has caught up it writes an entry of its own saying
 * how many were dropped (JOURNAL_DROPPED_MESSAGE_ID, CND_DROPPED=).
 *
 * The thread shares only the queue and the counters with the loop, under one mutex. */

#include <stdint.h>
#include <sys/uio.h>

#include "journal-entry.h"
#include "util.h"

#define JOURNAL_QUEUE_MAX 1024U
#define JOURNAL_QUEUE_BYTES_MAX (4U * 1024U * 1024U)
/* On stop, the thread is given this long to write what is queued before it is cancelled. */
#define JOURNAL_STOP_USEC (1 * USEC_PER_SEC)

#define JOURNAL_DROPPED_MESSAGE_ID "d171936dac304998802d4e29d24ac857"

/* What writes an entry: sd_journal_sendv() in cnd, something else in the tests. Returns 0 or a
 * negative errno. Called on the thread. */
typedef int (*JournalSend)(const struct iovec *fields, size_t n_fields, void *userdata);

typedef struct JournalWriterCounters {
        uint64_t written;               /* entries send() took (the writer's own reports too) */
        uint64_t failed;                /* entries send() refused */
        uint64_t dropped;               /* entries that found the queue full */
} JournalWriterCounters;

typedef struct JournalWriter JournalWriter;

/* Starts the thread. send NULL: sd_journal_sendv(). max_entries, max_bytes 0: the defaults. */
int journal_writer_new(JournalSend send, void *userdata, size_t max_entries, size_t max_bytes,
                       JournalWriter **ret);
/* Lets the thread write what is queued, for JOURNAL_STOP_USEC at most, and stops it. */
JournalWriter *journal_writer_free(JournalWriter *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(JournalWriter *, journal_writer_free);

/* Queues e (the writer's from now on, whatever the result). Returns 0, or -ENOBUFS if the queue
 * was full and e was dropped (counted). Never waits for the thread's writing. */
int journal_writer_push(JournalWriter *w, JournalEntry *e);

JournalWriterCounters journal_writer_counters(JournalWriter *w);

/* The entry reporting n dropped entries. NULL on allocation failure. */
JournalEntry *journal_dropped_entry(uint64_t n);
