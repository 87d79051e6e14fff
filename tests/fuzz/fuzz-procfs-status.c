/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The /proc/PID/status parser, on arbitrary bytes: what it accepts holds a Uid: line, and the
 * optional lines are in range or absent (-1). */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ProcStatus st;

        if (procfs_parse_status((const char *) data, size, &st) < 0)
                return 0;
        if (st.tgid < -1 || st.ppid < -1 || size < strlen("Uid:0 0 0 0"))
                abort();
        return 0;
}
