/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "log.h"
#include "request.h"
#include "util.h"

struct Request {
        RequestTable *table;
        LIST_FIELDS(Request, requests);

        uint32_t idx, val, seq, ack;
        RequestReplyMatcher is_reply;
        sd_bus_message *call;
        sd_event_source *timer;
};

void request_table_init(RequestTable *t, sd_event *event, unsigned max) {
        *t = (RequestTable) { .event = event, .max = max };
}

static void request_free(Request *r) {
        RequestTable *t = r->table;

        LIST_REMOVE(requests, t->head, t->tail, r);
        t->n--;

        sd_event_source_disable_unref(r->timer);
        sd_bus_message_unref(r->call);
        free(r);
}

void request_table_done(RequestTable *t) {
        while (t->head) {
                (void) sd_bus_reply_method_errorf(t->head->call, SD_BUS_ERROR_FAILED,
                                                  "cnd is shutting down.");
                request_free(t->head);
        }
        t->owner_match = sd_bus_slot_unref(t->owner_match);
}

/* The connector protocol: a reply has the request's id and seq and ack + 1. Some kernel users
 * answer otherwise (cn_proc); their family gives the rule. */
static bool answers(const Request *r, const struct cn_msg *msg) {
        if (msg->id.idx != r->idx || msg->id.val != r->val)
                return false;
        if (r->is_reply)
                return r->is_reply(msg, r->seq, r->ack);
        return msg->seq == r->seq && msg->ack == r->ack + 1;
}

static int reply_with_message(Request *r, const struct cn_msg *msg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int e;

        e = sd_bus_message_new_method_return(r->call, &reply);
        if (e < 0)
                return e;
        e = sd_bus_message_append(reply, "uu", msg->seq, msg->ack);
        if (e < 0)
                return e;
        e = sd_bus_message_append_array(reply, 'y', msg->data, msg->len);
        if (e < 0)
                return e;
        return sd_bus_send(NULL, reply, NULL);
}

bool request_table_offer(RequestTable *t, const struct cn_msg *msg) {
        for (Request *r = t->head; r; r = r->requests_next)
                if (answers(r, msg)) {
                        int e = reply_with_message(r, msg);

                        if (e < 0)
                                log_warning_errno(e, "Failed to send the reply to a Request: %m");
                        request_free(r);
                        return true;
                }
        return false;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Request *r = userdata;

        (void) sd_bus_reply_method_errorf(r->call, CND_ERROR_TIMEOUT,
                                          "No reply from connector id %u:%u (seq %u, ack %u).",
                                          r->idx, r->val, r->seq, r->ack);
        request_free(r);
        return 0;
}

/* A caller that leaves the bus takes its requests with it. One match for all of them, added
 * once and without waiting: per-request tracking would cost a match rule each (dbus-daemon
 * allows a connection 512) and a synchronous GetNameOwner call. */
static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        RequestTable *t = userdata;
        const char *name, *old_owner, *new_owner;
        Request *r, *next;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || *new_owner)
                return 0;
        LIST_FOREACH_SAFE(requests, r, next, t->head) {
                if (streq(strempty(sd_bus_message_get_sender(r->call)), name)) {
                        log_debug("Caller of Request to %u:%u left the bus; dropping it.", r->idx, r->val);
                        request_free(r);
                }
        }
        return 0;
}

static int watch_callers(RequestTable *t, sd_bus *bus) {
        if (t->owner_match)
                return 0;
        return sd_bus_add_match_async(bus, &t->owner_match,
                                      "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                      "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg2=''",
                                      on_name_owner_changed, NULL, t);
}

int request_table_add(RequestTable *t, sd_bus_message *call, uint32_t idx, uint32_t val,
                      uint32_t seq, uint32_t ack, RequestReplyMatcher is_reply, uint64_t timeout_usec) {
        Request *r;
        int e;

        if (request_table_full(t))
                return -EBUSY;
        e = watch_callers(t, sd_bus_message_get_bus(call));
        if (e < 0)
                return e;

        r = calloc(1, sizeof(Request));
        if (!r)
                return -ENOMEM;
        *r = (Request) {
                .table = t,
                .idx = idx, .val = val, .seq = seq, .ack = ack,
                .is_reply = is_reply,
                .call = sd_bus_message_ref(call),
        };
        LIST_APPEND(requests, t->head, t->tail, r);
        t->n++;

        e = sd_event_add_time_relative(t->event, &r->timer, CLOCK_MONOTONIC, timeout_usec, 0, on_timeout, r);
        if (e < 0) {
                request_free(r);
                return e;
        }
        return 0;
}
