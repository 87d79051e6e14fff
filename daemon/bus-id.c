/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* org.cnd.Connector1.Id objects, /org/cnd/Connector1/id/<idx>/<val>: one per entry of the id
 * table, served by a fallback vtable and a node enumerator, as ratbagd serves its devices. */

#include <stddef.h>

#include "manager.h"

static int id_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                   void **found, sd_bus_error *error) {
        Manager *m = userdata;
        uint32_t idx, val;
        CnId *id;

        if (cn_id_parse_path(path, &idx, &val) < 0)
                return 0;
        id = idtable_find(&m->ids, idx, val);
        if (!id)
                return 0;
        *found = id;
        return 1;
}

static int id_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                        sd_bus_error *error) {
        Manager *m = userdata;
        char **l;

        l = calloc(m->ids.n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < m->ids.n; i++) {
                l[i] = strdup(m->ids.ids[i]->path);
                if (!l[i]) {
                        for (size_t j = 0; j < i; j++)
                                free(l[j]);
                        free(l);
                        return -ENOMEM;
                }
        }
        *nodes = l;
        return 0;
}

static int property_get_name(sd_bus *bus, const char *path, const char *interface,
                             const char *property, sd_bus_message *reply, void *userdata,
                             sd_bus_error *error) {
        const CnId *id = userdata;

        return sd_bus_message_append(reply, "s", id->name);
}

static int property_get_registered(sd_bus *bus, const char *path, const char *interface,
                                   const char *property, sd_bus_message *reply, void *userdata,
                                   sd_bus_error *error) {
        const CnId *id = userdata;

        return sd_bus_message_append(reply, "b", (int) id->registered);
}

static const sd_bus_vtable id_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Idx", "u", NULL, offsetof(CnId, idx), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Val", "u", NULL, offsetof(CnId, val), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Registered", "b", property_get_registered, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ReceivedMessages", "t", NULL, offsetof(CnId, received), 0),

        SD_BUS_SIGNAL_WITH_ARGS("Message",
                                SD_BUS_ARGS("u", idx, "u", val, "u", seq, "u", ack, "q", flags, "ay", data),
                                0),
        SD_BUS_SIGNAL_WITH_ARGS("Messages", SD_BUS_ARGS("a(uuqay)", messages), 0),

        SD_BUS_VTABLE_END
};

int bus_id_setup(Manager *m) {
        int r;

        r = sd_bus_add_fallback_vtable(m->bus, NULL, CND_ID_PATH_PREFIX, CND_ID_IFACE, id_vtable, id_find, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Id objects: %m");
        r = sd_bus_add_node_enumerator(m->bus, NULL, CND_ID_PATH_PREFIX, id_enumerate, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Id enumerator: %m");
        return 0;
}

int bus_id_emit_added(Manager *m, const CnId *id) {
        if (!m->bus)
                return 0;
        return sd_bus_emit_object_added(m->bus, id->path);
}

int bus_id_emit_removed(Manager *m, const CnId *id) {
        if (!m->bus)
                return 0;
        return sd_bus_emit_object_removed(m->bus, id->path);
}

int bus_id_emit_registration_changed(Manager *m, const CnId *id) {
        if (!m->bus)
                return 0;
        return sd_bus_emit_properties_changed(m->bus, id->path, CND_ID_IFACE, "Registered", "Name", NULL);
}

int bus_id_emit_message(Manager *m, const CnId *id, const struct cn_msg *msg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
        int r;

        r = sd_bus_message_new_signal(m->bus, &s, id->path, CND_ID_IFACE, "Message");
        if (r < 0)
                return r;
        r = sd_bus_message_append(s, "uuuuq", msg->id.idx, msg->id.val, msg->seq, msg->ack, msg->flags);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(s, 'y', msg->data, msg->len);
        if (r < 0)
                return r;
        r = sd_bus_send(m->bus, s, NULL);
        if (r >= 0)
                relay_note_queued(m, msg->len);
        return r;
}

/* Batched mode. A Messages signal is built per id while a read batch is relayed, and sent at
 * the end of the batch, or before an element would take its body past 64 KiB. */

#define BATCH_MAX_BYTES (64 * 1024)
/* An element's share of the body: the struct's 8-byte alignment, seq, ack, flags, the array
 * length, then the data. */
#define BATCH_ELEMENT_OVERHEAD 24

typedef struct Batch {
        sd_bus_message *signal;         /* open at the array, or NULL */
        size_t bytes;
        unsigned count;
        bool pending;                   /* in m->batch_pending */
} Batch;

static int batch_send(Manager *m, Batch *b) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = TAKE_PTR(b->signal);
        unsigned count = b->count;
        size_t bytes = b->bytes;
        int r;

        b->bytes = 0;
        b->count = 0;
        if (!s)
                return 0;
        r = sd_bus_message_close_container(s);
        if (r >= 0)
                r = sd_bus_send(m->bus, s, NULL);
        if (r < 0)
                m->bus_dropped += count;
        else
                relay_note_queued(m, bytes);
        return r;
}

static int batch_open(Manager *m, const CnId *id, Batch *b) {
        int r;

        r = sd_bus_message_new_signal(m->bus, &b->signal, id->path, CND_ID_IFACE, "Messages");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(b->signal, 'a', "(uuqay)");
        if (r < 0)
                b->signal = sd_bus_message_unref(b->signal);
        return r;
}

static int batch_mark_pending(Manager *m, CnId *id) {
        if (m->n_batch_pending == m->batch_pending_allocated) {
                size_t n = MAX(m->batch_pending_allocated * 2, (size_t) 16);
                CnId **a = reallocarray(m->batch_pending, n, sizeof(CnId *));

                if (!a)
                        return -ENOMEM;
                m->batch_pending = a;
                m->batch_pending_allocated = n;
        }
        m->batch_pending[m->n_batch_pending++] = id;
        return 0;
}

int bus_id_batch_append(Manager *m, CnId *id, const struct cn_msg *msg) {
        size_t element = BATCH_ELEMENT_OVERHEAD + msg->len;
        Batch *b = id->userdata;
        int r;

        if (!b) {
                b = id->userdata = calloc(1, sizeof(Batch));
                if (!b)
                        return -ENOMEM;
        }
        if (b->signal && b->bytes + element > BATCH_MAX_BYTES)
                (void) batch_send(m, b);
        if (!b->signal) {
                r = batch_open(m, id, b);
                if (r < 0)
                        return r;
        }
        if (!b->pending) {
                if (batch_mark_pending(m, id) < 0) {
                        b->signal = sd_bus_message_unref(b->signal);
                        return -ENOMEM;
                }
                b->pending = true;
        }

        r = sd_bus_message_open_container(b->signal, 'r', "uuqay");
        if (r >= 0)
                r = sd_bus_message_append(b->signal, "uuq", msg->seq, msg->ack, msg->flags);
        if (r >= 0)
                r = sd_bus_message_append_array(b->signal, 'y', msg->data, msg->len);
        if (r >= 0)
                r = sd_bus_message_close_container(b->signal);
        if (r < 0) {
                /* The half-built signal is no use: what it held is lost with it. */
                m->bus_dropped += b->count;
                b->signal = sd_bus_message_unref(b->signal);
                b->count = 0;
                b->bytes = 0;
                return r;
        }
        b->bytes += element;
        b->count++;
        return 0;
}

void bus_id_batch_flush_all(Manager *m) {
        for (size_t i = 0; i < m->n_batch_pending; i++) {
                Batch *b = m->batch_pending[i]->userdata;

                if (b) {
                        (void) batch_send(m, b);
                        b->pending = false;
                }
        }
        m->n_batch_pending = 0;
}

void bus_id_batch_free(Manager *m, CnId *id) {
        Batch *b = id->userdata;

        if (!b)
                return;
        (void) batch_send(m, b);
        for (size_t i = 0; i < m->n_batch_pending; i++)
                if (m->batch_pending[i] == id) {
                        m->batch_pending[i] = m->batch_pending[--m->n_batch_pending];
                        break;
                }
        id->userdata = mfree(b);
}

void bus_id_batch_release(CnId *id) {
        Batch *b = id->userdata;

        if (!b)
                return;
        sd_bus_message_unref(b->signal);
        id->userdata = mfree(b);
}
