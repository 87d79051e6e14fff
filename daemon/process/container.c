/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The container a cgroup path names: see container.h. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "utf8.h"
#include "util.h"

#define ID_LENGTH 64U

/* One component of the path: n bytes at s. */
typedef struct Component {
        const char *s;
        size_t n;
} Component;

static bool is_id(const char *s, size_t n) {
        if (n != ID_LENGTH)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static bool is(Component c, const char *word) {
        return c.n == strlen(word) && memcmp(c.s, word, c.n) == 0;
}

/* If c is PREFIX + something + SUFFIX, the something. */
static bool strip(Component c, const char *prefix, const char *suffix, Component *ret) {
        size_t p = strlen(prefix), q = strlen(suffix);

        if (c.n < p + q || memcmp(c.s, prefix, p) != 0 || memcmp(c.s + c.n - q, suffix, q) != 0)
                return false;
        *ret = (Component) { c.s + p, c.n - p - q };
        return true;
}

/* c is PREFIX + ID + SUFFIX. */
static bool id_between(Component c, const char *prefix, const char *suffix, Component *ret) {
        return strip(c, prefix, suffix, ret) && is_id(ret->s, ret->n);
}

typedef enum Kind {
        KIND_NONE,
        KIND_ID,        /* a 64-hex id, copied as it is */
        KIND_NAME,      /* a name, cut */
        KIND_UNIT_NAME, /* a name in a unit name: systemd's escapes decoded, then cut */
} Kind;

/* Whether c (after prev) names a container: its runtime and the id or name. */
static Kind match(Component prev, Component c, bool below_kubepods, const char **ret_runtime, Component *ret) {
        static const struct {
                const char *runtime, *prefix, *suffix;
        } scopes[] = {
                { "docker", "docker-", ".scope" },
                { "podman", "libpod-conmon-", ".scope" },
                { "podman", "libpod-", ".scope" },
                { "containerd", "cri-containerd-", ".scope" },
                { "cri-o", "crio-conmon-", ".scope" },
                { "cri-o", "crio-", ".scope" },
                { "cri-o", "crio-", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(scopes); i++)
                if (id_between(c, scopes[i].prefix, scopes[i].suffix, ret)) {
                        *ret_runtime = scopes[i].runtime;
                        return KIND_ID;
                }
        if ((is(prev, "docker") && id_between(c, "", "", ret)) ||
            (is(prev, "libpod_parent") && id_between(c, "libpod-", "", ret)) ||
            (below_kubepods && id_between(c, "", "", ret))) {
                *ret_runtime = is(prev, "docker") ? "docker" : is(prev, "libpod_parent") ? "podman" : "cri";
                return KIND_ID;
        }
        if ((strip(c, "lxc.payload.", "", ret) || (is(prev, "lxc") && strip(c, "", "", ret))) && ret->n > 0) {
                *ret_runtime = "lxc";
                return KIND_NAME;
        }
        if (is(prev, "machine.slice") && strip(c, "machine-", ".scope", ret) && ret->n > 0) {
                *ret_runtime = "nspawn";
                return KIND_UNIT_NAME;
        }
        return KIND_NONE;
}

static int hex_digit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* systemd writes a unit name's bytes other than [A-Za-z0-9:_.] as "\xNN"; in an escaped path
 * (utf8.h) its backslash is doubled, "\\xNN". Decoded where the byte is printable ASCII and
 * no backslash (which would start an escape of the path's own): "-" is the usual one. Writes at
 * most n bytes to out. */
static size_t unescape_unit_name(const char *s, size_t n, char *out) {
        size_t k = 0;

        for (size_t i = 0; i < n;) {
                if (n - i >= 5 && memcmp(s + i, "\\\\x", 3) == 0 && hex_digit(s[i + 3]) >= 0 &&
                    hex_digit(s[i + 4]) >= 0) {
                        int b = hex_digit(s[i + 3]) * 16 + hex_digit(s[i + 4]);

                        if (b > ' ' && b < 0x7f && b != '\\') {
                                out[k++] = (char) b;
                                i += 5;
                                continue;
                        }
                }
                out[k++] = s[i++];
        }
        return k;
}

static int name_of(const char *runtime, Kind kind, Component id, char **ret) {
        _cleanup_(freep) char *decoded = NULL;
        const char *s = id.s;
        size_t n = id.n, cut;
        char *name;

        if (kind == KIND_UNIT_NAME) {
                decoded = malloc(n);
                if (!decoded)
                        return -ENOMEM;
                n = unescape_unit_name(s, n, decoded);
                s = decoded;
        }
        cut = kind == KIND_ID ? n : utf8_escaped_cut(s, n, CONTAINER_NAME_MAX);
        if (asprintf(&name, "%s:%.*s%s", runtime, (int) cut, s, cut < n ? CONTAINER_CUT_MARKER : "") < 0)
                return -ENOMEM;
        *ret = name;
        return 0;
}

int container_from_cgroup(const char *path, char **ret) {
        Component prev = {}, c, id;
        bool below_kubepods = false;
        size_t n = strlen(path);
        char *none;

        /* A removed cgroup: the kernel appends this to its path. */
        if (n >= 10 && memcmp(path + n - 10, " (deleted)", 10) == 0)
                n -= 10;
        for (const char *p = path, *end = path + n; p < end;) {
                const char *slash = memchr(p, '/', (size_t) (end - p)) ?: end;
                const char *runtime;
                Kind kind;

                c = (Component) { p, (size_t) (slash - p) };
                p = slash + (slash < end);
                if (c.n == 0)
                        continue;       /* "//" */
                kind = match(prev, c, below_kubepods, &runtime, &id);
                if (kind != KIND_NONE)
                        return name_of(runtime, kind, id, ret);
                below_kubepods = below_kubepods || strip(c, "kubepods", "", &id);
                prev = c;
        }
        none = strdup("");
        if (!none)
                return -ENOMEM;
        *ret = none;
        return 0;
}
