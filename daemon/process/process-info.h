/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading a process's details from /proc/PID at once, as its exec event arrives: the I/O
 * around procfs.h's parsers, and the systemd unit through libsystemd.
 *
 * The read opens /proc/PID once and reads every file relative to that directory: once the
 * process is reaped, each read there fails with ESRCH instead of reaching a process that
 * reused the pid. The one lookup by pid, libsystemd's for the unit, is made between two reads
 * of stat through the directory: if the second fails or shows another start time, the process
 * was gone, and the unit is dropped as possibly another process's. A pid reused before the
 * directory is opened is not detectable here; the caller, which knows what it expected
 * (a start time from an earlier scan), compares start_time. A process that execs again before
 * the read shows its newer program, whose own exec event follows. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "process-table.h"
#include "procfs.h"
#include "util.h"

/* At most this much of /proc/PID/cmdline is read (the kernel allows 2 MiB and more): longer
 * command lines are cut, cmdline_truncated says so, and argv holds the whole arguments within
 * the bound (procfs_parse_cmdline()). */
#define PROCESS_CMDLINE_MAX (64U * 1024U)

typedef enum ProcessField {
        PROCESS_FIELD_STAT,     /* ppid, start_time, state */
        PROCESS_FIELD_STATUS,   /* ruid, euid */
        PROCESS_FIELD_EXE,
        PROCESS_FIELD_CMDLINE,
        PROCESS_FIELD_CGROUP,
        PROCESS_FIELD_UNIT,
        _PROCESS_FIELD_MAX,
} ProcessField;

#define PROCESS_FIELD_BIT(f) (1U << (f))

typedef enum ProcessReadFlags {
        PROCESS_READ_NO_ARGV = 1U << 0,         /* leave cmdline unread, argv empty */
        /* Ask no unit, unit "": for a system not booted with systemd (sd_booted() <= 0),
         * where no process has one. libsystemd's lookup reads both /proc/PID/cgroup and
         * /proc/1/cgroup, a third of the cost of a read. */
        PROCESS_READ_NO_UNIT = 1U << 1,
} ProcessReadFlags;

/* One process as read. Every string is set (never NULL) and a D-Bus string (utf8.h); what
 * could not be read is "" or empty, 0 or -1 for numbers, and has its bit in unresolved. */
typedef struct ProcessInfo {
        pid_t pid;
        pid_t ppid;             /* -1 if unresolved */
        uid_t ruid, euid;       /* (uid_t) -1 if unresolved */
        uint64_t start_time;    /* stat field 22; 0 if unresolved */
        char state;             /* stat field 3 at the last read of stat; 0 if unresolved */

        /* The target of /proc/PID/exe as the kernel gives it: " (deleted)" stays, since it is
         * the kernel's word that the file is no longer there (an upgraded binary, a memfd). */
        char *exe;
        char **argv;            /* NULL-terminated, maybe empty */
        bool cmdline_truncated; /* cmdline was longer than PROCESS_CMDLINE_MAX */
        char *cgroup;           /* "" if unresolved or no cgroup v2 hierarchy */
        /* The user unit for a process under a user manager (user@UID.service), else the
         * system unit; "" if none. No unit is no failure: it is a process outside systemd's
         * units, or a system without systemd. */
        char *unit;

        /* The process had exited by the end of the read: reaped (reads failed with ESRCH),
         * or a zombie. Fields read before still belong to it. */
        bool exited;
        unsigned unresolved;            /* PROCESS_FIELD_BIT()s of the fields not read */
        int error[_PROCESS_FIELD_MAX];  /* why, as a negative errno; 0 for those read */
} ProcessInfo;

/* Reads pid's details (pid a thread-group id, as an exec event's tgid). Never fails for a detail: a file that cannot be read (the process is
 * gone, EACCES on another user's exe without ptrace access, a malformed file) leaves its
 * fields unresolved and the read goes on. Returns 0 with *ret set, -EINVAL for pid <= 0,
 * -ENOMEM. */
int process_info_read(pid_t pid, ProcessReadFlags flags, ProcessInfo **ret);

/* Only the start time (stat field 22) of pid, for a forked child whose details are its
 * parent's: 0, or a negative errno (-ENOENT once the process is reaped). */
int process_read_start_time(pid_t pid, uint64_t *ret);

/* The same read in two steps, for a caller that cannot wait for all of it: _begin() reads stat,
 * exe and cmdline, which go with the process's memory the moment it exits, and _end() the rest
 * (status, cgroup, unit) later, elsewhere. _end() first checks by the start time that pid is
 * still the process _begin() read; if not (it exited and was reaped, maybe the pid reused), the
 * rest is left unresolved and exited set. _begin() returns what process_info_read() does;
 * _end() 0 or -ENOMEM. */
int process_info_read_begin(pid_t pid, ProcessReadFlags flags, ProcessInfo **ret);
int process_info_read_end(ProcessInfo *info, ProcessReadFlags flags);

ProcessInfo *process_info_free(ProcessInfo *info);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProcessInfo *, process_info_free);

const char *process_field_to_string(ProcessField f);

/* A table entry made of info, whose strings it takes (info's become NULL; free info still).
 * The entry's uid is the real uid, the user who ran the program (a setuid binary changes only
 * the effective one). start_ns is process_start_time_to_monotonic_ns() of its start_time. */
int process_entry_new_from_info(ProcessInfo *info, ProcessEntry **ret);

/* The CLOCK_MONOTONIC time (the clock of cn_proc's timestamp_ns) at which a process of this
 * start_time started: from stat's clock ticks since boot (CLOCK_BOOTTIME), so as coarse as a
 * tick (10 ms at USER_HZ 100), and less the time suspended until now, so a runtime measured
 * from it counts the suspends between the start and this call. 0 if that is before the
 * monotonic clock's zero. */
uint64_t process_start_time_to_monotonic_ns(uint64_t start_time);

/* Every process in /proc, for a resync: the numeric entries there are thread-group leaders
 * (the kernel lists no other thread), each with its start time from its stat. A process
 * that exits during the scan is left out. Sorted by pid. 0, or a negative errno if /proc cannot
 * be read (-ENOMEM). */
int process_scan(ProcessKey **ret, size_t *ret_n);

/* /proc/sys/kernel/pid_max: pids are below it, so the table never needs more entries. */
int process_read_pid_max(unsigned *ret);
