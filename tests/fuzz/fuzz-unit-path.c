/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The units of a cgroup path, on any path and any root (the input: ROOT NUL PATH, or a PATH
 * alone): the path, escaped as cnd escapes a cgroup path, is always taken; the root strip and
 * the shift stay within their strings; and a unit or user unit, when there is one, is a name
 * libsystemd would accept (under 256 bytes of its characters, a known type, no slice) cut from
 * the path, and a user unit comes only with a user manager's or session's unit above it. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "unit-path.h"
#include "utf8.h"

static const char unit_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@";

static void check_name(const char *name, const char *path) {
        size_t n = strlen(name);
        const char *dot = strrchr(name, '.');

        if (n == 0 || n >= UNIT_PATH_NAME_MAX || strspn(name, unit_chars) != n || !dot || dot == name)
                abort();
        if (strcmp(dot, ".slice") == 0 || name[0] == '@' || !strstr(path, name))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *nul = memchr(data, 0, size);
        size_t root_size = nul ? (size_t) (nul - data) : 0, path_start = nul ? root_size + 1 : 0;
        char *root = NULL, *escaped = NULL, *path = NULL, *unit = NULL, *user_unit = NULL;
        const char *shifted;
        size_t n;
        int r;

        /* Not strndup(): the input need not hold a NUL, and a strict reading of strndup() (ASan's
         * strict_string_checks) looks for one. */
        root = malloc(root_size + 1);
        if (root) {
                memcpy(root, data, root_size);
                root[root_size] = '\0';
        }
        if (!root || utf8_escape(data + path_start, size - path_start, &escaped) < 0)
                goto done;
        n = strlen(root);
        unit_root_strip(root);
        if (strlen(root) > n)
                abort();

        r = unit_path_from_cgroup(escaped, root, &path);
        if (r == -ENOMEM)
                goto done;
        if (r < 0)
                abort();
        shifted = unit_path_shift(path, root);
        if (shifted < path || shifted > path + strlen(path))
                abort();

        r = unit_from_cgroup(path, &unit);
        if (r == 0)
                check_name(unit, path);
        else if (r != -ENXIO && r != -ENOMEM)
                abort();
        r = user_unit_from_cgroup(path, &user_unit);
        if (r == 0) {
                check_name(user_unit, path);
                if (!unit || (strncmp(unit, "user@", 5) != 0 && strncmp(unit, "session-", 8) != 0))
                        abort();
        } else if (r != -ENXIO && r != -ENOMEM)
                abort();
done:
        free(user_unit);
        free(unit);
        free(path);
        free(escaped);
        free(root);
        return 0;
}
