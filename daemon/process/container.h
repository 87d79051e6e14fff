/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The container a process runs in, as its cgroup v2 path names it: container runtimes put each
 * container's processes in a cgroup whose name carries the runtime and the container's id.
 * Pure: a path in, a name out.
 *
 * The name is "RUNTIME:ID":
 *
 *   docker:ID       docker-ID.scope (systemd driver), docker/ID (cgroupfs driver)
 *   podman:ID       libpod-ID.scope, libpod-conmon-ID.scope (its monitor, conmon),
 *                   libpod_parent/libpod-ID (cgroupfs driver)
 *   containerd:ID   cri-containerd-ID.scope
 *   cri-o:ID        crio-ID.scope, crio-conmon-ID.scope, crio-ID (cgroupfs driver)
 *   cri:ID          a bare ID below a kubepods* cgroup (the kubelet's cgroupfs driver, which
 *                   does not name the runtime)
 *   lxc:NAME        lxc.payload.NAME (LXC 4 and later), lxc/NAME (older)
 *   nspawn:NAME     machine.slice/machine-NAME.scope (systemd-nspawn and other machines
 *                   registered with systemd-machined; systemd's \xNN escapes of NAME decoded)
 *
 * where ID is the runtimes' 64 lower-case hex digits (anything else is no container id) and
 * NAME any text, cut to CONTAINER_NAME_MAX bytes with CONTAINER_CUT_MARKER after it. The
 * outermost match wins: a container nested in another is reported as the outer one, whose
 * cgroup the host's runtime made (a process in a container can name the cgroups below its own
 * as it likes, as can a user in a delegated subtree: read the name with the unit and the
 * user unit beside it). */

#include <stddef.h>

#define CONTAINER_NAME_MAX 128U
#define CONTAINER_CUT_MARKER "\xe2\x80\xa6"    /* U+2026, "…" */

/* path: a cgroup path as procfs_parse_cgroup() gives it (escaped, as utf8.h says). *ret is a
 * new string, "" if the path names no container; the name stays a D-Bus string. 0 or -ENOMEM. */
int container_from_cgroup(const char *path, char **ret);
