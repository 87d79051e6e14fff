/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for the journal's writing thread (journal-writer.c) and what drives it
 * (process-journal.c), with the send function swapped for the tests' own: entries written in
 * order; a queue that fills while the send is stuck drops and counts, the pushes never waiting
 * for it (a push that waited would hang this test), and the drops reported once the thread
 * has caught up; a thread stuck for good in a send to a full datagram socket nobody reads
 * (what journald's socket is when journald is backlogged) does not hold up the stop; and a
 * uid's suppressed entries summarised when its window ends, by the event loop's timer. */

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "process-journal.h"
#include "tests.h"
#include "util.h"

typedef struct Recorder {
        pthread_mutex_t lock;
        int gate;                       /* >= 0: each send first reads a byte from it */
        int sink;                       /* >= 0: each send is a blocking send() to it */
        size_t entered;                 /* sends begun */
        char *messages[64];
        char *dropped[64];              /* CND_DROPPED= of the same entry, or NULL */
        size_t n;
} Recorder;

static char *field(const struct iovec *f, size_t n, const char *key) {
        size_t k = strlen(key);

        for (size_t i = 0; i < n; i++)
                if (f[i].iov_len > k && memcmp(f[i].iov_base, key, k) == 0 && ((char *) f[i].iov_base)[k] == '=')
                        return memdup_suffix0((char *) f[i].iov_base + k + 1, f[i].iov_len - k - 1);
        return NULL;
}

static int record(const struct iovec *f, size_t n, void *userdata) {
        Recorder *r = userdata;
        char c;

        pthread_mutex_lock(&r->lock);
        r->entered++;
        pthread_mutex_unlock(&r->lock);
        if (r->gate >= 0)
                CHECK(read(r->gate, &c, 1) == 1);
        if (r->sink >= 0 && send(r->sink, "x", 1, 0) < 0)
                return -errno;
        pthread_mutex_lock(&r->lock);
        CHECK(r->n < ELEMENTSOF(r->messages));
        r->messages[r->n] = field(f, n, "MESSAGE");
        r->dropped[r->n++] = field(f, n, "CND_DROPPED");
        pthread_mutex_unlock(&r->lock);
        return 0;
}

/* One of the recorder's counts, read under its lock: the sending thread moves them. */
static size_t count(Recorder *r, const size_t *field) {
        size_t n;

        pthread_mutex_lock(&r->lock);
        n = *field;
        pthread_mutex_unlock(&r->lock);
        return n;
}

static void recorder_done(Recorder *r) {
        for (size_t i = 0; i < r->n; i++) {
                free(r->messages[i]);
                free(r->dropped[i]);
        }
        pthread_mutex_destroy(&r->lock);
}

static JournalEntry *entry(unsigned i) {
        JournalBuilder b;

        journal_builder_init(&b);
        CHECK_EQ_INT(journal_builder_addf(&b, "MESSAGE", "entry %u", i), 0);
        return journal_builder_finish(&b);
}

static void test_order(void) {
        Recorder r = { PTHREAD_MUTEX_INITIALIZER, -1, -1 };
        JournalWriter *w = NULL;

        CHECK_EQ_INT(journal_writer_new(record, &r, 0, 0, &w), 0);
        for (unsigned i = 0; i < 20; i++)
                CHECK_EQ_INT(journal_writer_push(w, entry(i)), 0);
        /* Stopping writes what is queued first. */
        w = journal_writer_free(w);
        CHECK_EQ_INT(r.n, 20);
        for (unsigned i = 0; i < 20; i++) {
                char expect[32];

                snprintf(expect, sizeof(expect), "entry %u", i);
                CHECK_STREQ(r.messages[i], expect);
                CHECK(!r.dropped[i]);
        }
        recorder_done(&r);
}

/* The send is stuck (journald reads nothing): the queue fills, what finds it full is dropped
 * and counted at once, and once the send goes on the thread writes what was queued and then
 * says how many were dropped. */
static void test_full_queue(void) {
        Recorder r = { PTHREAD_MUTEX_INITIALIZER, -1, -1 };
        JournalWriterCounters c;
        JournalWriter *w = NULL;
        unsigned accepted = 0, refused = 0;
        int gate[2];
        char expect[96], go[64] = {};

        CHECK(pipe(gate) == 0);
        r.gate = gate[0];
        CHECK_EQ_INT(journal_writer_new(record, &r, 4, 0, &w), 0);
        /* The thread takes the first into its stuck send; then 4 are queued, and the rest
         * refused. */
        CHECK_EQ_INT(journal_writer_push(w, entry(0)), 0);
        accepted++;
        while (count(&r, &r.entered) == 0)
                usleep(1000);
        for (unsigned i = 1; i < 20; i++) {
                int k = journal_writer_push(w, entry(i));

                CHECK(k == 0 || k == -ENOBUFS);
                if (k == 0) {
                        CHECK_EQ_INT(refused, 0);
                        accepted++;
                } else
                        refused++;
        }
        CHECK_EQ_INT(accepted, 5);
        c = journal_writer_counters(w);
        CHECK_EQ_INT(c.dropped, refused);
        CHECK_EQ_INT(c.written, 0);
        CHECK_EQ_INT(count(&r, &r.n), 0);

        /* journald reads again. */
        CHECK(write(gate[1], go, sizeof(go)) == sizeof(go));
        /* The thread counts an entry written once the send has returned, after the recorder saw it. */
        while ((c = journal_writer_counters(w)).written < accepted + 1)
                usleep(1000);
        CHECK_EQ_INT(c.written, accepted + 1);
        CHECK_EQ_INT(count(&r, &r.n), accepted + 1);
        CHECK_EQ_INT(c.failed, 0);
        w = journal_writer_free(w);
        CHECK_EQ_INT(r.n, accepted + 1);
        for (unsigned i = 0; i < accepted; i++)
                CHECK(!r.dropped[i]);
        snprintf(expect, sizeof(expect), "%u", refused);
        CHECK_STREQ(r.dropped[accepted], expect);
        snprintf(expect, sizeof(expect), "Dropped %u journal entries: journald did not keep up.", refused);
        CHECK_STREQ(r.messages[accepted], expect);
        close(gate[0]);
        close(gate[1]);
        recorder_done(&r);
}

/* A datagram socket nobody reads, full: a blocking send to it waits for good, as
 * sd_journal_sendv() does on a backlogged journald's socket. Pushes still return at once, and
 * stopping cancels the stuck thread after JOURNAL_STOP_USEC instead of waiting for it. */
static void test_stuck_for_good(void) {
        Recorder r = { PTHREAD_MUTEX_INITIALIZER, -1, -1 };
        JournalWriter *w = NULL;
        int pair[2];
        uint64_t t;

        CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) == 0);
        while (send(pair[0], "x", 1, MSG_DONTWAIT) == 1)
                ;
        CHECK(errno == EAGAIN);
        r.sink = pair[0];
        CHECK_EQ_INT(journal_writer_new(record, &r, 8, 0, &w), 0);
        for (unsigned i = 0; i < 100; i++)
                (void) journal_writer_push(w, entry(i));
        /* 8 queued, and one more if the thread had taken the first into its send. */
        CHECK(journal_writer_counters(w).dropped == 92 || journal_writer_counters(w).dropped == 91);
        t = now_usec(CLOCK_MONOTONIC);
        w = journal_writer_free(w);
        /* It waited for the thread, then gave up on it. */
        CHECK(now_usec(CLOCK_MONOTONIC) - t >= JOURNAL_STOP_USEC);
        CHECK_EQ_INT(r.n, 0);
        close(pair[0]);
        close(pair[1]);
        recorder_done(&r);
}

static bool has_message(Recorder *r, const char *message) {
        bool found = false;

        pthread_mutex_lock(&r->lock);
        for (size_t i = 0; i < r->n; i++)
                found = found || streq(r->messages[i], message);
        pthread_mutex_unlock(&r->lock);
        return found;
}

/* Writes one exec entry of uid through j: 1 if queued, 0 if suppressed. */
static int write_exec(ProcessJournal *j, const Config *c, uid_t uid) {
        _cleanup_(process_entry_freep) ProcessEntry *e = process_entry_new(4242, 1);
        ProcEvent ev = { .kind = PROC_KIND_EXEC };

        CHECK(e);
        e->uid = uid;
        return process_journal_write(j, c, &ev, e, e->pid, 0, 0, 0);
}

/* One uid's exec loop past its burst: the others' entries still go out, and the event loop
 * writes the summary when the loop's window ends, with no further entry of that uid. */
static void test_rate_limit_summary(void) {
        Recorder r = { PTHREAD_MUTEX_INITIALIZER, -1, -1 };
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        ProcessJournal j = {};
        Config c;

        CHECK(sd_event_new(&event) >= 0);
        config_init(&c);
        c.journal_events = UINT32_C(1) << PROC_KIND_EXEC;
        c.journal_rate_limit_interval_usec = 50 * USEC_PER_MSEC;
        c.journal_rate_limit_burst = 2;
        process_journal_init(&j, event);
        j.send = record;
        j.send_userdata = &r;

        for (unsigned i = 0; i < 5; i++)
                CHECK_EQ_INT(write_exec(&j, &c, 1000), i < 2 ? 1 : 0);
        CHECK_EQ_INT(write_exec(&j, &c, 1001), 1);
        CHECK_EQ_INT(j.suppressed, 3);
        /* The wait ends when the summary is there; the bound only ends a test gone wrong. */
        for (unsigned i = 0; i < 1000 && !has_message(&r, "Suppressed 3 entries of uid 1000."); i++)
                CHECK(sd_event_run(event, 10 * USEC_PER_MSEC) >= 0);
        CHECK(has_message(&r, "Suppressed 3 entries of uid 1000."));
        /* Counted written once the send has returned, after the recorder saw it. */
        while (process_journal_written(&j) < 4)
                usleep(1000);
        CHECK_EQ_INT(process_journal_written(&j), 4);
        CHECK_EQ_INT(count(&r, &r.n), 4);
        CHECK_EQ_INT(process_journal_failed(&j), 0);
        process_journal_done(&j);
        CHECK_EQ_INT(r.n, 4);
        config_done(&c);
        recorder_done(&r);
}

int main(void) {
        test_order();
        test_full_queue();
        test_stuck_for_good();
        test_rate_limit_summary();
        return 0;
}
