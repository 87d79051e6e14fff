/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The table of live processes behind org.cnd.Connector1.Processes (bus-processes.c), fed by
 * cn_proc's events (family-proc.c hands every decoded event over, whatever [Proc] Events= lets
 * out as Proc signals), and the journal entries of [Journal] Events=.
 *
 *   - exec: the process's details are read, what goes with its memory at once and the rest by
 *     the reader thread (process_info_read_begin()/_end()), it enters the table and Started
 *     goes out; a detail that could not be read is left empty, and a Started without exe
 *     counts in Unresolved.
 *   - fork of a new process (child pid == child tgid): the child enters the table as its
 *     parent's entry (same program, arguments, unit, cgroup, uid: the parent's strings, shared)
 *     with its own start time, so that a child that never execs has its exe and unit at exit.
 *     No signal.
 *   - exit of a thread-group leader: Exited, from the table's entry, which leaves it.
 *   - threads never make entries.
 *
 * The table starts from a scan of /proc when group 1 is joined (no signals for what it finds).
 * After loss (the socket's drop counter moved, the socket overran, or cn_proc's sequence
 * numbers show a gap) it is resynchronised from /proc: Exited for entries that are gone and
 * Started for processes it lacks, both with timestamp_ns 0 (and Exited with exit_code and
 * exit_signal -1), counted in Resyncs. Events the socket still held from before that scan
 * (their timestamp is older) report nothing the scan has reported already. The reads of a scan
 * are made a step of PROCESS_SCAN_STEP at a time, what cannot wait on a process in the event
 * loop and the rest by the reader's threads, so that the relay of other groups goes on
 * meanwhile and a process holding its memory's lock holds up the scan for its deadline at most.
 *
 * An exec event read after its pid went to another process (one that started after the event:
 * process_info_started_after()) is reported with nothing read, as a process gone before the
 * read would be, and counts in Unresolved: never as the process that has the pid now. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "loss.h"
#include "process-info.h"
#include "process-journal.h"
#include "process-reader.h"
#include "process-table.h"
#include "proc-event.h"
#include "streams.h"

typedef struct PendingEvent PendingEvent;

/* Processes a scan reads per event-loop iteration. */
#define PROCESS_SCAN_STEP 32U

/* One process of a scan's step: read at once in the event loop as far as that cannot wait (stat,
 * exe), the rest (its command line first) by the reader's threads. exited: its exit event came
 * while the step was read, after the reads may have found it still running. */
typedef struct ScanRead {
        ProcessKey key;
        ProcessReadRequest read;
        bool exited;
} ScanRead;
typedef struct Processes Processes;

/* Where the table's signals go (bus-processes.c in cnd), called only when signals may go out
 * (loss.h): a process started a program (or a resync found it, timestamp_ns 0), and one left
 * the table (its exit event, or a resync found it gone: exit_code and exit_signal -1). e is
 * NULL for an exit of a process the table did not hold. ps->userdata is the ops' own. */
typedef struct ProcessesOps {
        void (*started)(Processes *ps, const ProcessEntry *e, uint64_t timestamp_ns);
        void (*exited)(Processes *ps, const ProcessEntry *e, pid_t pid, pid_t ppid, int32_t exit_code,
                       int32_t exit_signal, bool core_dumped, uint64_t runtime_ns, uint64_t timestamp_ns);
        /* A scan has ended (every process it found is read, or the table was emptied): what
         * waited for the table to be whole may be answered. Called whether signals may go out
         * or not; may be NULL. */
        void (*scanned)(Processes *ps);
} ProcessesOps;

/* Events held while the reads they wait for are made, at most this many. */
#define PROCESS_QUEUE_MAX 16384U
/* An exec event that finds fewer than this many events queued ahead of it holds its process's
 * /proc directory open until its read is made (PROCESS_READ_HOLD_DIR: no second open, no stat
 * read again to show it is the same process); one further back opens it again. Events only
 * move forward, so at most this many directories are held by the queue, and a scan's step more. */
#define PROCESS_HELD_DIRS_MAX 256U
/* The one budget of every string a process can make long (process-strings.h), in the table
 * and in the queue together, whatever users run. The queue (the events with what was read for
 * them) has a share of its own, so that a full table never makes events lost: past it an event
 * waits without its arguments, and one that would still not fit is dropped for the table and the
 * journal, and a resync follows, as after a loss. The table has the rest: past it an entry is
 * made without its arguments, or with its strings as the cut marker alone. A fork shares its
 * parent's strings and costs the table none. Ordinary processes (a few hundred bytes) fill the
 * table's share at some 60,000 entries. */
#define PROCESS_STRINGS_MAX (32U * 1024U * 1024U)
#define PROCESS_QUEUE_BYTES_MAX (8U * 1024U * 1024U)

struct Processes {
        sd_event *event;
        const Config *config;           /* the daemon's, whichever is current */
        Loss *loss;                     /* its counters, and whether signals may go out */
        Streams *streams;               /* Started/Exited records go to them too; may be NULL */
        const ProcessesOps *ops;
        void *userdata;
        ProcessTable table;
        StringBudget table_strings;     /* the entries' strings: PROCESS_STRINGS_MAX less the queue's */
        StringBudget queue_strings;     /* the queued events: PROCESS_QUEUE_BYTES_MAX */
        bool active;                    /* Enabled=yes and group 1 joined */
        ProcessReadFlags read_flags;

        uint64_t unresolved;            /* Started without exe */
        uint64_t resyncs;
        ProcessJournal journal;         /* [Journal] Events=: its counters are JournalFailed, -Written */

        /* The loss counters at the last look: a change means a resync. */
        uint64_t seen_kernel_dropped, seen_overruns, seen_lost;
        sd_event_source *resync_timer;  /* coalesces the losses of a burst into one resync */
        unsigned resync_postponed;      /* times it waited for the queue to drain */
        /* CLOCK_MONOTONIC of the last resync's scan: events older than that, still queued in the
         * socket then, are already reflected in the table and must not be reported twice. */
        uint64_t resync_ns;

        /* The reads of exec events that can wait, made by a thread of their own
         * (process-reader.h) so that an exec storm does not hold up the relay. The events
         * wait in `queue`, in the kernel's order, until the reads they need are made; they
         * are then handled in that order, one after the other. NULL until first needed, and
         * if it cannot be had (reads are then made inline). */
        ProcessReader *reader;
        bool reader_failed;
        PendingEvent *queue_head, *queue_tail;
        size_t n_queued, queue_max;
        uint64_t queue_overflows;       /* events dropped for a full queue */
        /* Events queued under an earlier generation (before the table was emptied) are dropped
         * unhandled. */
        unsigned generation;

        /* A scan being read: the processes still to read, a few per loop iteration. */
        ProcessKey *pending;
        size_t n_pending, next_pending;
        bool pending_signal;            /* Started for each (a resync), or not (the first scan) */
        sd_event_source *scan_source;   /* off while a step's reads are made */
        unsigned scan_generation;       /* a new one for each scan started or stopped */
        /* The step being read, of the scan of step_generation: n_step reads, step_in_flight of
         * them still the reader's. */
        ScanRead step[PROCESS_SCAN_STEP];
        size_t n_step, step_in_flight;
        unsigned step_generation;
};

/* queue_max: events held at most, 0 for PROCESS_QUEUE_MAX. streams may be NULL. */
void processes_init(Processes *ps, sd_event *event, const Config *config, Loss *loss, Streams *streams,
                    size_t queue_max, const ProcessesOps *ops, void *userdata);
void processes_done(Processes *ps);

/* Group 1 was joined / is being left, or the configuration changed: starts (with a scan of
 * /proc) or stops (emptying the table) as Enabled= and the group say. */
void processes_update(Processes *ps, bool group_joined, uint64_t lost);

/* A decoded cn_proc event. may_signal: whether signals may go out now (loss.h). */
void processes_event(Processes *ps, const ProcEvent *ev, bool may_signal);

/* At the end of a batch read from the connector socket: starts the reads of /proc its events
 * asked for, and resynchronises soon if the loss counters moved. lost: LostEvents. */
void processes_batch_done(Processes *ps, uint64_t lost);

/* Whether a scan is being read: until it ends (ops->scanned), a process found by it may still
 * be missing from the table. */
bool processes_scanning(const Processes *ps);

/* What the strings of the table and the queue take now, and the strings cut at their cap and the
 * entries and events made without some of theirs (process-strings.h) so far. */
uint64_t processes_string_bytes(const Processes *ps);
uint64_t processes_strings_cut(const Processes *ps);
uint64_t processes_strings_stripped(const Processes *ps);

/* The kinds cn_proc must send for the table and the journal, as bits of ProcKind. */
uint32_t processes_wanted_kinds(const Config *c);
