/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The table of live processes: pid -> entry, for Exited (what the kernel no longer has at
 * exit), GetProcess and ListProcesses. Pure: no I/O, no bus.
 *
 * A hash of pids with open addressing (linear probing, deletion by backward shift, so no
 * tombstones), at most half full: insert, find and remove take O(1) on average. It grows and
 * shrinks with its content, up to max_entries; one pointer per slot, the entries apart, so an
 * entry stays where it is while the table changes. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "process-strings.h"
#include "process-where.h"
#include "procfs.h"

typedef struct ProcessEntry {
        pid_t pid;
        uint64_t start_time;    /* stat field 22: with pid, the process's identity */
        uint64_t start_ns;      /* CLOCK_MONOTONIC at start, for runtime_ns at exit */
        pid_t ppid;
        uid_t uid;
        /* The entry's reference to its strings, which a forked child shares
         * (process-strings.h); NULL for none. The strings below, and those of where, point
         * into it, read-only: NULL reads as "" (argv as empty, a where string as unknown). */
        ProcessStrings *strings;
        char *exe;
        char **argv;
        char *unit;
        char *cgroup;
        ProcessWhere where;     /* its numbers are the entry's own */
} ProcessEntry;

/* A new entry with no strings. NULL on allocation failure. */
ProcessEntry *process_entry_new(pid_t pid, uint64_t start_time);
ProcessEntry *process_entry_free(ProcessEntry *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProcessEntry *, process_entry_free);

/* Gives e the strings s (the entry takes the caller's reference; its former strings are
 * dropped). */
void process_entry_set_strings(ProcessEntry *e, ProcessStrings *s);

typedef struct ProcessTable {
        ProcessEntry **slots;   /* n_slots, a power of two; NULL = free */
        size_t n_slots;
        size_t n;               /* entries */
        size_t max_entries;     /* the bound, >= 1 */
        uint64_t n_refused;     /* inserts refused at the bound */
} ProcessTable;

/* The heap the where strings take as read (process-where.h), allocator overhead included. */
size_t process_where_heap_size(const ProcessWhere *w);

/* max_entries: the machine's pid limit (process_read_pid_max()), which no table of live
 * processes can exceed; the bound only guards against a wrong pid_max. What the entries'
 * strings may take is their blocks' budget's to say (process-strings.h), not the table's. */
void process_table_init(ProcessTable *t, size_t max_entries);
/* Frees every entry. */
void process_table_done(ProcessTable *t);

typedef enum ProcessTablePut {
        PROCESS_TABLE_ADDED,     /* a pid not in the table */
        PROCESS_TABLE_UPDATED,   /* same pid and start_time: the process exec'd again */
        PROCESS_TABLE_REPLACED,  /* same pid, another start_time: the pid was reused */
} ProcessTablePut;

/* Puts e (owned by the table from then on) in the table. An entry already there for e->pid
 * is taken out and handed back in *ret_old (NULL if none), which the caller frees: after
 * PROCESS_TABLE_REPLACED it is a process that is gone without its exit having been seen,
 * and the caller reports it so. Returns a ProcessTablePut, or -ENOSPC at the bound (e is
 * freed, n_refused counts it; an update or replacement is never refused), -ENOMEM (e is freed,
 * the table as before). */
int process_table_put(ProcessTable *t, ProcessEntry *e, ProcessEntry **ret_old);

ProcessEntry *process_table_find(const ProcessTable *t, pid_t pid);

/* Takes pid's entry out of the table and returns it (the caller frees it), or NULL. */
ProcessEntry *process_table_take(ProcessTable *t, pid_t pid);

/* Unordered iteration: start with *i = 0; NULL at the end. The table must not change meanwhile. */
ProcessEntry *process_table_next(const ProcessTable *t, size_t *i);

/* The entries in ascending pid order, for ListProcesses: a new array of t->n pointers into the
 * table (the caller frees the array, not the entries). *ret is NULL for an empty table. */
int process_table_sorted(const ProcessTable *t, ProcessEntry ***ret, size_t *ret_n);

/* What a resync must report: the differences between the table and a fresh scan of /proc. */
typedef struct ProcessDiff {
        ProcessEntry **gone;    /* entries whose (pid, start_time) the scan lacks: exited */
        size_t n_gone;
        ProcessKey *new;        /* scanned processes the table lacks, or holds with another
                                 * start_time (a reused pid is in both lists) */
        size_t n_new;
} ProcessDiff;

/* Compares the table with scan (any order, pids unique, as process_scan() gives it). Both
 * lists come out in ascending pid order; gone points into the table, which is not changed
 * (take those entries out while reporting them). 0 or -ENOMEM. */
int process_table_diff(const ProcessTable *t, const ProcessKey *scan, size_t n_scan, ProcessDiff *ret);
void process_diff_done(ProcessDiff *d);
