/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cnctl's argument parsers: ids, numbers, hex data, files and event kinds. */

#include <fcntl.h>

#include "parse.h"
#include "proc-kind.h"
#include "tests.h"
#include "util.h"

static void test_u32(void) {
        uint32_t v;

        CHECK_EQ_INT(parse_u32("0", &v), 0);
        CHECK_EQ_INT(v, 0);
        CHECK_EQ_INT(parse_u32("4294967295", &v), 0);
        CHECK_EQ_INT(v, UINT32_MAX);
        CHECK_EQ_INT(parse_u32("0x11", &v), 0);
        CHECK_EQ_INT(v, 17);
        CHECK_EQ_INT(parse_u32("-1", &v), 0);
        CHECK_EQ_INT(v, UINT32_MAX);
        CHECK_EQ_INT(parse_u32("4294967296", &v), -EINVAL);
        CHECK_EQ_INT(parse_u32("", &v), -EINVAL);
        CHECK_EQ_INT(parse_u32(" 1", &v), -EINVAL);
        CHECK_EQ_INT(parse_u32("+1", &v), -EINVAL);
        CHECK_EQ_INT(parse_u32("-2", &v), -EINVAL);
        CHECK_EQ_INT(parse_u32("1x", &v), -EINVAL);
        CHECK_EQ_INT(parse_u32("0x", &v), -EINVAL);
}

static void test_id(void) {
        uint32_t idx, val;
        bool any;

        CHECK_EQ_INT(parse_id("1:1", false, &idx, &val, &any), 0);
        CHECK(idx == 1 && val == 1 && !any);
        CHECK_EQ_INT(parse_id("0x4242:7", false, &idx, &val, NULL), 0);
        CHECK(idx == 0x4242 && val == 7);
        CHECK_EQ_INT(parse_id("-1:-1", false, &idx, &val, NULL), 0);
        CHECK(idx == UINT32_MAX && val == UINT32_MAX);
        CHECK_EQ_INT(parse_id("17", false, &idx, &val, &any), -EINVAL);
        CHECK_EQ_INT(parse_id("17", true, &idx, &val, &any), 0);
        CHECK(idx == 17 && any);
        CHECK_EQ_INT(parse_id("1:2:3", false, &idx, &val, NULL), -EINVAL);
        CHECK_EQ_INT(parse_id(":1", false, &idx, &val, NULL), -EINVAL);
        CHECK_EQ_INT(parse_id("1:", false, &idx, &val, NULL), -EINVAL);
        CHECK_EQ_INT(parse_id("a:b", true, &idx, &val, NULL), -EINVAL);
        CHECK_EQ_INT(parse_id("99999999999:1", false, &idx, &val, NULL), -EINVAL);
        CHECK_EQ_INT(parse_id("123456789012345678901234567890123:1", false, &idx, &val, NULL), -EINVAL);
}

static void test_hex(void) {
        _cleanup_(freep) uint8_t *a = NULL, *b = NULL, *c = NULL;
        uint8_t *bad = NULL;
        size_t n;

        CHECK_EQ_INT(parse_hex("01000000", &a, &n), 0);
        CHECK_EQ_INT(n, 4);
        CHECK(memcmp(a, "\1\0\0\0", 4) == 0);
        CHECK_EQ_INT(parse_hex("De:aD be EF", &b, &n), 0);
        CHECK_EQ_INT(n, 4);
        CHECK(memcmp(b, "\xde\xad\xbe\xef", 4) == 0);
        CHECK_EQ_INT(parse_hex("", &c, &n), 0);
        CHECK_EQ_INT(n, 0);
        CHECK_EQ_INT(parse_hex("123", &bad, &n), -EINVAL);
        CHECK_EQ_INT(parse_hex("zz", &bad, &n), -EINVAL);
        CHECK_EQ_INT(parse_hex("0x01", &bad, &n), -EINVAL);
        CHECK_EQ_INT(parse_hex("1 2", &bad, &n), -EINVAL);
        CHECK(bad == NULL);
}

static void test_data_file(void) {
        char path[] = "/tmp/test-cnctl-parse-XXXXXX";
        _cleanup_(freep) uint8_t *d = NULL;
        uint8_t *none = NULL;
        size_t n;
        int fd = mkstemp(path);

        CHECK(fd >= 0);
        CHECK(write(fd, "\0\1\2\3abc", 7) == 7);
        close(fd);
        CHECK_EQ_INT(parse_data("0102", 8, &d, &n), 0);
        CHECK_EQ_INT(n, 2);
        free(TAKE_PTR(d));
        {
                char arg[64];

                snprintf(arg, sizeof(arg), "@%s", path);
                CHECK_EQ_INT(parse_data(arg, 8, &d, &n), 0);
                CHECK_EQ_INT(n, 7);
                CHECK(memcmp(d, "\0\1\2\3abc", 7) == 0);
                CHECK_EQ_INT(parse_data(arg, 6, &none, &n), -EFBIG);
                CHECK_EQ_INT(parse_data(arg, 7, &none, &n), 0);
                free(none);
        }
        unlink(path);
        CHECK_EQ_INT(parse_data("@/nonexistent/cnctl", 8, &none, &n), -ENOENT);
}

static void test_kinds(void) {
        const char *bad = NULL;
        size_t bad_len = 0;
        uint32_t k;

        CHECK_EQ_INT(parse_kinds("fork", &k, &bad, &bad_len), 0);
        CHECK_EQ_INT(k, 1U << PROC_KIND_FORK);
        CHECK_EQ_INT(parse_kinds("exec,exit,comm", &k, &bad, &bad_len), 0);
        CHECK_EQ_INT(k, (1U << PROC_KIND_EXEC) | (1U << PROC_KIND_EXIT) | (1U << PROC_KIND_COMM));
        CHECK_EQ_INT(parse_kinds("fork,bogus,exit", &k, &bad, &bad_len), -EINVAL);
        CHECK(bad_len == 5 && strncmp(bad, "bogus", 5) == 0);
        CHECK_EQ_INT(parse_kinds("", &k, &bad, &bad_len), -EINVAL);
        CHECK_EQ_INT(parse_kinds("fork,,exit", &k, &bad, &bad_len), -EINVAL);
        CHECK_EQ_INT(parse_kinds("Fork", &k, &bad, &bad_len), -EINVAL);
}

int main(void) {
        test_u32();
        test_id();
        test_hex();
        test_data_file();
        test_kinds();
        return 0;
}
