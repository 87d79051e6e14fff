/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A scratch tree under /tmp for the tests that read files and drop-in directories: a fresh
 * directory, files, subdirectories and symbolic links in it, and its removal. Any failure
 * fails the test. */

#include <ftw.h>
#include <sys/stat.h>

#include "tests.h"
#include "util.h"

/* template as for mkdtemp(3), e.g. a "/tmp/test-x-XXXXXX" array; returns it. */
static inline char *scratch_new(char *template) {
        CHECK(mkdtemp(template));
        return template;
}

static inline char *scratch_path(const char *dir, const char *name) {
        char *path;

        CHECK(asprintf(&path, "%s/%s", dir, name) >= 0);
        return path;
}

static inline void write_file(const char *dir, const char *name, const char *content) {
        _cleanup_(freep) char *path = scratch_path(dir, name);
        _cleanup_(fclosep) FILE *f = NULL;

        f = fopen(path, "we");
        CHECK(f);
        CHECK(fputs(content, f) >= 0);
        CHECK(fclose(TAKE_PTR(f)) == 0);
}

/* Returns the new directory's path (caller frees). */
static inline char *make_dir(const char *root, const char *name) {
        char *path = scratch_path(root, name);

        CHECK(mkdir(path, 0755) == 0);
        return path;
}

static inline void make_symlink(const char *dir, const char *name, const char *target) {
        _cleanup_(freep) char *path = scratch_path(dir, name);

        CHECK(symlink(target, path) == 0);
}

static inline int scratch_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static inline void rm_rf(const char *path) {
        CHECK(nftw(path, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
        CHECK(access(path, F_OK) < 0 && errno == ENOENT);
}
