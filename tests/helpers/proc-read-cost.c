/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* What the /proc reads of a process storm cost with nothing else around them: a cn_proc listener
 * (as root) that, as soon as it reads an event, reads what cnd reads for it (a new process's
 * stat for a fork; for an exec stat, exe, the pid and mount namespaces, cmdline, status and
 * cgroup, through the process's /proc directory opened once) and nothing more: no bus, no table,
 * no thread. Its CPU time per exec is the floor under any listener that names what each exec
 * runs, on the machine it is measured on. On SIGTERM or SIGINT it prints
 *
 *     forks N execs N resolved N cpu_us N
 *
 * (resolved: execs whose exe could still be read) and exits.
 *
 *     proc-read-cost
 *
 * It prints "ready" once it has joined. */

#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        stop = 1;
}

static uint64_t cpu_us(void) {
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (uint64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
               (uint64_t) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* One file of the directory, read whole and dropped; false if it could not be opened. */
static int read_file(int dir, const char *name) {
        char buf[8192];
        int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return 0;
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
        close(fd);
        return 1;
}

static int open_pid_dir(uint32_t pid) {
        char path[sizeof("/proc/") + 10];

        snprintf(path, sizeof(path), "/proc/%u", pid);
        return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* What cnd reads for an exec: 1 if its exe could be read. */
static int read_exec(uint32_t pid) {
        char target[PATH_MAX];
        int dir = open_pid_dir(pid), resolved;

        if (dir < 0)
                return 0;
        read_file(dir, "stat");
        resolved = readlinkat(dir, "exe", target, sizeof(target)) >= 0;
        readlinkat(dir, "ns/pid", target, sizeof(target));
        readlinkat(dir, "ns/mnt", target, sizeof(target));
        read_file(dir, "cmdline");
        read_file(dir, "status");
        read_file(dir, "cgroup");
        close(dir);
        return resolved;
}

static void read_fork(uint32_t child) {
        int dir = open_pid_dir(child);

        if (dir < 0)
                return;
        read_file(dir, "stat");
        close(dir);
}

static int join(int sock) {
        struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
        enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
        char req[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(op))] __attribute__((aligned(NLMSG_ALIGNTO))) = {};
        struct nlmsghdr *nl = (struct nlmsghdr *) req;
        struct cn_msg *cn = NLMSG_DATA(nl);
        int size = 64 << 20;

        nl->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + sizeof(op));
        nl->nlmsg_type = NLMSG_DONE;
        cn->id.idx = CN_IDX_PROC;
        cn->id.val = CN_VAL_PROC;
        cn->len = sizeof(op);
        memcpy(cn->data, &op, sizeof(op));

        setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
        if (bind(sock, (struct sockaddr *) &addr, sizeof(addr)) < 0)
                return -errno;
        if (send(sock, req, nl->nlmsg_len, 0) < 0)
                return -errno;
        return 0;
}

int main(void) {
        struct sigaction sa = { .sa_handler = on_signal };      /* no SA_RESTART: recv returns */
        uint64_t forks = 0, execs = 0, resolved = 0, start;
        char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
        int sock, r;

        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sock = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
        if (sock < 0 || (r = join(sock)) < 0) {
                fprintf(stderr, "proc-read-cost: cannot join cn_proc: %s\n", strerror(errno));
                return 1;
        }
        start = cpu_us();
        printf("ready\n");
        fflush(stdout);

        while (!stop) {
                ssize_t len = recv(sock, buf, sizeof(buf), 0);
                struct nlmsghdr *nl = (struct nlmsghdr *) buf;

                if (len < 0)
                        continue;      /* EINTR at the end, ENOBUFS in a burst: this floor reads what it can */
                for (; NLMSG_OK(nl, len); nl = NLMSG_NEXT(nl, len)) {
                        struct cn_msg *cn = NLMSG_DATA(nl);
                        struct proc_event *ev = (struct proc_event *) cn->data;

                        if (nl->nlmsg_type != NLMSG_DONE || cn->len < sizeof(*ev))
                                continue;
                        if (ev->what == PROC_EVENT_FORK &&
                            ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid) {
                                forks++;
                                read_fork(ev->event_data.fork.child_pid);
                        } else if (ev->what == PROC_EVENT_EXEC) {
                                execs++;
                                resolved += read_exec(ev->event_data.exec.process_tgid);
                        }
                }
        }
        printf("forks %llu execs %llu resolved %llu cpu_us %llu\n", (unsigned long long) forks,
               (unsigned long long) execs, (unsigned long long) resolved,
               (unsigned long long) (cpu_us() - start));
        return 0;
}
