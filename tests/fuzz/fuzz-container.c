/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The container named by a cgroup path, on any path (arbitrary bytes escaped as cnd escapes a
 * cgroup path): either none, or a known runtime with a name that is a D-Bus string within the
 * bound, and an id that the path holds. */

#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "fuzz.h"
#include "utf8.h"

static const char *const runtimes[] = { "docker:", "podman:", "containerd:", "cri-o:", "cri:", "lxc:", "nspawn:" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *path = NULL, *name = NULL;
        const char *rest = NULL;
        size_t n;

        if (utf8_escape(data, size, &path) < 0)
                return 0;
        if (container_from_cgroup(path, &name) < 0)
                abort();
        n = strlen(name);
        if (n == 0)
                goto done;
        for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
                if (strncmp(name, runtimes[i], strlen(runtimes[i])) == 0)
                        rest = name + strlen(runtimes[i]);
        if (!rest || *rest == '\0' || !utf8_is_dbus_string(name, n))
                abort();
        if (strlen(rest) > CONTAINER_NAME_MAX + strlen(CONTAINER_CUT_MARKER))
                abort();
        /* The runtimes' ids are copied as they are. */
        if (strncmp(name, "lxc:", 4) != 0 && strncmp(name, "nspawn:", 7) != 0 &&
            (strlen(rest) != 64 || !strstr(path, rest)))
                abort();
done:
        free(name);
        free(path);
        return 0;
}
