/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The XML comes from sd-bus itself, never from a copy that could drift from the vtables: the
 * daemon's own bus_*_setup() register its objects on one end of an in-process peer-to-peer
 * connection, the other end walks the object tree from "/" with Introspect, and each interface
 * is cut out of the first object that has it. That is exactly what a client of the running
 * daemon sees, limited to one interface. */

#include <linux/cn_proc.h>
#include <sys/socket.h>

#include "bus-introspect.h"
#include "bus-manager.h"
#include "family-table.h"
#include "manager.h"

#define INTERFACE_XML_DOCTYPE                                                                      \
        "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"   \
        "\"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n"

#define STANDARD_IFACE_PREFIX "org.freedesktop.DBus."

typedef struct Interface {
        char *name;
        char *xml;              /* its <interface> element, whole lines as sd-bus indents them */
} Interface;

typedef struct Introspection {
        sd_event *event;
        sd_bus *server, *client;
        /* Serves the vtables. Registration keeps the pointer and Introspect only asks its id
         * table what objects there are: no getter and no method runs, so the rest stays zero. */
        Manager manager;
        Interface *interfaces;
        size_t n_interfaces;
} Introspection;

static void introspection_done(Introspection *in) {
        sd_bus_close_unref(in->client);
        sd_bus_close_unref(in->server);
        sd_event_unref(in->event);
        idtable_done(&in->manager.ids);
        families_free(&in->manager.families);
        for (size_t i = 0; i < in->n_interfaces; i++) {
                free(in->interfaces[i].name);
                free(in->interfaces[i].xml);
        }
        free(in->interfaces);
}

static int connect_pair(Introspection *in) {
        _cleanup_(closep) int server_fd = -1, client_fd = -1;
        int fds[2], r;
        sd_id128_t id;

        r = sd_event_new(&in->event);
        if (r < 0)
                return r;
        r = sd_bus_new(&in->server);
        if (r < 0)
                return r;
        r = sd_bus_new(&in->client);
        if (r < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0)
                return -errno;
        server_fd = fds[0];
        client_fd = fds[1];

        r = sd_bus_set_fd(in->server, server_fd, server_fd);
        if (r < 0)
                return r;
        TAKE_FD(server_fd);
        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        r = sd_bus_set_server(in->server, true, id);
        if (r < 0)
                return r;
        r = sd_bus_set_anonymous(in->server, true);
        if (r < 0)
                return r;
        /* As the system bus connection is: members that need privileges get annotated. */
        r = sd_bus_set_trusted(in->server, false);
        if (r < 0)
                return r;
        r = sd_bus_start(in->server);
        if (r < 0)
                return r;

        r = sd_bus_set_fd(in->client, client_fd, client_fd);
        if (r < 0)
                return r;
        TAKE_FD(client_fd);
        r = sd_bus_start(in->client);
        if (r < 0)
                return r;

        r = sd_bus_attach_event(in->server, in->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        return sd_bus_attach_event(in->client, in->event, SD_EVENT_PRIORITY_NORMAL);
}

static int register_objects(Introspection *in) {
        /* One id, as a scan finds cn_proc's, so that the Id fallback has an object to show. */
        static const ConnectorEntry cn_proc = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC, .name = "cn_proc" };
        Manager *m = &in->manager;

        idtable_init(&m->ids, 1, NULL, NULL);
        if (idtable_apply_scan(&m->ids, &cn_proc, 1) < 0)
                return log_oom();

        /* Each family's state, zeroed: its objects keep the pointer, and nothing reads it. */
        if (families_alloc(&m->families) < 0)
                return log_oom();

        m->bus = in->server;
        m->bus_ids = (BusIds) { .bus = m->bus, .ids = &m->ids };
        manager_fill_bus_manager(m);
        return manager_bus_objects_setup(m);
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        sd_bus_message **ret = userdata;

        *ret = sd_bus_message_ref(reply);
        return 0;
}

/* Both ends are served by one event loop: the server answers while the client waits. */
static int call_introspect(Introspection *in, const char *path, char **ret) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const sd_bus_error *e;
        const char *xml;
        int r;

        r = sd_bus_call_method_async(in->client, &slot, NULL, path, "org.freedesktop.DBus.Introspectable",
                                     "Introspect", on_reply, &reply, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to introspect %s: %m", path);
        while (!reply) {
                r = sd_event_run(in->event, UINT64_MAX);
                if (r < 0)
                        return log_error_errno(r, "Failed to introspect %s: %m", path);
        }
        e = sd_bus_message_get_error(reply);
        if (e)
                return log_error_errno(sd_bus_message_get_errno(reply), "Failed to introspect %s: %s",
                                       path, e->message);
        r = sd_bus_message_read(reply, "s", &xml);
        if (r < 0)
                return log_error_errno(r, "Failed to read the introspection of %s: %m", path);
        *ret = strdup(xml);
        return *ret ? 0 : log_oom();
}

static const Interface *find_interface(const Introspection *in, const char *name, size_t len) {
        for (size_t i = 0; i < in->n_interfaces; i++)
                if (strlen(in->interfaces[i].name) == len && strncmp(in->interfaces[i].name, name, len) == 0)
                        return &in->interfaces[i];
        return NULL;
}

static int add_interface(Introspection *in, const char *name, size_t len, const char *xml, size_t size) {
        Interface *a;

        a = reallocarray(in->interfaces, in->n_interfaces + 1, sizeof(Interface));
        if (!a)
                return log_oom();
        in->interfaces = a;
        a[in->n_interfaces] = (Interface) { .name = memdup_suffix0(name, len), .xml = memdup_suffix0(xml, size) };
        if (!a[in->n_interfaces].name || !a[in->n_interfaces].xml) {
                free(a[in->n_interfaces].name);
                free(a[in->n_interfaces].xml);
                return log_oom();
        }
        in->n_interfaces++;
        return 0;
}

/* Keeps each of cnd's interfaces in the object's XML that was not seen before. */
static int collect_interfaces(Introspection *in, const char *xml) {
        static const char tag[] = "<interface name=\"";
        const char *p, *end;
        int r;

        for (p = xml; (p = strstr(p, tag)); p = end) {
                const char *name = p + strlen(tag), *quote = strchr(name, '"'), *start = p;

                end = quote ? strstr(quote, "</interface>") : NULL;
                if (!end)
                        return log_error_errno(-EBADMSG, "Unexpected introspection data.");
                end += strlen("</interface>");
                if (*end == '\n')
                        end++;
                while (start > xml && start[-1] != '\n')
                        start--;

                if (strncmp(name, STANDARD_IFACE_PREFIX, strlen(STANDARD_IFACE_PREFIX)) == 0 ||
                    find_interface(in, name, quote - name))
                        continue;
                r = add_interface(in, name, quote - name, start, end - start);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int walk(Introspection *in, const char *path) {
        static const char tag[] = "<node name=\"";
        _cleanup_(freep) char *xml = NULL;
        int r;

        r = call_introspect(in, path, &xml);
        if (r < 0)
                return r;
        r = collect_interfaces(in, xml);
        if (r < 0)
                return r;

        /* Children are named relative to this path ("1/1" where an enumerator lists deeper). */
        for (const char *p = xml; (p = strstr(p, tag)); ) {
                _cleanup_(freep) char *child = NULL;
                const char *name = p + strlen(tag), *quote = strchr(name, '"');

                if (!quote)
                        return log_error_errno(-EBADMSG, "Unexpected introspection data from %s.", path);
                if (asprintf(&child, "%s/%.*s", streq(path, "/") ? "" : path, (int) (quote - name), name) < 0)
                        return log_oom();
                r = walk(in, child);
                if (r < 0)
                        return r;
                p = quote;
        }
        return 0;
}

int bus_introspect(FILE *out, const char *interface) {
        _cleanup_(introspection_done) Introspection in = {};
        const Interface *found;
        int r;

        r = connect_pair(&in);
        if (r < 0)
                return log_error_errno(r, "Failed to set up a connection to introspect: %m");
        r = register_objects(&in);
        if (r < 0)
                return r;
        r = walk(&in, "/");
        if (r < 0)
                return r;

        if (streq(interface, "list")) {
                for (size_t i = 0; i < in.n_interfaces; i++)
                        fprintf(out, "%s\n", in.interfaces[i].name);
        } else {
                found = find_interface(&in, interface, strlen(interface));
                if (!found)
                        return log_error_errno(-ENOENT, "Interface %s not found; --bus-introspect=list shows cnd's.",
                                               interface);
                fputs(INTERFACE_XML_DOCTYPE "<node>\n", out);
                fputs(found->xml, out);
                fputs("</node>\n", out);
        }

        /* The output is a build step's: a short write must fail it. */
        if (fflush(out) != 0 || ferror(out))
                return log_error_errno(errno ?: EIO, "Failed to write the introspection data: %m");
        return 0;
}
