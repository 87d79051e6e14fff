/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cnctl's side of the bus: connecting, explaining cnd's errors in words, and turning D-Bus
 * values into JSON (keys in snake case, byte arrays as hex). */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "cnd-bus-names.h"

/* Who may make a call, for the wording of an AccessDenied. */
typedef enum CallAccess {
        ACCESS_ANYONE,          /* properties, introspection: a denial is the bus's policy gone odd */
        ACCESS_ADMIN,           /* root and the admin group */
        ACCESS_PROCESSES,       /* root and the Processes reader group */
} CallAccess;

/* Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS, as sd-bus reads it); prints why not. */
int cnctl_bus_open(sd_bus **ret);

/* Prints in one line why a call failed, `what` saying what was tried ("join group 3"). Returns
 * -1, for `return log_call_error(...)`. */
int log_call_error(const char *what, CallAccess access, const sd_bus_error *error, int r);

/* cnd has no such object, interface or method: an older cnd, or a part switched off. */
bool bus_error_is_absent(const sd_bus_error *error);
/* Nobody owns cnd's name and the bus could not start it. */
bool bus_error_is_no_cnd(const sd_bus_error *error);

/* Reads the next complete value. Structs become arrays, or objects given field names; arrays
 * of bytes become lower-case hex. */
int json_read_value(sd_bus_message *m, const char *const *fields, json_object **ret);

/* Reads the remaining arguments into obj under names (then "argN" past the names' end). */
int json_read_args(sd_bus_message *m, const char *const *names, json_object *obj);

/* An a{sv} of properties into obj, keys in snake case. */
int json_read_properties(sd_bus_message *m, json_object *obj);

/* Properties.GetAll of cnd's object into an object keyed by snake-case property names. */
int cnd_get_all(sd_bus *bus, const char *path, const char *interface, json_object **ret,
                sd_bus_error *error);

/* Small readers of an object made by cnd_get_all; 0, "" or false when the key is missing. */
uint64_t json_get_u64(json_object *o, const char *key);
const char *json_get_str(json_object *o, const char *key);
bool json_get_bool(json_object *o, const char *key);
