/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Batched mode (BatchGroups=): one Messages signal per id per read batch instead of one Message
 * per cn_msg. A signal is built per id while a read batch is relayed and sent at the end of the
 * batch (batcher_flush), or before an element would take its body past 64 KiB: batching adds no
 * waiting. The batcher owns the signals being built; an id that goes is flushed first. */

#include <linux/connector.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "idtable.h"
#include "loss.h"

typedef struct Batch Batch;

typedef struct Batcher {
        Loss *loss;             /* sends, and counts what a failed signal took with it */
        Batch *pending;         /* ids with a signal being built, in the order they came */
        size_t n_pending, allocated;
} Batcher;

void batcher_init(Batcher *b, Loss *loss);
/* Drops whatever is being built without sending it: cnd is going. */
void batcher_done(Batcher *b);

/* Adds msg to its id's signal. A negative return: this message is lost (count it); earlier
 * ones of a signal that failed are counted here. */
int batcher_append(Batcher *b, const CnId *id, const struct cn_msg *msg);

/* Sends every signal being built. */
void batcher_flush(Batcher *b);

/* Sends the id's signal now, if one is being built: the id is going. */
void batcher_forget(Batcher *b, const CnId *id);
