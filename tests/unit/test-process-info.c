/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/process/process-info.c against real processes on this host: the test itself;
 * a child whose arguments hold spaces, a newline, an empty string and invalid UTF-8; a child
 * with a command line over the bound; a child that has exited and been reaped; a zombie;
 * another user's process read by root, and root's process read by another user (exe is
 * unresolved, the read still succeeds); the unit, "" on a host without systemd and no failure;
 * short-lived children read while they exec and exit; the /proc scan (thread-group leaders
 * only); pid_max; and the table entry made from a read.
 *
 * "test-process-info --bench [N]" measures the cost of one read instead. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-login.h>
#include <time.h>

#include "process-info.h"
#include "tests.h"
#include "utf8.h"
#include "util.h"

#define NOBODY 65534
#define ALL_FIELDS ((1U << _PROCESS_FIELD_MAX) - 1)
#define FIELD(f) PROCESS_FIELD_BIT(PROCESS_FIELD_##f)

/* The test's program, to start again; and the target of its exe link as the reader sees it,
 * which under valgrind is valgrind (valgrind answers readlink("/proc/self/exe") itself, but
 * not a readlinkat() relative to /proc/PID). */
static char self_exe[PATH_MAX], self_exe_link[PATH_MAX];

static void read_self_exe(void) {
        int dirfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ssize_t n;

        n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
        CHECK(n > 0);
        self_exe[n] = '\0';
        CHECK(dirfd >= 0);
        n = readlinkat(dirfd, "exe", self_exe_link, sizeof(self_exe_link) - 1);
        CHECK(n > 0);
        self_exe_link[n] = '\0';
        close(dirfd);
}

static ProcessInfo *read_info(pid_t pid, ProcessReadFlags flags) {
        ProcessInfo *info = NULL;

        CHECK_EQ_INT(process_info_read(pid, flags, &info), 0);
        CHECK(info);
        CHECK_EQ_INT(info->pid, pid);
        /* Whatever happened, every string is there and is a D-Bus string. */
        CHECK(info->exe && info->argv && info->cgroup && info->unit);
        CHECK(utf8_is_dbus_string(info->exe, strlen(info->exe)));
        CHECK(utf8_is_dbus_string(info->cgroup, strlen(info->cgroup)));
        CHECK(utf8_is_dbus_string(info->unit, strlen(info->unit)));
        for (char **a = info->argv; *a; a++)
                CHECK(utf8_is_dbus_string(*a, strlen(*a)));
        for (ProcessField f = 0; f < _PROCESS_FIELD_MAX; f++)
                CHECK(!(info->unresolved & PROCESS_FIELD_BIT(f)) == !info->error[f]);
        return info;
}

static void print_info(const char *what, const ProcessInfo *info) {
        printf("%s: pid %d ppid %d ruid %u state %c exe \"%s\" argc %zu cgroup \"%s\" unit \"%s\" exited %s unresolved",
               what, (int) info->pid, (int) info->ppid, (unsigned) info->ruid, info->state ?: '-', info->exe,
               strv_length(info->argv), info->cgroup, info->unit, yes_no(info->exited));
        for (ProcessField f = 0; f < _PROCESS_FIELD_MAX; f++)
                if (info->unresolved & PROCESS_FIELD_BIT(f))
                        printf(" %s(%s)", process_field_to_string(f), strerror(-info->error[f]));
        printf("\n");
}

/* Starts argv[0] with argv as uid (0: as we are) and returns once it has exec'd: the pipe's
 * write end closes on exec. */
static pid_t spawn(char * const *argv, uid_t uid) {
        int p[2], err = 0;
        ssize_t k;
        pid_t pid;

        CHECK(pipe2(p, O_CLOEXEC) == 0);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                if (uid != 0 && (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)) {
                        err = errno;
                        (void) !write(p[1], &err, sizeof(err));
                        _exit(127);
                }
                execv(argv[0], argv);
                err = errno;
                (void) !write(p[1], &err, sizeof(err));
                _exit(127);
        }
        close(p[1]);
        k = read(p[0], &err, sizeof(err));
        close(p[0]);
        if (k != 0)
                fprintf(stderr, "cannot start %s: %s\n", argv[0], strerror(err));
        CHECK(k == 0);
        return pid;
}

static void kill_and_reap(pid_t pid) {
        CHECK(kill(pid, SIGKILL) == 0);
        CHECK(waitpid(pid, NULL, 0) == pid);
}

static uint64_t stat_start_time(pid_t pid) {
        char path[64], buf[4096];
        ProcStat st;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0);
        n = read(fd, buf, sizeof(buf));
        close(fd);
        CHECK(n > 0);
        CHECK_EQ_INT(procfs_parse_stat(buf, (size_t) n, &st), 0);
        return st.start_time;
}

static bool host_has_cgroup_v2(void) {
        char buf[8192];
        int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
        ssize_t n;

        CHECK(fd >= 0);
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        CHECK(n >= 0);
        buf[n] = '\0';
        return strncmp(buf, "0::", 3) == 0 || strstr(buf, "\n0::");
}

/* What libsystemd says pid's unit is, as process-info.h defines it; "" if none. */
/* The system unit, always: a user manager's processes are in user@UID.service. */
static char *expected_unit(pid_t pid) {
        char *unit = NULL;

        if (sd_pid_get_unit(pid, &unit) < 0)
                return strdup("");
        return unit;
}

static uint64_t namespace_inode(const char *kind) {
        char path[64];
        struct stat st;

        snprintf(path, sizeof(path), "/proc/self/ns/%s", kind);
        CHECK(stat(path, &st) >= 0);
        return (uint64_t) st.st_ino;
}

/* Where this test runs, as process_info_read() tells it. */
static void check_where_self(const ProcessInfo *info, ProcessReadFlags flags) {
        _cleanup_(freep) char *user_unit = NULL;

        CHECK(info->where.pid_namespace == namespace_inode("pid"));
        CHECK(info->where.mount_namespace == namespace_inode("mnt"));
        CHECK(info->where.namespace_pid > 0);
        if (info->where.namespace_pid != (uint32_t) getpid())
                printf("in a pid namespace of its own: pid %d is %u there\n", (int) getpid(),
                       info->where.namespace_pid);
        /* No container here but what the cgroup path says, and "" is known none. */
        CHECK(!host_has_cgroup_v2() || info->where.container);
        if (flags & PROCESS_READ_NO_UNIT) {
                CHECK_STREQ(info->where.user_unit, "");
                CHECK_STREQ(info->where.machine, "");
                return;
        }
        /* What libsystemd says, below a user manager or a session scope alike. */
        if (sd_pid_get_user_unit(getpid(), &user_unit) < 0)
                CHECK_STREQ(info->where.user_unit, "");
        else
                CHECK_STREQ(info->where.user_unit, user_unit);
        CHECK(info->where.machine);
}

/* Whether an argument holds s (under valgrind, the test's name is not the first). */
static bool argv_mentions(char **argv, const char *s) {
        for (; *argv; argv++)
                if (strstr(*argv, s))
                        return true;
        return false;
}

static void test_self(void) {
        _cleanup_(process_info_freep) ProcessInfo *info = read_info(getpid(), 0);
        _cleanup_(freep) char *exe = NULL, *unit = expected_unit(getpid());

        print_info("self", info);
        CHECK_EQ_INT(utf8_escape(self_exe_link, strlen(self_exe_link), &exe), 0);
        CHECK_STREQ(info->exe, exe);
        CHECK(argv_mentions(info->argv, "test-process-info"));
        CHECK_EQ_INT(info->ppid, getppid());
        CHECK_EQ_INT(info->ruid, getuid());
        CHECK_EQ_INT(info->euid, geteuid());
        CHECK_EQ_INT(info->start_time, stat_start_time(getpid()));
        CHECK_EQ_INT(info->state, 'R');
        CHECK(!info->exited);
        CHECK(!info->cmdline_truncated);
        CHECK_EQ_INT(info->unresolved, 0);
        /* Without systemd as PID 1 there is no unit: "", and not a failure. */
        CHECK_STREQ(info->unit, unit);
        if (host_has_cgroup_v2())
                CHECK(info->cgroup[0] == '/');
        else
                CHECK_STREQ(info->cgroup, "");
        check_where_self(info, 0);

        /* Without argv, the command line is not read, and that is not a failure. */
        info = process_info_free(info);
        info = read_info(getpid(), PROCESS_READ_NO_ARGV);
        CHECK(!info->argv[0]);
        CHECK_EQ_INT(info->unresolved, 0);
        CHECK_STREQ(info->exe, exe);

        /* Without the unit: "", not a failure either. */
        info = process_info_free(info);
        info = read_info(getpid(), PROCESS_READ_NO_UNIT);
        CHECK_STREQ(info->unit, "");
        CHECK_EQ_INT(info->unresolved, 0);
        check_where_self(info, PROCESS_READ_NO_UNIT);
        CHECK(info->argv[0]);

        CHECK_EQ_INT(process_info_read(0, 0, &info), -EINVAL);
        CHECK_EQ_INT(process_info_read(-1, 0, &info), -EINVAL);
}

static void test_odd_arguments(void) {
        char * const argv[] = { self_exe, (char *) "--sleep", (char *) "two words", (char *) "new\nline",
                                (char *) "", (char *) "bad\xff\xfe utf8", (char *) "caf\xc3\xa9", (char *) "back\\slash",
                                (char *) "", NULL };
        static const char * const expected[] = { "--sleep", "two words", "new\nline", "", "bad\\xff\\xfe utf8",
                                                 "caf\xc3\xa9", "back\\\\slash", "" };
        _cleanup_(process_info_freep) ProcessInfo *info = NULL;
        pid_t pid = spawn(argv, 0);

        info = read_info(pid, 0);
        print_info("odd arguments", info);
        CHECK_EQ_INT(strv_length(info->argv), 1 + ELEMENTSOF(expected));
        CHECK_STREQ(info->argv[0], info->exe);  /* self_exe has no byte that needs escaping here */
        for (size_t i = 0; i < ELEMENTSOF(expected); i++)
                CHECK_STREQ(info->argv[i + 1], expected[i]);
        CHECK_EQ_INT(info->ppid, getpid());
        CHECK_EQ_INT(info->start_time, stat_start_time(pid));
        CHECK_EQ_INT(info->unresolved, 0);
        CHECK(!info->exited);
        kill_and_reap(pid);
}

static void test_long_cmdline(void) {
        enum { N_ARGS = 100, ARG_LEN = 1000 };
        _cleanup_(process_info_freep) ProcessInfo *info = NULL;
        char *argv[N_ARGS + 3] = { self_exe, (char *) "--sleep" };
        size_t total = strlen(self_exe) + 1 + strlen("--sleep") + 1, whole = 2;
        pid_t pid;

        /* 100 KB of arguments, each different, so that their order shows. */
        for (size_t i = 0; i < N_ARGS; i++) {
                argv[i + 2] = malloc(ARG_LEN + 1);
                CHECK(argv[i + 2]);
                memset(argv[i + 2], 'a' + (char) (i % 26), ARG_LEN);
                snprintf(argv[i + 2], ARG_LEN + 1, "%zu", i);
                argv[i + 2][strlen(argv[i + 2])] = '-';
                argv[i + 2][ARG_LEN] = '\0';
                if (total + ARG_LEN + 1 <= PROCESS_CMDLINE_MAX)
                        whole++;
                total += ARG_LEN + 1;
        }
        CHECK(total > PROCESS_CMDLINE_MAX);

        pid = spawn(argv, 0);
        info = read_info(pid, 0);
        CHECK(info->cmdline_truncated);
        CHECK_EQ_INT(info->unresolved, 0);
        /* The whole arguments within the bound, and not the one it cuts. */
        CHECK_EQ_INT(strv_length(info->argv), whole);
        for (size_t i = 1; i < whole; i++)
                CHECK_STREQ(info->argv[i], argv[i]);
        printf("long command line: %zu bytes, %zu of %d arguments kept\n", total, whole, N_ARGS + 2);
        kill_and_reap(pid);
        for (size_t i = 0; i < N_ARGS; i++)
                free(argv[i + 2]);
}

static void test_reaped(void) {
        _cleanup_(process_info_freep) ProcessInfo *info = NULL;
        uint64_t start_time;
        int p[2];
        char c;
        pid_t pid;

        /* The child waits for a byte, so that its start time can be read first. */
        CHECK(pipe2(p, O_CLOEXEC) == 0);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                (void) !read(p[0], &c, 1);
                _exit(0);
        }
        start_time = stat_start_time(pid);
        CHECK(write(p[1], "x", 1) == 1);
        CHECK(waitpid(pid, NULL, 0) == pid);
        close(p[0]);
        close(p[1]);

        info = read_info(pid, 0);
        print_info("reaped", info);
        if (!(info->unresolved & FIELD(STAT)) && info->start_time != start_time) {
                printf("pid %d was reused already: nothing to check\n", (int) pid);
                return;
        }
        CHECK(info->exited);
        CHECK_EQ_INT(info->unresolved, ALL_FIELDS);
        for (ProcessField f = 0; f < _PROCESS_FIELD_MAX; f++)
                CHECK_EQ_INT(info->error[f], -ESRCH);
        CHECK_STREQ(info->exe, "");
        CHECK(!info->argv[0]);
        CHECK_STREQ(info->cgroup, "");
        CHECK_STREQ(info->unit, "");
        CHECK_EQ_INT(info->ppid, -1);
        CHECK(info->ruid == (uid_t) -1);
        CHECK_EQ_INT(info->state, 0);

        /* What is not asked for is not counted as unread. */
        info = process_info_free(info);
        info = read_info(pid, PROCESS_READ_NO_ARGV | PROCESS_READ_NO_UNIT);
        if (info->exited)
                CHECK_EQ_INT(info->unresolved, ALL_FIELDS & ~(FIELD(CMDLINE) | FIELD(UNIT)));
}

/* The command line read on its own, as a reading thread does, handed over to info. */
static void take_cmdline(ProcessInfo *info) {
        _cleanup_(closep) int fd = process_info_open_cmdline(info);
        ProcessCmdline c;

        CHECK(fd >= 0);
        CHECK_EQ_INT(process_cmdline_read(fd, &c), 0);
        process_info_take_cmdline(info, &c);
        process_cmdline_done(&c);
}

/* The read in steps: what goes with the process at once, the command line, the rest later. */
static void test_begin_end(void) {
        char * const argv[] = { self_exe, (char *) "--sleep", (char *) "begin-end", NULL };
        _cleanup_(process_info_freep) ProcessInfo *whole = NULL, *info = NULL;
        ProcessCmdline c;
        pid_t pid = spawn(argv, 0);

        /* A live process: the steps read what one read does. */
        whole = read_info(pid, 0);
        CHECK_EQ_INT(process_info_read_begin(pid, 0, &info), 0);
        CHECK_STREQ(info->exe, self_exe);
        CHECK(!info->argv[0]);          /* the step that touches its memory is not made */
        CHECK_EQ_INT(info->start_time, whole->start_time);
        take_cmdline(info);
        CHECK(argv_mentions(info->argv, "begin-end"));
        CHECK_EQ_INT(process_info_read_end(info, 0), 0);
        print_info("begin+end", info);
        CHECK_EQ_INT(info->unresolved, 0);
        CHECK(!info->exited);
        CHECK_EQ_INT(info->ruid, whole->ruid);
        CHECK_STREQ(info->cgroup, whole->cgroup);
        CHECK_STREQ(info->unit, whole->unit);
        info = process_info_free(info);

        /* Another process than the one begun (as a pid reused in between would be): the rest
         * is not read from it. */
        CHECK_EQ_INT(process_info_read_begin(pid, 0, &info), 0);
        info->start_time++;
        CHECK_EQ_INT(process_info_read_end(info, 0), 0);
        CHECK(info->exited);
        /* (and its command line, not read: an empty one of a gone process is not its own) */
        CHECK_EQ_INT(info->unresolved, FIELD(STATUS) | FIELD(CMDLINE) | FIELD(CGROUP) | FIELD(UNIT));
        CHECK_EQ_INT(info->error[PROCESS_FIELD_STATUS], -ESRCH);
        CHECK(info->ruid == (uid_t) -1);
        CHECK_STREQ(info->cgroup, "");
        CHECK_STREQ(info->exe, self_exe);               /* read at once: its own */
        info = process_info_free(info);

        /* The command line of another process than the one begun: not read. */
        CHECK_EQ_INT(process_info_read_begin(pid, 0, &info), 0);
        info->start_time++;
        c = (ProcessCmdline) { .error = process_info_open_cmdline(info) };
        CHECK_EQ_INT(c.error, -ESRCH);
        process_info_take_cmdline(info, &c);
        CHECK_EQ_INT(info->unresolved, FIELD(CMDLINE));
        CHECK_EQ_INT(info->error[PROCESS_FIELD_CMDLINE], -ESRCH);
        info = process_info_free(info);

        /* The directory held from the first step: the same reads, without the checks by stat,
         * and let go of at the end. */
        CHECK_EQ_INT(process_info_read_begin(pid, PROCESS_READ_HOLD_DIR, &info), 0);
        CHECK(info->dir >= 0);
        take_cmdline(info);
        CHECK(argv_mentions(info->argv, "begin-end"));
        CHECK_EQ_INT(process_info_read_end(info, PROCESS_READ_HOLD_DIR), 0);
        CHECK_EQ_INT(info->dir, -1);
        CHECK_EQ_INT(info->unresolved, 0);
        CHECK(!info->exited);
        CHECK_STREQ(info->cgroup, whole->cgroup);
        info = process_info_free(info);

        /* Gone between the steps: what was read at once is kept, the rest unresolved. */
        CHECK_EQ_INT(process_info_read_begin(pid, 0, &info), 0);
        take_cmdline(info);
        kill_and_reap(pid);
        CHECK_EQ_INT(process_info_read_end(info, 0), 0);
        print_info("begun, then reaped", info);
        CHECK(info->exited);
        CHECK_STREQ(info->exe, self_exe);
        CHECK(argv_mentions(info->argv, "begin-end"));
        CHECK_EQ_INT(info->unresolved, FIELD(STATUS) | FIELD(CGROUP) | FIELD(UNIT));

        /* A zombie by the end: status says it has exited, and its empty command line is not
         * its own. */
        info = process_info_free(info);
        pid = spawn(argv, 0);
        CHECK_EQ_INT(process_info_read_begin(pid, PROCESS_READ_HOLD_DIR, &info), 0);
        CHECK(!info->exited);
        CHECK_EQ_INT(kill(pid, SIGKILL), 0);
        CHECK(waitid(P_PID, (id_t) pid, &(siginfo_t) {}, WEXITED | WNOWAIT) == 0);
        take_cmdline(info);
        CHECK_EQ_INT(process_info_read_end(info, PROCESS_READ_HOLD_DIR), 0);
        CHECK(info->exited);
        CHECK_EQ_INT(info->state, 'Z');
        CHECK_EQ_INT(info->unresolved, FIELD(CMDLINE));
        kill_and_reap(pid);

        /* The same with the directory held: it reads its own process or nothing. */
        info = process_info_free(info);
        pid = spawn(argv, 0);
        CHECK_EQ_INT(process_info_read_begin(pid, PROCESS_READ_HOLD_DIR, &info), 0);
        kill_and_reap(pid);
        CHECK_EQ_INT(process_info_open_cmdline(info), -ESRCH);
        CHECK_EQ_INT(process_info_read_end(info, PROCESS_READ_HOLD_DIR), 0);
        CHECK(info->exited);
        CHECK_STREQ(info->exe, self_exe);
        CHECK_EQ_INT(info->unresolved, FIELD(STATUS) | FIELD(CMDLINE) | FIELD(CGROUP) | FIELD(UNIT));
        CHECK_EQ_INT(info->dir, -1);

        /* Begun after it was gone: nothing to end. */
        info = process_info_free(info);
        CHECK_EQ_INT(process_info_read_begin(pid, 0, &info), 0);
        if (info->unresolved & FIELD(STAT)) {
                CHECK_EQ_INT(process_info_read_end(info, 0), 0);
                CHECK_EQ_INT(info->unresolved, ALL_FIELDS);
        }
}

/* An event from before the process started is not its own: everything read is let go. */
static void test_started_after(void) {
        _cleanup_(process_info_freep) ProcessInfo *info = NULL;
        struct timespec now;
        uint64_t now_ns, start_ns;

        CHECK_EQ_INT(process_info_read(getpid(), 0, &info), 0);
        clock_gettime(CLOCK_MONOTONIC, &now);
        now_ns = (uint64_t) now.tv_sec * UINT64_C(1000000000) + (uint64_t) now.tv_nsec;
        start_ns = process_start_time_to_monotonic_ns(info->start_time);
        CHECK(start_ns > 0 && start_ns <= now_ns);
        /* Its own events (since its start, rounded down to a tick) are its. */
        CHECK(!process_info_started_after(info, now_ns));
        /* (The conversion reads two clocks, a few ns apart: a microsecond either side.) */
        CHECK(!process_info_started_after(info, start_ns + 1000));
        /* An event from before it started is another process's. */
        CHECK(process_info_started_after(info, start_ns - 1000));

        process_info_disown(info, PROCESS_READ_NO_UNIT);
        CHECK(info->exited);
        CHECK_EQ_INT(info->unresolved, ALL_FIELDS & ~FIELD(UNIT));
        CHECK_EQ_INT(info->error[PROCESS_FIELD_EXE], -ESRCH);
        CHECK_STREQ(info->exe, "");
        CHECK(!info->argv[0]);
        CHECK_STREQ(info->cgroup, "");
        CHECK_EQ_INT(info->start_time, 0);
        CHECK(info->ppid == -1);
        CHECK(info->ruid == (uid_t) -1);
        /* And it is no longer said to have started at all. */
        CHECK(!process_info_started_after(info, 0));
}

static void test_zombie(void) {
        _cleanup_(process_info_freep) ProcessInfo *info = NULL;
        siginfo_t si = {};
        pid_t pid;

        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0)
                _exit(3);
        /* Wait for the exit, leaving the child a zombie. */
        CHECK(waitid(P_PID, (id_t) pid, &si, WEXITED | WNOWAIT) == 0);

        info = read_info(pid, 0);
        print_info("zombie", info);
        CHECK(info->exited);
        CHECK_EQ_INT(info->state, 'Z');
        CHECK_EQ_INT(info->ppid, getpid());
        CHECK_EQ_INT(info->start_time, stat_start_time(pid));
        CHECK_EQ_INT(info->ruid, getuid());
        /* Its exe and memory are gone; stat and status remain. */
        CHECK_STREQ(info->exe, "");
        CHECK(!info->argv[0]);
        CHECK(info->unresolved & FIELD(EXE));
        CHECK(info->unresolved & FIELD(CMDLINE));
        CHECK(!(info->unresolved & (FIELD(STAT) | FIELD(STATUS))));
        CHECK(waitpid(pid, NULL, 0) == pid);
}

static void test_other_user(void) {
        char * const argv[] = { (char *) "/bin/sleep", (char *) "1000", NULL };
        _cleanup_(process_info_freep) ProcessInfo *info = NULL;
        char sleep_path[PATH_MAX];
        pid_t pid;

        if (geteuid() != 0) {
                printf("not root: skipping another user's process\n");
                return;
        }
        CHECK(realpath("/bin/sleep", sleep_path));
        pid = spawn(argv, NOBODY);
        info = read_info(pid, 0);
        print_info("nobody's sleep, read by root", info);
        CHECK_STREQ(info->exe, sleep_path);
        CHECK_EQ_INT(strv_length(info->argv), 2);
        CHECK_STREQ(info->argv[1], "1000");
        CHECK_EQ_INT(info->ruid, NOBODY);
        CHECK_EQ_INT(info->euid, NOBODY);
        CHECK_EQ_INT(info->unresolved, 0);
        kill_and_reap(pid);
}

/* In a child, as nobody: reads root's process, the test. No ptrace access, so no exe, and
 * still a read. */
static void read_as_nobody(pid_t parent, pid_t grandparent) {
        _cleanup_(process_info_freep) ProcessInfo *info = NULL;

        CHECK(setgroups(0, NULL) == 0 && setgid(NOBODY) == 0 && setuid(NOBODY) == 0);
        info = read_info(parent, 0);
        print_info("root's process, read by nobody", info);
        CHECK(info->unresolved & FIELD(EXE));
        CHECK(info->error[PROCESS_FIELD_EXE] == -EACCES || info->error[PROCESS_FIELD_EXE] == -EPERM);
        CHECK_STREQ(info->exe, "");
        CHECK(!info->exited);
        CHECK_EQ_INT(info->ruid, 0);
        CHECK_EQ_INT(info->ppid, grandparent);
        CHECK(argv_mentions(info->argv, "test-process-info"));
        CHECK(!(info->unresolved & (FIELD(STAT) | FIELD(STATUS) | FIELD(CMDLINE))));
}

static void test_read_as_other_user(void) {
        pid_t parent = getpid(), grandparent = getppid(), pid;
        int status;

        if (geteuid() != 0) {
                printf("not root: skipping a read as another user\n");
                return;
        }
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                read_as_nobody(parent, grandparent);
                _exit(EXIT_SUCCESS);
        }
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Children that exec /bin/true and exit at once, read while that happens: whatever the
 * timing, the read succeeds and what it gives is consistent. */
static void test_racing(void) {
        char * const argv[] = { (char *) "/bin/true", NULL };
        char true_path[PATH_MAX];
        unsigned exited = 0, resolved = 0;

        CHECK(realpath("/bin/true", true_path));
        for (unsigned i = 0; i < 300; i++) {
                _cleanup_(process_info_freep) ProcessInfo *info = NULL;
                pid_t pid = fork();

                CHECK(pid >= 0);
                if (pid == 0) {
                        execv(argv[0], argv);
                        _exit(127);
                }
                info = read_info(pid, 0);
                CHECK(waitpid(pid, NULL, 0) == pid);
                exited += info->exited;
                if (info->exe[0]) {
                        resolved++;
                        CHECK(streq(info->exe, true_path) || streq(info->exe, self_exe_link));
                }
                if (!(info->unresolved & FIELD(STAT)))
                        CHECK_EQ_INT(info->ppid, getpid());
                if (!info->exited)
                        CHECK(!(info->unresolved & FIELD(UNIT)));
        }
        printf("racing: 300 reads, %u had exited, %u with exe\n", exited, resolved);
}

static void *thread_sleep(void *p) {
        pid_t *tid = p;

        *tid = gettid();
        pause();
        return NULL;
}

static void test_scan(void) {
        _cleanup_(freep) ProcessKey *keys = NULL;
        pthread_t thread;
        volatile pid_t tid = 0;
        bool self = false;
        size_t n;

        CHECK(pthread_create(&thread, NULL, thread_sleep, (void *) &tid) == 0);
        while (!tid)
                usleep(1000);

        CHECK_EQ_INT(process_scan(&keys, &n), 0);
        CHECK(n > 1);
        for (size_t i = 0; i < n; i++) {
                CHECK(keys[i].pid > 0);
                CHECK(i == 0 || keys[i - 1].pid < keys[i].pid);
                CHECK(keys[i].pid != tid);      /* thread-group leaders only */
                if (keys[i].pid == getpid()) {
                        self = true;
                        CHECK_EQ_INT(keys[i].start_time, stat_start_time(getpid()));
                }
        }
        CHECK(self);
        printf("scan: %zu processes\n", n);
        CHECK(pthread_cancel(thread) == 0);
        CHECK(pthread_join(thread, NULL) == 0);
}

static void test_pid_max(void) {
        char buf[32] = {};
        unsigned pid_max;
        int fd;

        CHECK_EQ_INT(process_read_pid_max(&pid_max), 0);
        fd = open("/proc/sys/kernel/pid_max", O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0);
        CHECK(read(fd, buf, sizeof(buf) - 1) > 0);
        close(fd);
        CHECK_EQ_INT(pid_max, strtoul(buf, NULL, 10));
        CHECK((pid_t) pid_max > getpid());
}

static uint64_t now_ns(clockid_t clock) {
        struct timespec ts;

        CHECK(clock_gettime(clock, &ts) == 0);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static bool string_equal_or_null(const char *a, const char *b) {
        return a == b || (a && b && streq(a, b));
}

static void test_entry(void) {
        _cleanup_(process_info_freep) ProcessInfo *info = read_info(getpid(), 0);
        /* Before the entry: its block gives its size back to the budget at the entry's end. */
        StringBudget budget = { .max = SIZE_MAX };
        _cleanup_(process_entry_freep) ProcessEntry *e = NULL;
        ProcessWhere where = info->where;
        uint64_t now = now_ns(CLOCK_MONOTONIC);

        CHECK_EQ_INT(process_entry_new_from_info(info, &budget, NULL, &e), 0);
        /* Copies of info's strings, in a block of the entry's, charged to the budget. */
        CHECK(e->strings && e->strings->budget == &budget && budget.used == e->strings->size);
        CHECK_STREQ(e->exe, info->exe);
        CHECK(e->exe != info->exe);
        CHECK_STREQ(e->argv[0], info->argv[0]);
        CHECK_STREQ(e->cgroup, info->cgroup);
        CHECK_STREQ(e->unit, info->unit);
        CHECK(string_equal_or_null(e->where.container, where.container));
        CHECK(string_equal_or_null(e->where.user_unit, where.user_unit));
        CHECK(e->where.pid_namespace == where.pid_namespace && e->where.namespace_pid == where.namespace_pid);
        CHECK_EQ_INT(e->pid, getpid());
        CHECK_EQ_INT(e->ppid, getppid());
        CHECK_EQ_INT(e->uid, getuid());
        CHECK_EQ_INT(e->start_time, info->start_time);
        /* Started before now, and (this test being short) not long before. */
        CHECK(e->start_ns > 0 && e->start_ns <= now);
        CHECK(now - e->start_ns < UINT64_C(600) * 1000000000);

        CHECK(process_start_time_to_monotonic_ns(0) == 0 ||
              process_start_time_to_monotonic_ns(0) < UINT64_C(1000000000));
}

static double elapsed_us(const struct timespec *a, const struct timespec *b) {
        return (double) (b->tv_sec - a->tv_sec) * 1e6 + (double) (b->tv_nsec - a->tv_nsec) / 1e3;
}

/* Wall and CPU time per read: on a busy machine the CPU time is the steadier figure. */
static void bench(unsigned n) {
        char * const argv[] = { self_exe, (char *) "--sleep", (char *) "--some-option=value", (char *) "/a/file/name", NULL };
        static const struct { const char *name; ProcessReadFlags flags; } modes[] = {
                { "full read", 0 },
                { "without unit", PROCESS_READ_NO_UNIT },
                { "without argv", PROCESS_READ_NO_ARGV },
                { "without unit and argv", PROCESS_READ_NO_UNIT | PROCESS_READ_NO_ARGV },
        };
        struct timespec a, b, ca, cb;
        pid_t pid = spawn(argv, 0);
        _cleanup_(freep) ProcessKey *keys = NULL;
        size_t n_keys;

        for (size_t m = 0; m < ELEMENTSOF(modes); m++) {
                clock_gettime(CLOCK_MONOTONIC, &a);
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
                for (unsigned i = 0; i < n; i++) {
                        ProcessInfo *info;

                        CHECK_EQ_INT(process_info_read(pid, modes[m].flags, &info), 0);
                        CHECK_EQ_INT(info->unresolved, 0);
                        process_info_free(info);
                }
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
                clock_gettime(CLOCK_MONOTONIC, &b);
                printf("%-22s %7.2f us wall, %7.2f us CPU per read (%u reads of a live process)\n",
                       modes[m].name, elapsed_us(&a, &b) / n, elapsed_us(&ca, &cb) / n, n);
        }
        /* The step made at once on an exec event, and the one left to the thread. */
        for (unsigned step = 0; step < 2; step++) {
                double wall = 0, cpu = 0;

                for (unsigned i = 0; i < n; i++) {
                        ProcessInfo *info;

                        if (step == 1)
                                CHECK_EQ_INT(process_info_read_begin(pid, 0, &info), 0);
                        clock_gettime(CLOCK_MONOTONIC, &a);
                        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
                        if (step == 0)
                                CHECK_EQ_INT(process_info_read_begin(pid, 0, &info), 0);
                        else
                                CHECK_EQ_INT(process_info_read_end(info, 0), 0);
                        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
                        clock_gettime(CLOCK_MONOTONIC, &b);
                        wall += elapsed_us(&a, &b);
                        cpu += elapsed_us(&ca, &cb);
                        CHECK_EQ_INT(info->unresolved, 0);
                        process_info_free(info);
                }
                printf("%-22s %7.2f us wall, %7.2f us CPU per read (%u reads of a live process)\n",
                       step == 0 ? "begin (at once)" : "end (in the thread)", wall / n, cpu / n, n);
        }
        kill_and_reap(pid);

        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
        CHECK_EQ_INT(process_scan(&keys, &n_keys), 0);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("scan of /proc: %zu processes in %.0f us wall, %.0f us CPU\n", n_keys, elapsed_us(&a, &b),
               elapsed_us(&ca, &cb));
}

int main(int argc, char *argv[]) {
        /* The child some tests start, with the arguments they give it. */
        if (argc >= 2 && streq(argv[1], "--sleep")) {
                pause();
                return EXIT_SUCCESS;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        read_self_exe();
        if (argc >= 2 && streq(argv[1], "--bench")) {
                bench(argc >= 3 ? (unsigned) strtoul(argv[2], NULL, 10) : 10000);
                return EXIT_SUCCESS;
        }

        test_self();
        test_odd_arguments();
        test_long_cmdline();
        test_reaped();
        test_begin_end();
        test_started_after();
        test_zombie();
        test_other_user();
        test_read_as_other_user();
        test_racing();
        test_scan();
        test_pid_max();
        test_entry();
        return EXIT_SUCCESS;
}
