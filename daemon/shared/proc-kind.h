/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kinds of cn_proc events that cnd names: [Proc] Events= and [Journal] Events= (conf.c), the
 * Proc signals and cnctl's --kinds= all speak of them so. */

#include <stdint.h>

/* As bits of Config.proc_events, in the order of org.cnd.Connector1(5). */
typedef enum ProcKind {
        PROC_KIND_FORK,
        PROC_KIND_EXEC,
        PROC_KIND_UID,
        PROC_KIND_GID,
        PROC_KIND_SID,
        PROC_KIND_PTRACE,
        PROC_KIND_COMM,
        PROC_KIND_COREDUMP,
        PROC_KIND_EXIT,
        _PROC_KIND_MAX,
} ProcKind;

#define PROC_KINDS_ALL ((UINT32_C(1) << _PROC_KIND_MAX) - 1)

/* "fork", "exec", ... — the lower-case D-Bus signal names. NULL out of range. */
const char *proc_kind_to_string(ProcKind k);
int proc_kind_from_string(const char *s);
