/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The whole process table in a file, for DumpProcesses: a reply on the bus is bounded (the
 * system bus refuses messages above 32 MiB), a table is not. As systemd's
 * DumpByFileDescriptor: a memfd written once and sealed against any change, so that what the
 * reader gets is what cnd wrote, whoever else holds it.
 *
 * The format is JSON lines, written with json-c: one object per entry, in ascending pid order,
 * each on a line of its own, with the fields of GetProcess and the pid:
 *
 *   {"pid":1,"ppid":0,"uid":0,"exe":"/usr/lib/systemd/systemd","argv":["/sbin/init"],
 *    "unit":"init.scope","cgroup":"/init.scope","start_time":10,"where":{...}}
 *
 * "argv" only when arguments is true ([Processes] Arguments=yes), "where" with the keys the bus
 * gives (unknown ones left out). Strings are as the bus has them (utf8.h), and inside them DEL,
 * the C1 and the bidi controls are written as \u escapes as well as C0 (json-c's), so that the
 * file is safe to show on a terminal. */

#include <stdbool.h>

#include "process-table.h"

/* Writes t into a new sealed memfd: *ret_fd (close-on-exec, its offset at the start). 0, or a negative errno (-ENOMEM,
 * and whatever memfd_create(), write() or the seals fail with). */
int process_dump(const ProcessTable *t, bool arguments, int *ret_fd);

/* The JSON line (with its newline) of e, for process_dump() and its tests. 0 or -ENOMEM. */
int process_dump_line(const ProcessEntry *e, bool arguments, char **ret);
