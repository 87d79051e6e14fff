/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* hold-processes N: forks N children that only pause() (no exec: each costs a task and a few
 * pages), to fill the machine's pid space and with it cnd's process table, for the process-table
 * benchmark's RSS at a full table. Prints "ready COUNT" once COUNT children exist (fewer than N
 * when fork fails with EAGAIN: the pids or tasks ran out), holds them until stdin closes or
 * SIGTERM, then kills and reaps them all and exits 0. The children die with it (PDEATHSIG). */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static _Noreturn void child(pid_t parent, const sigset_t *mask) {
        /* A parent gone before PDEATHSIG was set would never send it: check after. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(1);
        /* Not the holder's pipes: a reader of its stdout sees the end when the holder exits. */
        close(STDIN_FILENO);
        close(STDOUT_FILENO);
        sigprocmask(SIG_UNBLOCK, mask, NULL);
        for (;;)
                pause();
}

static void kill_all(const pid_t *pids, long n) {
        for (long i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        while (wait(NULL) > 0 || errno == EINTR)
                ;
}

/* Until stdin reaches its end or fails, or SIGTERM arrives on sfd. */
static void hold(int sfd) {
        struct pollfd fds[2] = {
                { .fd = STDIN_FILENO, .events = POLLIN },
                { .fd = sfd, .events = POLLIN },
        };
        char buf[256];

        for (;;) {
                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (fds[1].revents)
                        return;
                if (fds[0].revents & POLLIN) {
                        ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));

                        if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN))
                                return;
                } else if (fds[0].revents)
                        return;         /* POLLHUP, POLLERR, POLLNVAL */
        }
}

int main(int argc, char *argv[]) {
        pid_t parent = getpid(), *pids;
        long n, count = 0;
        sigset_t mask;
        char *end;
        int sfd;

        if (argc != 2 || (n = strtol(argv[1], &end, 10)) <= 0 || *end) {
                fprintf(stderr, "usage: hold-processes N\n");
                return 2;
        }
        pids = calloc((size_t) n, sizeof(pid_t));
        if (!pids) {
                perror("calloc");
                return 1;
        }
        /* Blocked from before the first fork, so a SIGTERM meanwhile waits for the signalfd; each
         * child unblocks it and dies of one. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        while (count < n) {
                pid_t pid = fork();

                if (pid == 0)
                        child(parent, &mask);
                if (pid < 0) {
                        if (errno == EAGAIN)
                                break;  /* as many as the machine allows */
                        perror("fork");
                        kill_all(pids, count);
                        return 1;
                }
                pids[count++] = pid;
        }

        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0) {
                perror("signalfd");
                kill_all(pids, count);
                return 1;
        }
        printf("ready %ld\n", count);
        fflush(stdout);
        hold(sfd);
        kill_all(pids, count);
        return 0;
}
