/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The arguments of cnctl's commands, from strings: pure functions, unit-tested. Each returns
 * 0 or -EINVAL (-errno for files), and never prints: the caller words the error. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A 32-bit number: decimal, or hexadecimal with 0x. "-1" is 4294967295, the way connector ids
 * such as the notification id {-1,-1} are usually written. */
int parse_u32(const char *s, uint32_t *ret);

/* "IDX:VAL". With any_val, "IDX" alone is accepted too and sets *ret_any. */
int parse_id(const char *s, bool any_val, uint32_t *ret_idx, uint32_t *ret_val, bool *ret_any);

/* Hex bytes, "01000000" or "01 00 00 00" or "01:00:00:00"; "" is no bytes. */
int parse_hex(const char *s, uint8_t **ret, size_t *ret_size);

/* The bytes of a file ("-" is standard input), at most max; -EFBIG past that. */
int read_data_file(const char *path, size_t max, uint8_t **ret, size_t *ret_size);

/* DATA as the commands take it: hex, or @FILE. */
int parse_data(const char *s, size_t max, uint8_t **ret, size_t *ret_size);

/* "fork,exec": a set of kinds as bits of ProcKind (conf.h); *ret_bad points at the first
 * unknown word. */
int parse_kinds(const char *s, uint32_t *ret, const char **ret_bad, size_t *ret_bad_len);
