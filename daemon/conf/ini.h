/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A reader of INI files in systemd's manner, and of their *.conf drop-in directories. It knows
 * no section or key: it calls back for each [Section] header and each Key=Value assignment,
 * and the caller decides what they mean. Errors come back as a malloc'd "FILE:LINE: problem"
 * (or "FILE: problem" for a file that cannot be read), never logged, so that the caller can
 * say whether it is starting, reloading or only checking. */

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Not counting the line terminator. Longer lines are an error rather than being split or cut,
 * so that a garbled file cannot half-apply. */
#define INI_LINE_MAX 4096U
#define INI_FILE_MAX (1024U * 1024U)
/* Counted after masking, /dev/null masks included. */
#define INI_DROPINS_MAX 256U

/* Where the reader is, for "FILE:LINE: problem". error may be NULL: the caller only wants the
 * code. */
typedef struct IniContext {
        const char *filename;
        unsigned line;
        char **error;
} IniContext;

typedef struct IniCallbacks {
        /* name is what stands between the brackets, possibly empty. NULL accepts every section. */
        int (*section)(const IniContext *ctx, const char *name, void *userdata);
        /* section is the last accepted header's name; key is non-empty, key and value are
         * stripped, a trailing comment is cut off the value, which the callee may modify. */
        int (*assignment)(const IniContext *ctx, const char *section, const char *key, char *value,
                          void *userdata);
} IniCallbacks;

/* Sets *ctx->error to "FILE:LINE: " and the formatted problem, and returns r (-ENOMEM, with
 * *ctx->error NULL, when even that fails). For the callbacks' own errors. */
_printf_(3, 4)
int ini_error(const IniContext *ctx, int r, const char *format, ...);

/* Calls back for the headers and assignments in text (size bytes, not necessarily
 * NUL-terminated), in order, and stops at the first error, its own or a callback's. filename
 * NULL names the text "(text)". */
int ini_parse_text(const char *filename, const char *text, size_t size, const IniCallbacks *cb,
                   void *userdata, char **error);

/* The same for the file at path, of at most INI_FILE_MAX bytes. A missing file is nothing to
 * parse when missing_ok. */
int ini_parse_file(const char *path, bool missing_ok, const IniCallbacks *cb, void *userdata,
                   char **error);

/* The drop-ins of dirs (lowest priority first, NULL for none): the regular files named *.conf
 * and not hidden, a file in a later directory replacing one of the same name in an earlier
 * one, a symbolic link to /dev/null masking it. Returns in *ret a NULL-terminated list of paths,
 * sorted by file name across directories, to read in that order. Missing directories are
 * empty. */
int ini_dropins_list(const char *const *dirs, char ***ret, char **error);

char **ini_paths_free(char **paths);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, ini_paths_free);
