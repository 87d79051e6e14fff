/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/process/processes.c through its callbacks (ProcessesOps), with events
 * made by hand for this test's own children and /proc read for real: the first scan reports
 * nothing; an exec is read and reported Started, its exit Exited with the wait status decoded
 * and the table's details; a fork copies its parent's entry without a signal; a thread's exit
 * is nothing; a resync after loss reports what started and what went meanwhile; events queued
 * before the table was emptied are dropped; a full queue drops and resynchronises; a process
 * that exits while the scan's step reading it is in flight is not put in the table. Other
 * processes of the machine come and go meanwhile: only this test's children are looked at. */

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "loss.h"
#include "processes.h"
#include "tests.h"
#include "util.h"

#define MAX_CALLS 64

typedef struct Call {
        bool started;
        pid_t pid, ppid;
        char exe[256];
        int32_t exit_code, exit_signal;
        uint64_t timestamp_ns;
} Call;

/* The callbacks' record, of this test's children only. */
typedef struct Record {
        pid_t watched[16];
        unsigned n_watched;
        Call calls[MAX_CALLS];
        unsigned n;
} Record;

static Record *children;

/* A failed check exits: its children go too. */
static void kill_children(void) {
        for (unsigned i = 0; children && i < children->n_watched; i++)
                (void) kill(children->watched[i], SIGKILL);
}

static bool watched(const Record *r, pid_t pid) {
        for (unsigned i = 0; i < r->n_watched; i++)
                if (r->watched[i] == pid)
                        return true;
        return false;
}

static void record(Processes *ps, Call c) {
        Record *r = ps->userdata;

        if (!watched(r, c.pid))
                return;
        CHECK(r->n < MAX_CALLS);
        r->calls[r->n++] = c;
}

static void on_started(Processes *ps, const ProcessEntry *e, uint64_t timestamp_ns) {
        Call c = { .started = true, .pid = e->pid, .ppid = e->ppid, .timestamp_ns = timestamp_ns };

        snprintf(c.exe, sizeof(c.exe), "%s", strempty(e->exe));
        record(ps, c);
}

static void on_exited(Processes *ps, const ProcessEntry *e, pid_t pid, pid_t ppid, int32_t exit_code,
                      int32_t exit_signal, bool core_dumped, uint64_t runtime_ns, uint64_t timestamp_ns) {
        Call c = { .pid = pid, .ppid = ppid, .exit_code = exit_code, .exit_signal = exit_signal,
                   .timestamp_ns = timestamp_ns };

        snprintf(c.exe, sizeof(c.exe), "%s", e ? strempty(e->exe) : "");
        record(ps, c);
}

static const ProcessesOps ops = {
        .started = on_started,
        .exited = on_exited,
};

static uint64_t now_ns(void) {
        struct timespec ts;

        CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

/* A child that waits to be killed, watched. */
static pid_t spawn(Record *r) {
        pid_t pid;

        fflush(NULL);
        pid = fork();

        CHECK(pid >= 0);
        if (pid == 0) {
                /* Gone with the test, whatever way it ends. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;)
                        pause();
        }
        CHECK(r->n_watched < ELEMENTSOF(r->watched));
        r->watched[r->n_watched++] = pid;
        return pid;
}

/* A child running another program than ours (its strings are not its parent's), until killed;
 * returns once it has. */
static pid_t spawn_sleep(Record *r) {
        int pipefd[2];
        pid_t pid;
        char c;

        CHECK(pipe2(pipefd, O_CLOEXEC) == 0);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                execl("/bin/sleep", "sleep", "600", (char *) NULL);
                _exit(127);
        }
        close(pipefd[1]);
        CHECK(read(pipefd[0], &c, 1) == 0);    /* the exec closed its end */
        close(pipefd[0]);
        CHECK(r->n_watched < ELEMENTSOF(r->watched));
        r->watched[r->n_watched++] = pid;
        return pid;
}

static int kill_and_reap(pid_t pid) {
        int status;

        CHECK(kill(pid, SIGKILL) == 0);
        CHECK(waitpid(pid, &status, 0) == pid);
        return status;
}

static ProcEvent exec_event(pid_t pid) {
        return (ProcEvent) { .kind = PROC_KIND_EXEC, .timestamp_ns = now_ns(), .n_fields = 2,
                             .exec = { (uint32_t) pid, (uint32_t) pid } };
}

static ProcEvent fork_event(pid_t parent, pid_t child) {
        return (ProcEvent) { .kind = PROC_KIND_FORK, .timestamp_ns = now_ns(), .n_fields = 4,
                             .fork = { (uint32_t) parent, (uint32_t) parent, (uint32_t) child, (uint32_t) child } };
}

static ProcEvent exit_event(pid_t pid, pid_t tgid, int status) {
        return (ProcEvent) { .kind = PROC_KIND_EXIT, .timestamp_ns = now_ns(), .n_fields = 6,
                             .exit = { (uint32_t) pid, (uint32_t) tgid, (uint32_t) status, SIGCHLD,
                                       (uint32_t) getpid(), (uint32_t) getpid() } };
}

/* One event as the relay hands it over: a batch read from the socket of its own, at whose end
 * the reads it asked for start. */
static void deliver(Processes *ps, const ProcEvent *ev) {
        processes_event(ps, ev, true);
        processes_batch_done(ps, 0);
}

/* Runs the loop until the record holds n calls, or a few seconds have passed. */
static void run_until_calls(sd_event *event, const Record *r, unsigned n) {
        for (unsigned i = 0; i < 5000 && r->n < n; i++)
                CHECK(sd_event_run(event, 1000) >= 0);
        CHECK_EQ_INT(r->n, n);
}

/* Runs the loop for a while: what was to come has come. */
static void run_a_while(sd_event *event, unsigned msec) {
        for (uint64_t end = now_ns() + (uint64_t) msec * 1000000; now_ns() < end;)
                CHECK(sd_event_run(event, 1000) >= 0);
}

static void test_exec_fork_exit(Processes *ps, sd_event *event, Record *r) {
        pid_t a = spawn(r), b = spawn(r);
        ProcEvent ev;
        int status;

        /* An exec: read, Started with what /proc said, the test's own program. */
        ev = exec_event(a);
        deliver(ps, &ev);
        run_until_calls(event, r, 1);
        CHECK(r->calls[0].started);
        CHECK_EQ_INT(r->calls[0].pid, a);
        CHECK_EQ_INT(r->calls[0].ppid, getpid());
        CHECK(strstr(r->calls[0].exe, "test-processes"));
        CHECK(r->calls[0].timestamp_ns == ev.timestamp_ns);

        /* A fork: the child enters as a copy of its parent, quietly. */
        ev = fork_event(a, b);
        deliver(ps, &ev);
        run_a_while(event, 50);
        CHECK_EQ_INT(r->n, 1);

        /* A thread of b exits: nothing. */
        ev = exit_event(b + 100000, b, 0);
        deliver(ps, &ev);
        run_a_while(event, 20);
        CHECK_EQ_INT(r->n, 1);

        /* b exits, killed: Exited with the parent's program, the signal decoded. */
        status = kill_and_reap(b);
        ev = exit_event(b, b, status);
        deliver(ps, &ev);
        run_until_calls(event, r, 2);
        CHECK(!r->calls[1].started);
        CHECK_EQ_INT(r->calls[1].pid, b);
        CHECK_EQ_INT(r->calls[1].exit_signal, SIGKILL);
        CHECK_EQ_INT(r->calls[1].exit_code, -1);
        CHECK(strstr(r->calls[1].exe, "test-processes"));

        status = kill_and_reap(a);
        ev = exit_event(a, a, status);
        deliver(ps, &ev);
        run_until_calls(event, r, 3);
        CHECK_EQ_INT(r->calls[2].pid, a);
        CHECK_EQ_INT(ps->table.n > 0, 1);
}

/* The exit of a pid's earlier owner, read after a scan found the process that has the pid now
 * (it started after the event): Exited goes out without an entry, and the entry stays. */
static void test_exit_of_earlier_owner(Processes *ps, sd_event *event, Record *r) {
        pid_t a = spawn(r);
        ProcEvent ev = exec_event(a);
        const ProcessEntry *e;
        unsigned n = r->n;

        deliver(ps, &ev);
        run_until_calls(event, r, ++n);
        e = process_table_find(&ps->table, a);
        CHECK(e && e->start_ns > 100 * 1000000ULL);

        ev = exit_event(a, a, 0);
        ev.timestamp_ns = e->start_ns - 50 * 1000000ULL;
        deliver(ps, &ev);
        run_until_calls(event, r, ++n);
        CHECK(!r->calls[n - 1].started);
        CHECK_EQ_INT(r->calls[n - 1].pid, a);
        CHECK_STREQ(r->calls[n - 1].exe, "");
        e = process_table_find(&ps->table, a);
        CHECK(e && strstr(e->exe, "test-processes"));

        /* Its own exit takes it. */
        ev = exit_event(a, a, kill_and_reap(a));
        deliver(ps, &ev);
        run_until_calls(event, r, ++n);
        CHECK(strstr(r->calls[n - 1].exe, "test-processes"));
        CHECK(!process_table_find(&ps->table, a));
}

/* The table's string budget full (another user's processes filled it): the table's entry lacks
 * strings, but Started tells the program whole. */
static void test_budget_full(Processes *ps, sd_event *event, Record *r) {
        size_t max = ps->table_strings.max;
        pid_t a = spawn_sleep(r);
        ProcEvent ev = exec_event(a);
        const ProcessEntry *e;
        unsigned n = r->n;

        ps->table_strings.max = ps->table_strings.used;
        deliver(ps, &ev);
        run_until_calls(event, r, ++n);
        CHECK(r->calls[n - 1].started);
        CHECK(strstr(r->calls[n - 1].exe, "sleep"));
        e = process_table_find(&ps->table, a);
        CHECK(e);
        CHECK_STREQ(e->exe, PROCESS_STRINGS_CUT_MARKER);
        ps->table_strings.max = max;

        ev = exit_event(a, a, kill_and_reap(a));
        deliver(ps, &ev);
        run_until_calls(event, r, ++n);
}

/* Loss: a process that started and one that went without their events are reported by the
 * resync that follows, with timestamp_ns 0 and an unknown status. */
static void test_resync(Processes *ps, sd_event *event, Record *r, Loss *loss) {
        pid_t gone = spawn(r), started;
        ProcEvent ev = exec_event(gone);
        uint64_t resyncs = ps->resyncs;
        unsigned n;

        deliver(ps, &ev);
        run_until_calls(event, r, r->n + 1);
        n = r->n;

        (void) kill_and_reap(gone);
        started = spawn(r);
        loss->kernel_dropped++;
        processes_batch_done(ps, 0);
        run_until_calls(event, r, n + 2);
        CHECK_EQ_INT(ps->resyncs, resyncs + 1);
        for (unsigned i = n; i < n + 2; i++) {
                const Call *c = &r->calls[i];

                CHECK(c->timestamp_ns == 0);
                if (c->started)
                        CHECK_EQ_INT(c->pid, started);
                else {
                        CHECK_EQ_INT(c->pid, gone);
                        CHECK_EQ_INT(c->exit_code, -1);
                        CHECK_EQ_INT(c->exit_signal, -1);
                }
        }
        CHECK(r->calls[n].started != r->calls[n + 1].started);
        (void) kill_and_reap(started);
}

/* Makes a loss and runs the loop, one event source a turn, until the resync's scan has handed
 * x's read to the threads; then lets the threads read x, still running, while the loop waits. */
static void resync_until_in_step(Processes *ps, sd_event *event, Loss *loss, pid_t x) {
        uint64_t resyncs = ps->resyncs;
        bool in_step = false;

        loss->kernel_dropped++;
        processes_batch_done(ps, 0);
        for (unsigned i = 0; i < 100000 && !in_step; i++) {
                CHECK(sd_event_run(event, 1000) >= 0);
                for (size_t j = 0; j < ps->n_step && ps->step_in_flight > 0; j++)
                        in_step = in_step || ps->step[j].key.pid == x;
        }
        CHECK(in_step);
        CHECK_EQ_INT(ps->resyncs, resyncs + 1);
        (void) usleep(300 * 1000);
}

static void run_until_scanned(Processes *ps, sd_event *event) {
        while (processes_scanning(ps))
                CHECK(sd_event_run(event, 1000) >= 0);
        run_a_while(event, 50);
}

/* A process the resync's scan found exits after its step's reads were made, before the step
 * ends: its exit event, handled first, finds no entry, and the step must not put one in. */
static void test_exit_during_scan_step(Processes *ps, sd_event *event, Record *r, Loss *loss) {
        pid_t x = spawn(r);
        ProcEvent ev;

        resync_until_in_step(ps, event, loss, x);
        ev = exit_event(x, x, kill_and_reap(x));
        deliver(ps, &ev);
        run_until_scanned(ps, event);
        CHECK(!process_table_find(&ps->table, x));

        /* The same when its fork event put it in meanwhile, and its exit took it out again. */
        x = spawn(r);
        resync_until_in_step(ps, event, loss, x);
        ev = fork_event(getpid(), x);
        deliver(ps, &ev);
        CHECK(process_table_find(&ps->table, x));
        ev = exit_event(x, x, kill_and_reap(x));
        deliver(ps, &ev);
        CHECK(!process_table_find(&ps->table, x));
        run_until_scanned(ps, event);
        CHECK(!process_table_find(&ps->table, x));
}

/* An exit of the pid's earlier owner, within the tick of the start of the process that has it now
 * (start times count whole ticks), comes while the step reads the new one: the new one still
 * runs, and goes in. */
static void test_earlier_exit_during_scan_step(Processes *ps, sd_event *event, Record *r, Loss *loss) {
        pid_t x = spawn(r);
        ProcEvent ev;

        resync_until_in_step(ps, event, loss, x);
        ev = exit_event(x, x, 0);
        deliver(ps, &ev);
        run_until_scanned(ps, event);
        CHECK(process_table_find(&ps->table, x));
        ev = exit_event(x, x, kill_and_reap(x));
        deliver(ps, &ev);
        CHECK(!process_table_find(&ps->table, x));
}

/* The table emptied (group 1 left) while an exec's read is under way: no Started for it. */
static void test_generation(Processes *ps, sd_event *event, Record *r) {
        pid_t a = spawn(r);
        ProcEvent ev = exec_event(a);
        unsigned n = r->n;

        deliver(ps, &ev);
        processes_update(ps, false, 0);
        CHECK_EQ_INT(ps->table.n, 0);
        run_a_while(event, 100);
        CHECK_EQ_INT(r->n, n);
        (void) kill_and_reap(a);
}

/* A queue of one: the second of two execs in a batch overflows it, is dropped, and the resync
 * that follows reports it. */
static void test_queue_full(sd_event *event, Record *r, const Config *config, Loss *loss) {
        Processes ps = {};
        pid_t a, b;
        ProcEvent ev;
        unsigned n = r->n;

        processes_init(&ps, event, config, loss, NULL, 1, &ops, r);
        processes_update(&ps, true, 0);
        run_a_while(event, 300);
        a = spawn(r);
        b = spawn(r);

        ev = exec_event(a);
        processes_event(&ps, &ev, true);
        ev = exec_event(b);
        processes_event(&ps, &ev, true);
        processes_batch_done(&ps, 0);
        CHECK_EQ_INT(ps.queue_overflows, 1);

        run_until_calls(event, r, n + 2);
        CHECK_EQ_INT(ps.resyncs, 1);
        CHECK(r->calls[n].started && r->calls[n + 1].started);
        CHECK_EQ_INT(r->calls[n].pid, a);
        CHECK(r->calls[n].timestamp_ns != 0);
        CHECK_EQ_INT(r->calls[n + 1].pid, b);
        CHECK(r->calls[n + 1].timestamp_ns == 0);

        processes_done(&ps);
        (void) kill_and_reap(a);
        (void) kill_and_reap(b);
}

int main(void) {
        Processes ps = {};
        Record r = {};
        sd_event *event = NULL;
        Config config;
        Loss loss;

        children = &r;
        CHECK(atexit(kill_children) == 0);
        config_init(&config);
        CHECK(sd_event_new(&event) >= 0);
        CHECK(loss_init(&loss, event, NULL, NULL) >= 0);
        processes_init(&ps, event, &config, &loss, NULL, 0, &ops, &r);

        /* The first scan: the table fills, and says nothing. */
        processes_update(&ps, true, 0);
        run_a_while(event, 300);
        CHECK(ps.table.n > 0);
        CHECK_EQ_INT(ps.resyncs, 0);

        test_exec_fork_exit(&ps, event, &r);
        test_exit_of_earlier_owner(&ps, event, &r);
        test_budget_full(&ps, event, &r);
        test_resync(&ps, event, &r, &loss);
        test_exit_during_scan_step(&ps, event, &r, &loss);
        test_earlier_exit_during_scan_step(&ps, event, &r, &loss);
        test_generation(&ps, event, &r);
        test_queue_full(event, &r, &config, &loss);

        processes_done(&ps);
        loss_done(&loss);
        sd_event_unref(event);
        config_done(&config);
        return EXIT_SUCCESS;
}
