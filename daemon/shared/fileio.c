/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "util.h"

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(closep) int fd = -1;
        size_t size = 0, allocated;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && st.st_size > (off_t) max)
                return -EFBIG;

        allocated = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t) st.st_size + 1 : 4096;
        allocated = MIN(allocated, max + 1);
        buf = malloc(allocated + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;

                if (size == allocated) {
                        char *t;

                        allocated = MIN(allocated * 2, max + 1);
                        t = realloc(buf, allocated + 1);
                        if (!t)
                                return -ENOMEM;
                        buf = t;
                }
                n = read(fd, buf + size, allocated - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }

        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}
