/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* org.cnd.Connector1.Id objects, /org/cnd/Connector1/id/<idx>/<val>: one per entry of the id
 * table, served by a fallback vtable and a node enumerator, as ratbagd serves its devices. */

#include <stddef.h>

#include "bus-id.h"
#include "cnd-bus-names.h"
#include "log.h"

static int id_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                   void **found, sd_bus_error *error) {
        BusIds *b = userdata;
        uint32_t idx, val;
        CnId *id;

        if (cn_id_parse_path(path, &idx, &val) < 0)
                return 0;
        id = idtable_find(b->ids, idx, val);
        if (!id)
                return 0;
        *found = id;
        return 1;
}

static int id_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                        sd_bus_error *error) {
        BusIds *b = userdata;
        char **l;

        l = calloc(b->ids->n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < b->ids->n; i++) {
                l[i] = strdup(b->ids->ids[i]->path);
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

int bus_id_setup(BusIds *b) {
        int r;

        r = sd_bus_add_fallback_vtable(b->bus, NULL, CND_ID_PATH_PREFIX, CND_ID_IFACE, id_vtable, id_find, b);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Id objects: %m");
        r = sd_bus_add_node_enumerator(b->bus, NULL, CND_ID_PATH_PREFIX, id_enumerate, b);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Id enumerator: %m");
        return 0;
}

int bus_id_emit_added(BusIds *b, const CnId *id) {
        if (!b->bus)
                return 0;
        return sd_bus_emit_object_added(b->bus, id->path);
}

int bus_id_emit_removed(BusIds *b, const CnId *id) {
        if (!b->bus)
                return 0;
        return sd_bus_emit_object_removed(b->bus, id->path);
}

int bus_id_emit_registration_changed(BusIds *b, const CnId *id) {
        if (!b->bus)
                return 0;
        return sd_bus_emit_properties_changed(b->bus, id->path, CND_ID_IFACE, "Registered", "Name", NULL);
}

int bus_id_emit_message(BusIds *b, const CnId *id, const struct cn_msg *msg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
        int r;

        r = sd_bus_message_new_signal(b->bus, &s, id->path, CND_ID_IFACE, "Message");
        if (r < 0)
                return r;
        r = sd_bus_message_append(s, "uuuuq", msg->id.idx, msg->id.val, msg->seq, msg->ack, msg->flags);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(s, 'y', msg->data, msg->len);
        if (r < 0)
                return r;
        return loss_send(b->loss, s, msg->len);
}
