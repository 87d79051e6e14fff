/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/conf/ini.c, the reader that knows no keys: what it calls back with (as a
 * transcript), its errors with file:line, callbacks' errors, files, and drop-in directories
 * on a scratch tree under /tmp (ordering, masking, /dev/null, the bound). */

#include "ini.h"
#include "scratch.h"
#include "tests.h"
#include "util.h"

#define FILENAME "t.ini"

/* Records the callbacks as lines "LINE [name]" and "LINE section/key=value", and fails with
 * reject's text when a header or key is named so. */
typedef struct Transcript {
        FILE *f;
        char *text;
        size_t size;
        const char *reject;
} Transcript;

static int on_section(const IniContext *ctx, const char *name, void *userdata) {
        Transcript *t = userdata;

        if (t->reject && streq(name, t->reject))
                return ini_error(ctx, -EPERM, "section [%s] rejected", name);
        fprintf(t->f, "%u [%s]\n", ctx->line, name);
        return 0;
}

static int on_assignment(const IniContext *ctx, const char *section, const char *key, char *value,
                         void *userdata) {
        Transcript *t = userdata;

        if (t->reject && streq(key, t->reject))
                return ini_error(ctx, -EPERM, "key '%s' rejected", key);
        fprintf(t->f, "%u %s/%s=%s\n", ctx->line, section, key, value);
        return 0;
}

static const IniCallbacks callbacks = { .section = on_section, .assignment = on_assignment };

static int parse(const char *text, size_t size, const char *reject, char **ret_transcript,
                 char **error) {
        Transcript t = { .reject = reject };
        int r;

        t.f = open_memstream(&t.text, &t.size);
        CHECK(t.f);
        r = ini_parse_text(FILENAME, text, size, &callbacks, &t, error);
        CHECK(fclose(t.f) == 0);
        *ret_transcript = t.text;
        return r;
}

/* text (NUL-terminated here) must parse and call back exactly as expected says. */
static void check_transcript(const char *text, const char *expected) {
        _cleanup_(freep) char *got = NULL;
        char *error = NULL;
        int r;

        r = parse(text, strlen(text), NULL, &got, &error);
        if (r < 0)
                fprintf(stderr, "unexpected failure %d for:\n%s\n-> %s\n", r, text, strempty(error));
        CHECK_EQ_INT(r, 0);
        CHECK(!error);
        CHECK_STREQ(got, expected);
}

/* size bytes of text must fail with r and exactly the message "t.ini:LINE: problem". */
static void check_error_n(const char *text, size_t size, int r, unsigned line, const char *problem) {
        _cleanup_(freep) char *got = NULL, *error = NULL, *expected = NULL;

        CHECK_EQ_INT(parse(text, size, NULL, &got, &error), r);
        CHECK(asprintf(&expected, FILENAME ":%u: %s", line, problem) >= 0);
        CHECK_STREQ(error, expected);
}

#define check_error(text, r, line, problem) check_error_n((text), strlen(text), (r), (line), (problem))

static void test_transcripts(void) {
        check_transcript("", "");
        check_transcript("\n\n \t \n", "");
        check_transcript("[A]\nx=1\n[B]\ny = 2 \n[A]\nz=\n",
                         "1 [A]\n2 A/x=1\n3 [B]\n4 B/y=2\n5 [A]\n6 A/z=\n");

        /* White space around everything; the last line needs no newline. */
        check_transcript("  [Sec]  \n\t key \t=\t value with  spaces \t\nlast=1",
                         "1 [Sec]\n2 Sec/key=value with  spaces\n3 Sec/last=1\n");

        /* Section names are what stands between the brackets, as written. */
        check_transcript("[]\nk=v\n[ a b ]\n[x=y]\n[[n]]\n",
                         "1 []\n2 /k=v\n3 [ a b ]\n4 [x=y]\n5 [[n]]\n");

        /* CRLF, a lone CR at the end of the text, and mixed endings. */
        check_transcript("[S]\r\na=1\r\n\r\nb=2\nc=3\r",
                         "1 [S]\n2 S/a=1\n4 S/b=2\n5 S/c=3\n");

        /* Whole-line comments, even of headers and assignments. */
        check_transcript("#[X]\n;[X]\n  # x=1\n\t; x=1\n[S]\n#a=1\nb=2\n", "5 [S]\n7 S/b=2\n");

        /* Trailing comments after white space; glued ones are part of the value. */
        check_transcript("[S]\na=1 2   # comment\nb=x\t; comment\nc=# all comment\nd=   ; too\n"
                         "e=1#not\nf=1;not\ng=a # b # c\n",
                         "1 [S]\n2 S/a=1 2\n3 S/b=x\n4 S/c=\n5 S/d=\n6 S/e=1#not\n7 S/f=1;not\n"
                         "8 S/g=a\n");

        /* The first '=' splits; keys may hold anything else. */
        check_transcript("[S]\na=b=c\nk#1 = v\n x y =z\n",
                         "1 [S]\n2 S/a=b=c\n3 S/k#1=v\n4 S/x y=z\n");

        /* No quoting and no continuation. */
        check_transcript("[S]\na=\"q\"\nb=1 \\\nc=2\n", "1 [S]\n2 S/a=\"q\"\n3 S/b=1 \\\n4 S/c=2\n");

        /* Only size bytes count: the text need not be NUL-terminated. */
        {
                static const char text[] = "[S]\na=1 2 x";
                _cleanup_(freep) char *got = NULL, *got2 = NULL, *copy = malloc(strlen(text));

                CHECK(copy);
                memcpy(copy, text, strlen(text)); /* no NUL, ASan would see an overread */
                CHECK_EQ_INT(parse(copy, strlen(text) - 2, NULL, &got, NULL), 0);
                CHECK_STREQ(got, "1 [S]\n2 S/a=1 2\n");
                CHECK_EQ_INT(parse(copy, strlen(text), NULL, &got2, NULL), 0);
                CHECK_STREQ(got2, "1 [S]\n2 S/a=1 2 x\n");
        }
}

static void test_syntax_errors(void) {
        check_error("[S\n", -EBADMSG, 1, "invalid section header '[S'");
        check_error("[\n", -EBADMSG, 1, "invalid section header '['");
        check_error("[S] # c\n", -EBADMSG, 1, "invalid section header '[S] # c'");
        check_error("[S]\n\n# c\njust words\n", -EBADMSG, 4, "expected Key=Value, got 'just words'");
        check_error("[S]\n =1\n", -EBADMSG, 2, "expected Key=Value, got an empty key");
        check_error("k=1\n[S]\n", -EBADMSG, 1, "assignment to 'k' before any [Section] header");
        check_error("# c\n\n key =1\n", -EBADMSG, 3, "assignment to 'key' before any [Section] header");

        /* NUL bytes, wherever they are, even in comments. */
        check_error_n("[S]\na=1\0 2\n", 10, -EBADMSG, 2, "NUL byte in line");
        check_error_n("[S]\n# x\0y\n", 9, -EBADMSG, 2, "NUL byte in line");
        check_error_n("\0", 1, -EBADMSG, 1, "NUL byte in line");
        check_error_n("[S]\n\0", 5, -EBADMSG, 2, "NUL byte in line");

        /* Lines of INI_LINE_MAX bytes are fine, also with CRLF; one more is not, comments too. */
        {
                size_t n = INI_LINE_MAX;
                _cleanup_(freep) char *t = malloc(n + 64), *got = NULL;
                char *p;

                CHECK(t);
                p = stpcpy(t, "[S]\n");
                memset(p, '#', n);
                strcpy(p + n, "\r\na=2\n");
                check_transcript(t, "1 [S]\n3 S/a=2\n");

                p = stpcpy(t, "[S]\na=");
                memset(p, 'v', n - 2);
                strcpy(p + n - 2, "\n");
                CHECK_EQ_INT(parse(t, strlen(t), NULL, &got, NULL), 0);
                CHECK_EQ_INT(strlen(got), strlen("1 [S]\n2 S/a=\n") + n - 2);

                p = stpcpy(t, "[S]\n");
                memset(p, '#', n + 1);
                strcpy(p + n + 1, "\na=2\n");
                check_error(t, -ENOBUFS, 2, "line too long (more than 4096 bytes)");

                /* Where the text ends without a newline too. */
                p = stpcpy(t, "[S]\na=");
                memset(p, 'v', n);
                p[n] = 0;
                check_error(t, -ENOBUFS, 2, "line too long (more than 4096 bytes)");
        }

        /* The filename may be NULL, and so may the error pointer. */
        {
                _cleanup_(freep) char *error = NULL;

                CHECK_EQ_INT(ini_parse_text(NULL, "x", 1, &callbacks, NULL, &error), -EBADMSG);
                CHECK_STREQ(error, "(text):1: expected Key=Value, got 'x'");
                CHECK_EQ_INT(ini_parse_text(FILENAME, "x", 1, &callbacks, NULL, NULL), -EBADMSG);
        }

        /* Without callbacks, only the syntax is checked. */
        {
                static const IniCallbacks none = {};
                _cleanup_(freep) char *error = NULL;

                CHECK_EQ_INT(ini_parse_text(FILENAME, "[S]\na=1\n", 8, &none, NULL, &error), 0);
                CHECK(!error);
                CHECK_EQ_INT(ini_parse_text(FILENAME, "[S]\na\n", 6, &none, NULL, &error), -EBADMSG);
                CHECK_STREQ(error, FILENAME ":2: expected Key=Value, got 'a'");
        }
}

static void test_callback_errors(void) {
        static const char text[] = "[A]\na=1\n[B]\nb=2\n[C]\nc=3\n";

        /* A callback's error stops the parse: its code, its message at its line, nothing after. */
        static const struct {
                const char *reject;
                unsigned line;
                const char *problem, *before;
        } cases[] = {
                { "B", 3, "section [B] rejected", "1 [A]\n2 A/a=1\n" },
                { "b", 4, "key 'b' rejected", "1 [A]\n2 A/a=1\n3 [B]\n" },
                { "A", 1, "section [A] rejected", "" },
                { "c", 6, "key 'c' rejected", "1 [A]\n2 A/a=1\n3 [B]\n4 B/b=2\n5 [C]\n" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *got = NULL, *error = NULL, *expected = NULL;

                CHECK_EQ_INT(parse(text, strlen(text), cases[i].reject, &got, &error), -EPERM);
                CHECK_STREQ(got, cases[i].before);
                CHECK(asprintf(&expected, FILENAME ":%u: %s", cases[i].line, cases[i].problem) >= 0);
                CHECK_STREQ(error, expected);
        }

        /* ini_error() without an error pointer only returns the code. */
        {
                const IniContext ctx = { .filename = "f", .line = 3 };

                CHECK_EQ_INT(ini_error(&ctx, -EINVAL, "x %d", 1), -EINVAL);
        }
        {
                char *error = NULL;
                const IniContext ctx = { .filename = "f", .line = 3, .error = &error };

                CHECK_EQ_INT(ini_error(&ctx, -ERANGE, "value %s too %s", "7", "big"), -ERANGE);
                CHECK_STREQ(error, "f:3: value 7 too big");
                free(error);
        }
}

static void test_files(void) {
        char root[] = "/tmp/test-ini-XXXXXX";
        _cleanup_(freep) char *path = NULL, *missing = NULL, *got = NULL, *error = NULL;
        Transcript t = {};

        scratch_new(root);
        path = scratch_path(root, "a.ini");
        missing = scratch_path(root, "missing.ini");
        write_file(root, "a.ini", "[S]\nk=v\nbad\n");

        t.f = open_memstream(&t.text, &t.size);
        CHECK(t.f);

        /* Errors name the file, and the line when there is one. */
        CHECK_EQ_INT(ini_parse_file(path, false, &callbacks, &t, &error), -EBADMSG);
        CHECK_CONTAINS(error, "/a.ini:3: expected Key=Value, got 'bad'");
        CHECK(strncmp(error, path, strlen(path)) == 0);
        error = mfree(error);

        CHECK_EQ_INT(ini_parse_file(missing, true, &callbacks, &t, &error), 0);
        CHECK(!error);
        CHECK_EQ_INT(ini_parse_file(missing, false, &callbacks, &t, &error), -ENOENT);
        CHECK_CONTAINS(error, "/missing.ini: No such file or directory");
        error = mfree(error);

        /* A directory is an error even when a missing file would not be. */
        CHECK_EQ_INT(ini_parse_file(root, true, &callbacks, &t, &error), -EISDIR);
        CHECK_CONTAINS(error, ": Is a directory");
        error = mfree(error);

        /* INI_FILE_MAX bytes are fine, one more is not. */
        {
                _cleanup_(freep) char *big = malloc(INI_FILE_MAX + 2);

                CHECK(big);
                memset(big, '\n', INI_FILE_MAX + 1);
                big[INI_FILE_MAX + 1] = 0;
                write_file(root, "big.ini", big);
                free(path);
                path = scratch_path(root, "big.ini");
                CHECK_EQ_INT(ini_parse_file(path, false, &callbacks, &t, &error), -EFBIG);
                CHECK_CONTAINS(error, "/big.ini: file too large (more than 1048576 bytes)");
                error = mfree(error);

                big[INI_FILE_MAX] = 0;
                write_file(root, "big.ini", big);
                CHECK_EQ_INT(ini_parse_file(path, false, &callbacks, &t, &error), 0);
        }

        /* /dev/null is an empty file. */
        CHECK_EQ_INT(ini_parse_file("/dev/null", false, &callbacks, &t, &error), 0);

        /* The first file's lines before the error were seen, nothing else. */
        CHECK(fclose(t.f) == 0);
        got = t.text;
        CHECK_STREQ(got, "1 [S]\n2 S/k=v\n");

        rm_rf(root);
}

/* The drop-ins of dirs, as names relative to root joined by spaces ("d1/a.conf d2/b.conf"). */
static char *dropins(const char *root, const char *const *dirs) {
        _cleanup_(ini_paths_freep) char **paths = NULL;
        char *error = NULL, *text = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        r = ini_dropins_list(dirs, &paths, &error);
        if (r < 0)
                fprintf(stderr, "%s\n", strempty(error));
        CHECK_EQ_INT(r, 0);
        CHECK(!error);

        f = open_memstream(&text, &size);
        CHECK(f);
        for (char **p = paths; *p; p++) {
                CHECK(strncmp(*p, root, strlen(root)) == 0 && (*p)[strlen(root)] == '/');
                fprintf(f, "%s%s", p == paths ? "" : " ", *p + strlen(root) + 1);
        }
        CHECK(fclose(f) == 0);
        return text;
}

#define CHECK_DROPINS(root, dirs, expected)                             \
        do {                                                            \
                _cleanup_(freep) char *_got_ = dropins((root), (dirs)); \
                CHECK_STREQ(_got_, (expected));                         \
        } while (0)

static void test_dropins(void) {
        char root[] = "/tmp/test-ini-XXXXXX";
        _cleanup_(freep) char *d1 = NULL, *d2 = NULL, *d3 = NULL, *missing = NULL, *target = NULL;

        scratch_new(root);
        d1 = make_dir(root, "d1");
        d2 = make_dir(root, "d2");
        d3 = make_dir(root, "d3");
        missing = scratch_path(root, "missing.d");
        target = scratch_path(root, "target");
        write_file(root, "target", "");

        const char *const dirs[] = { d1, missing, d2, d3, NULL };

        /* No directories, empty ones and missing ones: an empty list. */
        CHECK_DROPINS(root, NULL, "");
        CHECK_DROPINS(root, dirs, "");

        /* Sorted by file name across directories, not by directory. */
        write_file(d2, "20-b.conf", "");
        write_file(d1, "30-c.conf", "");
        write_file(d3, "10-x.conf", "");
        write_file(d1, "90-z.conf", "");
        write_file(d2, "05-a.conf", "");
        write_file(d1, "5.conf", "");
        write_file(d1, "B.conf", "");
        CHECK_DROPINS(root, dirs, "d2/05-a.conf d3/10-x.conf d2/20-b.conf d1/30-c.conf d1/5.conf "
                                  "d1/90-z.conf d1/B.conf");

        /* A later directory masks an earlier one's file of the same name; the order of dirs
         * is the priority. */
        write_file(d3, "30-c.conf", "");
        write_file(d2, "30-c.conf", "");
        CHECK_DROPINS(root, dirs, "d2/05-a.conf d3/10-x.conf d2/20-b.conf d3/30-c.conf d1/5.conf "
                                  "d1/90-z.conf d1/B.conf");
        CHECK_DROPINS(root, ((const char *const[]) { d3, d2, d1, NULL }),
                      "d2/05-a.conf d3/10-x.conf d2/20-b.conf d1/30-c.conf d1/5.conf "
                      "d1/90-z.conf d1/B.conf");

        /* Not drop-ins, and masking nothing: hidden files, other suffixes, directories,
         * dangling links. A link to a regular file is one. */
        write_file(d1, ".hidden.conf", "");
        write_file(d1, "README", "");
        write_file(d1, "99.conf.bak", "");
        write_file(d1, "conf", "");
        write_file(d2, ".conf", "");
        {
                _cleanup_(freep) char *sub = make_dir(d3, "90-z.conf");

                write_file(sub, "inner.conf", "");
        }
        make_symlink(d3, "5.conf", "/nonexistent/test-ini");
        make_symlink(d3, "60-link.conf", target);
        CHECK_DROPINS(root, dirs, "d2/05-a.conf d3/10-x.conf d2/20-b.conf d3/30-c.conf d1/5.conf "
                                  "d3/60-link.conf d1/90-z.conf d1/B.conf");

        /* A link to /dev/null masks an earlier file and is not listed itself; a later file
         * unmasks. */
        make_symlink(d2, "20-b.conf.tmp", "/dev/null");
        {
                _cleanup_(freep) char *from = scratch_path(d2, "20-b.conf.tmp"),
                                      *to = scratch_path(d2, "20-b.conf");

                CHECK(rename(from, to) == 0);
        }
        make_symlink(d3, "B.conf", "/dev/null");
        make_symlink(d2, "60-link.conf", "/dev/null");
        CHECK_DROPINS(root, dirs, "d2/05-a.conf d3/10-x.conf d3/30-c.conf d1/5.conf "
                                  "d3/60-link.conf d1/90-z.conf");
        CHECK_DROPINS(root, ((const char *const[]) { d2, NULL }), "d2/05-a.conf d2/30-c.conf");

        /* An unreadable directory is an error (root reads anything, so only as a normal user). */
        if (geteuid() != 0) {
                _cleanup_(ini_paths_freep) char **paths = NULL;
                char *error = NULL;

                CHECK(chmod(d2, 0) == 0);
                CHECK_EQ_INT(ini_dropins_list(dirs, &paths, &error), -EACCES);
                CHECK_CONTAINS(error, "/d2: Permission denied");
                free(error);
                CHECK(chmod(d2, 0755) == 0);
        }

        rm_rf(root);
}

/* At most INI_DROPINS_MAX names, counted after masking, /dev/null masks included. */
static void test_dropins_bound(void) {
        char root[] = "/tmp/test-ini-XXXXXX";
        _cleanup_(freep) char *many = NULL, *other = NULL, *masks = NULL;
        _cleanup_(ini_paths_freep) char **paths = NULL;
        char *error = NULL;
        size_t n = 0;

        scratch_new(root);
        many = make_dir(root, "many");
        other = make_dir(root, "other");
        masks = make_dir(root, "masks");

        for (unsigned i = 0; i < INI_DROPINS_MAX; i++) {
                char name[32];

                snprintf(name, sizeof(name), "%03u.conf", i);
                write_file(many, name, "");
                if (i % 2 == 0)
                        make_symlink(masks, name, "/dev/null");
        }
        write_file(other, "zzz.conf", "");

        /* The same names twice are still INI_DROPINS_MAX; masked ones are left out. */
        CHECK_EQ_INT(ini_dropins_list((const char *const[]) { many, many, masks, NULL }, &paths,
                                      &error), 0);
        for (; paths[n]; n++)
                CHECK_CONTAINS(paths[n], "/many/");
        CHECK_EQ_INT(n, INI_DROPINS_MAX / 2);
        paths = ini_paths_free(paths);

        /* One name more is too many, even if it comes first. */
        CHECK_EQ_INT(ini_dropins_list((const char *const[]) { other, many, NULL }, &paths, &error),
                     -E2BIG);
        CHECK(!paths);
        CHECK_CONTAINS(error, ": too many drop-ins (more than 256)");
        CHECK_CONTAINS(error, "/many/");
        free(error);

        rm_rf(root);
}

int main(void) {
        test_transcripts();
        test_syntax_errors();
        test_callback_errors();
        test_files();
        test_dropins();
        test_dropins_bound();
        return EXIT_SUCCESS;
}
