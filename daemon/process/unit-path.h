/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The systemd units a cgroup v2 path names, by libsystemd's own rules (those of systemd 252's
 * sd_pid_get_unit(), sd_pid_get_user_unit() and sd_pid_get_machine_name()), from a path already
 * read: cnd reads /proc/PID/cgroup once, through the process's directory, and derives the units
 * from that, instead of libsystemd's lookups by pid, which read /proc/PID/cgroup and
 * /proc/1/cgroup again each, and may read them of a process that took the pid since.
 *
 * libsystemd takes the path in three steps, and so does this:
 *
 *   1. The path as libsystemd reads it from the "0::" line: up to the first line end ('\n', '\r';
 *      the kernel refuses '\n' in a cgroup name, not '\r'), less a trailing " (deleted)", which
 *      the kernel adds for a removed cgroup of a zombie: unit_path_trim().
 *   2. Less the root: the cgroup PID 1 is in, less a trailing "/init.scope" (or the older
 *      "/system.slice", "/system"), is taken off the front, so that inside a container that
 *      sees the host's tree (no cgroup namespace) the container's systemd units are found:
 *      unit_root_strip(), unit_path_shift(). The root is read once (unit_root_get()).
 *   3. The names: slices skipped, then the unit (unit_from_cgroup()); below a user manager
 *      (user@UID.service) or a session scope (session-ID.scope), the user unit
 *      (user_unit_from_cgroup()); and the machine that systemd-machined registered for the unit
 *      (machine_from_unit()).
 *
 * Every path here is raw bytes, as the kernel wrote them (procfs_parse_cgroup() escapes them:
 * unit_path_from_cgroup() undoes that and makes steps 1 and 2). Any bytes are taken: a name that
 * is no unit is no answer (-ENXIO), never a guess, and nothing is read past a path's NUL. A
 * unit name found is one libsystemd would accept: at most UNIT_PATH_NAME_MAX - 1 bytes of
 * [A-Za-z0-9:_.\\@-], so a name is ASCII, though it may hold a backslash (systemd's own escapes,
 * "\x2d", are kept as they are, as libsystemd gives them).
 *
 * What libsystemd does and this does not: it reads the legacy cgroup v1 "name=systemd" hierarchy
 * instead on a system booted with it (cnd reads the cgroup v2 path only), and it finds the root
 * anew at each lookup (cnd once: PID 1 does not move). */

#include <stdbool.h>
#include <stddef.h>

/* libsystemd's UNIT_NAME_MAX: a unit name is shorter. */
#define UNIT_PATH_NAME_MAX 256U
/* Where systemd-machined links each machine's unit to the machine's name, as
 * "unit:UNIT" -> NAME; sd_pid_get_machine_name() reads that link. */
#define UNIT_PATH_MACHINES_DIR "/run/systemd/machines"

/* Step 1: cuts path, in place, to what libsystemd reads of it. */
void unit_path_trim(char *path);

/* Step 2: cuts the cgroup path of PID 1 (trimmed), in place, to the root of systemd's tree. */
void unit_root_strip(char *path);
/* The part of path below root, as libsystemd's cg_shift_path() gives it: if root's components
 * (after "//" and "/./" are passed over) begin path's, what follows them, from the character
 * before it (a "/"; when path is root itself, root's last character: a name too short to be a
 * unit); else path. A component over 255 bytes where one is compared makes it path. Never
 * fails: a pointer into path. */
const char *unit_path_shift(const char *path, const char *root);

/* Steps 1 and 2 for a cgroup path as procfs_parse_cgroup() gives it (escaped as utf8.h says):
 * *ret is the raw path below root, a new string. 0, -EINVAL if cgroup is not such an escape,
 * -ENOMEM. */
int unit_path_from_cgroup(const char *cgroup, const char *root, char **ret);

/* Reads the root from a file of /proc/PID/cgroup's form (PID 1's: "/proc/1/cgroup"): its "0::"
 * path, trimmed and stripped. 0, -ENODATA without a "0::" line, or the read's -errno. */
int unit_root_read(const char *file, char **ret);
/* The root of this system, read from /proc/1/cgroup the first time it is asked for (the
 * process table asks as it starts, ret NULL) and then kept: *ret points to it, valid for ever.
 * 0, or the read's error: -ENODATA (no cgroup v2 path) for good, any other is read again at the
 * next call. Safe from any thread. */
int unit_root_get(const char **ret);

/* Step 3. path is a shifted path. *ret is a new string. 0, -ENXIO if the path names none,
 * -ENOMEM. */
/* The unit: slices passed over ("a.slice/a-b.slice/"), the next component, less a leading '_'
 * (systemd's escape of a name that could be the kernel's), if it is a valid unit name, plain
 * (foo.service) or an instance (foo@bar.service), that is not a slice. */
int unit_from_cgroup(const char *path, char **ret);
/* The user unit: below the slices, a user manager (user@UID.service, UID a uid as systemd
 * writes one: decimal, no leading zero, not 65535 or 4294967295) or else a session scope
 * (session-ID.scope, ID letters and digits), and below that the unit as above. */
int user_unit_from_cgroup(const char *path, char **ret);
/* The machine registered for unit: the target of the link machines_dir/unit:UNIT
 * (UNIT_PATH_MACHINES_DIR on a real system), as it is (any bytes but NUL). -ENXIO for unit "",
 * the link's -errno (-ENOENT: no machine), -ENOMEM. */
int machine_from_unit(const char *machines_dir, const char *unit, char **ret);
