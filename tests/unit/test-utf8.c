/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/shared/utf8.c: valid text passes unchanged, a backslash doubles, every class
 * of invalid UTF-8 is escaped byte by byte, the escaping round-trips on random bytes, malformed
 * escapes are refused, and (against sd-bus itself) every code point is judged as sd-bus judges
 * it and every escaped string is one sd-bus accepts. */

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>

#include "tests.h"
#include "utf8.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

static void check_escape_n(const char *in, size_t n, const char *expected) {
        _cleanup_(freep) char *out = NULL, *back = NULL;
        size_t back_n;

        CHECK_EQ_INT(utf8_escape(in, n, &out), 0);
        CHECK_STREQ(out, expected);
        CHECK(utf8_is_dbus_string(out, strlen(out)));
        CHECK_EQ_INT(utf8_unescape(out, &back, &back_n), 0);
        CHECK_EQ_INT(back_n, n);
        CHECK(memcmp(back, in, n) == 0);
        CHECK_EQ_INT(back[n], '\0');
}

static void check_escape(const char *in, const char *expected) {
        check_escape_n(in, strlen(in), expected);
}

static void check_unchanged(const char *in) {
        check_escape(in, in);
        CHECK(utf8_is_dbus_string(in, strlen(in)));
}

static void test_valid_unchanged(void) {
        check_unchanged("");
        check_unchanged("/usr/bin/true");
        check_unchanged("a b\tc\nd\re\x01\x1f\x7f");   /* control characters pass */
        check_unchanged("caf\xc3\xa9");                 /* U+00E9 */
        check_unchanged("\xc2\x80");                    /* U+0080, the first 2-byte */
        check_unchanged("\xdf\xbf");                    /* U+07FF */
        check_unchanged("\xe0\xa0\x80");                /* U+0800, the first 3-byte */
        check_unchanged("\xe2\x82\xac");                /* U+20AC */
        check_unchanged("\xed\x9f\xbf");                /* U+D7FF, before the surrogates */
        check_unchanged("\xee\x80\x80");                /* U+E000, after them */
        check_unchanged("\xef\xb7\x8f");                /* U+FDCF, before the noncharacters */
        check_unchanged("\xef\xb7\xb0");                /* U+FDF0, after them */
        check_unchanged("\xef\xbf\xbd");                /* U+FFFD */
        check_unchanged("\xf0\x90\x80\x80");            /* U+10000, the first 4-byte */
        check_unchanged("\xf0\x9f\x98\x80");            /* U+1F600 */
        check_unchanged("\xf4\x8f\xbf\xbd");            /* U+10FFFD, the last allowed */
}

static void test_backslash(void) {
        check_escape("\\", "\\\\");
        check_escape("a\\b\\\\", "a\\\\b\\\\\\\\");
        check_escape("\\x41", "\\\\x41");       /* looks like an escape: must not become one */
}

static void test_invalid_escaped(void) {
        check_escape_n("\0", 1, "\\x00");
        check_escape_n("a\0b", 3, "a\\x00b");
        check_escape("\x80", "\\x80");                          /* lone continuation */
        check_escape("\xbf", "\\xbf");
        check_escape("\xc0\x80", "\\xc0\\x80");                 /* overlong NUL */
        check_escape("\xc1\xbf", "\\xc1\\xbf");                 /* overlong 2-byte */
        check_escape("\xe0\x80\x80", "\\xe0\\x80\\x80");        /* overlong 3-byte */
        check_escape("\xe0\x9f\xbf", "\\xe0\\x9f\\xbf");
        check_escape("\xf0\x80\x80\x80", "\\xf0\\x80\\x80\\x80"); /* overlong 4-byte */
        check_escape("\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf");
        check_escape("\xed\xa0\x80", "\\xed\\xa0\\x80");        /* surrogate U+D800 */
        check_escape("\xed\xbf\xbf", "\\xed\\xbf\\xbf");        /* surrogate U+DFFF */
        check_escape("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* U+110000 */
        check_escape("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");
        check_escape("\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80"); /* 5-byte form */
        check_escape("\xfe\xff", "\\xfe\\xff");
        check_escape("\xef\xb7\x90", "\\xef\\xb7\\x90");        /* U+FDD0 noncharacter */
        check_escape("\xef\xb7\xaf", "\\xef\\xb7\\xaf");        /* U+FDEF */
        check_escape("\xef\xbf\xbe", "\\xef\\xbf\\xbe");        /* U+FFFE */
        check_escape("\xef\xbf\xbf", "\\xef\\xbf\\xbf");        /* U+FFFF */
        check_escape("\xf0\x9f\xbf\xbe", "\\xf0\\x9f\\xbf\\xbe"); /* U+1FFFE */
        check_escape("\xf4\x8f\xbf\xbf", "\\xf4\\x8f\\xbf\\xbf"); /* U+10FFFF */

        /* Truncated sequences: at the end, and followed by what is not a continuation. The
         * character after is kept whole. */
        check_escape("\xe2\x82", "\\xe2\\x82");
        check_escape("\xf0\x9f\x98", "\\xf0\\x9f\\x98");
        check_escape("\xe2\x82" "A", "\\xe2\\x82" "A");
        check_escape("\xe2\xc3\xa9", "\\xe2\xc3\xa9");
        check_escape("\xc3\xc3\xa9\xa9", "\\xc3\xc3\xa9\\xa9");
        check_escape("ok/\xff\\/\xc3\xa9\n", "ok/\\xff\\\\/\xc3\xa9\n");
}

static void test_unescape_refuses(void) {
        static const char * const bad[] = { "\\", "a\\", "\\x", "\\x4", "\\xg0", "\\x0g", "\\n", "\\X41", "\\ ",
                                            "\\xFF", "\\xaF" };
        char *out = NULL;
        size_t n;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CHECK_EQ_INT(utf8_unescape(bad[i], &out, &n), -EINVAL);
                CHECK(!out);
        }
        CHECK_EQ_INT(utf8_unescape("\\xff\\x0a", &out, &n), 0);
        CHECK_EQ_INT(n, 2);
        CHECK(memcmp(out, "\xff\n", 2) == 0);
        free(out);
        CHECK_EQ_INT(utf8_unescape("", &out, NULL), 0);
        CHECK_STREQ(out, "");
        free(out);
}

/* xorshift64*: the same sequence on every run. */
static uint64_t next_random(uint64_t *state) {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        return *state * UINT64_C(0x2545f4914f6cdd1d);
}

/* Bytes that are often nearly UTF-8: lead bytes, continuations, backslashes, 'x' and digits. */
static char random_byte(uint64_t *state) {
        static const char interesting[] = { '\\', 'x', '0', 'f', '\0', '\n', '\x80', '\xbf', '\xc3', '\xe2',
                                            '\xed', '\xef', '\xf0', '\xf4', '\xff', 'a' };
        uint64_t v = next_random(state);

        return (v & 1) ? interesting[(v >> 1) % sizeof(interesting)] : (char) (v >> 8);
}

static void test_round_trip_random(void) {
        uint64_t state = UINT64_C(0x9e3779b97f4a7c15);
        char in[64];

        for (unsigned iter = 0; iter < 200000; iter++) {
                _cleanup_(freep) char *out = NULL, *back = NULL;
                size_t n = next_random(&state) % sizeof(in), back_n;

                for (size_t i = 0; i < n; i++)
                        in[i] = random_byte(&state);
                CHECK_EQ_INT(utf8_escape(in, n, &out), 0);
                CHECK(strlen(out) <= 4 * n);
                CHECK(utf8_is_dbus_string(out, strlen(out)));
                CHECK_EQ_INT(utf8_unescape(out, &back, &back_n), 0);
                CHECK_EQ_INT(back_n, n);
                CHECK(memcmp(back, in, n) == 0);
                /* Valid text without a backslash is its own escape. */
                if (utf8_is_dbus_string(in, n) && !memchr(in, '\\', n))
                        CHECK(strlen(out) == n && memcmp(out, in, n) == 0);
        }
}

/* A message that sd-bus lets strings be appended to, without a bus daemon: a bus that has been
 * started on one end of a socket pair is enough. */
static sd_bus *bus_for_messages(void) {
        sd_bus *bus = NULL;
        int fds[2];

        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) == 0);
        CHECK(sd_bus_new(&bus) >= 0);
        CHECK(sd_bus_set_fd(bus, fds[0], fds[0]) >= 0);
        CHECK(sd_bus_start(bus) >= 0);
        close(fds[1]);
        return bus;
}

static bool sd_bus_takes(sd_bus *bus, const char *s) {
        sd_bus_message *m = NULL;
        int r;

        CHECK(sd_bus_message_new_signal(bus, &m, "/a", "a.b", "C") >= 0);
        r = sd_bus_message_append(m, "s", s);
        sd_bus_message_unref(m);
        return r >= 0;
}

/* The UTF-8 form of c (surrogates too, which UTF-8 forbids: to see them refused). */
static size_t encode(uint32_t c, char *s) {
        unsigned char *u = (unsigned char *) s;

        if (c < 0x80) {
                u[0] = (unsigned char) c;
                return 1;
        }
        if (c < 0x800) {
                u[0] = (unsigned char) (0xc0 | c >> 6);
                u[1] = (unsigned char) (0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                u[0] = (unsigned char) (0xe0 | c >> 12);
                u[1] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
                u[2] = (unsigned char) (0x80 | (c & 0x3f));
                return 3;
        }
        u[0] = (unsigned char) (0xf0 | c >> 18);
        u[1] = (unsigned char) (0x80 | ((c >> 12) & 0x3f));
        u[2] = (unsigned char) (0x80 | ((c >> 6) & 0x3f));
        u[3] = (unsigned char) (0x80 | (c & 0x3f));
        return 4;
}

static void test_agrees_with_sd_bus(void) {
        sd_bus *bus = bus_for_messages();
        uint64_t state = 1;
        char s[5];

        /* Every code point, surrogates included: the same verdict as sd-bus. */
        for (uint32_t c = 1; c <= 0x10ffff; c++) {
                size_t n = encode(c, s);

                s[n] = '\0';
                if ((utf8_dbus_char_length(s, n) == n) != sd_bus_takes(bus, s)) {
                        fprintf(stderr, "U+%04X: utf8.c and sd-bus disagree\n", (unsigned) c);
                        exit(EXIT_FAILURE);
                }
        }

        /* Whatever the bytes, their escape is a string sd-bus takes. */
        for (unsigned iter = 0; iter < 20000; iter++) {
                _cleanup_(freep) char *out = NULL;
                char in[32];
                size_t n = next_random(&state) % sizeof(in);

                for (size_t i = 0; i < n; i++)
                        in[i] = random_byte(&state);
                CHECK_EQ_INT(utf8_escape(in, n, &out), 0);
                CHECK(sd_bus_takes(bus, out));
        }
        sd_bus_flush_close_unref(bus);
}

/* The text escaping for terminals: C0, DEL, C1, bidi and invalid bytes as "\xNN", byte by byte. */
static void check_controls(const char *in, const char *expected) {
        _cleanup_(freep) char *out = NULL;

        CHECK_EQ_INT(utf8_escape_controls(in, &out), 0);
        CHECK_STREQ(out, expected);
}

/* The JSON of a string object holding in, escaped, holds no raw control, and json-c reads it
 * back as in. */
static void check_json_round_trip(const char *in, int flags) {
        _cleanup_(json_object_putp) json_object *obj = json_object_new_object(), *back = NULL;
        _cleanup_(freep) char *text = NULL;
        json_object *v;

        CHECK(obj);
        json_object_object_add(obj, "s", json_object_new_string(in));
        CHECK_EQ_INT(utf8_escape_json_controls(json_object_to_json_string_ext(obj, flags), &text), 0);
        /* The layout's newlines are C0; no other control may stay raw. */
        for (size_t i = 0; text[i]; i++)
                CHECK(utf8_control_length(text + i, strlen(text + i)) == 0 || text[i] == '\n');
        back = json_tokener_parse(text);
        CHECK(back);
        CHECK(json_object_object_get_ex(back, "s", &v));
        CHECK_STREQ(json_object_get_string(v), in);
}

static void check_json(const char *in, const char *expected_string) {
        _cleanup_(json_object_putp) json_object *obj = json_object_new_string(in);
        _cleanup_(freep) char *text = NULL;

        CHECK_EQ_INT(utf8_escape_json_controls(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN), &text), 0);
        CHECK_STREQ(text, expected_string);
        check_json_round_trip(in, JSON_C_TO_STRING_PLAIN);
        check_json_round_trip(in, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
}

static void test_controls_c0_del(void) {
        char in[2] = {}, expected[8];

        for (unsigned b = 1; b < 0x20; b++) {
                in[0] = (char) b;
                snprintf(expected, sizeof(expected), "\\x%02x", b);
                check_controls(in, expected);
                CHECK_EQ_INT(utf8_control_length(in, 1), 1);
        }
        check_controls("\x7f", "\\x7f");
        check_controls("a\x1b[2Jb\x7f", "a\\x1b[2Jb\\x7f");
        check_controls("tab\there\nnewline", "tab\\x09here\\x0anewline");
        CHECK_EQ_INT(utf8_control_length("\0", 1), 1);
        CHECK_EQ_INT(utf8_control_length(" ", 1), 0);
        CHECK_EQ_INT(utf8_control_length("~", 1), 0);
}

static void test_controls_c1(void) {
        for (unsigned c = 0x80; c <= 0x9f; c++) {
                char in[3] = { (char) (0xc0 | c >> 6), (char) (0x80 | (c & 0x3f)), 0 }, expected[16], json[16];

                snprintf(expected, sizeof(expected), "\\xc2\\x%02x", c);
                check_controls(in, expected);
                CHECK_EQ_INT(utf8_control_length(in, 2), 2);
                snprintf(json, sizeof(json), "\"\\u00%02x\"", c);
                check_json(in, json);
        }
        /* The CSI sequences of the issue: erase line, move up. */
        check_controls("\xc2\x9b"
                       "2A\xc2\x9b"
                       "0J",
                       "\\xc2\\x9b2A\\xc2\\x9b0J");
        check_json("\xc2\x9b"
                   "2A\xc2\x9b"
                   "0J",
                   "\"\\u009b2A\\u009b0J\"");
        CHECK_EQ_INT(utf8_control_length("\xc2\xa0", 2), 0); /* U+00A0, after C1 */
}

static void test_controls_bidi(void) {
        static const uint32_t bidi[] = { 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069 };

        for (size_t i = 0; i < ELEMENTSOF(bidi); i++) {
                uint32_t c = bidi[i];
                char in[4] = { (char) (0xe0 | c >> 12), (char) (0x80 | (c >> 6 & 0x3f)), (char) (0x80 | (c & 0x3f)),
                               0 };
                char expected[16], json[16];

                snprintf(expected, sizeof(expected), "\\x%02x\\x%02x\\x%02x", (uint8_t) in[0], (uint8_t) in[1],
                         (uint8_t) in[2]);
                check_controls(in, expected);
                CHECK_EQ_INT(utf8_control_length(in, 3), 3);
                snprintf(json, sizeof(json), "\"\\u%04x\"", c);
                check_json(in, json);
        }
        /* Neighbours stay: U+2029, U+202F, U+2065, U+206A. */
        check_controls("\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa",
                       "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa");
}

static void test_controls_invalid(void) {
        check_controls("\x9b"
                       "2A",
                       "\\x9b2A");                         /* a lone C1 byte, as Latin-1 reads it */
        check_controls("\xc2", "\\xc2");                   /* truncated */
        check_controls("\xc0\x9b", "\\xc0\\x9b");          /* overlong */
        check_controls("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* surrogate */
        check_controls("a\xffz", "a\\xffz");
        /* JSON cannot hold them: each becomes U+FFFD, and the text still parses. */
        check_json_round_trip("ok", JSON_C_TO_STRING_PLAIN);
        {
                _cleanup_(freep) char *text = NULL;

                CHECK_EQ_INT(utf8_escape_json_controls("\"a\x9b\xc2z\"", &text), 0);
                CHECK_STREQ(text, "\"a\\ufffd\\ufffdz\"");
        }
}

static void test_controls_text_unchanged(void) {
        static const char *const texts[] = {
                "",
                "/usr/bin/true",
                "caf\xc3\xa9",                          /* é */
                "\xe4\xb8\xad\xe6\x96\x87\xe5\x90\x8d", /* CJK */
                "\xf0\x9f\x98\x80",
                "\xc2\xa0\xc2\xbf",
                "back\\\\slash \\x41 stays",
                "\xef\xbf\xbe", /* U+FFFE: shown, not a control */
        };

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                _cleanup_(json_object_putp) json_object *obj = json_object_new_string(texts[i]);

                check_controls(texts[i], texts[i]);
                check_json(texts[i], json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
        }
}

static void test_json_every_class(void) {
        /* C0 (json-c's own escapes), DEL, C1, bidi and text together, in both layouts. */
        check_json("\x01\x1b[31m\t\x7f\xc2\x80\xc2\x9b\xc2\x9f\xe2\x80\xae\xe2\x81\xa6"
                   "caf\xc3\xa9\xe4\xb8\xad",
                   "\"\\u0001\\u001b[31m\\t\\u007f\\u0080\\u009b\\u009f\\u202e\\u2066caf\xc3\xa9\xe4\xb8\xad\"");
}

/* A cut never splits a UTF-8 character or an escape of utf8_escape(). */
static void test_escaped_cut(void) {
        CHECK_EQ_INT(utf8_escaped_cut("abcdef", 6, 10), 6);
        CHECK_EQ_INT(utf8_escaped_cut("abcdef", 6, 4), 4);
        CHECK_EQ_INT(utf8_escaped_cut("ab\xc3\xa9" "cd", 6, 3), 2);
        CHECK_EQ_INT(utf8_escaped_cut("ab\xc3\xa9" "cd", 6, 4), 4);
        CHECK_EQ_INT(utf8_escaped_cut("ab\\x0acd", 8, 4), 2);
        CHECK_EQ_INT(utf8_escaped_cut("ab\\x0acd", 8, 6), 6);
        CHECK_EQ_INT(utf8_escaped_cut("ab\\\\cd", 6, 3), 2);
        CHECK_EQ_INT(utf8_escaped_cut("\xf0\x9f\x98\x80x", 5, 3), 0);
}

int main(void) {
        test_escaped_cut();
        test_valid_unchanged();
        test_backslash();
        test_invalid_escaped();
        test_unescape_refuses();
        test_round_trip_random();
        test_agrees_with_sd_bus();
        test_controls_c0_del();
        test_controls_c1();
        test_controls_bidi();
        test_controls_invalid();
        test_controls_text_unchanged();
        test_json_every_class();
        return EXIT_SUCCESS;
}
