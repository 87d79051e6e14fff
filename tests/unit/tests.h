/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Minimal checks for the unit tests: a failed check prints where and why and exits 1. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(expr)                                                                     \
        do {                                                                            \
                if (!(expr)) {                                                          \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        exit(EXIT_FAILURE);                                             \
                }                                                                       \
        } while (0)

#define CHECK_EQ_INT(a, b)                                                              \
        do {                                                                            \
                long long _a_ = (long long) (a), _b_ = (long long) (b);                 \
                if (_a_ != _b_) {                                                       \
                        fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",     \
                                __FILE__, __LINE__, #a, _a_, #b, _b_);                  \
                        exit(EXIT_FAILURE);                                             \
                }                                                                       \
        } while (0)

#define CHECK_STREQ(a, b)                                                               \
        do {                                                                            \
                const char *_a_ = (a), *_b_ = (b);                                      \
                if (!_a_ || !_b_ || strcmp(_a_, _b_) != 0) {                            \
                        fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n",        \
                                __FILE__, __LINE__, #a, _a_ ?: "(null)", _b_ ?: "(null)"); \
                        exit(EXIT_FAILURE);                                             \
                }                                                                       \
        } while (0)

/* Substring check, for error messages that must name file:line and the problem. */
#define CHECK_CONTAINS(haystack, needle)                                                \
        do {                                                                            \
                const char *_h_ = (haystack), *_n_ = (needle);                          \
                if (!_h_ || !strstr(_h_, _n_)) {                                        \
                        fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n",       \
                                __FILE__, __LINE__, _h_ ?: "(null)", _n_);              \
                        exit(EXIT_FAILURE);                                             \
                }                                                                       \
        } while (0)
