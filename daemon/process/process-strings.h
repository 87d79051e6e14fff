/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The strings of a process that its user can make long: exe, argv, unit, cgroup and the where
 * strings (user_unit, machine, container). They are packed into one immutable block with a
 * reference count: a table entry holds a reference, a forked child shares its parent's block
 * (as does a process whose strings are its parent's), and a block is charged to its budget once,
 * from its making to its last reference's end. Pure: no I/O.
 *
 * A user decides how long these are: a 4 KiB path of bytes that are not UTF-8 escapes to 16 KiB
 * (utf8.h), a delegated cgroup subtree nests as deep as PATH_MAX allows, and a few thousand forks
 * of such a process would each hold copies. Hence caps on each string and one budget for all of
 * them:
 *
 *   - a string past its cap is cut (never inside a character or an escape) and
 *     PROCESS_STRINGS_CUT_MARKER follows it; an argument vector past its cap keeps the arguments
 *     that end within it, and one more element, the marker alone;
 *   - past the budget, a block is made without its arguments, and if that is still too much,
 *     with every string that was known replaced by the marker alone (a few bytes each, still
 *     counted): never silently empty, as "" means "none" and NULL "unknown". */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container.h"
#include "util.h"

#define PROCESS_STRINGS_CUT_MARKER CONTAINER_CUT_MARKER /* U+2026, "…" */
/* exe and cgroup, escaped: PATH_MAX. The kernel hands out paths of at most PATH_MAX - 1 bytes,
 * so a path of plain text is never cut; one of bytes that must be escaped (up to four each) may
 * be. */
#define PROCESS_PATH_STRING_MAX 4096U
/* unit, user_unit and machine: systemd allows 255 and 64 bytes; this holds any unit a cgroup
 * path names (unit-path.h) and whatever name machined's link holds. */
#define PROCESS_NAME_STRING_MAX 256U
/* The arguments, escaped, together, each with its pointer (so that many empty arguments cannot
 * take more than their bytes say). */
#define PROCESS_ARGV_STRING_MAX (64U * 1024U)

/* What blocks (and whoever else charges it) take, and how much they may. */
typedef struct StringBudget {
        size_t used;
        size_t max;
        uint64_t n_cut;         /* strings (and argument vectors) cut at their cap */
        uint64_t n_stripped;    /* blocks made without some of their strings for the budget */
} StringBudget;

typedef struct ProcessStrings {
        unsigned n_ref;
        size_t size;            /* charged to budget: the allocation, with malloc's overhead */
        StringBudget *budget;   /* NULL: charged to none */
        /* All point into the block. Never NULL: */
        char *exe;
        char **argv;            /* NULL-terminated, maybe empty */
        char *unit;
        char *cgroup;
        /* NULL while unknown (process-where.h): */
        char *user_unit;
        char *machine;
        char *container;
        char data[];
} ProcessStrings;

/* The strings to make a block of, as read (NULL reads as "" for the first four, as unknown for
 * the where strings). argv_cut: the vector is already a prefix of a longer one (the command
 * line was longer than was read). */
typedef struct ProcessStringsView {
        const char *exe;
        char * const *argv;
        bool argv_cut;
        const char *unit;
        const char *cgroup;
        const char *user_unit;
        const char *machine;
        const char *container;
} ProcessStringsView;

/* The heap a string, or a block of this size, takes, allocator overhead included (estimated). */
size_t string_heap_size(const char *s);
size_t heap_size(size_t n);
/* The same of a NULL-terminated string vector of separate allocations, as read. */
size_t strv_heap_size(char * const *v);

/* The length of s's longest prefix of at most max bytes that cuts no UTF-8 character and no
 * escape of utf8_escape(). */
size_t string_cut_length(const char *s, size_t length, size_t max);

/* A block of v's strings, each capped, with one reference of the caller's: same_as (a parent's
 * block, may be NULL) with a new reference if it holds the same strings as capped, else a new
 * block, its cuts counted in budget->n_cut, charged to budget (may be NULL) as far as it allows
 * (see above). Returns 0, or -ENOMEM. */
int process_strings_new(const ProcessStringsView *v, StringBudget *budget, ProcessStrings *same_as,
                        ProcessStrings **ret);

/* Whether a and b hold the same strings. */
bool process_strings_equal(const ProcessStrings *a, const ProcessStrings *b);

ProcessStrings *process_strings_ref(ProcessStrings *s);
/* Drops a reference; the last gives the block's size back to its budget. NULL. */
ProcessStrings *process_strings_unref(ProcessStrings *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProcessStrings *, process_strings_unref);
