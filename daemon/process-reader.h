/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reads of /proc made off the event loop. Each exec event asks for a read of tens of
 * microseconds (process_info_read()), each fork for one of its child's stat: made inline, an
 * exec storm would hold up the relay of every other group by as much per event. One thread
 * makes the reads, in the order they were asked for, and hands each back to the event loop
 * through an eventfd the loop watches, where done() is called for each in that same order.
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
        PROCESS_READ_INFO,              /* process_info_read() */
        PROCESS_READ_START_TIME,        /* process_read_start_time() */
} ProcessReadKind;

typedef struct ProcessReadRequest ProcessReadRequest;
struct ProcessReadRequest {
        ProcessReadRequest *next;       /* the reader's */
        ProcessReadKind kind;
        pid_t pid;
        ProcessReadFlags flags;         /* PROCESS_READ_INFO */

        /* The result, set when done() is called: */
        int result;                     /* 0, or a negative errno (the read's) */
        ProcessInfo *info;              /* PROCESS_READ_INFO, if result is 0; the owner frees it */
        uint64_t start_time;            /* PROCESS_READ_START_TIME, if result is 0 */
};

typedef void (*ProcessReadDone)(ProcessReadRequest *req, void *userdata);

typedef struct ProcessReader ProcessReader;

/* Starts the reading thread and watches its eventfd on event. */
int process_reader_new(sd_event *event, ProcessReadDone done, void *userdata, ProcessReader **ret);

/* Stops the thread (after the read it is making) and returns requests not handed back yet to
 * their owners, without calling done(): they are the caller's again, with no result. */
ProcessReader *process_reader_free(ProcessReader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProcessReader *, process_reader_free);

/* Queues req for reading. Cannot fail: the request carries its own link. */
void process_reader_submit(ProcessReader *r, ProcessReadRequest *req);

/* Makes req's read here and now (what the thread does with it). */
void process_read_request_run(ProcessReadRequest *req);

/* Requests submitted and not handed back yet. */
size_t process_reader_pending(const ProcessReader *r);
