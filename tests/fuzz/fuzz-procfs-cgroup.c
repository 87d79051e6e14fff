/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The /proc/PID/cgroup parser, on arbitrary bytes: it finds a path exactly when a line starts
 * with "0::", and that path is a D-Bus string that unescapes to the rest of the text after it
 * (less a final newline). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "procfs.h"
#include "utf8.h"

/* Where the first line starting with "0::" starts, or size. */
static size_t find_v2_line(const uint8_t *data, size_t size) {
        for (size_t i = 0; i + 3 <= size; i++)
                if ((i == 0 || data[i - 1] == '\n') && memcmp(data + i, "0::", 3) == 0)
                        return i;
        return size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t line = find_v2_line(data, size), start, end, n;
        char *path = NULL, *raw = NULL;
        int r;

        r = procfs_parse_cgroup((const char *) data, size, &path);
        if (line == size) {
                if (r != -ENODATA)
                        abort();
                return 0;
        }
        start = line + 3;
        end = size > start && data[size - 1] == '\n' ? size - 1 : size;
        if (end == start) {
                if (r != -EBADMSG)
                        abort();
                return 0;
        }
        if (r < 0 || !utf8_is_dbus_string(path, strlen(path)) || utf8_unescape(path, &raw, &n) < 0)
                abort();
        if (n != end - start || memcmp(raw, data + start, n) != 0)
                abort();
        free(raw);
        free(path);
        return 0;
}
