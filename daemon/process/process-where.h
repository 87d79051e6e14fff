/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where a process runs, besides its unit and cgroup: its user unit, the machine and the
 * container it is in, its pid and mount namespaces and its pid inside its own. Read with the rest
 * of a process's details (process-info.c), kept in its table entry, and sent as the "where"
 * dictionary of the Processes interface and in stream records.
 *
 * Unknown is not none: a string is NULL and a number 0 while unknown (not read, or the read
 * failed: the process was gone, the kernel has no such file), and the bus leaves the key out;
 * a string is "" when the process has none (no user manager above it, no machine, no container). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "container.h"

typedef struct ProcessWhere {
        char *user_unit;        /* below a user manager or session scope (unit-path.h) */
        char *machine;          /* machined's container or VM registered for the unit */
        char *container;        /* "RUNTIME:ID" from the cgroup path (container.h) */
        uint64_t pid_namespace; /* inode of /proc/PID/ns/pid */
        uint64_t mount_namespace; /* inode of /proc/PID/ns/mnt */
        uint32_t namespace_pid; /* the last pid of NSpid: in /proc/PID/status */
} ProcessWhere;

void process_where_done(ProcessWhere *w);

/* Sets *field to a copy of value (an escaped D-Bus string). What it may take is capped where it is
 * kept (process-strings.h). 0 or -ENOMEM. */
int process_where_set(char **field, const char *value);

/* The reads, through the /proc/PID directory dirfd or from what was read through it. Each
 * leaves what it cannot read unknown and fails only with -ENOMEM. */

/* The namespaces' inodes: these links go with the process's namespaces, released at its exit,
 * so they are read with what goes with its memory. */
int process_where_read_namespaces(ProcessWhere *w, int dirfd);
/* The container, from the cgroup path just read. */
int process_where_read_container(ProcessWhere *w, const char *cgroup);
/* The user unit and the machine, as libsystemd's sd_pid_get_user_unit() and
 * sd_pid_get_machine_name() would give them, from the process's cgroup path as they take it
 * (raw and below the root: unit_path_from_cgroup()) and its system unit (unit_from_cgroup() of
 * that path, "" if none): the user unit of a process below a user manager (user@UID.service) or
 * a session scope, and the machine systemd-machined registered for the unit (its link in
 * UNIT_PATH_MACHINES_DIR). Each is "" if none, and neither needs the pid. */
int process_where_read_units(ProcessWhere *w, const char *path, const char *unit);
/* As read for a system without systemd: no user unit and no machine for anyone. */
int process_where_no_units(ProcessWhere *w);
/* What was read turned out not to be the process's: unknown again. */
void process_where_forget_units(ProcessWhere *w);
