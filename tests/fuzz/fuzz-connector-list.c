/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The /proc/net/connector parser, and the id table applying what it parsed. */

#include <stdlib.h>

#include "fuzz.h"
#include "idtable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ConnectorEntry *entries = NULL;
        size_t n = 0;
        unsigned bad;
        IdTable t;
        bool created;

        if (connector_list_parse((const char *) data, size, &entries, &n, &bad) < 0)
                return 0;
        for (size_t i = 1; i < n; i++)
                if (entries[i - 1].idx > entries[i].idx ||
                    (entries[i - 1].idx == entries[i].idx && entries[i - 1].val >= entries[i].val))
                        abort();        /* sorted and unique */

        idtable_init(&t, 4, NULL, NULL);
        for (size_t i = 0; i < n && i < 64; i++)
                (void) idtable_get_for_message(&t, entries[i].idx, entries[i].val + 1, &created);
        (void) idtable_apply_scan(&t, entries, n);
        (void) idtable_apply_scan(&t, entries, n / 2);
        if (t.n_unregistered > 4)
                abort();
        idtable_done(&t);
        free(entries);
        return 0;
}
