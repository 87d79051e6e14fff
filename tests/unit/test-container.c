/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* container_from_cgroup(): the cgroup paths each runtime makes, the paths that only look like
 * them, nesting, and names cut at the bound. */

#include <string.h>

#include "container.h"
#include "tests.h"
#include "utf8.h"
#include "util.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void check(const char *path, const char *want) {
        _cleanup_(freep) char *got = NULL;

        CHECK_EQ_INT(container_from_cgroup(path, &got), 0);
        if (!streq(got, want)) {
                fprintf(stderr, "%s: got \"%s\", expected \"%s\"\n", path, got, want);
                exit(EXIT_FAILURE);
        }
}

static void test_runtimes(void) {
        check("/system.slice/docker-" ID ".scope", "docker:" ID);
        check("/docker/" ID, "docker:" ID);
        check("/machine.slice/libpod-" ID ".scope", "podman:" ID);
        check("/machine.slice/libpod-" ID ".scope/container", "podman:" ID);
        check("/machine.slice/libpod-conmon-" ID ".scope", "podman:" ID);
        check("/libpod_parent/libpod-" ID, "podman:" ID);
        /* Rootless podman, under the user's manager. */
        check("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope", "podman:" ID);
        check("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1b2c.slice/cri-containerd-" ID
              ".scope", "containerd:" ID);
        check("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c.slice/crio-" ID ".scope",
              "cri-o:" ID);
        check("/system.slice/crio-conmon-" ID ".scope", "cri-o:" ID);
        check("/kubepods/besteffort/pod1b2c/crio-" ID, "cri-o:" ID);
        check("/kubepods/burstable/pod1b2c-3d4e/" ID, "cri:" ID);
        check("/lxc.payload.web", "lxc:web");
        check("/lxc.payload.web/system.slice/cron.service", "lxc:web");
        check("/lxc/web", "lxc:web");
        check("/machine.slice/machine-debian.scope/payload/system.slice/cron.service", "nspawn:debian");
        /* systemd's escape of "-" in a unit name, its backslash doubled by cnd's escaping. */
        check("/machine.slice/machine-my\\\\x2dbox.scope", "nspawn:my-box");
        check("/machine.slice/machine-a\\\\x5cb.scope", "nspawn:a\\\\x5cb");        /* a backslash stays escaped */
        check("/system.slice/docker-" ID ".scope (deleted)", "docker:" ID);
}

static void test_lookalikes(void) {
        check("/", "");
        check("", "");
        check("/user.slice/user-1000.slice/session-2.scope", "");
        check("/system.slice/docker.service", "");
        check("/system.slice/docker-compose@web.service", "");
        check("/system.slice/docker-" ID ".service", "");
        check("/system.slice/docker-0123.scope", "");                  /* not 64 hex digits */
        check("/system.slice/docker-" ID "0.scope", "");
        check("/system.slice/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.scope", "");
        check("/docker", "");
        check("/x/" ID, "");                                            /* a bare id needs kubepods above */
        check("/lxc.payload.", "");
        check("/lxc.monitor.web", "");
        check("/lxc", "");
        check("/machine-debian.scope", "");                             /* not in machine.slice */
        check("/machine.slice/machine-.scope", "");
        check("//docker//" ID, "docker:" ID);                          /* empty components skipped */
}

/* The outermost container wins: the host's runtime made its cgroup. */
static void test_nested(void) {
        check("/system.slice/docker-" ID ".scope/docker/fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
              "docker:" ID);
        check("/lxc.payload.outer/system.slice/docker-" ID ".scope", "lxc:outer");
}

static void test_cut(void) {
        char path[1024], want[512];
        _cleanup_(freep) char *got = NULL;

        /* A name past the bound is cut, the marker after it. */
        memset(path, 0, sizeof(path));
        strcpy(path, "/lxc.payload.");
        memset(path + strlen(path), 'n', 300);
        snprintf(want, sizeof(want), "lxc:%.*s%s", (int) CONTAINER_NAME_MAX, path + strlen("/lxc.payload."),
                 CONTAINER_CUT_MARKER);
        check(path, want);

        /* Never inside an escape or a character. */
        memset(path, 0, sizeof(path));
        strcpy(path, "/lxc.payload.");
        memset(path + strlen(path), 'n', CONTAINER_NAME_MAX - 1);
        strcat(path, "\\xffmore");
        CHECK_EQ_INT(container_from_cgroup(path, &got), 0);
        CHECK_EQ_INT(strlen(got), strlen("lxc:") + CONTAINER_NAME_MAX - 1 + strlen(CONTAINER_CUT_MARKER));
        CHECK(utf8_is_dbus_string(got, strlen(got)));
        got = mfree(got);

        memset(path, 0, sizeof(path));
        strcpy(path, "/lxc.payload.");
        memset(path + strlen(path), 'n', CONTAINER_NAME_MAX - 1);
        strcat(path, "\xc3\xa9more");
        CHECK_EQ_INT(container_from_cgroup(path, &got), 0);
        CHECK(utf8_is_dbus_string(got, strlen(got)));
        CHECK_EQ_INT(strlen(got), strlen("lxc:") + CONTAINER_NAME_MAX - 1 + strlen(CONTAINER_CUT_MARKER));
}

int main(void) {
        test_runtimes();
        test_lookalikes();
        test_nested();
        test_cut();
        return EXIT_SUCCESS;
}
