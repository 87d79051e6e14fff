/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <linux/cn_proc.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "../kernel/cnfeed.h"
#include "cnmsg.h"
#include "manager.h"
#include "notify.h"

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
        (void) bus_id_emit_added(userdata, id);
}

static void on_id_destroyed(CnId *id, void *userdata) {
        bus_id_batch_free(userdata, id);
        (void) bus_id_emit_removed(userdata, id);
}

static void on_id_registered(CnId *id, void *userdata) {
        Manager *m = userdata;

        log_debug("Connector id %u:%u (%s) registered.", id->idx, id->val, id->name);
        (void) bus_manager_emit_id_added(m, id);
        (void) bus_id_emit_registration_changed(m, id);
}

static void on_id_unregistered(CnId *id, void *userdata) {
        Manager *m = userdata;

        log_debug("Connector id %u:%u (%s) unregistered.", id->idx, id->val, id->name);
        (void) bus_manager_emit_id_removed(m, id);
        (void) bus_id_emit_registration_changed(m, id);
}

static void on_id_named(CnId *id, void *userdata) {
        (void) bus_id_emit_registration_changed(userdata, id);
}

static const IdTableEvents id_events = {
        .named = on_id_named,
        .created = on_id_created,
        .destroyed = on_id_destroyed,
        .registered = on_id_registered,
        .unregistered = on_id_unregistered,
};

/* Scanning /proc/net/connector. */

static int read_connector_list(const char *path, char **ret, size_t *ret_size) {
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(closep) int fd = -1;
        size_t size = 0, allocated = 4096;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;

        buf = malloc(allocated);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;

                if (size == allocated) {
                        char *b;

                        if (allocated >= CONNECTOR_LIST_MAX)
                                return -EFBIG;
                        b = realloc(buf, allocated * 2);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        allocated *= 2;
                }
                n = read(fd, buf + size, allocated - size);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                size += (size_t) n;
        }

        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int manager_scan_ids(Manager *m) {
        _cleanup_(freep) ConnectorEntry *entries = NULL;
        _cleanup_(freep) char *text = NULL;
        size_t size = 0, n = 0;
        unsigned n_bad = 0;
        int r;

        m->last_scan_usec = manager_now_usec(m);

        r = read_connector_list(m->connector_list_path, &text, &size);
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
                (void) bus_manager_emit_ids_changed(m);

        /* Every time, not only when {-1,-1} appears: a notification service unloaded and loaded
         * again between two scans has forgotten our request. It ignores one it holds already. */
        for (size_t i = n; i > 0; i--)
                if (entries[i - 1].idx == CNFEED_NOTIFY_IDX && entries[i - 1].val == CNFEED_NOTIFY_VAL) {
                        notify_subscribe(m);
                        break;
                }
        return r < 0 ? log_oom() : 0;
}

bool manager_id_registered(Manager *m, uint32_t idx, uint32_t val) {
        const CnId *id;

        (void) manager_scan_ids(m);
        id = idtable_find(&m->ids, idx, val);
        return id && id->registered;
}

static int on_scan_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) manager_scan_ids(m);
        /* From now, not from when it was due: after a stall, one scan, not a burst of them. */
        return sd_event_source_set_time(s, manager_now_usec(m) + m->config.scan_interval_usec);
}

static int on_rescan_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return manager_scan_ids(userdata);
}

void manager_request_rescan(Manager *m) {
        int enabled = SD_EVENT_OFF;

        (void) sd_event_source_get_enabled(m->rescan_timer, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;
        (void) sd_event_source_set_time(m->rescan_timer,
                                        MAX(manager_now_usec(m), m->last_scan_usec + RESCAN_MIN_INTERVAL_USEC));
        (void) sd_event_source_set_enabled(m->rescan_timer, SD_EVENT_ONESHOT);
}

static int setup_scan_timer(Manager *m) {
        if (m->config.scan_interval_usec == 0)
                return sd_event_source_set_enabled(m->scan_timer, SD_EVENT_OFF);
        (void) sd_event_source_set_time(m->scan_timer, manager_now_usec(m) + m->config.scan_interval_usec);
        return sd_event_source_set_enabled(m->scan_timer, SD_EVENT_ON);
}

/* Groups and cn_proc subscription. */

int manager_send(Manager *m, uint32_t idx, uint32_t val, const void *data, size_t size,
                 uint32_t *ret_seq, uint32_t *ret_ack) {
        uint32_t seq = m->send_seq++, ack = arc4random();
        int r;

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

        if (group == CN_IDX_PROC)
                proc_listen(m);

        (void) bus_manager_emit_groups_changed(m);
        return 1;
}

int manager_leave_group(Manager *m, unsigned group) {
        int r;

        if (group < 1 || group > CND_GROUP_MAX)
                return -EINVAL;
        if (!(m->groups & GROUP_BIT(group)))
                return 0;

        /* Before leaving, while the socket still counts as a cn_proc listener. */
        if (group == CN_IDX_PROC)
                proc_ignore(m);

        r = netlink_leave_group(m->netlink, group);
        if (r < 0)
                return log_warning_errno(r, "Failed to leave connector group %u: %m", group);
        m->groups &= ~GROUP_BIT(group);
        log_info("Left connector group %u.", group);

        (void) bus_manager_emit_groups_changed(m);
        return 1;
}

static void apply_groups(Manager *m, uint32_t wanted) {
        for (unsigned g = 1; g <= CND_GROUP_MAX; g++) {
                if ((wanted & GROUP_BIT(g)) && !(m->groups & GROUP_BIT(g)))
                        (void) manager_join_group(m, g);
                else if (!(wanted & GROUP_BIT(g)) && (m->groups & GROUP_BIT(g)))
                        (void) manager_leave_group(m, g);
        }
}

/* The groups the configuration asks for: Groups= and the notification group. */
static uint32_t configured_groups(const Config *c) {
        return c->groups | (c->notify_group ? GROUP_BIT(c->notify_group) : 0);
}

static void apply_notify_group(Manager *m) {
        if (m->notify_group == m->config.notify_group)
                return;
        notify_unsubscribe(m);
        m->notify_group = m->config.notify_group;
        notify_subscribe(m);
}

/* Status, reload and shutdown. */

static void notify_status(Manager *m, const char *prefix) {
        char failed[CND_GROUP_MAX * 4 + 64] = "";
        size_t n = 0;

        for (unsigned g = 1; g <= CND_GROUP_MAX; g++)
                if (m->failed_groups & GROUP_BIT(g))
                        n += (size_t) snprintf(failed + n, sizeof(failed) - n, "%s%u",
                                               n == 0 ? " Could not join group(s) " : " ", g);
        if (n > 0)
                snprintf(failed + n, sizeof(failed) - n, ".");

        (void) sd_notifyf(false, "%sSTATUS=Relaying %u connector group(s), %zu id(s) known.%s%s%s",
                          prefix, (unsigned) __builtin_popcount(m->groups), m->ids.n, failed,
                          m->proc.error[0] ? " " : "", m->proc.error);
}

void manager_notify_status(Manager *m) {
        notify_status(m, "");
}

/* READY=1 and the status in one message, so that whoever sees one sees both. */
static void notify_ready(Manager *m) {
        notify_status(m, "READY=1\n");
}

int manager_reload(Manager *m, char **error) {
        uint32_t added, dropped, kept, wanted, old_proc_events;
        Config new;
        int r;

        (void) sd_notify(false, "RELOADING=1\nSTATUS=Reloading configuration...");

        r = config_load(&new, m->config_file, m->config_must_exist,
                        m->use_dropins ? CND_DROPIN_DIRS : NULL, error);
        if (r < 0) {
                log_error("Keeping the old configuration, the new one is invalid: %s", *error);
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

        old_proc_events = m->config.proc_events;
        config_done(&m->config);
        m->config = new;

        idtable_set_max_unregistered(&m->ids, m->config.max_unregistered_ids);
        m->requests.max = m->config.max_pending_requests;
        (void) netlink_set_receive_buffer(m->netlink, m->config.receive_buffer_bytes);
        apply_groups(m, wanted);
        apply_notify_group(m);
        (void) setup_scan_timer(m);

        if (m->config.proc_events != old_proc_events)
                proc_events_changed(m);

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

int manager_new(Manager **ret, const char *config_file, bool config_must_exist, bool use_dropins,
                Config *config) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;

        m->config = *config;
        *config = (Config) {};
        m->config_must_exist = config_must_exist;
        m->use_dropins = use_dropins;
        if (config_file) {
                m->config_file = strdup(config_file);
                if (!m->config_file)
                        return -ENOMEM;
        }

        /* Test hook: connector ids cannot be registered on a kernel without modules, so the
         * host's tests hand cnd a file of their own in the format of /proc/net/connector. */
        m->connector_list_path = secure_getenv("CND_TEST_CONNECTOR_LIST") ?: CONNECTOR_LIST_PATH;
        if (!streq(m->connector_list_path, CONNECTOR_LIST_PATH))
                log_notice("Test hook: reading connector ids from %s.", m->connector_list_path);

        /* Test hook: the kernel answers an unknown op with an error ack, the one way to see
         * cnd handle one for real (a LISTEN without CAP_NET_ADMIN cannot even join group 1). */
        if (secure_getenv("CND_TEST_PROC_LISTEN_OP"))
                m->proc.test_listen_op = (uint32_t) strtoul(secure_getenv("CND_TEST_PROC_LISTEN_OP"), NULL, 0);

        /* Test hook: the Nth read of the connector socket fails as a broken socket would. */
        if (secure_getenv("CND_TEST_NETLINK_READ_FAULT"))
                m->test_read_fault = strtoul(secure_getenv("CND_TEST_NETLINK_READ_FAULT"), NULL, 0);

        m->reopen_limit = RATELIMIT_INIT(REOPEN_INTERVAL_USEC, REOPEN_BURST);
        m->log_rejected = RATELIMIT_INIT(10 * USEC_PER_SEC, 10);
        m->log_netlink_error = RATELIMIT_INIT(10 * USEC_PER_SEC, 10);
        m->log_bus_dropped = RATELIMIT_INIT(10 * USEC_PER_SEC, 1);
        m->send_seq = (uint32_t) getpid() << 16; /* distinct from a previous instance's */
        idtable_init(&m->ids, m->config.max_unregistered_ids, &id_events, m);

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        (void) sd_event_set_watchdog(m->event, true);
        request_table_init(&m->requests, m->event, m->config.max_pending_requests);

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
        r = sd_event_add_time(m->event, &m->overrun_timer, CLOCK_MONOTONIC, 0, 0, relay_on_overrun_timer, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->overrun_timer, SD_EVENT_OFF);
        r = sd_event_add_post(m->event, &m->drain_check, relay_on_post, m);
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

        return bus_objects_setup(m);
}

static int open_netlink(Manager *m) {
        int r;

        r = netlink_open(&m->netlink, m->config.receive_buffer_bytes);
        if (r < 0)
                return log_error_errno(r, "Failed to open the connector socket: %m%s",
                                       r == -EPROTONOSUPPORT ? NO_CONNECTOR_HINT : "");
        /* KernelDroppedMessages goes on across sockets: count from this one's start. */
        m->kernel_drops_raw = 0;
        manager_update_kernel_drops(m);

        /* Below the bus (normal priority): under a flood, method calls are still served. */
        r = sd_event_add_io(m->event, &m->netlink_source, netlink_get_fd(m->netlink), EPOLLIN,
                            relay_on_netlink_io, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the connector socket: %m");
        if (m->bus_congested)
                (void) sd_event_source_set_enabled(m->netlink_source, SD_EVENT_OFF);
        return sd_event_source_set_priority(m->netlink_source, SD_EVENT_PRIORITY_NORMAL + 10);
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

        /* Best effort on the old socket: an older kernel's listener count must not leak. */
        if (groups & GROUP_BIT(CN_IDX_PROC))
                proc_ignore(m);
        manager_update_kernel_drops(m);
        m->netlink_source = sd_event_source_disable_unref(m->netlink_source);
        m->netlink = netlink_free(m->netlink);
        m->groups = 0;

        r = open_netlink(m);
        if (r < 0)
                return sd_event_exit(m->event, EXIT_FAILURE);
        log_notice("Opened a new connector socket; joining group(s) again.");
        apply_groups(m, groups);
        notify_subscribe(m);
        return 0;
}

int manager_startup(Manager *m) {
        int r;

        r = connect_bus(m);
        if (r < 0)
                return r;
        r = open_netlink(m);
        if (r < 0)
                return r;
        /* Outside the initial network namespace the socket opens and joins, but the kernel's
         * connector is not there: nothing would ever arrive. */
        if (access(m->connector_list_path, F_OK) < 0)
                return log_error_errno(errno, "No kernel connector here (%s: %m)%s",
                                       m->connector_list_path, NO_CONNECTOR_HINT);

        apply_groups(m, configured_groups(&m->config));
        (void) manager_scan_ids(m);
        apply_notify_group(m);
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
        uint64_t deadline, queued = 0, now;
        struct timespec ts;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        deadline = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000 + timeout_usec;
        for (;;) {
                if (sd_bus_get_n_queued_write(m->bus, &queued) < 0 || queued == 0)
                        return;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                now = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
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

/* Before the bus goes: answers waiting Request calls, removes the notification request, leaves
 * every group (so that cn_proc gets its IGNORE), and flushes the bus. Runs once. */
static void manager_stop(Manager *m) {
        if (m->stopped)
                return;
        m->stopped = true;

        request_table_done(&m->requests);
        if (m->netlink) {
                notify_unsubscribe(m);
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
        sd_event_source_disable_unref(m->overrun_timer);
        sd_event_source_disable_unref(m->drain_check);

        request_table_done(&m->requests);
        bus_access_done(m);
        proc_state_done(&m->proc);
        /* The table goes quietly: no signals for objects of a daemon that is leaving. */
        for (size_t i = 0; i < m->ids.n; i++)
                bus_id_batch_release(m->ids.ids[i]);
        free(m->batch_pending);
        free(m->queue_weight.sizes);
        idtable_done(&m->ids);
        netlink_free(m->netlink);
        sd_bus_close_unref(m->bus);
        sd_event_unref(m->event);

        config_done(&m->config);
        free(m->config_file);
        return mfree(m);
}
