/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* org.cnd.Connector1.Proc on /org/cnd/Connector1/proc: cn_proc events as typed signals. */

#include <stddef.h>

#include "bus-proc.h"
#include "cnd-bus-names.h"

/* Signal names by ProcKind; the lower-case forms are the Events= names. */
static const char *const signal_names[_PROC_KIND_MAX] = {
        [PROC_KIND_FORK] = "Fork",
        [PROC_KIND_EXEC] = "Exec",
        [PROC_KIND_UID] = "Uid",
        [PROC_KIND_GID] = "Gid",
        [PROC_KIND_SID] = "Sid",
        [PROC_KIND_PTRACE] = "Ptrace",
        [PROC_KIND_COMM] = "Comm",
        [PROC_KIND_COREDUMP] = "Coredump",
        [PROC_KIND_EXIT] = "Exit",
};

static int property_get_events(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply, void *userdata,
                               sd_bus_error *error) {
        ProcFamily *p = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        if (r < 0)
                return r;
        for (ProcKind k = 0; k < _PROC_KIND_MAX; k++)
                if (p->ctx->config->proc_events & (UINT32_C(1) << k)) {
                        r = sd_bus_message_append(reply, "s", proc_kind_to_string(k));
                        if (r < 0)
                                return r;
                }
        return sd_bus_message_close_container(reply);
}

static int property_get_kernel_filter(sd_bus *bus, const char *path, const char *interface,
                                      const char *property, sd_bus_message *reply, void *userdata,
                                      sd_bus_error *error) {
        ProcFamily *p = userdata;

        return sd_bus_message_append(reply, "b", (int) (p->subscription.support == PROC_FILTER_KERNEL));
}

static int property_get_subscription_error(sd_bus *bus, const char *path, const char *interface,
                                           const char *property, sd_bus_message *reply, void *userdata,
                                           sd_bus_error *error) {
        ProcFamily *p = userdata;

        return sd_bus_message_append(reply, "s", p->subscription.error);
}

#define TAIL "u", cpu, "t", timestamp_ns

static const sd_bus_vtable proc_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Events", "as", property_get_events, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LostEvents", "t", NULL, offsetof(ProcFamily, seq.lost), 0),
        SD_BUS_PROPERTY("UnknownEvents", "t", NULL, offsetof(ProcFamily, unknown), 0),
        SD_BUS_PROPERTY("MalformedEvents", "t", NULL, offsetof(ProcFamily, malformed), 0),
        SD_BUS_PROPERTY("KernelFilter", "b", property_get_kernel_filter, 0, 0),
        SD_BUS_PROPERTY("Listening", "b", NULL, offsetof(ProcFamily, subscription.listening), 0),
        SD_BUS_PROPERTY("SubscriptionError", "s", property_get_subscription_error, 0, 0),

        SD_BUS_SIGNAL_WITH_ARGS("Fork",
                SD_BUS_ARGS("u", parent_pid, "u", parent_tgid, "u", child_pid, "u", child_tgid, TAIL), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Exec", SD_BUS_ARGS("u", pid, "u", tgid, TAIL), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Uid", SD_BUS_ARGS("u", pid, "u", tgid, "u", ruid, "u", euid, TAIL), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Gid", SD_BUS_ARGS("u", pid, "u", tgid, "u", rgid, "u", egid, TAIL), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Sid", SD_BUS_ARGS("u", pid, "u", tgid, TAIL), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Ptrace",
                SD_BUS_ARGS("u", pid, "u", tgid, "u", tracer_pid, "u", tracer_tgid, TAIL), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Comm", SD_BUS_ARGS("u", pid, "u", tgid, "s", comm, TAIL), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Coredump",
                SD_BUS_ARGS("u", pid, "u", tgid, "u", parent_pid, "u", parent_tgid, TAIL), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Exit",
                SD_BUS_ARGS("u", pid, "u", tgid, "u", exit_code, "u", exit_signal,
                            "u", parent_pid, "u", parent_tgid, TAIL), 0),

        SD_BUS_VTABLE_END
};

int bus_proc_setup(FamilyContext *ctx, void *state) {
        int r;
        ProcFamily *p = state;

        r = sd_bus_add_object_vtable(ctx->bus, NULL, CND_PROC_PATH, CND_PROC_IFACE, proc_vtable, state);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Proc object: %m");
        return bus_processes_setup(&p->bus_processes, ctx->bus, &p->processes);
}

int bus_proc_emit_event(ProcFamily *p, const ProcEvent *ev) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *s = NULL;
        size_t payload = ev->n_fields * sizeof(uint32_t) + sizeof(uint32_t) + sizeof(uint64_t);
        int r;

        r = sd_bus_message_new_signal(p->ctx->bus, &s, CND_PROC_PATH, CND_PROC_IFACE, signal_names[ev->kind]);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < ev->n_fields; i++) {
                r = sd_bus_message_append_basic(s, 'u', &ev->fields[i]);
                if (r < 0)
                        return r;
        }
        if (ev->kind == PROC_KIND_COMM) {
                r = sd_bus_message_append(s, "s", ev->comm);
                if (r < 0)
                        return r;
                payload += strlen(ev->comm) + 5;
        }
        r = sd_bus_message_append(s, "ut", ev->cpu, ev->timestamp_ns);
        if (r < 0)
                return r;
        return loss_send(p->ctx->loss, s, payload);
}

void bus_proc_emit_events_changed(ProcFamily *p) {
        (void) sd_bus_emit_properties_changed(p->ctx->bus, CND_PROC_PATH, CND_PROC_IFACE, "Events", NULL);
}
