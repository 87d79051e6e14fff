/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* [Journal] Events=: process events as structured journal entries (cnd(8), JOURNAL). */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "process-journal.h"

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

/* The arguments, escaped as in Started, separated by spaces. */
static char *join_argv(char **argv) {
        size_t n = 0;
        char *s, *p;

        for (char **a = argv; a && *a; a++)
                n += strlen(*a) + 1;
        s = malloc(n + 1);
        if (!s)
                return NULL;
        p = s;
        for (char **a = argv; a && *a; a++) {
                if (p != s)
                        *p++ = ' ';
                p = stpcpy(p, *a);
        }
        *p = 0;
        return s;
}

int process_journal_write(const Config *c, const ProcEvent *ev, const ProcessEntry *e, pid_t pid, int32_t exit_code,
                          int32_t exit_signal, uint64_t runtime_ns) {
        const char *kind = proc_kind_to_string(ev->kind);
        _cleanup_(freep) char *argv = NULL;
        char message[512];
        int r;

        if (!(c->journal_events & (UINT32_C(1) << ev->kind)))
                return 0;

        switch (ev->kind) {
        case PROC_KIND_EXEC:
                argv = c->processes_arguments && e ? join_argv(e->argv) : strdup("");
                if (!argv)
                        break;
                snprintf(message, sizeof(message), "Process %d started %s.", (int) pid,
                         e && e->exe && e->exe[0] ? e->exe : "(unknown program)");
                r = sd_journal_send("MESSAGE_ID=%s", journal_message_ids[ev->kind], "MESSAGE=%s", message,
                                    "PRIORITY=6", "CND_EVENT=%s", kind, "CND_PID=%d", (int) pid,
                                    "CND_PPID=%d", e ? (int) e->ppid : -1, "CND_UID=%" PRIu32,
                                    e ? (uint32_t) e->uid : UINT32_MAX, "CND_EXE=%s", e ? strempty(e->exe) : "",
                                    "CND_ARGV=%s", argv, "CND_UNIT=%s", e ? strempty(e->unit) : "", NULL);
                goto done;
        case PROC_KIND_EXIT:
                if (exit_signal >= 0)
                        snprintf(message, sizeof(message), "Process %d (%s) was killed by signal %d.", (int) pid,
                                 e && e->exe && e->exe[0] ? e->exe : "unknown program", (int) exit_signal);
                else
                        snprintf(message, sizeof(message), "Process %d (%s) exited with status %d.", (int) pid,
                                 e && e->exe && e->exe[0] ? e->exe : "unknown program", (int) exit_code);
                r = sd_journal_send("MESSAGE_ID=%s", journal_message_ids[ev->kind], "MESSAGE=%s", message,
                                    "PRIORITY=6", "CND_EVENT=%s", kind, "CND_PID=%d", (int) pid,
                                    "CND_PPID=%d", e ? (int) e->ppid : (int) ev->exit.parent_tgid, "CND_UID=%" PRIu32,
                                    e ? (uint32_t) e->uid : UINT32_MAX, "CND_EXE=%s", e ? strempty(e->exe) : "",
                                    "CND_UNIT=%s", e ? strempty(e->unit) : "", "CND_EXIT_CODE=%d", (int) exit_code,
                                    "CND_EXIT_SIGNAL=%d", (int) exit_signal, "CND_RUNTIME_USEC=%" PRIu64,
                                    runtime_ns / 1000, NULL);
                goto done;
        case PROC_KIND_FORK:
                snprintf(message, sizeof(message), "Process %" PRIu32 " forked %" PRIu32 ".", ev->fork.parent_tgid,
                         ev->fork.child_pid);
                r = sd_journal_send("MESSAGE_ID=%s", journal_message_ids[ev->kind], "MESSAGE=%s", message,
                                    "PRIORITY=7", "CND_EVENT=%s", kind, "CND_PID=%" PRIu32, ev->fork.child_pid,
                                    "CND_PPID=%" PRIu32, ev->fork.parent_tgid, "CND_EXE=%s", e ? strempty(e->exe) : "",
                                    "CND_UNIT=%s", e ? strempty(e->unit) : "", NULL);
                goto done;
        default:
                /* The process is the task's tgid. */
                snprintf(message, sizeof(message), "Process %" PRIu32 ": %s event.", ev->task.tgid, kind);
                r = sd_journal_send("MESSAGE_ID=%s", journal_message_ids[ev->kind], "MESSAGE=%s", message,
                                    "PRIORITY=7", "CND_EVENT=%s", kind, "CND_PID=%" PRIu32, ev->task.tgid,
                                    "CND_EXE=%s", e ? strempty(e->exe) : "", "CND_UNIT=%s",
                                    e ? strempty(e->unit) : "", NULL);
                goto done;
        }
        r = -ENOMEM;
done:
        return r < 0 ? r : 1;
}
