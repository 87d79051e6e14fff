/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/process/procfs.c, the parsers of /proc/PID text: stat with task names that hold
 * spaces, parentheses, newlines and NULs, cut at every length; status with and without the
 * optional lines, and lines that only look like Uid:; cmdline with empty arguments, a missing
 * final NUL, invalid UTF-8, the reader's bound; cgroup on v2, hybrid and v1-only systems; and
 * the start time in ns. Every parse runs on a heap copy of exactly the text, so that ASan and
 * valgrind see any read past its end. The hosts's own files are parsed as well. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>

#include "procfs.h"
#include "tests.h"
#include "util.h"

/* An exact-size heap copy of n bytes. */
static char *copy(const void *text, size_t n) {
        char *p = malloc(n > 0 ? n : 1);

        CHECK(p);
        memcpy(p, text, n);
        return p;
}

static int parse_stat_n(const char *text, size_t n, ProcStat *st) {
        _cleanup_(freep) char *p = copy(text, n);

        return procfs_parse_stat(p, n, st);
}

/* A stat line as Linux 6.x writes it (52 fields), with the given first, fourth and 22nd. */
static size_t make_stat(char *buf, size_t size, const char *pid_comm, char state, const char *ppid,
                        const char *start_time) {
        int k = snprintf(buf, size,
                         "%s %c %s 1234 1234 34816 1234 4194304 104 0 0 0 0 0 0 0 20 -5 1 0 %s "
                         "2998272 409 18446744073709551615 94755729567744 94755729591849 "
                         "140727756919200 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94755729607696 "
                         "94755729609312 94756130557952 140727756925363 140727756925391 "
                         "140727756925391 140727756926954 0\n",
                         pid_comm, state, ppid, start_time);

        CHECK(k > 0 && (size_t) k < size);
        return (size_t) k;
}

static void check_stat_comm(const char *comm) {
        char head[256], buf[1024];
        ProcStat st;
        size_t n;

        snprintf(head, sizeof(head), "4321 (%s)", comm);
        n = make_stat(buf, sizeof(buf), head, 'S', "17", "98765");
        CHECK_EQ_INT(parse_stat_n(buf, n, &st), 0);
        CHECK_EQ_INT(st.pid, 4321);
        CHECK_EQ_INT(st.state, 'S');
        CHECK_EQ_INT(st.ppid, 17);
        CHECK_EQ_INT(st.start_time, 98765);
}

static void test_stat(void) {
        char buf[1024];
        ProcStat st;
        size_t n;

        check_stat_comm("bash");
        check_stat_comm("");
        check_stat_comm("a b");
        check_stat_comm(") (");
        check_stat_comm("x) S 1 2 3 (");
        check_stat_comm("((");
        check_stat_comm("))");
        check_stat_comm("a)");
        check_stat_comm("new\nline");
        check_stat_comm("\n) R 99 ");
        check_stat_comm("\xff\xfe caf\xc3\xa9");
        check_stat_comm("kworker/u8:1-events_unbound");   /* longer than 15: a kernel worker */

        /* A NUL inside the name is a byte like the others. */
        n = make_stat(buf, sizeof(buf), "7 (a\x01" "b)", 'Z', "0", "0");
        buf[4] = '\0';
        CHECK_EQ_INT(parse_stat_n(buf, n, &st), 0);
        CHECK_EQ_INT(st.pid, 7);
        CHECK_EQ_INT(st.state, 'Z');
        CHECK_EQ_INT(st.ppid, 0);
        CHECK_EQ_INT(st.start_time, 0);

        /* The extremes. */
        n = make_stat(buf, sizeof(buf), "2147483647 (x)", 'R', "2147483647", "18446744073709551615");
        CHECK_EQ_INT(parse_stat_n(buf, n, &st), 0);
        CHECK_EQ_INT(st.pid, INT_MAX);
        CHECK_EQ_INT(st.ppid, INT_MAX);
        CHECK(st.start_time == UINT64_MAX);

        /* Without the final newline, and only up to field 23. */
        n = make_stat(buf, sizeof(buf), "5 (x)", 'R', "1", "42");
        CHECK_EQ_INT(parse_stat_n(buf, n - 1, &st), 0);
        CHECK(strstr(buf, " 42 "));
        CHECK_EQ_INT(parse_stat_n(buf, (size_t) (strstr(buf, " 42 ") - buf) + 4, &st), 0);
        CHECK_EQ_INT(st.start_time, 42);
}

static void test_stat_malformed(void) {
        static const struct {
                const char *head;
                char state;
                const char *ppid, *start_time;
        } bad[] = {
                { "x (a)", 'S', "1", "2" },
                { "-1 (a)", 'S', "1", "2" },
                { "2147483648 (a)", 'S', "1", "2" },
                { "5 a)", 'S', "1", "2" },
                { "5  (a)", 'S', "1", "2" },
                { "5 (a", 'S', "1", "2" },
                { "5(a)", 'S', "1", "2" },
                { " 5 (a)", 'S', "1", "2" },
                { "5 (a)", 'S', "-1", "2" },
                { "5 (a)", 'S', "1", "18446744073709551616" },
                { "5 (a)", 'S', "1", "-2" },
                { "5 (a)", 'S', "1", "2x" },
                { "5 (a)", ' ', "1", "2" },
                { "5 (a)", '\n', "1", "2" },
        };
        char buf[1024];
        ProcStat st;
        size_t n;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                n = make_stat(buf, sizeof(buf), bad[i].head, bad[i].state, bad[i].ppid, bad[i].start_time);
                CHECK_EQ_INT(parse_stat_n(buf, n, &st), -EBADMSG);
        }
        CHECK_EQ_INT(parse_stat_n("", 0, &st), -EBADMSG);
        CHECK_EQ_INT(parse_stat_n("5 (a) S 1", 9, &st), -EBADMSG);
        CHECK_EQ_INT(parse_stat_n("5 (a) S 1\n", 10, &st), -EBADMSG);

        /* Cut anywhere before the space after field 22, it is refused; cut after, the same. */
        n = make_stat(buf, sizeof(buf), "4321 (a) (b)", 'S', "17", "98765");
        for (size_t cut = 0; cut <= n; cut++) {
                size_t need = (size_t) (strstr(buf, " 98765 ") - buf) + 7;
                int r = parse_stat_n(buf, cut, &st);

                if (cut < need)
                        CHECK_EQ_INT(r, -EBADMSG);
                else {
                        CHECK_EQ_INT(r, 0);
                        CHECK_EQ_INT(st.start_time, 98765);
                        CHECK_EQ_INT(st.ppid, 17);
                }
        }
}

static void test_stat_huge(void) {
        size_t n = 1024 * 1024;
        _cleanup_(freep) char *buf = malloc(n + 512);
        char tail[512];
        ProcStat st;
        size_t k;

        /* A megabyte of parentheses and spaces in the name: still linear, still right. */
        CHECK(buf);
        memcpy(buf, "9 (", 3);
        for (size_t i = 3; i < n; i++)
                buf[i] = "() )\n"[i % 5];
        k = make_stat(tail, sizeof(tail), ")", 'D', "3", "77");
        memcpy(buf + n, tail, k);
        CHECK_EQ_INT(parse_stat_n(buf, n + k, &st), 0);
        CHECK_EQ_INT(st.pid, 9);
        CHECK_EQ_INT(st.state, 'D');
        CHECK_EQ_INT(st.start_time, 77);
}

static int parse_status(const char *text, ProcStatus *st) {
        _cleanup_(freep) char *p = copy(text, strlen(text));

        return procfs_parse_status(p, strlen(text), st);
}

static void test_status(void) {
        ProcStatus st;

        CHECK_EQ_INT(parse_status("Name:\tcat\nUmask:\t0022\nState:\tR (running)\nTgid:\t12674\nNgid:\t0\n"
                                  "Pid:\t12675\nPPid:\t12622\nTracerPid:\t0\nUid:\t1000\t0\t1001\t1002\n"
                                  "Gid:\t0\t0\t0\t0\nFDSize:\t256\n", &st), 0);
        CHECK_EQ_INT(st.ruid, 1000);
        CHECK_EQ_INT(st.euid, 0);
        CHECK_EQ_INT(st.suid, 1001);
        CHECK_EQ_INT(st.fsuid, 1002);
        CHECK_EQ_INT(st.tgid, 12674);
        CHECK_EQ_INT(st.ppid, 12622);
        CHECK_EQ_INT(st.state, 'R');

        /* Only Uid, without a final newline; the largest uid. */
        CHECK_EQ_INT(parse_status("Uid:\t4294967295\t65534\t65534\t65534", &st), 0);
        CHECK(st.ruid == (uid_t) 4294967295U);
        CHECK_EQ_INT(st.euid, 65534);
        CHECK_EQ_INT(st.tgid, -1);
        CHECK_EQ_INT(st.ppid, -1);
        CHECK_EQ_INT(st.state, 0);

        /* Spaces as well as tabs; trailing blanks. */
        CHECK_EQ_INT(parse_status("Uid: 1 2  3\t 4 \t\n", &st), 0);
        CHECK_EQ_INT(st.fsuid, 4);

        /* The kernel escapes a newline in Name: what follows is not a line. */
        CHECK_EQ_INT(parse_status("Name:\tx\\nUid:\t0\t0\t0\t0\nUid:\t7\t7\t7\t7\n", &st), 0);
        CHECK_EQ_INT(st.ruid, 7);
        /* The first Uid line counts. */
        CHECK_EQ_INT(parse_status("Uid:\t5\t5\t5\t5\nUid:\t6\t6\t6\t6\n", &st), 0);
        CHECK_EQ_INT(st.ruid, 5);
        /* A zombie; the first State line counts; a State that is no letter is none. */
        CHECK_EQ_INT(parse_status("State:\tZ (zombie)\nUid:\t1\t1\t1\t1\nState:\tR (running)\n", &st), 0);
        CHECK_EQ_INT(st.state, 'Z');
        CHECK_EQ_INT(parse_status("State: \t X (dead)\nUid:\t1\t1\t1\t1\n", &st), 0);
        CHECK_EQ_INT(st.state, 'X');
        CHECK_EQ_INT(parse_status("State:\t\nUid:\t1\t1\t1\t1\n", &st), 0);
        CHECK_EQ_INT(st.state, 0);
        CHECK_EQ_INT(parse_status("State:\tz\x1b[2J\nUid:\t1\t1\t1\t1\n", &st), 0);
        CHECK_EQ_INT(st.state, 0);

        /* Lines that start like one they are not. */
        CHECK_EQ_INT(parse_status("XUid:\t1\t1\t1\t1\nUid:\t2\t2\t2\t2\nPPidx:\t3\n", &st), 0);
        CHECK_EQ_INT(st.ruid, 2);
}

static void test_status_malformed(void) {
        static const char * const bad[] = {
                "",
                "Name:\tx\n",
                "Uid:\n",
                "Uid:\t1\t2\t3\n",
                "Uid:\t1\t2\t3\t4\t5\n",
                "Uid:\t1\t2\t3\t4294967296\n",
                "Uid:\t-1\t2\t3\t4\n",
                "Uid:\t1\t2\t3\t4x\n",
                "Uid:\t1,2,3,4\n",
                "uid:\t1\t2\t3\t4\n",
                "Uid:\t0\t0\t0\t0\nPPid:\t-1\n",
                "Uid:\t0\t0\t0\t0\nTgid:\t2147483648\n",
                "Uid:\t0\t0\t0\t0\nTgid:\n",
        };
        ProcStatus st;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK_EQ_INT(parse_status(bad[i], &st), -EBADMSG);
}

/* Parses n bytes of cmdline and compares with expected, a NULL-terminated list. */
static void check_cmdline(const char *data, size_t n, bool truncated, const char * const *expected) {
        _cleanup_(strv_freep) char **argv = NULL;
        _cleanup_(freep) char *p = copy(data, n);
        size_t k = 0;

        CHECK_EQ_INT(procfs_parse_cmdline(p, n, truncated, &argv), 0);
        CHECK(argv);
        for (; expected[k]; k++) {
                CHECK(argv[k]);
                CHECK_STREQ(argv[k], expected[k]);
        }
        CHECK(!argv[k]);
        CHECK_EQ_INT(strv_length(argv), k);
}

#define ARGS(...) ((const char * const[]) { __VA_ARGS__, NULL })
#define NO_ARGS ((const char * const[]) { NULL })
#define CMDLINE(s) s, sizeof(s) - 1

static void test_cmdline(void) {
        check_cmdline(CMDLINE("ls\0-l\0/tmp\0"), false, ARGS("ls", "-l", "/tmp"));
        check_cmdline(CMDLINE("ls\0-l\0/tmp"), false, ARGS("ls", "-l", "/tmp"));      /* setproctitle() */
        check_cmdline(CMDLINE("sshd: root [priv]"), false, ARGS("sshd: root [priv]"));
        check_cmdline("", 0, false, NO_ARGS);                                         /* kernel thread, zombie */
        check_cmdline(CMDLINE("\0"), false, ARGS(""));                                /* argv {""}, as 5.18+ makes argc 0 */
        check_cmdline(CMDLINE("\0\0"), false, ARGS("", ""));
        check_cmdline(CMDLINE("a\0\0b\0"), false, ARGS("a", "", "b"));
        check_cmdline(CMDLINE("a\0\0"), false, ARGS("a", ""));
        check_cmdline(CMDLINE("a\0\0b"), false, ARGS("a", "", "b"));
        check_cmdline(CMDLINE("echo\0two words\0new\nline\0tab\there\0"), false,
                      ARGS("echo", "two words", "new\nline", "tab\there"));
        check_cmdline(CMDLINE("x\xff\0caf\xc3\xa9\0back\\slash\0\xc3\0"), false,
                      ARGS("x\\xff", "caf\xc3\xa9", "back\\\\slash", "\\xc3"));
}

static void test_cmdline_truncated(void) {
        /* Cut by the reader's bound: the argument cut in the middle goes. */
        check_cmdline(CMDLINE("ab\0cd"), true, ARGS("ab"));
        check_cmdline(CMDLINE("ab\0cd\0"), true, ARGS("ab", "cd"));
        check_cmdline(CMDLINE("ab\0\0"), true, ARGS("ab", ""));
        check_cmdline(CMDLINE("abcd"), true, NO_ARGS);
        check_cmdline("", 0, true, NO_ARGS);
        check_cmdline(CMDLINE("\0x"), true, ARGS(""));
}

static void test_cmdline_huge(void) {
        size_t n = 64 * 1024;
        _cleanup_(freep) char *buf = malloc(n);
        _cleanup_(strv_freep) char **argv = NULL;

        /* 32768 one-letter arguments, and then the same all in one. */
        CHECK(buf);
        for (size_t i = 0; i < n; i++)
                buf[i] = i % 2 ? '\0' : 'x';
        CHECK_EQ_INT(procfs_parse_cmdline(buf, n, true, &argv), 0);
        CHECK_EQ_INT(strv_length(argv), n / 2);
        CHECK_STREQ(argv[n / 2 - 1], "x");
        argv = strv_free(argv);

        memset(buf, '\xff', n);
        CHECK_EQ_INT(procfs_parse_cmdline(buf, n, false, &argv), 0);
        CHECK_EQ_INT(strv_length(argv), 1);
        CHECK_EQ_INT(strlen(argv[0]), 4 * n);
        CHECK(strncmp(argv[0], "\\xff\\xff", 8) == 0);
}

static int parse_cgroup(const char *text, size_t n, char **ret) {
        _cleanup_(freep) char *p = copy(text, n);

        *ret = NULL;
        return procfs_parse_cgroup(p, n, ret);
}

static void check_cgroup(const char *text, size_t n, const char *expected) {
        _cleanup_(freep) char *path = NULL;

        CHECK_EQ_INT(parse_cgroup(text, n, &path), 0);
        CHECK_STREQ(path, expected);
}

#define CGROUP(s) s, sizeof(s) - 1

static void test_cgroup(void) {
        char *path;

        check_cgroup(CGROUP("0::/user.slice/user-1000.slice/session-2.scope\n"),
                     "/user.slice/user-1000.slice/session-2.scope");
        check_cgroup(CGROUP("0::/\n"), "/");
        check_cgroup(CGROUP("0::/init.scope"), "/init.scope");
        /* Hybrid: v1 hierarchies, then the v2 line, last as the kernel writes it. */
        check_cgroup(CGROUP("12:pids:/system.slice/cron.service\n1:name=systemd:/system.slice/cron.service\n"
                            "0::/system.slice/cron.service\n"), "/system.slice/cron.service");
        /* A cgroup named with a newline, or what looks like another line: the path is whole. */
        check_cgroup(CGROUP("0::/user.slice/a\nb\n"), "/user.slice/a\nb");
        check_cgroup(CGROUP("0::/user.slice/x\n0::/system.slice/sshd.service\n"),
                     "/user.slice/x\n0::/system.slice/sshd.service");
        /* Removed, and odd bytes. */
        check_cgroup(CGROUP("0::/gone (deleted)\n"), "/gone (deleted)");
        check_cgroup(CGROUP("0::/a\xff\\b\n"), "/a\\xff\\\\b");
        /* Other hierarchy ids, and v1 lines that name no controller, are not v2. */
        CHECK_EQ_INT(parse_cgroup(CGROUP("10::/x\n0:cpu:/y\n1:name=systemd:/\n"), &path), -ENODATA);
        CHECK(!path);
}

static void test_cgroup_v1_only(void) {
        char *path;

        CHECK_EQ_INT(parse_cgroup(CGROUP("12:pids:/\n11:memory:/user.slice\n1:name=systemd:/init.scope\n"), &path),
                     -ENODATA);
        CHECK_EQ_INT(parse_cgroup("", 0, &path), -ENODATA);
        CHECK_EQ_INT(parse_cgroup(CGROUP("\n\n"), &path), -ENODATA);
        CHECK_EQ_INT(parse_cgroup(CGROUP("0::\n"), &path), -EBADMSG);
        CHECK_EQ_INT(parse_cgroup(CGROUP("0::"), &path), -EBADMSG);
        CHECK(!path);
}

static void test_nspid(void) {
#define NSPID(s) (s), strlen(s)
        uint32_t pid = 0;

        CHECK_EQ_INT(procfs_parse_nspid(NSPID("Name:\tsh\nPid:\t700\nNSpid:\t700\nUid:\t0\t0\t0\t0\n"), &pid), 0);
        CHECK_EQ_INT(pid, 700);
        /* Nested namespaces: outermost first, the process's own last. */
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("NStgid:\t9\t3\nNSpid:\t9120\t34\t1\n"), &pid), 0);
        CHECK_EQ_INT(pid, 1);
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("NSpid:\t9120\t34"), &pid), 0);      /* no final newline */
        CHECK_EQ_INT(pid, 34);
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("NSpid: 5 \n"), &pid), 0);
        CHECK_EQ_INT(pid, 5);
        /* A "Name:" cannot pass for the line: the kernel escapes the newline in it. */
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("Name:\tx\\nNSpid:\t1\nUid:\t0\t0\t0\t0\n"), &pid), -ENODATA);
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("Pid:\t5\nUid:\t0\t0\t0\t0\n"), &pid), -ENODATA);
        CHECK_EQ_INT(procfs_parse_nspid("", 0, &pid), -ENODATA);
        pid = 77;
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("NSpid:\n"), &pid), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("NSpid:\t\n"), &pid), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("NSpid:\t0\n"), &pid), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("NSpid:\t5x\n"), &pid), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("NSpid:\t-5\n"), &pid), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("NSpid:5\n"), &pid), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_nspid(NSPID("NSpid:\t99999999999\n"), &pid), -EBADMSG);
        CHECK_EQ_INT(pid, 77);
#undef NSPID
}

static void test_ns_link(void) {
#define LINK(s) (s), strlen(s)
        uint64_t inode = 0;

        CHECK_EQ_INT(procfs_parse_ns_link(LINK("pid:[4026531836]"), "pid", &inode), 0);
        CHECK(inode == UINT64_C(4026531836));
        CHECK_EQ_INT(procfs_parse_ns_link(LINK("mnt:[4026531841]"), "mnt", &inode), 0);
        CHECK(inode == UINT64_C(4026531841));
        CHECK_EQ_INT(procfs_parse_ns_link(LINK("mnt:[4026531841]"), "pid", &inode), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_ns_link(LINK("pid:[]"), "pid", &inode), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_ns_link(LINK("pid:[0]"), "pid", &inode), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_ns_link(LINK("pid:[12"), "pid", &inode), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_ns_link(LINK("pid:[12]x"), "pid", &inode), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_ns_link(LINK("pid:12"), "pid", &inode), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_ns_link(LINK("pid"), "pid", &inode), -EBADMSG);
        CHECK_EQ_INT(procfs_parse_ns_link(LINK("pid:[99999999999999999999]"), "pid", &inode), -EBADMSG);
        CHECK(inode == UINT64_C(4026531841));
#undef LINK
}

static void test_start_time(void) {
        CHECK(procfs_start_time_to_ns(0, 100) == 0);
        CHECK(procfs_start_time_to_ns(12345, 100) == UINT64_C(123450000000));
        CHECK(procfs_start_time_to_ns(1, 300) == UINT64_C(3333333));
        CHECK(procfs_start_time_to_ns(301, 300) == UINT64_C(1003333333));
        CHECK(procfs_start_time_to_ns(UINT64_MAX, 100) == UINT64_MAX);
        CHECK(procfs_start_time_to_ns(UINT64_MAX / 1000000000 * 100, 100) == UINT64_MAX);
        CHECK(procfs_start_time_to_ns(5, 0) == 0);
        CHECK(procfs_start_time_to_ns(5, 1000000001UL) == 0);
        CHECK(procfs_start_time_to_ns(5, 1000000000UL) == 5);
}

static void test_strv(void) {
        char **v = calloc(3, sizeof(char *));

        CHECK_EQ_INT(strv_length(NULL), 0);
        CHECK(!strv_free(NULL));
        CHECK(v);
        v[0] = strdup("a");
        v[1] = strdup("b");
        CHECK_EQ_INT(strv_length(v), 2);
        CHECK(!strv_free(v));
}

static void test_key_compare(void) {
        ProcessKey k[] = { { 5, 1 }, { 2, 9 }, { 9, 0 }, { 1, 5 } };

        qsort(k, ELEMENTSOF(k), sizeof(ProcessKey), process_key_compare);
        CHECK_EQ_INT(k[0].pid, 1);
        CHECK_EQ_INT(k[1].pid, 2);
        CHECK_EQ_INT(k[2].pid, 5);
        CHECK_EQ_INT(k[3].pid, 9);
}

/* Reads a whole file of the host's /proc. */
static size_t read_file(const char *path, char *buf, size_t size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t n = 0;
        ssize_t k;

        CHECK(fd >= 0);
        while ((k = read(fd, buf + n, size - n)) > 0)
                n += (size_t) k;
        CHECK(k == 0 && n < size);
        close(fd);
        return n;
}

static void test_host_files(void) {
        static char buf[65536];
        _cleanup_(freep) char *path = NULL;
        _cleanup_(strv_freep) char **argv = NULL;
        ProcStatus status;
        ProcStat st;
        size_t n;
        int r;

        n = read_file("/proc/self/stat", buf, sizeof(buf));
        CHECK_EQ_INT(procfs_parse_stat(buf, n, &st), 0);
        CHECK_EQ_INT(st.pid, getpid());
        CHECK_EQ_INT(st.ppid, getppid());
        CHECK_EQ_INT(st.state, 'R');

        n = read_file("/proc/self/status", buf, sizeof(buf));
        CHECK_EQ_INT(procfs_parse_status(buf, n, &status), 0);
        CHECK_EQ_INT(status.ruid, getuid());
        CHECK_EQ_INT(status.euid, geteuid());
        CHECK_EQ_INT(status.tgid, getpid());
        CHECK_EQ_INT(status.ppid, getppid());
        {
                uint32_t nspid;

                r = procfs_parse_nspid(buf, n, &nspid);
                CHECK(r == 0 || r == -ENODATA);
                if (r == 0)
                        CHECK(nspid > 0);
        }

        n = read_file("/proc/self/cmdline", buf, sizeof(buf));
        CHECK_EQ_INT(procfs_parse_cmdline(buf, n, false, &argv), 0);
        CHECK(argv[0] && strstr(argv[0], "test-procfs"));

        /* v2 on this host (hybrid or unified); a v1-only kernel says so. */
        n = read_file("/proc/self/cgroup", buf, sizeof(buf));
        r = procfs_parse_cgroup(buf, n, &path);
        CHECK(r == 0 || r == -ENODATA);
        if (r == 0)
                CHECK(path[0] == '/');
        else
                printf("no cgroup v2 hierarchy here\n");
}

int main(void) {
        test_stat();
        test_stat_malformed();
        test_stat_huge();
        test_status();
        test_status_malformed();
        test_cmdline();
        test_cmdline_truncated();
        test_cmdline_huge();
        test_cgroup();
        test_cgroup_v1_only();
        test_nspid();
        test_ns_link();
        test_start_time();
        test_strv();
        test_key_compare();
        test_host_files();
        return EXIT_SUCCESS;
}
