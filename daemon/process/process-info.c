/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "process-info.h"
#include "unit-path.h"
#include "utf8.h"

/* stat is one line of some 300 bytes (comm up to 64): this is ample. */
#define STAT_MAX 4096
/* status is ~1.5 KiB, longer with many CPUs; the Uid line is near its start, so a cut status
 * still gives what is needed. */
#define STATUS_MAX 8192
/* One line per cgroup hierarchy, each path below PATH_MAX. */
#define CGROUP_MAX (64U * 1024U)

static const char * const field_names[_PROCESS_FIELD_MAX] = {
        [PROCESS_FIELD_STAT] = "stat",
        [PROCESS_FIELD_STATUS] = "status",
        [PROCESS_FIELD_EXE] = "exe",
        [PROCESS_FIELD_CMDLINE] = "cmdline",
        [PROCESS_FIELD_CGROUP] = "cgroup",
        [PROCESS_FIELD_UNIT] = "unit",
};

const char *process_field_to_string(ProcessField f) {
        return (unsigned) f < _PROCESS_FIELD_MAX ? field_names[f] : NULL;
}

/* Reads fd into buf until it is full or the file ends: how many bytes, or -errno. */
static ssize_t read_full(int fd, char *buf, size_t size) {
        size_t n = 0;

        while (n < size) {
                ssize_t k = read(fd, buf + n, size - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        return (ssize_t) n;
}

/* Opens name in a /proc/PID directory: the fd, or -ESRCH once the directory's process is reaped
 * (every file of its directory is gone then), or another negative errno. */
static int open_at(int dirfd, const char *name) {
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        return fd;
}

/* Reads name (in the directory dirfd) into buf, at most size bytes: *ret_n of them, and
 * whether the file had more. */
static int read_at(int dirfd, const char *name, char *buf, size_t size, size_t *ret_n, bool *ret_truncated) {
        _cleanup_(closep) int fd = -1;
        ssize_t n;
        char c;

        *ret_n = 0;
        if (ret_truncated)
                *ret_truncated = false;
        fd = open_at(dirfd, name);
        if (fd < 0)
                return fd;
        n = read_full(fd, buf, size);
        if (n < 0)
                return (int) n;
        *ret_n = (size_t) n;
        if (ret_truncated)
                *ret_truncated = (size_t) n == size && read_full(fd, &c, 1) > 0;
        return 0;
}

/* Reads fd into a new buffer that grows as needed up to max bytes: *ret_n of them, and whether
 * the file had more. */
static int read_fd_alloc(int fd, size_t max, char **ret, size_t *ret_n, bool *ret_truncated) {
        _cleanup_(freep) char *buf = NULL;
        size_t n = 0, size = 0;

        /* Up to one byte more than max, to know whether there is more. */
        while (n == size && size <= max) {
                size_t grown = MIN(MAX(size * 2, (size_t) 4096), max + 1);
                char *b = realloc(buf, grown);
                ssize_t k;

                if (!b)
                        return -ENOMEM;
                buf = b;
                k = read_full(fd, buf + n, grown - n);
                if (k < 0)
                        return (int) k;
                n += (size_t) k;
                size = grown;
        }
        *ret_truncated = n > max;
        *ret_n = MIN(n, max);
        *ret = TAKE_PTR(buf);
        return 0;
}

/* As read_at(), into a new buffer: read_fd_alloc(). */
static int read_at_alloc(int dirfd, const char *name, size_t max, char **ret, size_t *ret_n, bool *ret_truncated) {
        _cleanup_(closep) int fd = -1;

        fd = open_at(dirfd, name);
        if (fd < 0)
                return fd;
        return read_fd_alloc(fd, max, ret, ret_n, ret_truncated);
}

static void set_unresolved(ProcessInfo *info, ProcessField f, int error) {
        info->unresolved |= PROCESS_FIELD_BIT(f);
        info->error[f] = error;
        /* ESRCH through the /proc/PID directory: the process has been reaped. */
        if (error == -ESRCH)
                info->exited = true;
}

static int read_stat(int dirfd, ProcStat *ret) {
        char buf[STAT_MAX];
        bool truncated;
        size_t n;
        int r;

        r = read_at(dirfd, "stat", buf, sizeof(buf), &n, &truncated);
        if (r < 0)
                return r;
        if (truncated)
                return -EBADMSG;
        return procfs_parse_stat(buf, n, ret);
}

static int read_status(ProcessInfo *info, int dirfd) {
        char buf[STATUS_MAX];
        ProcStatus st;
        size_t n;
        int r;

        r = read_at(dirfd, "status", buf, sizeof(buf), &n, NULL);
        if (r >= 0)
                r = procfs_parse_status(buf, n, &st);
        if (r < 0) {
                set_unresolved(info, PROCESS_FIELD_STATUS, r);
                return 0;
        }
        info->ruid = st.ruid;
        info->euid = st.euid;
        if (st.state)
                info->state = st.state;
        if (st.state == 'Z' || st.state == 'X')
                info->exited = true;
        /* Missing (before 4.1, or past a long Groups: line): unknown. */
        if (procfs_parse_nspid(buf, n, &info->where.namespace_pid) < 0)
                info->where.namespace_pid = 0;
        return 0;
}

static int read_exe(ProcessInfo *info, int dirfd) {
        char buf[PATH_MAX + 1];
        ssize_t n;
        char *s;
        int r;

        /* The kernel gives at most PATH_MAX - 1 bytes (ENAMETOOLONG beyond): a full buffer
         * cannot be a whole path. */
        n = readlinkat(dirfd, "exe", buf, sizeof(buf));
        if (n < 0 || (size_t) n >= sizeof(buf)) {
                set_unresolved(info, PROCESS_FIELD_EXE, n < 0 ? -errno : -ENAMETOOLONG);
                return 0;
        }
        r = utf8_escape(buf, (size_t) n, &s);
        if (r < 0)
                return r;
        free(info->exe);
        info->exe = s;
        return 0;
}

/* The command line of an open cmdline file, into c alone: see process_cmdline_read(). */
static int read_cmdline_fd(int fd, ProcessCmdline *c) {
        _cleanup_(freep) char *buf = NULL;
        size_t n;
        int r;

        r = read_fd_alloc(fd, PROCESS_CMDLINE_MAX, &buf, &n, &c->truncated);
        if (r < 0)
                return r;
        return procfs_parse_cmdline(buf, n, c->truncated, &c->argv);
}

static int read_cmdline_at(int dirfd, ProcessCmdline *c) {
        _cleanup_(closep) int fd = open_at(dirfd, "cmdline");

        if (fd < 0)
                return fd;
        return read_cmdline_fd(fd, c);
}

void process_info_take_cmdline(ProcessInfo *info, ProcessCmdline *c) {
        if (c->error < 0) {
                set_unresolved(info, PROCESS_FIELD_CMDLINE, c->error);
                return;
        }
        strv_free(info->argv);
        info->argv = TAKE_PTR(c->argv);
        info->cmdline_truncated = c->truncated;
}

void process_cmdline_done(ProcessCmdline *c) {
        c->argv = strv_free(c->argv);
}

static int read_cmdline(ProcessInfo *info, int dirfd) {
        ProcessCmdline c = {};

        c.error = read_cmdline_at(dirfd, &c);
        if (c.error == -ENOMEM)
                return -ENOMEM;
        process_info_take_cmdline(info, &c);
        process_cmdline_done(&c);
        return 0;
}

static int read_cgroup(ProcessInfo *info, int dirfd) {
        _cleanup_(freep) char *buf = NULL;
        bool truncated;
        char *path;
        size_t n;
        int r;

        r = read_at_alloc(dirfd, "cgroup", CGROUP_MAX, &buf, &n, &truncated);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                r = truncated ? -EFBIG : procfs_parse_cgroup(buf, n, &path);
        if (r == -ENOMEM)
                return r;
        /* No cgroup v2 hierarchy: nothing to give, and nothing failed. */
        if (r == -ENODATA)
                return 0;
        if (r < 0) {
                set_unresolved(info, PROCESS_FIELD_CGROUP, r);
                return 0;
        }
        free(info->cgroup);
        info->cgroup = path;
        return process_where_read_container(&info->where, path);
}

/* The unit, the user unit and the machine, from the cgroup path just read through the process's
 * directory, by libsystemd's rules (unit-path.h): so they are the process's own, as its cgroup
 * is. The unit is the system unit, always: a user manager's processes are in user@UID.service,
 * and their own unit, which a user names as they like, is the user unit. */
static int read_unit(ProcessInfo *info) {
        _cleanup_(freep) char *path = NULL, *unit = NULL;
        const char *root = NULL;
        char *s;
        int r;

        /* What the path could not be read for, the units cannot be either; nor, as for
         * libsystemd, where PID 1's cgroup cannot be read. No cgroup v2 path is no unit. */
        if (info->unresolved & PROCESS_FIELD_BIT(PROCESS_FIELD_CGROUP))
                r = info->error[PROCESS_FIELD_CGROUP];
        else
                r = info->cgroup[0] != '\0' ? unit_root_get(&root) : 0;
        if (r < 0) {
                set_unresolved(info, PROCESS_FIELD_UNIT, r);
                return 0;
        }
        /* cnd's own escape, undone: that fails only for memory. */
        r = root ? unit_path_from_cgroup(info->cgroup, root, &path) : -ENXIO;
        if (r >= 0)
                r = unit_from_cgroup(path, &unit);
        if (r == -ENOMEM)
                return r;
        /* Else -ENXIO: in no unit (outside systemd's tree, or no systemd at all): that is an
         * answer, "". */
        r = utf8_escape(strempty(unit), strlen(strempty(unit)), &s);
        if (r < 0)
                return r;
        free(info->unit);
        info->unit = s;
        return process_where_read_units(&info->where, strempty(path), strempty(unit));
}

static int info_new(pid_t pid, ProcessInfo **ret) {
        _cleanup_(process_info_freep) ProcessInfo *info = NULL;

        info = calloc(1, sizeof(ProcessInfo));
        if (!info)
                return -ENOMEM;
        info->pid = pid;
        info->dir = -1;
        info->ppid = -1;
        info->ruid = info->euid = (uid_t) -1;
        info->exe = strdup("");
        info->argv = calloc(1, sizeof(char *));
        info->cgroup = strdup("");
        info->unit = strdup("");
        if (!info->exe || !info->argv || !info->cgroup || !info->unit)
                return -ENOMEM;
        *ret = TAKE_PTR(info);
        return 0;
}

/* Whether the read asks for f at all. */
static bool field_wanted(ProcessField f, ProcessReadFlags flags) {
        return !(f == PROCESS_FIELD_CMDLINE && (flags & PROCESS_READ_NO_ARGV)) &&
                !(f == PROCESS_FIELD_UNIT && (flags & PROCESS_READ_NO_UNIT));
}

static void set_all_unresolved(ProcessInfo *info, ProcessReadFlags flags, int error) {
        for (ProcessField f = 0; f < _PROCESS_FIELD_MAX; f++)
                if (field_wanted(f, flags))
                        set_unresolved(info, f, error);
}

/* What goes with the process the moment it exits, and can be read without touching its
 * memory: made at once. The namespace links go with its namespaces, released at exit too. */
static int read_perishable(ProcessInfo *info, int dirfd) {
        int r;

        r = read_exe(info, dirfd);
        if (r >= 0)
                r = process_where_read_namespaces(&info->where, dirfd);
        return r;
}

/* The reads of what stays until the process is reaped, and the unit. */
static int read_lasting(ProcessInfo *info, int dirfd, ProcessReadFlags flags) {
        int r;

        r = read_status(info, dirfd);
        if (r >= 0)
                r = read_cgroup(info, dirfd);
        if (r >= 0 && !(flags & PROCESS_READ_NO_UNIT))
                r = read_unit(info);
        else if (r >= 0)
                r = process_where_no_units(&info->where);
        return r;
}

/* At the end of the read: what the process's exit means for the fields read before. */
static void finish(ProcessInfo *info, ProcessReadFlags flags) {
        /* An exited process has released its memory: an empty command line is not its own. */
        if (info->exited && field_wanted(PROCESS_FIELD_CMDLINE, flags) && !info->argv[0] &&
            !(info->unresolved & PROCESS_FIELD_BIT(PROCESS_FIELD_CMDLINE)))
                set_unresolved(info, PROCESS_FIELD_CMDLINE, -ESRCH);
}

static int open_pid_dir(pid_t pid) {
        char path[sizeof("/proc/") + 10];      /* pids have at most 10 digits */
        int fd;

        snprintf(path, sizeof(path), "/proc/%d", (int) pid);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;       /* no /proc/PID: no such process */
        return fd;
}

/* The first read of stat, and what cannot wait. Returns 0 with *ret set (all unresolved if the
 * process is gone), or -ENOMEM. */
static int read_begin(pid_t pid, int dirfd, ProcessReadFlags flags, ProcessInfo **ret) {
        _cleanup_(process_info_freep) ProcessInfo *info = NULL;
        ProcStat first;
        int r;

        r = info_new(pid, &info);
        if (r < 0)
                return r;
        r = dirfd < 0 ? dirfd : read_stat(dirfd, &first);
        if (r == -ENOENT)
                r = -ESRCH;
        if (r < 0) {
                /* Gone already, or no /proc: the other reads would fail alike. */
                set_all_unresolved(info, flags, r);
                *ret = TAKE_PTR(info);
                return 0;
        }
        info->ppid = first.ppid;
        info->start_time = first.start_time;
        info->state = first.state;
        r = read_perishable(info, dirfd);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(info);
        return 0;
}

/* The rest, through dirfd. */
static int read_end(ProcessInfo *info, int dirfd, ProcessReadFlags flags) {
        int r;

        r = read_lasting(info, dirfd, flags);
        if (r < 0)
                return r;
        finish(info, flags);
        return 0;
}

static bool begun_gone(const ProcessInfo *info) {
        return info->unresolved & PROCESS_FIELD_BIT(PROCESS_FIELD_STAT);
}

int process_info_read(pid_t pid, ProcessReadFlags flags, ProcessInfo **ret) {
        _cleanup_(process_info_freep) ProcessInfo *info = NULL;
        _cleanup_(closep) int dirfd = -1;
        int r;

        if (pid <= 0)
                return -EINVAL;
        dirfd = open_pid_dir(pid);
        r = read_begin(pid, dirfd, flags, &info);
        if (r < 0)
                return r;
        if (!begun_gone(info) && field_wanted(PROCESS_FIELD_CMDLINE, flags))
                r = read_cmdline(info, dirfd);
        if (r >= 0 && !begun_gone(info)) {
                r = read_end(info, dirfd, flags);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(info);
        return 0;
}

int process_info_read_begin(pid_t pid, ProcessReadFlags flags, ProcessInfo **ret) {
        _cleanup_(closep) int dirfd = -1;
        int r;

        if (pid <= 0)
                return -EINVAL;
        dirfd = open_pid_dir(pid);
        r = read_begin(pid, dirfd, flags, ret);
        if (r >= 0 && (flags & PROCESS_READ_HOLD_DIR) && !begun_gone(*ret))
                (*ret)->dir = TAKE_FD(dirfd);
        return r;
}

int process_info_read_end(ProcessInfo *info, ProcessReadFlags flags) {
        _cleanup_(closep) int dirfd = TAKE_FD(info->dir);
        ProcStat now;
        int r;

        if (begun_gone(info))
                return 0;
        if (dirfd >= 0)
                return read_end(info, dirfd, flags);
        /* A directory of its own, so the process must be shown to be the same one first: by its
         * start time, which a process that took the pid since would not have. */
        dirfd = open_pid_dir(info->pid);
        r = dirfd < 0 ? dirfd : read_stat(dirfd, &now);
        if (r >= 0 && now.start_time == info->start_time)
                return read_end(info, dirfd, flags);

        for (ProcessField f = PROCESS_FIELD_STATUS; f < _PROCESS_FIELD_MAX; f++)
                if (f != PROCESS_FIELD_EXE && f != PROCESS_FIELD_CMDLINE && field_wanted(f, flags))
                        set_unresolved(info, f, r < 0 ? r : -ESRCH);
        /* Gone, or another process has the pid; not for a failure of cnd's own (EMFILE). */
        if (r >= 0 || r == -ENOENT || r == -ESRCH)
                info->exited = true;
        finish(info, flags);
        return 0;
}

int process_info_open_cmdline(const ProcessInfo *info) {
        _cleanup_(closep) int dirfd = -1;
        ProcStat now;
        int r, fd;

        if (info->dir >= 0)
                dirfd = info->dir;
        else {
                dirfd = open_pid_dir(info->pid);
                r = dirfd < 0 ? dirfd : read_stat(dirfd, &now);
                if (r == -ENOENT || (r >= 0 && now.start_time != info->start_time))
                        r = -ESRCH;
                if (r < 0)
                        return r;
        }
        fd = open_at(dirfd, "cmdline");
        if (info->dir >= 0)
                dirfd = -1;     /* info's, not this call's */
        return fd;
}

int process_cmdline_read(int fd, ProcessCmdline *ret) {
        int r;

        *ret = (ProcessCmdline) {};
        r = read_cmdline_fd(fd, ret);
        if (r < 0)
                process_cmdline_done(ret);
        return ret->error = r < 0 ? r : 0;
}

bool process_info_started_after(const ProcessInfo *info, uint64_t timestamp_ns) {
        if (info->unresolved & PROCESS_FIELD_BIT(PROCESS_FIELD_STAT))
                return false;
        return process_start_time_to_monotonic_ns(info->start_time) > timestamp_ns;
}

void process_info_disown(ProcessInfo *info, ProcessReadFlags flags) {
        info->ppid = -1;
        info->ruid = info->euid = (uid_t) -1;
        info->start_time = 0;
        info->state = 0;
        info->exe[0] = info->cgroup[0] = info->unit[0] = '\0';
        for (char **a = info->argv; *a; a++)
                free(*a);
        info->argv[0] = NULL;
        info->cmdline_truncated = false;
        info->unresolved = 0;
        info->dir = safe_close(info->dir);
        set_all_unresolved(info, flags, -ESRCH);
}

int process_read_start_time(pid_t pid, uint64_t *ret) {
        _cleanup_(closep) int dirfd = -1;
        char path[sizeof("/proc/") + 10];
        ProcStat st;
        int r;

        snprintf(path, sizeof(path), "/proc/%d", (int) pid);
        dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        r = read_stat(dirfd, &st);
        if (r < 0)
                return r;
        *ret = st.start_time;
        return 0;
}

bool process_runs(pid_t pid, uint64_t start_time) {
        _cleanup_(closep) int dirfd = open_pid_dir(pid);
        ProcStat st;

        return dirfd >= 0 && read_stat(dirfd, &st) >= 0 && st.start_time == start_time &&
                st.state != 'Z' && st.state != 'X';
}

ProcessInfo *process_info_free(ProcessInfo *info) {
        if (!info)
                return NULL;
        free(info->exe);
        strv_free(info->argv);
        free(info->cgroup);
        free(info->unit);
        process_where_done(&info->where);
        safe_close(info->dir);
        return mfree(info);
}

int process_entry_new_from_info(const ProcessInfo *info, StringBudget *budget, ProcessStrings *same_as,
                                ProcessEntry **ret) {
        _cleanup_(process_entry_freep) ProcessEntry *e = NULL;
        ProcessStringsView v = {
                .exe = info->exe, .argv = info->argv, .argv_cut = info->cmdline_truncated,
                .unit = info->unit, .cgroup = info->cgroup, .user_unit = info->where.user_unit,
                .machine = info->where.machine, .container = info->where.container,
        };
        ProcessStrings *s;
        int r;

        e = process_entry_new(info->pid, info->start_time);
        if (!e)
                return -ENOMEM;
        e->ppid = info->ppid;
        e->uid = info->ruid;
        if (!(info->unresolved & PROCESS_FIELD_BIT(PROCESS_FIELD_STAT)))
                e->start_ns = process_start_time_to_monotonic_ns(info->start_time);
        r = process_strings_new(&v, budget, same_as, &s);
        if (r < 0)
                return r;
        process_entry_set_strings(e, s);
        e->where.pid_namespace = info->where.pid_namespace;
        e->where.mount_namespace = info->where.mount_namespace;
        e->where.namespace_pid = info->where.namespace_pid;
        *ret = TAKE_PTR(e);
        return 0;
}

static uint64_t clock_ns(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

uint64_t process_start_time_to_monotonic_ns(uint64_t start_time) {
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t boot_ns = procfs_start_time_to_ns(start_time, hz > 0 ? (unsigned long) hz : 100);
        /* The monotonic clock stops during suspend, the boot clock does not: their distance
         * is the time spent suspended, and it only grows. */
        uint64_t mono = clock_ns(CLOCK_MONOTONIC), boot = clock_ns(CLOCK_BOOTTIME);
        uint64_t suspended = boot > mono ? boot - mono : 0;

        return boot_ns > suspended ? boot_ns - suspended : 0;
}

/* The pid a /proc entry names, or 0 if it names none. */
static pid_t pid_from_name(const char *name) {
        const char *p = name;
        uint64_t v = 0;

        if (*p < '1' || *p > '9')
                return 0;
        for (; *p >= '0' && *p <= '9'; p++)
                if ((v = v * 10 + (uint64_t) (*p - '0')) > INT_MAX)
                        return 0;
        return *p == '\0' ? (pid_t) v : 0;
}

/* Appends pid's key to *keys, unless it has gone meanwhile. */
static int scan_one(int proc_fd, pid_t pid, ProcessKey **keys, size_t *n, size_t *allocated) {
        char name[11];
        _cleanup_(closep) int dirfd = -1;
        ProcStat st;

        snprintf(name, sizeof(name), "%d", (int) pid);
        dirfd = openat(proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0 || read_stat(dirfd, &st) < 0)
                return 0;
        if (*n == *allocated) {
                size_t a = MAX(*allocated * 2, (size_t) 256);
                ProcessKey *k = reallocarray(*keys, a, sizeof(ProcessKey));

                if (!k)
                        return -ENOMEM;
                *keys = k;
                *allocated = a;
        }
        (*keys)[(*n)++] = (ProcessKey) { .pid = pid, .start_time = st.start_time };
        return 0;
}

int process_scan(ProcessKey **ret, size_t *ret_n) {
        _cleanup_(freep) ProcessKey *keys = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        DIR *d;
        int r = 0;

        d = opendir("/proc");
        if (!d)
                return -errno;
        for (;;) {
                pid_t pid;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        r = -errno;
                        break;
                }
                pid = pid_from_name(de->d_name);
                if (pid > 0) {
                        r = scan_one(dirfd(d), pid, &keys, &n, &allocated);
                        if (r < 0)
                                break;
                }
        }
        closedir(d);
        if (r < 0)
                return r;
        if (n > 0)
                qsort(keys, n, sizeof(ProcessKey), process_key_compare);
        *ret = TAKE_PTR(keys);
        *ret_n = n;
        return 0;
}

int process_read_pid_max(unsigned *ret) {
        _cleanup_(fclosep) FILE *f = NULL;
        unsigned v;

        f = fopen("/proc/sys/kernel/pid_max", "re");
        if (!f)
                return -errno;
        if (fscanf(f, "%u", &v) != 1 || v == 0)
                return -EBADMSG;
        *ret = v;
        return 0;
}
