/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for the journal entries of [Journal] Events= (process-journal.c, journal-entry.c)
 * and the per-uid rate limit (journal-limiter.c), none of which touch journald: MESSAGE= with
 * the program's newline, ESC and C1 escaped; the arguments one CND_ARGV= each, in order, and
 * none with Arguments=no; the size of an entry bounded, with what was cut named; a uid over
 * its burst suppressed without touching another's, and its summary once its window ends. */

#include <errno.h>

#include "process-journal.h"
#include "tests.h"
#include "util.h"

/* The program of a hostile user: a line of its own, an ANSI erase and a UTF-8 CSI. */
#define HOSTILE_EXE "/tmp/x\nProcess 1 started /sbin/init.\x1b[2J\xc2\x9b" "2A"

/* An entry whose strings are the test's own, past the caps a block would apply
 * (process-strings.h): the journal bounds whatever it is handed. */
static ProcessEntry *entry(const char *exe, char **argv) {
        ProcessEntry *e = process_entry_new(4242, 1000);

        CHECK(e);
        e->ppid = 1;
        e->uid = 1000;
        e->exe = (char *) exe;
        e->argv = argv;
        return e;
}

static Config config(bool arguments) {
        Config c;

        config_init(&c);
        c.journal_events = (UINT32_C(1) << PROC_KIND_EXEC) | (UINT32_C(1) << PROC_KIND_EXIT);
        c.journal_arguments = arguments;
        return c;
}

static JournalEntry *format_exec(const Config *c, const ProcessEntry *e) {
        ProcEvent ev = { .kind = PROC_KIND_EXEC };
        JournalEntry *j = NULL;

        CHECK_EQ_INT(process_journal_format(c, &ev, e, e->pid, 0, 0, 0, &j), 1);
        CHECK(j);
        return j;
}

/* The field as a string (the tests' values hold no NUL). */
static char *field(const JournalEntry *j, const char *key, size_t nth) {
        size_t n;
        const char *v = journal_entry_field(j, key, nth, &n);

        return v ? memdup_suffix0(v, n) : NULL;
}

static bool has_controls(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
                        return true;
        return false;
}

static void test_message_escaped(void) {
        char *argv[] = { "x", NULL };
        _cleanup_(process_entry_freep) ProcessEntry *e = entry(HOSTILE_EXE, argv);
        Config c = config(false);
        ProcEvent ex = { .kind = PROC_KIND_EXIT };
        _cleanup_(freep) JournalEntry *j = format_exec(&c, e), *k = NULL;
        _cleanup_(freep) char *message = field(j, "MESSAGE", 0), *exe = field(j, "CND_EXE", 0), *m2 = NULL;

        CHECK_STREQ(message, "Process 4242 started /tmp/x\\x0aProcess 1 started /sbin/init.\\x1b[2J\\xc2\\x9b2A.");
        CHECK(!has_controls(message));
        /* The field keeps the path as the table has it, for programs. */
        CHECK_STREQ(exe, HOSTILE_EXE);

        CHECK_EQ_INT(process_journal_format(&c, &ex, e, e->pid, 0, 9, 5000, &k), 1);
        m2 = field(k, "MESSAGE", 0);
        CHECK_STREQ(m2, "Process 4242 (/tmp/x\\x0aProcess 1 started /sbin/init.\\x1b[2J\\xc2\\x9b2A) was killed by signal 9.");
        config_done(&c);
}

static void test_arguments_one_field_each(void) {
        char *argv[] = { "/bin/sh", "-c", "a b", "", "x\ny", "c d", NULL };
        _cleanup_(process_entry_freep) ProcessEntry *e = entry("/bin/sh", argv);
        Config c = config(true);
        _cleanup_(freep) JournalEntry *j = format_exec(&c, e);
        _cleanup_(freep) char *argc = field(j, "CND_ARGC", 0);

        CHECK_STREQ(argc, "6");
        CHECK_EQ_INT(journal_entry_count(j, "CND_ARGV"), 6);
        for (size_t i = 0; i < 6; i++) {
                _cleanup_(freep) char *a = field(j, "CND_ARGV", i);

                CHECK_STREQ(a, argv[i]);
        }
        CHECK(!field(j, "CND_TRUNCATED", 0));
        config_done(&c);
}

static void test_arguments_no(void) {
        char *argv[] = { "/bin/sh", "-c", "secret", NULL };
        _cleanup_(process_entry_freep) ProcessEntry *e = entry("/bin/sh", argv);
        Config c = config(false);
        _cleanup_(freep) JournalEntry *j = format_exec(&c, e);

        CHECK_EQ_INT(journal_entry_count(j, "CND_ARGV"), 0);
        CHECK_EQ_INT(journal_entry_count(j, "CND_ARGC"), 0);
        for (size_t i = 0; i < j->n_fields; i++)
                CHECK(!memmem(j->fields[i].iov_base, j->fields[i].iov_len, "secret", 6));
        config_done(&c);
}

static char *repeat(char c, size_t n) {
        char *s = malloc(n + 1);

        CHECK(s);
        memset(s, c, n);
        s[n] = 0;
        return s;
}

/* 1000 arguments of 100 bytes (100 KB) and a 10 KB path: the entry stays within its bound,
 * the arguments that went in are the first ones in order, and CND_TRUNCATED= says what was cut. */
static void test_size_cap(void) {
        _cleanup_(freep) char *arg = repeat('a', 100), *exe = repeat('e', 10000), *argc = NULL, *cut = NULL;
        _cleanup_(freep) char *message = NULL, *cnd_exe = NULL;
        char *argv[1001];
        Config c = config(true);

        for (size_t i = 0; i < 1000; i++)
                argv[i] = arg;
        argv[1000] = NULL;
        _cleanup_(process_entry_freep) ProcessEntry *e = entry(exe, argv);
        _cleanup_(freep) JournalEntry *j = format_exec(&c, e);

        CHECK(j->size <= JOURNAL_ENTRY_MAX + JOURNAL_TRUNCATED_MAX);
        CHECK(j->size > JOURNAL_ENTRY_MAX - 200);
        argc = field(j, "CND_ARGC", 0);
        CHECK_STREQ(argc, "1000");
        CHECK(journal_entry_count(j, "CND_ARGV") > 50);
        CHECK(journal_entry_count(j, "CND_ARGV") < 1000);
        cut = field(j, "CND_TRUNCATED", 0);
        CHECK_STREQ(cut, "CND_EXE CND_ARGV");
        cnd_exe = field(j, "CND_EXE", 0);
        CHECK_EQ_INT(strlen(cnd_exe), JOURNAL_VALUE_MAX);
        message = field(j, "MESSAGE", 0);
        CHECK(strlen(message) < PROCESS_JOURNAL_MESSAGE_EXE_MAX + 40);
        CHECK(strstr(message, "eee...."));
        config_done(&c);
}

/* More short arguments than CND_ARGV= fields are allowed; one argument longer than a value. */
static void test_argument_bounds(void) {
        _cleanup_(freep) char *huge = repeat('h', 1 << 20), *cut = NULL, *first = NULL;
        char *many[PROCESS_JOURNAL_ARGV_MAX + 10], *one[] = { huge, NULL };
        Config c = config(true);

        for (size_t i = 0; i < ELEMENTSOF(many) - 1; i++)
                many[i] = "x";
        many[ELEMENTSOF(many) - 1] = NULL;
        _cleanup_(process_entry_freep) ProcessEntry *e = entry("/bin/true", many), *f = entry("/bin/true", one);
        _cleanup_(freep) JournalEntry *j = format_exec(&c, e), *k = format_exec(&c, f);

        CHECK_EQ_INT(journal_entry_count(j, "CND_ARGV"), PROCESS_JOURNAL_ARGV_MAX);
        cut = field(j, "CND_TRUNCATED", 0);
        CHECK_STREQ(cut, "CND_ARGV");
        first = field(k, "CND_ARGV", 0);
        CHECK_EQ_INT(strlen(first), JOURNAL_VALUE_MAX);
        CHECK(k->size < 2 * JOURNAL_VALUE_MAX);
        config_done(&c);
}

static void test_kind_not_selected(void) {
        Config c = config(true);
        ProcEvent ev = { .kind = PROC_KIND_FORK };
        JournalEntry *j = NULL;

        CHECK_EQ_INT(process_journal_format(&c, &ev, NULL, 1, 0, 0, 0, &j), 0);
        CHECK(!j);
        config_done(&c);
}

typedef struct Reports {
        uint32_t uid[8];
        uint64_t n[8];
        size_t count;
} Reports;

static void on_report(uint32_t uid, uint64_t n, void *userdata) {
        Reports *r = userdata;

        CHECK(r->count < ELEMENTSOF(r->uid));
        r->uid[r->count] = uid;
        r->n[r->count++] = n;
}

/* uid 1000 runs an exec loop: past its burst it is suppressed, uid 1001 is not; when its window
 * has ended the count is reported once, by its next entry or by a sweep. */
static void test_limiter(void) {
        static JournalLimiter l;
        Reports r = {};
        uint64_t t0 = 5 * USEC_PER_SEC, interval = 10 * USEC_PER_SEC;

        journal_limiter_init(&l, interval, 3);
        for (unsigned i = 0; i < 10; i++)
                CHECK(journal_limiter_allow(&l, 1000, t0 + i, on_report, &r) == (i < 3));
        for (unsigned i = 0; i < 3; i++)
                CHECK(journal_limiter_allow(&l, 1001, t0 + 100 + i, on_report, &r));
        CHECK(!journal_limiter_allow(&l, 1001, t0 + 200, on_report, &r));
        CHECK_EQ_INT(r.count, 0);
        CHECK_EQ_INT(journal_limiter_next_report(&l), t0 + interval);

        /* Its window ended: the next entry of uid 1000 is let through, after the report. */
        CHECK(journal_limiter_allow(&l, 1000, t0 + interval, on_report, &r));
        CHECK_EQ_INT(r.count, 1);
        CHECK_EQ_INT(r.uid[0], 1000);
        CHECK_EQ_INT(r.n[0], 7);
        CHECK_EQ_INT(journal_limiter_next_report(&l), t0 + 100 + interval);

        /* uid 1001 has no more entries: a sweep reports it, once. */
        journal_limiter_sweep(&l, t0 + interval + 99, on_report, &r);
        CHECK_EQ_INT(r.count, 1);
        journal_limiter_sweep(&l, t0 + interval + 100, on_report, &r);
        CHECK_EQ_INT(r.count, 2);
        CHECK_EQ_INT(r.uid[1], 1001);
        CHECK_EQ_INT(r.n[1], 1);
        journal_limiter_sweep(&l, t0 + 3 * interval, on_report, &r);
        CHECK_EQ_INT(r.count, 2);
        CHECK_EQ_INT(journal_limiter_next_report(&l), 0);

        /* Burst 0: no limit. */
        journal_limiter_set(&l, interval, 0);
        for (unsigned i = 0; i < 100; i++)
                CHECK(journal_limiter_allow(&l, 1000, t0, on_report, &r));
}

/* More uids than the table holds in one window: the rest share one, and each one's count is
 * still reported. */
static void test_limiter_many_uids(void) {
        static JournalLimiter l;
        Reports r = {};
        unsigned allowed = 0;

        journal_limiter_init(&l, USEC_PER_SEC, 1);
        for (uint32_t uid = 0; uid < 2 * JOURNAL_LIMITER_UIDS; uid++)
                allowed += journal_limiter_allow(&l, uid, 10, on_report, &r);
        CHECK(l.n_used <= JOURNAL_LIMITER_UIDS * 3 / 4);
        CHECK(l.others.used);
        CHECK_EQ_INT(allowed, l.n_used + 1);
        CHECK_EQ_INT(r.count, 0);
        journal_limiter_sweep(&l, 10 + USEC_PER_SEC, on_report, &r);
        CHECK_EQ_INT(r.count, 1);
        CHECK_EQ_INT(r.uid[0], JOURNAL_LIMITER_OTHERS);
        CHECK_EQ_INT(r.n[0], 2 * JOURNAL_LIMITER_UIDS - allowed);
        CHECK_EQ_INT(l.n_used, 0);
}

static void test_suppressed_entry(void) {
        _cleanup_(freep) JournalEntry *j = process_journal_suppressed_entry(1000, 7);
        _cleanup_(freep) char *message = field(j, "MESSAGE", 0), *uid = field(j, "CND_UID", 0),
                             *n = field(j, "CND_SUPPRESSED", 0), *id = field(j, "MESSAGE_ID", 0);

        CHECK_STREQ(message, "Suppressed 7 entries of uid 1000.");
        CHECK_STREQ(uid, "1000");
        CHECK_STREQ(n, "7");
        CHECK_STREQ(id, PROCESS_JOURNAL_SUPPRESSED_MESSAGE_ID);
}

int main(void) {
        test_message_escaped();
        test_arguments_one_field_each();
        test_arguments_no();
        test_size_cap();
        test_argument_bounds();
        test_kind_not_selected();
        test_limiter();
        test_limiter_many_uids();
        test_suppressed_entry();
        return 0;
}
