/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cnctl monitor: the messages of some ids, or of all, one line (or one JSON object) per
 * connector message: from a stream's message records, or from the Message and Messages
 * signals. With no id given, the stream asks for every id (idx and val 0xffffffff). */

#include <inttypes.h>
#include <linux/connector.h>

#include "bus-util.h"
#include "parse.h"
#include "follow.h"
#include "verbs.h"

/* Bytes of a message's data shown in a line. */
#define DUMP_BYTES 8

typedef struct Monitor {
        Follow follow;
        uint64_t last_cookie;   /* the message last printed: overlapping matches see it twice */
        uint32_t (*ids)[2];     /* the ids asked for: (idx, val), val UINT32_MAX for every val */
        size_t n_ids;
} Monitor;

typedef struct CnMessage {
        uint32_t idx, val, seq, ack;
        uint16_t flags;
        const uint8_t *data;
        size_t size;
} CnMessage;

static int print_message(Monitor *mon, const char *signal, const CnMessage *msg) {
        const Output *o = &mon->follow.c->out;
        char when[32], id[24];

        if (o->json != JSON_OFF) {
                _cleanup_(json_object_putp) json_object *j = json_object_new_object();
                _cleanup_(freep) char *hex = hex_encode(msg->data, msg->size);

                if (!j || !hex)
                        return -ENOMEM;
                json_object_object_add(j, "signal", json_object_new_string(signal));
                json_object_object_add(j, "idx", json_object_new_int64(msg->idx));
                json_object_object_add(j, "val", json_object_new_int64(msg->val));
                json_object_object_add(j, "seq", json_object_new_int64(msg->seq));
                json_object_object_add(j, "ack", json_object_new_int64(msg->ack));
                json_object_object_add(j, "flags", json_object_new_int(msg->flags));
                json_object_object_add(j, "data", json_object_new_string(hex));
                return output_json(o, j);
        }

        format_clock(when, now_usec(CLOCK_REALTIME));
        snprintf(id, sizeof(id), "%" PRIu32 ":%" PRIu32, msg->idx, msg->val);
        printf("%s %-11s %10" PRIu32 " %10" PRIu32 " 0x%04x %5zu  ", when, id, msg->seq, msg->ack,
               msg->flags, msg->size);
        print_short_dump(stdout, msg->data, msg->size, DUMP_BYTES);
        putchar('\n');
        return fflush(stdout) == 0 ? 0 : -errno;
}

static int read_message(sd_bus_message *m, CnMessage *msg) {
        int r;

        r = sd_bus_message_read(m, "uuuuq", &msg->idx, &msg->val, &msg->seq, &msg->ack, &msg->flags);
        if (r < 0)
                return r;
        return sd_bus_message_read_array(m, 'y', (const void **) &msg->data, &msg->size);
}

/* A batch names its id only in its object path, /org/cnd/Connector1/id/IDX/VAL. */
static int id_from_path(const char *path, uint32_t *idx, uint32_t *val) {
        size_t n = strlen(CND_ID_PATH_PREFIX);
        char buf[32], *slash;

        if (strncmp(path, CND_ID_PATH_PREFIX "/", n + 1) != 0 || strlen(path + n + 1) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, path + n + 1);
        slash = strchr(buf, '/');
        if (!slash)
                return -EINVAL;
        *slash = ':';
        return parse_id(buf, false, idx, val, NULL);
}

static int print_batch(Monitor *mon, sd_bus_message *m) {
        CnMessage msg = {};
        int r;

        if (id_from_path(sd_bus_message_get_path(m), &msg.idx, &msg.val) < 0)
                return 0;
        r = sd_bus_message_enter_container(m, 'a', "(uuqay)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "uuqay")) > 0) {
                r = sd_bus_message_read(m, "uuq", &msg.seq, &msg.ack, &msg.flags);
                if (r >= 0)
                        r = sd_bus_message_read_array(m, 'y', (const void **) &msg.data, &msg.size);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = print_message(mon, "Messages", &msg);
                if (r < 0)
                        return r;
        }
        return r;
}

static int on_id_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Monitor *mon = userdata;
        uint64_t cookie = 0;
        CnMessage msg;
        int r = 0;

        if (sd_bus_message_get_cookie(m, &cookie) >= 0 && cookie == mon->last_cookie)
                return 0;
        mon->last_cookie = cookie;

        if (sd_bus_message_is_signal(m, CND_ID_IFACE, "Message")) {
                if (read_message(m, &msg) >= 0)
                        r = print_message(mon, "Message", &msg);
        } else if (sd_bus_message_is_signal(m, CND_ID_IFACE, "Messages"))
                r = print_batch(mon, m);
        /* A signal that does not parse is not ours to judge; a failed write ends the stream. */
        if (r == -EPIPE || r == -ENOSPC || r == -EIO)
                return sd_event_exit(mon->follow.event, r);
        return 0;
}

/* A stream's record: a message exactly as the kernel sent it, printed as its Message signal
 * would be (a stream has no batches: every message is one). */
static int on_record(Follow *f, const StreamRecord *rec, void *userdata) {
        Monitor *mon = userdata;
        const uint8_t *data;
        struct cn_msg h;
        int r;

        if (rec->type != CND_RECORD_MESSAGE || stream_record_message(rec, &h, &data) < 0)
                return 0;
        /* Every id but cn_proc's, as the signals give them by default: proc shows those
         * decoded, and 1:1 named on the command line shows them raw. */
        if (mon->n_ids == 0 && h.id.idx == CN_IDX_PROC && h.id.val == CN_VAL_PROC)
                return 0;
        r = print_message(mon, "Message", &(CnMessage) {
                .idx = h.id.idx, .val = h.id.val, .seq = h.seq, .ack = h.ack, .flags = h.flags,
                .data = data, .size = h.len,
        });
        return r < 0 ? r : 0;
}

/* 0 with the stream set up, 1 to follow signals instead, -1 printed. */
static int acquire_stream(Monitor *mon) {
        static const uint32_t every_id[1][2] = { { UINT32_MAX, UINT32_MAX } };

        if (!follow_want_stream(&mon->follow, true))
                return 1;
        return follow_acquire_stream(&mon->follow, &(FollowStreamOptions) {
                .ids = mon->n_ids > 0 ? (const uint32_t (*)[2]) mon->ids : every_id,
                .n_ids = mon->n_ids > 0 ? mon->n_ids : 1,
        }, on_record);
}

static int add_id_match(Monitor *mon, const char *arg) {
        _cleanup_(freep) char *rule = NULL;
        uint32_t idx, val;
        bool any;
        int r;

        if (!arg)
                r = asprintf(&rule, "interface='%s',path_namespace='%s'", CND_ID_IFACE, CND_ID_PATH_PREFIX);
        else if (parse_id(arg, true, &idx, &val, &any) < 0)
                return log_fail("Invalid connector id '%s': give IDX:VAL such as 1:1, or IDX alone.", arg);
        else if (any)
                r = asprintf(&rule, "interface='%s',path_namespace='%s/%" PRIu32 "'", CND_ID_IFACE,
                             CND_ID_PATH_PREFIX, idx);
        else
                r = asprintf(&rule, "interface='%s',path='%s/%" PRIu32 "/%" PRIu32 "'", CND_ID_IFACE,
                             CND_ID_PATH_PREFIX, idx, val);
        if (r < 0)
                return log_fail("Out of memory.");
        return follow_add_match(&mon->follow, rule, on_id_signal, mon);
}

static int follow_signals(Monitor *mon) {
        int r = 0;

        if (mon->n_ids == 0)
                r = add_id_match(mon, NULL);
        for (size_t i = 0; i < mon->n_ids && r >= 0; i++) {
                char arg[32];

                if (mon->ids[i][1] == UINT32_MAX)
                        snprintf(arg, sizeof(arg), "%" PRIu32, mon->ids[i][0]);
                else
                        snprintf(arg, sizeof(arg), "%" PRIu32 ":%" PRIu32, mon->ids[i][0], mon->ids[i][1]);
                r = add_id_match(mon, arg);
        }
        return r < 0 ? r : follow_watch_cnd(&mon->follow);
}

int verb_monitor(Cnctl *c, int argc, char *argv[]) {
        _cleanup_(freep) uint32_t (*ids)[2] = calloc((size_t) argc, sizeof(*ids));
        Monitor mon = { .ids = ids, .n_ids = (size_t) argc - 1 };
        int r;

        if (!ids)
                return log_fail("Out of memory.");
        /* Arguments first: a typo fails before anything is subscribed. */
        for (int i = 1; i < argc; i++) {
                bool any;

                if (parse_id(argv[i], true, &ids[i - 1][0], &ids[i - 1][1], &any) < 0)
                        return log_fail("Invalid connector id '%s': give IDX:VAL such as 1:1, or IDX alone.",
                                        argv[i]);
                if (any)
                        ids[i - 1][1] = UINT32_MAX;
        }
        r = follow_init(&mon.follow, c);
        if (r < 0)
                goto finish;
        mon.follow.userdata = &mon;
        r = acquire_stream(&mon);
        if (r > 0)
                r = follow_signals(&mon);
        if (r < 0)
                goto finish;
        if (c->out.json == JSON_OFF && c->out.legend) {
                printf("%-15s %-11s %10s %10s %6s %5s  %s\n", "TIME", "ID", "SEQ", "ACK", "FLAGS", "LEN", "DATA");
                fflush(stdout);
        }
        r = follow_run(&mon.follow);
finish:
        follow_done(&mon.follow);
        return r;
}
