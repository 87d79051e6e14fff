/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cnctl status and cnctl ids: cnd's state from its properties, as a systemctl-status-like
 * page or a table, or as the JSON of the same properties. */

#include <inttypes.h>
#include <stdarg.h>

#include "bus-util.h"
#include "verbs.h"
#include "utf8.h"

#define LABEL_WIDTH 13

static void field(const char *label, const char *format, ...) _printf_(2, 3);
static void field(const char *label, const char *format, ...) {
        va_list ap;

        printf("%*s%s ", LABEL_WIDTH, label, *label ? ":" : " ");
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        putchar('\n');
}

static void print_groups(json_object *manager) {
        json_object *groups;
        size_t n = 0;

        printf("%*s: ", LABEL_WIDTH, "Groups");
        if (json_object_object_get_ex(manager, "groups", &groups))
                n = json_object_array_length(groups);
        for (size_t i = 0; i < n; i++)
                printf("%s%" PRIu64, i ? " " : "", json_object_get_uint64(json_object_array_get_idx(groups, i)));
        puts(n ? "" : "none (cnd receives nothing)");
}

static void print_ids(json_object *manager) {
        json_object *ids;
        size_t n = 0;

        if (json_object_object_get_ex(manager, "ids", &ids))
                n = json_object_array_length(ids);
        if (n == 0)
                field("Ids", "none registered in the kernel");
        for (size_t i = 0; i < n; i++) {
                json_object *id = json_object_array_get_idx(ids, i);
                _cleanup_(freep) char *name = NULL;

                /* Names are the kernel modules' or cnfeed's users': text from others. */
                if (utf8_escape_controls(json_get_str(id, "name"), &name) < 0)
                        continue;
                field(i == 0 ? "Ids" : "", "%" PRIu64 ":%" PRIu64 " %s", json_get_u64(id, "idx"),
                      json_get_u64(id, "val"), *name ? name : "(name not known yet)");
        }
}

static void print_counters(json_object *m) {
        uint64_t kernel = json_get_u64(m, "kernel_dropped_messages"),
                bus = json_get_u64(m, "bus_dropped_messages");

        field("Messages", "%" PRIu64 " received, %" PRIu64 " rejected (malformed, or not from the kernel)",
              json_get_u64(m, "received_messages"), json_get_u64(m, "rejected_messages"));
        /* The two terms of the counting rule: received = delivered + kernel + bus drops. */
        field("Lost", "%" PRIu64 " since cnd started: %" PRIu64 " dropped by the kernel (cnd's socket full), "
              "%" PRIu64 " by cnd (bus full); %" PRIu64 " overruns",
              kernel + bus, kernel, bus, json_get_u64(m, "overruns"));
}

static void print_proc(json_object *proc) {
        json_object *events;
        size_t n = 0;

        if (!proc) {
                field("cn_proc", "not available from this cnd");
                return;
        }
        if (json_get_bool(proc, "listening"))
                field("cn_proc", "listening (%s)", json_get_bool(proc, "kernel_filter") ?
                      "the kernel filters events per socket" : "cnd filters the event kinds");
        else
                field("cn_proc", "not listening: group 1 is not joined (cnctl join 1)");
        if (*json_get_str(proc, "subscription_error"))
                field("", "error: %s", json_get_str(proc, "subscription_error"));

        printf("%*s: ", LABEL_WIDTH, "Events");
        if (json_object_object_get_ex(proc, "events", &events))
                n = json_object_array_length(events);
        for (size_t i = 0; i < n; i++)
                printf("%s%s", i ? " " : "", json_object_get_string(json_object_array_get_idx(events, i)));
        puts(n ? "" : "none ([Proc] Events= in cnd.conf)");
        field("Lost events", "%" PRIu64 " (gaps in cn_proc's numbering)", json_get_u64(proc, "lost_events"));
        if (json_get_u64(proc, "unknown_events") + json_get_u64(proc, "malformed_events") > 0)
                field("", "%" PRIu64 " of unknown kinds, %" PRIu64 " malformed, not published",
                      json_get_u64(proc, "unknown_events"), json_get_u64(proc, "malformed_events"));
}

/* Why the Processes part is missing, in words; NULL when it is there. */
static const char *processes_absence(const sd_bus_error *error) {
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED))
                return "only for root and members of group " CNCTL_READER_GROUP " ([Processes] ReaderGroup=)";
        return "not available from this cnd (or [Processes] Enabled=no)";
}

static void print_status(json_object *status, const char *processes_why) {
        json_object *proc = NULL, *processes = NULL;

        json_object_object_get_ex(status, "proc", &proc);
        json_object_object_get_ex(status, "processes", &processes);

        field("Version", "%s", json_get_str(status, "version"));
        print_groups(status);
        print_ids(status);
        print_counters(status);
        print_proc(proc);
        if (processes)
                field("Processes", "%" PRIu64 " tracked, %" PRIu64 " unresolved, %" PRIu64 " resyncs",
                      json_get_u64(processes, "tracked"), json_get_u64(processes, "unresolved"),
                      json_get_u64(processes, "resyncs"));
        else
                field("Processes", "%s", processes_why);
}

int verb_status(Cnctl *c, int argc, char *argv[]) {
        _cleanup_(json_object_putp) json_object *status = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        json_object *proc = NULL, *processes = NULL;
        const char *processes_why = NULL;
        sd_bus *bus = cnctl_bus(c);
        int r;

        if (!bus)
                return -1;
        r = cnd_get_all(bus, CND_MANAGER_PATH, CND_MANAGER_IFACE, &status, &error);
        if (r < 0)
                return log_call_error("read cnd's status", ACCESS_ANYONE, &error, r);

        sd_bus_error_free(&error);
        r = cnd_get_all(bus, CND_PROC_PATH, CND_PROC_IFACE, &proc, &error);
        if (r < 0 && !bus_error_is_absent(&error))
                return log_call_error("read cnd's process event state", ACCESS_ANYONE, &error, r);
        json_object_object_add(status, "proc", proc);

        sd_bus_error_free(&error);
        r = cnd_get_all(bus, CND_PROCESSES_PATH, CND_PROCESSES_IFACE, &processes, &error);
        if (r < 0 && !bus_error_is_absent(&error) && !sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED))
                return log_call_error("read cnd's process table", ACCESS_PROCESSES, &error, r);
        if (r < 0)
                processes_why = processes_absence(&error);
        json_object_object_add(status, "processes", processes);

        if (c->out.json != JSON_OFF) {
                if (processes_why)
                        output_note(&c->out, "Note: \"processes\" is null: %s.", processes_why);
                return output_json(&c->out, status);
        }
        pager_open(&c->out);
        print_status(status, processes_why);
        return 0;
}

static int compare_ids(const void *a, const void *b) {
        json_object *x = *(json_object *const *) a, *y = *(json_object *const *) b;
        uint64_t xi = json_get_u64(x, "idx"), yi = json_get_u64(y, "idx");
        uint64_t xv = json_get_u64(x, "val"), yv = json_get_u64(y, "val");

        return xi != yi ? (xi < yi ? -1 : 1) : (xv < yv ? -1 : xv > yv);
}

/* GetManagedObjects' a{oa{sa{sv}}}: the Id objects' properties, in an array. */
static int read_id_objects(sd_bus_message *reply, json_object *ids) {
        const char *path;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                r = sd_bus_message_read(reply, "o", &path);
                if (r < 0)
                        return r;
                r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
                if (r < 0)
                        return r;
                while ((r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
                        const char *iface;

                        r = sd_bus_message_read(reply, "s", &iface);
                        if (r < 0)
                                return r;
                        if (streq(iface, CND_ID_IFACE)) {
                                json_object *o = json_object_new_object();

                                if (!o || json_object_array_add(ids, o) < 0) {
                                        json_object_put(o);
                                        return -ENOMEM;
                                }
                                r = json_read_properties(reply, o);
                        } else
                                r = sd_bus_message_skip(reply, "a{sv}");
                        if (r < 0)
                                return r;
                        r = sd_bus_message_exit_container(reply);
                        if (r < 0)
                                return r;
                }
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

int verb_ids(Cnctl *c, int argc, char *argv[]) {
        static const char *const headers[] = { "IDX", "VAL", "NAME", "REGISTERED", "RECEIVED" };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(json_object_putp) json_object *ids = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        sd_bus *bus = cnctl_bus(c);
        size_t n;
        int r;

        if (!bus)
                return -1;
        r = sd_bus_call_method(bus, CND_BUS_NAME, CND_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                               "GetManagedObjects", &error, &reply, NULL);
        if (r < 0)
                return log_call_error("list cnd's connector ids", ACCESS_ANYONE, &error, r);
        ids = json_object_new_array();
        if (!ids)
                return log_fail("Out of memory.");
        r = read_id_objects(reply, ids);
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to read cnd's connector ids: %m");
        }
        json_object_array_sort(ids, compare_ids);
        if (c->out.json != JSON_OFF)
                return output_json(&c->out, ids);

        n = json_object_array_length(ids);
        t = table_new(ELEMENTSOF(headers), headers);
        if (!t)
                return log_fail("Out of memory.");
        table_align_right(t, 0);
        table_align_right(t, 1);
        table_align_right(t, 4);
        for (size_t i = 0; i < n; i++) {
                json_object *id = json_object_array_get_idx(ids, i);

                if (table_addf(t, "%" PRIu64, json_get_u64(id, "idx")) < 0 ||
                    table_addf(t, "%" PRIu64, json_get_u64(id, "val")) < 0 ||
                    table_add_escaped(t, *json_get_str(id, "name") ? json_get_str(id, "name") : "-") < 0 ||
                    table_add(t, yes_no(json_get_bool(id, "registered"))) < 0 ||
                    table_addf(t, "%" PRIu64, json_get_u64(id, "received_messages")) < 0)
                        return log_fail("Out of memory.");
        }
        pager_open(&c->out);
        table_print(t, stdout, c->out.legend);
        if (c->out.legend)
                printf("\n%zu id%s listed.\n", n, n == 1 ? "" : "s");
        return 0;
}
