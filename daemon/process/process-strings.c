/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A process's long strings in one shared, immutable, counted block: see process-strings.h. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "process-strings.h"

/* What malloc adds to each block, about: glibc's header and rounding to 16 bytes. */
#define ALLOCATION_OVERHEAD 16U

size_t heap_size(size_t n) {
        return ((n + 15U) & ~(size_t) 15U) + ALLOCATION_OVERHEAD;
}

size_t string_heap_size(const char *s) {
        return s ? heap_size(strlen(s) + 1) : 0;
}

size_t strv_heap_size(char * const *v) {
        size_t n = 0, count = 0;

        if (!v)
                return 0;
        for (char * const *a = v; *a; a++, count++)
                n += heap_size(strlen(*a) + 1);
        return n + heap_size((count + 1) * sizeof(char *));
}

size_t string_cut_length(const char *s, size_t length, size_t max) {
        return utf8_escaped_cut(s, length, max);
}

/* The single strings of a block, in the order they are laid out. */
enum { EXE, UNIT, CGROUP, USER_UNIT, MACHINE, CONTAINER, _N_STRINGS };

static const size_t string_offset[_N_STRINGS] = {
        [EXE] = offsetof(ProcessStrings, exe),
        [UNIT] = offsetof(ProcessStrings, unit),
        [CGROUP] = offsetof(ProcessStrings, cgroup),
        [USER_UNIT] = offsetof(ProcessStrings, user_unit),
        [MACHINE] = offsetof(ProcessStrings, machine),
        [CONTAINER] = offsetof(ProcessStrings, container),
};

static const size_t string_cap[_N_STRINGS] = {
        [EXE] = PROCESS_PATH_STRING_MAX,
        [UNIT] = PROCESS_NAME_STRING_MAX,
        [CGROUP] = PROCESS_PATH_STRING_MAX,
        [USER_UNIT] = PROCESS_NAME_STRING_MAX,
        [MACHINE] = PROCESS_NAME_STRING_MAX,
        [CONTAINER] = PROCESS_NAME_STRING_MAX,
};

static char **field(ProcessStrings *s, unsigned i) {
        return (char **) ((char *) s + string_offset[i]);
}

static const char *field_of(const ProcessStrings *s, unsigned i) {
        return *(char * const *) ((const char *) s + string_offset[i]);
}

/* What a block is made of, each string as far as it goes in, and whether it is cut. Only the
 * first four may be absent (NULL) in the view; they are "" in the block. */
typedef struct Layout {
        const char *string[_N_STRINGS];
        size_t length[_N_STRINGS];      /* bytes kept */
        bool cut[_N_STRINGS];
        char * const *argv;
        size_t argc;                    /* arguments kept */
        bool argv_cut;                  /* the marker follows them */
        size_t size;                    /* of the allocation */
} Layout;

static const char *view_string(const ProcessStringsView *v, unsigned i) {
        switch (i) {
        case EXE:       return strempty(v->exe);
        case UNIT:      return strempty(v->unit);
        case CGROUP:    return strempty(v->cgroup);
        case USER_UNIT: return v->user_unit;
        case MACHINE:   return v->machine;
        default:        return v->container;
        }
}

/* The arguments that end within the cap. */
static void layout_argv(Layout *l, char * const *argv, bool already_cut) {
        size_t total = 0;

        l->argv = argv;
        l->argc = 0;
        for (char * const *a = argv; a && *a; a++) {
                /* With its pointer: 65,536 empty arguments would otherwise take 9 times the cap. */
                size_t n = strlen(*a) + 1 + sizeof(char *);

                if (total + n > PROCESS_ARGV_STRING_MAX) {
                        already_cut = true;
                        break;
                }
                total += n;
                l->argc++;
        }
        l->argv_cut = already_cut;
}

static size_t marker_length(bool cut) {
        return cut ? strlen(PROCESS_STRINGS_CUT_MARKER) : 0;
}

static void layout_size(Layout *l) {
        size_t n = sizeof(ProcessStrings) + (l->argc + l->argv_cut + 1) * sizeof(char *);

        for (size_t i = 0; i < l->argc; i++)
                n += strlen(l->argv[i]) + 1;
        n += l->argv_cut ? marker_length(true) + 1 : 0;
        for (unsigned i = 0; i < _N_STRINGS; i++)
                if (l->string[i])
                        n += l->length[i] + marker_length(l->cut[i]) + 1;
        l->size = n;
}

static unsigned layout(Layout *l, const ProcessStringsView *v) {
        unsigned cut = 0;

        *l = (Layout) {};
        for (unsigned i = 0; i < _N_STRINGS; i++) {
                const char *s = view_string(v, i);
                size_t n = s ? strlen(s) : 0;

                l->string[i] = s;
                l->length[i] = s ? string_cut_length(s, n, string_cap[i]) : 0;
                l->cut[i] = l->length[i] < n;
                cut += l->cut[i];
        }
        layout_argv(l, v->argv, v->argv_cut);
        cut += l->argv_cut;
        layout_size(l);
        return cut;
}

/* Past the budget: first without the arguments, then every known string as the marker alone. */
static void layout_strip(Layout *l, bool markers_only) {
        l->argv_cut = l->argc > 0 || l->argv_cut;
        l->argc = 0;
        if (markers_only)
                for (unsigned i = 0; i < _N_STRINGS; i++) {
                        l->cut[i] = l->string[i] && (l->length[i] > 0 || l->cut[i]);
                        l->length[i] = 0;
                }
        layout_size(l);
}

static char *put(char **p, const char *s, size_t n, bool cut) {
        char *start = *p;

        memcpy(start, s, n);
        if (cut)
                memcpy(start + n, PROCESS_STRINGS_CUT_MARKER, marker_length(true));
        start[n + marker_length(cut)] = '\0';
        *p += n + marker_length(cut) + 1;
        return start;
}

static ProcessStrings *build(const Layout *l) {
        ProcessStrings *s;
        char *p;

        s = malloc(l->size);
        if (!s)
                return NULL;
        *s = (ProcessStrings) { .n_ref = 1, .size = heap_size(l->size) };
        /* The pointers first: data[] follows pointers, so it is aligned for them. */
        s->argv = (char **) (void *) s->data;
        p = s->data + (l->argc + l->argv_cut + 1) * sizeof(char *);
        for (size_t i = 0; i < l->argc; i++)
                s->argv[i] = put(&p, l->argv[i], strlen(l->argv[i]), false);
        if (l->argv_cut)
                s->argv[l->argc] = put(&p, "", 0, true);
        s->argv[l->argc + l->argv_cut] = NULL;
        for (unsigned i = 0; i < _N_STRINGS; i++)
                *field(s, i) = l->string[i] ? put(&p, l->string[i], l->length[i], l->cut[i]) : NULL;
        return s;
}

/* Charges s (made of l) to budget, remade stripped as far as the budget needs. */
static ProcessStrings *charge(ProcessStrings *s, Layout *l, StringBudget *budget) {
        if (budget->used + s->size > budget->max) {
                free(s);
                layout_strip(l, false);
                if (budget->used + heap_size(l->size) > budget->max)
                        layout_strip(l, true);
                budget->n_stripped++;
                s = build(l);
                if (!s)
                        return NULL;
        }
        s->budget = budget;
        budget->used += s->size;
        return s;
}

int process_strings_new(const ProcessStringsView *v, StringBudget *budget, ProcessStrings *same_as,
                        ProcessStrings **ret) {
        ProcessStrings *s;
        Layout l;
        unsigned cut = layout(&l, v);

        s = build(&l);
        if (!s)
                return -ENOMEM;
        if (same_as && process_strings_equal(s, same_as)) {
                free(s);
                *ret = process_strings_ref(same_as);
                return 0;
        }
        if (budget) {
                budget->n_cut += cut;
                s = charge(s, &l, budget);
                if (!s)
                        return -ENOMEM;
        }
        *ret = s;
        return 0;
}

static bool strv_equal(char * const *a, char * const *b) {
        for (; *a && *b; a++, b++)
                if (!streq(*a, *b))
                        return false;
        return !*a && !*b;
}

static bool string_equal(const char *a, const char *b) {
        return a == b || (a && b && streq(a, b));
}

bool process_strings_equal(const ProcessStrings *a, const ProcessStrings *b) {
        if (a == b)
                return true;
        for (unsigned i = 0; i < _N_STRINGS; i++)
                if (!string_equal(field_of(a, i), field_of(b, i)))
                        return false;
        return strv_equal(a->argv, b->argv);
}

ProcessStrings *process_strings_ref(ProcessStrings *s) {
        if (s)
                s->n_ref++;
        return s;
}

ProcessStrings *process_strings_unref(ProcessStrings *s) {
        if (!s || --s->n_ref > 0)
                return NULL;
        if (s->budget)
                s->budget->used -= MIN(s->budget->used, s->size);
        free(s);
        return NULL;
}
