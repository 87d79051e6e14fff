/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/process/process-table.c: put (added, exec'd again, pid reused), find, take;
 * the bound and its count; ascending order for ListProcesses; growing and shrinking; a seeded
 * random run against a plain array of pids, which also exercises removal from the middle of
 * probe chains; and the resync diff between the table and a scan of /proc. Run under ASan or
 * valgrind to see that no entry is leaked or used after it is freed. */

#include <errno.h>

#include "process-table.h"
#include "tests.h"
#include "util.h"

static ProcessEntry *entry(pid_t pid, uint64_t start_time, const char *exe) {
        ProcessEntry *e = process_entry_new(pid, start_time);

        CHECK(e);
        CHECK_EQ_INT(e->ppid, -1);
        CHECK(e->uid == (uid_t) -1);
        if (exe) {
                char *argv[] = { (char *) exe, NULL };
                ProcessStrings *s;

                CHECK_EQ_INT(process_strings_new(&(ProcessStringsView) { .exe = exe, .argv = argv }, NULL, NULL, &s), 0);
                process_entry_set_strings(e, s);
                CHECK_STREQ(e->exe, exe);
                CHECK_STREQ(e->argv[0], exe);
        }
        return e;
}

static int put(ProcessTable *t, ProcessEntry *e, ProcessEntry **old) {
        ProcessEntry *o = NULL;
        int r = process_table_put(t, e, &o);

        if (old)
                *old = o;
        else
                CHECK(!o);
        return r;
}

static void test_put_find_take(void) {
        _cleanup_(process_table_done) ProcessTable t;
        ProcessEntry *e, *old;

        process_table_init(&t, 100);
        CHECK(!process_table_find(&t, 1));
        CHECK(!process_table_take(&t, 1));

        e = entry(42, 1000, "/usr/bin/a");
        CHECK_EQ_INT(put(&t, e, NULL), PROCESS_TABLE_ADDED);
        CHECK_EQ_INT(t.n, 1);
        CHECK(process_table_find(&t, 42) == e);
        CHECK(!process_table_find(&t, 43));

        /* The same process exec'd again: the new details replace the old, nothing exited. */
        e = entry(42, 1000, "/usr/bin/b");
        CHECK_EQ_INT(put(&t, e, &old), PROCESS_TABLE_UPDATED);
        CHECK(old && old->start_time == 1000);
        CHECK_STREQ(old->exe, "/usr/bin/a");
        process_entry_free(old);
        CHECK_EQ_INT(t.n, 1);
        CHECK(process_table_find(&t, 42) == e);

        /* Another process on the same pid: the old one is gone. */
        e = entry(42, 2000, "/usr/bin/c");
        CHECK_EQ_INT(put(&t, e, &old), PROCESS_TABLE_REPLACED);
        CHECK(old && old->start_time == 1000);
        CHECK_STREQ(old->exe, "/usr/bin/b");
        process_entry_free(old);
        CHECK_EQ_INT(t.n, 1);

        e = process_table_take(&t, 42);
        CHECK(e && e->start_time == 2000);
        CHECK_EQ_INT(t.n, 0);
        CHECK(!process_table_find(&t, 42));
        CHECK(!process_table_take(&t, 42));
        process_entry_free(e);

        /* An entry without strings frees as well; the table frees what it holds. */
        CHECK_EQ_INT(put(&t, entry(7, 1, NULL), NULL), PROCESS_TABLE_ADDED);
        CHECK_EQ_INT(put(&t, entry(8, 1, "x"), NULL), PROCESS_TABLE_ADDED);
        CHECK(!process_entry_free(NULL));
}

static void test_bound(void) {
        _cleanup_(process_table_done) ProcessTable t;
        ProcessEntry *old;

        process_table_init(&t, 3);
        for (pid_t pid = 1; pid <= 3; pid++)
                CHECK_EQ_INT(put(&t, entry(pid, 5, "x"), NULL), PROCESS_TABLE_ADDED);
        CHECK_EQ_INT(put(&t, entry(4, 5, "x"), NULL), -ENOSPC);
        CHECK_EQ_INT(put(&t, entry(5, 5, "x"), NULL), -ENOSPC);
        CHECK_EQ_INT(t.n_refused, 2);
        CHECK_EQ_INT(t.n, 3);
        CHECK(!process_table_find(&t, 4));

        /* Full, an update or a replacement still goes in: it adds nothing. */
        CHECK_EQ_INT(put(&t, entry(2, 5, "y"), &old), PROCESS_TABLE_UPDATED);
        process_entry_free(old);
        CHECK_EQ_INT(put(&t, entry(3, 6, "y"), &old), PROCESS_TABLE_REPLACED);
        process_entry_free(old);
        CHECK_EQ_INT(t.n_refused, 2);

        /* Room again after an exit. */
        process_entry_free(process_table_take(&t, 1));
        CHECK_EQ_INT(put(&t, entry(4, 5, "x"), NULL), PROCESS_TABLE_ADDED);

        /* The bound is at least one. */
        process_table_done(&t);
        process_table_init(&t, 0);
        CHECK_EQ_INT(t.max_entries, 1);
        CHECK_EQ_INT(put(&t, entry(1, 1, NULL), NULL), PROCESS_TABLE_ADDED);
        CHECK_EQ_INT(put(&t, entry(2, 1, NULL), NULL), -ENOSPC);
}

static void test_sorted(void) {
        static const pid_t pids[] = { 4194303, 300, 1, 77, 2, 65536, 299, 32768, 5000 };
        _cleanup_(process_table_done) ProcessTable t;
        _cleanup_(freep) ProcessEntry **v = NULL;
        size_t n;

        process_table_init(&t, 4194304);
        CHECK_EQ_INT(process_table_sorted(&t, &v, &n), 0);
        CHECK(!v);
        CHECK_EQ_INT(n, 0);

        for (size_t i = 0; i < ELEMENTSOF(pids); i++)
                CHECK_EQ_INT(put(&t, entry(pids[i], i, NULL), NULL), PROCESS_TABLE_ADDED);
        CHECK_EQ_INT(process_table_sorted(&t, &v, &n), 0);
        CHECK_EQ_INT(n, ELEMENTSOF(pids));
        for (size_t i = 1; i < n; i++)
                CHECK(v[i - 1]->pid < v[i]->pid);
        CHECK_EQ_INT(v[0]->pid, 1);
        CHECK_EQ_INT(v[n - 1]->pid, 4194303);
}

static void test_grow_shrink(void) {
        _cleanup_(process_table_done) ProcessTable t;
        ProcessEntry *e;
        size_t i = 0, seen = 0;

        /* A fork storm: 100000 processes, then all but a few exit. */
        process_table_init(&t, 4194304);
        for (pid_t pid = 1000; pid < 101000; pid++)
                CHECK_EQ_INT(put(&t, entry(pid, (uint64_t) pid * 3, NULL), NULL), PROCESS_TABLE_ADDED);
        CHECK_EQ_INT(t.n, 100000);
        CHECK(t.n_slots >= 2 * t.n);
        for (pid_t pid = 1000; pid < 101000; pid++) {
                e = process_table_find(&t, pid);
                CHECK(e && e->start_time == (uint64_t) pid * 3);
        }
        while ((e = process_table_next(&t, &i)))
                seen++;
        CHECK_EQ_INT(seen, 100000);

        for (pid_t pid = 1000; pid < 100990; pid++)
                process_entry_free(process_table_take(&t, pid));
        CHECK_EQ_INT(t.n, 10);
        CHECK(t.n_slots <= 128);
        for (pid_t pid = 100990; pid < 101000; pid++)
                CHECK(process_table_find(&t, pid));
}

/* xorshift64*: the same sequence on every run. */
static uint64_t next_random(uint64_t *state) {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        return *state * UINT64_C(0x2545f4914f6cdd1d);
}

#define MODEL_PIDS 3000

static void test_random(void) {
        _cleanup_(process_table_done) ProcessTable t;
        static uint64_t model[MODEL_PIDS];     /* start_time + 1 by pid, 0 = absent */
        uint64_t state = 12345;
        size_t n = 0;

        /* Pids from a narrow range with a few far ones, so that chains are long and cross the
         * end of the slot array. */
        process_table_init(&t, MODEL_PIDS);
        for (unsigned iter = 0; iter < 300000; iter++) {
                uint64_t v = next_random(&state);
                pid_t pid = (pid_t) (v % MODEL_PIDS);
                uint64_t start = (v >> 32) % 4;
                ProcessEntry *e, *old;
                int r;

                if ((v >> 40) % 3 != 0) {
                        r = put(&t, entry(pid, start, NULL), &old);
                        if (model[pid] == 0) {
                                CHECK_EQ_INT(r, PROCESS_TABLE_ADDED);
                                CHECK(!old);
                                n++;
                        } else {
                                CHECK_EQ_INT(r, model[pid] - 1 == start ? PROCESS_TABLE_UPDATED : PROCESS_TABLE_REPLACED);
                                CHECK(old && old->pid == pid && old->start_time == model[pid] - 1);
                                process_entry_free(old);
                        }
                        model[pid] = start + 1;
                } else {
                        e = process_table_take(&t, pid);
                        CHECK(!e == !model[pid]);
                        if (e) {
                                CHECK(e->pid == pid && e->start_time == model[pid] - 1);
                                n--;
                        }
                        process_entry_free(e);
                        model[pid] = 0;
                }
                CHECK_EQ_INT(t.n, n);

                if (iter % 10007 == 0)
                        for (pid_t p = 0; p < MODEL_PIDS; p++) {
                                e = process_table_find(&t, p);
                                CHECK(!e == !model[p]);
                                CHECK(!e || e->start_time == model[p] - 1);
                        }
        }
}

static void table_of(ProcessTable *t, const ProcessKey *keys, size_t n) {
        process_table_init(t, 1000);
        for (size_t i = 0; i < n; i++)
                CHECK_EQ_INT(put(t, entry(keys[i].pid, keys[i].start_time, "x"), NULL), PROCESS_TABLE_ADDED);
}

static void test_diff(void) {
        static const ProcessKey in_table[] = { { 5, 50 }, { 1, 10 }, { 3, 30 }, { 2, 20 }, { 9, 90 } };
        /* 2 is unchanged, 3 was reused, 4 and 6 are new; 1, 5 and 9 have gone. */
        static const ProcessKey scan[] = { { 6, 60 }, { 3, 31 }, { 2, 20 }, { 4, 40 } };
        _cleanup_(process_table_done) ProcessTable t;
        ProcessDiff d;

        table_of(&t, in_table, ELEMENTSOF(in_table));
        CHECK_EQ_INT(process_table_diff(&t, scan, ELEMENTSOF(scan), &d), 0);
        CHECK_EQ_INT(d.n_gone, 4);
        CHECK_EQ_INT(d.gone[0]->pid, 1);
        CHECK_EQ_INT(d.gone[1]->pid, 3);
        CHECK_EQ_INT(d.gone[1]->start_time, 30);
        CHECK_EQ_INT(d.gone[2]->pid, 5);
        CHECK_EQ_INT(d.gone[3]->pid, 9);
        CHECK(d.gone[0] == process_table_find(&t, 1));
        CHECK_EQ_INT(d.n_new, 3);
        CHECK_EQ_INT(d.new[0].pid, 3);
        CHECK_EQ_INT(d.new[0].start_time, 31);
        CHECK_EQ_INT(d.new[1].pid, 4);
        CHECK_EQ_INT(d.new[2].pid, 6);
        CHECK_EQ_INT(t.n, ELEMENTSOF(in_table));       /* the table as it was */

        /* As the daemon applies it: the gone out, then the new in; then nothing is left. */
        for (size_t i = 0; i < d.n_gone; i++)
                process_entry_free(process_table_take(&t, d.gone[i]->pid));
        for (size_t i = 0; i < d.n_new; i++)
                CHECK_EQ_INT(put(&t, entry(d.new[i].pid, d.new[i].start_time, NULL), NULL), PROCESS_TABLE_ADDED);
        process_diff_done(&d);
        CHECK(!d.gone && !d.new && d.n_gone == 0 && d.n_new == 0);
        CHECK_EQ_INT(process_table_diff(&t, scan, ELEMENTSOF(scan), &d), 0);
        CHECK_EQ_INT(d.n_gone, 0);
        CHECK_EQ_INT(d.n_new, 0);
        process_diff_done(&d);
}

static void test_diff_empty(void) {
        static const ProcessKey keys[] = { { 3, 1 }, { 1, 1 } };
        _cleanup_(process_table_done) ProcessTable t;
        ProcessDiff d;

        /* Empty table, empty scan. */
        process_table_init(&t, 10);
        CHECK_EQ_INT(process_table_diff(&t, NULL, 0, &d), 0);
        CHECK_EQ_INT(d.n_gone + d.n_new, 0);
        process_diff_done(&d);

        /* At start: everything is new. */
        CHECK_EQ_INT(process_table_diff(&t, keys, ELEMENTSOF(keys), &d), 0);
        CHECK_EQ_INT(d.n_gone, 0);
        CHECK_EQ_INT(d.n_new, 2);
        CHECK_EQ_INT(d.new[0].pid, 1);
        process_diff_done(&d);

        /* Nothing scanned: everything has gone. */
        process_table_done(&t);
        table_of(&t, keys, ELEMENTSOF(keys));
        CHECK_EQ_INT(process_table_diff(&t, NULL, 0, &d), 0);
        CHECK_EQ_INT(d.n_gone, 2);
        CHECK_EQ_INT(d.n_new, 0);
        CHECK_EQ_INT(d.gone[0]->pid, 1);
        process_diff_done(&d);
}

int main(void) {
        test_put_find_take();
        test_bound();
        test_sorted();
        test_grow_shrink();
        test_random();
        test_diff();
        test_diff_empty();
        return EXIT_SUCCESS;
}
