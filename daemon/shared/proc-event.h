/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cn_proc (connector id 1:1): decoding struct proc_event, the subscription messages, and
 * loss detection from the per-CPU sequence numbers. Pure: bytes in, values out. */

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc-kind.h"

/* The uapi headers of kernels before 6.6 (Debian 12's among them) lack these. */
#ifndef PROC_EVENT_ALL
#define PROC_EVENT_ALL_MASK UINT32_C(0xe00003c7)
#else
#define PROC_EVENT_ALL_MASK ((uint32_t) PROC_EVENT_ALL)
#endif

/* struct proc_input of 6.6+: a LISTEN that also sets the socket's event filter. */
typedef struct ProcInput {
        uint32_t mcast_op;
        uint32_t event_type;
} ProcInput;

#define PROC_EVENT_HEADER_SIZE offsetof(struct proc_event, event_data)

typedef enum ProcDecode {
        PROC_DECODE_EVENT,      /* .kind and the fields are set */
        PROC_DECODE_ACK,        /* PROC_EVENT_NONE: an answer to a LISTEN/IGNORE, .ack_err */
        PROC_DECODE_UNKNOWN,    /* a what this cnd does not know */
        PROC_DECODE_MALFORMED,  /* shorter than its kind needs */
} ProcDecode;

/* One decoded event. fields[] are those of the D-Bus signal of its kind, in order (what the
 * Proc signals publish); the same words have names by kind below. Fields an older kernel does
 * not send (exit's and coredump's parent) are 0. */
typedef struct ProcEvent {
        ProcKind kind;
        uint32_t what;
        uint32_t cpu;
        uint64_t timestamp_ns;
        union {
                uint32_t fields[6];
                /* Every kind but fork starts with the task it is about. */
                struct { uint32_t pid, tgid; } task;
                struct { uint32_t parent_pid, parent_tgid, child_pid, child_tgid; } fork;
                struct { uint32_t pid, tgid; } exec;
                struct { uint32_t pid, tgid, ruid, euid; } uid;
                struct { uint32_t pid, tgid, rgid, egid; } gid;
                struct { uint32_t pid, tgid, tracer_pid, tracer_tgid; } ptrace;
                struct { uint32_t pid, tgid, parent_pid, parent_tgid; } coredump;
                /* exit_code is a wait status (proc_exit_status_decode()); exit_signal is the
                 * signal sent to the parent, usually SIGCHLD. The parent may be 0 when the
                 * task was being reaped already. */
                struct { uint32_t pid, tgid, exit_code, exit_signal, parent_pid, parent_tgid; } exit;
        };
        unsigned n_fields;
        char comm[16 + 1];      /* Comm only, cut at the first NUL */
        uint32_t ack_err;       /* acks only */
} ProcEvent;

_Static_assert(sizeof(((ProcEvent *) NULL)->exit) == sizeof(((ProcEvent *) NULL)->fields),
               "the named fields are the words of fields[]");

ProcDecode proc_event_decode(const void *data, size_t size, ProcEvent *ret);

/* Replaces every byte of comm that is not part of a character a D-Bus string may hold
 * (utf8_dbus_char_length(): invalid UTF-8 and the noncharacters sd-bus refuses) with '?', in place. */
void proc_comm_make_utf8(char *comm);

/* An exit event's exit_code, a wait status, as waitpid(2) would give it: the exit status
 * (WEXITSTATUS) of a process that exited, or the signal (WTERMSIG) that killed it and whether
 * it dumped core (WCOREDUMP); the one that does not apply is -1. */
void proc_exit_status_decode(uint32_t status, int32_t *ret_code, int32_t *ret_signal, bool *ret_core_dumped);

/* The kernel's event bit for a kind, and the kernel mask for a set of kinds. */
uint32_t proc_kind_to_what(ProcKind kind);
uint32_t proc_kinds_to_what_mask(uint32_t kinds);

/* Counts events lost between those seen, from cn_proc's per-CPU sequence numbers: every
 * message cn_proc sends takes the next number of the CPU it names, acks included (kernels
 * whose acks name no CPU, cpu == -1, give them no number either: those are skipped). Only
 * valid while the kernel sends this socket every event (no 6.6+ filter narrowing it). */
#define PROC_SEQ_MAX_CPUS 8192

typedef struct ProcSeqTracker {
        uint64_t *next_seq;     /* per CPU; 0 = nothing seen yet, else last seq + 1 */
        size_t n_cpus;
        uint64_t lost;
} ProcSeqTracker;

void proc_seq_tracker_done(ProcSeqTracker *t);
void proc_seq_tracker_reset(ProcSeqTracker *t);
/* Returns how many events this message shows to have been lost (also added to t->lost), or
 * -ENOMEM. */
int proc_seq_tracker_see(ProcSeqTracker *t, uint32_t cpu, uint32_t seq);
