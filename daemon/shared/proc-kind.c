/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>

#include "proc-kind.h"
#include "util.h"

static const char *const proc_kind_table[_PROC_KIND_MAX] = {
        [PROC_KIND_FORK] = "fork",
        [PROC_KIND_EXEC] = "exec",
        [PROC_KIND_UID] = "uid",
        [PROC_KIND_GID] = "gid",
        [PROC_KIND_SID] = "sid",
        [PROC_KIND_PTRACE] = "ptrace",
        [PROC_KIND_COMM] = "comm",
        [PROC_KIND_COREDUMP] = "coredump",
        [PROC_KIND_EXIT] = "exit",
};

const char *proc_kind_to_string(ProcKind k) {
        if ((unsigned) k >= _PROC_KIND_MAX)
                return NULL;
        return proc_kind_table[k];
}

int proc_kind_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(proc_kind_table); i++)
                if (streq(s, proc_kind_table[i]))
                        return (int) i;
        return -EINVAL;
}
