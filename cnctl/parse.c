/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <fcntl.h>

#include "parse.h"
#include "proc-kind.h"
#include "util.h"

int parse_u32(const char *s, uint32_t *ret) {
        unsigned long long v;
        char *end;

        if (streq(s, "-1")) {
                *ret = UINT32_MAX;
                return 0;
        }
        /* strtoull takes a sign and white space; a number here has neither. */
        if (!isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
        if (errno != 0 || *end != '\0' || end == s || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

int parse_id(const char *s, bool any_val, uint32_t *ret_idx, uint32_t *ret_val, bool *ret_any) {
        const char *colon = strchr(s, ':');
        uint32_t idx, val = 0;
        char buf[32];
        int r;

        if (!colon) {
                if (!any_val)
                        return -EINVAL;
                r = parse_u32(s, &idx);
                if (r < 0)
                        return r;
        } else {
                if ((size_t) (colon - s) >= sizeof(buf))
                        return -EINVAL;
                memcpy(buf, s, (size_t) (colon - s));
                buf[colon - s] = '\0';
                r = parse_u32(buf, &idx);
                if (r < 0)
                        return r;
                r = parse_u32(colon + 1, &val);
                if (r < 0)
                        return r;
        }
        *ret_idx = idx;
        *ret_val = val;
        if (ret_any)
                *ret_any = !colon;
        return 0;
}

static int hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int parse_hex(const char *s, uint8_t **ret, size_t *ret_size) {
        size_t n = 0;
        uint8_t *b = malloc(strlen(s) / 2 + 1);

        if (!b)
                return -ENOMEM;
        while (*s) {
                int hi, lo;

                if (*s == ' ' || *s == ':' || *s == '\t' || *s == '\n') {
                        s++;
                        continue;
                }
                /* Bytes are pairs of digits: "123" is a mistake, not 0x01 0x23. */
                hi = hex_digit(s[0]);
                lo = hi < 0 ? -1 : hex_digit(s[1]);
                if (lo < 0) {
                        free(b);
                        return -EINVAL;
                }
                b[n++] = (uint8_t) (hi << 4 | lo);
                s += 2;
        }
        *ret = b;
        *ret_size = n;
        return 0;
}

int read_data_file(const char *path, size_t max, uint8_t **ret, size_t *ret_size) {
        _cleanup_(closep) int fd = -1;
        _cleanup_(freep) uint8_t *b = NULL;
        size_t n = 0;

        fd = streq(path, "-") ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        b = malloc(max + 1);
        if (!b)
                return -ENOMEM;
        /* One byte more than allowed tells a file that is too long from one that fits. */
        while (n <= max) {
                ssize_t k = read(fd, b + n, max + 1 - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (n > max)
                return -EFBIG;
        *ret = TAKE_PTR(b);
        *ret_size = n;
        return 0;
}

int parse_data(const char *s, size_t max, uint8_t **ret, size_t *ret_size) {
        if (s[0] == '@')
                return read_data_file(s + 1, max, ret, ret_size);
        return parse_hex(s, ret, ret_size);
}

int parse_kinds(const char *s, uint32_t *ret, const char **ret_bad, size_t *ret_bad_len) {
        uint32_t kinds = 0;

        while (*s) {
                size_t n = strcspn(s, ",");
                char word[32];
                int k = -1;

                if (n > 0 && n < sizeof(word)) {
                        memcpy(word, s, n);
                        word[n] = '\0';
                        k = proc_kind_from_string(word);
                }
                if (k < 0) {
                        *ret_bad = s;
                        *ret_bad_len = n;
                        return -EINVAL;
                }
                kinds |= UINT32_C(1) << k;
                s += n;
                if (*s == ',')
                        s++;
        }
        if (kinds == 0) {
                *ret_bad = s;
                *ret_bad_len = 0;
                return -EINVAL;
        }
        *ret = kinds;
        return 0;
}
