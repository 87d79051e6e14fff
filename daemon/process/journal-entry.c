/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Journal entries of bounded size: see journal-entry.h. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal-entry.h"
#include "utf8.h"

void journal_builder_init(JournalBuilder *b) {
        b->used = 0;
        b->n_fields = 0;
        b->truncated[0] = 0;
}

void journal_builder_mark_truncated(JournalBuilder *b, const char *key) {
        size_t have = strlen(b->truncated), n = strlen(key);

        if (journal_builder_truncated(b, key) || have + n + 2 > sizeof(b->truncated))
                return;
        if (have > 0)
                b->truncated[have++] = ' ';
        memcpy(b->truncated + have, key, n + 1);
}

bool journal_builder_truncated(const JournalBuilder *b, const char *key) {
        size_t n = strlen(key);

        for (const char *p = b->truncated; (p = strstr(p, key)); p += n)
                if ((p == b->truncated || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
                        return true;
        return false;
}

/* Appends KEY=value of exactly length bytes, within limit bytes of data in all. */
static int append(JournalBuilder *b, const char *key, const char *value, size_t length, size_t limit) {
        size_t k = strlen(key), need = k + 1 + length;

        if (b->n_fields >= ELEMENTSOF(b->offset) - 1 || b->used + need > limit)
                return -ENOSPC;
        b->offset[b->n_fields] = b->used;
        b->length[b->n_fields] = need;
        memcpy(b->data + b->used, key, k);
        b->data[b->used + k] = '=';
        memcpy(b->data + b->used + k + 1, value, length);
        b->used += need;
        b->n_fields++;
        return 0;
}

int journal_builder_add(JournalBuilder *b, const char *key, const char *value) {
        size_t length = strlen(value), cut = utf8_escaped_cut(value, length, JOURNAL_VALUE_MAX);

        if (append(b, key, value, cut, JOURNAL_ENTRY_MAX) < 0) {
                journal_builder_mark_truncated(b, key);
                return -ENOSPC;
        }
        if (cut == length)
                return 0;
        journal_builder_mark_truncated(b, key);
        return 1;
}

int journal_builder_addf(JournalBuilder *b, const char *key, const char *format, ...) {
        char value[256];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(value, sizeof(value), format, ap);
        va_end(ap);
        return journal_builder_add(b, key, value);
}

JournalEntry *journal_builder_finish(JournalBuilder *b) {
        JournalEntry *e;
        char *data;

        /* In the room kept for it: the names in it are at most that long. */
        if (b->truncated[0])
                (void) append(b, "CND_TRUNCATED", b->truncated, strlen(b->truncated), sizeof(b->data));
        e = malloc(sizeof(JournalEntry) + b->n_fields * sizeof(struct iovec) + b->used);
        if (!e)
                return NULL;
        *e = (JournalEntry) {
                .size = b->used,
                .n_fields = b->n_fields,
                .fields = (struct iovec *) (e + 1),
        };
        data = (char *) (e->fields + b->n_fields);
        memcpy(data, b->data, b->used);
        for (size_t i = 0; i < b->n_fields; i++)
                e->fields[i] = (struct iovec) { data + b->offset[i], b->length[i] };
        return e;
}

const char *journal_entry_field(const JournalEntry *e, const char *key, size_t nth, size_t *ret_length) {
        size_t k = strlen(key);

        for (size_t i = 0; i < e->n_fields; i++) {
                const char *f = e->fields[i].iov_base;
                size_t n = e->fields[i].iov_len;

                if (n > k && memcmp(f, key, k) == 0 && f[k] == '=' && nth-- == 0) {
                        *ret_length = n - k - 1;
                        return f + k + 1;
                }
        }
        return NULL;
}

size_t journal_entry_count(const JournalEntry *e, const char *key) {
        size_t n = 0, length;

        while (journal_entry_field(e, key, n, &length))
                n++;
        return n;
}
