/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Reads the whole file at path, of at most max bytes (-EFBIG past that), into a malloc'd buffer
 * with a NUL after the contents (not counted in *ret_size). The size from fstat() is only a hint:
 * /proc files and pipes have none, so reading goes one byte past max to notice. A directory is
 * -EISDIR. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);
