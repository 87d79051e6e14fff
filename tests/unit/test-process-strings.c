/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/process/process-strings.c: each cap and its marker (never inside an
 * escape), the argument vector's cap, the budget's accounting (what a block costs, what a shared
 * one costs, what its end gives back), stripping past the budget, and sharing a parent's block. */

#include "process-strings.h"
#include "process-table.h"
#include "tests.h"

#define MARKER PROCESS_STRINGS_CUT_MARKER

static ProcessStrings *make(const ProcessStringsView *v, StringBudget *b, ProcessStrings *same_as) {
        ProcessStrings *s;

        CHECK_EQ_INT(process_strings_new(v, b, same_as, &s), 0);
        CHECK(s);
        return s;
}

static bool ends_with_marker(const char *s) {
        size_t n = strlen(s), m = strlen(MARKER);

        return n >= m && memcmp(s + n - m, MARKER, m) == 0;
}

/* A path of escaped bytes (four each) past PATH_MAX is cut at an escape's edge, marker after. */
static void test_caps(void) {
        _cleanup_(freep) char *exe = malloc(4 * 4095 + 2);
        char unit[PROCESS_NAME_STRING_MAX + 16];
        StringBudget b = { .max = SIZE_MAX };
        ProcessStrings *s;

        CHECK(exe);
        exe[0] = '/';
        for (size_t i = 0; i < 4095; i++)
                memcpy(exe + 1 + 4 * i, "\\xff", 4);
        exe[1 + 4 * 4095] = '\0';
        memset(unit, 'u', sizeof(unit) - 1);
        unit[sizeof(unit) - 1] = '\0';
        memcpy(unit + PROCESS_NAME_STRING_MAX - 2, "\\xff", 4);       /* across the cap */

        s = make(&(ProcessStringsView) { .exe = exe, .cgroup = "/a.slice", .unit = unit, .user_unit = unit,
                                         .machine = "", .container = NULL }, &b, NULL);
        CHECK(strlen(s->exe) <= PROCESS_PATH_STRING_MAX + strlen(MARKER));
        CHECK(ends_with_marker(s->exe));
        /* "/" then whole escapes: the cut fell on an escape's edge. */
        CHECK_EQ_INT((strlen(s->exe) - strlen(MARKER) - 1) % 4, 0);
        CHECK_EQ_INT(strlen(s->unit), PROCESS_NAME_STRING_MAX - 2 + strlen(MARKER));
        CHECK_STREQ(s->unit, s->user_unit);
        CHECK_STREQ(s->cgroup, "/a.slice");
        CHECK_STREQ(s->machine, "");
        CHECK(!s->container);           /* unknown stays unknown */
        CHECK(s->argv && !s->argv[0]);
        CHECK_EQ_INT(b.n_cut, 3);
        CHECK_EQ_INT(b.n_stripped, 0);
        process_strings_unref(s);
        CHECK_EQ_INT(b.used, 0);

        /* Within its cap a string is as it was: the kernel's longest plain path. */
        memset(exe, 'p', 4095);
        exe[4095] = '\0';
        s = make(&(ProcessStringsView) { .exe = exe }, &b, NULL);
        CHECK_STREQ(s->exe, exe);
        CHECK_STREQ(s->unit, "");
        CHECK_EQ_INT(b.n_cut, 3);
        process_strings_unref(s);
}

/* The arguments that end within the cap, then the marker alone; a vector read cut, likewise. */
static void test_argv_cap(void) {
        /* Each one byte, its NUL and its pointer. */
        size_t per = 2 + sizeof(char *), n = PROCESS_ARGV_STRING_MAX / per + 1;
        _cleanup_(freep) char **argv = calloc(n + 1, sizeof(char *));
        char *two[] = { (char *) "sleep", (char *) "60", NULL };
        StringBudget b = { .max = SIZE_MAX };
        ProcessStrings *s;
        size_t kept = 0;

        CHECK(argv);
        for (size_t i = 0; i < n; i++)
                argv[i] = (char *) "x";
        s = make(&(ProcessStringsView) { .argv = argv }, &b, NULL);
        while (s->argv[kept] && streq(s->argv[kept], "x"))
                kept++;
        CHECK_EQ_INT(kept, PROCESS_ARGV_STRING_MAX / per);
        CHECK_STREQ(s->argv[kept], MARKER);
        CHECK(!s->argv[kept + 1]);
        CHECK_EQ_INT(b.n_cut, 1);
        /* Packed: the bytes and the pointers, not an allocation per argument. */
        CHECK(s->size < kept * (2 + sizeof(char *)) + 4096);
        process_strings_unref(s);

        s = make(&(ProcessStringsView) { .argv = two, .argv_cut = true }, &b, NULL);
        CHECK_STREQ(s->argv[0], "sleep");
        CHECK_STREQ(s->argv[1], "60");
        CHECK_STREQ(s->argv[2], MARKER);
        CHECK(!s->argv[3]);
        CHECK_EQ_INT(b.n_cut, 2);
        process_strings_unref(s);
        CHECK_EQ_INT(b.used, 0);
}

/* A block costs its size once, however many hold it; the last reference gives it back. */
static void test_budget_accounting(void) {
        char *argv[] = { (char *) "/usr/bin/sleep", (char *) "60", NULL };
        ProcessStringsView v = { .exe = "/usr/bin/sleep", .argv = argv, .cgroup = "/user.slice", .unit = "",
                                 .user_unit = "", .machine = "", .container = "" };
        StringBudget b = { .max = SIZE_MAX };
        ProcessEntry *parent = process_entry_new(10, 1), *child = process_entry_new(11, 2);
        ProcessStrings *s;
        size_t one;

        CHECK(parent && child);
        s = make(&v, &b, NULL);
        one = s->size;
        CHECK(one >= heap_size(sizeof(ProcessStrings)));
        CHECK(one < heap_size(sizeof(ProcessStrings) + 3 * sizeof(char *) + 64));
        CHECK_EQ_INT(b.used, one);
        process_entry_set_strings(parent, s);
        CHECK_STREQ(parent->exe, "/usr/bin/sleep");
        CHECK_STREQ(parent->argv[1], "60");
        CHECK_STREQ(parent->where.user_unit, "");

        /* A fork: the parent's block, nothing more charged. */
        process_entry_set_strings(child, process_strings_ref(parent->strings));
        CHECK(child->exe == parent->exe);
        CHECK_EQ_INT(b.used, one);

        /* A process found with its parent's strings shares them too; other strings do not. */
        s = make(&v, &b, parent->strings);
        CHECK(s == parent->strings);
        CHECK_EQ_INT(b.used, one);
        process_strings_unref(s);
        v.cgroup = "/other.slice";
        s = make(&v, &b, parent->strings);
        CHECK(s != parent->strings);
        CHECK_EQ_INT(b.used, one + s->size);
        process_strings_unref(s);

        /* The parent exits: the child still holds the block, and it is still counted. */
        process_entry_free(parent);
        CHECK_EQ_INT(b.used, one);
        CHECK_STREQ(child->argv[0], "/usr/bin/sleep");
        process_entry_free(child);
        CHECK_EQ_INT(b.used, 0);
}

/* Past the budget: without the arguments, then every known string as the marker alone. */
static void test_budget_stripping(void) {
        char *argv[] = { (char *) "/bin/prog", (char *) "--long-option", NULL };
        ProcessStringsView v = { .exe = "/bin/prog", .argv = argv, .cgroup = "/x.slice", .unit = "",
                                 .user_unit = "u.service", .machine = NULL, .container = "" };
        StringBudget b = { .max = SIZE_MAX };
        ProcessStrings *full, *s;

        full = make(&v, &b, NULL);
        b.max = 2 * full->size - 1;             /* room for a block without its arguments */
        s = make(&v, &b, NULL);
        CHECK_EQ_INT(b.n_stripped, 1);
        CHECK_STREQ(s->exe, "/bin/prog");
        CHECK_STREQ(s->argv[0], MARKER);
        CHECK(!s->argv[1]);
        CHECK_STREQ(s->user_unit, "u.service");
        CHECK(b.used <= b.max);
        process_strings_unref(s);

        b.max = full->size + 1;                 /* room for nothing */
        s = make(&v, &b, NULL);
        CHECK_EQ_INT(b.n_stripped, 2);
        CHECK_STREQ(s->exe, MARKER);
        CHECK_STREQ(s->cgroup, MARKER);
        CHECK_STREQ(s->user_unit, MARKER);
        CHECK_STREQ(s->argv[0], MARKER);
        CHECK_STREQ(s->unit, "");               /* none stays none, unknown unknown */
        CHECK_STREQ(s->container, "");
        CHECK(!s->machine);
        CHECK(s->size < full->size);
        process_strings_unref(s);
        process_strings_unref(full);
        CHECK_EQ_INT(b.used, 0);
        CHECK_EQ_INT(b.n_cut, 0);
}

int main(void) {
        test_caps();
        test_argv_cap();
        test_budget_accounting();
        test_budget_stripping();
        return EXIT_SUCCESS;
}
