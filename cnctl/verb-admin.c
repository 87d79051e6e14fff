/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The admin commands: send, request, join, leave, reload. cnd and the bus's policy decide who
 * may; cnctl only words their answer. In JSON, each prints its method's out arguments. */

#include <inttypes.h>

#include "bus-util.h"
#include "verbs.h"
#include "parse.h"

/* A file bigger than this is no connector message (cnd refuses above 16364 bytes, and says
 * so); reading stops here rather than at the end of, say, /dev/zero. */
#define DATA_FILE_MAX (64U * 1024U)

/* Time on top of the request's own timeout for cnd to answer with its Timeout error. */
#define REQUEST_CALL_MARGIN_USEC (5 * USEC_PER_SEC)
#define REQUEST_DEFAULT_MSEC 5000U

static int parse_target(const char *id, const char *data, uint32_t *idx, uint32_t *val, uint8_t **bytes,
                        size_t *size) {
        int r;

        if (parse_id(id, false, idx, val, NULL) < 0)
                return log_fail("Invalid connector id '%s': give IDX:VAL, such as 1:1 ('cnctl ids' lists them).", id);
        r = parse_data(data, DATA_FILE_MAX, bytes, size);
        if (r == -EINVAL)
                return log_fail("Invalid DATA '%s': give hex bytes such as 01000000, or @FILE.", data);
        if (r == -EFBIG)
                return log_fail("%s is longer than any connector message (more than %u bytes).", data + 1, DATA_FILE_MAX);
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to read DATA from %s: %m", streq(data, "@-") ? "standard input" : data + 1);
        }
        return 0;
}

static int call_message_method(Cnctl *c, const char *method, const char *what, uint32_t idx, uint32_t val,
                               const uint8_t *data, size_t size, bool request, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = cnctl_bus(c);
        uint64_t timeout = 0;
        int r;

        if (!bus)
                return -1;
        r = sd_bus_message_new_method_call(bus, &call, CND_BUS_NAME, CND_MANAGER_PATH, CND_MANAGER_IFACE, method);
        if (r >= 0)
                r = sd_bus_message_append(call, "uu", idx, val);
        if (r >= 0)
                r = sd_bus_message_append_array(call, 'y', data, size);
        if (r >= 0 && request) {
                r = sd_bus_message_append(call, "u", c->timeout_msec);
                /* cnd's answer, even its Timeout error, must not lose the race with ours. */
                timeout = (c->timeout_msec ?: REQUEST_DEFAULT_MSEC) * USEC_PER_MSEC + REQUEST_CALL_MARGIN_USEC;
        }
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to build the call: %m");
        }
        r = sd_bus_call(bus, call, timeout, &error, ret);
        if (r < 0)
                return log_call_error(what, ACCESS_ADMIN, &error, r);
        return 0;
}

static int run_message_verb(Cnctl *c, char *argv[], bool request) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *j = NULL;
        _cleanup_(freep) uint8_t *data = NULL;
        static const char *const send_out[] = { "seq", "ack", NULL };
        static const char *const request_out[] = { "seq", "ack", "data", NULL };
        _cleanup_(freep) char *what = NULL;
        uint32_t idx, val, seq, ack;
        const void *reply_data = NULL;
        size_t size, reply_size = 0;
        int r;

        r = parse_target(argv[1], argv[2], &idx, &val, &data, &size);
        if (r < 0)
                return r;
        if (asprintf(&what, "%s %" PRIu32 ":%" PRIu32, request ? "send a request to" : "send to", idx, val) < 0)
                return log_fail("Out of memory.");
        r = call_message_method(c, request ? "Request" : "Send", what, idx, val, data, size, request, &reply);
        if (r < 0)
                return r;

        if (c->out.json != JSON_OFF) {
                j = json_object_new_object();
                if (!j || json_read_args(reply, request ? request_out : send_out, j) < 0)
                        return log_fail("Failed to read cnd's reply.");
                return output_json(&c->out, j);
        }
        r = sd_bus_message_read(reply, "uu", &seq, &ack);
        if (r >= 0 && request)
                r = sd_bus_message_read_array(reply, 'y', &reply_data, &reply_size);
        if (r < 0)
                return log_fail("Failed to read cnd's reply.");
        if (!request) {
                if (c->out.quiet)
                        return 0;
                printf("Sent %zu bytes to %" PRIu32 ":%" PRIu32 " with seq %" PRIu32 ", ack %" PRIu32 ".\n",
                       size, idx, val, seq, ack);
                return 0;
        }
        printf("Reply from %" PRIu32 ":%" PRIu32 ": seq %" PRIu32 ", ack %" PRIu32 ", %zu bytes%s\n",
               idx, val, seq, ack, reply_size, reply_size ? ":" : ".");
        print_hexdump(stdout, reply_data, reply_size);
        return 0;
}

int verb_send(Cnctl *c, int argc, char *argv[]) {
        return run_message_verb(c, argv, false);
}

int verb_request(Cnctl *c, int argc, char *argv[]) {
        return run_message_verb(c, argv, true);
}

/* Methods without out arguments: silence on success in text, {} in JSON. */
static int call_simple(Cnctl *c, const char *method, const char *what, const char *signature, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(json_object_putp) json_object *j = NULL;
        sd_bus *bus = cnctl_bus(c);
        va_list ap;
        int r;

        if (!bus)
                return -1;
        r = sd_bus_message_new_method_call(bus, &call, CND_BUS_NAME, CND_MANAGER_PATH, CND_MANAGER_IFACE, method);
        if (r >= 0 && signature) {
                va_start(ap, signature);
                r = sd_bus_message_appendv(call, signature, ap);
                va_end(ap);
        }
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to build the call: %m");
        }
        r = sd_bus_call(bus, call, 0, &error, NULL);
        if (r < 0)
                return log_call_error(what, ACCESS_ADMIN, &error, r);
        if (c->out.json == JSON_OFF)
                return 0;
        j = json_object_new_object();
        return j ? output_json(&c->out, j) : log_fail("Out of memory.");
}

static int change_group(Cnctl *c, const char *arg, bool join) {
        _cleanup_(freep) char *what = NULL;
        uint32_t group;

        if (parse_u32(arg, &group) < 0 || streq(arg, "-1"))
                return log_fail("Invalid group '%s': give a connector group number, 1 to 32.", arg);
        if (asprintf(&what, "%s group %" PRIu32, join ? "join" : "leave", group) < 0)
                return log_fail("Out of memory.");
        return call_simple(c, join ? "JoinGroup" : "LeaveGroup", what, "u", group);
}

int verb_join(Cnctl *c, int argc, char *argv[]) {
        return change_group(c, argv[1], true);
}

int verb_leave(Cnctl *c, int argc, char *argv[]) {
        return change_group(c, argv[1], false);
}

int verb_reload(Cnctl *c, int argc, char *argv[]) {
        return call_simple(c, "Reload", "reload cnd's configuration", NULL);
}
