/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A journal entry of bounded size, built field by field and handed to sd_journal_sendv(). Pure.
 *
 * Other users choose what goes into cnd's entries (a program's path, its arguments), and a
 * few of them per second must not fill journald's files: an entry holds at most
 * JOURNAL_ENTRY_MAX bytes of fields and JOURNAL_FIELDS_MAX fields, and one value at most
 * JOURNAL_VALUE_MAX bytes. A value longer than that is cut (never inside a UTF-8 character or
 * a "\xNN" or "\\" escape of utf8_escape()), a field that does not fit is left out, and the
 * entry's CND_TRUNCATED= names them, once each, space-separated. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "list.h"
#include "util.h"

#define JOURNAL_ENTRY_MAX (16U * 1024U)
#define JOURNAL_VALUE_MAX (4U * 1024U)
#define JOURNAL_FIELDS_MAX 320U
/* Room kept for CND_TRUNCATED=, beyond JOURNAL_ENTRY_MAX: a few field names. */
#define JOURNAL_TRUNCATED_MAX 128U

typedef struct JournalEntry JournalEntry;
struct JournalEntry {
        LIST_FIELDS(JournalEntry, queue);       /* the writer's */
        size_t size;                    /* bytes of the fields, "KEY=value" each */
        size_t n_fields;
        struct iovec *fields;           /* into the same allocation */
};

/* The entry being built: on the stack, copied to the exact size by journal_builder_finish(). */
typedef struct JournalBuilder {
        char data[JOURNAL_ENTRY_MAX + JOURNAL_TRUNCATED_MAX];
        size_t used;
        size_t n_fields;
        size_t offset[JOURNAL_FIELDS_MAX + 1], length[JOURNAL_FIELDS_MAX + 1];
        char truncated[JOURNAL_TRUNCATED_MAX];  /* the names for CND_TRUNCATED=, NUL-terminated */
} JournalBuilder;

void journal_builder_init(JournalBuilder *b);

/* Adds KEY=value, value cut to JOURNAL_VALUE_MAX bytes. Returns 0 if it went in whole, 1 if
 * cut, -ENOSPC if the entry had no room left for it (cut or left out, it is named in
 * CND_TRUNCATED=). */
int journal_builder_add(JournalBuilder *b, const char *key, const char *value);
int journal_builder_addf(JournalBuilder *b, const char *key, const char *format, ...) _printf_(3, 4);

/* Names key in CND_TRUNCATED=, once: for a field left out by the caller. */
void journal_builder_mark_truncated(JournalBuilder *b, const char *key);

/* Whether the field of that name was cut or left out. */
bool journal_builder_truncated(const JournalBuilder *b, const char *key);

/* The entry, with CND_TRUNCATED= if anything was cut, in one allocation (free() it). NULL on
 * allocation failure. */
JournalEntry *journal_builder_finish(JournalBuilder *b);

/* The value of the field key in e (not NUL-terminated: *ret_length bytes), or NULL. nth picks
 * among repeated fields, from 0. */
const char *journal_entry_field(const JournalEntry *e, const char *key, size_t nth, size_t *ret_length);
/* How many fields of that name e holds. */
size_t journal_entry_count(const JournalEntry *e, const char *key);

