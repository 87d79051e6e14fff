/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* fork-storm N [PARALLEL [PROGRAM]]: forks N children that exit at once, keeping up to PARALLEL
 * (default 4) alive, and reaps them all. With PROGRAM, each child execs it instead, with one
 * argument "storm-I" (I its number), so a watcher can tell which execs it saw. A load of
 * short-lived processes for the cn_proc tests and benchmarks; prints how long it took. */

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
                fprintf(stderr, "usage: fork-storm N [PARALLEL [PROGRAM]]\n");
                return 2;
        }
        program = argc > 3 ? argv[3] : NULL;
        parallel = argc > 2 ? strtol(argv[2], NULL, 10) : 4;
        if (parallel <= 0)
                parallel = 1;

        clock_gettime(CLOCK_MONOTONIC, &a);
        while (started < n || running > 0) {
                if (started < n && running < parallel) {
                        pid_t pid = fork();

                        if (pid == 0) {
                                char arg[32];

                                if (!program)
                                        _exit(0);
                                snprintf(arg, sizeof(arg), "storm-%ld", started);
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
        printf("%ld %s in %.3f s\n", n, program ? "execs" : "forks", (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9);
        return 0;
}
