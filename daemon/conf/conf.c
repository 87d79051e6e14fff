/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cnd's configuration (cnd.conf(5)): the value types and the [Section] Key= table, on top of
 * ini.c's reader. config_parse_text() is a pure function of the bytes it is given (plus the
 * group database for AdminGroup=), so the unit tests and the fuzzer can drive it directly;
 * config_load() adds the main file and the *.conf.d drop-ins.
 *
 * The parser never logs: every problem goes back to the caller as a malloc'd
 * "FILE:LINE: problem" string, because the caller knows whether it is starting up
 * (log and exit), reloading (log and keep the old config) or running --check-config. */

#include <assert.h>
#include <grp.h>
#include <inttypes.h>
#include <strings.h>

#include "conf.h"
#include "ini.h"
#include "parse-util.h"
#include "util.h"

#define LIST_SEPARATORS " \t"

#define SCAN_INTERVAL_MAX_USEC (UINT64_C(86400) * USEC_PER_SEC)
#define JOURNAL_RATE_LIMIT_INTERVAL_MAX_USEC (UINT64_C(3600) * USEC_PER_SEC)
/* Streams in all, at most: each is a file descriptor of cnd's (main.c raises its limit). */
#define STREAMS_MAX 4096
#define RECEIVE_BUFFER_MIN UINT64_C(4096)
#define RECEIVE_BUFFER_MAX (UINT64_C(1) << 30)

/* Value syntax. These return -EINVAL for bad syntax and -ERANGE for numbers that do not fit,
 * and never accept signs or surrounding space: the line parser has stripped that already, and
 * "-1" for an unsigned key is a typo worth reporting. */

static bool ascii_isdigit(char c) {
        return c >= '0' && c <= '9';
}

static int parse_boolean(const char *s) {
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return false;
        return -EINVAL;
}

/* "5", "0.5", "10.25s": whole seconds with at most six decimals, so that the value is exact in
 * microseconds instead of being silently rounded. */
static int parse_sec(const char *s, uint64_t max_usec, uint64_t *ret) {
        static const uint64_t scale[] = { 100000, 10000, 1000, 100, 10, 1 };
        const char *p = s;
        uint64_t sec = 0, frac = 0;

        if (!ascii_isdigit(*p))
                return -EINVAL;

        for (; ascii_isdigit(*p); p++) {
                /* Checked before each digit, so sec stays far from overflowing. */
                if (sec > max_usec / USEC_PER_SEC)
                        return -ERANGE;
                sec = sec * 10 + (uint64_t) (*p - '0');
        }

        if (*p == '.') {
                size_t i = 0;

                p++;
                if (!ascii_isdigit(*p))
                        return -EINVAL;
                for (; ascii_isdigit(*p); p++, i++) {
                        if (i >= ELEMENTSOF(scale))
                                return -EINVAL;
                        frac += (uint64_t) (*p - '0') * scale[i];
                }
        }

        if (*p == 's')
                p++;
        if (*p != 0)
                return -EINVAL;

        if (sec > max_usec / USEC_PER_SEC || sec * USEC_PER_SEC + frac > max_usec)
                return -ERANGE;

        *ret = sec * USEC_PER_SEC + frac;
        return 0;
}

/* "4096", "512K", "8M", "1G": binary multiples, as socket buffer sizes usually are. */
static int parse_size(const char *s, uint64_t *ret) {
        size_t n = strspn(s, "0123456789");
        unsigned shift = 0;
        uint64_t v;
        int r;

        if (s[n] != 0) {
                switch (s[n]) {
                case 'K': case 'k':
                        shift = 10;
                        break;
                case 'M': case 'm':
                        shift = 20;
                        break;
                case 'G': case 'g':
                        shift = 30;
                        break;
                default:
                        return -EINVAL;
                }
                if (s[n + 1] != 0)
                        return -EINVAL;
        }

        r = parse_uint64_n(s, n, &v);
        if (r < 0)
                return r;
        if (v > (UINT64_MAX >> shift))
                return -ERANGE;

        *ret = v << shift;
        return 0;
}

/* Group database lookup for AdminGroup=: a name, or a gid given as a number. The buffer size
 * hint may be -1 or too small for large groups, hence the ERANGE loop. */
static int resolve_group(const char *name, gid_t *ret) {
        _cleanup_(freep) char *buf = NULL;
        long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
        size_t bufsize = hint > 0 ? (size_t) hint : 4096;
        bool numeric = false;
        uint64_t id = 0;

        if (parse_uint64(name, &id) >= 0) {
                /* (gid_t) -1 means "no change" to chown() and friends, never a real group. */
                if (id >= (gid_t) -1)
                        return -ESRCH;
                numeric = true;
        }

        for (;;) {
                struct group grp, *result = NULL;
                int r;

                free(buf);
                buf = malloc(bufsize);
                if (!buf)
                        return -ENOMEM;

                if (numeric)
                        r = getgrgid_r((gid_t) id, &grp, buf, bufsize, &result);
                else
                        r = getgrnam_r(name, &grp, buf, bufsize, &result);
                if (r == ERANGE && bufsize < SIZE_MAX / 2) {
                        bufsize *= 2;
                        continue;
                }
                /* getgrnam_r(3): these all mean "not found", depending on the NSS module. */
                if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM) {
                        if (!result)
                                return -ESRCH;
                        *ret = result->gr_gid;
                        return 0;
                }
                return -r;
        }
}

/* Value types: how a key's value is parsed into its field and written back by config_dump().
 * value is stripped and non-empty, unless the type parses_empty; the parser may modify it.
 * data points at the item's field in c. */

typedef int (*ConfigParser)(const IniContext *ctx, const ConfigItem *item, char *value, Config *c,
                            void *data);
typedef void (*ConfigDumper)(FILE *f, const void *data);

struct ConfigType {
        ConfigParser parse;
        ConfigDumper dump;
        /* The type gives "" its own meaning (the empty set, no group) instead of the generic
         * "reset to the default". */
        bool parses_empty;
        /* The field is a malloc'd string that config_done() frees. */
        bool owns_string;
};

/* Defines config_type_<kind>, and config_value_<kind> as the C type of its fields, which the
 * table's ITEM() checks. */
#define CONFIG_TYPE(kind, ctype, parser, dumper, empty, ...)            \
        typedef ctype config_value_##kind;                              \
        static const ConfigType config_type_##kind = {                  \
                .parse = (parser), .dump = (dumper), .parses_empty = (empty), __VA_ARGS__ \
        }

static int config_parse_bool(const IniContext *ctx, const ConfigItem *item, char *value, Config *c,
                             void *data) {
        int b = parse_boolean(value);

        if (b < 0)
                return ini_error(ctx, -EINVAL, "invalid %s= value '%s': expected yes or no",
                                 item->key, value);

        *(bool *) data = b;
        return 0;
}

static int config_parse_groups(const IniContext *ctx, const ConfigItem *item, char *value,
                               Config *c, void *data) {
        uint32_t set = 0;
        char *state = NULL;

        for (char *w = strtok_r(value, LIST_SEPARATORS, &state); w;
             w = strtok_r(NULL, LIST_SEPARATORS, &state)) {
                uint64_t g;

                if (parse_uint64(w, &g) < 0 || g < 1 || g > CND_GROUP_MAX)
                        return ini_error(ctx, -EINVAL, "invalid group '%s' in %s=: expected 1..%u",
                                         w, item->key, CND_GROUP_MAX);
                set |= GROUP_BIT(g);
        }

        *(uint32_t *) data = set;
        return 0;
}

static int config_parse_proc_events(const IniContext *ctx, const ConfigItem *item, char *value,
                                    Config *c, void *data) {
        uint32_t set = 0;
        char *state = NULL;

        for (char *w = strtok_r(value, LIST_SEPARATORS, &state); w;
             w = strtok_r(NULL, LIST_SEPARATORS, &state)) {
                int k;

                if (streq(w, "all")) {
                        set |= PROC_KINDS_ALL;
                        continue;
                }
                k = proc_kind_from_string(w);
                if (k < 0)
                        return ini_error(ctx, -EINVAL, "unknown event '%s' in %s=", w, item->key);
                set |= UINT32_C(1) << k;
        }

        *(uint32_t *) data = set;
        return 0;
}

static int parse_ranged(const IniContext *ctx, const ConfigItem *item, const char *value,
                        uint64_t *ret) {
        uint64_t v;

        if (parse_uint64(value, &v) < 0 || v < item->min || v > item->max)
                return ini_error(ctx, -EINVAL,
                                 "invalid %s= value '%s': expected an integer %" PRIu64 "..%" PRIu64,
                                 item->key, value, item->min, item->max);
        *ret = v;
        return 0;
}

/* For the unsigned and the uint32_t fields alike. */
_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "unsigned fields are parsed as uint32_t");

static int config_parse_uint(const IniContext *ctx, const ConfigItem *item, char *value, Config *c,
                             void *data) {
        uint64_t v = 0;
        int r;

        r = parse_ranged(ctx, item, value, &v);
        if (r < 0)
                return r;
        *(uint32_t *) data = (uint32_t) v;
        return 0;
}

static int config_parse_sec(const IniContext *ctx, const ConfigItem *item, char *value, Config *c,
                            void *data) {
        uint64_t usec;

        if (parse_sec(value, item->max, &usec) < 0)
                return ini_error(ctx, -EINVAL,
                                 "invalid %s= value '%s': expected seconds 0..%" PRIu64
                                 " with at most 6 decimals",
                                 item->key, value, item->max / USEC_PER_SEC);

        *(uint64_t *) data = usec;
        return 0;
}

static int config_parse_size(const IniContext *ctx, const ConfigItem *item, char *value, Config *c,
                             void *data) {
        uint64_t v;

        if (parse_size(value, &v) < 0 || v < item->min || v > item->max)
                return ini_error(ctx, -EINVAL,
                                 "invalid %s= value '%s': expected bytes %" PRIu64 "..%" PRIu64
                                 " with an optional K, M or G suffix",
                                 item->key, value, item->min, item->max);

        *(uint64_t *) data = v;
        return 0;
}

/* A group name and the gid it resolves to, in the field its table line names (GID()). */
static gid_t *group_gid_field(Config *c, const ConfigItem *item) {
        assert(item->gid_offset != 0);
        return (gid_t *) ((uint8_t *) c + item->gid_offset);
}

static int config_parse_group_name(const IniContext *ctx, const ConfigItem *item, char *value,
                                   Config *c, void *data) {
        char **name = data;
        char *s;
        gid_t gid = 0;
        int r;

        if (*value == 0) {
                *name = mfree(*name);
                *group_gid_field(c, item) = 0;
                return 0;
        }

        /* Resolved now rather than per method call, so that a typo stops cnd from starting
         * instead of silently locking the admins out. */
        r = resolve_group(value, &gid);
        if (r == -ESRCH)
                return ini_error(ctx, r, "unknown group '%s' in %s=", value, item->key);
        if (r < 0)
                return ini_error(ctx, r, "cannot resolve group '%s' in %s=: %s", value, item->key,
                                 strerror(-r));

        s = strdup(value);
        if (!s)
                return ini_error(ctx, -ENOMEM, "out of memory");

        free(*name);
        *name = s;
        *group_gid_field(c, item) = gid;
        return 0;
}

static void dump_bool(FILE *f, const void *data) {
        fputs(yes_no(*(const bool *) data), f);
}

static void dump_uint(FILE *f, const void *data) {
        fprintf(f, "%" PRIu32, *(const uint32_t *) data);
}

static void dump_groups(FILE *f, const void *data) {
        uint32_t set = *(const uint32_t *) data;
        const char *sep = "";

        for (unsigned g = 1; g <= CND_GROUP_MAX; g++)
                if (set & GROUP_BIT(g)) {
                        fprintf(f, "%s%u", sep, g);
                        sep = " ";
                }
}

static void dump_proc_events(FILE *f, const void *data) {
        uint32_t set = *(const uint32_t *) data;
        const char *sep = "";

        for (ProcKind k = 0; k < _PROC_KIND_MAX; k++)
                if (set & (UINT32_C(1) << k)) {
                        fprintf(f, "%s%s", sep, proc_kind_to_string(k));
                        sep = " ";
                }
}

/* Whole seconds, and the decimals only as far as they are not zero. */
static void dump_sec(FILE *f, const void *data) {
        uint64_t usec = *(const uint64_t *) data;
        char frac[8];
        size_t n;

        fprintf(f, "%" PRIu64, usec / USEC_PER_SEC);
        if (usec % USEC_PER_SEC == 0)
                return;

        snprintf(frac, sizeof(frac), "%06" PRIu64, usec % USEC_PER_SEC);
        for (n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
                frac[n - 1] = 0;
        fprintf(f, ".%s", frac);
}

/* The largest suffix that divides exactly. */
static void dump_size(FILE *f, const void *data) {
        static const struct {
                char suffix;
                unsigned shift;
        } units[] = { { 'G', 30 }, { 'M', 20 }, { 'K', 10 } };
        uint64_t bytes = *(const uint64_t *) data;

        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (bytes != 0 && bytes % (UINT64_C(1) << units[i].shift) == 0) {
                        fprintf(f, "%" PRIu64 "%c", bytes >> units[i].shift, units[i].suffix);
                        return;
                }
        fprintf(f, "%" PRIu64, bytes);
}

static void dump_string(FILE *f, const void *data) {
        fputs(strempty(*(char *const *) data), f);
}

CONFIG_TYPE(boolean, bool, config_parse_bool, dump_bool, false);
CONFIG_TYPE(uint, uint32_t, config_parse_uint, dump_uint, false);
CONFIG_TYPE(sec, uint64_t, config_parse_sec, dump_sec, false);
CONFIG_TYPE(size, uint64_t, config_parse_size, dump_size, false);
CONFIG_TYPE(groups, uint32_t, config_parse_groups, dump_groups, true);
CONFIG_TYPE(proc_events, uint32_t, config_parse_proc_events, dump_proc_events, true);
/* Also sets the gid field its line names with GID(). */
CONFIG_TYPE(group_name, char *, config_parse_group_name, dump_string, true, .owns_string = true);

/* The [Section] Key= table, in the order of config_dump() and cnd.conf(5); a section's keys stand
 * together. The default is written as in the file and applied through the type's parser by
 * config_init() and by an empty assignment. The range, for the types that take one, follows as
 * .min/.max. */

/* 0, and a compile-time error if Config.field is not a ctype. */
#define FIELD_HAS_TYPE(field, ctype)                                                    \
        (0 * sizeof(struct {                                                            \
                _Static_assert(__builtin_types_compatible_p(                            \
                                       __typeof__(((Config *) NULL)->field), ctype),    \
                               "Config." #field " is not a " #ctype);                   \
                char _unused;                                                           \
        }))

#define FIELD_IS_OF(field, kind) FIELD_HAS_TYPE(field, config_value_##kind)

/* The gid field that a group_name key fills besides its own. */
#define GID(field) .gid_offset = offsetof(Config, field) + FIELD_HAS_TYPE(field, gid_t)

#define ITEM(sect, k, kind, field, def, ...)                                            \
        {                                                                               \
                .section = (sect), .key = (k), .type = &config_type_##kind,             \
                .offset = offsetof(Config, field) + FIELD_IS_OF(field, kind),           \
                .default_value = (def), __VA_ARGS__                                     \
        }

static const ConfigItem config_table[] = {
        ITEM("Connector", "Groups", groups, groups, "1"),
        ITEM("Connector", "AcceptUserspaceSenders", boolean, accept_userspace_senders, "no"),
        ITEM("Connector", "ScanIntervalSec", sec, scan_interval_usec, "5",
             .max = SCAN_INTERVAL_MAX_USEC),
        ITEM("Connector", "BatchGroups", groups, batch_groups, ""),
        ITEM("Connector", "StreamOnlyGroups", groups, stream_only_groups, ""),
        ITEM("Connector", "ReceiveBufferSize", size, receive_buffer_bytes, "8M",
             .min = RECEIVE_BUFFER_MIN, .max = RECEIVE_BUFFER_MAX),
        ITEM("Connector", "MaxUnregisteredIds", uint, max_unregistered_ids, "1024",
             .min = 1, .max = 65536),
        ITEM("Notify", "Group", uint, notify_group, "0", .max = CND_GROUP_MAX),
        ITEM("Proc", "Events", proc_events, proc_events, "all"),
        ITEM("Proc", "RawMessages", boolean, proc_raw_messages, "no"),
        ITEM("Processes", "Enabled", boolean, processes_enabled, "yes"),
        ITEM("Processes", "Arguments", boolean, processes_arguments, "yes"),
        ITEM("Processes", "ReaderGroup", group_name, reader_group, "", GID(reader_gid)),
        ITEM("Journal", "Events", proc_events, journal_events, ""),
        ITEM("Journal", "Arguments", boolean, journal_arguments, "no"),
        ITEM("Journal", "RateLimitIntervalSec", sec, journal_rate_limit_interval_usec, "30",
             .max = JOURNAL_RATE_LIMIT_INTERVAL_MAX_USEC),
        ITEM("Journal", "RateLimitBurst", uint, journal_rate_limit_burst, "1000", .max = 1000000),
        ITEM("Bus", "AdminGroup", group_name, admin_group, "", GID(admin_gid)),
        /* Below the limit of sd-bus's own write queue. */
        ITEM("Bus", "MaxQueuedSignals", uint, max_queued_signals, "8192",
             .min = 64, .max = 262144),
        ITEM("Bus", "MaxQueuedBytes", size, max_queued_bytes, "4M",
             .min = UINT64_C(64) << 10, .max = UINT64_C(1) << 30),
        ITEM("Bus", "MaxPendingRequests", uint, max_pending_requests, "256",
             .min = 1, .max = 65536),
        /* Each stream is a file descriptor of cnd's: within the unit's LimitNOFILE=. */
        ITEM("Streams", "MaxPerUser", uint, streams_max_per_user, "16", .max = STREAMS_MAX),
        ITEM("Streams", "MaxStreams", uint, streams_max, "256", .max = STREAMS_MAX),
};

const ConfigItem *config_items(size_t *ret_n) {
        *ret_n = ELEMENTSOF(config_table);
        return config_table;
}

static const ConfigItem *config_item_find(const char *section, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
                if (streq(config_table[i].section, section) && streq(config_table[i].key, key))
                        return &config_table[i];
        return NULL;
}

/* Defaults and assignments. */

static int config_assign_default(const IniContext *ctx, Config *c, const ConfigItem *item) {
        /* A copy: parsers may cut their value up. */
        char *value = strdupa(item->default_value);

        return item->type->parse(ctx, item, value, c, (uint8_t *) c + item->offset);
}

void config_init(Config *c) {
        const IniContext ctx = { .filename = "(defaults)" };

        *c = (Config) {};
        for (size_t i = 0; i < ELEMENTSOF(config_table); i++) {
                /* Cannot fail: test-conf.c checks that every default parses. */
                int r = config_assign_default(&ctx, c, &config_table[i]);

                assert(r >= 0);
                (void) r;
        }
}

void config_done(Config *c) {
        for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
                if (config_table[i].type->owns_string) {
                        char **s = (char **) ((uint8_t *) c + config_table[i].offset);

                        *s = mfree(*s);
                }
}

static int config_assign(const IniContext *ctx, Config *c, const ConfigItem *item, char *value) {
        /* As in systemd, "Key=" undoes earlier assignments, e.g. from the main file. */
        if (*value == 0 && !item->type->parses_empty)
                return config_assign_default(ctx, c, item);

        return item->type->parse(ctx, item, value, c, (uint8_t *) c + item->offset);
}

/* The text parser: ini.c's reader calling back into the table. */

static int config_on_section(const IniContext *ctx, const char *name, void *userdata) {
        for (size_t i = 0; i < ELEMENTSOF(config_table); i++)
                if (streq(config_table[i].section, name))
                        return 0;

        /* Unknown sections are errors rather than skipped: a misspelt header would otherwise
         * silently drop every key below it. */
        return ini_error(ctx, -EINVAL, "unknown section [%s]", name);
}

static int config_on_assignment(const IniContext *ctx, const char *section, const char *key,
                                char *value, void *userdata) {
        const ConfigItem *item = config_item_find(section, key);

        if (!item)
                return ini_error(ctx, -EINVAL, "unknown key '%s' in section [%s]", key, section);

        return config_assign(ctx, userdata, item, value);
}

static const IniCallbacks config_callbacks = {
        .section = config_on_section,
        .assignment = config_on_assignment,
};

int config_parse_text(Config *c, const char *filename, const char *text, size_t size, char **error) {
        return ini_parse_text(filename, text, size, &config_callbacks, c, error);
}

/* Files. */

/* Across files: on a group that also carries messages, a kernel message could pass for a
 * notification. */
static int config_verify(const Config *c, const char *main_file, char **error) {
        if (c->notify_group == 0 || !(c->groups & GROUP_BIT(c->notify_group)))
                return 0;

        if (error && asprintf(error, "%s: [Notify] Group=%" PRIu32 " is also in [Connector] Groups=; "
                              "the notification group must be one of its own",
                              main_file ?: "configuration", c->notify_group) < 0)
                *error = NULL;
        return -EINVAL;
}

/* *c is overwritten without being freed first: the caller must not hold allocated state in it
 * (it is either fresh or has been through config_done()). On failure *c holds the defaults, never
 * a half-applied file. main_file may be NULL for none. */
int config_load(Config *c, const char *main_file, bool must_exist, const char *const *dropin_dirs,
                char **error) {
        _cleanup_(ini_paths_freep) char **dropins = NULL;
        _cleanup_(config_done) Config new;
        int r;

        config_init(c);
        config_init(&new);

        if (main_file) {
                r = ini_parse_file(main_file, !must_exist, &config_callbacks, &new, error);
                if (r < 0)
                        return r;
        }

        r = ini_dropins_list(dropin_dirs, &dropins, error);
        if (r < 0)
                return r;

        for (char **p = dropins; *p; p++) {
                r = ini_parse_file(*p, false, &config_callbacks, &new, error);
                if (r < 0)
                        return r;
        }

        r = config_verify(&new, main_file, error);
        if (r < 0)
                return r;

        /* The whole Config changes hands: new's cleanup then frees nothing that *c holds. */
        *c = new;
        new = (Config) {};
        return 0;
}

/* Dumping: every key of the table in order, each section's header before its first key. */

int config_dump(const Config *c, char **ret) {
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        const char *section = NULL;
        size_t size = 0;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        for (const ConfigItem *i = config_table; i < config_table + ELEMENTSOF(config_table); i++) {
                if (!section || !streq(section, i->section)) {
                        fprintf(f, "%s[%s]\n", section ? "\n" : "", i->section);
                        section = i->section;
                }
                fprintf(f, "%s=", i->key);
                i->type->dump(f, (const uint8_t *) c + i->offset);
                fputc('\n', f);
        }

        /* The buffer is only complete (and errors only known) once the stream is closed. */
        if (fclose(TAKE_PTR(f)) != 0)
                return -ENOMEM;

        *ret = TAKE_PTR(buf);
        return 0;
}
