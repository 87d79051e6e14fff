/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idtable.h"
#include "parse-util.h"
#include "util.h"

static int id_compare(uint32_t idx_a, uint32_t val_a, uint32_t idx_b, uint32_t val_b) {
        if (idx_a != idx_b)
                return idx_a < idx_b ? -1 : 1;
        if (val_a != val_b)
                return val_a < val_b ? -1 : 1;
        return 0;
}

void cn_id_format_path(char path[static CN_ID_PATH_MAX], uint32_t idx, uint32_t val) {
        snprintf(path, CN_ID_PATH_MAX, CND_ID_PATH_PREFIX "/%" PRIu32 "/%" PRIu32, idx, val);
}

/* Canonical decimal only ("0", "17", no sign, no leading zero), so that every id has exactly
 * one path. */
static const char *parse_u32_component(const char *s, uint32_t *ret) {
        size_t n = strspn(s, "0123456789");

        if (n > 1 && s[0] == '0')
                return NULL;
        if (parse_uint32_n(s, n, ret) < 0)
                return NULL;
        return s + n;
}

int cn_id_parse_path(const char *path, uint32_t *idx, uint32_t *val) {
        const char *p;

        if (strncmp(path, CND_ID_PATH_PREFIX "/", strlen(CND_ID_PATH_PREFIX "/")) != 0)
                return -EINVAL;
        p = parse_u32_component(path + strlen(CND_ID_PATH_PREFIX "/"), idx);
        if (!p || *p != '/')
                return -EINVAL;
        p = parse_u32_component(p + 1, val);
        if (!p || *p != '\0')
                return -EINVAL;
        return 0;
}

void idtable_init(IdTable *t, unsigned max_unregistered, const IdTableEvents *events, void *userdata) {
        *t = (IdTable) {
                .max_unregistered = MAX(max_unregistered, 1U),
                .events = events,
                .userdata = userdata,
        };
}

void idtable_done(IdTable *t) {
        for (size_t i = 0; i < t->n; i++)
                free(t->ids[i]);
        free(t->ids);
        t->ids = NULL;
        t->n = t->allocated = t->n_unregistered = 0;
        t->last = NULL;
}

/* Index of the first entry >= (idx, val). */
static size_t lower_bound(const IdTable *t, uint32_t idx, uint32_t val) {
        size_t lo = 0, hi = t->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (id_compare(t->ids[mid]->idx, t->ids[mid]->val, idx, val) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

CnId *idtable_find(IdTable *t, uint32_t idx, uint32_t val) {
        size_t i;

        if (t->last && t->last->idx == idx && t->last->val == val)
                return t->last;

        i = lower_bound(t, idx, val);
        if (i < t->n && t->ids[i]->idx == idx && t->ids[i]->val == val)
                return (t->last = t->ids[i]);
        return NULL;
}

static CnId *cn_id_new(uint32_t idx, uint32_t val, const char *name, bool registered) {
        CnId *id = calloc(1, sizeof(CnId));

        if (!id)
                return NULL;
        id->idx = idx;
        id->val = val;
        id->registered = registered;
        snprintf(id->name, sizeof(id->name), "%s", name);
        cn_id_format_path(id->path, idx, val);
        return id;
}

static int insert_at(IdTable *t, size_t i, CnId *id) {
        if (t->n == t->allocated) {
                size_t na = MAX(t->allocated * 2, (size_t) 16);
                CnId **a = reallocarray(t->ids, na, sizeof(CnId *));

                if (!a)
                        return -ENOMEM;
                t->ids = a;
                t->allocated = na;
        }
        memmove(t->ids + i + 1, t->ids + i, (t->n - i) * sizeof(CnId *));
        t->ids[i] = id;
        t->n++;
        if (!id->registered)
                t->n_unregistered++;
        if (t->events && t->events->created)
                t->events->created(id, t->userdata);
        return 0;
}

static void remove_at(IdTable *t, size_t i) {
        CnId *id = t->ids[i];

        if (t->events && t->events->destroyed)
                t->events->destroyed(id, t->userdata);
        if (!id->registered)
                t->n_unregistered--;
        if (t->last == id)
                t->last = NULL;
        memmove(t->ids + i, t->ids + i + 1, (t->n - i - 1) * sizeof(CnId *));
        t->n--;
        free(id);
}

/* Drops the least recently active unregistered entry. Linear, but only runs when the bound is
 * reached, i.e. while someone sends from ever new ids. */
static void evict_one_unregistered(IdTable *t) {
        size_t victim = SIZE_MAX;

        for (size_t i = 0; i < t->n; i++)
                if (!t->ids[i]->registered &&
                    (victim == SIZE_MAX || t->ids[i]->last_active < t->ids[victim]->last_active))
                        victim = i;
        if (victim != SIZE_MAX)
                remove_at(t, victim);
}

static void enforce_bound(IdTable *t) {
        while (t->n_unregistered > t->max_unregistered)
                evict_one_unregistered(t);
}

void idtable_set_max_unregistered(IdTable *t, unsigned max_unregistered) {
        t->max_unregistered = MAX(max_unregistered, 1U);
        enforce_bound(t);
}

CnId *idtable_get_for_message(IdTable *t, uint32_t idx, uint32_t val, bool *created) {
        CnId *id = idtable_find(t, idx, val);

        *created = false;
        if (!id) {
                if (t->n_unregistered >= t->max_unregistered)
                        evict_one_unregistered(t);
                id = cn_id_new(idx, val, "", false);
                if (!id)
                        return NULL;
                if (insert_at(t, lower_bound(t, idx, val), id) < 0) {
                        free(id);
                        return NULL;
                }
                t->last = id;
                *created = true;
        }
        id->last_active = ++t->clock;
        return id;
}

static void mark_registered(IdTable *t, CnId *id, const char *name) {
        id->registered = true;
        t->n_unregistered--;
        if (name != id->name)
                snprintf(id->name, sizeof(id->name), "%s", name);
        if (t->events && t->events->registered)
                t->events->registered(id, t->userdata);
}

/* Returns true if the entry was freed. An id that never carried a message has no reason to
 * outlive its registration. */
static bool mark_unregistered(IdTable *t, size_t i) {
        CnId *id = t->ids[i];

        id->registered = false;
        t->n_unregistered++;
        if (t->events && t->events->unregistered)
                t->events->unregistered(id, t->userdata);
        if (id->received == 0) {
                remove_at(t, i);
                return true;
        }
        return false;
}

static int add_registered(IdTable *t, size_t i, const ConnectorEntry *e) {
        CnId *id = cn_id_new(e->idx, e->val, e->name, true);

        if (!id)
                return -ENOMEM;
        if (insert_at(t, i, id) < 0) {
                free(id);
                return -ENOMEM;
        }
        if (t->events && t->events->registered)
                t->events->registered(id, t->userdata);
        return 0;
}

int idtable_apply_scan(IdTable *t, const ConnectorEntry *entries, size_t n) {
        size_t i = 0, j = 0;
        int changes = 0, r = 0;

        while (i < t->n || j < n) {
                CnId *id = i < t->n ? t->ids[i] : NULL;
                const ConnectorEntry *e = j < n ? &entries[j] : NULL;
                int c = !id ? 1 : !e ? -1 : id_compare(id->idx, id->val, e->idx, e->val);

                if (c < 0) {
                        /* Known to us, not in the kernel (any more). */
                        if (id->registered) {
                                changes++;
                                if (mark_unregistered(t, i))
                                        continue;
                        }
                        i++;
                } else if (c > 0) {
                        if (add_registered(t, i, e) < 0)
                                r = -ENOMEM;
                        else {
                                changes++;
                                i++;
                        }
                        j++;
                } else {
                        if (!id->registered) {
                                mark_registered(t, id, e->name);
                                changes++;
                        } else if (id->name[0] == '\0' && e->name[0] != '\0') {
                                /* Registered by a notification, named now: the same
                                 * registration, seen twice. */
                                snprintf(id->name, sizeof(id->name), "%s", e->name);
                                if (t->events && t->events->named)
                                        t->events->named(id, t->userdata);
                                changes++;
                        } else if (!streq(id->name, e->name)) {
                                /* Another owner took the id between two scans: that was a
                                 * removal and an addition. The object stays. */
                                id->registered = false;
                                t->n_unregistered++;
                                if (t->events && t->events->unregistered)
                                        t->events->unregistered(id, t->userdata);
                                mark_registered(t, id, e->name);
                                changes += 2;
                        }
                        i++;
                        j++;
                }
        }

        enforce_bound(t);
        return r < 0 ? r : changes;
}

int idtable_set_registered(IdTable *t, uint32_t idx, uint32_t val, bool registered) {
        size_t i = lower_bound(t, idx, val);
        CnId *id = i < t->n && t->ids[i]->idx == idx && t->ids[i]->val == val ? t->ids[i] : NULL;

        if (registered) {
                ConnectorEntry e = { .idx = idx, .val = val };

                if (!id)
                        return add_registered(t, i, &e) < 0 ? -ENOMEM : 1;
                if (id->registered)
                        return 0;
                /* Kept from an earlier registration: the new owner's name is not known yet. */
                mark_registered(t, id, "");
                return 1;
        }

        if (!id || !id->registered)
                return 0;
        mark_unregistered(t, i);
        enforce_bound(t);
        return 1;
}

static int entry_compare(const void *a, const void *b) {
        const ConnectorEntry *x = a, *y = b;

        return id_compare(x->idx, x->val, y->idx, y->val);
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* One line, without its newline: "<name, maybe empty, maybe with spaces> <idx>:<val>". The
 * kernel prints "%-15s %u:%u", so the id is the last field and the name is what precedes it. */
static bool parse_line(const char *line, size_t len, ConnectorEntry *ret) {
        const char *colon, *id;
        size_t name_len, id_len;

        while (len > 0 && is_blank(line[len - 1]))
                len--;
        id_len = 0;
        while (id_len < len && !is_blank(line[len - 1 - id_len]))
                id_len++;
        id = line + len - id_len;
        colon = memchr(id, ':', id_len);
        if (!colon)
                return false;
        if (parse_uint32_n(id, (size_t) (colon - id), &ret->idx) < 0 ||
            parse_uint32_n(colon + 1, id_len - (size_t) (colon - id) - 1, &ret->val) < 0)
                return false;

        name_len = len - id_len;
        while (name_len > 0 && is_blank(line[name_len - 1]))
                name_len--;
        if (name_len >= CN_NAME_MAX || memchr(line, '\0', name_len))
                return false;
        /* D-Bus strings must be UTF-8: anything but printable ASCII becomes '?'. */
        for (size_t i = 0; i < name_len; i++)
                ret->name[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
        ret->name[name_len] = '\0';
        return true;
}

static bool is_header(const char *line, size_t len) {
        return len >= 4 && memcmp(line, "Name", 4) == 0 && len >= 2 &&
               memcmp(line + len - 2, "ID", 2) == 0;
}

int connector_list_parse(const char *text, size_t size, ConnectorEntry **ret, size_t *ret_n,
                         unsigned *n_bad) {
        _cleanup_(freep) ConnectorEntry *entries = NULL;
        size_t n = 0, allocated = 0, unique = 0;
        const char *p = text, *end = text + size;
        bool first = true;

        *n_bad = 0;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = (size_t) ((nl ?: end) - p);
                ConnectorEntry e = {};

                if (first && is_header(p, len))
                        ;
                else if (len == 0)
                        ;
                else if (!parse_line(p, len, &e))
                        (*n_bad)++;
                else {
                        if (n == allocated) {
                                size_t na = MAX(allocated * 2, (size_t) 16);
                                ConnectorEntry *a = reallocarray(entries, na, sizeof(ConnectorEntry));

                                if (!a)
                                        return -ENOMEM;
                                entries = a;
                                allocated = na;
                        }
                        entries[n++] = e;
                }
                first = false;
                p = nl ? nl + 1 : end;
        }

        if (n > 0)
                qsort(entries, n, sizeof(ConnectorEntry), entry_compare);
        for (size_t i = 0; i < n; i++)
                if (unique == 0 || entry_compare(&entries[unique - 1], &entries[i]) != 0)
                        entries[unique++] = entries[i];

        *ret = TAKE_PTR(entries);
        *ret_n = unique;
        return 0;
}
