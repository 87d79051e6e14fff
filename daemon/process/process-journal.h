/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The journal entries of [Journal] Events= (process-journal.c): one per selected event, with a
 * MESSAGE_ID per kind and the CND_* fields cnd(8) lists. */

#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "proc-event.h"
#include "process-table.h"

/* Writes ev's entry if c selects its kind: e is the process's table entry (NULL if it has
 * none), pid and the rest what an exit adds. Returns 0 if the kind is not selected, 1 if the
 * entry went to journald, negative if it could not be written. */
int process_journal_write(const Config *c, const ProcEvent *ev, const ProcessEntry *e, pid_t pid, int32_t exit_code,
                          int32_t exit_signal, uint64_t runtime_ns);
