/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What anyone may ask of cnd — properties, the object list, introspection — costs it work and a
 * reply each, and a client may ask without ever reading the answers. So every user gets a
 * budget for those calls (a token bucket: a burst at once, a rate after that); past it, a call
 * is answered at once with LimitsExceeded, a short error that costs cnd next to nothing instead
 * of an object list or an XML document. The methods of org.cnd.Connector1.Processes (readers)
 * and of the Manager (admins) have budgets of their own, so that a reader's flood never spends
 * what an admin may ask, nor the reverse.
 *
 * The budget is the user's, not the connection's: a user may hold hundreds of connections (256
 * on dbus-daemon) and open new ones at will, and a budget per connection would be a fresh
 * budget for each. The uid is the bus's to tell (GetConnectionUnixUser), asynchronously: until
 * it is in, a connection may make a few calls of each kind on its own account, and those are
 * charged to its user when the answer comes. The questions in flight at once, the connections
 * and the users remembered are bounded, the longest idle making room: nothing a caller does
 * makes cnd hold more, and a user forgotten after a while idle has lost nothing (its budget had
 * filled up again). */

#include <stdio.h>
#include <string.h>

#include "bus-limits.h"
#include "cnd-bus-names.h"
#include "log.h"

typedef enum CallClass {
        CALL_PUBLIC,    /* what anyone may read */
        CALL_READER,    /* org.cnd.Connector1.Processes: root and ReaderGroup= (bus policy) */
        CALL_ADMIN,     /* the Manager's methods: root and AdminGroup= (bus policy) */
        _CALL_CLASS_MAX,
        _CALL_CLASS_NONE = -1,
} CallClass;

static const struct {
        uint32_t per_sec, burst;
} budgets[_CALL_CLASS_MAX] = {
        [CALL_PUBLIC] = { CALLS_PER_SEC, CALLS_BURST },
        [CALL_READER] = { CALLS_PER_SEC, CALLS_BURST },
        /* Admins are trusted; theirs is only to keep a runaway script from crowding the loop. */
        [CALL_ADMIN] = { 5 * CALLS_PER_SEC, 5 * CALLS_BURST },
};

#define SENDER_NAME_MAX 32

typedef struct UserBudget {
        uid_t uid;
        bool used;
        uint64_t last_usec;
        int64_t tokens_milli[_CALL_CLASS_MAX];  /* thousandths of a call; below 0 after a debt */
} UserBudget;

typedef struct Sender {
        char name[SENDER_NAME_MAX];             /* unique name, ":1.42"; "" = free */
        uint64_t last_usec;
        uid_t uid;                              /* UID_UNKNOWN until the bus says */
        bool asking;                            /* a lookup is in flight */
        uint8_t unknown_calls[_CALL_CLASS_MAX]; /* let through before the uid was known */
} Sender;

#define UID_UNKNOWN ((uid_t) -1)

typedef struct Lookup {
        CallLimiter *limiter;
        sd_bus_slot *slot;                      /* NULL: free */
        char name[SENDER_NAME_MAX];
} Lookup;

struct CallLimiter {
        sd_event *event;
        Sender senders[SENDERS_MAX];
        UserBudget users[USERS_MAX];
        Lookup lookups[LOOKUPS_MAX];
        unsigned n_lookups;
        uint64_t refused;
        RateLimit log_refused;
        const AccessChecks *access;     /* whose re-run calls were charged already */
};

/* What anyone may call: the reads, and AcquireStream (whose stream carries what its caller may
 * see). */
static bool is_public_read(const char *iface, const char *member) {
        return (streq(iface, CND_MANAGER_IFACE) && streq(member, "AcquireStream")) ||
               (streq(iface, "org.freedesktop.DBus.Properties") && (streq(member, "Get") || streq(member, "GetAll"))) ||
               (streq(iface, "org.freedesktop.DBus.ObjectManager") && streq(member, "GetManagedObjects")) ||
               (streq(iface, "org.freedesktop.DBus.Introspectable") && streq(member, "Introspect"));
}

static CallClass call_class(sd_bus_message *m) {
        const char *iface = sd_bus_message_get_interface(m), *member = sd_bus_message_get_member(m);

        if (!sd_bus_message_is_method_call(m, NULL, NULL) || !iface || !member)
                return _CALL_CLASS_NONE;
        if (is_public_read(iface, member))
                return CALL_PUBLIC;
        if (streq(iface, CND_PROCESSES_IFACE))
                return CALL_READER;
        if (streq(iface, CND_MANAGER_IFACE))
                return CALL_ADMIN;
        return _CALL_CLASS_NONE;
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

/* The sender's entry; a new one if create, else NULL when it has none. Truncated names share
 * an entry; unique names are far shorter. */
static Sender *find_sender(CallLimiter *l, const char *name, uint64_t now, bool create) {
        uint32_t h = hash_name(name);
        Sender *oldest = NULL;

        for (unsigned i = 0; i < PROBE; i++) {
                Sender *s = &l->senders[(h + i) % SENDERS_MAX];

                if (s->name[0] && strncmp(s->name, name, sizeof(s->name) - 1) == 0)
                        return s;
                if (!oldest || !s->name[0] || (oldest->name[0] && s->last_usec < oldest->last_usec))
                        oldest = s;
        }
        if (!create)
                return NULL;
        *oldest = (Sender) { .last_usec = now, .uid = UID_UNKNOWN };
        snprintf(oldest->name, sizeof(oldest->name), "%s", name);
        return oldest;
}

/* The user's budgets, refilled to now; the user idle longest makes room for a new one. */
static UserBudget *find_user(CallLimiter *l, uid_t uid, uint64_t now) {
        UserBudget *u = NULL;

        for (size_t i = 0; i < USERS_MAX && !u; i++)
                if (l->users[i].used && l->users[i].uid == uid)
                        u = &l->users[i];
        if (!u) {
                u = &l->users[0];
                for (size_t i = 1; i < USERS_MAX && u->used; i++)
                        if (!l->users[i].used || l->users[i].last_usec < u->last_usec)
                                u = &l->users[i];
                *u = (UserBudget) { .uid = uid, .used = true, .last_usec = now };
                for (CallClass c = 0; c < _CALL_CLASS_MAX; c++)
                        u->tokens_milli[c] = (int64_t) budgets[c].burst * 1000;
        }

        for (CallClass c = 0; c < _CALL_CLASS_MAX; c++) {
                /* In thousandths of a call, to refill smoothly. */
                uint64_t refill = (now - u->last_usec) * budgets[c].per_sec / 1000;

                u->tokens_milli[c] = MIN(u->tokens_milli[c] + (int64_t) MIN(refill, (uint64_t) INT32_MAX),
                                         (int64_t) budgets[c].burst * 1000);
        }
        u->last_usec = now;
        return u;
}

/* Calls let through before the uid was known are owed: charged now, down to at most a burst
 * below nothing, so that a new connection is no way around the user's budget. */
static void charge_debt(CallLimiter *l, Sender *s, uint64_t now) {
        UserBudget *u = find_user(l, s->uid, now);

        for (CallClass c = 0; c < _CALL_CLASS_MAX; c++) {
                u->tokens_milli[c] = MAX(u->tokens_milli[c] - (int64_t) s->unknown_calls[c] * 1000,
                                         -(int64_t) budgets[c].burst * 1000);
                s->unknown_calls[c] = 0;
        }
}

static void lookup_release(Lookup *lk) {
        lk->slot = sd_bus_slot_unref(lk->slot);
        lk->limiter->n_lookups--;
}

static int on_uid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Lookup *lk = userdata;
        CallLimiter *l = lk->limiter;
        uint64_t now;
        uint32_t uid;
        Sender *s;

        (void) sd_event_now(l->event, CLOCK_MONOTONIC, &now);
        s = find_sender(l, lk->name, now, false);
        if (s) {
                s->asking = false;
                /* An error: the caller has gone. Its next call, if any, asks again. */
                if (!sd_bus_message_is_method_error(reply, NULL) && sd_bus_message_read(reply, "u", &uid) > 0) {
                        s->uid = uid;
                        charge_debt(l, s, now);
                }
        }
        lookup_release(lk);
        return 0;
}

/* Asks the bus for the sender's uid, unless a question is in flight already, for it or for
 * LOOKUPS_MAX others: then its next call asks. */
static void ask_uid(CallLimiter *l, Sender *s, sd_bus *bus) {
        Lookup *lk = NULL;

        if (s->asking || l->n_lookups >= LOOKUPS_MAX)
                return;
        for (size_t i = 0; i < LOOKUPS_MAX && !lk; i++)
                if (!l->lookups[i].slot)
                        lk = &l->lookups[i];
        if (!lk)
                return;
        *lk = (Lookup) { .limiter = l };
        snprintf(lk->name, sizeof(lk->name), "%s", s->name);
        if (sd_bus_call_method_async(bus, &lk->slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "GetConnectionUnixUser", on_uid, lk, "s",
                                     s->name) < 0)
                return;
        l->n_lookups++;
        s->asking = true;
}

/* Takes one call of class c from the sender's user, or before that is known from what the
 * connection may make on its own account: false if there is none left. */
static bool take(CallLimiter *l, sd_bus_message *m, CallClass c, uint64_t now) {
        Sender *s = find_sender(l, sd_bus_message_get_sender(m), now, true);
        UserBudget *u;

        s->last_usec = now;
        if (s->uid == UID_UNKNOWN) {
                ask_uid(l, s, sd_bus_message_get_bus(m));
                if (s->unknown_calls[c] >= CALLS_BEFORE_UID)
                        return false;
                s->unknown_calls[c]++;
                return true;
        }

        /* Root can stop cnd, or trace it: a budget would protect nobody from it, and would
         * refuse the administrator's own tools. */
        if (s->uid == 0)
                return true;
        u = find_user(l, s->uid, now);
        if (u->tokens_milli[c] < 1000)
                return false;
        u->tokens_milli[c] -= 1000;
        return true;
}

static int on_incoming(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        CallLimiter *l = userdata;
        CallClass c = call_class(message);
        uint64_t now;

        if (c == _CALL_CLASS_NONE || !sd_bus_message_get_sender(message))
                return 0;
        if (l->access && access_checks_rerun(l->access, message))
                return 0;
        (void) sd_event_now(l->event, CLOCK_MONOTONIC, &now);
        if (take(l, message, c, now))
                return 0;

        l->refused++;
        log_ratelimited(&l->log_refused, LOG_NOTICE, "Refused a %s call from %s: over its user's budget of calls.",
                        sd_bus_message_get_member(message), sd_bus_message_get_sender(message));
        (void) sd_bus_reply_method_errorf(message, CND_ERROR_LIMITS_EXCEEDED,
                                          "Too many calls from this user; slow down.");
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
        for (size_t i = 0; i < LOOKUPS_MAX; i++)
                sd_bus_slot_unref(l->lookups[i].slot);
        sd_event_unref(l->event);
        return mfree(l);
}

int call_limiter_attach(CallLimiter *l, sd_bus *bus, const AccessChecks *access) {
        l->access = access;
        return sd_bus_add_filter(bus, NULL, on_incoming, l);
}

uint64_t call_limiter_refused(const CallLimiter *l) {
        return l ? l->refused : 0;
}

unsigned call_limiter_users(const CallLimiter *l) {
        unsigned n = 0;

        for (size_t i = 0; l && i < USERS_MAX; i++)
                n += l->users[i].used;
        return n;
}

unsigned call_limiter_lookups(const CallLimiter *l) {
        return l ? l->n_lookups : 0;
}
