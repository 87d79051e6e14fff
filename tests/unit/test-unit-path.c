/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* unit-path.c, rule by rule, against what libsystemd 252 gives for the same paths (each case as
 * its code reads; test-unit-path-oracle checks a tree of real cgroups against libsystemd
 * itself): the path as read, the root and the shift, the unit, the user unit, the machine's
 * link, and paths that are no unit, malformed or over-long. */

#include <limits.h>
#include <unistd.h>

#include "scratch.h"
#include "tests.h"
#include "unit-path.h"
#include "utf8.h"
#include "util.h"

#define NONE NULL       /* the path names none: -ENXIO */

typedef struct Case {
        const char *path;
        const char *want;
} Case;

/* A path, below a root. */
typedef struct RootedCase {
        const char *path, *root, *want;
} RootedCase;

/* n copies of c, then suffix: a component of a chosen length. */
static char *repeat(char c, size_t n, const char *suffix) {
        char *s = malloc(n + strlen(suffix) + 1);

        CHECK(s);
        memset(s, c, n);
        strcpy(s + n, suffix);
        return s;
}

static char *join(const char *a, const char *b) {
        char *s = malloc(strlen(a) + strlen(b) + 1);

        CHECK(s);
        strcpy(s, a);
        strcat(s, b);
        return s;
}

/* What a lookup gives, as a case states it: the name, or NONE for -ENXIO. */
static void check_answer(const char *what, const char *path, int r, const char *got, const char *want) {
        if (want ? r == 0 && streq(got, want) : r == -ENXIO)
                return;
        fprintf(stderr, "%s(\"%s\"): %d \"%s\", expected %s%s%s\n", what, path, r, r == 0 ? got : "",
                want ? "\"" : "-ENXIO", strempty(want), want ? "\"" : "");
        exit(EXIT_FAILURE);
}

static void check_unit(const char *path, const char *want) {
        _cleanup_(freep) char *got = NULL;
        int r = unit_from_cgroup(path, &got);

        check_answer("unit_from_cgroup", path, r, got, want);
}

static void check_user_unit(const char *path, const char *want) {
        _cleanup_(freep) char *got = NULL;
        int r = user_unit_from_cgroup(path, &got);

        check_answer("user_unit_from_cgroup", path, r, got, want);
}

/* cut() of each case's path, in place, leaves what it wants. */
static void check_cuts(const Case *cases, size_t n, void (*cut)(char *path)) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *p = strdup(cases[i].path);

                CHECK(p);
                cut(p);
                CHECK_STREQ(p, cases[i].want);
        }
}

static void test_trim(void) {
        static const Case cases[] = {
                { "/system.slice/a.service", "/system.slice/a.service" },
                /* The kernel's mark of a removed cgroup, which a zombie can still be in. */
                { "/system.slice/a.service (deleted)", "/system.slice/a.service" },
                { "/a (deleted) (deleted)", "/a (deleted)" },                  /* once */
                { " (deleted)", "" },
                { "(deleted)", "(deleted)" },
                { "/a (deleted)/b", "/a (deleted)/b" },
                /* A line ends at either, and then the mark is looked for. */
                { "/a.service\rb.service", "/a.service" },
                { "/a.service (deleted)\rb", "/a.service" },
                { "/a\nb (deleted)", "/a" },
                { "\r", "" },
                { "", "" },
        };

        check_cuts(cases, ELEMENTSOF(cases), unit_path_trim);
}

static void test_root_strip(void) {
        static const Case cases[] = {
                { "/init.scope", "" },
                { "/", "/" },
                { "", "" },
                { "/docker/0123/init.scope", "/docker/0123" },
                { "/lxc.payload.web/system.slice", "/lxc.payload.web" },        /* older systemd */
                { "/lxc/web/system", "/lxc/web" },                              /* older still */
                { "/a/init.scope/init.scope", "/a/init.scope" },                /* once */
                { "/a/system.slice/init.scope", "/a/system.slice" },
                { "init.scope", "init.scope" },                                 /* no "/" before */
                { "/xinit.scope", "/xinit.scope" },
                { "/init.scope/x", "/init.scope/x" },
                { "/system.slice/foo.service", "/system.slice/foo.service" },
        };

        check_cuts(cases, ELEMENTSOF(cases), unit_root_strip);
}

static void test_shift(void) {
        static const RootedCase cases[] = {
                /* systemd as PID 1 on the host: root "" (relative, so nothing is below it). */
                { "/system.slice/a.service", "", "/system.slice/a.service" },
                { "/system.slice/a.service", "/", "/system.slice/a.service" },
                { "/", "/", "/" },
                { "", "", "" },
                /* A container's systemd, seeing the host's tree. */
                { "/docker/0123/system.slice/a.service", "/docker/0123", "/system.slice/a.service" },
                { "/docker/0123/system.slice/a.service", "/docker/0123/", "/system.slice/a.service" },
                { "/docker//0123///system.slice", "/docker/0123", "/system.slice" },
                { "/docker/./0123/./x", "/./docker/0123", "/x" },
                { "/docker/0123/../x", "/docker/0123", "/../x" },               /* ".." is a name here */
                { "/docker/01234/x", "/docker/0123", "/docker/01234/x" },       /* whole components */
                { "/docker/012/x", "/docker/0123", "/docker/012/x" },
                { "/docker", "/docker/0123", "/docker" },
                { "docker/0123/x", "/docker/0123", "docker/0123/x" },           /* one relative */
                { "a/b", "a", "/b" },                                           /* both */
                /* The root itself: its last character, as libsystemd gives it. */
                { "/docker/0123", "/docker/0123", "3" },
                { "/x.service", "/x.service", "e" },
                { "/x//", "/x", "/" },
                { "/x/.", "/x", "." },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                CHECK_STREQ(unit_path_shift(cases[i].path, cases[i].root), cases[i].want);
}

/* Components of 255 bytes are compared; a longer one fails the match, even where the root has
 * ended (the path's component is taken first), so the path stays whole. */
static void test_shift_long(void) {
        _cleanup_(freep) char *c255 = repeat('n', NAME_MAX, ""), *c256 = repeat('n', NAME_MAX + 1, "");
        _cleanup_(freep) char *root255 = join("/r/", c255), *root256 = join("/r/", c256);
        _cleanup_(freep) char *p255 = join(root255, "/x"), *p256 = join(root256, "/x");
        _cleanup_(freep) char *below255 = join("/r/", c255), *below256 = join("/r/", c256);

        CHECK_STREQ(unit_path_shift(p255, root255), "/x");
        CHECK_STREQ(unit_path_shift(p256, root256), p256);
        CHECK_STREQ(unit_path_shift(below255, "/r"), below255 + strlen("/r"));
        CHECK_STREQ(unit_path_shift(below256, "/r"), below256);
}

static void test_unit(void) {
        static const Case cases[] = {
                { "/system.slice/a.service", "a.service" },
                { "system.slice/a.service", "a.service" },
                { "/system.slice/a.service/sub/deeper", "a.service" },
                { "/init.scope", "init.scope" },
                { "/a.slice/a-b.slice/c.scope", "c.scope" },
                { "//a.slice///a-b.slice//c.scope//", "c.scope" },
                { "/-.slice/a.service", "a.service" },
                { "/user.slice/user-1000.slice/user@1000.service/app.slice/b.service", "user@1000.service" },
                { "/user.slice/user-1000.slice/session-2.scope", "session-2.scope" },
                { "/machine.slice/machine-x.scope/payload/system.slice/a.service", "machine-x.scope" },
                { "/system.slice/getty@tty1.service", "getty@tty1.service" },           /* an instance */
                { "/system.slice/a@b@c.service", "a@b@c.service" },
                { "/system.slice/systemd-fsck@dev-disk-by\\x2dlabel-x.service",         /* systemd's escape */
                  "systemd-fsck@dev-disk-by\\x2dlabel-x.service" },
                { "/system.slice/a.b:c_d.service", "a.b:c_d.service" },
                /* Each type. */
                { "/a.socket", "a.socket" }, { "/a.target", "a.target" }, { "/a.device", "a.device" },
                { "/a.mount", "a.mount" }, { "/a.automount", "a.automount" }, { "/a.swap", "a.swap" },
                { "/a.timer", "a.timer" }, { "/a.path", "a.path" }, { "/a.scope", "a.scope" },
                /* cg_unescape(): one leading '_' goes, for slices too. */
                { "/system.slice/_cpu.service", "cpu.service" },
                { "/_system.slice/a.service", "a.service" },
                { "/system.slice/__a.service", "_a.service" },      /* one only */
                { "/ab", NONE },                                /* under 3 bytes */
                { "/_ab", NONE },
                { "/_a.", NONE },
                /* No unit. */
                { "", NONE }, { "/", NONE }, { "//", NONE },
                { "/system.slice", NONE },
                { "/a.slice/a-b.slice", NONE },
                { "/payload/a.service", NONE },                 /* the first component after slices */
                { "/system.slice/a", NONE },
                { "/system.slice/.service", NONE },
                { "/system.slice/a.Service", NONE },
                { "/system.slice/a.services", NONE },
                { "/system.slice/a.service.d", NONE },
                { "/system.slice/a.", NONE },
                { "/system.slice/a b.service", NONE },
                { "/system.slice/f\xc3\xa9.service", NONE },
                { "/system.slice/a\x01.service", NONE },
                { "/system.slice/a\xff.service", NONE },
                { "/system.slice/a/b.service", NONE },
                { "/system.slice/getty@.service", NONE },       /* a template */
                { "/system.slice/@a.service", NONE },
                { "/a@b.slice/c.service", NONE },               /* no plain slice: not skipped, */
                { "/a@b.slice", NONE },                         /* and a slice is no unit */
                { "/a.slice/b@.slice/c.service", NONE },
                { "/x.slice.slice/a.service", "a.service" },
                { "/.slice/a.service", NONE },
                { "/_.slice/a.service", NONE },
                { "/a b.slice/c.service", NONE },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_unit(cases[i].path, cases[i].want);
}

/* The name's bound: under 256 bytes, once unescaped; more is no unit, never a cut one. */
static void test_unit_long(void) {
        _cleanup_(freep) char *n255 = repeat('a', 255 - strlen(".service"), ".service");
        _cleanup_(freep) char *n256 = repeat('a', 256 - strlen(".service"), ".service");
        _cleanup_(freep) char *e256 = join("_", n255), *e257 = join("_", n256);
        _cleanup_(freep) char *p255 = join("/system.slice/", n255), *p256 = join("/system.slice/", n256);
        _cleanup_(freep) char *pe256 = join("/system.slice/", e256), *pe257 = join("/system.slice/", e257);
        _cleanup_(freep) char *s255 = repeat('s', 255 - strlen(".slice"), ".slice");
        _cleanup_(freep) char *s256 = repeat('s', 256 - strlen(".slice"), ".slice");
        _cleanup_(freep) char *ps255 = join(s255, "/a.service"), *ps256 = join(s256, "/a.service");

        check_unit(p255, n255);
        check_unit(p256, NONE);
        check_unit(pe256, n255);
        check_unit(pe257, NONE);
        check_unit(ps255, "a.service");
        check_unit(ps256, NONE);                /* no slice: the first name, which is no unit */
}

static void test_user_unit(void) {
        static const Case cases[] = {
                { "/user.slice/user-1000.slice/user@1000.service/app.slice/b.service", "b.service" },
                { "/user.slice/user-1000.slice/user@1000.service/init.scope", "init.scope" },
                { "/user.slice/user-1000.slice/user@1000.service/b.service/sub", "b.service" },
                { "/user.slice/user-1000.slice/user@1000.service//app.slice//_b.service", "b.service" },
                { "/user.slice/user-1000.slice/user@1000.service/app.slice/a-b.slice/c.scope", "c.scope" },
                { "/user@1000.service/b.service", "b.service" },
                { "/system.slice/user@1000.service/b.service", "b.service" },
                { "/user.slice/user-1000.slice/user@1000.service/session-1.scope/x.service", "session-1.scope" },
                /* A session scope, or below it. */
                { "/user.slice/user-1000.slice/session-2.scope/b.service", "b.service" },
                { "/user.slice/user-1000.slice/session-c2.scope/b.service", "b.service" },
                { "/user.slice/user-1000.slice/session-2.scope", NONE },
                { "/user.slice/user-1000.slice/session-a_b.scope/b.service", NONE },
                { "/user.slice/user-1000.slice/session-.scope/b.service", NONE },
                { "/user.slice/user-1000.slice/session-2.service/b.service", NONE },
                { "/user.slice/user-1000.slice/_session-2.scope/b.service", NONE },
                /* The manager's uid, as parse_uid() takes it. */
                { "/user@0.service/b.service", "b.service" },
                { "/user@4294967294.service/b.service", "b.service" },
                { "/user@65534.service/b.service", "b.service" },
                { "/user@65535.service/b.service", NONE },
                { "/user@4294967295.service/b.service", NONE },
                { "/user@4294967296.service/b.service", NONE },
                { "/user@99999999999999999999.service/b.service", NONE },
                { "/user@01000.service/b.service", NONE },
                { "/user@00.service/b.service", NONE },
                { "/user@+1.service/b.service", NONE },
                { "/user@-1.service/b.service", NONE },
                { "/user@ 1.service/b.service", NONE },
                { "/user@1 .service/b.service", NONE },
                { "/user@1a.service/b.service", NONE },
                { "/user@0x10.service/b.service", NONE },
                { "/user@.service/b.service", NONE },
                { "/_user@1000.service/b.service", NONE },      /* never unescaped */
                { "/user@1000.scope/b.service", NONE },
                /* No user unit below it, or none at all. */
                { "/user.slice/user-1000.slice/user@1000.service", NONE },
                { "/user.slice/user-1000.slice/user@1000.service/app.slice", NONE },
                { "/user.slice/user-1000.slice/user@1000.service/b", NONE },
                { "/user.slice/user-1000.slice/user@1000.service/a@b.slice/c.service", NONE },
                { "/system.slice/a.service", NONE },
                { "/system.slice/a.service/user@1000.service/b.service", NONE },
                { "/payload/user@1000.service/b.service", NONE },
                { "", NONE }, { "/", NONE },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_user_unit(cases[i].path, cases[i].want);
}

static void test_from_cgroup(void) {
        static const RootedCase cases[] = {
                { "/system.slice/a.service", "", "/system.slice/a.service" },
                /* A backslash comes doubled from cnd's escape, and goes back to one. */
                { "/system.slice/a\\\\x2db.service", "", "/system.slice/a\\x2db.service" },
                { "/system.slice/a\\xffb.service", "", "/system.slice/a\xff" "b.service" },
                { "/docker/0123/system.slice/a.service (deleted)", "/docker/0123", "/system.slice/a.service" },
                { "/docker/0123/a.service\rb", "/docker/0123", "/a.service" },
                /* A NUL in the path ends it, as it ends libsystemd's line. */
                { "/system.slice/a.service\\x00/b", "", "/system.slice/a.service" },
        };
        char *got;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                CHECK_EQ_INT(unit_path_from_cgroup(cases[i].path, cases[i].root, &got), 0);
                CHECK_STREQ(got, cases[i].want);
                free(got);
        }
        /* Not cnd's escape. */
        CHECK_EQ_INT(unit_path_from_cgroup("/a\\q", "", &got), -EINVAL);
        CHECK_EQ_INT(unit_path_from_cgroup("/a\\x4", "", &got), -EINVAL);
}

static void test_root_read(const char *dir) {
        static const Case cases[] = {
                { "0::/init.scope\n", "" },
                { "0::/\n", "/" },
                { "12:pids:/x\n1:name=systemd:/init.scope\n0::/docker/0123/init.scope\n", "/docker/0123" },
                { "0::/lxc.payload.web/system.slice\n", "/lxc.payload.web" },
                { "0::/a (deleted)\n", "/a" },
                { "0::/a\\b/init.scope\n", "/a\\b" },
        };
        _cleanup_(freep) char *file = scratch_path(dir, "cgroup");
        const char *kept, *again;
        char *root;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                write_file(dir, "cgroup", cases[i].path);
                CHECK_EQ_INT(unit_root_read(file, &root), 0);
                CHECK_STREQ(root, cases[i].want);
                free(root);
        }
        write_file(dir, "cgroup", "1:name=systemd:/init.scope\n");
        CHECK_EQ_INT(unit_root_read(file, &root), -ENODATA);
        CHECK_EQ_INT(unit_root_read("/nonexistent/cgroup", &root), -ENOENT);

        /* This system's, read once and kept. */
        if (unit_root_read("/proc/1/cgroup", &root) < 0) {
                printf("PID 1's cgroup cannot be read here: not comparing the kept root\n");
                return;
        }
        CHECK_EQ_INT(unit_root_get(&kept), 0);
        CHECK_EQ_INT(unit_root_get(&again), 0);
        CHECK_STREQ(kept, root);
        CHECK(kept == again);
        printf("root here: \"%s\"\n", kept);
        free(root);
}

static void test_machine(const char *dir) {
        _cleanup_(freep) char *long_unit = repeat('a', 255 - strlen(".scope"), ".scope");
        char *got = NULL;

        make_symlink(dir, "unit:machine-x.scope", "x");
        make_symlink(dir, "unit:odd.service", "a name\x01\xff/with/slashes");
        write_file(dir, "unit:file.service", "x");

        CHECK_EQ_INT(machine_from_unit(dir, "machine-x.scope", &got), 0);
        CHECK_STREQ(got, "x");
        got = mfree(got);
        /* The target as it is: escaping is the caller's. */
        CHECK_EQ_INT(machine_from_unit(dir, "odd.service", &got), 0);
        CHECK_STREQ(got, "a name\x01\xff/with/slashes");
        got = mfree(got);
        CHECK_EQ_INT(machine_from_unit(dir, "other.service", &got), -ENOENT);
        CHECK_EQ_INT(machine_from_unit(dir, "file.service", &got), -EINVAL);
        CHECK_EQ_INT(machine_from_unit(dir, "", &got), -ENXIO);
        CHECK_EQ_INT(machine_from_unit("/nonexistent", "machine-x.scope", &got), -ENOENT);
        /* "unit:" and a name of 255 bytes are too long for one file name. */
        CHECK_EQ_INT(machine_from_unit(dir, long_unit, &got), -ENAMETOOLONG);
        CHECK(got == NULL);
}

/* Malformed input of every kind gives a bounded answer: a valid unit name or -ENXIO. */
static void test_bytes(void) {
        char path[64];

        for (unsigned b = 1; b < 256; b++) {
                _cleanup_(freep) char *unit = NULL, *user_unit = NULL;
                int r;

                snprintf(path, sizeof(path), "/system.slice/a%cb.service", (char) b);
                r = unit_from_cgroup(path, &unit);
                if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@", (char) b)) {
                        CHECK_EQ_INT(r, 0);
                        CHECK(strlen(unit) == strlen("a_b.service"));
                } else
                        CHECK_EQ_INT(r, -ENXIO);        /* '/' too: "a" alone is too short */
                snprintf(path, sizeof(path), "/user@1000.service/a%cb.service", (char) b);
                r = user_unit_from_cgroup(path, &user_unit);
                CHECK(r == 0 || r == -ENXIO);
        }
}

int main(void) {
        char template[] = "/tmp/test-unit-path-XXXXXX";
        const char *dir = scratch_new(template);

        test_trim();
        test_root_strip();
        test_shift();
        test_shift_long();
        test_unit();
        test_unit_long();
        test_user_unit();
        test_from_cgroup();
        test_root_read(dir);
        test_machine(dir);
        test_bytes();
        rm_rf(dir);
        return EXIT_SUCCESS;
}
