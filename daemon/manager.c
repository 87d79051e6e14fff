/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <linux/cn_proc.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "bus-id.h"
#include "bus-manager.h"
#include "event-util.h"
#include "family-table.h"
#include "fileio.h"
#include "manager.h"
#include "relay.h"
#include "utf8.h"

/* Reopens a failed socket more often than this, and cnd gives up (the service restarts it). */
#define REOPEN_BURST 5
#define REOPEN_INTERVAL_USEC (10 * USEC_PER_SEC)

#define NO_CONNECTOR_HINT \
        ". cnd needs a kernel with the connector (CONFIG_CONNECTOR) and must run in the initial network namespace."

/* A message from an unknown id asks for a rescan, but not more often than this. */
#define RESCAN_MIN_INTERVAL_USEC (250 * USEC_PER_MSEC)

#define CONNECTOR_LIST_PATH "/proc/net/connector"
#define CONNECTOR_LIST_MAX (1024 * 1024)

uint64_t manager_now_usec(Manager *m) {
        uint64_t t;

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &t);
        return t;
}

/* Id table events: every change to the table becomes its D-Bus signals here. */

static void on_id_created(CnId *id, void *userdata) {
        (void) bus_id_emit_added(&((Manager *) userdata)->bus_ids, id);
}

static void on_id_destroyed(CnId *id, void *userdata) {
        Manager *m = userdata;

        batcher_forget(&m->batcher, id);
        (void) bus_id_emit_removed(&m->bus_ids, id);
}

static void log_id_change(const CnId *id, const char *what) {
        _cleanup_(freep) char *name = NULL;

        /* A kernel module's name, or one a user gave cnfeed: text from others. */
        if (utf8_escape_controls(id->name, &name) >= 0)
                log_debug("Connector id %u:%u (%s) %s.", id->idx, id->val, name, what);
}

static void on_id_registered(CnId *id, void *userdata) {
        Manager *m = userdata;

        log_id_change(id, "registered");
        streams_id_change(&m->streams, true, id->idx, id->val, id->name);
        (void) bus_manager_emit_id_added(&m->bus_manager, id);
        (void) bus_id_emit_registration_changed(&m->bus_ids, id);
}

static void on_id_unregistered(CnId *id, void *userdata) {
        Manager *m = userdata;

        log_id_change(id, "unregistered");
        streams_id_change(&m->streams, false, id->idx, id->val, id->name);
        (void) bus_manager_emit_id_removed(&m->bus_manager, id);
        (void) bus_id_emit_registration_changed(&m->bus_ids, id);
}

static void on_id_named(CnId *id, void *userdata) {
        (void) bus_id_emit_registration_changed(&((Manager *) userdata)->bus_ids, id);
}

static const IdTableEvents id_events = {
        .named = on_id_named,
        .created = on_id_created,
        .destroyed = on_id_destroyed,
        .registered = on_id_registered,
        .unregistered = on_id_unregistered,
};

/* Scanning /proc/net/connector. */

int manager_scan_ids(Manager *m) {
        _cleanup_(freep) ConnectorEntry *entries = NULL;
        _cleanup_(freep) char *text = NULL;
        size_t size = 0, n = 0;
        unsigned n_bad = 0;
        int r;

        m->last_scan_usec = manager_now_usec(m);

        r = read_full_file(m->connector_list_path, CONNECTOR_LIST_MAX, &text, &size);
        if (r < 0)
                return log_warning_errno(r, "Failed to read %s: %m", m->connector_list_path);

        r = connector_list_parse(text, size, &entries, &n, &n_bad);
        if (r < 0)
                return log_oom();
        if (n_bad > 0)
                log_ratelimited(&m->log_netlink_error, LOG_WARNING,
                                "Ignored %u unparsable line(s) in %s.", n_bad, m->connector_list_path);

        r = idtable_apply_scan(&m->ids, entries, n);
        if (r > 0)
                (void) bus_manager_emit_ids_changed(&m->bus_manager);
        FAMILIES_CALL(&m->families, scanned, entries, n);
        return r < 0 ? log_oom() : 0;
}

static int on_scan_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) manager_scan_ids(m);
        /* From now, not from when it was due: after a stall, one scan, not a burst of them. */
        event_timer_arm(s, manager_now_usec(m) + m->config.scan_interval_usec);
        return 0;
}

static int on_rescan_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return manager_scan_ids(userdata);
}

void manager_request_rescan(Manager *m) {
        event_timer_arm_unless_armed(m->rescan_timer,
                                     MAX(manager_now_usec(m), m->last_scan_usec + RESCAN_MIN_INTERVAL_USEC));
}

static int setup_scan_timer(Manager *m) {
        if (m->config.scan_interval_usec == 0)
                return sd_event_source_set_enabled(m->scan_timer, SD_EVENT_OFF);
        event_timer_arm(m->scan_timer, manager_now_usec(m) + m->config.scan_interval_usec);
        return 0;
}

/* Groups. */

void manager_new_seq_ack(Manager *m, uint32_t *ret_seq, uint32_t *ret_ack) {
        *ret_seq = m->send_seq++;
        *ret_ack = arc4random();
}

int manager_send(Manager *m, uint32_t idx, uint32_t val, const void *data, size_t size,
                 uint32_t *ret_seq, uint32_t *ret_ack) {
        uint32_t seq, ack;
        int r;

        manager_new_seq_ack(m, &seq, &ack);
        r = netlink_send(m->netlink, idx, val, seq, ack, 0, data, size);
        if (r < 0)
                return r;
        if (ret_seq)
                *ret_seq = seq;
        if (ret_ack)
                *ret_ack = ack;
        return 0;
}

int manager_join_group(Manager *m, unsigned group) {
        int r;

        if (group < 1 || group > CND_GROUP_MAX)
                return -EINVAL;
        if (m->groups & GROUP_BIT(group))
                return 0;

        r = netlink_join_group(m->netlink, group);
        if (r < 0) {
                m->failed_groups |= GROUP_BIT(group);
                manager_notify_status(m);
                return log_warning_errno(r, "Failed to join connector group %u: %m", group);
        }
        m->failed_groups &= ~GROUP_BIT(group);
        m->groups |= GROUP_BIT(group);
        log_info("Joined connector group %u.", group);
        FAMILIES_CALL(&m->families, joined, group);

        (void) bus_manager_emit_groups_changed(&m->bus_manager);
        return 1;
}

int manager_leave_group(Manager *m, unsigned group) {
        int r;

        if (group < 1 || group > CND_GROUP_MAX)
                return -EINVAL;
        if (!(m->groups & GROUP_BIT(group)))
                return 0;

        /* Before leaving: cn_proc's IGNORE must come from a socket that still listens. */
        FAMILIES_CALL(&m->families, leaving, group);

        r = netlink_leave_group(m->netlink, group);
        if (r < 0)
                return log_warning_errno(r, "Failed to leave connector group %u: %m", group);
        m->groups &= ~GROUP_BIT(group);
        log_info("Left connector group %u.", group);

        (void) bus_manager_emit_groups_changed(&m->bus_manager);
        return 1;
}

int manager_join_group_at_runtime(Manager *m, unsigned group) {
        int r = manager_join_group(m, group);

        if (r >= 0)
                m->left_at_runtime &= ~GROUP_BIT(group);
        return r;
}

int manager_leave_group_at_runtime(Manager *m, unsigned group) {
        int r = manager_leave_group(m, group);

        if (r >= 0)
                m->left_at_runtime |= GROUP_BIT(group);
        return r;
}

static void apply_groups(Manager *m, uint32_t wanted) {
        for (unsigned g = 1; g <= CND_GROUP_MAX; g++) {
                if ((wanted & GROUP_BIT(g)) && !(m->groups & GROUP_BIT(g)))
                        (void) manager_join_group(m, g);
                else if (!(wanted & GROUP_BIT(g)) && (m->groups & GROUP_BIT(g)))
                        (void) manager_leave_group(m, g);
        }
}

/* The groups the configuration asks for: Groups= and those its families need. */
static uint32_t configured_groups(const Config *c) {
        return c->groups | families_groups(c);
}

/* Status, reload and shutdown. */

static void notify_status(Manager *m, const char *prefix) {
        char failed[CND_GROUP_MAX * 4 + 64] = "", families_text[256] = "";
        size_t n = 0;

        for (unsigned g = 1; g <= CND_GROUP_MAX; g++)
                if (m->failed_groups & GROUP_BIT(g))
                        n += (size_t) snprintf(failed + n, sizeof(failed) - n, "%s%u",
                                               n == 0 ? " Could not join group(s) " : " ", g);
        if (n > 0)
                snprintf(failed + n, sizeof(failed) - n, ".");
        families_status(&m->families, families_text, sizeof(families_text));

        (void) sd_notifyf(false, "%sSTATUS=Relaying %u connector group(s), %zu id(s) known.%s%s",
                          prefix, (unsigned) __builtin_popcount(m->groups), m->ids.n, failed, families_text);
}

void manager_notify_status(Manager *m) {
        notify_status(m, "");
}

/* READY=1 and the status in one message, so that whoever sees one sees both. */
static void notify_ready(Manager *m) {
        notify_status(m, "READY=1\n");
}

int manager_reload(Manager *m, char **error) {
        uint32_t added, dropped, kept, wanted;
        Config new, old;
        int r;

        (void) sd_notify(false, "RELOADING=1\nSTATUS=Reloading configuration...");

        r = config_load(&new, m->config_file, m->config_must_exist,
                        m->use_dropins ? CND_DROPIN_DIRS : NULL, error);
        if (r < 0) {
                log_error("Keeping the old configuration, the new one is invalid: %s", *error);
                config_done(&new);      /* the defaults, which a key may allocate */
                notify_ready(m);
                return r;
        }

        /* Runtime JoinGroup/LeaveGroup and the configuration are one membership: a reload joins
         * what the new configuration adds and leaves what it drops, and leaves alone groups
         * whose configuration did not change, so runtime changes to those survive. */
        added = configured_groups(&new) & ~configured_groups(&m->config);
        dropped = configured_groups(&m->config) & ~configured_groups(&new);
        kept = configured_groups(&new) & configured_groups(&m->config);
        /* Kept groups are joined unless an admin left them at run time: that also retries one
         * that failed to join before. */
        wanted = (m->groups & ~dropped) | added | (kept & ~m->left_at_runtime);
        m->left_at_runtime &= kept;

        old = m->config;
        m->config = new;

        idtable_set_max_unregistered(&m->ids, m->config.max_unregistered_ids);
        m->requests.max = m->config.max_pending_requests;
        loss_set_limits(&m->loss, m->config.max_queued_signals, m->config.max_queued_bytes);
        (void) netlink_set_receive_buffer(m->netlink, m->config.receive_buffer_bytes);
        apply_groups(m, wanted);
        FAMILIES_CALL(&m->families, reconfigured, &old);
        (void) setup_scan_timer(m);
        config_done(&old);

        log_info("Configuration reloaded.");
        notify_ready(m);
        return 0;
}

static void manager_stop(Manager *m);

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        _cleanup_(freep) char *error = NULL;

        (void) manager_reload(userdata, &error);
        return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        (void) sd_notify(false, "STOPPING=1\nSTATUS=Shutting down...");
        log_info("Received SIG%s, shutting down.", si->ssi_signo == SIGINT ? "INT" : "TERM");
        manager_stop(m);
        return sd_event_exit(m->event, EXIT_SUCCESS);
}

/* Lifecycle. */

/* What the families may ask of the Manager (family.h). */

static int family_send(void *userdata, uint32_t idx, uint32_t val, const void *data, size_t size,
                       uint32_t *ret_seq, uint32_t *ret_ack) {
        return manager_send(userdata, idx, val, data, size, ret_seq, ret_ack);
}

static void family_new_seq_ack(void *userdata, uint32_t *ret_seq, uint32_t *ret_ack) {
        manager_new_seq_ack(userdata, ret_seq, ret_ack);
}

static void family_status_changed(void *userdata) {
        manager_notify_status(userdata);
}

static void request_rescan_soon(void *userdata) {
        manager_request_rescan(userdata);
}

static void family_ids_changed(void *userdata) {
        (void) bus_manager_emit_ids_changed(&((Manager *) userdata)->bus_manager);
}

static const FamilyOps family_ops = {
        .send = family_send,
        .new_seq_ack = family_new_seq_ack,
        .status_changed = family_status_changed,
        .request_rescan = request_rescan_soon,
        .ids_changed = family_ids_changed,
};

/* What the relay may ask of the Manager (relay.h). */

static int relay_reopen(void *userdata, int error) {
        return manager_reopen_netlink(userdata, error);
}

static const RelayOps relay_ops = {
        .request_rescan = request_rescan_soon,
        .reopen = relay_reopen,
};

/* What the Manager object's methods may ask of the Manager (bus-manager.h). */

static int bus_reload(void *userdata, char **error) {
        return manager_reload(userdata, error);
}

static int bus_join_group(void *userdata, unsigned group) {
        return manager_join_group_at_runtime(userdata, group);
}

static int bus_leave_group(void *userdata, unsigned group) {
        return manager_leave_group_at_runtime(userdata, group);
}

static int bus_scan_ids(void *userdata) {
        return manager_scan_ids(userdata);
}

static const BusManagerOps bus_manager_ops = {
        .reload = bus_reload,
        .join_group = bus_join_group,
        .leave_group = bus_leave_group,
        .scan_ids = bus_scan_ids,
        .send = family_send,
        .new_seq_ack = family_new_seq_ack,
};

void manager_fill_bus_manager(Manager *m) {
        m->bus_manager = (BusManager) {
                .bus = m->bus,
                .groups = &m->groups,
                .ids = &m->ids,
                .loss = &m->loss,
                .requests = &m->requests,
                .access = &m->access,
                .call_limiter = &m->call_limiter,
                .families = &m->families,
                .streams = &m->streams,
                .ops = &bus_manager_ops,
                .userdata = m,
        };
}

int manager_bus_objects_setup(Manager *m) {
        int r;

        r = bus_manager_setup(&m->bus_manager);
        if (r < 0)
                return r;
        r = families_bus_setup(&m->families, m->bus);
        if (r < 0)
                return r;
        return bus_id_setup(&m->bus_ids);
}

int manager_new(Manager **ret, const char *config_file, bool config_must_exist, bool use_dropins,
                Config *config) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;

        m->config = *config;
        *config = (Config) {};
        access_checks_init(&m->access, &m->config);
        m->config_must_exist = config_must_exist;
        m->use_dropins = use_dropins;
        if (config_file) {
                m->config_file = strdup(config_file);
                if (!m->config_file)
                        return -ENOMEM;
        }

        test_hooks_load(&m->test_hooks);
        m->connector_list_path = m->test_hooks.connector_list ?: CONNECTOR_LIST_PATH;

        m->reopen_limit = RATELIMIT_INIT(REOPEN_INTERVAL_USEC, REOPEN_BURST);
        m->log_rejected = RATELIMIT_INIT(10 * USEC_PER_SEC, 10);
        m->log_netlink_error = RATELIMIT_INIT(10 * USEC_PER_SEC, 10);
        m->send_seq = (uint32_t) getpid() << 16; /* distinct from a previous instance's */
        m->bus_ids = (BusIds) { .ids = &m->ids, .loss = &m->loss };
        relay_turn_init(&m->relay_turn, &m->netlink_source, RELAY_TURN_EVERY);
        manager_fill_bus_manager(m);
        idtable_init(&m->ids, m->config.max_unregistered_ids, &id_events, m);

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        (void) sd_event_set_watchdog(m->event, true);
        request_table_init(&m->requests, m->event, m->config.max_pending_requests);
        streams_init(&m->streams, m->event, &m->config);

        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_sigterm, m);
        if (r < 0)
                return r;
        r = sd_event_add_signal(m->event, NULL, SIGINT, on_sigterm, m);
        if (r < 0)
                return r;
        r = sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m);
        if (r < 0)
                return r;

        r = sd_event_add_time(m->event, &m->scan_timer, CLOCK_MONOTONIC, 0, 0, on_scan_timer, m);
        if (r < 0)
                return r;
        r = sd_event_add_time(m->event, &m->rescan_timer, CLOCK_MONOTONIC, 0, 0, on_rescan_timer, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->rescan_timer, SD_EVENT_OFF);

        r = loss_init(&m->loss, m->event, bus_manager_emit_overrun, &m->bus_manager);
        if (r < 0)
                return r;
        loss_set_limits(&m->loss, m->config.max_queued_signals, m->config.max_queued_bytes);
        batcher_init(&m->batcher, &m->loss);
        m->families = (FamilyContext) {
                .event = m->event,
                .loss = &m->loss,
                .config = &m->config,
                .ids = &m->ids,
                .groups = &m->groups,
                .access = &m->access,
                .streams = &m->streams,
                .log_rejected = &m->log_rejected,
                .test_hooks = &m->test_hooks,
                .ops = &family_ops,
                .userdata = m,
        };
        m->relay = (Relay) {
                .netlink = &m->netlink,
                .loss = &m->loss,
                .ids = &m->ids,
                .batcher = &m->batcher,
                .requests = &m->requests,
                .families = &m->families,
                .bus_ids = &m->bus_ids,
                .streams = &m->streams,
                .config = &m->config,
                .test_hooks = &m->test_hooks,
                .log_rejected = &m->log_rejected,
                .log_netlink_error = &m->log_netlink_error,
                .turn = &m->relay_turn,
                .ops = &relay_ops,
                .userdata = m,
        };
        r = families_init(&m->families);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

static int on_bus_disconnected(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        /* Unless cnd itself is leaving, the bus went away or closed cnd's connection: dbus-broker
         * does that to a peer that goes over its quota, e.g. behind a subscriber that stalled. */
        if (m->stopped)
                return 0;
        log_error("The system bus closed cnd's connection (the bus stopped, or dropped cnd, "
                  "e.g. for going over its quota); exiting so that the service is restarted.");
        return sd_event_exit(m->event, EXIT_FAILURE);
}

static int connect_bus(Manager *m) {
        int r;

        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        m->families.bus = m->bus;
        m->bus_ids.bus = m->bus;
        m->bus_manager.bus = m->bus;
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        /* Losing the bus ends the event loop with a failure, so the service manager restarts
         * us instead of leaving a daemon nobody can reach; on_bus_disconnected() says why first.
         * A match on the local Disconnected signal stays in sd-bus, it is not sent to the bus. */
        r = sd_bus_match_signal(m->bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_bus_disconnected, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch for the bus connection's end: %m");
        /* cnd closes the bus itself, after it has answered what waits (manager_stop()). */
        r = sd_bus_set_close_on_exit(m->bus, false);
        if (r < 0)
                return log_error_errno(r, "Failed to keep the bus open at exit: %m");

        loss_set_bus(&m->loss, m->bus);
        /* First: the limiter's filter consumes the calls it refuses, and those count too. */
        r = relay_turn_attach(&m->relay_turn, m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to count the bus's messages: %m");
        if (!m->call_limiter) {
                r = call_limiter_new(&m->call_limiter, m->event);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up call limits: %m");
        }
        r = call_limiter_attach(m->call_limiter, m->bus, &m->access);
        if (r < 0)
                return log_error_errno(r, "Failed to set up call limits: %m");
        return manager_bus_objects_setup(m);
}

static int open_netlink(Manager *m) {
        int r;

        r = netlink_open(&m->netlink, m->config.receive_buffer_bytes);
        if (r < 0)
                return log_error_errno(r, "Failed to open the connector socket: %m%s",
                                       r == -EPROTONOSUPPORT ? NO_CONNECTOR_HINT : "");
        r = sd_event_add_io(m->event, &m->netlink_source, netlink_get_fd(m->netlink), EPOLLIN,
                            relay_on_netlink_io, &m->relay);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the connector socket: %m");
        loss_attach_socket(&m->loss, m->netlink, m->netlink_source);
        r = sd_event_source_set_priority(m->netlink_source, NETLINK_SOURCE_PRIORITY);
        /* A new socket starts below the bus, its turn not yet due. */
        relay_turn_taken(&m->relay_turn);
        return r;
}

int manager_reopen_netlink(Manager *m, int error) {
        uint32_t groups = m->groups;
        unsigned suppressed;
        int r;

        log_error_errno(error, "Failed to read from the connector socket: %m");
        if (!ratelimit_below(&m->reopen_limit, &suppressed)) {
                log_error("The connector socket keeps failing; giving up.");
                return sd_event_exit(m->event, EXIT_FAILURE);
        }

        /* Best effort on the old socket, as if its groups were left: an older kernel's cn_proc
         * listener count must not leak. */
        for (unsigned g = 1; g <= CND_GROUP_MAX; g++)
                if (groups & GROUP_BIT(g))
                        FAMILIES_CALL(&m->families, leaving, g);
        loss_detach_socket(&m->loss);
        m->netlink_source = sd_event_source_disable_unref(m->netlink_source);
        m->netlink = netlink_free(m->netlink);
        m->groups = 0;

        r = open_netlink(m);
        if (r < 0)
                return sd_event_exit(m->event, EXIT_FAILURE);
        log_notice("Opened a new connector socket; joining group(s) again.");
        apply_groups(m, groups);
        FAMILIES_CALL(&m->families, subscribe);
        return 0;
}

static int on_socket_pause_end(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        log_notice("Test hook: reading the connector socket again.");
        return sd_event_source_set_enabled(m->netlink_source, SD_EVENT_ON);
}

int manager_startup(Manager *m) {
        int r;

        r = connect_bus(m);
        if (r < 0)
                return r;
        r = open_netlink(m);
        if (r < 0)
                return r;
        if (m->test_hooks.pause_socket_usec > 0) {
                log_notice("Test hook: leaving the connector socket unread for %lu us.",
                           m->test_hooks.pause_socket_usec);
                (void) sd_event_source_set_enabled(m->netlink_source, SD_EVENT_OFF);
                r = sd_event_add_time_relative(m->event, NULL, CLOCK_MONOTONIC, m->test_hooks.pause_socket_usec,
                                               1, on_socket_pause_end, m);
                if (r < 0)
                        return r;
        }
        /* Outside the initial network namespace the socket opens and joins, but the kernel's
         * connector is not there: nothing would ever arrive. */
        if (access(m->connector_list_path, F_OK) < 0)
                return log_error_errno(errno, "No kernel connector here (%s: %m)%s",
                                       m->connector_list_path, NO_CONNECTOR_HINT);

        apply_groups(m, configured_groups(&m->config));
        (void) manager_scan_ids(m);
        FAMILIES_CALL(&m->families, subscribe);
        (void) setup_scan_timer(m);

        /* Last: whoever sees the name appear finds everything in place. */
        r = sd_bus_request_name(m->bus, CND_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire bus name " CND_BUS_NAME ": %m%s",
                                       r == -EACCES ? ". The bus's policy does not let this user own it: "
                                       "is org.cnd.Connector1.conf installed in the bus's system.d, and the "
                                       "bus reloaded since?" : "");

        log_info("cnd " PACKAGE_VERSION " running.");
        notify_ready(m);
        return 0;
}

int manager_run(Manager *m) {
        return sd_event_loop(m->event);
}

/* Writes out what the bus still has queued, for at most timeout_usec: a bus that has stopped
 * reading cnd (dbus-daemon behind a stalled subscriber) must not keep it from exiting. */
static void flush_bus(Manager *m, uint64_t timeout_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec, queued = 0, now;
        int r;

        for (;;) {
                if (sd_bus_get_n_queued_write(m->bus, &queued) < 0 || queued == 0)
                        return;
                now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline) {
                        log_warning("The bus did not take %" PRIu64 " last message(s); leaving them.", queued);
                        return;
                }
                r = sd_bus_process(m->bus, NULL);
                if (r < 0)
                        return;
                if (r == 0)
                        (void) sd_bus_wait(m->bus, deadline - now);
        }
}

/* Before the bus goes: answers waiting Request calls, lets the families undo their
 * subscriptions, leaves every group (so that cn_proc gets its IGNORE), and flushes the bus.
 * Runs once. */
static void manager_stop(Manager *m) {
        if (m->stopped)
                return;
        m->stopped = true;

        request_table_done(&m->requests);
        /* Every client of a stream reads its end now. */
        streams_done(&m->streams);
        if (m->netlink) {
                FAMILIES_CALL(&m->families, unsubscribe);
                apply_groups(m, 0);
        }
        if (m->bus)
                flush_bus(m, 5 * USEC_PER_SEC);
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        manager_stop(m);

        sd_event_source_disable_unref(m->netlink_source);
        sd_event_source_disable_unref(m->scan_timer);
        sd_event_source_disable_unref(m->rescan_timer);

        request_table_done(&m->requests);
        access_checks_done(&m->access);
        call_limiter_free(m->call_limiter);
        families_done(&m->families);
        streams_done(&m->streams);
        /* The table goes quietly: no signals for objects of a daemon that is leaving. */
        batcher_done(&m->batcher);
        idtable_done(&m->ids);
        loss_done(&m->loss);
        netlink_free(m->netlink);
        sd_bus_close_unref(m->bus);
        sd_event_unref(m->event);

        config_done(&m->config);
        free(m->config_file);
        return mfree(m);
}
