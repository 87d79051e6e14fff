/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* [Journal] Events=: process events as structured journal entries (cnd(8), JOURNAL). See
 * process-journal.h. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "event-util.h"
#include "process-journal.h"
#include "utf8.h"

/* The journal's MESSAGE_IDs, one per kind (cnd(8) lists them). */
static const char *const journal_message_ids[_PROC_KIND_MAX] = {
        [PROC_KIND_FORK] = "2a3442ad0efb45d3a0a94812761f27d1",
        [PROC_KIND_EXEC] = "cf37f9b53745429d9843cded7e23b768",
        [PROC_KIND_UID] = "cae1097784904596a1722c6e6ea8ba35",
        [PROC_KIND_GID] = "cd45404249b14565b7c67f3d9ab36152",
        [PROC_KIND_SID] = "9cad4d61e7954ae2a11c816ef2f39653",
        [PROC_KIND_PTRACE] = "b90d39bed6844ceb9902d0e505467945",
        [PROC_KIND_COMM] = "554d3b3188d74eb2a16afba785fec5bf",
        [PROC_KIND_COREDUMP] = "5928624b3ecd4a42b1fd3a8462646f3d",
        [PROC_KIND_EXIT] = "22f38a8d2a994a47973d8fb72888aac9",
};

/* The program for MESSAGE=: controls escaped, so that a path holding a newline or an escape
 * sequence shows as text, and cut (with "...") where a person reading a line stops reading;
 * CND_EXE= has it whole. NULL on allocation failure. */
static char *message_exe(const ProcessEntry *e, const char *unknown) {
        _cleanup_(freep) char *escaped = NULL;
        size_t n;

        if (!e || !e->exe || !e->exe[0])
                return strdup(unknown);
        if (utf8_escape_controls(e->exe, &escaped) < 0)
                return NULL;
        n = strlen(escaped);
        if (n <= PROCESS_JOURNAL_MESSAGE_EXE_MAX)
                return TAKE_PTR(escaped);
        n = utf8_escaped_cut(escaped, n, PROCESS_JOURNAL_MESSAGE_EXE_MAX - 3);
        memcpy(escaped + n, "...", 4);
        return TAKE_PTR(escaped);
}

/* The fields every entry starts with. */
static void add_head(JournalBuilder *b, ProcKind kind, const char *message, const char *priority) {
        (void) journal_builder_add(b, "MESSAGE_ID", journal_message_ids[kind]);
        (void) journal_builder_add(b, "MESSAGE", message);
        (void) journal_builder_add(b, "PRIORITY", priority);
        (void) journal_builder_add(b, "CND_EVENT", proc_kind_to_string(kind));
}

/* The process's program and unit; the arguments last, as many as fit: they are what a user
 * can make long. */
static void add_process(JournalBuilder *b, const ProcessEntry *e) {
        (void) journal_builder_add(b, "CND_EXE", e ? strempty(e->exe) : "");
        (void) journal_builder_add(b, "CND_UNIT", e ? strempty(e->unit) : "");
}

static void add_argv(JournalBuilder *b, const ProcessEntry *e) {
        size_t n = 0;

        for (char **a = e ? e->argv : NULL; a && *a; a++)
                n++;
        (void) journal_builder_addf(b, "CND_ARGC", "%zu", n);
        for (size_t i = 0; i < n; i++) {
                if (i >= PROCESS_JOURNAL_ARGV_MAX) {
                        journal_builder_mark_truncated(b, "CND_ARGV");
                        break;
                }
                /* One that does not fit is named in CND_TRUNCATED=; the rest would not fit either,
                 * and a later short one must not pass for the next. */
                if (journal_builder_add(b, "CND_ARGV", e->argv[i]) < 0)
                        break;
        }
}

static int format_exec(JournalBuilder *b, const Config *c, const ProcessEntry *e, pid_t pid) {
        _cleanup_(freep) char *exe = message_exe(e, "(unknown program)");
        char message[PROCESS_JOURNAL_MESSAGE_EXE_MAX + 64];

        if (!exe)
                return -ENOMEM;
        snprintf(message, sizeof(message), "Process %d started %s.", (int) pid, exe);
        add_head(b, PROC_KIND_EXEC, message, "6");
        (void) journal_builder_addf(b, "CND_PID", "%d", (int) pid);
        (void) journal_builder_addf(b, "CND_PPID", "%d", e ? (int) e->ppid : -1);
        (void) journal_builder_addf(b, "CND_UID", "%" PRIu32, e ? (uint32_t) e->uid : UINT32_MAX);
        add_process(b, e);
        if (c->journal_arguments)
                add_argv(b, e);
        return 0;
}

static int format_exit(JournalBuilder *b, const ProcEvent *ev, const ProcessEntry *e, pid_t pid, int32_t exit_code,
                       int32_t exit_signal, uint64_t runtime_ns) {
        _cleanup_(freep) char *exe = message_exe(e, "unknown program");
        char message[PROCESS_JOURNAL_MESSAGE_EXE_MAX + 96];

        if (!exe)
                return -ENOMEM;
        if (exit_signal >= 0)
                snprintf(message, sizeof(message), "Process %d (%s) was killed by signal %d.", (int) pid, exe,
                         (int) exit_signal);
        else
                snprintf(message, sizeof(message), "Process %d (%s) exited with status %d.", (int) pid, exe,
                         (int) exit_code);
        add_head(b, PROC_KIND_EXIT, message, "6");
        (void) journal_builder_addf(b, "CND_PID", "%d", (int) pid);
        (void) journal_builder_addf(b, "CND_PPID", "%d", e ? (int) e->ppid : (int) ev->exit.parent_tgid);
        (void) journal_builder_addf(b, "CND_UID", "%" PRIu32, e ? (uint32_t) e->uid : UINT32_MAX);
        (void) journal_builder_addf(b, "CND_EXIT_CODE", "%d", (int) exit_code);
        (void) journal_builder_addf(b, "CND_EXIT_SIGNAL", "%d", (int) exit_signal);
        (void) journal_builder_addf(b, "CND_RUNTIME_USEC", "%" PRIu64, runtime_ns / 1000);
        add_process(b, e);
        return 0;
}

static void format_other(JournalBuilder *b, const ProcEvent *ev, const ProcessEntry *e) {
        char message[128];

        if (ev->kind == PROC_KIND_FORK) {
                snprintf(message, sizeof(message), "Process %" PRIu32 " forked %" PRIu32 ".", ev->fork.parent_tgid,
                         ev->fork.child_pid);
                add_head(b, ev->kind, message, "7");
                (void) journal_builder_addf(b, "CND_PID", "%" PRIu32, ev->fork.child_pid);
                (void) journal_builder_addf(b, "CND_PPID", "%" PRIu32, ev->fork.parent_tgid);
        } else {
                /* The process is the task's tgid. */
                snprintf(message, sizeof(message), "Process %" PRIu32 ": %s event.", ev->task.tgid,
                         proc_kind_to_string(ev->kind));
                add_head(b, ev->kind, message, "7");
                (void) journal_builder_addf(b, "CND_PID", "%" PRIu32, ev->task.tgid);
        }
        add_process(b, e);
}

int process_journal_format(const Config *c, const ProcEvent *ev, const ProcessEntry *e, pid_t pid,
                           int32_t exit_code, int32_t exit_signal, uint64_t runtime_ns, JournalEntry **ret) {
        JournalBuilder b;
        int r = 0;

        if (!(c->journal_events & (UINT32_C(1) << ev->kind)))
                return 0;
        journal_builder_init(&b);
        if (ev->kind == PROC_KIND_EXEC)
                r = format_exec(&b, c, e, pid);
        else if (ev->kind == PROC_KIND_EXIT)
                r = format_exit(&b, ev, e, pid, exit_code, exit_signal, runtime_ns);
        else
                format_other(&b, ev, e);
        if (r < 0)
                return r;
        *ret = journal_builder_finish(&b);
        return *ret ? 1 : -ENOMEM;
}

JournalEntry *process_journal_suppressed_entry(uint32_t uid, uint64_t n) {
        JournalBuilder b;

        journal_builder_init(&b);
        (void) journal_builder_add(&b, "MESSAGE_ID", PROCESS_JOURNAL_SUPPRESSED_MESSAGE_ID);
        (void) journal_builder_addf(&b, "MESSAGE", "Suppressed %" PRIu64 " entries of uid %" PRIu32 ".", n, uid);
        (void) journal_builder_add(&b, "PRIORITY", "5");
        (void) journal_builder_addf(&b, "CND_UID", "%" PRIu32, uid);
        (void) journal_builder_addf(&b, "CND_SUPPRESSED", "%" PRIu64, n);
        return journal_builder_finish(&b);
}

void process_journal_init(ProcessJournal *j, sd_event *event) {
        j->event = event;
        journal_limiter_init(&j->limiter, 0, 0);
}

void process_journal_done(ProcessJournal *j) {
        j->report_timer = sd_event_source_disable_unref(j->report_timer);
        j->writer = journal_writer_free(j->writer);
}

/* Queues e, counted if it is lost. */
static int queue_entry(ProcessJournal *j, JournalEntry *e) {
        int r;

        if (!e) {
                j->failed++;
                return -ENOMEM;
        }
        if (!j->writer && !j->writer_failed) {
                r = journal_writer_new(j->send, j->send_userdata, j->queue_max, 0, &j->writer);
                if (r < 0)
                        j->writer_failed = true;
        }
        if (!j->writer) {
                free(e);
                j->failed++;
                return -ENOTCONN;
        }
        /* A full queue is counted by the writer. */
        return journal_writer_push(j->writer, e);
}

static void on_window_report(uint32_t uid, uint64_t n, void *userdata) {
        (void) queue_entry(userdata, process_journal_suppressed_entry(uid, n));
}

static int on_report_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ProcessJournal *j = userdata;
        uint64_t next;

        journal_limiter_sweep(&j->limiter, now_usec(CLOCK_MONOTONIC), on_window_report, j);
        next = journal_limiter_next_report(&j->limiter);
        if (next > 0)
                event_timer_arm(s, next);
        return 0;
}

/* The summary of a window is due when it ends, whether or not its uid has another entry. */
static void arm_report_timer(ProcessJournal *j) {
        uint64_t next;

        if (j->report_timer && event_source_is_armed(j->report_timer))
                return;
        next = journal_limiter_next_report(&j->limiter);
        if (next == 0)
                return;
        if (j->report_timer)
                event_timer_arm(j->report_timer, next);
        else
                (void) sd_event_add_time(j->event, &j->report_timer, CLOCK_MONOTONIC, next, 0, on_report_timer, j);
}

int process_journal_write(ProcessJournal *j, const Config *c, const ProcEvent *ev, const ProcessEntry *e,
                          pid_t pid, int32_t exit_code, int32_t exit_signal, uint64_t runtime_ns) {
        JournalEntry *entry = NULL;
        uint32_t uid = e ? (uint32_t) e->uid : UINT32_MAX;
        int r;

        if (!(c->journal_events & (UINT32_C(1) << ev->kind)))
                return 0;
        /* A reload may have changed the limits: the windows go on. */
        journal_limiter_set(&j->limiter, c->journal_rate_limit_interval_usec, c->journal_rate_limit_burst);
        if (!journal_limiter_allow(&j->limiter, uid, now_usec(CLOCK_MONOTONIC), on_window_report, j)) {
                j->suppressed++;
                arm_report_timer(j);
                return 0;
        }
        r = process_journal_format(c, ev, e, pid, exit_code, exit_signal, runtime_ns, &entry);
        if (r < 0) {
                j->failed++;
                return r;
        }
        r = queue_entry(j, entry);
        return r < 0 ? r : 1;
}

uint64_t process_journal_written(ProcessJournal *j) {
        return j->writer ? journal_writer_counters(j->writer).written : 0;
}

uint64_t process_journal_failed(ProcessJournal *j) {
        JournalWriterCounters w = {};

        if (j->writer)
                w = journal_writer_counters(j->writer);
        return j->failed + w.failed + w.dropped;
}
