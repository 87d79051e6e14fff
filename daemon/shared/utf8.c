/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

static const char hex_digits[] = "0123456789abcdef";

/* What sd-bus's unichar_is_valid() accepts; dbus-daemon and dbus-broker accept at least this. */
static bool codepoint_allowed(uint32_t c) {
        if (c == 0 || c > 0x10ffff)
                return false;
        if (c >= 0xd800 && c <= 0xdfff)                 /* UTF-16 surrogates */
                return false;
        if (c >= 0xfdd0 && c <= 0xfdef)                 /* noncharacters */
                return false;
        if ((c & 0xfffe) == 0xfffe)                     /* U+xxFFFE, U+xxFFFF */
                return false;
        return true;
}

/* Decodes the character at s (n bytes available): its length, with the code point in *ret, if it
 * is valid UTF-8 (shortest form, no surrogate, at most U+10FFFF), else 0. NUL is a character. */
static size_t utf8_decode(const char *s, size_t n, uint32_t *ret) {
        const unsigned char *p = (const unsigned char *) s;
        static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
        uint32_t c;
        size_t len;

        if (n == 0)
                return 0;
        if (p[0] < 0x80) {
                *ret = p[0];
                return 1;
        }
        if ((p[0] & 0xe0) == 0xc0)
                len = 2, c = p[0] & 0x1f;
        else if ((p[0] & 0xf0) == 0xe0)
                len = 3, c = p[0] & 0x0f;
        else if ((p[0] & 0xf8) == 0xf0)
                len = 4, c = p[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = (c << 6) | (p[i] & 0x3f);
        }
        if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) /* overlong forms are not UTF-8 */
                return 0;
        *ret = c;
        return len;
}

size_t utf8_dbus_char_length(const char *s, size_t n) {
        uint32_t c;
        size_t len = utf8_decode(s, n, &c);

        return len > 0 && codepoint_allowed(c) ? len : 0;
}

static bool codepoint_is_control(uint32_t c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

size_t utf8_control_length(const char *s, size_t n) {
        uint32_t c;
        size_t len = utf8_decode(s, n, &c);

        return len > 0 && codepoint_is_control(c) ? len : 0;
}

bool utf8_is_dbus_string(const char *s, size_t n) {
        for (size_t i = 0; i < n;) {
                size_t k = utf8_dbus_char_length(s + i, n - i);

                if (k == 0)
                        return false;
                i += k;
        }
        return true;
}

int utf8_escape(const void *data, size_t size, char **ret) {
        const char *s = data;
        char *buf, *o;

        /* Four output bytes per input byte at most ("\xNN"). */
        if (size > (SIZE_MAX - 1) / 4)
                return -ENOMEM;
        buf = malloc(size * 4 + 1);
        if (!buf)
                return -ENOMEM;

        o = buf;
        for (size_t i = 0; i < size;) {
                size_t k = utf8_dbus_char_length(s + i, size - i);

                if (k == 0) {
                        unsigned char b = (unsigned char) s[i++];

                        *o++ = '\\';
                        *o++ = 'x';
                        *o++ = hex_digits[b >> 4];
                        *o++ = hex_digits[b & 0xf];
                } else if (s[i] == '\\') {
                        *o++ = '\\';
                        *o++ = '\\';
                        i++;
                } else {
                        memcpy(o, s + i, k);
                        o += k;
                        i += k;
                }
        }
        *o = '\0';

        /* Most text needs no escape: give back what the copy did not use. */
        *ret = realloc(buf, (size_t) (o - buf) + 1) ?: buf;
        return 0;
}

/* The value of a lower-case hex digit, as utf8_escape() writes them, or -1. */
static int hex_value(char c) {
        const char *p = c ? strchr(hex_digits, c) : NULL;

        return p ? (int) (p - hex_digits) : -1;
}

int utf8_unescape(const char *s, char **ret, size_t *ret_size) {
        size_t n = strlen(s);
        char *buf, *o;

        /* Unescaping never grows the text. */
        buf = malloc(n + 1);
        if (!buf)
                return -ENOMEM;

        o = buf;
        for (size_t i = 0; i < n;) {
                int hi, lo;

                if (s[i] != '\\') {
                        *o++ = s[i++];
                        continue;
                }
                if (s[i + 1] == '\\') {
                        *o++ = '\\';
                        i += 2;
                        continue;
                }
                /* Each test stops at the terminating NUL, so nothing past it is read. */
                hi = s[i + 1] == 'x' ? hex_value(s[i + 2]) : -1;
                lo = hi >= 0 ? hex_value(s[i + 3]) : -1;
                if (lo < 0) {
                        free(buf);
                        return -EINVAL;
                }
                *o++ = (char) (hi << 4 | lo);
                i += 4;
        }
        *o = '\0';
        *ret = buf;
        if (ret_size)
                *ret_size = (size_t) (o - buf);
        return 0;
}

static char *append_hex_byte(char *o, const char *prefix, unsigned char b) {
        size_t n = strlen(prefix);

        memcpy(o, prefix, n);
        o += n;
        *o++ = hex_digits[b >> 4];
        *o++ = hex_digits[b & 0xf];
        return o;
}

int utf8_escape_controls(const char *s, char **ret) {
        size_t size = strlen(s);
        char *buf, *o;

        if (size > (SIZE_MAX - 1) / 4)
                return -ENOMEM;
        buf = malloc(size * 4 + 1);
        if (!buf)
                return -ENOMEM;

        o = buf;
        for (size_t i = 0; i < size;) {
                uint32_t c;
                size_t k = utf8_decode(s + i, size - i, &c);

                if (k == 0 || codepoint_is_control(c)) {
                        /* Each byte of it: an invalid byte alone, or a whole control character. */
                        for (size_t e = i + (k ?: 1); i < e; i++)
                                o = append_hex_byte(o, "\\x", (unsigned char) s[i]);
                        continue;
                }
                memcpy(o, s + i, k);
                o += k;
                i += k;
        }
        *o = '\0';
        *ret = realloc(buf, (size_t) (o - buf) + 1) ?: buf;
        return 0;
}

int utf8_escape_json_controls(const char *json, char **ret) {
        size_t size = strlen(json);
        char *buf, *o;

        /* Six output bytes per input byte at most ("\u00NN" for one). */
        if (size > (SIZE_MAX - 1) / 6)
                return -ENOMEM;
        buf = malloc(size * 6 + 1);
        if (!buf)
                return -ENOMEM;

        o = buf;
        for (size_t i = 0; i < size;) {
                uint32_t c;
                size_t k = utf8_decode(json + i, size - i, &c);

                if (k == 0) {
                        memcpy(o, "\\ufffd", 6);
                        o += 6;
                        i++;
                } else if (c >= 0x7f && codepoint_is_control(c)) {
                        o = append_hex_byte(o, "\\u", (unsigned char) (c >> 8));
                        o = append_hex_byte(o, "", (unsigned char) (c & 0xff));
                        i += k;
                } else {
                        memcpy(o, json + i, k);
                        o += k;
                        i += k;
                }
        }
        *o = '\0';
        *ret = realloc(buf, (size_t) (o - buf) + 1) ?: buf;
        return 0;
}

/* The bytes the unit at s takes: an escape of utf8_escape() ("\\", "\xNN") or a UTF-8
 * character by its lead byte. Cutting between units keeps both whole. */
static size_t unit_length(const char *s, size_t left) {
        unsigned char c = (unsigned char) s[0];
        size_t n = 1;

        if (c == '\\')
                n = left > 1 && s[1] == 'x' ? 4 : 2;
        else if (c >= 0xf0)
                n = 4;
        else if (c >= 0xe0)
                n = 3;
        else if (c >= 0xc0)
                n = 2;
        return MIN(n, left);
}

size_t utf8_escaped_cut(const char *value, size_t length, size_t max) {
        size_t i = 0;

        if (length <= max)
                return length;
        for (;;) {
                size_t n = unit_length(value + i, length - i);

                if (i + n > max)
                        return i;
                i += n;
        }
}
