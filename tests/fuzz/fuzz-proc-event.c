/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The cn_proc decoder and the sequence tracker, on arbitrary payloads. */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proc-event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ProcSeqTracker t = {};
        ProcEvent ev;

        if (proc_event_decode(data, size, &ev) == PROC_DECODE_EVENT) {
                if (ev.kind >= _PROC_KIND_MAX || ev.n_fields > 6 || strlen(ev.comm) > 16)
                        abort();
        }

        /* The input read as (cpu, seq) pairs. */
        for (size_t i = 0; i + 8 <= size; i += 8) {
                uint32_t cpu, seq;

                memcpy(&cpu, data + i, 4);
                memcpy(&seq, data + i + 4, 4);
                if (proc_seq_tracker_see(&t, cpu % (2 * PROC_SEQ_MAX_CPUS), seq) < 0)
                        break;
        }
        proc_seq_tracker_done(&t);
        return 0;
}
