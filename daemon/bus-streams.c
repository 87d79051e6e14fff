/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* AcquireStream(a{sv} options) -> (h stream, u max_record) on org.cnd.Connector1.Manager: the
 * options read and checked, the caller identified by the bus, the stream opened (streams.c)
 * and its client's end handed over. */

#include <inttypes.h>

#include "bus-streams.h"
#include "cnd-bus-names.h"

static int read_ids(sd_bus_message *m, StreamOptions *o, sd_bus_error *error) {
        uint32_t idx, val;
        int r;

        o->ids = mfree(o->ids);
        o->n_ids = 0;
        r = sd_bus_message_enter_container(m, 'a', "(uu)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(uu)", &idx, &val)) > 0) {
                StreamId *p;

                if (o->n_ids >= STREAM_IDS_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Option 'Ids' lists more than %u ids.", STREAM_IDS_MAX);
                p = reallocarray(o->ids, o->n_ids + 1, sizeof(StreamId));
                if (!p)
                        return -ENOMEM;
                o->ids = p;
                o->ids[o->n_ids++] = (StreamId) { .idx = idx, .val = val };
        }
        if (r < 0)
                return r;
        if (o->n_ids == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "Option 'Ids' is empty: name at least one id, or leave it out.");
        return sd_bus_message_exit_container(m);
}

static int read_option(sd_bus_message *m, const char *key, StreamOptions *o, sd_bus_error *error) {
        static const struct {
                const char *key, *signature;
        } known[] = {
                { "Ids", "a(uu)" },
                { "Processes", "b" },
                { "IdChanges", "b" },
                { "BufferBytes", "u" },
        };
        const char *contents = NULL;
        size_t i;
        int b, r;

        for (i = 0; i < ELEMENTSOF(known); i++)
                if (streq(key, known[i].key))
                        break;
        if (i == ELEMENTSOF(known))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Unknown option '%s': known are Ids, Processes, IdChanges, BufferBytes.", key);
        r = sd_bus_message_peek_type(m, NULL, &contents);
        if (r < 0)
                return r;
        if (!streq(strempty(contents), known[i].signature))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Option '%s' must be of type '%s', not '%s'.",
                                         key, known[i].signature, strempty(contents));

        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        if (streq(key, "Ids"))
                r = read_ids(m, o, error);
        else if (streq(key, "BufferBytes")) {
                r = sd_bus_message_read(m, "u", &o->buffer_bytes);
                if (r >= 0 && (o->buffer_bytes < STREAM_BUFFER_MIN || o->buffer_bytes > STREAM_BUFFER_MAX))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Option 'BufferBytes' is %" PRIu32 ": it must be %u to %u.",
                                                 o->buffer_bytes, STREAM_BUFFER_MIN, STREAM_BUFFER_MAX);
        } else {
                r = sd_bus_message_read(m, "b", &b);
                if (streq(key, "Processes"))
                        o->processes = b;
                else
                        o->id_changes = b;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_options(sd_bus_message *m, StreamOptions *o, sd_bus_error *error) {
        const char *key;
        int r;

        *o = (StreamOptions) { .buffer_bytes = STREAM_BUFFER_DEFAULT };
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                r = read_option(m, key, o, error);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (o->n_ids == 0 && !o->processes && !o->id_changes)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                        "The stream would carry nothing: give Ids, Processes or IdChanges.");
        return sd_bus_message_exit_container(m);
}

static int limits_exceeded(Streams *st, int error, uid_t uid, sd_bus_error *ret_error) {
        if (error == -EDQUOT)
                return sd_bus_error_setf(ret_error, CND_ERROR_LIMITS_EXCEEDED,
                                         "uid %u holds %u streams already, the most one user may ([Streams] MaxPerUser=).",
                                         (unsigned) uid, st->config->streams_max_per_user);
        return sd_bus_error_setf(ret_error, CND_ERROR_LIMITS_EXCEEDED,
                                 "%u streams are open, the most cnd serves ([Streams] MaxStreams=).",
                                 st->config->streams_max);
}

int bus_streams_acquire(Streams *st, AccessChecks *access, sd_bus_message *call, sd_bus_error *error) {
        _cleanup_(stream_options_done) StreamOptions options = {};
        _cleanup_(closep) int client_fd = -1;
        bool reader = false;
        uid_t uid = 0;
        int r;

        r = bus_identify_caller_async(access, call, &uid, &reader, error);
        if (r <= 0)
                return r < 0 ? r : 1;   /* asked the bus; called again with its answer */
        r = read_options(call, &options, error);
        if (r < 0)
                return r;

        r = streams_open(st, uid, reader, &options, &client_fd);
        if (r == -EDQUOT || r == -ENFILE)
                return limits_exceeded(st, r, uid, error);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Could not open a stream: %m");
        return sd_bus_reply_method_return(call, "hu", client_fd, (uint32_t) STREAM_RECORD_MAX);
}
