/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* org.cnd.Connector1.Processes on /org/cnd/Connector1/processes: the process table
 * (processes.c) as signals, methods and counters. Its signals and methods are for root and
 * [Processes] ReaderGroup= only: the D-Bus policy keeps the signals from everyone else, and
 * the methods check the caller here as well. */

#include <stddef.h>

#include "bus-processes.h"
#include "cnd-bus-names.h"
#include "process-dump.h"

static int property_get_tracked(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Processes *ps = userdata;

        return sd_bus_message_append(reply, "u", (uint32_t) ps->table.n);
}

static int property_get_string_bytes(sd_bus *bus, const char *path, const char *interface, const char *property,
                                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "t", processes_string_bytes(userdata));
}

static int property_get_strings_cut(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "t", processes_strings_cut(userdata));
}

static int property_get_strings_stripped(sd_bus *bus, const char *path, const char *interface,
                                         const char *property, sd_bus_message *reply, void *userdata,
                                         sd_bus_error *error) {
        return sd_bus_message_append(reply, "t", processes_strings_stripped(userdata));
}

static int property_get_journal_failed(sd_bus *bus, const char *path, const char *interface, const char *property,
                                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Processes *ps = userdata;

        return sd_bus_message_append(reply, "t", process_journal_failed(&ps->journal));
}

static int property_get_journal_written(sd_bus *bus, const char *path, const char *interface, const char *property,
                                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Processes *ps = userdata;

        return sd_bus_message_append(reply, "t", process_journal_written(&ps->journal));
}

/* The table may hold arguments for the journal ([Journal] Arguments=): the bus shows them only
 * with [Processes] Arguments=yes. */
static bool arguments(const Processes *ps) {
        return ps->config->processes_arguments;
}

static int append_argv(sd_bus_message *m, char **argv, size_t *payload) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "s");
        if (r < 0)
                return r;
        for (char **a = argv; a && *a; a++) {
                r = sd_bus_message_append_basic(m, 's', *a);
                if (r < 0)
                        return r;
                if (payload)
                        *payload += strlen(*a) + 5;
        }
        return sd_bus_message_close_container(m);
}

static int append_where_string(sd_bus_message *m, const char *key, const char *value, size_t *payload) {
        if (!value)
                return 0;       /* unknown: left out */
        if (payload)
                *payload += strlen(key) + strlen(value) + 16;
        return sd_bus_message_append(m, "{sv}", key, "s", value);
}

static int append_where_number(sd_bus_message *m, const char *key, const char *type, uint64_t value,
                               size_t *payload) {
        if (value == 0)
                return 0;
        if (payload)
                *payload += strlen(key) + 24;
        return type[0] == 'u' ? sd_bus_message_append(m, "{sv}", key, type, (uint32_t) value)
                              : sd_bus_message_append(m, "{sv}", key, type, value);
}

/* The "where" dictionary: what is known of where the process runs (process-where.h). e may be
 * NULL (an exit the table knew nothing of): an empty dictionary. */
static int append_where(sd_bus_message *m, const ProcessEntry *e, size_t *payload) {
        const ProcessWhere *w = e ? &e->where : &(ProcessWhere) {};
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = append_where_string(m, "user_unit", w->user_unit, payload);
        if (r >= 0)
                r = append_where_string(m, "machine", w->machine, payload);
        if (r >= 0)
                r = append_where_string(m, "container", w->container, payload);
        if (r >= 0)
                r = append_where_number(m, "pid_namespace", "t", w->pid_namespace, payload);
        if (r >= 0)
                r = append_where_number(m, "mount_namespace", "t", w->mount_namespace, payload);
        if (r >= 0)
                r = append_where_number(m, "namespace_pid", "u", w->namespace_pid, payload);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

static int reply_process(Processes *ps, sd_bus_message *call, uint32_t pid) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const ProcessEntry *e;
        int r;

        e = pid > 0 && pid <= INT32_MAX ? process_table_find(&ps->table, (pid_t) pid) : NULL;
        if (!e)
                return sd_bus_reply_method_errorf(call, CND_ERROR_NO_SUCH_PROCESS, "No process %" PRIu32 " in the table.",
                                                  pid);
        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "uus", (uint32_t) e->ppid, (uint32_t) e->uid, strempty(e->exe));
        if (r < 0)
                return r;
        r = append_argv(reply, arguments(ps) ? e->argv : NULL, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "sst", strempty(e->unit), strempty(e->cgroup), e->start_time);
        if (r < 0)
                return r;
        r = append_where(reply, e, NULL);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* What an entry of ListProcesses's reply takes at most, marshalled: the struct's padding, three
 * u, two s (length, NUL, padding), a t, the where dictionary with its six keys at most, each
 * entry padded, its variant's signature and value. */
static size_t listed_size(const ProcessEntry *e) {
        const ProcessWhere *w = &e->where;

        return 64 + strlen(strempty(e->exe)) + strlen(strempty(e->unit)) + 6 * 48 +
               strlen(strempty(w->user_unit)) + strlen(strempty(w->machine)) + strlen(strempty(w->container));
}

/* Whether the entries fit a reply within b->list_max: the system bus would refuse a larger
 * one, and take cnd's connection down with it. */
static bool list_fits(const BusProcesses *b, ProcessEntry * const *v, size_t n) {
        size_t size = 256;      /* the header */

        for (size_t i = 0; i < n && size <= b->list_max; i++)
                size += listed_size(v[i]);
        return size <= b->list_max;
}

static int append_listed(sd_bus_message *reply, const ProcessEntry *e) {
        int r;

        r = sd_bus_message_open_container(reply, 'r', "uuussta{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "uuusst", (uint32_t) e->pid, (uint32_t) e->ppid, (uint32_t) e->uid,
                                          strempty(e->exe), strempty(e->unit), e->start_time);
        if (r >= 0)
                r = append_where(reply, e, NULL);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int reply_processes(Processes *ps, sd_bus_message *call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(freep) ProcessEntry **sorted = NULL;
        BusProcesses *b = ps->userdata;
        size_t n = 0;
        int r;

        r = process_table_sorted(&ps->table, &sorted, &n);
        if (r < 0)
                return r;
        if (!list_fits(b, sorted, n))
                return sd_bus_reply_method_errorf(call, CND_ERROR_TOO_LARGE,
                                                  "The table's %zu entries take more than %zu bytes as a reply: "
                                                  "DumpProcesses hands them over whole.", n, b->list_max);
        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(uuussta{sv})");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_listed(reply, sorted[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int reply_dump(Processes *ps, sd_bus_message *call) {
        _cleanup_(closep) int fd = -1;
        int r;

        r = process_dump(&ps->table, arguments(ps), &fd);
        if (r < 0)
                return log_warning_errno(r, "Failed to write the process table for DumpProcesses: %m");
        return sd_bus_reply_method_return(call, "h", fd);
}

/* While a scan is being read the table may lack a process that has been running all along: a
 * call that would miss it waits for the scan's end (bounded: past BUS_PROCESSES_WAITING_MAX
 * calls, the table as it is answers). Returns true if the call waits. */
static bool wait_for_scan(Processes *ps, sd_bus_message *call, uint32_t pid) {
        BusProcesses *b = ps->userdata;

        if (!processes_scanning(ps) || b->n_waiting >= BUS_PROCESSES_WAITING_MAX)
                return false;
        b->waiting[b->n_waiting++] = (WaitingCall) { .call = sd_bus_message_ref(call), .pid = pid };
        return true;
}

static int method_get_process(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        Processes *ps = userdata;
        uint32_t pid;
        int r;

        r = bus_verify_access_async(((BusProcesses *) ps->userdata)->access, call, BUS_ACCESS_READER, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* asked the bus; called again with its answer */
        r = sd_bus_message_read(call, "u", &pid);
        if (r < 0)
                return r;
        if (pid > 0 && pid <= INT32_MAX && !process_table_find(&ps->table, (pid_t) pid) && wait_for_scan(ps, call, pid))
                return 1;
        return reply_process(ps, call, pid);
}

/* ListProcesses and DumpProcesses: the whole table, once a scan being read has ended. */
static int reply_table(Processes *ps, sd_bus_message *call) {
        if (streq(sd_bus_message_get_member(call), "DumpProcesses"))
                return reply_dump(ps, call);
        return reply_processes(ps, call);
}

static int method_table(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        Processes *ps = userdata;
        int r;

        r = bus_verify_access_async(((BusProcesses *) ps->userdata)->access, call, BUS_ACCESS_READER, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* asked the bus; called again with its answer */
        if (wait_for_scan(ps, call, 0))
                return 1;
        return reply_table(ps, call);
}

static const sd_bus_vtable processes_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Tracked", "u", property_get_tracked, 0, 0),
        SD_BUS_PROPERTY("Unresolved", "t", NULL, offsetof(Processes, unresolved), 0),
        SD_BUS_PROPERTY("Resyncs", "t", NULL, offsetof(Processes, resyncs), 0),
        SD_BUS_PROPERTY("StringBytes", "t", property_get_string_bytes, 0, 0),
        SD_BUS_PROPERTY("StringsCut", "t", property_get_strings_cut, 0, 0),
        SD_BUS_PROPERTY("StringsStripped", "t", property_get_strings_stripped, 0, 0),
        SD_BUS_PROPERTY("JournalFailed", "t", property_get_journal_failed, 0, 0),
        SD_BUS_PROPERTY("JournalWritten", "t", property_get_journal_written, 0, 0),

        SD_BUS_METHOD_WITH_ARGS("GetProcess", SD_BUS_ARGS("u", pid),
                SD_BUS_RESULT("u", ppid, "u", uid, "s", exe, "as", argv, "s", unit, "s", cgroup, "t", start_time,
                              "a{sv}", where),
                method_get_process, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListProcesses", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(uuussta{sv})", processes),
                method_table, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DumpProcesses", SD_BUS_NO_ARGS, SD_BUS_RESULT("h", dump),
                method_table, SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_SIGNAL_WITH_ARGS("Started",
                SD_BUS_ARGS("u", pid, "u", ppid, "u", uid, "s", exe, "as", argv, "s", unit, "s", cgroup,
                            "t", start_time, "t", timestamp_ns, "a{sv}", where), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Exited",
                SD_BUS_ARGS("u", pid, "u", ppid, "u", uid, "s", exe, "s", unit, "i", exit_code,
                            "i", exit_signal, "b", core_dumped, "t", runtime_ns, "t", start_time,
                            "t", timestamp_ns, "a{sv}", where), 0),

        SD_BUS_VTABLE_END
};

int bus_processes_setup(BusProcesses *b, sd_bus *bus, Processes *ps) {
        int r;

        b->bus = bus;
        r = sd_bus_add_object_vtable(bus, NULL, CND_PROCESSES_PATH, CND_PROCESSES_IFACE, processes_vtable, ps);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Processes object: %m");
        return 0;
}

static int emit_started(Processes *ps, const ProcessEntry *e, uint64_t timestamp_ns) {
        BusProcesses *b = ps->userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
        size_t payload = 3 * sizeof(uint32_t) + 2 * sizeof(uint64_t);
        int r;

        r = sd_bus_message_new_signal(b->bus, &s, CND_PROCESSES_PATH, CND_PROCESSES_IFACE, "Started");
        if (r < 0)
                return r;
        r = sd_bus_message_append(s, "uuus", (uint32_t) e->pid, (uint32_t) e->ppid, (uint32_t) e->uid,
                                  strempty(e->exe));
        if (r < 0)
                return r;
        r = append_argv(s, arguments(ps) ? e->argv : NULL, &payload);
        if (r < 0)
                return r;
        r = sd_bus_message_append(s, "sstt", strempty(e->unit), strempty(e->cgroup), e->start_time, timestamp_ns);
        if (r < 0)
                return r;
        r = append_where(s, e, &payload);
        if (r < 0)
                return r;
        payload += strlen(strempty(e->exe)) + strlen(strempty(e->unit)) + strlen(strempty(e->cgroup)) + 15;
        return loss_send(b->loss, s, payload);
}

static int emit_exited(Processes *ps, const ProcessEntry *e, pid_t pid, pid_t ppid, int32_t exit_code,
                       int32_t exit_signal, bool core_dumped, uint64_t runtime_ns, uint64_t timestamp_ns) {
        BusProcesses *b = ps->userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
        size_t payload = 60 + (e ? strlen(strempty(e->exe)) + strlen(strempty(e->unit)) : 0);
        int r;

        r = sd_bus_message_new_signal(b->bus, &s, CND_PROCESSES_PATH, CND_PROCESSES_IFACE, "Exited");
        if (r < 0)
                return r;
        r = sd_bus_message_append(s, "uuussiibttt", (uint32_t) pid, (uint32_t) ppid,
                                  e ? (uint32_t) e->uid : UINT32_MAX, e ? strempty(e->exe) : "",
                                  e ? strempty(e->unit) : "", exit_code, exit_signal, (int) core_dumped, runtime_ns,
                                  e ? e->start_time : 0, timestamp_ns);
        if (r < 0)
                return r;
        r = append_where(s, e, &payload);
        if (r < 0)
                return r;
        return loss_send(b->loss, s, payload);
}

static void on_started(Processes *ps, const ProcessEntry *e, uint64_t timestamp_ns) {
        (void) emit_started(ps, e, timestamp_ns);
}

static void on_exited(Processes *ps, const ProcessEntry *e, pid_t pid, pid_t ppid, int32_t exit_code,
                      int32_t exit_signal, bool core_dumped, uint64_t runtime_ns, uint64_t timestamp_ns) {
        (void) emit_exited(ps, e, pid, ppid, exit_code, exit_signal, core_dumped, runtime_ns, timestamp_ns);
}

/* The scan ended: the calls that waited for it are answered from the table as it is now. */
static void on_scanned(Processes *ps) {
        BusProcesses *b = ps->userdata;

        for (size_t i = 0; i < b->n_waiting; i++) {
                WaitingCall *w = &b->waiting[i];
                int r;

                if (streq(sd_bus_message_get_member(w->call), "GetProcess"))
                        r = reply_process(ps, w->call, w->pid);
                else
                        r = reply_table(ps, w->call);
                if (r < 0)
                        (void) sd_bus_reply_method_errno(w->call, r, NULL);
                w->call = sd_bus_message_unref(w->call);
        }
        b->n_waiting = 0;
}

void bus_processes_done(BusProcesses *b) {
        for (size_t i = 0; i < b->n_waiting; i++)
                sd_bus_message_unref(b->waiting[i].call);
        b->n_waiting = 0;
}

const ProcessesOps bus_processes_ops = {
        .started = on_started,
        .exited = on_exited,
        .scanned = on_scanned,
};
