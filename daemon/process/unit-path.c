/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The units a cgroup path names, by libsystemd's rules: see unit-path.h. Each rule below names
 * the libsystemd function (systemd 252, src/basic/cgroup-util.c, unit-name.c, path-util.c,
 * user-util.c) whose answer it must give. */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "procfs.h"
#include "unit-path.h"
#include "utf8.h"
#include "util.h"

/* /proc/1/cgroup: one line per hierarchy, as process-info.c bounds it. */
#define CGROUP_FILE_MAX (64U * 1024U)

#define DIGITS "0123456789"
#define LETTERS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
/* What a unit name may hold before its type's dot (unit-name.c's VALID_CHARS_WITH_AT). */
#define UNIT_NAME_CHARS DIGITS LETTERS ":-_.\\@"

/* One component of a path: n bytes at s, no '/' among them. */
typedef struct Component {
        const char *s;
        size_t n;
} Component;

static bool has_prefix(Component c, const char *prefix) {
        size_t n = strlen(prefix);

        return c.n >= n && memcmp(c.s, prefix, n) == 0;
}

static bool has_suffix(Component c, const char *suffix) {
        size_t n = strlen(suffix);

        return c.n >= n && memcmp(c.s + c.n - n, suffix, n) == 0;
}

/* Whether the n bytes at s are all in set (set holds no NUL, so a NUL among them is not). */
static bool all_in(const char *s, size_t n, const char *set) {
        for (size_t i = 0; i < n; i++)
                if (s[i] == '\0' || !strchr(set, s[i]))
                        return false;
        return true;
}

/* Cuts suffix off the string of n bytes at s, if it ends so. */
static bool cut_suffix(char *s, size_t n, const char *suffix) {
        size_t k = strlen(suffix);

        if (n < k || memcmp(s + n - k, suffix, k) != 0)
                return false;
        s[n - k] = '\0';
        return true;
}

void unit_path_trim(char *path) {
        size_t n = strcspn(path, "\n\r");

        /* read_line() ends a line at either; cg_pid_get_path() then drops the suffix, once. */
        path[n] = '\0';
        (void) cut_suffix(path, n, " (deleted)");
}

void unit_root_strip(char *path) {
        static const char *const suffixes[] = { "/init.scope", "/system.slice", "/system" };
        size_t n = strlen(path);

        /* cg_get_root_path(): the first of them that ends the path, once. */
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (cut_suffix(path, n, suffixes[i]))
                        return;
}

/* path-util.c's skip_slash_or_dot(): past any '/' and "./". */
static const char *skip_slashes_and_dots(const char *p) {
        while (*p == '/' || (p[0] == '.' && p[1] == '/'))
                p += *p == '/' ? 1 : 2;
        return p;
}

/* path_find_first_component() accepting "..": the first component of *p in *ret (NULL if
 * none) and its length, *p moved past it and the slashes and dots after; -EINVAL for one
 * longer than NAME_MAX. */
static int first_component(const char **p, const char **ret) {
        const char *first = skip_slashes_and_dots(*p), *end, *next;

        if (*first == '\0' || streq(first, ".")) {
                *p = first + (*first != '\0');
                *ret = NULL;
                return 0;
        }
        end = strchrnul(first, '/');
        if (end - first > NAME_MAX)
                return -EINVAL;
        next = skip_slashes_and_dots(end);
        *p = next + streq(next, ".");
        *ret = first;
        return (int) (end - first);
}

/* path_startswith(): where path goes on past prefix, component by component, or NULL. */
static const char *path_below(const char *path, const char *prefix) {
        if ((path[0] == '/') != (prefix[0] == '/'))
                return NULL;
        for (;;) {
                const char *p, *q;
                int r, k;

                /* The path's component first: one too long fails even where prefix has ended. */
                r = first_component(&path, &p);
                if (r < 0)
                        return NULL;
                k = first_component(&prefix, &q);
                if (k < 0)
                        return NULL;
                if (k == 0)
                        return p ?: path;
                if (r != k || memcmp(p, q, (size_t) r) != 0)
                        return NULL;
        }
}

const char *unit_path_shift(const char *path, const char *root) {
        const char *p = path_below(path, root);

        /* cg_shift_path(): from the character before, so that a path below root starts "/". */
        return p && p > path ? p - 1 : path;
}

int unit_path_from_cgroup(const char *cgroup, const char *root, char **ret) {
        _cleanup_(freep) char *raw = NULL;
        char *s;
        int r;

        r = utf8_unescape(cgroup, &raw, NULL);
        if (r < 0)
                return r;
        unit_path_trim(raw);
        s = strdup(unit_path_shift(raw, root));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int unit_root_read(const char *file, char **ret) {
        _cleanup_(freep) char *text = NULL, *escaped = NULL;
        char *raw;
        size_t n;
        int r;

        r = read_full_file(file, CGROUP_FILE_MAX, &text, &n);
        if (r < 0)
                return r;
        r = procfs_parse_cgroup(text, n, &escaped);
        if (r < 0)
                return r;
        r = utf8_unescape(escaped, &raw, NULL);
        if (r < 0)
                return r;
        unit_path_trim(raw);
        unit_root_strip(raw);
        *ret = raw;
        return 0;
}

static pthread_mutex_t root_lock = PTHREAD_MUTEX_INITIALIZER;
static char *root;              /* once read, for good */
static int root_error = -EAGAIN;

int unit_root_get(const char **ret) {
        int r;

        /* libsystemd reads PID 1's cgroup at every lookup; PID 1 does not move (systemd stays in
         * init.scope, a container's init where its runtime put it), so once is enough. A failure
         * other than "no cgroup v2 path" (out of memory, out of file descriptors) may pass: the
         * next call reads again. */
        pthread_mutex_lock(&root_lock);
        if (!root && root_error != -ENODATA)
                root_error = unit_root_read("/proc/1/cgroup", &root);
        r = root ? 0 : root_error;
        pthread_mutex_unlock(&root_lock);
        if (r < 0)
                return r;
        if (ret)
                *ret = root;
        return 0;
}

/* unit_type_from_string(): the types, matched exactly. */
static bool is_unit_type(const char *s, size_t n) {
        static const char *const types[] = {
                "service", "socket", "target", "device", "mount", "automount",
                "swap", "timer", "path", "slice", "scope",
        };

        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (strlen(types[i]) == n && memcmp(s, types[i], n) == 0)
                        return true;
        return false;
}

/* unit_name_is_valid() of the n bytes at s, as plain (foo.service) or, if instance is set,
 * also as an instance (foo@bar.service); never a template (foo@.service). */
static bool unit_name_valid(const char *s, size_t n, bool instance) {
        const char *dot, *at;

        if (n == 0 || n >= UNIT_PATH_NAME_MAX)
                return false;
        dot = memrchr(s, '.', n);
        if (!dot || dot == s || !is_unit_type(dot + 1, n - (size_t) (dot - s) - 1))
                return false;
        if (!all_in(s, (size_t) (dot - s), UNIT_NAME_CHARS))
                return false;
        at = memchr(s, '@', (size_t) (dot - s));
        if (!at)
                return true;
        return instance && at != s && dot > at + 1;
}

/* cg_unescape(): systemd writes '_' before a name that could be the kernel's. */
static Component unescape(Component c) {
        if (c.n > 0 && c.s[0] == '_')
                return (Component) { c.s + 1, c.n - 1 };
        return c;
}

/* The component at p, after the slashes before it. */
static Component component_at(const char *p) {
        p += strspn(p, "/");
        return (Component) { p, strcspn(p, "/") };
}

/* Past c and the slashes after it. */
static const char *after(Component c) {
        const char *p = c.s + c.n;

        return p + strspn(p, "/");
}

/* valid_slice_name(): a plain unit name ending in ".slice", once unescaped. */
static bool is_slice(Component c) {
        Component u = unescape(c);

        return c.n >= strlen("x.slice") && has_suffix(c, ".slice") && unit_name_valid(u.s, u.n, false);
}

/* skip_slices(): the first component that is not a slice. */
static Component skip_slices(const char *path) {
        Component c = component_at(path);

        while (is_slice(c))
                c = component_at(c.s + c.n);
        return c;
}

int unit_from_cgroup(const char *path, char **ret) {
        Component c = skip_slices(path), u = unescape(c);
        char *s;

        /* cg_path_decode_unit() weighs the length before the unescape, and takes instances;
         * cg_path_get_unit() then refuses a slice, one skip_slices() did not pass (foo@x.slice). */
        if (c.n < 3 || !unit_name_valid(u.s, u.n, true) || has_suffix(u, ".slice"))
                return -ENXIO;
        s = memdup_suffix0(u.s, u.n);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* parse_uid(): decimal digits, no sign, space nor leading zero, within 32 bits, and neither
 * (uid_t) -1 nor the 16-bit -1, which libc and old systems take for "no user". */
static bool is_uid(const char *s, size_t n) {
        uint64_t v = 0;

        if (n == 0 || !all_in(s, n, DIGITS) || (s[0] == '0' && n > 1))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((v = v * 10 + (uint64_t) (s[i] - '0')) > UINT32_MAX)
                        return false;
        return v != UINT32_MAX && v != UINT16_MAX;
}

/* skip_user_manager(): user@UID.service, unescaped as it never needs to be. */
static bool is_user_manager(Component c) {
        size_t prefix = strlen("user@"), suffix = strlen(".service");

        return c.n >= strlen("user@x.service") && has_prefix(c, "user@") && has_suffix(c, ".service") &&
                is_uid(c.s + prefix, c.n - prefix - suffix);
}

/* skip_session(): session-ID.scope, ID letters and digits. */
static bool is_session(Component c) {
        size_t prefix = strlen("session-"), suffix = strlen(".scope");

        return c.n >= strlen("session-x.scope") && has_prefix(c, "session-") && has_suffix(c, ".scope") &&
                all_in(c.s + prefix, c.n - prefix - suffix, LETTERS DIGITS);
}

int user_unit_from_cgroup(const char *path, char **ret) {
        Component c = skip_slices(path);

        /* skip_user_prefix(): the user manager, or else a session, must be there. */
        if (!is_user_manager(c) && !is_session(c))
                return -ENXIO;
        return unit_from_cgroup(after(c), ret);
}

int machine_from_unit(const char *machines_dir, const char *unit, char **ret) {
        char link[PATH_MAX], target[PATH_MAX];
        ssize_t n;
        char *s;

        if (unit[0] == '\0')
                return -ENXIO;
        if ((size_t) snprintf(link, sizeof(link), "%s/unit:%s", machines_dir, unit) >= sizeof(link))
                return -ENAMETOOLONG;
        /* A link's target is below PATH_MAX bytes: a full buffer cannot be one. */
        n = readlink(link, target, sizeof(target));
        if (n < 0)
                return -errno;
        if ((size_t) n >= sizeof(target))
                return -ENAMETOOLONG;
        s = memdup_suffix0(target, (size_t) n);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
