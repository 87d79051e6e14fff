/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How cnctl prints: JSON through json-c, tables with a legend, notes, hex dumps and the pager.
 * Nothing here talks to the bus. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "util.h"

typedef enum JsonMode {
        JSON_OFF,
        JSON_SHORT,     /* one object per line: what scripts and streams want */
        JSON_PRETTY,
} JsonMode;

typedef struct Output {
        JsonMode json;
        bool legend;            /* column headers and footers; --no-legend clears it */
        bool quiet;             /* -q: no notes or hints, nothing on success */
        bool pager;             /* --no-pager clears it */
        pid_t pager_pid;        /* the running pager, 0 if none */
} Output;

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

int json_mode_from_string(const char *s, JsonMode *ret);

/* Prints v as one line (short) or indented (pretty) and flushes at once, so that a stream's
 * reader sees every object as it happens. Returns -errno if stdout failed. */
int output_json(const Output *o, json_object *v);

/* A note on stderr, unless -q: something the reader should know that is not an error. */
void output_note(const Output *o, const char *format, ...) _printf_(2, 3);

/* One-line error on stderr; returns -1 for `return log_fail(...)` in verbs. */
int log_fail(const char *format, ...) _printf_(1, 2);

/* "ReceivedMessages" -> "received_messages": D-Bus member names as JSON keys. */
char *snake_case(const char *name);

/* Lower-case hex of bytes, NUL-terminated; NULL on OOM. */
char *hex_encode(const void *data, size_t size);

/* At most max bytes as "61 62 63  abc", with "..." when cut: monitor's short dump. */
void print_short_dump(FILE *f, const uint8_t *data, size_t size, size_t max);

/* hexdump -C style, for a request's reply. */
void print_hexdump(FILE *f, const uint8_t *data, size_t size);

/* "12:34:56.789012", local time; for streams. */
void format_clock(char buf[static 32], uint64_t realtime_usec);

/* A table of strings printed with aligned columns. Headers and the footer form the legend. */
typedef struct Table Table;

Table *table_new(size_t n_columns, const char *const *headers);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);
/* Right-aligns a column (numbers). */
void table_align_right(Table *t, size_t column);
/* Appends one cell; rows fill left to right. */
int table_add(Table *t, const char *cell);
/* The same for text from others (an id's name): control characters escaped. */
int table_add_escaped(Table *t, const char *cell);
int table_addf(Table *t, const char *format, ...) _printf_(2, 3);
size_t table_rows(const Table *t);
void table_print(const Table *t, FILE *f, bool legend);

/* Pipes stdout into $PAGER (or less) when it is a terminal, as systemd's tools do; a no-op
 * for --no-pager, JSON and pipes. pager_close() flushes and waits for it. */
void pager_open(Output *o);
void pager_close(Output *o);
