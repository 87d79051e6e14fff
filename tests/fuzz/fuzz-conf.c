/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The configuration parser, on arbitrary text; what parses must dump and parse back equal. */

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *error = NULL, *dump = NULL;
        Config c, again;

        config_init(&c);
        if (config_parse_text(&c, "fuzz.conf", (const char *) data, size, &error) >= 0) {
                if (config_dump(&c, &dump) < 0)
                        abort();
                config_init(&again);
                if (config_parse_text(&again, "dump", dump, strlen(dump), NULL) < 0)
                        abort();
                if (again.groups != c.groups || again.proc_events != c.proc_events ||
                    again.scan_interval_usec != c.scan_interval_usec)
                        abort();
                config_done(&again);
        } else if (!error)
                abort();        /* a failure always says why (memory aside) */
        free(dump);
        free(error);
        config_done(&c);
        return 0;
}
