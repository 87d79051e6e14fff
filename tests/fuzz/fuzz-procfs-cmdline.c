/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The /proc/PID/cmdline splitter, on arbitrary bytes: every argument is a D-Bus string; the
 * arguments unescaped and joined with NULs give back the bytes; cut by the bound, the vector
 * is a prefix of the whole one. */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "procfs.h"
#include "utf8.h"

/* Unescapes argv and joins it with NULs as the kernel writes it; aborts unless that is the
 * first size bytes of data, with size the whole input or its part up to the last NUL. */
static void check_join(char **argv, const uint8_t *data, size_t size) {
        size_t off = 0;

        for (char **a = argv; *a; a++) {
                char *raw;
                size_t n;

                if (!utf8_is_dbus_string(*a, strlen(*a)) || utf8_unescape(*a, &raw, &n) < 0)
                        abort();
                if (memchr(raw, '\0', n) || off + n > size || memcmp(data + off, raw, n) != 0)
                        abort();
                off += n;
                free(raw);
                if (off < size && data[off++] != '\0')
                        abort();
        }
        if (off != size)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char **whole = NULL, **cut = NULL;
        const uint8_t *last_nul;
        size_t n_whole, n_cut;

        if (procfs_parse_cmdline(data, size, false, &whole) < 0)
                return 0;
        if (procfs_parse_cmdline(data, size, true, &cut) < 0)
                abort();

        check_join(whole, data, size);
        last_nul = size > 0 ? memrchr(data, '\0', size) : NULL;
        check_join(cut, data, last_nul ? (size_t) (last_nul - data) + 1 : 0);

        n_whole = strv_length(whole);
        n_cut = strv_length(cut);
        if (n_cut > n_whole || (n_cut < n_whole && n_cut + 1 != n_whole))
                abort();
        for (size_t i = 0; i < n_cut; i++)
                if (strcmp(whole[i], cut[i]) != 0)
                        abort();
        strv_free(whole);
        strv_free(cut);
        return 0;
}
