/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsers of /proc/PID text (proc(5)): bytes in, values out, no I/O. They take the bytes as
 * read, not NUL-terminated, and accept any bytes without reading past size. Every string they
 * return is a D-Bus string, escaped as utf8.h says. They return -EBADMSG for text the kernel
 * does not write, -ENOMEM. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* A process's identity: pids are reused, a pid with its start time is not. */
typedef struct ProcessKey {
        pid_t pid;
        uint64_t start_time;    /* /proc/PID/stat field 22: clock ticks since boot */
} ProcessKey;

/* Orders ProcessKeys by pid, for qsort() and bsearch(). */
int process_key_compare(const void *a, const void *b);

/* From /proc/PID/stat: "pid (comm) state ppid ... starttime ...". */
typedef struct ProcStat {
        pid_t pid;              /* field 1 */
        char state;             /* field 3: 'R', 'S', ... 'Z' zombie, 'X' dead */
        pid_t ppid;             /* field 4 */
        uint64_t start_time;    /* field 22 */
} ProcStat;

/* comm (field 2) may hold any byte but NUL, spaces, parentheses and newlines included, and is
 * longer than 15 bytes for some kernel threads: it ends at the last ')' of the text, since no later field
 * holds one. -EBADMSG if any field up to 22 is missing, one of those read is not a number in
 * range, or field 22 is not followed by the space before field 23 (the text may be cut). */
int procfs_parse_stat(const char *text, size_t size, ProcStat *ret);

/* From /proc/PID/status: "Key:\tvalue" lines. */
typedef struct ProcStatus {
        uid_t ruid, euid, suid, fsuid;  /* the "Uid:" line */
        pid_t tgid;                     /* "Tgid:", -1 if missing */
        pid_t ppid;                     /* "PPid:", -1 if missing */
        char state;                     /* "State:", its letter (R, S, Z, X...); 0 if missing */
} ProcStatus;

/* Needs the "Uid:" line with its four ids (-EBADMSG without it); "Tgid:", "PPid:" and
 * "State:" are optional (a State: value that is not a capital letter is missing too). A "Name:" value cannot pass for another line: the kernel escapes its newlines. */
int procfs_parse_status(const char *text, size_t size, ProcStatus *ret);

/* Splits /proc/PID/cmdline, NUL-separated arguments, into a NULL-terminated vector of escaped
 * strings:
 *   - empty text (kernel threads, zombies) gives an empty vector;
 *   - a last argument without its final NUL (a process that rewrote its arguments, as
 *     setproctitle() does) is kept whole;
 *   - empty arguments stay, as "";
 *   - truncated says the text is the first bytes of a longer command line, cut by the reader's
 *     bound: the argument cut in the middle is left out, so that every element is a whole
 *     argument and the vector a prefix of the real one. */
int procfs_parse_cmdline(const void *data, size_t size, bool truncated, char ***ret);

/* The cgroup v2 path from /proc/PID/cgroup, the line "0::/path", escaped. The kernel writes
 * that line last and the path unescaped, so the path runs to the end of the text (less the
 * final newline): a cgroup whose name holds a newline comes out whole, and cannot pass for
 * another line. " (deleted)", which the kernel appends for a removed cgroup, is kept.
 * -ENODATA if there is no such line: a kernel with only cgroup v1 hierarchies mounted
 * ("N:controllers:/path" lines) has no process-wide path to give. */
int procfs_parse_cgroup(const char *text, size_t size, char **ret);

/* The pid a process has in its own pid namespace: the last of the "NSpid:" line of
 * /proc/PID/status, which lists its pid in each namespace from the reader's outwards in (one
 * pid outside any nested namespace). -ENODATA without the line (kernels before 4.1),
 * -EBADMSG if it holds anything but positive pids. */
int procfs_parse_nspid(const char *text, size_t size, uint32_t *ret);

/* The inode number of a namespace from the target of a /proc/PID/ns/TYPE link,
 * "TYPE:[INODE]" (size bytes, as readlink() gives them). -EBADMSG for another type or form. */
int procfs_parse_ns_link(const char *text, size_t size, const char *type, uint64_t *ret);

/* A start time (stat field 22, ticks since boot) in ns since boot, at ticks_per_sec
 * (sysconf(_SC_CLK_TCK), 100 on Linux): what the kernel keeps is that coarse. */
uint64_t procfs_start_time_to_ns(uint64_t start_time, unsigned long ticks_per_sec);

/* NULL-terminated string vectors, as procfs_parse_cmdline() returns them. */
size_t strv_length(char * const *v);
char **strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
