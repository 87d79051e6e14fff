/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What anyone may ask of cnd — properties, the object list, introspection — costs it work and a
 * reply each, and a client may ask without ever reading the answers. So every connection gets a
 * budget for those calls (a token bucket: CALLS_BURST at once, CALLS_PER_SEC after that); past
 * it, a call is answered at once with LimitsExceeded, a short error that costs cnd next to
 * nothing instead of an object list or an XML document. Clients that ask and never read then
 * cannot keep cnd busy for others, nor make it build and hold large replies for them. Admin
 * methods are not limited: the bus policy and cnd's own check keep them to root and the admin
 * group. */

#include <stdio.h>
#include <string.h>

#include "bus-limits.h"
#include "cnd-bus-names.h"
#include "log.h"

#define CALLS_PER_SEC 200
#define CALLS_BURST 400
/* Connections tracked at once; the one idle longest makes room for a new one. */
#define SENDERS_MAX 1024
#define SENDER_NAME_MAX 32

typedef struct Sender {
        char name[SENDER_NAME_MAX];     /* unique name, ":1.42"; "" = free */
        uint64_t last_usec;
        uint32_t tokens_milli;          /* thousandths of a call, to refill smoothly */
} Sender;

struct CallLimiter {
        sd_event *event;
        Sender senders[SENDERS_MAX];
        uint64_t refused;
        RateLimit log_refused;
};

static bool is_public_read(sd_bus_message *m) {
        const char *iface = sd_bus_message_get_interface(m), *member = sd_bus_message_get_member(m);

        if (!iface || !member)
                return false;
        return (streq(iface, "org.freedesktop.DBus.Properties") && (streq(member, "Get") || streq(member, "GetAll"))) ||
               (streq(iface, "org.freedesktop.DBus.ObjectManager") && streq(member, "GetManagedObjects")) ||
               (streq(iface, "org.freedesktop.DBus.Introspectable") && streq(member, "Introspect"));
}

/* Open addressing: a name is looked for in PROBE slots from its hash; when none of them is it,
 * the one idle longest among them makes room. */
#define PROBE 8

static uint32_t hash_name(const char *name) {
        uint32_t h = 2166136261u;       /* FNV-1a */

        for (; *name; name++)
                h = (h ^ (uint8_t) *name) * 16777619u;
        return h;
}

static Sender *find_sender(CallLimiter *l, const char *name, uint64_t now) {
        uint32_t h = hash_name(name);
        Sender *oldest = NULL;

        for (unsigned i = 0; i < PROBE; i++) {
                Sender *s = &l->senders[(h + i) % SENDERS_MAX];

                if (strncmp(s->name, name, sizeof(s->name) - 1) == 0 && s->name[0])
                        return s;
                if (!oldest || !s->name[0] || (oldest->name[0] && s->last_usec < oldest->last_usec))
                        oldest = s;
        }
        *oldest = (Sender) { .last_usec = now, .tokens_milli = CALLS_BURST * 1000 };
        snprintf(oldest->name, sizeof(oldest->name), "%s", name);
        return oldest;
}

/* Takes one call from the sender's budget: false if it has none left. */
static bool take(CallLimiter *l, const char *name, uint64_t now) {
        Sender *s = find_sender(l, name, now);
        uint64_t refill = (now - s->last_usec) * CALLS_PER_SEC / 1000;     /* in thousandths */

        s->tokens_milli = (uint32_t) MIN((uint64_t) s->tokens_milli + refill, (uint64_t) CALLS_BURST * 1000);
        s->last_usec = now;
        if (s->tokens_milli < 1000)
                return false;
        s->tokens_milli -= 1000;
        return true;
}

static int on_incoming(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        CallLimiter *l = userdata;
        const char *sender = sd_bus_message_get_sender(message);
        uint64_t now;

        if (!sd_bus_message_is_method_call(message, NULL, NULL) || !sender || !is_public_read(message))
                return 0;
        (void) sd_event_now(l->event, CLOCK_MONOTONIC, &now);
        /* Truncated names share a budget; unique names are far shorter. */
        if (take(l, sender, now))
                return 0;

        l->refused++;
        log_ratelimited(&l->log_refused, LOG_NOTICE, "Refused a %s call from %s: over its budget of calls.",
                        sd_bus_message_get_member(message), sender);
        (void) sd_bus_reply_method_errorf(message, CND_ERROR_LIMITS_EXCEEDED,
                                          "Too many calls from this connection; slow down.");
        return 1;
}

int call_limiter_new(CallLimiter **ret, sd_event *event) {
        CallLimiter *l = calloc(1, sizeof(CallLimiter));

        if (!l)
                return -ENOMEM;
        l->event = sd_event_ref(event);
        l->log_refused = RATELIMIT_INIT(10 * USEC_PER_SEC, 5);
        *ret = l;
        return 0;
}

CallLimiter *call_limiter_free(CallLimiter *l) {
        if (!l)
                return NULL;
        sd_event_unref(l->event);
        return mfree(l);
}

int call_limiter_attach(CallLimiter *l, sd_bus *bus) {
        return sd_bus_add_filter(bus, NULL, on_incoming, l);
}

uint64_t call_limiter_refused(const CallLimiter *l) {
        return l ? l->refused : 0;
}
