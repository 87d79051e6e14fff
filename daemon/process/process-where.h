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
        char *user_unit;        /* sd_pid_get_user_unit() under a user manager */
        char *machine;          /* sd_pid_get_machine_name(): machined's container or VM */
        char *container;        /* "RUNTIME:ID" from the cgroup path (container.h) */
        uint64_t pid_namespace; /* inode of /proc/PID/ns/pid */
        uint64_t mount_namespace; /* inode of /proc/PID/ns/mnt */
        uint32_t namespace_pid; /* the last pid of NSpid: in /proc/PID/status */
} ProcessWhere;

void process_where_done(ProcessWhere *w);

/* Sets *field to a copy of value (an escaped D-Bus string). What it may take is capped where it is
 * kept (process-strings.h). 0 or -ENOMEM. */
int process_where_set(char **field, const char *value);

/* The reads, through the /proc/PID directory dirfd or by pid (see process-info.h for when a
 * lookup by pid can be trusted). Each leaves what it cannot read unknown and fails only with
 * -ENOMEM. */

/* The namespaces' inodes: these links go with the process's namespaces, released at its exit,
 * so they are read with what goes with its memory. */
int process_where_read_namespaces(ProcessWhere *w, int dirfd);
/* The container, from the cgroup path just read. */
int process_where_read_container(ProcessWhere *w, const char *cgroup);
/* The user unit (for a process under a user manager, whose system unit is user@UID.service:
 * unit) and the machine, by pid. */
int process_where_read_units(ProcessWhere *w, pid_t pid, const char *unit);
/* As read for a system without systemd: no user unit and no machine for anyone. */
int process_where_no_units(ProcessWhere *w);
/* The lookups by pid turned out not to be the process's: unknown again. */
void process_where_forget_units(ProcessWhere *w);
