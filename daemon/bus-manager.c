/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* org.cnd.Connector1.Manager on /org/cnd/Connector1: properties, methods and signals. */

#include <linux/cn_proc.h>
#include <stddef.h>

#include "bus-manager.h"
#include "bus-streams.h"
#include "cnd-bus-names.h"
#include "log.h"
#include "netlink.h"

#define REQUEST_TIMEOUT_DEFAULT_MSEC 5000U
#define REQUEST_TIMEOUT_MAX_MSEC 60000U

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_get_groups(sd_bus *bus, const char *path, const char *interface,
                               const char *property, sd_bus_message *reply, void *userdata,
                               sd_bus_error *error) {
        BusManager *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "u");
        if (r < 0)
                return r;
        for (uint32_t g = 1; g <= CND_GROUP_MAX; g++)
                if (*m->groups & GROUP_BIT(g)) {
                        r = sd_bus_message_append(reply, "u", g);
                        if (r < 0)
                                return r;
                }
        return sd_bus_message_close_container(reply);
}

static int property_get_ids(sd_bus *bus, const char *path, const char *interface,
                            const char *property, sd_bus_message *reply, void *userdata,
                            sd_bus_error *error) {
        BusManager *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(uus)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->ids->n; i++) {
                const CnId *id = m->ids->ids[i];

                if (!id->registered)
                        continue;
                r = sd_bus_message_append(reply, "(uus)", id->idx, id->val, id->name);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_refused_calls(sd_bus *bus, const char *path, const char *interface,
                                      const char *property, sd_bus_message *reply, void *userdata,
                                      sd_bus_error *error) {
        return sd_bus_message_append(reply, "t", call_limiter_refused(*((BusManager *) userdata)->call_limiter));
}

/* A counter of loss.c's, at its offset in the Loss the object is handed. */
static int property_get_loss_counter(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *error) {
        const BusManager *m = userdata;
        size_t offset = streq(property, "ReceivedMessages") ? offsetof(Loss, received) :
                        streq(property, "RejectedMessages") ? offsetof(Loss, rejected) :
                        streq(property, "BusDroppedMessages") ? offsetof(Loss, bus_dropped) :
                                                                offsetof(Loss, overruns);

        return sd_bus_message_append(reply, "t", *(const uint64_t *) ((const uint8_t *) m->loss + offset));
}

static int property_get_kernel_dropped(sd_bus *bus, const char *path, const char *interface,
                                       const char *property, sd_bus_message *reply,
                                       void *userdata, sd_bus_error *error) {
        BusManager *m = userdata;

        /* Fresh from the socket: drops happen without any event that would tell us. */
        return sd_bus_message_append(reply, "t", loss_kernel_dropped(m->loss));
}

/* What Send and Request begin with: the caller's right (asked of the bus, see bus-access.c),
 * then (idx, val, data), checked. Returns 1 to go on, 0 if the call comes again once the bus
 * has answered (the handler returns 1), or a negative errno with *error set. */
static int begin_message_call(BusManager *m, sd_bus_message *call, sd_bus_error *error,
                              uint32_t *idx, uint32_t *val, const void **data, size_t *size) {
        int r;

        r = bus_verify_admin_async(m->access, call, error);
        if (r <= 0)
                return r;
        r = sd_bus_message_read(call, "uu", idx, val);
        if (r < 0)
                return r;
        r = sd_bus_message_read_array(call, 'y', data, size);
        if (r < 0)
                return r;
        if (*size > NETLINK_SEND_DATA_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Data of %zu bytes is longer than the kernel takes (%u).",
                                         *size, NETLINK_SEND_DATA_MAX);
        return 1;
}

/* Sends a client's message, on cnd's socket or through its family's own exchange; in the
 * latter case *reply has the kernel's answer if it came back with it. */
static int send_checked(BusManager *m, sd_bus_error *error, uint32_t idx, uint32_t val,
                        const void *data, size_t size, uint32_t *seq, uint32_t *ack, FamilyReply *reply) {
        const CnId *id;
        const Family *f;
        int r;

        /* The kernel silently drops messages to ids nobody registered: say so instead, from a
         * fresh look at the kernel's list. */
        (void) m->ops->scan_ids(m->userdata);
        id = idtable_find(m->ids, idx, val);
        if (!id || !id->registered)
                return sd_bus_error_setf(error, CND_ERROR_NO_SUCH_ID,
                                         "Connector id %" PRIu32 ":%" PRIu32 " is not registered in the kernel.",
                                         idx, val);
        f = family_for_id(idx, val);
        reply->answered = false;
        if (f && f->client_send) {
                m->ops->new_seq_ack(m->userdata, seq, ack);
                r = f->client_send(m->families, family_state(m->families, f), data, size, *seq, *ack, reply);
        } else
                r = m->ops->send(m->userdata, idx, val, data, size, seq, ack);
        if (r < 0)
                return sd_bus_error_setf(error, CND_ERROR_KERNEL, "Failed to send to %" PRIu32 ":%" PRIu32 ": %s",
                                         idx, val, strerror(-r));
        return 0;
}

/* A family's exchange brings its answer back at once or not at all: nothing later is one. */
static bool no_later_reply(const struct cn_msg *msg, uint32_t seq, uint32_t ack) {
        return false;
}

static int method_send(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        BusManager *m = userdata;
        uint32_t idx, val, seq, ack;
        FamilyReply reply;
        const void *data;
        size_t size;
        int r;

        r = begin_message_call(m, call, error, &idx, &val, &data, &size);
        if (r <= 0)
                return r < 0 ? r : 1;   /* asked the bus; called again with its answer */
        r = send_checked(m, error, idx, val, data, size, &seq, &ack, &reply);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(call, "uu", seq, ack);
}

static int method_request(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        BusManager *m = userdata;
        uint32_t idx, val, seq, ack, timeout_msec;
        _cleanup_(freep) FamilyReply *reply = NULL;
        RequestReplyMatcher is_reply;
        const Family *f;
        const void *data;
        size_t size;
        int r;

        r = begin_message_call(m, call, error, &idx, &val, &data, &size);
        if (r <= 0)
                return r < 0 ? r : 1;   /* asked the bus; called again with its answer */
        r = sd_bus_message_read(call, "u", &timeout_msec);
        if (r < 0)
                return r;
        if (timeout_msec > REQUEST_TIMEOUT_MAX_MSEC)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Timeout of %" PRIu32 " ms is above the maximum of %u ms.",
                                         timeout_msec, REQUEST_TIMEOUT_MAX_MSEC);
        if (timeout_msec == 0)
                timeout_msec = REQUEST_TIMEOUT_DEFAULT_MSEC;
        if (request_table_full(m->requests))
                return sd_bus_error_setf(error, CND_ERROR_LIMITS_EXCEEDED,
                                         "%u requests are outstanding already (MaxPendingRequests=).",
                                         m->requests->n);

        reply = malloc(sizeof(FamilyReply));
        if (!reply)
                return -ENOMEM;
        r = send_checked(m, error, idx, val, data, size, &seq, &ack, reply);
        if (r < 0)
                return r;
        if (reply->answered) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *answer = NULL;

                r = sd_bus_message_new_method_return(call, &answer);
                if (r >= 0)
                        r = sd_bus_message_append(answer, "uu", reply->seq, reply->ack);
                if (r >= 0)
                        r = sd_bus_message_append_array(answer, 'y', reply->data, reply->size);
                return r < 0 ? r : sd_bus_send(NULL, answer, NULL);
        }

        /* The reply cannot overtake us: the socket is only read once we are back in the loop.
         * A family that exchanges on its own got its answer already, or none will come. */
        f = family_for_id(idx, val);
        is_reply = f && f->client_send ? no_later_reply : f ? f->is_reply : NULL;
        r = request_table_add(m->requests, call, idx, val, seq, ack, is_reply, timeout_msec * USEC_PER_MSEC);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to wait for the reply: %m");
        return 1;
}

static int method_change_group(sd_bus_message *call, void *userdata, sd_bus_error *error, bool join) {
        BusManager *m = userdata;
        uint32_t group;
        int r;

        r = bus_verify_admin_async(m->access, call, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* asked the bus; called again with its answer */
        r = sd_bus_message_read(call, "u", &group);
        if (r < 0)
                return r;
        if (group < 1 || group > CND_GROUP_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Group %" PRIu32 " is out of range 1..%u.", group, CND_GROUP_MAX);

        r = join ? m->ops->join_group(m->userdata, group) : m->ops->leave_group(m->userdata, group);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The kernel rejected group %" PRIu32 ".", group);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to %s group %" PRIu32 ": %m",
                                               join ? "join" : "leave", group);
        return sd_bus_reply_method_return(call, NULL);
}

static int method_join_group(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        return method_change_group(call, userdata, error, true);
}

static int method_leave_group(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        return method_change_group(call, userdata, error, false);
}

static int method_reload(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        _cleanup_(freep) char *text = NULL;
        BusManager *m = userdata;
        int r;

        r = bus_verify_admin_async(m->access, call, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* asked the bus; called again with its answer */
        r = m->ops->reload(m->userdata, &text);
        if (r < 0)
                return sd_bus_error_set(error, CND_ERROR_INVALID_CONFIG, text ?: strerror(-r));
        return sd_bus_reply_method_return(call, NULL);
}

static int property_get_streams(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", (uint32_t) ((BusManager *) userdata)->streams->n);
}

static int property_get_stream_lost_records(sd_bus *bus, const char *path, const char *interface,
                                            const char *property, sd_bus_message *reply, void *userdata,
                                            sd_bus_error *error) {
        return sd_bus_message_append(reply, "t", streams_lost_records(((BusManager *) userdata)->streams));
}

static int method_acquire_stream(sd_bus_message *call, void *userdata, sd_bus_error *error) {
        BusManager *m = userdata;

        return bus_streams_acquire(m->streams, m->access, call, error);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Groups", "au", property_get_groups, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Ids", "a(uus)", property_get_ids, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ReceivedMessages", "t", property_get_loss_counter, 0, 0),
        SD_BUS_PROPERTY("RejectedMessages", "t", property_get_loss_counter, 0, 0),
        SD_BUS_PROPERTY("KernelDroppedMessages", "t", property_get_kernel_dropped, 0, 0),
        SD_BUS_PROPERTY("BusDroppedMessages", "t", property_get_loss_counter, 0, 0),
        SD_BUS_PROPERTY("Overruns", "t", property_get_loss_counter, 0, 0),
        SD_BUS_PROPERTY("RefusedCalls", "t", property_get_refused_calls, 0, 0),
        SD_BUS_PROPERTY("Streams", "u", property_get_streams, 0, 0),
        SD_BUS_PROPERTY("StreamLostRecords", "t", property_get_stream_lost_records, 0, 0),

        SD_BUS_METHOD_WITH_ARGS("Send",
                                SD_BUS_ARGS("u", idx, "u", val, "ay", data),
                                SD_BUS_RESULT("u", seq, "u", ack),
                                method_send, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Request",
                                SD_BUS_ARGS("u", idx, "u", val, "ay", data, "u", timeout_msec),
                                SD_BUS_RESULT("u", seq, "u", ack, "ay", data),
                                method_request, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("JoinGroup",
                                SD_BUS_ARGS("u", group),
                                SD_BUS_NO_RESULT,
                                method_join_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("LeaveGroup",
                                SD_BUS_ARGS("u", group),
                                SD_BUS_NO_RESULT,
                                method_leave_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload",
                                SD_BUS_NO_ARGS,
                                SD_BUS_NO_RESULT,
                                method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AcquireStream",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("h", stream, "u", max_record),
                                method_acquire_stream, SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_SIGNAL_WITH_ARGS("IdAdded", SD_BUS_ARGS("u", idx, "u", val, "s", name), 0),
        SD_BUS_SIGNAL_WITH_ARGS("IdRemoved", SD_BUS_ARGS("u", idx, "u", val, "s", name), 0),
        SD_BUS_SIGNAL_WITH_ARGS("Overrun", SD_BUS_ARGS("t", kernel_dropped, "t", bus_dropped), 0),

        SD_BUS_VTABLE_END
};

int bus_manager_setup(BusManager *m) {
        int r;

        r = sd_bus_add_object_vtable(m->bus, NULL, CND_MANAGER_PATH, CND_MANAGER_IFACE, manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Manager object: %m");
        r = sd_bus_add_object_manager(m->bus, NULL, CND_MANAGER_PATH);
        if (r < 0)
                return log_error_errno(r, "Failed to register the object manager: %m");
        return 0;
}

static int emit_id_signal(BusManager *m, const char *member, const CnId *id) {
        if (!m->bus)
                return 0;
        return sd_bus_emit_signal(m->bus, CND_MANAGER_PATH, CND_MANAGER_IFACE, member, "uus",
                                  id->idx, id->val, id->name);
}

int bus_manager_emit_id_added(BusManager *m, const CnId *id) {
        return emit_id_signal(m, "IdAdded", id);
}

int bus_manager_emit_id_removed(BusManager *m, const CnId *id) {
        return emit_id_signal(m, "IdRemoved", id);
}

int bus_manager_emit_ids_changed(BusManager *m) {
        if (!m->bus)
                return 0;
        return sd_bus_emit_properties_changed(m->bus, CND_MANAGER_PATH, CND_MANAGER_IFACE, "Ids", NULL);
}

int bus_manager_emit_groups_changed(BusManager *m) {
        if (!m->bus)
                return 0;
        return sd_bus_emit_properties_changed(m->bus, CND_MANAGER_PATH, CND_MANAGER_IFACE, "Groups", NULL);
}

void bus_manager_emit_overrun(uint64_t kernel_dropped, uint64_t bus_dropped, void *userdata) {
        BusManager *m = userdata;

        if (m->bus)
                (void) sd_bus_emit_signal(m->bus, CND_MANAGER_PATH, CND_MANAGER_IFACE, "Overrun", "tt",
                                          kernel_dropped, bus_dropped);
}
