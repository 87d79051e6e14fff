/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Arbitrary bytes (file names, arguments, cgroup paths) as D-Bus strings, reversibly. Pure.
 *
 * A D-Bus string is UTF-8 without NUL, and sd-bus refuses more than that: it also rejects the
 * Unicode noncharacters (U+FDD0..U+FDEF and every U+xxFFFE, U+xxFFFF), which a file name may
 * well hold. utf8_escape() maps any bytes to a string sd-bus, dbus-daemon and dbus-broker all
 * accept:
 *
 *   - a backslash becomes two backslashes, "\\";
 *   - every byte that is not part of a character a D-Bus string may hold becomes "\xNN", two
 *     lower-case hex digits: NUL, bytes of invalid, truncated or overlong sequences, encoded
 *     surrogates, anything above U+10FFFF, and the bytes of the noncharacters above;
 *   - everything else, control characters such as newline and tab included, is copied as it is.
 *
 * Every backslash of the output starts "\\" or "\xNN", so the escaping is unambiguous and
 * utf8_unescape() restores the original bytes exactly. Text that is valid and holds no
 * backslash comes out unchanged. The output is at most four times the input. */

#include <stdbool.h>
#include <stddef.h>

/* The length of the character at s (n bytes available) if it is one a D-Bus string may hold
 * (U+0001..U+10FFFF in shortest form, no surrogate, no noncharacter), else 0. */
size_t utf8_dbus_char_length(const char *s, size_t n);

/* Whether the n bytes at s, as they are, form a valid D-Bus string. */
bool utf8_is_dbus_string(const char *s, size_t n);

/* Escapes size bytes at data as above into a new NUL-terminated string. 0 or -ENOMEM. */
int utf8_escape(const void *data, size_t size, char **ret);

/* Reverses utf8_escape(): the original bytes in a new buffer, with a NUL after them (not
 * counted in *ret_size) so that text can be used as a string. -EINVAL if s holds a backslash
 * not followed by "\" or by "x" and two lower-case hex digits, -ENOMEM. */
int utf8_unescape(const char *s, char **ret, size_t *ret_size);

/* Text from other users shown to a person: what would drive a terminal instead of being shown.
 * The C0 controls (U+0000..U+001F), DEL (U+007F), the C1 controls (U+0080..U+009F, which VTE,
 * screen and mosh act on when UTF-8 encoded: CSI, OSC) and the bidi controls that reorder what
 * follows (U+202A..U+202E, U+2066..U+2069). Returns the length of such a character at s (n bytes
 * available), else 0. */
size_t utf8_control_length(const char *s, size_t n);

/* s with every byte of a control character above, and every byte that is not valid UTF-8,
 * written "\xNN"; everything else (backslashes too: cnd's strings are already escaped,
 * utf8_escape()) as it is. For terminals and log lines. 0 or -ENOMEM. */
int utf8_escape_controls(const char *s, char **ret);

/* JSON text as json-c writes it, with DEL, the C1 and the bidi controls inside its strings
 * written "\u007f", "\u009b", "\u202e": json-c escapes only C0, and C0 outside a string is
 * the layout. Bytes that are not valid UTF-8 become "\ufffd". The result decodes to the same
 * values. 0 or -ENOMEM. */
int utf8_escape_json_controls(const char *json, char **ret);

/* The length of value's longest prefix of at most max bytes that cuts no UTF-8 character and
 * no escape of utf8_escape(): where a string utf8_escape() made may be cut. */
size_t utf8_escaped_cut(const char *value, size_t length, size_t max);
