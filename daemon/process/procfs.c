/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "utf8.h"

int process_key_compare(const void *a, const void *b) {
        const ProcessKey *x = a, *y = b;

        return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t strv_length(char * const *v) {
        size_t n = 0;

        if (v)
                while (v[n])
                        n++;
        return n;
}

char **strv_free(char **v) {
        if (v)
                for (char **p = v; *p; p++)
                        free(*p);
        return mfree(v);
}

/* A decimal number at *p (before end) of at most max; moves *p past it. */
static int parse_uint(const char **p, const char *end, uint64_t max, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (s >= end || *s < '0' || *s > '9')
                return -EBADMSG;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
                unsigned d = (unsigned) (*s - '0');

                if (v > (max - d) / 10)
                        return -EBADMSG;
                v = v * 10 + d;
        }
        *p = s;
        *ret = v;
        return 0;
}

static int parse_pid(const char **p, const char *end, pid_t *ret) {
        uint64_t v;
        int r;

        r = parse_uint(p, end, INT_MAX, &v);
        if (r < 0)
                return r;
        *ret = (pid_t) v;
        return 0;
}

/* Moves *p past one field; fails at the end of the text. */
static int skip_field(const char **p, const char *end) {
        const char *s = *p;

        if (s >= end || *s == ' ' || *s == '\n')
                return -EBADMSG;
        while (s < end && *s != ' ' && *s != '\n')
                s++;
        *p = s;
        return 0;
}

/* The kernel separates the fields of stat by one space. */
static int skip_space(const char **p, const char *end) {
        if (*p >= end || **p != ' ')
                return -EBADMSG;
        (*p)++;
        return 0;
}

int procfs_parse_stat(const char *text, size_t size, ProcStat *ret) {
        const char *end = text + size, *p = text, *rparen;
        ProcStat st = {};
        int r;

        r = parse_pid(&p, end, &st.pid);
        if (r < 0)
                return r;
        if (end - p < 2 || p[0] != ' ' || p[1] != '(')
                return -EBADMSG;
        rparen = memrchr(p + 2, ')', (size_t) (end - p - 2));
        if (!rparen)
                return -EBADMSG;
        p = rparen + 1;

        /* Field 3, the state, one character. */
        if (skip_space(&p, end) < 0 || end - p < 2 || p[0] == ' ' || p[0] == '\n' || p[1] != ' ')
                return -EBADMSG;
        st.state = *p++;
        if (skip_space(&p, end) < 0 || parse_pid(&p, end, &st.ppid) < 0)
                return -EBADMSG;
        /* Fields 5 to 21 are not needed here; some are negative. */
        for (unsigned field = 5; field <= 21; field++)
                if (skip_space(&p, end) < 0 || skip_field(&p, end) < 0)
                        return -EBADMSG;
        /* The kernel writes more fields after it: a number at the end of the text may be cut. */
        if (skip_space(&p, end) < 0 || parse_uint(&p, end, UINT64_MAX, &st.start_time) < 0 ||
            p >= end || *p != ' ')
                return -EBADMSG;

        *ret = st;
        return 0;
}

/* The line at *p (before end), without its newline; moves *p to the next line. */
static size_t next_line(const char **p, const char *end, const char **ret_line) {
        const char *s = *p, *nl = memchr(s, '\n', (size_t) (end - s));
        size_t n = (size_t) ((nl ?: end) - s);

        *ret_line = s;
        *p = nl ? nl + 1 : end;
        return n;
}

static void skip_blanks(const char **p, const char *end) {
        while (*p < end && (**p == ' ' || **p == '\t'))
                (*p)++;
}

/* "Key:" followed by n numbers separated by blanks, and nothing else. */
static int parse_status_values(const char *value, const char *end, uint64_t max, uint64_t *v, size_t n) {
        const char *p = value;

        for (size_t i = 0; i < n; i++) {
                if (i > 0 && (p >= end || (*p != ' ' && *p != '\t')))
                        return -EBADMSG;
                skip_blanks(&p, end);
                if (parse_uint(&p, end, max, &v[i]) < 0)
                        return -EBADMSG;
        }
        skip_blanks(&p, end);
        return p == end ? 0 : -EBADMSG;
}

static bool line_has_key(const char *line, size_t n, const char *key) {
        size_t k = strlen(key);

        return n >= k && memcmp(line, key, k) == 0;
}

int procfs_parse_status(const char *text, size_t size, ProcStatus *ret) {
        const char *end = text + size, *p = text;
        ProcStatus st = { .tgid = -1, .ppid = -1 };
        bool have_uid = false, have_tgid = false, have_ppid = false, have_state = false;

        while (p < end) {
                const char *line;
                size_t n = next_line(&p, end, &line);
                uint64_t v[4];

                if (!have_uid && line_has_key(line, n, "Uid:")) {
                        if (parse_status_values(line + 4, line + n, UINT32_MAX, v, 4) < 0)
                                return -EBADMSG;
                        st.ruid = (uid_t) v[0];
                        st.euid = (uid_t) v[1];
                        st.suid = (uid_t) v[2];
                        st.fsuid = (uid_t) v[3];
                        have_uid = true;
                } else if (!have_tgid && line_has_key(line, n, "Tgid:")) {
                        if (parse_status_values(line + 5, line + n, INT_MAX, v, 1) < 0)
                                return -EBADMSG;
                        st.tgid = (pid_t) v[0];
                        have_tgid = true;
                } else if (!have_ppid && line_has_key(line, n, "PPid:")) {
                        if (parse_status_values(line + 5, line + n, INT_MAX, v, 1) < 0)
                                return -EBADMSG;
                        st.ppid = (pid_t) v[0];
                        have_ppid = true;
                } else if (!have_state && line_has_key(line, n, "State:")) {
                        const char *c = line + 6, *e = line + n;

                        while (c < e && (*c == ' ' || *c == '\t'))
                                c++;
                        if (c < e && *c >= 'A' && *c <= 'Z')
                                st.state = *c;
                        have_state = true;
                }
        }
        if (!have_uid)
                return -EBADMSG;
        *ret = st;
        return 0;
}

int procfs_parse_cmdline(const void *data, size_t size, bool truncated, char ***ret) {
        const char *s = data, *end;
        _cleanup_(strv_freep) char **argv = NULL;
        size_t n = 0, k = 0;
        int r;

        /* Keep only the arguments whose terminating NUL was read. */
        if (truncated) {
                const char *last = size > 0 ? memrchr(s, '\0', size) : NULL;

                size = last ? (size_t) (last - s) + 1 : 0;
        }
        end = s + size;

        /* One argument per NUL, and one more if the last lacks its NUL. */
        for (const char *p = s; p < end; p++)
                n += *p == '\0';
        if (size > 0 && end[-1] != '\0')
                n++;

        argv = calloc(n + 1, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        for (const char *p = s; p < end; k++) {
                const char *nul = memchr(p, '\0', (size_t) (end - p)) ?: end;

                r = utf8_escape(p, (size_t) (nul - p), &argv[k]);
                if (r < 0)
                        return r;
                p = nul + (nul < end);
        }
        *ret = TAKE_PTR(argv);
        return 0;
}

int procfs_parse_cgroup(const char *text, size_t size, char **ret) {
        const char *end = text + size, *p = text;

        while (p < end) {
                const char *line;
                size_t n = next_line(&p, end, &line);

                if (!line_has_key(line, n, "0::"))
                        continue;
                line += 3;
                /* The rest of the text is the path: see the header. */
                n = (size_t) (end - line);
                if (n > 0 && line[n - 1] == '\n')
                        n--;
                if (n == 0)
                        return -EBADMSG;
                return utf8_escape(line, n, ret);
        }
        return -ENODATA;
}

#define NSEC_PER_SEC UINT64_C(1000000000)

uint64_t procfs_start_time_to_ns(uint64_t start_time, unsigned long ticks_per_sec) {
        uint64_t sec, rest;

        if (ticks_per_sec == 0 || ticks_per_sec > NSEC_PER_SEC)
                return 0;
        sec = start_time / ticks_per_sec;
        rest = start_time % ticks_per_sec;
        /* Saturate rather than wrap: a corrupt value must not look like a recent start. */
        if (sec > UINT64_MAX / NSEC_PER_SEC - 1)
                return UINT64_MAX;
        return sec * NSEC_PER_SEC + rest * NSEC_PER_SEC / ticks_per_sec;
}

int procfs_parse_nspid(const char *text, size_t size, uint32_t *ret) {
        const char *end = text + size, *p = text;

        while (p < end) {
                const char *line, *q, *line_end;
                size_t n = next_line(&p, end, &line);
                uint64_t v = 0;
                bool found = false;

                if (!line_has_key(line, n, "NSpid:"))
                        continue;
                q = line + 6;
                line_end = line + n;
                if (q >= line_end || (*q != ' ' && *q != '\t'))
                        return -EBADMSG;
                /* One pid per namespace, outermost first: the last is the innermost's. */
                for (;;) {
                        skip_blanks(&q, line_end);
                        if (q == line_end)
                                break;
                        if (parse_uint(&q, line_end, INT_MAX, &v) < 0 || v == 0)
                                return -EBADMSG;
                        if (q < line_end && *q != ' ' && *q != '\t')
                                return -EBADMSG;
                        found = true;
                }
                if (!found)
                        return -EBADMSG;
                *ret = (uint32_t) v;
                return 0;
        }
        return -ENODATA;
}

int procfs_parse_ns_link(const char *text, size_t size, const char *type, uint64_t *ret) {
        const char *end = text + size, *p = text;
        size_t k = strlen(type);
        uint64_t v;

        /* "TYPE:[INODE]", as the kernel's ns_dname() writes it. */
        if (size < k + 3 || memcmp(p, type, k) != 0 || p[k] != ':' || p[k + 1] != '[')
                return -EBADMSG;
        p += k + 2;
        if (parse_uint(&p, end, UINT64_MAX, &v) < 0 || v == 0 || p + 1 != end || *p != ']')
                return -EBADMSG;
        *ret = v;
        return 0;
}
