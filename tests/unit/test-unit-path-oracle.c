/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* unit-path.c against libsystemd itself, on real cgroups: a tree shaped as systemd's is made in
 * the cgroup v2 hierarchy, a child moved into each cgroup, and what unit-path.c derives from the
 * path read from the child's /proc/PID/cgroup (as cnd reads it: procfs_parse_cgroup()) must be
 * exactly what sd_pid_get_unit(), sd_pid_get_user_unit() and sd_pid_get_machine_name() give for
 * the child, answers and failures alike; and what the case says, so that an oracle that answers
 * nothing cannot pass. Also a zombie whose cgroup was removed (the kernel's " (deleted)"), and,
 * for the root libsystemd strips, containers without a cgroup namespace: a pid namespace whose
 * PID 1 is put in a cgroup of the tree, with /proc mounted for it.
 *
 * The machine: libsystemd reads /run/systemd/machines, so the test mounts a tmpfs on /run in a
 * mount namespace of its own and makes machined's links there.
 *
 * It needs root, a writable cgroup v2 hierarchy and libsystemd reading it (a system booted with
 * the legacy hierarchy has libsystemd read "name=systemd" instead): without them it says why and
 * exits 77, skipped. It removes what it made. */

#include <dirent.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <systemd/sd-login.h>

#include "fileio.h"
#include "procfs.h"
#include "tests.h"
#include "unit-path.h"
#include "util.h"

#define EXIT_SKIP 77
#define NONE ""
#define MAX_DIRS 128
#define MAX_WORKERS 64

typedef struct Case {
        const char *path;       /* below the test's top cgroup (a slice, so passed over) */
        const char *unit, *user_unit, *machine;
} Case;

/* Long names: a unit of 255 bytes, the most a name may have, plain and escaped. */
#define A246 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A247 "a" A246

static const Case host_cases[] = {
        { "system.slice/foo.service", "foo.service", NONE, NONE },
        { "system.slice/foo.service/sub/deeper", "foo.service", NONE, NONE },
        { "init.scope", "init.scope", NONE, NONE },
        { "a.slice/a-b.slice/c.scope", "c.scope", NONE, NONE },
        { "a.slice/a-b.slice", NONE, NONE, NONE },
        { "user.slice/user-1000.slice/user@1000.service/app.slice/bar.service", "user@1000.service",
          "bar.service", "u" },
        { "user.slice/user-1000.slice/user@1000.service/init.scope", "user@1000.service", "init.scope", "u" },
        { "user.slice/user-1000.slice/user@1000.service/app.slice", "user@1000.service", NONE, "u" },
        { "user.slice/user-1000.slice/session-2.scope", "session-2.scope", NONE, NONE },
        { "user.slice/user-1000.slice/session-2.scope/x.service", "session-2.scope", "x.service", NONE },
        { "user.slice/user-1000.slice/session-a_b.scope/x.service", "session-a_b.scope", NONE, NONE },
        { "user@0.service/x.service", "user@0.service", "x.service", NONE },
        { "user@65535.service/x.service", "user@65535.service", NONE, NONE },
        { "user@01000.service/x.service", "user@01000.service", NONE, NONE },
        { "_user@1000.service/x.service", "user@1000.service", NONE, "u" },
        { "machine.slice/machine-x.scope", "machine-x.scope", NONE, "x" },
        { "machine.slice/machine-x.scope/payload/system.slice/a.service", "machine-x.scope", NONE, "x" },
        { "machine.slice/machine-odd.scope", "machine-odd.scope", NONE, "odd \x01\xff/name" },
        { "machine.slice/systemd-nspawn@vm.service", "systemd-nspawn@vm.service", NONE, "vm" },
        { "system.slice/systemd-fsck@dev-disk-by\\x2dlabel-x.service",
          "systemd-fsck@dev-disk-by\\x2dlabel-x.service", NONE, NONE },
        { "system.slice/_cpu.service", "cpu.service", NONE, NONE },
        { "system.slice/__a.service", "_a.service", NONE, NONE },
        { "_system.slice/x.service", "x.service", NONE, NONE },
        { "-.slice/x.service", "x.service", NONE, NONE },
        { "x.slice.slice/x.service", "x.service", NONE, NONE },
        { "system.slice/getty@tty1.service", "getty@tty1.service", NONE, NONE },
        { "system.slice/a@b@c.service", "a@b@c.service", NONE, NONE },
        { "system.slice/" A247 ".service", A247 ".service", NONE, NONE },
        { "system.slice/_" A246 ".service", A246 ".service", NONE, NONE },
        { "system.slice/x.service\rjunk", "x.service", NONE, NONE },
        { "payload", NONE, NONE, NONE },
        { "payload/foo.service", NONE, NONE, NONE },
        { "foo@bar.slice/x.service", NONE, NONE, NONE },
        { "system.slice/getty@.service", NONE, NONE, NONE },
        { "system.slice/@a.service", NONE, NONE, NONE },
        { "system.slice/ab", NONE, NONE, NONE },
        { "system.slice/foo", NONE, NONE, NONE },
        { "system.slice/foo.Service", NONE, NONE, NONE },
        { "system.slice/foo bar.service", NONE, NONE, NONE },
        { "system.slice/f\xc3\xa9.service", NONE, NONE, NONE },
        { "system.slice/a\x01" "b.service", NONE, NONE, NONE },
        { "system.slice/a\xff.service", NONE, NONE, NONE },
        { "system.slice/a\\xffb.service", "a\\xffb.service", NONE, NONE },
};

/* machined's links: "unit:UNIT" -> machine name. */
static const char *const machine_links[][2] = {
        { "machine-x.scope", "x" },
        { "machine-odd.scope", "odd \x01\xff/name" },
        { "systemd-nspawn@vm.service", "vm" },
        { "user@1000.service", "u" },           /* the system unit's, never the user unit's */
};

/* Inside a container whose PID 1 is in CONTAINER/pid1 (CONTAINER below the top): the root
 * strips CONTAINER, and cases are below it. */
typedef struct Container {
        const char *dir, *pid1;
        const Case *cases;
        size_t n_cases;
} Container;

static const Case shifted_cases[] = {
        { "system.slice/foo.service", "foo.service", NONE, NONE },
        { "init.scope", "init.scope", NONE, NONE },
        { "user.slice/user-1000.slice/user@1000.service/app.slice/bar.service", "user@1000.service",
          "bar.service", "u" },
        { "machine.slice/machine-x.scope/payload", "machine-x.scope", NONE, "x" },
        { "payload", NONE, NONE, NONE },
        { "", NONE, NONE, NONE },               /* the root itself: its last character */
};

/* The root a unit: without the shift its own processes would be in it. */
static const Case unit_root_cases[] = {
        { "", NONE, NONE, NONE },
        { "system.slice/foo.service", "foo.service", NONE, NONE },
};

static const Container containers[] = {
        { "ctr1", "init.scope", shifted_cases, ELEMENTSOF(shifted_cases) },
        { "ctr2", "", shifted_cases, ELEMENTSOF(shifted_cases) },
        { "ctr3", "system.slice", shifted_cases, ELEMENTSOF(shifted_cases) },
        { "x.service", "init.scope", unit_root_cases, ELEMENTSOF(unit_root_cases) },
};

_Static_assert(sizeof(A247 ".service") - 1 == 255, "a name of 255 bytes");

static char mount_dir[PATH_MAX / 2], top[PATH_MAX];
static char *made[MAX_DIRS];
static size_t n_made;
static pid_t workers[MAX_WORKERS];
static size_t n_workers;
static pid_t main_pid;
static bool machines_faked;

static int skip(const char *why) {
        printf("skipped: %s\n", why);
        return EXIT_SKIP;
}

/* The mount point of the cgroup v2 hierarchy that shows its root, from mountinfo. */
static bool find_cgroup2(void) {
        _cleanup_(fclosep) FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        while (f && fgets(line, sizeof(line), f)) {
                char root[PATH_MAX / 2], point[PATH_MAX / 2];
                const char *sep = strstr(line, " - ");

                if (sep && strncmp(sep, " - cgroup2 ", 11) == 0 &&
                    sscanf(line, "%*s %*s %*s %2047s %2047s", root, point) == 2 && streq(root, "/")) {
                        snprintf(mount_dir, sizeof(mount_dir), "%s", point);
                        return true;
                }
        }
        return false;
}

/* The hierarchy libsystemd reads for the unit (cgroup-util.c's cg_unified_cached()): cgroup v2
 * on /sys/fs/cgroup, or on /sys/fs/cgroup/unified beside v1 ones; else the legacy one. */
static bool libsystemd_reads_cgroup2(void) {
        struct statfs fs;

        if (statfs("/sys/fs/cgroup/", &fs) < 0)
                return false;
        if (fs.f_type == CGROUP2_SUPER_MAGIC)
                return true;
        return fs.f_type == TMPFS_MAGIC && statfs("/sys/fs/cgroup/unified/", &fs) == 0 &&
                fs.f_type == CGROUP2_SUPER_MAGIC;
}

static void cgroup_dir(const char *path, char *buf, size_t size) {
        CHECK((size_t) snprintf(buf, size, "%s%s%s", top, path[0] ? "/" : "", path) < size);
}

/* Makes top/path and each cgroup above it that is missing, remembering them for the end. */
static void make_cgroup(const char *path) {
        char dir[PATH_MAX];

        cgroup_dir(path, dir, sizeof(dir));
        for (char *p = dir + strlen(top); p; p = strchr(p + 1, '/')) {
                char c = p[0];

                p[0] = '\0';
                if (mkdir(dir, 0755) == 0) {
                        CHECK(n_made < MAX_DIRS);
                        made[n_made++] = strdup(dir);
                } else
                        CHECK(errno == EEXIST);
                p[0] = c;
        }
        if (mkdir(dir, 0755) == 0) {
                CHECK(n_made < MAX_DIRS);
                made[n_made++] = strdup(dir);
        } else
                CHECK(errno == EEXIST);
}

static void move_to(pid_t pid, const char *path) {
        _cleanup_(fclosep) FILE *f = NULL;
        char file[PATH_MAX], text[32];

        cgroup_dir(path, file, sizeof(file));
        CHECK(strlen(file) + strlen("/cgroup.procs") < sizeof(file));
        strcat(file, "/cgroup.procs");
        snprintf(text, sizeof(text), "%d", (int) pid);
        f = fopen(file, "we");
        CHECK(f);
        CHECK(fputs(text, f) >= 0);
        CHECK(fclose(TAKE_PTR(f)) == 0);
}

/* A child that waits to be killed. */
static pid_t worker(void) {
        pid_t pid;

        fflush(NULL);   /* what was printed is printed once */
        pid = fork();
        CHECK(pid >= 0);
        if (pid > 0)
                return pid;
        for (;;)
                pause();
}

/* What libsystemd answers, sd-login's way: the name, or its error. */
typedef struct Answer {
        int r;
        char *name;
} Answer;

static void answer_done(Answer *a) {
        a->name = mfree(a->name);
}

/* unit-path.c's error as sd-login hands it on: -ENXIO is its -ENODATA. */
static int as_sd_login(int r) {
        return r == -ENXIO ? -ENODATA : r;
}

static bool same(const Answer *ours, const Answer *theirs) {
        if (ours->r != theirs->r)
                return false;
        return ours->r < 0 || streq(ours->name, theirs->name);
}

static void check_answer(const char *what, const char *path, const Answer *ours, const Answer *theirs,
                         const char *want) {
        if (same(ours, theirs) && (want[0] ? ours->r == 0 && streq(ours->name, want) : ours->r < 0))
                return;
        fprintf(stderr, "%s of \"%s\": unit-path %d \"%s\", libsystemd %d \"%s\", expected \"%s\"\n", what, path,
                ours->r, strempty(ours->name), theirs->r, strempty(theirs->name), want);
        exit(EXIT_FAILURE);
}

/* What unit-path.c derives for pid's cgroup, as cnd reads it, next to libsystemd's answers. */
static void compare(pid_t pid, const Case *c) {
        _cleanup_(freep) char *text = NULL, *escaped = NULL, *root = NULL, *path = NULL;
        Answer ours[3] = {}, theirs[3] = {};
        char file[64];
        size_t n;

        snprintf(file, sizeof(file), "/proc/%d/cgroup", (int) pid);
        CHECK_EQ_INT(read_full_file(file, 64 * 1024, &text, &n), 0);
        CHECK_EQ_INT(procfs_parse_cgroup(text, n, &escaped), 0);
        CHECK_EQ_INT(unit_root_read("/proc/1/cgroup", &root), 0);
        CHECK_EQ_INT(unit_path_from_cgroup(escaped, root, &path), 0);

        ours[0].r = as_sd_login(unit_from_cgroup(path, &ours[0].name));
        ours[1].r = as_sd_login(user_unit_from_cgroup(path, &ours[1].name));
        ours[2].r = as_sd_login(machine_from_unit(UNIT_PATH_MACHINES_DIR, strempty(ours[0].name), &ours[2].name));
        theirs[0].r = sd_pid_get_unit(pid, &theirs[0].name);
        theirs[1].r = sd_pid_get_user_unit(pid, &theirs[1].name);
        theirs[2].r = sd_pid_get_machine_name(pid, &theirs[2].name);

        printf("%-40.40s read \"%s\" root \"%s\" path \"%s\": unit \"%s\" (%d), user unit \"%s\" (%d), machine \"%s\" (%d)\n",
               c->path, escaped, root, path, strempty(ours[0].name), ours[0].r, strempty(ours[1].name), ours[1].r,
               strempty(ours[2].name), ours[2].r);
        check_answer("unit", c->path, &ours[0], &theirs[0], c->unit);
        check_answer("user unit", c->path, &ours[1], &theirs[1], c->user_unit);
        if (machines_faked)
                check_answer("machine", c->path, &ours[2], &theirs[2], c->machine);
        for (size_t i = 0; i < 3; i++) {
                answer_done(&ours[i]);
                answer_done(&theirs[i]);
        }
}

static void kill_workers(void) {
        for (size_t i = 0; i < n_workers; i++) {
                (void) kill(workers[i], SIGKILL);
                (void) waitpid(workers[i], NULL, 0);
        }
        n_workers = 0;
}

/* A cgroup is removable once the kernel has seen its processes go: wait a little for that. */
static void remove_cgroups(void) {
        for (size_t i = n_made; i > 0; i--) {
                for (unsigned tries = 0; rmdir(made[i - 1]) < 0 && errno == EBUSY && tries < 200; tries++)
                        usleep(10 * 1000);
                free(made[i - 1]);
        }
        n_made = 0;
}

static void cleanup(void) {
        if (getpid() != main_pid)
                return;
        kill_workers();
        remove_cgroups();
}

static void run_cases(const Case *cases, size_t n, const char *below) {
        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX];

                snprintf(path, sizeof(path), "%s%s%s", below, below[0] && cases[i].path[0] ? "/" : "",
                         cases[i].path);
                make_cgroup(path);
                CHECK(n_workers < MAX_WORKERS);
                workers[n_workers] = worker();
                move_to(workers[n_workers], path);
                compare(workers[n_workers++], &cases[i]);
        }
}

/* A zombie in a cgroup removed since: the kernel marks the path " (deleted)". */
static void run_zombie(void) {
        static const Case c = { "system.slice/gone.service", "gone.service", NONE, NONE };
        _cleanup_(freep) char *text = NULL;
        char dir[PATH_MAX], file[64];
        siginfo_t si = {};
        size_t n;
        pid_t pid;

        make_cgroup(c.path);
        pid = worker();
        move_to(pid, c.path);
        CHECK(kill(pid, SIGKILL) == 0);
        CHECK(waitid(P_PID, (id_t) pid, &si, WEXITED | WNOWAIT) == 0);
        cgroup_dir(c.path, dir, sizeof(dir));
        for (unsigned tries = 0; rmdir(dir) < 0 && tries < 200; tries++) {
                CHECK(errno == EBUSY);
                usleep(10 * 1000);
        }
        snprintf(file, sizeof(file), "/proc/%d/cgroup", (int) pid);
        CHECK_EQ_INT(read_full_file(file, 64 * 1024, &text, &n), 0);
        CHECK_CONTAINS(text, "gone.service (deleted)\n");
        compare(pid, &c);
        CHECK(waitpid(pid, NULL, 0) == pid);
}

/* /run of our own, with machined's links in it, where libsystemd and unit-path.c look. */
static void fake_machines(void) {
        char link[PATH_MAX];

        if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
                printf("no mount namespace of our own (%m): the machine is not compared\n");
                return;
        }
        CHECK(mkdir("/run/systemd", 0755) == 0);
        CHECK(mkdir(UNIT_PATH_MACHINES_DIR, 0755) == 0);
        for (size_t i = 0; i < ELEMENTSOF(machine_links); i++) {
                snprintf(link, sizeof(link), "%s/unit:%s", UNIT_PATH_MACHINES_DIR, machine_links[i][0]);
                CHECK(symlink(machine_links[i][1], link) == 0);
        }
        machines_faked = true;
}

/* PID 1 of a new pid namespace, with /proc of its own: moved into the container's cgroup by the
 * helper, it runs the container's cases. */
static int container_init(const Container *ct, int ready) {
        char below[PATH_MAX], c;

        CHECK(read(ready, &c, 1) == 1);
        CHECK(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0);
        CHECK(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0);
        CHECK(getpid() == 1);
        snprintf(below, sizeof(below), "%s", ct->dir);
        run_cases(ct->cases, ct->n_cases, below);
        return EXIT_SUCCESS;
}

static void run_container(const Container *ct) {
        char pid1[PATH_MAX];
        int fds[2], status;
        pid_t helper;

        snprintf(pid1, sizeof(pid1), "%s%s%s", ct->dir, ct->pid1[0] ? "/" : "", ct->pid1);
        make_cgroup(pid1);
        /* The cases' cgroups are made here, where they are remembered for removal. */
        for (size_t i = 0; i < ct->n_cases; i++) {
                char path[PATH_MAX];

                snprintf(path, sizeof(path), "%s%s%s", ct->dir, ct->cases[i].path[0] ? "/" : "", ct->cases[i].path);
                make_cgroup(path);
        }
        CHECK(pipe2(fds, O_CLOEXEC) == 0);
        fflush(NULL);
        helper = fork();
        CHECK(helper >= 0);
        if (helper == 0) {
                pid_t init;

                CHECK(unshare(CLONE_NEWPID | CLONE_NEWNS) == 0);
                init = fork();
                CHECK(init >= 0);
                if (init == 0) {
                        /* exit(), to flush what it printed; cleanup() is the main process's. */
                        n_workers = 0;
                        exit(container_init(ct, fds[0]));
                }
                move_to(init, pid1);
                CHECK(write(fds[1], "x", 1) == 1);
                CHECK(waitpid(init, &status, 0) == init);
                _exit(WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAILURE);
        }
        close(fds[0]);
        close(fds[1]);
        CHECK(waitpid(helper, &status, 0) == helper);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "container %s: failed\n", ct->dir);
                exit(EXIT_FAILURE);
        }
}

int main(void) {
        const char *kept;
        char *root;

        if (geteuid() != 0)
                return skip("making cgroups needs root");
        if (!find_cgroup2())
                return skip("no cgroup v2 hierarchy mounted");
        if (!libsystemd_reads_cgroup2())
                return skip("libsystemd reads the legacy name=systemd hierarchy here, not cgroup v2");
        CHECK((size_t) snprintf(top, sizeof(top), "%s/cndtest-unitpath-%d.slice", mount_dir, (int) getpid()) <
              sizeof(top));
        if (mkdir(top, 0755) < 0) {
                printf("skipped: cannot make %s: %m\n", top);
                return EXIT_SKIP;
        }
        made[n_made++] = strdup(top);
        main_pid = getpid();
        CHECK(atexit(cleanup) == 0);
        printf("cgroup v2 at %s; tree in %s\n", mount_dir, top);

        /* The root kept for cnd's reads is this one. */
        CHECK_EQ_INT(unit_root_read("/proc/1/cgroup", &root), 0);
        CHECK_EQ_INT(unit_root_get(&kept), 0);
        CHECK_STREQ(kept, root);
        free(root);

        fake_machines();
        run_cases(host_cases, ELEMENTSOF(host_cases), "");
        run_zombie();
        kill_workers();
        for (size_t i = 0; i < ELEMENTSOF(containers); i++)
                run_container(&containers[i]);
        cleanup();
        return EXIT_SUCCESS;
}
