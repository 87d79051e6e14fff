/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Runs a fuzz target over files and directories of inputs, for builds without libFuzzer:
 * the seed corpus and every past crash stay regression tests of the normal suite. */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path, unsigned *n) {
        FILE *f = fopen(path, "rb");
        uint8_t *buf;
        long size;

        if (!f)
                return -1;
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fseek(f, 0, SEEK_SET);
        /* An exact-size heap copy, so that any read past the end is caught under ASan. */
        buf = malloc(size > 0 ? (size_t) size : 1);
        if (!buf || (size > 0 && fread(buf, 1, (size_t) size, f) != (size_t) size)) {
                fclose(f);
                free(buf);
                return -1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t) size);
        free(buf);
        (*n)++;
        return 0;
}

static int run_path(const char *path, unsigned *n) {
        struct stat st;
        struct dirent *de;
        DIR *d;

        if (stat(path, &st) < 0)
                return -1;
        if (!S_ISDIR(st.st_mode))
                return run_file(path, n);
        d = opendir(path);
        if (!d)
                return -1;
        while ((de = readdir(d))) {
                char child[4096];

                if (de->d_name[0] == '.')
                        continue;
                snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
                if (run_path(child, n) < 0) {
                        closedir(d);
                        return -1;
                }
        }
        closedir(d);
        return 0;
}

int main(int argc, char *argv[]) {
        unsigned n = 0;

        for (int i = 1; i < argc; i++)
                if (run_path(argv[i], &n) < 0) {
                        fprintf(stderr, "cannot read %s\n", argv[i]);
                        return 1;
                }
        printf("%u inputs\n", n);
        return n > 0 ? 0 : 1;
}
