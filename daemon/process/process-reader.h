/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reads of /proc made off the event loop. Each exec event asks for reads of tens of
 * microseconds, one of which (the command line) can wait on the process for ever: made inline,
 * an exec storm would hold up the relay of every other group by as much per event, and one
 * process could stop it. So the event loop reads at once only stat, exe and the namespaces
 * (process_info_read_begin(), which never waits on the process), and a few threads make the
 * rest: the command line first (process_info_open_cmdline(), process_cmdline_read(), which can
 * wait on the process's memory for ever), then status, cgroup and the unit
 * (process_info_read_end()). A request of PROCESS_READ_START_TIME (a fork's child) is run
 * the same way if submitted; cnd makes those in the loop (processes.c). They take the requests in the order submitted and hand them back to the event
 * loop through an eventfd the loop watches (a few at a time while requests keep coming), where
 * each request's done() is called, in the order the reads finished.
 *
 * A read of a command line that has not returned within PROCESS_READ_DEADLINE_USEC is given up:
 * its request goes back to the other threads, which make the rest of its read with the command
 * line unresolved (-ETIMEDOUT), and a new thread takes the stuck one's place. The stuck thread is
 * left to its read (nothing can cut a read of /proc short); when it returns, it drops what it read
 * and ends. While PROCESS_READERS_STUCK_MAX are stuck, no command line is read (-EBUSY) and no
 * thread more is started, so that processes holding their memory cost cnd a bounded number of
 * threads; reading resumes as stuck ones come back. process_reader_abandoned() counts the reads
 * given up.
 *
 * The threads touch nothing but /proc and the request they are reading for (a command line is
 * read into the thread's own memory and handed over under the lock, if the request is still
 * its): the table, the bus, the journal and the requests' owners stay the event loop's. A request
 * belongs to the reader from process_reader_submit() until its done() is called (or the reader is
 * freed), and must not be touched or freed meanwhile. */

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

/* Threads that read while none is stuck. */
#define PROCESS_READERS 2U
/* A read of a command line not back within this long is given up. */
#define PROCESS_READ_DEADLINE_USEC (1000U * 1000U)
/* Threads stuck in reads at most; past it no command line is read until one comes back. */
#define PROCESS_READERS_STUCK_MAX 8U

#define PROCESS_CMDLINE_READ 1

typedef struct ProcessReadRequest ProcessReadRequest;
typedef void (*ProcessReadDone)(ProcessReadRequest *req, void *userdata);

struct ProcessReadRequest {
        ProcessReadRequest *next;       /* the reader's */
        ProcessReadDone done;           /* called in the event loop when the read is made */
        void *userdata;
        ProcessReadKind kind;
        pid_t pid;                      /* PROCESS_READ_START_TIME */
        ProcessReadFlags flags;         /* PROCESS_READ_INFO_END */
        ProcessInfo *info;              /* PROCESS_READ_INFO_END: begun, completed by the read
                                         * (the command line too, unless flags say no); its
                                         * owner's, who frees it */
        /* PROCESS_READ_INFO_END: 0 while the command line is to be read, PROCESS_CMDLINE_READ
         * once read, else why it is not (the reader's -ETIMEDOUT, -EBUSY, or -ECANCELED while
         * it is freed; a caller's). */
        int cmdline_error;

        /* The result, set when done() is called: */
        int result;                     /* 0, or a negative errno (the read's) */
        uint64_t start_time;            /* PROCESS_READ_START_TIME, if result is 0 */
};

typedef struct ProcessReader ProcessReader;

/* Starts the reading threads and watches their eventfd and deadlines on event. */
int process_reader_new(sd_event *event, ProcessReader **ret);

/* Stops the threads (after the reads they are making; stuck ones are left to end on their own,
 * and free what they share last) and returns requests not handed back yet to their owners,
 * without calling done(): they are the caller's again, read or not. */
ProcessReader *process_reader_free(ProcessReader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProcessReader *, process_reader_free);

/* Queues req for reading. Cannot fail: the request carries its own link. A thread waiting for
 * requests is woken by the next process_reader_kick(): one wake-up for the events of a whole
 * read of the socket (one still busy takes the new ones as it goes on). */
void process_reader_submit(ProcessReader *r, ProcessReadRequest *req);
void process_reader_kick(ProcessReader *r);

/* Makes req's read here and now, all but the command line, which it never reads (a thread
 * does): one not read yet is left unresolved, with cmdline_error, or -EAGAIN if 0. */
void process_read_request_run(ProcessReadRequest *req);

/* Requests submitted and not handed back yet. */
size_t process_reader_pending(const ProcessReader *r);
/* Reads of command lines given up at their deadline, or not made for too many stuck threads. */
uint64_t process_reader_abandoned(const ProcessReader *r);
