/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The journal writing thread: see journal-writer.h. */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "journal-writer.h"
#include "thread-util.h"

struct JournalWriter {
        JournalSend send;
        void *userdata;
        size_t max_entries, max_bytes;

        pthread_t thread;
        bool thread_started;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        /* Under lock: */
        JournalEntry *head, *tail;
        size_t n, bytes;
        bool stopping;
        JournalEntry *sending;          /* the thread's, freed here if the thread was cancelled */
        uint64_t unreported;            /* dropped since the last report */
        JournalWriterCounters counters;
};

static int send_journal(const struct iovec *fields, size_t n_fields, void *userdata) {
        return sd_journal_sendv(fields, (int) n_fields);
}

JournalEntry *journal_dropped_entry(uint64_t n) {
        JournalBuilder b;

        journal_builder_init(&b);
        (void) journal_builder_add(&b, "MESSAGE_ID", JOURNAL_DROPPED_MESSAGE_ID);
        (void) journal_builder_addf(&b, "MESSAGE", "Dropped %" PRIu64 " journal entries: journald did not keep up.",
                                    n);
        (void) journal_builder_add(&b, "PRIORITY", "4");
        (void) journal_builder_addf(&b, "CND_DROPPED", "%" PRIu64, n);
        return journal_builder_finish(&b);
}

/* Writes e, which may be cancelled (and only here): the thread may be stuck in a send to a
 * journald that reads nothing, and then it is cancelled on stop. Called and returns under lock. */
static void write_entry(JournalWriter *w, JournalEntry *e) {
        int r;

        w->sending = e;
        pthread_mutex_unlock(&w->lock);
        pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
        r = w->send(e->fields, e->n_fields, w->userdata);
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
        pthread_mutex_lock(&w->lock);
        w->sending = NULL;
        if (r < 0)
                w->counters.failed++;
        else
                w->counters.written++;
        free(e);
}

static JournalEntry *pop(JournalWriter *w) {
        JournalEntry *e = w->head;

        LIST_REMOVE(queue, w->head, w->tail, e);
        w->n--;
        w->bytes -= e->size;
        return e;
}

static void *writer_thread(void *userdata) {
        JournalWriter *w = userdata;

        /* Cancelled only inside send(): never while holding the lock. */
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
        /* From inside: glibc names another thread by writing /proc/self/task/TID/comm. */
        (void) pthread_setname_np(pthread_self(), "cnd-journal");
        pthread_mutex_lock(&w->lock);
        for (;;) {
                while (!w->stopping && !w->head)
                        pthread_cond_wait(&w->wake, &w->lock);
                if (!w->head)
                        break;
                write_entry(w, pop(w));
                /* Caught up: say what was dropped meanwhile (a report that cannot be made
                 * waits for the next time). */
                if (!w->head && w->unreported > 0) {
                        JournalEntry *report = journal_dropped_entry(w->unreported);

                        if (report) {
                                w->unreported = 0;
                                write_entry(w, report);
                        }
                }
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

int journal_writer_new(JournalSend send, void *userdata, size_t max_entries, size_t max_bytes,
                       JournalWriter **ret) {
        _cleanup_(journal_writer_freep) JournalWriter *w = NULL;
        int r;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->send = send ?: send_journal;
        w->userdata = userdata;
        w->max_entries = max_entries ?: JOURNAL_QUEUE_MAX;
        w->max_bytes = max_bytes ?: JOURNAL_QUEUE_BYTES_MAX;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->wake, NULL);
        r = thread_start_signals_blocked(&w->thread, writer_thread, w);
        if (r < 0)
                return r;
        w->thread_started = true;
        *ret = TAKE_PTR(w);
        return 0;
}

static void stop_thread(JournalWriter *w) {
        struct timespec deadline;
        uint64_t t;

        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);

        /* On the monotonic clock: a step of the wall clock (NTP, a VM's clock put right) must
         * neither cut the wait short nor make it longer. */
        t = now_usec(CLOCK_MONOTONIC) + JOURNAL_STOP_USEC;
        deadline = (struct timespec) { .tv_sec = t / USEC_PER_SEC, .tv_nsec = (t % USEC_PER_SEC) * 1000 };
        if (pthread_clockjoin_np(w->thread, NULL, CLOCK_MONOTONIC, &deadline) != 0) {
                /* Stuck in a send: cnd's stop must not wait for journald. */
                pthread_cancel(w->thread);
                pthread_join(w->thread, NULL);
        }
}

JournalWriter *journal_writer_free(JournalWriter *w) {
        if (!w)
                return NULL;
        if (w->thread_started)
                stop_thread(w);
        free(w->sending);
        while (w->head)
                free(pop(w));
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        return mfree(w);
}

int journal_writer_push(JournalWriter *w, JournalEntry *e) {
        pthread_mutex_lock(&w->lock);
        if (w->n >= w->max_entries || w->bytes + e->size > w->max_bytes) {
                w->counters.dropped++;
                w->unreported++;
                pthread_mutex_unlock(&w->lock);
                free(e);
                return -ENOBUFS;
        }
        LIST_APPEND(queue, w->head, w->tail, e);
        w->n++;
        w->bytes += e->size;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        return 0;
}

JournalWriterCounters journal_writer_counters(JournalWriter *w) {
        JournalWriterCounters c;

        pthread_mutex_lock(&w->lock);
        c = w->counters;
        pthread_mutex_unlock(&w->lock);
        return c;
}
