/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "process-table.h"

/* Small enough for a quiet machine, and a power of two as the probing needs. */
#define MIN_SLOTS ((size_t) 64)

ProcessEntry *process_entry_new(pid_t pid, uint64_t start_time) {
        ProcessEntry *e = calloc(1, sizeof(ProcessEntry));

        if (!e)
                return NULL;
        e->pid = pid;
        e->start_time = start_time;
        e->ppid = -1;
        e->uid = (uid_t) -1;
        return e;
}

ProcessEntry *process_entry_free(ProcessEntry *e) {
        if (!e)
                return NULL;
        process_strings_unref(e->strings);
        return mfree(e);
}

void process_entry_set_strings(ProcessEntry *e, ProcessStrings *s) {
        process_strings_unref(e->strings);
        e->strings = s;
        e->exe = s ? s->exe : NULL;
        e->argv = s ? s->argv : NULL;
        e->unit = s ? s->unit : NULL;
        e->cgroup = s ? s->cgroup : NULL;
        e->where.user_unit = s ? s->user_unit : NULL;
        e->where.machine = s ? s->machine : NULL;
        e->where.container = s ? s->container : NULL;
}

size_t process_where_heap_size(const ProcessWhere *w) {
        return string_heap_size(w->user_unit) + string_heap_size(w->machine) + string_heap_size(w->container);
}

void process_table_init(ProcessTable *t, size_t max_entries) {
        *t = (ProcessTable) { .max_entries = MAX(max_entries, (size_t) 1) };
}

void process_table_done(ProcessTable *t) {
        for (size_t i = 0; i < t->n_slots; i++)
                process_entry_free(t->slots[i]);
        free(t->slots);
        *t = (ProcessTable) { .max_entries = t->max_entries, .n_refused = t->n_refused };
}

/* Fibonacci hashing: the top bits of pid times 2^64/phi, which spreads consecutive pids (the
 * usual case) over the whole table. */
static size_t home_slot(pid_t pid, size_t n_slots) {
        unsigned bits = (unsigned) __builtin_ctzl(n_slots);
        uint64_t h = (uint64_t) (uint32_t) pid * UINT64_C(0x9e3779b97f4a7c15);

        return bits == 0 ? 0 : (size_t) (h >> (64 - bits));
}

/* The slot holding pid, or the free slot where it would go. */
static size_t probe(ProcessEntry * const *slots, size_t n_slots, pid_t pid) {
        size_t i = home_slot(pid, n_slots);

        while (slots[i] && slots[i]->pid != pid)
                i = (i + 1) & (n_slots - 1);
        return i;
}

static int resize(ProcessTable *t, size_t n_slots) {
        ProcessEntry **slots = calloc(n_slots, sizeof(ProcessEntry *));

        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_slots; i++)
                if (t->slots[i])
                        slots[probe(slots, n_slots, t->slots[i]->pid)] = t->slots[i];
        free(t->slots);
        t->slots = slots;
        t->n_slots = n_slots;
        return 0;
}

int process_table_put(ProcessTable *t, ProcessEntry *e, ProcessEntry **ret_old) {
        size_t i;
        int r;

        *ret_old = NULL;
        if (t->n_slots > 0) {
                i = probe(t->slots, t->n_slots, e->pid);
                if (t->slots[i]) {
                        ProcessEntry *old = t->slots[i];

                        t->slots[i] = e;
                        *ret_old = old;
                        return old->start_time == e->start_time ? PROCESS_TABLE_UPDATED : PROCESS_TABLE_REPLACED;
                }
        }

        if (t->n >= t->max_entries) {
                process_entry_free(e);
                t->n_refused++;
                return -ENOSPC;
        }
        /* At most half full: linear probing stays short. */
        if ((t->n + 1) * 2 > t->n_slots) {
                r = resize(t, MAX(t->n_slots * 2, MIN_SLOTS));
                if (r < 0) {
                        process_entry_free(e);
                        return r;
                }
        }
        t->slots[probe(t->slots, t->n_slots, e->pid)] = e;
        t->n++;
        return PROCESS_TABLE_ADDED;
}

ProcessEntry *process_table_find(const ProcessTable *t, pid_t pid) {
        if (t->n == 0)
                return NULL;
        return t->slots[probe(t->slots, t->n_slots, pid)];
}

/* Whether slot k lies cyclically in (i, j]. */
static bool in_cyclic_range(size_t k, size_t i, size_t j) {
        return i <= j ? (k > i && k <= j) : (k > i || k <= j);
}

/* Empties slot i, moving back the entries after it that could no longer be found. */
static void remove_slot(ProcessTable *t, size_t i) {
        size_t mask = t->n_slots - 1;

        t->slots[i] = NULL;
        for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
                size_t home = home_slot(t->slots[j]->pid, t->n_slots);

                if (in_cyclic_range(home, i, j))
                        continue;
                t->slots[i] = t->slots[j];
                t->slots[j] = NULL;
                i = j;
        }
}

ProcessEntry *process_table_take(ProcessTable *t, pid_t pid) {
        ProcessEntry *e;
        size_t i;

        if (t->n == 0)
                return NULL;
        i = probe(t->slots, t->n_slots, pid);
        e = t->slots[i];
        if (!e)
                return NULL;
        remove_slot(t, i);
        t->n--;

        /* Give back the memory of a burst (a fork storm) once it has passed; if that fails,
         * the larger table serves as well. */
        if (t->n_slots > MIN_SLOTS && t->n * 8 < t->n_slots)
                (void) resize(t, t->n_slots / 2);
        return e;
}

ProcessEntry *process_table_next(const ProcessTable *t, size_t *i) {
        for (; *i < t->n_slots; (*i)++)
                if (t->slots[*i])
                        return t->slots[(*i)++];
        return NULL;
}

static int entry_compare(const void *a, const void *b) {
        const ProcessEntry *x = *(ProcessEntry * const *) a, *y = *(ProcessEntry * const *) b;

        return (x->pid > y->pid) - (x->pid < y->pid);
}

int process_table_sorted(const ProcessTable *t, ProcessEntry ***ret, size_t *ret_n) {
        ProcessEntry **v = NULL, *e;
        size_t n = 0, i = 0;

        if (t->n > 0) {
                v = calloc(t->n, sizeof(ProcessEntry *));
                if (!v)
                        return -ENOMEM;
                while ((e = process_table_next(t, &i)))
                        v[n++] = e;
                qsort(v, n, sizeof(ProcessEntry *), entry_compare);
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

void process_diff_done(ProcessDiff *d) {
        free(d->gone);
        free(d->new);
        *d = (ProcessDiff) {};
}

/* The entries of the table that the sorted scan does not hold as they are. */
static int diff_gone(const ProcessTable *t, const ProcessKey *sorted, size_t n_scan, ProcessDiff *d) {
        ProcessEntry *e;
        size_t i = 0;

        d->gone = calloc(MAX(t->n, (size_t) 1), sizeof(ProcessEntry *));
        if (!d->gone)
                return -ENOMEM;
        while ((e = process_table_next(t, &i))) {
                ProcessKey key = { .pid = e->pid };
                const ProcessKey *k = n_scan > 0 ? bsearch(&key, sorted, n_scan, sizeof(ProcessKey), process_key_compare) : NULL;

                if (!k || k->start_time != e->start_time)
                        d->gone[d->n_gone++] = e;
        }
        qsort(d->gone, d->n_gone, sizeof(ProcessEntry *), entry_compare);
        return 0;
}

/* The scanned processes that the table does not hold as they are. */
static int diff_new(const ProcessTable *t, const ProcessKey *sorted, size_t n_scan, ProcessDiff *d) {
        d->new = calloc(MAX(n_scan, (size_t) 1), sizeof(ProcessKey));
        if (!d->new)
                return -ENOMEM;
        for (size_t i = 0; i < n_scan; i++) {
                const ProcessEntry *e = process_table_find(t, sorted[i].pid);

                if (!e || e->start_time != sorted[i].start_time)
                        d->new[d->n_new++] = sorted[i];
        }
        return 0;
}

int process_table_diff(const ProcessTable *t, const ProcessKey *scan, size_t n_scan, ProcessDiff *ret) {
        _cleanup_(freep) ProcessKey *sorted = NULL;
        ProcessDiff d = {};
        int r;

        if (n_scan > 0) {
                sorted = calloc(n_scan, sizeof(ProcessKey));
                if (!sorted)
                        return -ENOMEM;
                memcpy(sorted, scan, n_scan * sizeof(ProcessKey));
                qsort(sorted, n_scan, sizeof(ProcessKey), process_key_compare);
        }

        r = diff_gone(t, sorted, n_scan, &d);
        if (r >= 0)
                r = diff_new(t, sorted, n_scan, &d);
        if (r < 0) {
                process_diff_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}
