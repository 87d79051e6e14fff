/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The INI reader (ini.h): lines, comments, headers and assignments, then files and drop-in
 * directories on top of that. The syntax is cnd.conf(5)'s SYNTAX section. */

#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fileio.h"
#include "ini.h"

#define WHITESPACE " \t\r"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

/* Errors. On allocation failure *error is set to NULL and -ENOMEM returned instead of r, so
 * that callers can always free *error after a failure. */

_printf_(3, 0)
static int error_va(char **error, int r, const char *format, va_list ap) {
        char *s;

        if (!error)
                return r;

        if (vasprintf(&s, format, ap) < 0) {
                *error = NULL;
                return -ENOMEM;
        }

        *error = s;
        return r;
}

_printf_(3, 4)
static int error_set(char **error, int r, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        r = error_va(error, r, format, ap);
        va_end(ap);
        return r;
}

int ini_error(const IniContext *ctx, int r, const char *format, ...) {
        _cleanup_(freep) char *problem = NULL;
        va_list ap;

        if (!ctx->error)
                return r;

        va_start(ap, format);
        r = error_va(&problem, r, format, ap);
        va_end(ap);
        if (r == -ENOMEM && !problem) {
                *ctx->error = NULL;
                return r;
        }

        return error_set(ctx->error, r, "%s:%u: %s", ctx->filename, ctx->line, problem);
}

/* Lines. */

typedef struct IniParser {
        IniContext ctx;
        const IniCallbacks *cb;
        void *userdata;
        /* A copy: the header's line buffer is reused for the next line. NULL before the first. */
        char *section;
} IniParser;

static void ini_parser_done(IniParser *p) {
        p->section = mfree(p->section);
}

static char *strip(char *s) {
        char *e;

        s += strspn(s, WHITESPACE);
        e = s + strlen(s);
        while (e > s && strchr(WHITESPACE, e[-1]))
                e--;
        *e = 0;
        return s;
}

/* "Key=1 2   # why": a '#' or ';' after white space starts a comment, so that a value can be
 * explained on its own line. Glued to a value ("Key=1#2") it is part of it. */
static char *cut_trailing_comment(char *value) {
        for (char *p = value; *p; p++)
                if ((*p == '#' || *p == ';') && (p == value || strchr(WHITESPACE, p[-1]))) {
                        *p = 0;
                        break;
                }
        return value;
}

static int parse_section_header(IniParser *p, char *l) {
        size_t n = strlen(l);
        char *name;
        int r;

        if (n < 2 || l[n - 1] != ']')
                return ini_error(&p->ctx, -EBADMSG, "invalid section header '%s'", l);
        l[n - 1] = 0;

        if (p->cb->section) {
                r = p->cb->section(&p->ctx, l + 1, p->userdata);
                if (r < 0)
                        return r;
        }

        name = strdup(l + 1);
        if (!name)
                return ini_error(&p->ctx, -ENOMEM, "out of memory");
        free(p->section);
        p->section = name;
        return 0;
}

static int parse_assignment(IniParser *p, char *l) {
        char *eq, *key, *value;

        eq = strchr(l, '=');
        if (!eq)
                return ini_error(&p->ctx, -EBADMSG, "expected Key=Value, got '%s'", l);
        *eq = 0;
        key = strip(l);
        value = strip(cut_trailing_comment(eq + 1));
        if (*key == 0)
                return ini_error(&p->ctx, -EBADMSG, "expected Key=Value, got an empty key");

        if (!p->section)
                return ini_error(&p->ctx, -EBADMSG, "assignment to '%s' before any [Section] header",
                                 key);

        return p->cb->assignment ? p->cb->assignment(&p->ctx, p->section, key, value, p->userdata) : 0;
}

static int parse_line(IniParser *p, const char *text, size_t len) {
        char buf[INI_LINE_MAX + 1], *l;

        if (len > 0 && text[len - 1] == '\r')
                len--;
        if (len > INI_LINE_MAX)
                return ini_error(&p->ctx, -ENOBUFS, "line too long (more than %u bytes)", INI_LINE_MAX);
        if (memchr(text, 0, len))
                return ini_error(&p->ctx, -EBADMSG, "NUL byte in line");

        memcpy(buf, text, len);
        buf[len] = 0;

        l = strip(buf);
        if (*l == 0 || *l == '#' || *l == ';')
                return 0;
        if (*l == '[')
                return parse_section_header(p, l);
        return parse_assignment(p, l);
}

int ini_parse_text(const char *filename, const char *text, size_t size, const IniCallbacks *cb,
                   void *userdata, char **error) {
        _cleanup_(ini_parser_done) IniParser p = {
                .ctx = { .filename = filename ?: "(text)", .error = error },
                .cb = cb,
                .userdata = userdata,
        };
        size_t pos = 0;

        while (pos < size) {
                const char *eol = memchr(text + pos, '\n', size - pos);
                size_t len = eol ? (size_t) (eol - (text + pos)) : size - pos;
                int r;

                p.ctx.line++;
                r = parse_line(&p, text + pos, len);
                if (r < 0)
                        return r;
                pos += len + 1;
        }

        return 0;
}

int ini_parse_file(const char *path, bool missing_ok, const IniCallbacks *cb, void *userdata,
                   char **error) {
        _cleanup_(freep) char *text = NULL;
        size_t size = 0;
        int r;

        r = read_full_file(path, INI_FILE_MAX, &text, &size);
        if (r == -ENOENT && missing_ok)
                return 0;
        if (r == -EFBIG)
                return error_set(error, r, "%s: file too large (more than %u bytes)", path,
                                 INI_FILE_MAX);
        if (r < 0)
                return error_set(error, r, "%s: %s", path, strerror(-r));

        return ini_parse_text(path, text, size, cb, userdata, error);
}

/* Drop-ins: file name → path of the highest-priority file of that name. */

typedef struct Dropin {
        char *path;
        const char *name; /* points into path */
        bool masked;      /* a link to /dev/null: read nothing */
} Dropin;

typedef struct DropinList {
        Dropin items[INI_DROPINS_MAX];
        size_t n;
} DropinList;

static void dropin_list_done(DropinList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].path);
        l->n = 0;
}

static bool dropin_name_valid(const char *name) {
        size_t n = strlen(name);

        return name[0] != '.' && n > strlen(".conf") && streq(name + n - strlen(".conf"), ".conf");
}

/* A later directory's file replaces an earlier one of the same name, so that an admin can
 * override a vendor drop-in in /etc, or mask it with a symlink to /dev/null. */
static int dropin_list_add(DropinList *l, const char *dir, const char *name, bool masked,
                           char **error) {
        Dropin *d = NULL;
        char *path;

        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].name, name)) {
                        d = &l->items[i];
                        break;
                }

        if (!d && l->n >= INI_DROPINS_MAX)
                return error_set(error, -E2BIG, "%s/%s: too many drop-ins (more than %u)", dir, name,
                                 INI_DROPINS_MAX);

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return error_set(error, -ENOMEM, "out of memory");

        if (d)
                free(d->path);
        else
                d = &l->items[l->n++];
        *d = (Dropin) { .path = path, .name = path + strlen(dir) + 1, .masked = masked };
        return 0;
}

typedef enum DropinKind {
        DROPIN_NONE,    /* directories, sockets, dangling symlinks: not a drop-in, masks nothing */
        DROPIN_FILE,
        DROPIN_MASK,    /* /dev/null */
} DropinKind;

static int dropin_kind(DIR *d, const char *dir, const char *name, char **error) {
        struct stat st;

        if (fstatat(dirfd(d), name, &st, 0) < 0) {
                if (errno == ENOENT)
                        return DROPIN_NONE;
                return error_set(error, -errno, "%s/%s: %s", dir, name, strerror(errno));
        }

        if (S_ISREG(st.st_mode))
                return DROPIN_FILE;
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                return DROPIN_MASK;
        return DROPIN_NONE;
}

static int dropin_list_add_dir(DropinList *l, const char *dir, char **error) {
        _cleanup_(closedirp) DIR *d = NULL;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return error_set(error, -errno, "%s: %s", dir, strerror(errno));
        }

        for (;;) {
                struct dirent *de;
                int r;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return error_set(error, -errno, "%s: %s", dir, strerror(errno));
                        return 0;
                }

                if (!dropin_name_valid(de->d_name))
                        continue;

                r = dropin_kind(d, dir, de->d_name, error);
                if (r < 0)
                        return r;
                if (r == DROPIN_NONE)
                        continue;

                r = dropin_list_add(l, dir, de->d_name, r == DROPIN_MASK, error);
                if (r < 0)
                        return r;
        }
}

static int dropin_compare(const void *a, const void *b) {
        const Dropin *x = a, *y = b;

        return strcmp(x->name, y->name);
}

char **ini_paths_free(char **paths) {
        for (char **p = paths; p && *p; p++)
                free(*p);
        free(paths);
        return NULL;
}

/* Hands the unmasked paths of l over to a NULL-terminated list. */
static int dropin_list_take_paths(DropinList *l, char ***ret, char **error) {
        char **paths;
        size_t n = 0;

        paths = calloc(l->n + 1, sizeof(char *));
        if (!paths)
                return error_set(error, -ENOMEM, "out of memory");

        for (size_t i = 0; i < l->n; i++)
                if (!l->items[i].masked)
                        paths[n++] = TAKE_PTR(l->items[i].path);

        *ret = paths;
        return 0;
}

int ini_dropins_list(const char *const *dirs, char ***ret, char **error) {
        _cleanup_(dropin_list_done) DropinList l = { .n = 0 };
        int r;

        for (size_t i = 0; dirs && dirs[i]; i++) {
                r = dropin_list_add_dir(&l, dirs[i], error);
                if (r < 0)
                        return r;
        }

        qsort(l.items, l.n, sizeof(Dropin), dropin_compare);
        return dropin_list_take_paths(&l, ret, error);
}
