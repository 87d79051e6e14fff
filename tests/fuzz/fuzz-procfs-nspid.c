/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The NSpid: line of /proc/PID/status, on arbitrary bytes: a pid is found only on a line that
 * starts with "NSpid:", is positive, and is written there as the line's last number. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "procfs.h"

/* Where the first line starting with "NSpid:" starts, or size. */
static size_t find_line(const uint8_t *data, size_t size) {
        for (size_t i = 0; i + 6 <= size; i++)
                if ((i == 0 || data[i - 1] == '\n') && memcmp(data + i, "NSpid:", 6) == 0)
                        return i;
        return size;
}

/* Whether the line at i ends with pid, blanks after it aside. */
static bool line_ends_with(const uint8_t *data, size_t size, size_t i, uint32_t pid) {
        char digits[16];
        size_t k = (size_t) snprintf(digits, sizeof(digits), "%u", pid), end = i;

        while (end < size && data[end] != '\n')
                end++;
        while (end > i && (data[end - 1] == ' ' || data[end - 1] == '\t'))
                end--;
        size_t start = end - k;

        if (end < i + 6 + k || memcmp(data + start, digits, k) != 0)
                return false;
        while (start > i + 6 && data[start - 1] == '0')        /* leading zeros read as none */
                start--;
        return data[start - 1] == ' ' || data[start - 1] == '\t';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t line = find_line(data, size);
        uint32_t pid = 0;
        int r = procfs_parse_nspid((const char *) data, size, &pid);

        if ((line == size) != (r == -ENODATA) || (r != 0 && r != -ENODATA && r != -EBADMSG))
                abort();
        if (r == 0 && (pid == 0 || pid > 0x7fffffffU || !line_ends_with(data, size, line, pid)))
                abort();
        return 0;
}
