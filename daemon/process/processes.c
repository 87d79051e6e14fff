/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The process table and what feeds it: see processes.h. */

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "event-util.h"
#include "process-journal.h"
#include "processes.h"
#include "unit-path.h"

/* Losses within this long make one resync. */
#define RESYNC_DELAY_USEC (50 * USEC_PER_MSEC)
/* A resync waits for the queued events this many times RESYNC_DELAY_USEC at most. */
#define RESYNC_POSTPONE_MAX 20U
/* What a table that pid_max cannot be read for is bounded by: the kernel's own limit. */
#define PID_MAX_LIMIT (4U * 1024U * 1024U)

/* An event held in the queue (processes.h), with the read it waits for. */
struct PendingEvent {
        PendingEvent *next;
        Processes *processes;
        ProcEvent event;
        bool may_signal;
        bool needs_read;                /* `read` is the event's */
        bool read_done;                 /* nothing (more) to wait for */
        size_t size;                    /* charged to Processes.queue_strings */
        unsigned generation;
        ProcessReadRequest read;
};

uint32_t processes_wanted_kinds(const Config *c) {
        uint32_t kinds = c->journal_events;

        if (c->processes_enabled)
                kinds |= (UINT32_C(1) << PROC_KIND_FORK) | (UINT32_C(1) << PROC_KIND_EXEC) |
                         (UINT32_C(1) << PROC_KIND_EXIT);
        return kinds;
}

void processes_init(Processes *ps, sd_event *event, const Config *config, Loss *loss, Streams *streams,
                    size_t queue_max, const ProcessesOps *ops, void *userdata) {
        unsigned pid_max = 0;

        ps->event = event;
        ps->config = config;
        ps->loss = loss;
        ps->streams = streams;
        ps->ops = ops;
        ps->userdata = userdata;
        if (process_read_pid_max(&pid_max) < 0 || pid_max == 0 || pid_max > PID_MAX_LIMIT)
                pid_max = PID_MAX_LIMIT;
        process_table_init(&ps->table, pid_max);
        ps->table_strings = (StringBudget) { .max = PROCESS_STRINGS_MAX - PROCESS_QUEUE_BYTES_MAX };
        ps->queue_strings = (StringBudget) { .max = PROCESS_QUEUE_BYTES_MAX };
        process_journal_init(&ps->journal, event);
        ps->queue_max = queue_max ?: PROCESS_QUEUE_MAX;
        /* Without systemd as PID 1 no process has a unit: none is looked for in the paths, and
         * no machine's link read. */
        if (sd_booted() <= 0)
                ps->read_flags |= PROCESS_READ_NO_UNIT;
        else
                (void) unit_root_get(NULL);     /* PID 1's cgroup, read once for every unit */
}

/* A step's reads still in flight come back for a scan no longer going: they are dropped. */
static void scan_stop(Processes *ps) {
        ps->scan_generation++;
        ps->scan_source = sd_event_source_disable_unref(ps->scan_source);
        ps->pending = mfree(ps->pending);
        ps->n_pending = ps->next_pending = 0;
}

/* The scan stopped for good (read whole, or the table emptied): whoever waited is told. */
static void scan_end(Processes *ps) {
        scan_stop(ps);
        if (ps->ops->scanned)
                ps->ops->scanned(ps);
}

bool processes_scanning(const Processes *ps) {
        return ps->scan_source;
}

uint64_t processes_string_bytes(const Processes *ps) {
        return (uint64_t) ps->table_strings.used + ps->queue_strings.used;
}

uint64_t processes_strings_cut(const Processes *ps) {
        return ps->table_strings.n_cut;
}

uint64_t processes_strings_stripped(const Processes *ps) {
        return ps->table_strings.n_stripped + ps->queue_strings.n_stripped;
}

static void queue_free(Processes *ps) {
        for (PendingEvent *p; (p = ps->queue_head);) {
                ps->queue_head = p->next;
                process_info_free(p->read.info);
                free(p);
        }
        ps->queue_tail = NULL;
        ps->n_queued = 0;
        ps->queue_strings.used = 0;
}

static void scan_step_free(Processes *ps) {
        for (size_t i = 0; i < ps->n_step; i++)
                ps->step[i].read.info = process_info_free(ps->step[i].read.info);
        ps->n_step = ps->step_in_flight = 0;
}

void processes_done(Processes *ps) {
        /* The threads first: they may be reading for a queued event or a scan. */
        ps->reader = process_reader_free(ps->reader);
        queue_free(ps);
        scan_step_free(ps);
        scan_stop(ps);
        ps->resync_timer = sd_event_source_disable_unref(ps->resync_timer);
        process_table_done(&ps->table);
        process_journal_done(&ps->journal);
}

/* The arguments are read for the bus or for the journal; each shows them only if its own
 * Arguments= says so (bus-processes.c, process-journal.c). */
static ProcessReadFlags read_flags(Processes *ps) {
        const Config *c = ps->config;

        return ps->read_flags | (c->processes_arguments || c->journal_arguments ? 0 : PROCESS_READ_NO_ARGV);
}

static uint64_t now_nsec(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

/* The journal (process-journal.c), which counts what it loses. */

static void journal_write(Processes *ps, const ProcEvent *ev, const ProcessEntry *e, pid_t pid, int32_t exit_code,
                          int32_t exit_signal, uint64_t runtime_ns) {
        (void) process_journal_write(&ps->journal, ps->config, ev, e, pid, exit_code, exit_signal, runtime_ns);
}

/* Signals and stream records. Streams do not wait for the bus: they get their records whether
 * or not signals may go out. */

/* What a stream record says of where e runs; nothing without e. */
static StreamProcess *with_where(StreamProcess *p, const ProcessEntry *e) {
        if (e) {
                p->user_unit = e->where.user_unit;
                p->machine = e->where.machine;
                p->container = e->where.container;
                p->pid_namespace = e->where.pid_namespace;
                p->mount_namespace = e->where.mount_namespace;
                p->namespace_pid = e->where.namespace_pid;
        }
        return p;
}

static void emit_started(Processes *ps, const ProcessEntry *e, uint64_t timestamp_ns, bool may_signal) {
        if (may_signal)
                ps->ops->started(ps, e, timestamp_ns);
        if (ps->streams)
                streams_process(ps->streams, CND_RECORD_PROCESS_STARTED, with_where(&(StreamProcess) {
                        .pid = (uint32_t) e->pid, .ppid = (uint32_t) e->ppid, .uid = (uint32_t) e->uid,
                        .exit_code = -1, .exit_signal = -1,
                        .start_time = e->start_time, .timestamp_ns = timestamp_ns,
                        .exe = e->exe, .unit = e->unit, .cgroup = e->cgroup,
                        .argv = ps->config->processes_arguments ? e->argv : NULL,
                }, e));
}

static void emit_exited(Processes *ps, const ProcessEntry *e, pid_t pid, pid_t ppid, int32_t exit_code,
                        int32_t exit_signal, bool core_dumped, uint64_t runtime_ns, uint64_t timestamp_ns,
                        bool may_signal) {
        if (may_signal)
                ps->ops->exited(ps, e, pid, ppid, exit_code, exit_signal, core_dumped, runtime_ns, timestamp_ns);
        if (ps->streams)
                streams_process(ps->streams, CND_RECORD_PROCESS_EXITED, with_where(&(StreamProcess) {
                        .pid = (uint32_t) pid, .ppid = (uint32_t) ppid, .uid = e ? (uint32_t) e->uid : UINT32_MAX,
                        .exit_code = exit_code, .exit_signal = exit_signal, .core_dumped = core_dumped,
                        .start_time = e ? e->start_time : 0, .timestamp_ns = timestamp_ns,
                        .runtime_ns = runtime_ns, .exe = e ? e->exe : NULL, .unit = e ? e->unit : NULL,
                        .cgroup = e ? e->cgroup : NULL,
                }, e));
}

/* An entry that left the table without its exit event: exited, status unknown. */
static void emit_gone(Processes *ps, const ProcessEntry *e, bool may_signal) {
        uint64_t now = now_nsec(CLOCK_MONOTONIC);

        emit_exited(ps, e, e->pid, e->ppid, -1, -1, false, e->start_ns && now > e->start_ns ? now - e->start_ns : 0,
                    0, may_signal);
}

/* Puts e in the table; a reused pid's old entry is reported gone. Returns e if it went in. */
static ProcessEntry *table_put(Processes *ps, ProcessEntry *e, bool may_signal) {
        _cleanup_(process_entry_freep) ProcessEntry *old = NULL;
        int r;

        r = process_table_put(&ps->table, e, &old);
        if (r < 0)
                return NULL;
        if (r == PROCESS_TABLE_REPLACED)
                emit_gone(ps, old, may_signal);
        return e;
}

/* An entry of what was read, its strings charged to the table's budget, or its parent's if they
 * are the same (a process a scan finds, forked from another and running the same program). */
static int entry_from_info(Processes *ps, const ProcessInfo *info, ProcessEntry **ret) {
        const ProcessEntry *parent = info->ppid > 0 ? process_table_find(&ps->table, info->ppid) : NULL;

        return process_entry_new_from_info(info, &ps->table_strings, parent ? parent->strings : NULL, ret);
}

/* Reads pid and makes an entry of it, whatever could be read, in the event loop: so all but its
 * command line, which could hold the loop (process-info.h). */
static ProcessEntry *read_entry_now(Processes *ps, pid_t pid) {
        _cleanup_(process_info_freep) ProcessInfo *info = NULL;
        ProcessEntry *e = NULL;

        if (process_info_read(pid, read_flags(ps) | PROCESS_READ_NO_ARGV, &info) < 0)
                return NULL;
        if (entry_from_info(ps, info, &e) < 0)
                return NULL;
        return e;
}

/* An event from before the last resync's scan, which has reported its outcome already. */
static bool stale(const Processes *ps, const ProcEvent *ev) {
        return ev->timestamp_ns < ps->resync_ns;
}

/* A Started without exe, or whose command line cnd gave up reading (process-reader.h): the
 * process held its memory's lock past the deadline, too many reading threads were stuck, or no
 * thread could be had. */
static bool counts_unresolved(const ProcessInfo *info, const ProcessEntry *e) {
        int cmdline = info->error[PROCESS_FIELD_CMDLINE];

        return !e->exe || !e->exe[0] || cmdline == -ETIMEDOUT || cmdline == -EBUSY || cmdline == -EAGAIN;
}

/* read: the process's details, read as the event arrived (and the rest since). */
static void on_exec(Processes *ps, const ProcEvent *ev, bool may_signal, ProcessReadRequest *read) {
        _cleanup_(process_info_freep) ProcessInfo *info = TAKE_PTR(read->info);
        _cleanup_(process_entry_freep) ProcessEntry *whole = NULL;
        uint64_t stripped = ps->table_strings.n_stripped;
        pid_t pid = (pid_t) ev->exec.tgid;
        const ProcessEntry *told;
        ProcessEntry *e = NULL;
        bool reaped;

        if (ps->active && stale(ps, ev) && process_table_find(&ps->table, pid))
                return;
        if (!info || read->result < 0 || entry_from_info(ps, info, &e) < 0)
                return;
        /* The table's budget is shared by every user's processes: one user who filled it must not
         * hide what others run. What is told now (Started, streams, the journal) comes whole
         * (capped), charged to nothing and freed at once; only the table's copy lacks strings. */
        if (ps->table_strings.n_stripped != stripped)
                (void) process_entry_new_from_info(info, NULL, NULL, &whole);
        told = whole ?: e;
        /* Gone for good: its exit event follows (or was lost), and no entry must outlive it. */
        reaped = info->exited && (info->unresolved & PROCESS_FIELD_BIT(PROCESS_FIELD_STAT));
        if (ps->active && reaped && stale(ps, ev)) {
                process_entry_free(e);
                return;
        }
        if (counts_unresolved(info, told))
                ps->unresolved++;
        if (!ps->config->processes_enabled) {
                journal_write(ps, ev, told, pid, 0, 0, 0);
                process_entry_free(e);
                return;
        }
        emit_started(ps, told, ev->timestamp_ns, may_signal);
        journal_write(ps, ev, told, pid, 0, 0, 0);
        if (reaped)
                process_entry_free(e);
        else
                (void) table_put(ps, e, may_signal);
}

static bool is_new_process(const ProcEvent *ev) {
        return ev->kind == PROC_KIND_FORK && ev->fork.child_pid == ev->fork.child_tgid;   /* not a thread */
}

/* A new process: its parent, which it is until it execs, sharing its parent's strings. read: the child's start
 * time, read as the event arrived. */
static void on_fork(Processes *ps, const ProcEvent *ev, bool may_signal, const ProcessReadRequest *read) {
        pid_t parent = (pid_t) ev->fork.parent_tgid, child = (pid_t) ev->fork.child_pid;
        _cleanup_(process_entry_freep) ProcessEntry *e = NULL;
        const ProcessEntry *p;

        if (!is_new_process(ev))
                return;
        if (stale(ps, ev) && process_table_find(&ps->table, child))
                return;
        if (read->result < 0)
                return;         /* gone already: its exit event follows, and finds no entry */
        p = process_table_find(&ps->table, parent);
        if (!p) {
                /* A parent the table does not know (its exec came before the scan): read it here,
                 * as rare as that is, but for its arguments. */
                e = read_entry_now(ps, child);
                if (e)
                        (void) table_put(ps, TAKE_PTR(e), may_signal);
                return;
        }
        /* The process read has the child's pid but started after the event: the child is gone
         * and its pid taken. Its exit event follows (or came); no entry must outlive it. */
        if (process_start_time_to_monotonic_ns(read->start_time) > ev->timestamp_ns)
                return;
        e = process_entry_new(child, read->start_time);
        if (!e)
                return;
        e->start_ns = process_start_time_to_monotonic_ns(read->start_time);
        e->ppid = parent;
        e->uid = p->uid;
        /* Its namespaces are its parent's as they were read (a child made in new ones shows them
         * once it runs a program); its pid in its own namespace is unknown. */
        process_entry_set_strings(e, process_strings_ref(p->strings));
        e->where.pid_namespace = p->where.pid_namespace;
        e->where.mount_namespace = p->where.mount_namespace;
        (void) table_put(ps, TAKE_PTR(e), may_signal);
}

/* pid exited while a scan's step was being read: the step's read of it may have been made before
 * the exit, and must not put in the table an entry that its exit event has come for already
 * (scan_found() looks again at one whose start time is within the tick of the exit). */
static void scan_step_exited(Processes *ps, pid_t pid, uint64_t timestamp_ns) {
        for (size_t i = 0; i < ps->n_step; i++) {
                ScanRead *sr = &ps->step[i];

                if (sr->key.pid == pid && process_start_time_to_monotonic_ns(sr->key.start_time) <= timestamp_ns)
                        sr->exited = true;
        }
}

static void on_exit_event(Processes *ps, const ProcEvent *ev, bool may_signal) {
        pid_t pid = (pid_t) ev->exit.tgid;
        _cleanup_(process_entry_freep) ProcessEntry *e = NULL;
        const ProcessEntry *found;
        int32_t code, sig;
        bool core;
        uint64_t runtime = 0;

        if (ev->exit.pid != ev->exit.tgid)
                return;         /* a thread */
        /* The scan after it reported it gone already (or found its pid reused). */
        if (ps->active && stale(ps, ev))
                return;
        /* An entry whose process started after the event is not the one that exited: the pid
         * went to it since, and a scan found it before this event was read. It stays. */
        found = process_table_find(&ps->table, pid);
        if (found && !(found->start_ns > ev->timestamp_ns))
                e = process_table_take(&ps->table, pid);
        scan_step_exited(ps, pid, ev->timestamp_ns);
        proc_exit_status_decode(ev->exit.exit_code, &code, &sig, &core);
        if (e && e->start_ns && ev->timestamp_ns > e->start_ns)
                runtime = ev->timestamp_ns - e->start_ns;
        if (ps->active)
                emit_exited(ps, e, pid, e ? e->ppid : (pid_t) ev->exit.parent_tgid, code, sig, core, runtime,
                            ev->timestamp_ns, may_signal);
        journal_write(ps, ev, e, pid, code, sig, runtime);
}

static bool exec_wanted(const Processes *ps) {
        return ps->active || (ps->config->journal_events & (UINT32_C(1) << PROC_KIND_EXEC));
}

/* read: what the event needed read (read_for()), made. */
static void handle_event(Processes *ps, const ProcEvent *ev, bool may_signal, ProcessReadRequest *read) {
        switch (ev->kind) {
        case PROC_KIND_EXEC:
                if (read)
                        on_exec(ps, ev, may_signal, read);
                return;
        case PROC_KIND_FORK:
                if (read)
                        on_fork(ps, ev, may_signal, read);
                journal_write(ps, ev, process_table_find(&ps->table, (pid_t) ev->fork.parent_tgid), 0, 0, 0, 0);
                return;
        case PROC_KIND_EXIT:
                on_exit_event(ps, ev, may_signal);
                return;
        default:
                journal_write(ps, ev, process_table_find(&ps->table, (pid_t) ev->task.tgid), 0, 0, 0, 0);
                return;
        }
}

/* What ev needs read from /proc before it can be handled: false if nothing. For an exec, what
 * goes with the process's memory is read here and now (process_info_read_begin()): a short-lived
 * program would be gone by the time the thread got to it. A fork's read, its child's stat, is
 * made here whole: it never waits on the process, and a thread would cost more in wake-ups (two
 * a fork) than the read itself. */
static bool read_for(Processes *ps, const ProcEvent *ev, ProcessReadRequest *ret) {
        if (ev->kind == PROC_KIND_EXEC && exec_wanted(ps)) {
                ProcessReadFlags flags = read_flags(ps) | (ps->n_queued < PROCESS_HELD_DIRS_MAX ? PROCESS_READ_HOLD_DIR : 0);

                *ret = (ProcessReadRequest) { .kind = PROCESS_READ_INFO_END, .flags = flags };
                ret->result = process_info_read_begin((pid_t) ev->exec.tgid, ret->flags, &ret->info);
                /* Read after the pid went to a process started since: nothing read is this
                 * event's process's. */
                if (ret->result >= 0 && process_info_started_after(ret->info, ev->timestamp_ns))
                        process_info_disown(ret->info, ret->flags);
        } else if (is_new_process(ev) && ps->active) {
                *ret = (ProcessReadRequest) { .kind = PROCESS_READ_START_TIME, .pid = (pid_t) ev->fork.child_pid };
                process_read_request_run(ret);
        } else
                return false;
        return true;
}

/* Handles the queue's events from its head, up to the first whose read is not made yet. */
static void queue_drain(Processes *ps) {
        for (PendingEvent *p; (p = ps->queue_head) && p->read_done;) {
                ps->queue_head = p->next;
                if (!ps->queue_head)
                        ps->queue_tail = NULL;
                ps->n_queued--;
                ps->queue_strings.used -= MIN(ps->queue_strings.used, p->size);
                /* The bus queue may have filled since the event came: its watermarks hold for
                 * signals sent late too. */
                if (p->generation == ps->generation)
                        handle_event(ps, &p->event, p->may_signal && loss_may_signal(ps->loss),
                                     p->needs_read ? &p->read : NULL);
                process_info_free(p->read.info);
                free(p);
        }
}

/* What a queued event holds, about: itself and what was read for it so far. */
static size_t pending_size(const ProcessReadRequest *read) {
        const ProcessInfo *i = read->info;
        size_t n = heap_size(sizeof(PendingEvent));

        if (i)
                n += heap_size(sizeof(ProcessInfo)) + strv_heap_size(i->argv) + string_heap_size(i->exe) +
                     string_heap_size(i->cgroup) + string_heap_size(i->unit) + process_where_heap_size(&i->where);
        return n;
}

static bool queue_fits(const Processes *ps, size_t size) {
        return ps->queue_strings.used + size <= ps->queue_strings.max;
}

/* The arguments are what can be large (64 KiB of one-byte ones take 2 MiB): an event that would
 * take the queue past its share goes on without them (its entry shows them cut) rather than not
 * at all. Returns the event's size then. */
static size_t queue_strip(Processes *ps, ProcessReadRequest *read, size_t size) {
        char **none;

        if (queue_fits(ps, size) || !read->info || !read->info->argv || !read->info->argv[0])
                return size;
        none = calloc(1, sizeof(char *));
        if (!none)
                return size;
        strv_free(read->info->argv);
        read->info->argv = none;
        read->info->cmdline_truncated = true;
        ps->queue_strings.n_stripped++;
        return pending_size(read);
}

/* The thread's read brought the command line, cgroup and units: charged now. A queue past its
 * share with them takes no more events until it drains. */
static void pending_recharge(Processes *ps, PendingEvent *p) {
        size_t size;

        ps->queue_strings.used -= MIN(ps->queue_strings.used, p->size);
        size = queue_strip(ps, &p->read, pending_size(&p->read));
        ps->queue_strings.used += size;
        p->size = size;
}

static void on_read_done(ProcessReadRequest *req, void *userdata) {
        PendingEvent *p = userdata;
        Processes *ps = p->processes;

        p->read_done = true;
        pending_recharge(ps, p);
        if (p == ps->queue_head)
                queue_drain(ps);
}

static ProcessReader *get_reader(Processes *ps) {
        int r;

        if (ps->reader || ps->reader_failed)
                return ps->reader;
        r = process_reader_new(ps->event, &ps->reader);
        if (r < 0) {
                log_warning_errno(r, "Failed to start the thread that reads /proc, reading in the event loop: %m");
                ps->reader_failed = true;
        }
        return ps->reader;
}

static void schedule_resync(Processes *ps);

void processes_event(Processes *ps, const ProcEvent *ev, bool may_signal) {
        ProcessReadRequest read = {};
        bool needs_read = read_for(ps, ev, &read);
        /* An exec's read is ended by a thread (unless out of memory: no read); a fork's is made. */
        bool for_thread = needs_read && read.kind == PROCESS_READ_INFO_END && read.result >= 0;
        PendingEvent *p;
        size_t size;

        /* Nothing to wait for, or no thread to wait on: handled now (but for the command line,
         * which only a thread reads). */
        if (!ps->queue_head && (!for_thread || !get_reader(ps))) {
                if (for_thread)
                        process_read_request_run(&read);
                handle_event(ps, ev, may_signal, needs_read ? &read : NULL);
                process_info_free(read.info);
                return;
        }

        size = queue_strip(ps, &read, pending_size(&read));
        p = ps->n_queued < ps->queue_max && queue_fits(ps, size) ? malloc(sizeof(*p)) : NULL;
        if (!p) {
                /* The table and the journal will miss this event: the scan after it tells what
                 * changed. */
                if (ps->queue_overflows++ == 0)
                        log_warning("Process events come faster than /proc can be read for them: %s",
                                    ps->active ? "resynchronising the process table."
                                               : "their journal entries are lost.");
                schedule_resync(ps);
                process_info_free(read.info);
                return;
        }
        *p = (PendingEvent) {
                .processes = ps, .event = *ev, .may_signal = may_signal, .needs_read = needs_read, .read = read,
                .read_done = !for_thread, .generation = ps->generation, .size = size,
        };
        p->read.done = on_read_done;
        p->read.userdata = p;
        ps->queue_strings.used += size;
        if (ps->queue_tail)
                ps->queue_tail->next = p;
        else
                ps->queue_head = p;
        ps->queue_tail = p;
        ps->n_queued++;
        if (for_thread && ps->reader) {
                process_reader_submit(ps->reader, &p->read);
                /* A command line goes with its process: read it as soon as can be. */
                if (p->read.kind == PROCESS_READ_INFO_END)
                        process_reader_kick(ps->reader);
        } else if (for_thread) {
                process_read_request_run(&p->read);
                p->read_done = true;
                if (p == ps->queue_head)
                        queue_drain(ps);
        } else if (p == ps->queue_head)
                queue_drain(ps);
}

/* Scans: the first at start, a resync after loss. */

/* What the scan found of one process, read whole. */
static void scan_found(Processes *ps, const ScanRead *sr) {
        _cleanup_(process_entry_freep) ProcessEntry *e = NULL;
        ProcessInfo *info = sr->read.info;
        bool may_signal = true;

        const ProcessEntry *have = process_table_find(&ps->table, sr->key.pid);

        /* Gone, or another process now: its events tell the rest. */
        if (!info || sr->read.result < 0 || info->exited || info->start_time != sr->key.start_time)
                return;
        /* An exit came for the pid meanwhile. Start times count whole ticks: unless the process
         * read still runs, it was this one's. */
        if (sr->exited && !process_runs(sr->key.pid, sr->key.start_time))
                return;
        /* An event since the step began has put it in already, as it is now. */
        if (have && have->start_time == sr->key.start_time)
                return;
        if (entry_from_info(ps, info, &e) < 0)
                return;
        if (ps->pending_signal) {
                if (counts_unresolved(info, e))
                        ps->unresolved++;
                emit_started(ps, e, 0, may_signal);
        }
        (void) table_put(ps, TAKE_PTR(e), ps->pending_signal && may_signal);
}

/* The step's reads are all made: what they found goes in, and the scan goes on. */
static void scan_step_finish(Processes *ps) {
        if (ps->step_generation == ps->scan_generation)
                for (size_t i = 0; i < ps->n_step; i++)
                        scan_found(ps, &ps->step[i]);
        scan_step_free(ps);
        if (ps->scan_source && ps->next_pending >= ps->n_pending)
                scan_end(ps);
        else if (ps->scan_source)
                (void) sd_event_source_set_enabled(ps->scan_source, SD_EVENT_ON);
}

static void on_scan_read_done(ProcessReadRequest *req, void *userdata) {
        Processes *ps = userdata;

        if (--ps->step_in_flight == 0)
                scan_step_finish(ps);
}

/* Reads at once what a step's processes cannot wait for; false if there is none to read. */
static bool scan_step_begin(Processes *ps) {
        ps->step_generation = ps->scan_generation;
        while (ps->n_step < PROCESS_SCAN_STEP && ps->next_pending < ps->n_pending) {
                const ProcessKey *k = &ps->pending[ps->next_pending++];
                const ProcessEntry *have = process_table_find(&ps->table, k->pid);
                ScanRead *sr = &ps->step[ps->n_step];

                /* An exec or fork event since the scan has put it in already. */
                if (have && have->start_time == k->start_time)
                        continue;
                *sr = (ScanRead) { .key = *k };
                sr->read = (ProcessReadRequest) { .kind = PROCESS_READ_INFO_END,
                                                  .flags = read_flags(ps) | PROCESS_READ_HOLD_DIR,
                                                  .done = on_scan_read_done, .userdata = ps };
                if (process_info_read_begin(k->pid, sr->read.flags, &sr->read.info) >= 0)
                        ps->n_step++;
        }
        return ps->n_step > 0;
}

static int on_scan_step(sd_event_source *s, void *userdata) {
        Processes *ps = userdata;

        if (ps->step_in_flight > 0)
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        if (!scan_step_begin(ps)) {
                scan_step_finish(ps);
                return 0;
        }
        if (!get_reader(ps)) {
                /* No thread: the rest here, but for the command lines. */
                for (size_t i = 0; i < ps->n_step; i++)
                        process_read_request_run(&ps->step[i].read);
                scan_step_finish(ps);
                return 0;
        }
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        ps->step_in_flight = ps->n_step;
        for (size_t i = 0; i < ps->n_step; i++)
                process_reader_submit(ps->reader, &ps->step[i].read);
        process_reader_kick(ps->reader);
        return 0;
}

/* Scans /proc and starts reading what the table lacks; with signal (a resync), reports the
 * differences. */
static int scan_start(Processes *ps, bool signal) {
        _cleanup_(freep) ProcessKey *keys = NULL;
        ProcessDiff diff = {};
        size_t n = 0;
        int r;

        /* One under way ends here: those waiting for it are answered (under a loss after
         * another, scans could otherwise restart for as long as it lasts). */
        if (ps->scan_source)
                scan_end(ps);
        else
                scan_stop(ps);
        r = process_scan(&keys, &n);
        if (r < 0) {
                scan_end(ps);
                return log_warning_errno(r, "Failed to scan /proc for the process table: %m");
        }
        r = process_table_diff(&ps->table, keys, n, &diff);
        if (r < 0) {
                scan_end(ps);
                return log_warning_errno(r, "Failed to compare the process table with /proc: %m");
        }

        for (size_t i = 0; i < diff.n_gone; i++) {
                _cleanup_(process_entry_freep) ProcessEntry *e = process_table_take(&ps->table, diff.gone[i]->pid);

                if (e && signal)
                        emit_gone(ps, e, true);
        }
        ps->pending = TAKE_PTR(diff.new);
        ps->n_pending = diff.n_new;
        ps->next_pending = 0;
        ps->pending_signal = signal;
        diff.n_new = 0;
        process_diff_done(&diff);

        if (ps->n_pending == 0) {
                scan_end(ps);
                return 0;
        }
        r = sd_event_add_defer(ps->event, &ps->scan_source, on_scan_step, ps);
        if (r >= 0)
                r = sd_event_source_set_enabled(ps->scan_source, SD_EVENT_ON);
        if (r < 0) {
                scan_end(ps);
                return log_warning_errno(r, "Failed to start reading the processes of /proc: %m");
        }
        return 0;
}

static void remember_loss(Processes *ps, uint64_t lost) {
        ps->seen_kernel_dropped = ps->loss->kernel_dropped;
        ps->seen_overruns = ps->loss->overruns;
        ps->seen_lost = lost;
}

static int on_resync(sd_event_source *s, uint64_t usec, void *userdata) {
        Processes *ps = userdata;

        if (!ps->active)
                return 0;
        /* Events still queued are older than the scan would be, and would be taken as reported
         * by it: let them be handled first, for a while. */
        if (ps->queue_head && ps->resync_postponed < RESYNC_POSTPONE_MAX) {
                ps->resync_postponed++;
                event_timer_arm(ps->resync_timer, now_usec(CLOCK_MONOTONIC) + RESYNC_DELAY_USEC);
                return 0;
        }
        ps->resync_postponed = 0;
        ps->resyncs++;
        ps->resync_ns = now_nsec(CLOCK_MONOTONIC);
        log_debug("Events were lost: resynchronising the process table from /proc.");
        (void) scan_start(ps, true);
        return 0;
}

/* Losses within RESYNC_DELAY_USEC of each other make one resync. */
static void schedule_resync(Processes *ps) {
        int r;

        if (!ps->active)
                return;
        if (ps->resync_timer) {
                int enabled = SD_EVENT_OFF;

                (void) sd_event_source_get_enabled(ps->resync_timer, &enabled);
                if (enabled != SD_EVENT_OFF)
                        return;         /* one is due already */
                r = sd_event_source_set_time_relative(ps->resync_timer, RESYNC_DELAY_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(ps->resync_timer, SD_EVENT_ONESHOT);
        } else
                /* Accuracy 1 ms: sd-event's default (0) would let it slip by 250 ms. */
                r = sd_event_add_time_relative(ps->event, &ps->resync_timer, CLOCK_MONOTONIC,
                                               RESYNC_DELAY_USEC, USEC_PER_MSEC, on_resync, ps);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule a resync of the process table: %m");
}

void processes_batch_done(Processes *ps, uint64_t lost) {
        const Loss *l = ps->loss;

        process_reader_kick(ps->reader);
        if (!ps->active)
                return;
        if (l->kernel_dropped == ps->seen_kernel_dropped && l->overruns == ps->seen_overruns &&
            lost == ps->seen_lost)
                return;
        remember_loss(ps, lost);
        schedule_resync(ps);
}

void processes_update(Processes *ps, bool group_joined, uint64_t lost) {
        bool active = group_joined && ps->config->processes_enabled;

        if (active == ps->active)
                return;
        ps->active = active;
        if (!active) {
                ps->generation++;       /* what is queued is of the table emptied now */
                scan_end(ps);
                if (ps->resync_timer)
                        (void) sd_event_source_set_enabled(ps->resync_timer, SD_EVENT_OFF);
                process_table_done(&ps->table);
                return;
        }
        remember_loss(ps, lost);
        ps->resync_ns = 0;
        ps->generation++;       /* what was queued meanwhile was for no table */
        (void) scan_start(ps, false);
}
