/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The journal entries of [Journal] Events= (cnd(8), JOURNAL): one per selected event, with a
 * MESSAGE_ID per kind and the CND_* fields cnd(8) lists.
 *
 * What other users put in them cannot reach further than the journal's readers were meant to
 * see, nor crowd out anyone else's entries, nor hold up the relay:
 *   - MESSAGE= shows the program with its control characters escaped (utf8_escape_controls()),
 *     so no path forges a line or drives a terminal in `journalctl -o cat`;
 *   - the arguments go in only with [Journal] Arguments=yes (the journal's readers are not
 *     [Processes] ReaderGroup=), one CND_ARGV= field each, in order;
 *   - an entry is bounded (journal-entry.h);
 *   - each uid has its own rate limit (journal-limiter.h), [Journal] RateLimitBurst= entries per
 *     RateLimitIntervalSec=, and a summary entry (PROCESS_JOURNAL_SUPPRESSED_MESSAGE_ID) says how
 *     many of a uid's entries were suppressed once its window has ended;
 *   - a thread writes them (journal-writer.h): the event loop never waits for journald. */

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "journal-entry.h"
#include "journal-limiter.h"
#include "journal-writer.h"
#include "proc-event.h"
#include "process-table.h"

#define PROCESS_JOURNAL_SUPPRESSED_MESSAGE_ID "fe6147a4ef534ac0a0dd40f821c15d46"
/* CND_ARGV= fields in one entry at most; the entry's size bounds them too. */
#define PROCESS_JOURNAL_ARGV_MAX 256U
/* Bytes of the program's (escaped) path shown in MESSAGE=; CND_EXE= holds more. */
#define PROCESS_JOURNAL_MESSAGE_EXE_MAX 512U

typedef struct ProcessJournal {
        sd_event *event;
        JournalLimiter limiter;
        sd_event_source *report_timer;  /* when the next window with suppressed entries ends */
        JournalWriter *writer;          /* NULL until first needed, and if it cannot be had */
        bool writer_failed;
        JournalSend send;               /* NULL: sd_journal_sendv() (journal-writer.h) */
        void *send_userdata;
        size_t queue_max;               /* 0: JOURNAL_QUEUE_MAX */
        uint64_t failed;                /* entries that could not be made or queued */
        uint64_t suppressed;            /* by the rate limit */
} ProcessJournal;

/* ev's entry, if c selects its kind: e is the process's table entry (NULL if it has none), pid
 * and the rest what an exit adds. Returns 0 if the kind is not selected, 1 with *ret, or
 * -ENOMEM. Pure. */
int process_journal_format(const Config *c, const ProcEvent *ev, const ProcessEntry *e, pid_t pid,
                           int32_t exit_code, int32_t exit_signal, uint64_t runtime_ns, JournalEntry **ret);

/* The summary of n entries of uid suppressed. NULL on allocation failure. Pure. */
JournalEntry *process_journal_suppressed_entry(uint32_t uid, uint64_t n);

void process_journal_init(ProcessJournal *j, sd_event *event);
/* Writes what is queued (for JOURNAL_STOP_USEC at most) and stops the thread. */
void process_journal_done(ProcessJournal *j);

/* Queues ev's entry if c selects its kind and the uid's rate limit lets it through. Returns 0
 * if the kind is not selected or the entry was suppressed, 1 if queued, negative if it was
 * lost (counted in failed). Never blocks. */
int process_journal_write(ProcessJournal *j, const Config *c, const ProcEvent *ev, const ProcessEntry *e,
                          pid_t pid, int32_t exit_code, int32_t exit_signal, uint64_t runtime_ns);

/* Entries journald took, and those lost: not made, dropped for a full queue, or refused. */
uint64_t process_journal_written(ProcessJournal *j);
uint64_t process_journal_failed(ProcessJournal *j);
