/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Every fuzz target defines this: libFuzzer's entry point. Built with -Dfuzz=true (clang), the
 * targets are libFuzzer fuzzers; otherwise fuzz-main.c runs them over their corpus and
 * regression files as ordinary tests. */

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
