/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reads of /proc made off the event loop. Each exec event asks for a read of tens of
 * microseconds, each fork for one of its child's stat: made inline, an exec storm would hold
 * up the relay of every other group by as much per event. So the event loop reads at once only
 * what the process takes with it when it exits (process_info_read_begin(): stat, exe, cmdline),
 * and one thread makes the rest (process_info_read_end(): status, cgroup, the unit) and the
 * forks' reads, in the order submitted, and hands them back to the event loop through an eventfd
 * the loop watches (a few at a time while requests keep coming), where done() is called for each
 * in that order.
 *
 * The thread touches nothing but /proc and the request it is reading for: the table, the bus,
 * the journal and the requests' owner stay the event loop's. A request belongs to the reader
 * from process_reader_submit() until done() is called for it (or the reader is freed), and
 * must not be touched or freed meanwhile. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "process-info.h"
#include "util.h"

typedef enum ProcessReadKind {
        PROCESS_READ_INFO_END,          /* process_info_read_end() of info */
        PROCESS_READ_START_TIME,        /* process_read_start_time() of pid */
} ProcessReadKind;

typedef struct ProcessReadRequest ProcessReadRequest;
struct ProcessReadRequest {
        ProcessReadRequest *next;       /* the reader's */
        ProcessReadKind kind;
        pid_t pid;                      /* PROCESS_READ_START_TIME */
        ProcessReadFlags flags;         /* PROCESS_READ_INFO_END */
        ProcessInfo *info;              /* PROCESS_READ_INFO_END: begun, completed by the read;
                                         * its owner's, who frees it */

        /* The result, set when done() is called: */
        int result;                     /* 0, or a negative errno (the read's) */
        uint64_t start_time;            /* PROCESS_READ_START_TIME, if result is 0 */
};

typedef void (*ProcessReadDone)(ProcessReadRequest *req, void *userdata);

typedef struct ProcessReader ProcessReader;

/* Starts the reading thread and watches its eventfd on event. */
int process_reader_new(sd_event *event, ProcessReadDone done, void *userdata, ProcessReader **ret);

/* Stops the thread (after the read it is making) and returns requests not handed back yet to
 * their owners, without calling done(): they are the caller's again, read or not. */
ProcessReader *process_reader_free(ProcessReader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProcessReader *, process_reader_free);

/* Queues req for reading. Cannot fail: the request carries its own link. A thread waiting for
 * requests is woken by the next process_reader_kick(): one wake-up for the events of a whole
 * read of the socket (one still busy takes the new ones as it goes on). */
void process_reader_submit(ProcessReader *r, ProcessReadRequest *req);
void process_reader_kick(ProcessReader *r);

/* Makes req's read here and now (what the thread does with it). */
void process_read_request_run(ProcessReadRequest *req);

/* Requests submitted and not handed back yet. */
size_t process_reader_pending(const ProcessReader *r);
