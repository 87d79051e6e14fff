/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The /proc/PID/stat parser, on arbitrary bytes: what it accepts is in range, and the name's
 * end is found however many parentheses it holds. */

#include <limits.h>
#include <stdlib.h>

#include "fuzz.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ProcStat st;

        if (procfs_parse_stat((const char *) data, size, &st) < 0)
                return 0;
        if (st.pid < 0 || st.ppid < 0 || st.state == ' ' || st.state == '\n')
                abort();
        return 0;
}
