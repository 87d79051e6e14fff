/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The connector ids cnd knows: those registered in the kernel (from /proc/net/connector) and
 * those it received messages from. Kept sorted by (idx, val) so that the Ids property and the
 * object enumeration come out ascending without sorting. Pure: no I/O, no bus; the Manager is
 * told about every change through IdTableEvents. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnd-bus-names.h"

/* CN_CBQ_NAMELEN in the kernel: names in /proc/net/connector are at most 31 characters. */
#define CN_NAME_MAX 32

/* "/org/cnd/Connector1/id/4294967295/4294967295" */
#define CN_ID_PATH_MAX 48

typedef struct CnId {
        uint32_t idx, val;
        char name[CN_NAME_MAX];
        bool registered;
        uint64_t received;        /* accepted messages of this id */
        uint64_t last_active;     /* table clock at the last message, for eviction */
        char path[CN_ID_PATH_MAX];
} CnId;

/* One line of /proc/net/connector. */
typedef struct ConnectorEntry {
        uint32_t idx, val;
        char name[CN_NAME_MAX];
} ConnectorEntry;

typedef struct IdTableEvents {
        void (*created)(CnId *id, void *userdata);      /* object appears */
        void (*destroyed)(CnId *id, void *userdata);    /* object goes, right before free */
        void (*registered)(CnId *id, void *userdata);   /* kernel registration seen */
        void (*unregistered)(CnId *id, void *userdata); /* kernel registration gone */
        void (*named)(CnId *id, void *userdata);        /* a registered id's name became known */
} IdTableEvents;

typedef struct IdTable {
        CnId **ids;                     /* sorted by (idx, val) */
        size_t n, allocated;
        size_t n_unregistered;          /* entries with registered == false */
        unsigned max_unregistered;      /* bound on those, >= 1 */
        uint64_t clock;                 /* ticks once per message, orders last_active */
        CnId *last;                     /* last lookup: most traffic is on one id */
        const IdTableEvents *events;
        void *userdata;
} IdTable;

void idtable_init(IdTable *t, unsigned max_unregistered, const IdTableEvents *events, void *userdata);
/* Changes the bound, evicting at once what is over it. */
void idtable_set_max_unregistered(IdTable *t, unsigned max_unregistered);

/* Frees every entry, calling no events. */
void idtable_done(IdTable *t);

CnId *idtable_find(IdTable *t, uint32_t idx, uint32_t val);

/* Finds the id of an incoming message, creating an unregistered entry if needed (evicting the
 * least recently active unregistered entry at the bound). *created tells whether it is new.
 * Returns NULL only on allocation failure. */
CnId *idtable_get_for_message(IdTable *t, uint32_t idx, uint32_t val, bool *created);

/* Makes the table's registrations match a scan (entries sorted, unique). Returns how many
 * registrations or names changed; -ENOMEM on allocation failure (the table stays consistent). */
int idtable_apply_scan(IdTable *t, const ConnectorEntry *entries, size_t n);

/* Marks one id registered/unregistered, as a notification says. A notification carries no
 * name: the id's name is "" (unknown) until a scan names it, which is no new registration.
 * Returns 1 if that changed anything, 0 if not, -ENOMEM. */
int idtable_set_registered(IdTable *t, uint32_t idx, uint32_t val, bool registered);

/* Parses /proc/net/connector ("Name ID" header, then "%-15s %u:%u" lines). Returns the
 * entries sorted and unique in a new array; *n_bad counts lines that were not understood. */
int connector_list_parse(const char *text, size_t size, ConnectorEntry **ret, size_t *ret_n,
                         unsigned *n_bad);

void cn_id_format_path(char path[static CN_ID_PATH_MAX], uint32_t idx, uint32_t val);
/* Parses "/org/cnd/Connector1/id/<idx>/<val>" in canonical decimal; -EINVAL otherwise. */
int cn_id_parse_path(const char *path, uint32_t *idx, uint32_t *val);

