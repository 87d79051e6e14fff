/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Who may call the admin methods: root, or a member of [Bus] AdminGroup=; and the methods of
 * org.cnd.Connector1.Processes: root, or a member of [Processes] ReaderGroup=; as the bus itself
 * vouches (GetConnectionCredentials: the uid and, from SO_PEERGROUPS, the groups; never /proc,
 * whose contents the caller controls). The question goes to the bus asynchronously, as
 * systemd's polkit checks do: a stalled bus must not stall cnd's event loop. When the answer
 * is in, the original call is queued again and its handler runs a second time. */

#include <inttypes.h>

#include "bus-access.h"
#include "cnd-bus-names.h"
#include "list.h"

struct AdminQuery {
        AccessChecks *checks;
        LIST_FIELDS(AdminQuery, queries);
        sd_bus_message *call;
        sd_bus_slot *slot;
        BusAccess access;
        bool answered;
        bool allowed;
        uint32_t uid;                   /* the caller's, UINT32_MAX if the bus did not say */
};

static void admin_query_free(AdminQuery *q) {
        AccessChecks *a = q->checks;
        AdminQuery *no_tail = NULL;

        LIST_REMOVE(queries, a->queries, no_tail, q);
        a->n_queries[q->access]--;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->call);
        free(q);
}

void access_checks_init(AccessChecks *a, const Config *config) {
        *a = (AccessChecks) {
                .config = config,
                .log_no_groups = RATELIMIT_INIT(60 * USEC_PER_SEC, 1),
        };
}

void access_checks_done(AccessChecks *a) {
        while (a->queries)
                admin_query_free(a->queries);
}

static bool gid_in(gid_t gid, const gid_t *list, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (list[i] == gid)
                        return true;
        return false;
}

/* A bus that does not report groups (dbus-daemon before 1.12) leaves only the group database
 * to ask, and that may block on NSS (LDAP, sssd) for as long as it likes, with cnd's whole event
 * loop waiting: such a caller is denied instead (root is still let in), and the log says why. */
static bool no_groups_reported(AccessChecks *a, uint32_t uid) {
        log_ratelimited(&a->log_no_groups, LOG_WARNING,
                        "The bus does not report the groups of callers (uid %" PRIu32 "): members of "
                        "AdminGroup= and ReaderGroup= are denied; only root may call their methods.", uid);
        return false;
}

/* The group an access admits besides root, NULL for none. */
static const char *access_group(const AccessChecks *a, BusAccess access, gid_t *ret_gid) {
        if (access == BUS_ACCESS_READER) {
                *ret_gid = a->config->reader_gid;
                return a->config->reader_group;
        }
        *ret_gid = a->config->admin_gid;
        return a->config->admin_group;
}

/* Reads the a{sv} of GetConnectionCredentials into a verdict. */
static int judge_credentials(AccessChecks *a, BusAccess access, sd_bus_message *reply, bool *allowed,
                             uint32_t *ret_uid) {
        gid_t gids[1024], gid;
        const char *group = access_group(a, access, &gid);
        size_t n_gids = 0;
        bool have_uid = false, have_gids = false;
        uint32_t uid = UINT32_MAX, v;
        const char *key;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "UnixUserID")) {
                        r = sd_bus_message_read(reply, "v", "u", &uid);
                        have_uid = r >= 0;
                } else if (streq(key, "UnixGroupIDs")) {
                        r = sd_bus_message_enter_container(reply, 'v', "au");
                        if (r >= 0)
                                r = sd_bus_message_enter_container(reply, 'a', "u");
                        while (r >= 0 && (r = sd_bus_message_read(reply, "u", &v)) > 0)
                                if (n_gids < ELEMENTSOF(gids))
                                        gids[n_gids++] = v;
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        have_gids = r >= 0;
                } else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;

        *ret_uid = have_uid ? uid : UINT32_MAX;
        *allowed = have_uid &&
                (uid == 0 ||
                 (group && (have_gids ? gid_in(gid, gids, n_gids) : no_groups_reported(a, uid))));
        return 0;
}

static int on_credentials(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AdminQuery *q = userdata;
        int r;

        q->answered = true;
        q->allowed = false;
        q->uid = UINT32_MAX;
        if (!sd_bus_message_is_method_error(reply, NULL) &&
            judge_credentials(q->checks, q->access, reply, &q->allowed, &q->uid) < 0)
                q->allowed = false;

        /* Run the call again: its handler finds this answer. */
        r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->call), q->call);
        if (r < 0) {
                (void) sd_bus_reply_method_errno(q->call, r, NULL);
                admin_query_free(q);
        }
        return 0;
}

static AdminQuery *find_query(const AccessChecks *a, sd_bus_message *call) {
        for (AdminQuery *q = a->queries; q; q = q->queries_next)
                if (q->call == call)
                        return q;
        return NULL;
}

bool access_checks_rerun(const AccessChecks *a, sd_bus_message *call) {
        /* A message a query holds cannot arrive anew: the query's reference keeps it alive. */
        AdminQuery *q = find_query(a, call);

        return q && q->answered;
}

static int ask_bus(AccessChecks *a, sd_bus_message *call, BusAccess access, sd_bus_error *error) {
        AdminQuery *q;
        int r;

        if (a->n_queries[access] >= ACCESS_QUERIES_MAX)
                return sd_bus_error_setf(error, CND_ERROR_LIMITS_EXCEEDED,
                                         "Too many calls of %s are waiting for the bus to tell who made them.",
                                         access == BUS_ACCESS_ADMIN ? "admins" : "readers");

        q = calloc(1, sizeof(AdminQuery));
        if (!q)
                return -ENOMEM;
        *q = (AdminQuery) {
                .checks = a,
                .call = sd_bus_message_ref(call),
                .access = access,
        };
        LIST_PREPEND(queries, a->queries, q);
        a->n_queries[access]++;

        r = sd_bus_call_method_async(sd_bus_message_get_bus(call), &q->slot, "org.freedesktop.DBus",
                                     "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                     "GetConnectionCredentials", on_credentials, q, "s",
                                     sd_bus_message_get_sender(call));
        if (r < 0) {
                admin_query_free(q);
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "The bus did not tell who the caller is.");
        }
        return 0;
}

int bus_identify_caller_async(AccessChecks *a, sd_bus_message *call, uid_t *ret_uid, bool *ret_reader,
                              sd_bus_error *error) {
        AdminQuery *q = find_query(a, call);
        uint32_t uid;

        if (!q)
                return ask_bus(a, call, BUS_ACCESS_READER, error);
        if (!q->answered)
                return 0;
        uid = q->uid;
        *ret_reader = q->allowed;
        admin_query_free(q);
        if (uid == UINT32_MAX)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "The bus did not tell who the caller is.");
        *ret_uid = (uid_t) uid;
        return 1;
}

int bus_verify_access_async(AccessChecks *a, sd_bus_message *call, BusAccess access, sd_bus_error *error) {
        AdminQuery *q = find_query(a, call);

        if (q) {
                bool allowed = q->allowed;
                const char *group;
                gid_t gid;

                if (!q->answered)
                        return 0;
                admin_query_free(q);
                if (allowed)
                        return 1;
                group = access_group(a, access, &gid);
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Only root%s%s may call %s.", group ? " and members of group " : "",
                                         strempty(group), sd_bus_message_get_member(call));
        }

        return ask_bus(a, call, access, error);
}
