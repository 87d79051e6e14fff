/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/process/process-reader.c, the threads that read /proc for process events:
 * real processes read off the event loop (their command lines too), each handed back once,
 * through a real sd-event loop; a reader freed with reads outstanding. */

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "process-reader.h"
#include "tests.h"

#define N_REQUESTS 600

typedef struct Seen {
        ProcessReadRequest *order[N_REQUESTS];
        unsigned n;
} Seen;

static void on_done(ProcessReadRequest *req, void *userdata) {
        Seen *seen = userdata;

        CHECK(seen->n < N_REQUESTS);
        seen->order[seen->n++] = req;
}

static pid_t spawn_sleeper(void) {
        pid_t pid = fork();

        CHECK(pid >= 0);
        if (pid == 0) {
                pause();
                _exit(0);
        }
        return pid;
}

static pid_t spawn_reaped(void) {
        pid_t pid = fork();

        CHECK(pid >= 0);
        if (pid == 0)
                _exit(0);
        CHECK(waitpid(pid, NULL, 0) == pid);
        return pid;
}

static void run_until(sd_event *e, const Seen *seen, unsigned n) {
        for (unsigned i = 0; seen->n < n; i++) {
                CHECK(i < 10000);
                CHECK(sd_event_run(e, 100 * 1000) >= 0);
        }
}

/* Half the reads of details hold the process's directory from their first step, as cnd's do
 * while its queue is short. */
static void request_init(ProcessReadRequest *req, unsigned i, pid_t pid, Seen *seen) {
        *req = (ProcessReadRequest) { .kind = i % 2 ? PROCESS_READ_START_TIME : PROCESS_READ_INFO_END,
                                      .pid = pid, .flags = PROCESS_READ_NO_UNIT | (i % 4 ? 0 : PROCESS_READ_HOLD_DIR),
                                      .done = on_done, .userdata = seen };
        if (req->kind == PROCESS_READ_INFO_END)
                CHECK_EQ_INT(process_info_read_begin(pid, req->flags, &req->info), 0);
}

/* Reads of live, sleeping and reaped processes, of both kinds, mixed: each handed back once (the
 * threads finish them in any order), with what a read in the loop would have found. */
static void test_reads_in_order(void) {
        static ProcessReadRequest reqs[N_REQUESTS];
        _cleanup_(process_reader_freep) ProcessReader *r = NULL;
        pid_t sleeper = spawn_sleeper(), reaped = spawn_reaped();
        uint64_t sleeper_start = 0;
        sd_event *e = NULL;
        Seen seen = {};

        CHECK(sd_event_new(&e) >= 0);
        CHECK(process_reader_new(e, &r) >= 0);
        CHECK(process_read_start_time(sleeper, &sleeper_start) == 0);

        for (unsigned i = 0; i < N_REQUESTS; i++) {
                pid_t pids[] = { getpid(), sleeper, reaped };

                request_init(&reqs[i], i, pids[i % 3], &seen);
                process_reader_submit(r, &reqs[i]);
        }
        CHECK(process_reader_pending(r) > 0);
        process_reader_kick(r);
        run_until(e, &seen, N_REQUESTS);
        CHECK_EQ_INT(process_reader_pending(r), 0);

        for (unsigned i = 0; i < N_REQUESTS; i++) {
                ProcessReadRequest *q = &reqs[i];
                unsigned times = 0;

                for (unsigned j = 0; j < N_REQUESTS; j++)
                        times += seen.order[j] == q;
                CHECK_EQ_INT(times, 1);
                if (q->kind == PROCESS_READ_START_TIME) {
                        if (q->pid == reaped)
                                CHECK(q->result < 0);
                        else {
                                CHECK_EQ_INT(q->result, 0);
                                if (q->pid == sleeper)
                                        CHECK_EQ_INT(q->start_time, sleeper_start);
                        }
                        continue;
                }
                /* A reaped process is no failure of the read: it says the process was gone. */
                CHECK_EQ_INT(q->result, 0);
                CHECK_EQ_INT(q->info->pid, q->pid);
                if (q->pid == reaped)
                        CHECK(q->info->unresolved & PROCESS_FIELD_BIT(PROCESS_FIELD_STAT));
                else {
                        CHECK(!q->info->exited);
                        CHECK_EQ_INT(q->info->unresolved, 0);
                        CHECK(q->info->exe[0] == '/');
                        CHECK(q->info->argv && q->info->argv[0]);       /* read by a thread */
                        CHECK_EQ_INT(q->cmdline_error, PROCESS_CMDLINE_READ);
                        CHECK_EQ_INT(q->info->ruid, getuid());
                }
                if (q->pid == sleeper)
                        CHECK_EQ_INT(q->info->start_time, sleeper_start);
                q->info = process_info_free(q->info);
        }

        kill(sleeper, SIGKILL);
        CHECK(waitpid(sleeper, NULL, 0) == sleeper);
        r = process_reader_free(r);
        sd_event_unref(e);
}

/* Freed with reads queued and one maybe being made: the thread stops, nothing is handed back
 * after, the requests are the caller's again, nothing leaks (ASan and valgrind runs of the
 * suite tell). */
static void test_free_with_reads_outstanding(void) {
        static ProcessReadRequest reqs[N_REQUESTS];
        ProcessReader *r = NULL;
        sd_event *e = NULL;
        Seen seen = {};

        CHECK(sd_event_new(&e) >= 0);
        CHECK(process_reader_new(e, &r) >= 0);
        for (unsigned i = 0; i < N_REQUESTS; i++) {
                request_init(&reqs[i], 2 * i, getpid(), &seen);
                process_reader_submit(r, &reqs[i]);
        }
        process_reader_kick(r);
        usleep(1000);
        r = process_reader_free(r);
        CHECK_EQ_INT(seen.n, 0);
        for (unsigned i = 0; i < N_REQUESTS; i++)
                process_info_free(reqs[i].info);
        sd_event_unref(e);
}

/* The threads block every signal: one sent to the process goes to the loop's thread. */
static void test_thread_takes_no_signals(void) {
        _cleanup_(process_reader_freep) ProcessReader *r = NULL;
        sd_event *e = NULL;
        sigset_t mask;
        int sig = 0;

        sigemptyset(&mask);
        sigaddset(&mask, SIGUSR1);
        CHECK(sd_event_new(&e) >= 0);
        CHECK(process_reader_new(e, &r) >= 0);
        CHECK(sigprocmask(SIG_BLOCK, &mask, NULL) == 0);
        CHECK(kill(getpid(), SIGUSR1) == 0);
        CHECK(sigwait(&mask, &sig) == 0);
        CHECK_EQ_INT(sig, SIGUSR1);
        r = process_reader_free(r);
        sd_event_unref(e);
}

/* Requests one at a time, each kicked, as in a quiet moment: each handed back without waiting
 * for more (the thread notifies when it has read all it has). */
static void test_single_reads_come_back(void) {
        _cleanup_(process_reader_freep) ProcessReader *r = NULL;
        ProcessReadRequest req;
        sd_event *e = NULL;
        Seen seen = {};

        CHECK(sd_event_new(&e) >= 0);
        CHECK(process_reader_new(e, &r) >= 0);
        for (unsigned i = 0; i < 20; i++) {
                req = (ProcessReadRequest) { .kind = PROCESS_READ_START_TIME, .pid = getpid(), .done = on_done,
                                             .userdata = &seen };
                process_reader_submit(r, &req);
                process_reader_kick(r);
                run_until(e, &seen, i + 1);
                CHECK(seen.order[i] == &req);
                CHECK_EQ_INT(req.result, 0);
                CHECK(req.start_time > 0);
        }
        r = process_reader_free(r);
        sd_event_unref(e);
}

int main(void) {
        log_set_max_level(LOG_CRIT);

        test_reads_in_order();
        test_single_reads_come_back();
        test_free_with_reads_outstanding();
        test_thread_takes_no_signals();
        return 0;
}
