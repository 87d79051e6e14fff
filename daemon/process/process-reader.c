/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The /proc reading threads: see process-reader.h. Two singly-linked FIFOs under one mutex: the
 * requests to read, which the threads take from, and those read, which the event loop takes all
 * at once when the eventfd says there are some. A thread stuck in a read of a command line is
 * let go of by the event loop (its deadline timer): it leaves the reader's list of workers, owns
 * itself from then on, and ends when its read returns; the reader itself is freed by the last of
 * the event loop and the stuck threads to let go of it. */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "process-reader.h"
#include "thread-util.h"

typedef struct Fifo {
        ProcessReadRequest *head, *tail;
} Fifo;

typedef struct Worker {
        ProcessReader *reader;
        pthread_t thread;
        /* Under the reader's lock: */
        ProcessReadRequest *reading;    /* whose command line it is reading, or NULL */
        uint64_t since_usec;            /* CLOCK_MONOTONIC, when that read began */
        bool abandoned;                 /* let go of: it ends when its read returns */
} Worker;

struct ProcessReader {
        sd_event_source *source;
        sd_event_source *deadline_timer;
        size_t pending;                 /* the event loop's: submitted, not handed back */
        bool unkicked;                  /* the event loop's: submitted since the last kick */
        Worker *workers[PROCESS_READERS];       /* the event loop's; NULL if none */

        pthread_mutex_t lock;
        pthread_cond_t wake;
        /* Under lock: */
        int eventfd;                    /* -1 once the event loop has let go */
        Fifo to_read, read;
        bool stopping;
        unsigned waiting;               /* threads waiting for requests */
        bool notified;                  /* the eventfd was written since the loop last took `read` */
        unsigned unnotified;            /* reads moved to `read` since the eventfd was written */
        unsigned stuck;                 /* threads let go of whose read has not returned */
        bool orphaned;                  /* the event loop has let go: the last stuck thread frees */
        uint64_t abandoned;
};

/* While requests keep coming, a thread wakes the loop after this many reads, or when all are
 * read: fewer wake-ups in a storm, no wait for the first read of a quiet moment. */
#define READS_PER_NOTIFY 16U

static void fifo_push(Fifo *f, ProcessReadRequest *req) {
        req->next = NULL;
        if (f->tail)
                f->tail->next = req;
        else
                f->head = req;
        f->tail = req;
}

static void fifo_push_front(Fifo *f, ProcessReadRequest *req) {
        req->next = f->head;
        f->head = req;
        if (!f->tail)
                f->tail = req;
}

static ProcessReadRequest *fifo_pop(Fifo *f) {
        ProcessReadRequest *req = f->head;

        if (req) {
                f->head = req->next;
                if (!f->head)
                        f->tail = NULL;
                req->next = NULL;
        }
        return req;
}

static uint64_t now_usec_monotonic(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

static bool wants_cmdline(const ProcessReadRequest *req) {
        return req->kind == PROCESS_READ_INFO_END && !(req->flags & PROCESS_READ_NO_ARGV) &&
                !(req->info->unresolved & PROCESS_FIELD_BIT(PROCESS_FIELD_STAT));
}

void process_read_request_run(ProcessReadRequest *req) {
        switch (req->kind) {
        case PROCESS_READ_INFO_END:
                /* Not read by a thread (nor to be): unresolved, and why. */
                if (wants_cmdline(req) && req->cmdline_error <= 0)
                        process_info_take_cmdline(req->info, &(ProcessCmdline) { .error = req->cmdline_error ?: -EAGAIN });
                req->result = process_info_read_end(req->info, req->flags);
                return;
        case PROCESS_READ_START_TIME:
                req->result = process_read_start_time(req->pid, &req->start_time);
                return;
        }
        req->result = -EINVAL;
}

/* The command line of req's process, read by w into its own memory and handed over if req is
 * still w's when the read returns. Called and returns with the lock held; false if w was let go
 * of meanwhile (req is then no longer its to touch). */
static bool worker_read_cmdline(Worker *w, ProcessReadRequest *req) {
        ProcessReader *r = w->reader;
        ProcessCmdline c = {};
        int fd;

        if (r->stuck >= PROCESS_READERS_STUCK_MAX) {
                r->abandoned++;
                req->cmdline_error = -EBUSY;
                return true;
        }
        /* Opening waits on nothing of the process's, and req is w's alone until w->reading says
         * it reads: the file is open before the request may go to another thread, which lets
         * go of the process's directory when it ends the read. */
        pthread_mutex_unlock(&r->lock);
        fd = process_info_open_cmdline(req->info);
        pthread_mutex_lock(&r->lock);
        /* The reader is being freed: it let go of the threads reading, not of this one, and
         * joins it; a read that never returns must not hold that up. */
        if (r->stopping) {
                safe_close(fd);
                req->cmdline_error = -ECANCELED;
                return true;
        }
        w->reading = req;
        w->since_usec = now_usec_monotonic();
        pthread_mutex_unlock(&r->lock);

        if (fd >= 0)
                (void) process_cmdline_read(fd, &c);
        else
                c.error = fd;
        safe_close(fd);

        pthread_mutex_lock(&r->lock);
        if (w->abandoned) {
                process_cmdline_done(&c);
                return false;
        }
        w->reading = NULL;
        pthread_mutex_unlock(&r->lock);
        process_info_take_cmdline(req->info, &c);
        process_cmdline_done(&c);
        pthread_mutex_lock(&r->lock);
        req->cmdline_error = PROCESS_CMDLINE_READ;
        return true;
}

/* Hands req back to the event loop; under the lock. */
static void hand_back(ProcessReader *r, ProcessReadRequest *req) {
        static const uint64_t one = 1;

        fifo_push(&r->read, req);
        r->unnotified++;
        if (!r->notified && r->eventfd >= 0 && (!r->to_read.head || r->unnotified >= READS_PER_NOTIFY)) {
                r->notified = true;
                r->unnotified = 0;
                /* Under the lock, so the loop cannot close the eventfd meanwhile; a full counter
                 * (never, at one write per wake-up) would only mean the loop is woken already. */
                (void) !write(r->eventfd, &one, sizeof(one));
        }
}

static void reader_destroy(ProcessReader *r) {
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
}

/* A stuck thread whose read has returned: it and, if the loop has let go too, the reader go. */
static void *worker_release(Worker *w) {
        ProcessReader *r = w->reader;
        bool last;

        r->stuck--;
        last = r->orphaned && r->stuck == 0;
        pthread_mutex_unlock(&r->lock);
        free(w);
        if (last)
                reader_destroy(r);
        return NULL;
}

static void *worker_thread(void *userdata) {
        Worker *w = userdata;
        ProcessReader *r = w->reader;

        /* From inside: glibc names another thread by writing /proc/self/task/TID/comm, which a
         * sandboxed /proc may refuse; naming itself is prctl(PR_SET_NAME). */
        (void) pthread_setname_np(pthread_self(), "cnd-proc-read");
        pthread_mutex_lock(&r->lock);
        for (;;) {
                ProcessReadRequest *req;

                r->waiting++;
                while (!r->stopping && !r->to_read.head)
                        pthread_cond_wait(&r->wake, &r->lock);
                r->waiting--;
                if (r->stopping)
                        break;
                req = fifo_pop(&r->to_read);
                /* More to read, and another thread idle: it takes the next. */
                if (r->to_read.head && r->waiting > 0)
                        pthread_cond_signal(&r->wake);

                if (wants_cmdline(req) && req->cmdline_error == 0 && !worker_read_cmdline(w, req))
                        return worker_release(w);
                pthread_mutex_unlock(&r->lock);
                process_read_request_run(req);
                pthread_mutex_lock(&r->lock);
                hand_back(r, req);
        }
        pthread_mutex_unlock(&r->lock);
        return NULL;
}

static int worker_start(ProcessReader *r, Worker **ret) {
        Worker *w;
        int k;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->reader = r;
        k = thread_start_signals_blocked(&w->thread, worker_thread, w);
        if (k < 0) {
                free(w);
                return k;
        }
        *ret = w;
        return 0;
}

static int on_eventfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ProcessReader *r = userdata;
        ProcessReadRequest *req;
        uint64_t value;
        Fifo done;

        (void) !read(fd, &value, sizeof(value));
        pthread_mutex_lock(&r->lock);
        done = r->read;
        r->read = (Fifo) {};
        r->notified = false;
        pthread_mutex_unlock(&r->lock);

        while ((req = fifo_pop(&done))) {
                r->pending--;
                req->done(req, req->userdata);
        }
        return 0;
}

/* Lets go of w, stuck past its deadline: its request goes back to the others, marked, and w
 * owns itself from now on. Under the lock. */
static void worker_abandon(ProcessReader *r, Worker *w) {
        ProcessReadRequest *req = TAKE_PTR(w->reading);

        req->cmdline_error = -ETIMEDOUT;
        fifo_push_front(&r->to_read, req);
        pthread_cond_signal(&r->wake);
        w->abandoned = true;
        r->stuck++;
        r->abandoned++;
        (void) pthread_detach(w->thread);
        log_warning("A read of /proc/%d/cmdline has not returned for %u ms: the process holds its memory's lock. "
                    "Going on without its arguments (%u reading threads stuck).",
                    (int) req->info->pid, PROCESS_READ_DEADLINE_USEC / 1000U, r->stuck);
}

/* Replaces the threads stuck past their deadline. */
static void check_deadlines(ProcessReader *r) {
        uint64_t now = now_usec_monotonic();

        for (size_t i = 0; i < PROCESS_READERS; i++) {
                Worker *w = r->workers[i];
                bool late;

                if (!w)
                        continue;
                pthread_mutex_lock(&r->lock);
                late = w->reading && now - w->since_usec >= PROCESS_READ_DEADLINE_USEC;
                if (late)
                        worker_abandon(r, w);
                pthread_mutex_unlock(&r->lock);
                if (late) {
                        r->workers[i] = NULL;
                        if (worker_start(r, &r->workers[i]) < 0)
                                log_warning("Failed to start a thread in place of the stuck one.");
                }
        }
}

static int on_deadline_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ProcessReader *r = userdata;

        check_deadlines(r);
        if (r->pending > 0)
                return sd_event_source_set_time_relative(s, PROCESS_READ_DEADLINE_USEC / 4) < 0 ? 0 :
                        sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

int process_reader_new(sd_event *event, ProcessReader **ret) {
        _cleanup_(process_reader_freep) ProcessReader *r = NULL;
        size_t started = 0;
        int k;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->eventfd = -1;
        pthread_mutex_init(&r->lock, NULL);
        pthread_cond_init(&r->wake, NULL);

        r->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (r->eventfd < 0)
                return -errno;
        k = sd_event_add_io(event, &r->source, r->eventfd, EPOLLIN, on_eventfd, r);
        if (k < 0)
                return k;
        k = sd_event_add_time_relative(event, &r->deadline_timer, CLOCK_MONOTONIC, PROCESS_READ_DEADLINE_USEC / 4,
                                       10 * 1000, on_deadline_timer, r);
        if (k < 0)
                return k;
        (void) sd_event_source_set_enabled(r->deadline_timer, SD_EVENT_OFF);

        /* One thread is enough to go on with; the others are a bonus. */
        for (size_t i = 0; i < PROCESS_READERS; i++)
                if (worker_start(r, &r->workers[i]) >= 0)
                        started++;
        if (started == 0)
                return -EAGAIN;
        *ret = TAKE_PTR(r);
        return 0;
}

/* Lets go of the threads reading a command line now, which may never return. Under the lock. */
static void let_go_of_readers(ProcessReader *r) {
        for (size_t i = 0; i < PROCESS_READERS; i++) {
                Worker *w = r->workers[i];

                if (w && w->reading) {
                        w->reading = NULL;
                        w->abandoned = true;
                        r->stuck++;
                        (void) pthread_detach(w->thread);
                        r->workers[i] = NULL;
                }
        }
}

ProcessReader *process_reader_free(ProcessReader *r) {
        bool last;

        if (!r)
                return NULL;
        pthread_mutex_lock(&r->lock);
        r->stopping = true;
        pthread_cond_broadcast(&r->wake);
        let_go_of_readers(r);
        pthread_mutex_unlock(&r->lock);
        for (size_t i = 0; i < PROCESS_READERS; i++)
                if (r->workers[i]) {
                        pthread_join(r->workers[i]->thread, NULL);
                        free(r->workers[i]);
                }
        /* The requests, read or not, are their owners' again. */
        r->source = sd_event_source_disable_unref(r->source);
        r->deadline_timer = sd_event_source_disable_unref(r->deadline_timer);
        pthread_mutex_lock(&r->lock);
        if (r->eventfd >= 0)
                close(r->eventfd);
        r->eventfd = -1;
        r->orphaned = true;
        last = r->stuck == 0;
        pthread_mutex_unlock(&r->lock);
        if (last)
                reader_destroy(r);
        return NULL;
}

void process_reader_submit(ProcessReader *r, ProcessReadRequest *req) {
        int enabled = SD_EVENT_OFF;

        req->result = 0;
        req->start_time = 0;
        r->pending++;
        r->unkicked = true;
        pthread_mutex_lock(&r->lock);
        fifo_push(&r->to_read, req);
        pthread_mutex_unlock(&r->lock);
        (void) sd_event_source_get_enabled(r->deadline_timer, &enabled);
        if (enabled == SD_EVENT_OFF && sd_event_source_set_time_relative(r->deadline_timer,
                                                                        PROCESS_READ_DEADLINE_USEC / 4) >= 0)
                (void) sd_event_source_set_enabled(r->deadline_timer, SD_EVENT_ONESHOT);
}

void process_reader_kick(ProcessReader *r) {
        if (!r || !r->unkicked)
                return;
        r->unkicked = false;
        pthread_mutex_lock(&r->lock);
        if (r->waiting > 0)
                pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
}

size_t process_reader_pending(const ProcessReader *r) {
        return r->pending;
}

uint64_t process_reader_abandoned(const ProcessReader *r) {
        ProcessReader *m = (ProcessReader *) r;
        uint64_t n;

        pthread_mutex_lock(&m->lock);
        n = m->abandoned;
        pthread_mutex_unlock(&m->lock);
        return n;
}
