/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Decimal numbers in the text cnd reads (configuration, /proc/net/connector, object paths):
 * digits only, no sign, no space, no base prefix. */

#include <stddef.h>
#include <stdint.h>

/* The n bytes at s as a decimal number: -EINVAL if empty or not all digits, -ERANGE if it does
 * not fit 64 bits. */
int parse_uint64_n(const char *s, size_t n, uint64_t *ret);
int parse_uint64(const char *s, uint64_t *ret);

/* The same, up to UINT32_MAX (-ERANGE above). */
int parse_uint32_n(const char *s, size_t n, uint32_t *ret);
