/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/process/process-dump.c: the dump is a sealed memfd that nobody can change,
 * one JSON line per entry by pid, read back with json-c: every field as the bus gives it,
 * arguments only when asked, unknown where keys left out, and the controls a terminal would act on
 * escaped. */

#include <fcntl.h>
#include <json-c/json.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "process-dump.h"
#include "tests.h"

static ProcessEntry *entry(pid_t pid, const char *exe, const char *user_unit) {
        char *argv[] = { (char *) exe, (char *) "-x", NULL };
        ProcessEntry *e = process_entry_new(pid, 100 + (uint64_t) pid);
        ProcessStrings *s;

        CHECK(e);
        e->ppid = 1;
        e->uid = 1000;
        e->where.pid_namespace = 4026531836;
        CHECK_EQ_INT(process_strings_new(&(ProcessStringsView) { .exe = exe, .argv = argv, .cgroup = "/a.slice",
                                                                 .unit = "a.service", .user_unit = user_unit },
                                         NULL, NULL, &s), 0);
        process_entry_set_strings(e, s);
        return e;
}

static char *read_all(int fd, size_t *ret_n) {
        struct stat st;
        char *buf;

        CHECK(fstat(fd, &st) == 0);
        buf = calloc(1, (size_t) st.st_size + 1);
        CHECK(buf);
        CHECK(pread(fd, buf, (size_t) st.st_size, 0) == st.st_size);
        *ret_n = (size_t) st.st_size;
        return buf;
}

static json_object *line(char **p) {
        char *end = strchr(*p, '\n');
        json_object *o;

        CHECK(end);
        *end = '\0';
        o = json_tokener_parse(*p);
        CHECK(o);
        *p = end + 1;
        return o;
}

static const char *member_string(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t member_int(json_object *o, const char *key) {
        json_object *v;

        CHECK(json_object_object_get_ex(o, key, &v));
        return json_object_get_int64(v);
}

static void test_dump(bool arguments) {
        _cleanup_(process_table_done) ProcessTable t;
        _cleanup_(closep) int fd = -1;
        _cleanup_(freep) char *text = NULL;
        json_object *o, *where, *argv;
        ProcessEntry *old;
        size_t n;
        char *p;

        process_table_init(&t, 100);
        CHECK_EQ_INT(process_table_put(&t, entry(30, "/bin/c\xc2\x9b", NULL), &old), PROCESS_TABLE_ADDED);
        CHECK_EQ_INT(process_table_put(&t, entry(7, "/bin/a", "app.service"), &old), PROCESS_TABLE_ADDED);
        CHECK_EQ_INT(process_dump(&t, arguments, &fd), 0);

        /* Sealed, every way: it cannot be written, grown or shrunk, nor its seals changed. */
        CHECK_EQ_INT(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
        CHECK(write(fd, "x", 1) < 0);
        CHECK(ftruncate(fd, 0) < 0);
        CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        CHECK_EQ_INT(lseek(fd, 0, SEEK_CUR), 0);       /* a reader reads it from the start */

        text = read_all(fd, &n);
        CHECK(n > 0 && text[n - 1] == '\n');
        /* A C1 control (CSI) is not in the file raw; its escape is, and decodes as it was. */
        CHECK(!strstr(text, "\xc2\x9b"));
        CHECK(strstr(text, "\\u009b"));
        p = text;
        o = line(&p);                   /* by pid: 7 first */
        CHECK_EQ_INT(member_int(o, "pid"), 7);
        CHECK_EQ_INT(member_int(o, "ppid"), 1);
        CHECK_EQ_INT(member_int(o, "uid"), 1000);
        CHECK_EQ_INT(member_int(o, "start_time"), 107);
        CHECK_STREQ(member_string(o, "exe"), "/bin/a");
        CHECK_STREQ(member_string(o, "unit"), "a.service");
        CHECK_STREQ(member_string(o, "cgroup"), "/a.slice");
        CHECK_EQ_INT(json_object_object_get_ex(o, "argv", &argv), arguments);
        if (arguments) {
                CHECK_EQ_INT(json_object_array_length(argv), 2);
                CHECK_STREQ(json_object_get_string(json_object_array_get_idx(argv, 1)), "-x");
        }
        CHECK(json_object_object_get_ex(o, "where", &where));
        CHECK_STREQ(member_string(where, "user_unit"), "app.service");
        CHECK(!member_string(where, "machine"));        /* unknown: left out */
        CHECK_EQ_INT(member_int(where, "pid_namespace"), 4026531836);
        CHECK(!json_object_object_get_ex(where, "namespace_pid", NULL));
        json_object_put(o);

        o = line(&p);
        CHECK_EQ_INT(member_int(o, "pid"), 30);
        CHECK_STREQ(member_string(o, "exe"), "/bin/c\xc2\x9b");
        json_object_put(o);
        CHECK_EQ_INT(*p, '\0');
}

static void test_empty(void) {
        _cleanup_(process_table_done) ProcessTable t;
        _cleanup_(closep) int fd = -1;
        struct stat st;

        process_table_init(&t, 10);
        CHECK_EQ_INT(process_dump(&t, true, &fd), 0);
        CHECK(fstat(fd, &st) == 0);
        CHECK_EQ_INT(st.st_size, 0);
}

int main(void) {
        test_dump(false);
        test_dump(true);
        test_empty();
        return EXIT_SUCCESS;
}
