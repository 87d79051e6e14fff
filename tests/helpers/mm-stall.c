/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* mm-stall FILE: a process whose memory nobody else can read, made by its own user. FILE is on a
 * FUSE file system whose reads never return (tests/bus/stallfs.py). One thread maps a page of
 * FILE and reads it through /proc/self/mem: the kernel faults the page in for that read holding
 * this process's mmap lock, and waits for the FUSE read with it held. A second thread then asks
 * for the lock to write (an mmap()), and waits behind the first; once a writer has waited a few
 * milliseconds the kernel lets no new reader past it. From then on every read of this process's
 * memory by anyone (its /proc/PID/cmdline, environ, maps, mem) waits until the FUSE server
 * answers or goes. The kernel's own guard (cmdline and environ are never read from a file
 * mapping, since 4.18) does not help: the lock is held elsewhere. Prints "ready" once the writer
 * waits; ends when the FUSE connection is aborted and then killed. */

#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void *mapped;
static sem_t write_now;

static void *read_own_memory(void *arg) {
        char c;
        int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);

        if (fd >= 0)
                (void) !pread(fd, &c, 1, (off_t) (uintptr_t) mapped);
        return NULL;
}

static void *map_something(void *arg) {
        sem_wait(&write_now);
        (void) mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return NULL;
}

static void pause_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

        nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
        pthread_t reader, writer;
        int fd;

        if (argc != 2) {
                fprintf(stderr, "usage: mm-stall FILE\n");
                return 2;
        }
        fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                perror(argv[1]);
                return 1;
        }
        mapped = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
        if (mapped == MAP_FAILED) {
                perror("mmap");
                return 1;
        }
        /* Both threads (and their stacks, mapped) before the lock is taken. */
        sem_init(&write_now, 0, 0);
        if (pthread_create(&writer, NULL, map_something, NULL) != 0 ||
            pthread_create(&reader, NULL, read_own_memory, NULL) != 0) {
                fprintf(stderr, "mm-stall: cannot start threads\n");
                return 1;
        }
        pause_ms(100);          /* the reader is in the fault */
        sem_post(&write_now);
        pause_ms(100);          /* the writer has waited past the kernel's hand-off */
        /* write(), not stdio: a buffer allocated now would wait for the lock too. */
        (void) !write(STDOUT_FILENO, "ready\n", 6);
        pthread_join(reader, NULL);
        pthread_join(writer, NULL);
        return 0;
}
