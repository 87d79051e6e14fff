/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The /proc reading thread: see process-reader.h. Two singly-linked FIFOs under one mutex: the
 * requests to read, which the thread takes from, and those read, which the event loop takes all
 * at once when the eventfd says there are some. */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "process-reader.h"
#include "thread-util.h"

typedef struct Fifo {
        ProcessReadRequest *head, *tail;
} Fifo;

struct ProcessReader {
        ProcessReadDone done;
        void *userdata;
        sd_event_source *source;
        int eventfd;
        size_t pending;                 /* the event loop's: submitted, not handed back */
        bool unkicked;                  /* the event loop's: submitted since the last kick */

        pthread_t thread;
        bool thread_started;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        /* Under lock: */
        Fifo to_read, read;
        bool stopping;
        bool waiting;                   /* the thread waits for requests */
        bool notified;                  /* the eventfd was written since the loop last took `read` */
        unsigned unnotified;            /* reads moved to `read` since the eventfd was written */
};

/* While requests keep coming, the thread wakes the loop after this many reads, or when it has
 * read them all: fewer wake-ups in a storm, no wait for the first read of a quiet moment. */
#define READS_PER_NOTIFY 16U

static void fifo_push(Fifo *f, ProcessReadRequest *req) {
        req->next = NULL;
        if (f->tail)
                f->tail->next = req;
        else
                f->head = req;
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

void process_read_request_run(ProcessReadRequest *req) {
        switch (req->kind) {
        case PROCESS_READ_INFO_END:
                req->result = process_info_read_end(req->info, req->flags);
                return;
        case PROCESS_READ_START_TIME:
                req->result = process_read_start_time(req->pid, &req->start_time);
                return;
        }
        req->result = -EINVAL;
}

static void *reader_thread(void *userdata) {
        ProcessReader *r = userdata;
        static const uint64_t one = 1;

        /* From inside: glibc names another thread by writing /proc/self/task/TID/comm, which a
         * sandboxed /proc may refuse; naming itself is prctl(PR_SET_NAME). */
        (void) pthread_setname_np(pthread_self(), "cnd-proc-read");
        pthread_mutex_lock(&r->lock);
        for (;;) {
                ProcessReadRequest *req;

                r->waiting = true;
                while (!r->stopping && !r->to_read.head)
                        pthread_cond_wait(&r->wake, &r->lock);
                r->waiting = false;
                if (r->stopping)
                        break;
                req = fifo_pop(&r->to_read);
                pthread_mutex_unlock(&r->lock);

                process_read_request_run(req);

                pthread_mutex_lock(&r->lock);
                fifo_push(&r->read, req);
                r->unnotified++;
                if (!r->notified && (!r->to_read.head || r->unnotified >= READS_PER_NOTIFY)) {
                        r->notified = true;
                        r->unnotified = 0;
                        /* Under the lock, so the loop cannot close the eventfd meanwhile; a
                         * full counter (never, at one write per wake-up) would only mean the
                         * loop is woken already. */
                        (void) !write(r->eventfd, &one, sizeof(one));
                }
        }
        pthread_mutex_unlock(&r->lock);
        return NULL;
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
                r->done(req, r->userdata);
        }
        return 0;
}

int process_reader_new(sd_event *event, ProcessReadDone done, void *userdata, ProcessReader **ret) {
        _cleanup_(process_reader_freep) ProcessReader *r = NULL;
        int k;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->done = done;
        r->userdata = userdata;
        r->eventfd = -1;
        pthread_mutex_init(&r->lock, NULL);
        pthread_cond_init(&r->wake, NULL);

        r->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (r->eventfd < 0)
                return -errno;
        k = sd_event_add_io(event, &r->source, r->eventfd, EPOLLIN, on_eventfd, r);
        if (k < 0)
                return k;

        k = thread_start_signals_blocked(&r->thread, reader_thread, r);
        if (k < 0)
                return k;
        r->thread_started = true;

        *ret = TAKE_PTR(r);
        return 0;
}

ProcessReader *process_reader_free(ProcessReader *r) {
        if (!r)
                return NULL;
        if (r->thread_started) {
                pthread_mutex_lock(&r->lock);
                r->stopping = true;
                pthread_cond_signal(&r->wake);
                pthread_mutex_unlock(&r->lock);
                pthread_join(r->thread, NULL);
        }
        /* The requests, read or not, are their owners' again. */
        r->source = sd_event_source_disable_unref(r->source);
        if (r->eventfd >= 0)
                close(r->eventfd);
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        return mfree(r);
}

void process_reader_submit(ProcessReader *r, ProcessReadRequest *req) {
        req->result = 0;
        req->start_time = 0;
        r->pending++;
        r->unkicked = true;
        pthread_mutex_lock(&r->lock);
        fifo_push(&r->to_read, req);
        pthread_mutex_unlock(&r->lock);
}

void process_reader_kick(ProcessReader *r) {
        if (!r || !r->unkicked)
                return;
        r->unkicked = false;
        pthread_mutex_lock(&r->lock);
        if (r->waiting)
                pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
}

size_t process_reader_pending(const ProcessReader *r) {
        return r->pending;
}
