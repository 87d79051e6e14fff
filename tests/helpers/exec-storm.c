/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* exec-storm N [PARALLEL] [PROGRAM]: forks N children that each exec PROGRAM (default
 * /bin/true) with the argument "exec-storm-N" (its index), keeping up to PARALLEL (default 4)
 * alive, and reaps them all. A load of short-lived programs for the process-table benchmark;
 * prints how long it took. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        long n, parallel, started = 0, running = 0;
        const char *program;
        struct timespec a, b;

        if (argc < 2 || (n = strtol(argv[1], NULL, 10)) <= 0) {
                fprintf(stderr, "usage: exec-storm N [PARALLEL] [PROGRAM]\n");
                return 2;
        }
        parallel = argc > 2 ? strtol(argv[2], NULL, 10) : 4;
        if (parallel <= 0)
                parallel = 1;
        program = argc > 3 ? argv[3] : "/bin/true";

        clock_gettime(CLOCK_MONOTONIC, &a);
        while (started < n || running > 0) {
                if (started < n && running < parallel) {
                        pid_t pid = fork();

                        if (pid == 0) {
                                char arg[32];

                                snprintf(arg, sizeof(arg), "exec-storm-%ld", started);
                                execl(program, program, arg, (char *) NULL);
                                _exit(127);
                        }
                        if (pid < 0) {
                                if (errno == EAGAIN && running > 0)
                                        goto reap;
                                perror("fork");
                                return 1;
                        }
                        started++;
                        running++;
                        continue;
                }
        reap:
                if (wait(NULL) > 0)
                        running--;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("%ld execs in %.3f s\n", n, (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9);
        return 0;
}
