/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "batch.h"
#include "cnd-bus-names.h"
#include "util.h"

#define BATCH_MAX_BYTES (64 * 1024)
/* An element's share of the body: the struct's 8-byte alignment, seq, ack, flags, the array
 * length, then the data. */
#define BATCH_ELEMENT_OVERHEAD 24

struct Batch {
        const CnId *id;
        sd_bus_message *signal;         /* open at the array */
        size_t bytes;                   /* the payload so far, for the 64 KiB bound */
        unsigned count;                 /* elements, for the count of what a failure loses */
};

void batcher_init(Batcher *b, Loss *loss) {
        *b = (Batcher) { .loss = loss };
}

void batcher_done(Batcher *b) {
        for (size_t i = 0; i < b->n_pending; i++)
                sd_bus_message_unref(b->pending[i].signal);
        b->pending = mfree(b->pending);
        b->n_pending = b->allocated = 0;
}

static void batch_send(Batcher *b, Batch *batch) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = TAKE_PTR(batch->signal);
        int r;

        r = sd_bus_message_close_container(s);
        if (r >= 0)
                r = loss_send(b->loss, s, batch->bytes);
        if (r < 0)
                loss_count_bus_dropped(b->loss, batch->count);
        batch->bytes = 0;
        batch->count = 0;
}

static int batch_open(Batcher *b, Batch *batch) {
        int r;

        r = sd_bus_message_new_signal(b->loss->bus, &batch->signal, batch->id->path, CND_ID_IFACE, "Messages");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(batch->signal, 'a', "(uuqay)");
        if (r < 0)
                batch->signal = sd_bus_message_unref(batch->signal);
        return r;
}

/* Most read batches carry one id, or a few: the search starts at the last one. */
static Batch *find(Batcher *b, const CnId *id) {
        for (size_t i = b->n_pending; i > 0; i--)
                if (b->pending[i - 1].id == id)
                        return &b->pending[i - 1];
        return NULL;
}

static Batch *add(Batcher *b, const CnId *id) {
        if (b->n_pending == b->allocated) {
                size_t n = MAX(b->allocated * 2, (size_t) 16);
                Batch *a = reallocarray(b->pending, n, sizeof(Batch));

                if (!a)
                        return NULL;
                b->pending = a;
                b->allocated = n;
        }
        b->pending[b->n_pending] = (Batch) { .id = id };
        return &b->pending[b->n_pending++];
}

static int append_element(sd_bus_message *s, const struct cn_msg *msg) {
        int r;

        r = sd_bus_message_open_container(s, 'r', "uuqay");
        if (r < 0)
                return r;
        r = sd_bus_message_append_basic(s, 'u', &msg->seq);
        if (r < 0)
                return r;
        r = sd_bus_message_append_basic(s, 'u', &msg->ack);
        if (r < 0)
                return r;
        r = sd_bus_message_append_basic(s, 'q', &msg->flags);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(s, 'y', msg->data, msg->len);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(s);
}

int batcher_append(Batcher *b, const CnId *id, const struct cn_msg *msg) {
        size_t element = BATCH_ELEMENT_OVERHEAD + msg->len;
        Batch *batch = find(b, id);
        int r;

        if (!batch) {
                batch = add(b, id);
                if (!batch)
                        return -ENOMEM;
        }
        if (batch->signal && batch->bytes + element > BATCH_MAX_BYTES)
                batch_send(b, batch);
        if (!batch->signal) {
                r = batch_open(b, batch);
                if (r < 0)
                        return r;
        }

        r = append_element(batch->signal, msg);
        if (r < 0) {
                /* The half-built signal is no use: what it held is lost with it. */
                loss_count_bus_dropped(b->loss, batch->count);
                batch->signal = sd_bus_message_unref(batch->signal);
                batch->count = 0;
                batch->bytes = 0;
                return r;
        }
        batch->bytes += element;
        batch->count++;
        return 0;
}

void batcher_flush(Batcher *b) {
        for (size_t i = 0; i < b->n_pending; i++)
                if (b->pending[i].signal)
                        batch_send(b, &b->pending[i]);
        b->n_pending = 0;
}

void batcher_forget(Batcher *b, const CnId *id) {
        Batch *batch = find(b, id);

        if (!batch)
                return;
        if (batch->signal)
                batch_send(b, batch);
        *batch = b->pending[--b->n_pending];
}
