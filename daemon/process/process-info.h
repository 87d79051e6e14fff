/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading a process's details from /proc/PID at once, as its exec event arrives: the I/O
 * around procfs.h's parsers, and the systemd units its cgroup path names (unit-path.h).
 *
 * The read opens /proc/PID once and reads every file relative to that directory: once the
 * process is reaped, each read there fails with ESRCH instead of reaching a process that
 * reused the pid (a read in steps opens it for each step, unless PROCESS_READ_HOLD_DIR keeps it
 * open from the first to the last). The unit, the user unit and the machine are derived from
 * the cgroup path read there, by libsystemd's rules, with no lookup by pid: they are the
 * process's own, as the path is (the machine's link is machined's, named by the unit). stat is
 * read once, first; whether the process has exited by the end of the read (a zombie, or reaped)
 * status tells, read later. A pid reused before the directory is opened is not detectable here; the caller, which knows
 * what it expected (a start time from an earlier scan, or the time of the exec event it reads
 * for: process_info_started_after()), compares start_time. A process that execs again before
 * the read shows its newer program, whose own exec event follows.
 *
 * Only the command line touches the process's memory: reading it takes the process's mmap
 * lock, which the process itself can keep held for as long as it likes (a thread faulting in a
 * page of a FUSE file whose read never returns, and another waiting to map something: every
 * reader of the lock then waits too). stat, status, exe, cgroup and the unit do not. So
 * process_info_read_begin() and _end() never read it, and never wait on the process; the
 * command line has a read of its own, process_cmdline_read(), made where a read that
 * never returns holds nothing up (process-reader.h). process_info_read() reads all of it and
 * may wait as long: only tests and tools call it. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "process-table.h"
#include "process-where.h"
#include "procfs.h"
#include "util.h"

/* At most this much of /proc/PID/cmdline is read (the kernel allows 2 MiB and more): longer
 * command lines are cut, cmdline_truncated says so, and argv holds the whole arguments within
 * the bound (procfs_parse_cmdline()); an entry made of it shows the cut (process-strings.h). */
#define PROCESS_CMDLINE_MAX (64U * 1024U)

typedef enum ProcessField {
        PROCESS_FIELD_STAT,     /* ppid, start_time, state */
        PROCESS_FIELD_STATUS,   /* ruid, euid, where.namespace_pid */
        PROCESS_FIELD_EXE,
        PROCESS_FIELD_CMDLINE,
        PROCESS_FIELD_CGROUP,   /* and where.container */
        PROCESS_FIELD_UNIT,     /* and where.user_unit, where.machine */
        _PROCESS_FIELD_MAX,
} ProcessField;

#define PROCESS_FIELD_BIT(f) (1U << (f))

typedef enum ProcessReadFlags {
        PROCESS_READ_NO_ARGV = 1U << 0,         /* leave cmdline unread, argv empty */
        /* Ask no unit, unit "": for a system not booted with systemd (sd_booted() <= 0),
         * where no process has one; nor user unit nor machine (and so no look at machined's
         * links). */
        PROCESS_READ_NO_UNIT = 1U << 1,
        /* _begin() keeps the process's /proc directory open in info (info->dir) for the
         * command line's read and _end(): they need not open it again, nor read stat first to
         * show that the pid is still the process begun, since a directory once opened reads its
         * own process or nothing. Each held directory is a file descriptor until _end(). */
        PROCESS_READ_HOLD_DIR = 1U << 2,
} ProcessReadFlags;

/* One process as read. Every string is set (never NULL) and a D-Bus string (utf8.h); what
 * could not be read is "" or empty, 0 or -1 for numbers, and has its bit in unresolved. */
typedef struct ProcessInfo {
        pid_t pid;
        pid_t ppid;             /* -1 if unresolved */
        uid_t ruid, euid;       /* (uid_t) -1 if unresolved */
        uint64_t start_time;    /* stat field 22; 0 if unresolved */
        char state;             /* R, S, Z...: stat's at the first read, status' at the last; 0 if unresolved */

        /* The target of /proc/PID/exe as the kernel gives it: " (deleted)" stays, since it is
         * the kernel's word that the file is no longer there (an upgraded binary, a memfd). */
        char *exe;
        char **argv;            /* NULL-terminated, maybe empty */
        bool cmdline_truncated; /* cmdline was longer than PROCESS_CMDLINE_MAX */
        char *cgroup;           /* "" if unresolved or no cgroup v2 hierarchy */
        /* The system unit, as sd_pid_get_unit() would name it, from cgroup (unit-path.h):
         * user@UID.service for anything under a user manager, whose own unit is
         * where.user_unit; "" if none. No unit is no failure: it is a process outside systemd's
         * units, or a system without systemd. Unresolved with cgroup, and where PID 1's cgroup
         * (the root) cannot be read. */
        char *unit;
        ProcessWhere where;     /* unknown parts NULL or 0 (process-where.h) */
        int dir;                /* /proc/PID, held from _begin() to _end() (PROCESS_READ_HOLD_DIR), or -1 */

        /* The process had exited by the end of the read: reaped (reads failed with ESRCH),
         * or a zombie. Fields read before still belong to it. */
        bool exited;
        unsigned unresolved;            /* PROCESS_FIELD_BIT()s of the fields not read */
        int error[_PROCESS_FIELD_MAX];  /* why, as a negative errno; 0 for those read */
} ProcessInfo;

/* Reads pid's details, the command line included (so it may wait on the process's memory: not
 * for the event loop; pid a thread-group id, as an exec event's tgid). Never fails for a detail: a file that cannot be read (the process is
 * gone, EACCES on another user's exe without ptrace access, a malformed file) leaves its
 * fields unresolved and the read goes on. Returns 0 with *ret set, -EINVAL for pid <= 0,
 * -ENOMEM. */
int process_info_read(pid_t pid, ProcessReadFlags flags, ProcessInfo **ret);

/* Only the start time (stat field 22) of pid, for a forked child whose details are its
 * parent's: 0, or a negative errno (-ENOENT once the process is reaped). */
int process_read_start_time(pid_t pid, uint64_t *ret);
/* Whether pid is still the process of start_time, and has not exited (no zombie): by its stat,
 * which never waits on the process. */
bool process_runs(pid_t pid, uint64_t start_time);

/* The same read in steps, for a caller that cannot wait for all of it: _begin() reads stat and
 * exe, which go with the process the moment it exits, the command line is read next
 * (process_info_open_cmdline(), process_cmdline_read(): as soon as can be, where it may wait),
 * and _end() the rest (status, cgroup, unit) later, elsewhere. None of them but the command
 * line's read touches the process's memory. Unless _begin() held the directory, _end() first
 * checks by the start time that pid is still the process _begin() read; if not (it exited and
 * was reaped, maybe the pid reused), the rest is left unresolved and exited set. _end() lets go
 * of a held directory. _begin() returns what process_info_read() does; _end() 0 or -ENOMEM. */
int process_info_read_begin(pid_t pid, ProcessReadFlags flags, ProcessInfo **ret);
int process_info_read_end(ProcessInfo *info, ProcessReadFlags flags);

/* A command line read on its own, into memory of the reader's: error is 0 and argv set (maybe
 * empty, NULL-terminated), or error a negative errno (-ESRCH if pid is no longer the process
 * of start_time, -ENOMEM). */
typedef struct ProcessCmdline {
        char **argv;
        bool truncated;         /* longer than PROCESS_CMDLINE_MAX */
        int error;
} ProcessCmdline;

/* Opens the command line of info's process: through the directory _begin() held, or else
 * through /proc/PID once stat shows it is still the process of info's start time (-ESRCH if
 * not). Never waits on the process. Returns the file descriptor, or a negative errno. */
int process_info_open_cmdline(const ProcessInfo *info);
/* Reads the command line opened so. May wait as long as the process holds its memory's lock:
 * see above. Returns ret->error. */
int process_cmdline_read(int fd, ProcessCmdline *ret);
/* Moves c's argv into info (or marks the command line unresolved with c's error). */
void process_info_take_cmdline(ProcessInfo *info, ProcessCmdline *c);
void process_cmdline_done(ProcessCmdline *c);

/* Whether the process info describes started after timestamp_ns (CLOCK_MONOTONIC, cn_proc's
 * clock): then it is not the process an event of that time was about, but one that took its
 * pid since. start_time counts whole clock ticks since boot and the kernel rounds it down, and
 * process_start_time_to_monotonic_ns() only ever errs early (suspends since), so this never
 * says yes of the event's own process; a pid reused within the tick of the event (10 ms at
 * USER_HZ 100) is not seen. */
bool process_info_started_after(const ProcessInfo *info, uint64_t timestamp_ns);
/* Empties info of what was read, which belongs to another process: every field unresolved
 * (-ESRCH), as for a process gone before the read. */
void process_info_disown(ProcessInfo *info, ProcessReadFlags flags);

ProcessInfo *process_info_free(ProcessInfo *info);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProcessInfo *, process_info_free);

const char *process_field_to_string(ProcessField f);

/* A table entry made of info, its strings a block charged to budget (may be NULL), or
 * same_as (a parent's, may be NULL) if that holds the same: process_strings_new(). The entry's
 * uid is the real uid, the user who ran the program (a setuid binary changes only the effective
 * one). start_ns is process_start_time_to_monotonic_ns() of its start_time. 0 or -ENOMEM. */
int process_entry_new_from_info(const ProcessInfo *info, StringBudget *budget, ProcessStrings *same_as,
                                ProcessEntry **ret);

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
