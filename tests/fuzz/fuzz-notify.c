/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The id-notification request parser and matcher (kernel/cnfeed-notify.h, which the module
 * compiles too), on arbitrary requests. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel/cnfeed-notify.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct cnfeed_notify_parsed p, q;
        uint32_t probes[] = { 0, 1, 17, 0x7fffffff, 0xfffffffe, 0xffffffff };

        if (cnfeed_notify_parse(data, size, &p) < 0)
                return 0;
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
                for (size_t j = 0; j < sizeof(probes) / sizeof(probes[0]); j++)
                        (void) cnfeed_notify_match(&p, probes[i], probes[j]);
        if (cnfeed_notify_parse(data, size, &q) < 0 || !cnfeed_notify_equal(&p, &q))
                abort();
        return 0;
}
