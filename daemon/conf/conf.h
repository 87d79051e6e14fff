/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cnd's configuration: /etc/cnd/cnd.conf (or --config=FILE), then drop-ins. The keys are one
 * table (conf.c) of section, key, value type, field, range and default; the syntax, the files
 * and the drop-ins are ini.c's. The parser (config_parse_text) is a function of the text and,
 * for the group keys, of the group database, which it asks to resolve a name (NSS); nothing
 * else, so that it can be unit-tested and fuzzed. File and directory handling sits on top of it
 * (config_load).
 *
 * Adding a key: a field in Config, one line in conf.c's table (with its default), its entry in
 * cnd.conf(5) (test-conf checks the two defaults agree). config_init(), "Key=" resetting to
 * the default, --check-config's dump and freeing (a string field's type owns it) follow from
 * the table, and so does the gid a group key fills (GID() in its line); a reload swaps in the
 * whole new Config, so nothing is copied or handed over key by key. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc-kind.h"

#define CND_CONFIG_FILE "/etc/cnd/cnd.conf"

/* Lowest priority first: a drop-in in a later directory masks one of the same file name in an
 * earlier directory, as systemd's *.conf.d do. */
#define CND_DROPIN_DIRS                         \
        ((const char *const[]) {                \
                "/usr/lib/cnd/cnd.conf.d",      \
                "/run/cnd/cnd.conf.d",          \
                "/etc/cnd/cnd.conf.d",          \
                NULL,                           \
        })

/* Each field is its key's (Groups= is groups): the table in conf.c gives its type, range and
 * default, cnd.conf(5) its meaning. */
typedef struct Config {
        /* [Connector] */
        uint32_t groups;                  /* Groups=, bit g-1 for group g */
        bool accept_userspace_senders;    /* AcceptUserspaceSenders= */
        uint64_t scan_interval_usec;      /* ScanIntervalSec=; 0 = at start and on demand */
        uint32_t batch_groups;            /* BatchGroups= */
        uint32_t stream_only_groups;      /* StreamOnlyGroups=: relayed to streams, no signals */
        uint64_t receive_buffer_bytes;    /* ReceiveBufferSize= */
        unsigned max_unregistered_ids;    /* MaxUnregisteredIds= */

        /* [Notify] */
        uint32_t notify_group;            /* Group=, 0 = off */

        /* [Proc] */
        uint32_t proc_events;             /* Events=, bits of ProcKind */
        bool proc_raw_messages;           /* RawMessages=, raw Message for id 1:1 */

        /* [Processes] */
        bool processes_enabled;           /* Enabled= */
        bool processes_arguments;         /* Arguments=, argv in Started and GetProcess */
        char *reader_group;               /* ReaderGroup=, NULL = root only */
        gid_t reader_gid;                 /* resolved from reader_group when it is set */

        /* [Journal] */
        uint32_t journal_events;          /* Events=, bits of ProcKind */
        bool journal_arguments;           /* Arguments=, CND_ARGV= fields */
        uint64_t journal_rate_limit_interval_usec; /* RateLimitIntervalSec=, per uid; 0 = no limit */
        unsigned journal_rate_limit_burst;         /* RateLimitBurst=, per uid; 0 = no limit */

        /* [Bus] */
        char *admin_group;                /* AdminGroup=, NULL = root only */
        gid_t admin_gid;                  /* resolved from admin_group when it is set */
        unsigned max_queued_signals;      /* MaxQueuedSignals= */
        uint64_t max_queued_bytes;        /* MaxQueuedBytes= */
        unsigned max_pending_requests;    /* MaxPendingRequests= */

        /* [Streams] */
        unsigned streams_max_per_user;    /* MaxPerUser= */
        unsigned streams_max;             /* MaxStreams= */
} Config;

void config_init(Config *c);
void config_done(Config *c);

/* Applies the assignments in text (size bytes, not necessarily NUL-terminated) on top of *c.
 * On error returns a negative errno and sets *error to "FILE:LINE: problem" (caller frees);
 * *c may then be partially modified, so callers parse into a scratch copy. */
int config_parse_text(Config *c, const char *filename, const char *text, size_t size, char **error);

/* Resets *c to the defaults, then reads main_file and the drop-ins. main_file may be missing
 * when it is the default path (the embedded defaults then apply) but not when the user named it
 * (must_exist). dropin_dirs may be NULL for none. */
int config_load(Config *c, const char *main_file, bool must_exist, const char *const *dropin_dirs,
                char **error);

/* Writes the effective configuration in the file's own syntax (for --check-config): every key,
 * in the table's order. */
int config_dump(const Config *c, char **ret);

/* The table, read-only, so that the tests can check it against itself and cnd.conf(5). */
typedef struct ConfigType ConfigType;

typedef struct ConfigItem {
        const char *section;
        const char *key;
        const ConfigType *type;
        size_t offset;          /* of the field in Config */
        size_t gid_offset;      /* group names: of the gid_t field the name resolves into */
        uint64_t min, max;      /* for the types that take a range */
        const char *default_value; /* as it would be written in the file */
} ConfigItem;

const ConfigItem *config_items(size_t *ret_n);
