/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>

#include "output.h"
#include "utf8.h"

int json_mode_from_string(const char *s, JsonMode *ret) {
        static const char *const names[] = {
                [JSON_OFF] = "off",
                [JSON_SHORT] = "short",
                [JSON_PRETTY] = "pretty",
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i])) {
                        *ret = (JsonMode) i;
                        return 0;
                }
        return -EINVAL;
}

int output_json(const Output *o, json_object *v) {
        int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
                (o->json == JSON_PRETTY ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                                        : JSON_C_TO_STRING_PLAIN);
        _cleanup_(freep) char *text = NULL;

        /* json-c escapes C0 alone; strings from other users must not reach a terminal with DEL,
         * C1 or bidi controls either. */
        if (utf8_escape_json_controls(json_object_to_json_string_ext(v, flags), &text) < 0)
                return -ENOMEM;
        if (fputs(text, stdout) < 0 || putchar('\n') < 0 || fflush(stdout) != 0)
                return -errno;
        return 0;
}

void output_note(const Output *o, const char *format, ...) {
        va_list ap;

        if (o->quiet)
                return;
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int log_fail(const char *format, ...) {
        va_list ap;

        /* What went before on stdout (a stream's lines) comes first. */
        fflush(stdout);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
        return -1;
}

char *snake_case(const char *name) {
        size_t n = strlen(name);
        char *s = malloc(2 * n + 1), *p = s;

        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) name[i];

                if (isupper(ch) && i > 0 && (islower((unsigned char) name[i - 1]) ||
                                             isdigit((unsigned char) name[i - 1])))
                        *p++ = '_';
                *p++ = (char) tolower(ch);
        }
        *p = '\0';
        return s;
}

char *hex_encode(const void *data, size_t size) {
        static const char digits[] = "0123456789abcdef";
        const uint8_t *b = data;
        char *s = malloc(2 * size + 1);

        if (!s)
                return NULL;
        for (size_t i = 0; i < size; i++) {
                s[2 * i] = digits[b[i] >> 4];
                s[2 * i + 1] = digits[b[i] & 0xf];
        }
        s[2 * size] = '\0';
        return s;
}

static char printable(uint8_t b) {
        return b >= 0x20 && b < 0x7f ? (char) b : '.';
}

void print_short_dump(FILE *f, const uint8_t *data, size_t size, size_t max) {
        size_t n = MIN(size, max);

        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%02x", i ? " " : "", data[i]);
        /* Pads a short dump so that the text column lines up. */
        fprintf(f, "%*s%s  ", (int) (3 * (max - n)), "", size > max ? "..." : "   ");
        for (size_t i = 0; i < n; i++)
                fputc(printable(data[i]), f);
}

void print_hexdump(FILE *f, const uint8_t *data, size_t size) {
        for (size_t off = 0; off < size; off += 16) {
                size_t n = MIN(size - off, (size_t) 16);

                fprintf(f, "%08zx ", off);
                for (size_t i = 0; i < 16; i++) {
                        if (i == 8)
                                fputc(' ', f);
                        if (i < n)
                                fprintf(f, " %02x", data[off + i]);
                        else
                                fputs("   ", f);
                }
                fputs("  |", f);
                for (size_t i = 0; i < n; i++)
                        fputc(printable(data[off + i]), f);
                fputs("|\n", f);
        }
}

void format_clock(char buf[static 32], uint64_t realtime_usec) {
        time_t sec = (time_t) (realtime_usec / USEC_PER_SEC);
        struct tm tm;

        if (!localtime_r(&sec, &tm)) {
                snprintf(buf, 32, "%" PRIu64, realtime_usec);
                return;
        }
        snprintf(buf, 32, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned) (realtime_usec % USEC_PER_SEC));
}

struct Table {
        size_t n_columns;
        char **cells;           /* headers first, then the rows */
        size_t n_cells, allocated;
        bool *right;
};

Table *table_new(size_t n_columns, const char *const *headers) {
        _cleanup_(table_freep) Table *t = calloc(1, sizeof(Table));

        if (!t)
                return NULL;
        t->n_columns = n_columns;
        t->right = calloc(n_columns, sizeof(bool));
        if (!t->right)
                return NULL;
        for (size_t i = 0; i < n_columns; i++)
                if (table_add(t, headers[i]) < 0)
                        return NULL;
        return TAKE_PTR(t);
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t->right);
        return mfree(t);
}

void table_align_right(Table *t, size_t column) {
        if (column < t->n_columns)
                t->right[column] = true;
}

static int table_take(Table *t, char *cell) {
        if (!cell)
                return -ENOMEM;
        if (t->n_cells == t->allocated) {
                size_t n = MAX(t->allocated * 2, (size_t) 64);
                char **c = realloc(t->cells, n * sizeof(char *));

                if (!c) {
                        free(cell);
                        return -ENOMEM;
                }
                t->cells = c;
                t->allocated = n;
        }
        t->cells[t->n_cells++] = cell;
        return 0;
}

int table_add(Table *t, const char *cell) {
        return table_take(t, strdup(strempty(cell)));
}

int table_add_escaped(Table *t, const char *cell) {
        char *escaped;

        return table_take(t, utf8_escape_controls(strempty(cell), &escaped) < 0 ? NULL : escaped);
}

int table_addf(Table *t, const char *format, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        return table_take(t, r < 0 ? NULL : s);
}

size_t table_rows(const Table *t) {
        return t->n_cells / t->n_columns - 1;
}

void table_print(const Table *t, FILE *f, bool legend) {
        size_t width[t->n_columns];

        for (size_t c = 0; c < t->n_columns; c++) {
                width[c] = 0;
                for (size_t i = legend ? c : t->n_columns + c; i < t->n_cells; i += t->n_columns)
                        width[c] = MAX(width[c], strlen(t->cells[i]));
        }
        for (size_t i = legend ? 0 : t->n_columns; i < t->n_cells; i++) {
                size_t c = i % t->n_columns;
                bool last = c == t->n_columns - 1;

                if (t->right[c])
                        fprintf(f, "%*s", (int) width[c], t->cells[i]);
                else
                        fprintf(f, "%-*s", last ? 0 : (int) width[c], t->cells[i]);
                fputs(last ? "\n" : " ", f);
        }
}

void pager_open(Output *o) {
        const char *pager = getenv("PAGER");
        int fds[2];
        pid_t pid;

        if (!o->pager || o->json != JSON_OFF || !isatty(STDOUT_FILENO))
                return;
        if (pager && (!*pager || streq(pager, "cat")))
                return;
        if (pipe(fds) < 0)
                return;         /* unpaged output is still output */
        fflush(stdout);
        pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return;
        }
        if (pid == 0) {
                dup2(fds[0], STDIN_FILENO);
                close(fds[0]);
                close(fds[1]);
                /* As systemd sets it: quit if one screen, raw colours, no init/clear. */
                setenv("LESS", "FRSXMK", 0);
                if (pager)
                        execl("/bin/sh", "sh", "-c", pager, (char *) NULL);
                else {
                        execlp("less", "less", (char *) NULL);
                        execlp("more", "more", (char *) NULL);
                }
                /* No pager at all: copy through. */
                execlp("cat", "cat", (char *) NULL);
                _exit(127);
        }
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        o->pager_pid = pid;
}

void pager_close(Output *o) {
        if (o->pager_pid <= 0)
                return;
        fflush(stdout);
        /* EOF for the pager; it then waits for the user. */
        close(STDOUT_FILENO);
        while (waitpid(o->pager_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        o->pager_pid = 0;
}
