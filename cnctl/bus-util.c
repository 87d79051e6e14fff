/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>

#include "bus-util.h"
#include "output.h"

int cnctl_bus_open(sd_bus **ret) {
        const char *address = getenv("DBUS_SYSTEM_BUS_ADDRESS");
        int r;

        r = sd_bus_open_system(ret);
        if (r < 0) {
                errno = -r;
                return log_fail("Failed to connect to the system bus (%s): %m. Is dbus running?",
                                address ?: "unix:path=/run/dbus/system_bus_socket");
        }
        return 0;
}

bool bus_error_is_no_cnd(const sd_bus_error *error) {
        return sd_bus_error_has_name(error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
                sd_bus_error_has_name(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER);
}

bool bus_error_is_absent(const sd_bus_error *error) {
        return sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
                sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_INTERFACE) ||
                sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_METHOD) ||
                sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_PROPERTY);
}

static int log_access_denied(const char *what, CallAccess access, const sd_bus_error *error) {
        /* cnd words a kernel's refusal of a group as "Failed to join group N: ..."; the bus's
         * policy and cnd's own check of the caller word it otherwise. */
        if (error->message && strncmp(error->message, "Failed to ", 10) == 0)
                return log_fail("The kernel refused: %s", error->message);
        switch (access) {
        case ACCESS_ADMIN:
                return log_fail("Permission denied: only root and members of group %s may %s "
                                "(the group of cnd's D-Bus policy, which [Bus] AdminGroup= in "
                                "cnd.conf must name too).", CNCTL_ADMIN_GROUP, what);
        case ACCESS_PROCESSES:
                return log_fail("Permission denied: only root and members of group %s may %s (the "
                                "group of cnd's D-Bus policy, which [Processes] ReaderGroup= in cnd.conf "
                                "must name too).", CNCTL_READER_GROUP, what);
        default:
                return log_fail("Permission denied: the system bus did not let cnctl %s: %s",
                                what, strempty(error->message));
        }
}

int log_call_error(const char *what, CallAccess access, const sd_bus_error *error, int r) {
        const char *msg = error && error->message ? error->message : NULL;

        if (!sd_bus_error_is_set(error)) {
                errno = r < 0 ? -r : EIO;
                return log_fail("Failed to %s: %m", what);
        }
        if (bus_error_is_no_cnd(error))
                return log_fail("cnd is not running on the system bus: systemctl start cnd");
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED))
                return log_access_denied(what, access, error);
        if (sd_bus_error_has_name(error, CND_ERROR_NO_SUCH_ID))
                return log_fail("%s 'cnctl ids' lists the registered ids.", strempty(msg));
        if (sd_bus_error_has_name(error, CND_ERROR_TIMEOUT))
                return log_fail("%s --timeout=MS waits longer, up to 60000 ms.", strempty(msg));
        if (sd_bus_error_has_name(error, CND_ERROR_INVALID_CONFIG))
                return log_fail("cnd kept its old configuration, the new one is invalid: %s", strempty(msg));
        if (sd_bus_error_has_name(error, CND_ERROR_KERNEL))
                return log_fail("The kernel did not take the message: %s", strempty(msg));
        if (sd_bus_error_has_name(error, CND_ERROR_LIMITS_EXCEEDED))
                return log_fail("cnd is at a limit, try again later: %s", strempty(msg));
        if (sd_bus_error_has_name(error, CND_ERROR_NO_SUCH_PROCESS))
                return log_fail("No such process: %s", strempty(msg));
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_INVALID_ARGS))
                return log_fail("cnd refused the arguments: %s", strempty(msg));
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_NO_REPLY) ||
            sd_bus_error_has_name(error, SD_BUS_ERROR_TIMEOUT))
                return log_fail("cnd did not answer in time when asked to %s; is it overloaded? "
                                "systemctl status cnd", what);
        if (bus_error_is_absent(error))
                return log_fail("This cnd cannot %s (it is older than cnctl, or that part is "
                                "switched off): %s", what, strempty(msg));
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_DISCONNECTED) || r == -ECONNRESET || r == -ENOTCONN)
                return log_fail("The system bus closed the connection while cnctl tried to %s.", what);
        if (strncmp(error->name, "org.freedesktop.DBus.Error.Spawn", 32) == 0 ||
            strncmp(error->name, "org.freedesktop.systemd1.", 25) == 0)
                return log_fail("cnd could not be started on the system bus (%s): systemctl status cnd",
                                strempty(msg));
        return log_fail("Failed to %s: %s (%s)", what, strempty(msg), error->name);
}

static json_object *json_from_basic(char type, const void *p) {
        switch (type) {
        case 'y':
                return json_object_new_int(*(const uint8_t *) p);
        case 'b':
                return json_object_new_boolean(*(const int *) p);
        case 'n':
                return json_object_new_int(*(const int16_t *) p);
        case 'q':
                return json_object_new_int(*(const uint16_t *) p);
        case 'i':
                return json_object_new_int(*(const int32_t *) p);
        case 'u':
                return json_object_new_int64(*(const uint32_t *) p);
        case 'x':
                return json_object_new_int64(*(const int64_t *) p);
        case 't':
                return json_object_new_uint64(*(const uint64_t *) p);
        case 'd':
                return json_object_new_double(*(const double *) p);
        case 's':
        case 'o':
        case 'g':
                return json_object_new_string(*(const char *const *) p);
        default:
                return NULL;    /* 'h': a file descriptor means nothing in JSON */
        }
}

static int json_read_array(sd_bus_message *m, const char *contents, const char *const *fields,
                           json_object **ret) {
        _cleanup_(json_object_putp) json_object *v = NULL;
        int r;

        if (streq(contents, "y")) {
                _cleanup_(freep) char *hex = NULL;
                const void *p;
                size_t n;

                r = sd_bus_message_read_array(m, 'y', &p, &n);
                if (r < 0)
                        return r;
                hex = hex_encode(p, n);
                if (!hex)
                        return -ENOMEM;
                *ret = json_object_new_string(hex);
                return *ret ? 0 : -ENOMEM;
        }

        r = sd_bus_message_enter_container(m, 'a', contents);
        if (r < 0)
                return r;
        /* A dictionary is an object; any other array an array. */
        v = contents[0] == '{' ? json_object_new_object() : json_object_new_array();
        if (!v)
                return -ENOMEM;
        while ((r = sd_bus_message_peek_type(m, NULL, NULL)) > 0) {
                json_object *e = NULL;

                if (contents[0] == '{') {
                        const char *key;
                        char kt = contents[1];
                        union { const char *s; uint64_t u; } k;
                        char buf[32];

                        r = sd_bus_message_enter_container(m, 'e', NULL);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_read_basic(m, kt, &k);
                        if (r < 0)
                                return r;
                        if (kt == 's' || kt == 'o' || kt == 'g')
                                key = k.s;
                        else {
                                _cleanup_(json_object_putp) json_object *kj = json_from_basic(kt, &k);

                                snprintf(buf, sizeof(buf), "%s", kj ? json_object_get_string(kj) : "?");
                                key = buf;
                        }
                        r = json_read_value(m, NULL, &e);
                        if (r < 0)
                                return r;
                        json_object_object_add(v, key, e);
                        r = sd_bus_message_exit_container(m);
                } else {
                        r = json_read_value(m, fields, &e);
                        if (r < 0)
                                return r;
                        r = json_object_array_add(v, e);
                }
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int json_read_value(sd_bus_message *m, const char *const *fields, json_object **ret) {
        _cleanup_(json_object_putp) json_object *v = NULL;
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG;

        switch (type) {
        case 'a':
                return json_read_array(m, contents, fields, ret);
        case 'v':
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
                r = json_read_value(m, fields, &v);
                if (r < 0)
                        return r;
                break;
        case 'r':
                r = sd_bus_message_enter_container(m, 'r', contents);
                if (r < 0)
                        return r;
                v = fields ? json_object_new_object() : json_object_new_array();
                if (!v)
                        return -ENOMEM;
                r = fields ? json_read_args(m, fields, v) : 0;
                while (!fields && (r = sd_bus_message_peek_type(m, NULL, NULL)) > 0) {
                        json_object *e = NULL;

                        r = json_read_value(m, NULL, &e);
                        if (r < 0)
                                return r;
                        json_object_array_add(v, e);
                }
                if (r < 0)
                        return r;
                break;
        default: {
                union {
                        uint8_t y;
                        int b;
                        int16_t n;
                        uint16_t q;
                        int32_t i;
                        uint32_t u;
                        int64_t x;
                        uint64_t t;
                        double d;
                        const char *s;
                        int h;
                } basic;

                r = sd_bus_message_read_basic(m, type, &basic);
                if (r < 0)
                        return r;
                *ret = json_from_basic(type, &basic);
                return 0;
        }
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int json_read_args(sd_bus_message *m, const char *const *names, json_object *obj) {
        bool named = names != NULL;
        unsigned i = 0;
        int r;

        while ((r = sd_bus_message_peek_type(m, NULL, NULL)) > 0) {
                json_object *v = NULL;
                char buf[16];
                const char *name;

                if (named && names[i])
                        name = names[i];
                else {
                        named = false;
                        snprintf(buf, sizeof(buf), "arg%u", i);
                        name = buf;
                }
                r = json_read_value(m, NULL, &v);
                if (r < 0)
                        return r;
                json_object_object_add(obj, name, v);
                i++;
        }
        return r;
}

/* The field names of the struct-typed properties, as org.cnd.Connector1(5) names them. */
static const char *const *struct_fields(const char *property) {
        static const char *const ids[] = { "idx", "val", "name", NULL };

        if (streq(property, "Ids"))
                return ids;
        return NULL;
}

int json_read_properties(sd_bus_message *m, json_object *obj) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                _cleanup_(freep) char *key = NULL;
                const char *name;
                json_object *v = NULL;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                key = snake_case(name);
                if (!key)
                        return -ENOMEM;
                r = json_read_value(m, struct_fields(name), &v);
                if (r < 0)
                        return r;
                json_object_object_add(obj, key, v);
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int cnd_get_all(sd_bus *bus, const char *path, const char *interface, json_object **ret,
                sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *obj = NULL;
        int r;

        r = sd_bus_call_method(bus, CND_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                               error, &reply, "s", interface);
        if (r < 0)
                return r;
        obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;
        r = json_read_properties(reply, obj);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(obj);
        return 0;
}

uint64_t json_get_u64(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

const char *json_get_str(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? strempty(json_object_get_string(v)) : "";
}

bool json_get_bool(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}
