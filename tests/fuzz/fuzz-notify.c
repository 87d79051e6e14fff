/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The id-notification request parser and matcher and the request table's rules
 * (kernel/cnfeed-notify.h, which the module compiles too), on arbitrary requests. */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cnfeed-notify.h"
#include "fuzz.h"

static void check_groups(const struct cnfeed_notify_parsed *p, uint32_t idx, uint32_t val) {
        bool kept = p->group >= 1 && p->group <= CNFEED_MAX_GROUP;
        uint32_t want = kept && cnfeed_notify_match(p, idx, val) ? UINT32_C(1) << (p->group - 1) : 0;

        /* One bit, the request's group's, exactly when it matches a group the module keeps. */
        if (cnfeed_notify_groups(p, idx, val) != want)
                abort();
}

/* The admission rule on counts taken from the request's bytes: the quota is checked first,
 * and a request is admitted only below both bounds. */
static void check_admit(const uint8_t *data, size_t size) {
        uint32_t c[4] = {};
        int r;

        memcpy(c, data, size < sizeof(c) ? size : sizeof(c));
        r = cnfeed_notify_admit(c[0], c[1], c[2], c[3]);
        if (c[0] >= c[2] ? r != -EDQUOT : c[1] >= c[3] ? r != -ENOSPC : r != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct cnfeed_notify_parsed p, q;
        uint32_t probes[] = { 0, 1, 17, 0x7fffffff, 0xfffffffe, 0xffffffff };

        check_admit(data, size);
        if (cnfeed_notify_parse(data, size, &p) < 0)
                return 0;
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
                for (size_t j = 0; j < sizeof(probes) / sizeof(probes[0]); j++)
                        check_groups(&p, probes[i], probes[j]);
        if (cnfeed_notify_parse(data, size, &q) < 0 || !cnfeed_notify_equal(&p, &q))
                abort();
        return 0;
}
