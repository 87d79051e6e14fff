/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <signal.h>

/* Starts a thread with every signal blocked: signals stay the event loop's (sd-event takes
 * them by signalfd, which needs them blocked in every thread). 0 or a negative errno. */
static inline int thread_start_signals_blocked(pthread_t *thread, void *(*fn)(void *), void *arg) {
        sigset_t all, old;
        int k;

        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        k = pthread_create(thread, NULL, fn, arg);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return -k;
}
