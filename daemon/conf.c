/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cnd's configuration (cnd.conf(5)). config_parse_text() is a pure function of the bytes it is given
 * (plus the group database for AdminGroup=), so the unit tests and the fuzzer can drive it
 * directly; config_load() adds the main file and the *.conf.d drop-ins on top of it.
 *
 * The parser never logs: every problem goes back to the caller as a malloc'd
 * "FILE:LINE: problem" string, because the caller knows whether it is starting up
 * (log and exit), reloading (log and keep the old config) or running --check-config. */

#include <dirent.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "conf.h"
#include "fileio.h"
#include "parse-util.h"
#include "util.h"

/* Not counting the line terminator. Longer lines are an error rather than being split or cut,
 * so that a garbled file cannot half-apply. */
#define CONFIG_LINE_MAX 4096U
#define CONFIG_FILE_MAX (1024U * 1024U)
#define CONFIG_DROPINS_MAX 256U

#define WHITESPACE " \t\r"
#define LIST_SEPARATORS " \t"

#define SCAN_INTERVAL_MAX_USEC (UINT64_C(86400) * USEC_PER_SEC)
#define RECEIVE_BUFFER_MIN UINT64_C(4096)
#define RECEIVE_BUFFER_MAX (UINT64_C(1) << 30)

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

static const char *const proc_kind_table[_PROC_KIND_MAX] = {
        [PROC_KIND_FORK] = "fork",
        [PROC_KIND_EXEC] = "exec",
        [PROC_KIND_UID] = "uid",
        [PROC_KIND_GID] = "gid",
        [PROC_KIND_SID] = "sid",
        [PROC_KIND_PTRACE] = "ptrace",
        [PROC_KIND_COMM] = "comm",
        [PROC_KIND_COREDUMP] = "coredump",
        [PROC_KIND_EXIT] = "exit",
};

const char *proc_kind_to_string(ProcKind k) {
        if ((unsigned) k >= _PROC_KIND_MAX)
                return NULL;
        return proc_kind_table[k];
}

int proc_kind_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(proc_kind_table); i++)
                if (streq(s, proc_kind_table[i]))
                        return (int) i;
        return -EINVAL;
}

void config_init(Config *c) {
        *c = (Config) {
                .groups = GROUP_BIT(1),
                .accept_userspace_senders = false,
                .scan_interval_usec = 5 * USEC_PER_SEC,
                .batch_groups = 0,
                .receive_buffer_bytes = UINT64_C(8) << 20,
                .max_unregistered_ids = 1024,
                .notify_group = 0,
                .proc_events = PROC_KINDS_ALL,
                .proc_raw_messages = false,
                .admin_group = NULL,
                .admin_gid = 0,
                .max_queued_signals = 8192,
                .max_queued_bytes = UINT64_C(4) << 20,
                .max_pending_requests = 256,
        };
}

void config_done(Config *c) {
        c->admin_group = mfree(c->admin_group);
}

/* Errors. On allocation failure *error is set to NULL and -ENOMEM returned instead of r, so
 * that callers can always free *error after a failure. error may be NULL if the caller only
 * wants the code. */

_printf_(3, 0)
static int error_va(char **error, int r, const char *format, va_list ap) {
        char *s;

        if (!error)
                return r;

        if (vasprintf(&s, format, ap) < 0) {
                *error = NULL;
                return -ENOMEM;
        }

        *error = s;
        return r;
}

_printf_(3, 4)
static int error_set(char **error, int r, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        r = error_va(error, r, format, ap);
        va_end(ap);
        return r;
}

/* Where the parser is, for "FILE:LINE: problem". */
typedef struct ParseContext {
        const char *filename;
        unsigned line;
        char **error;
} ParseContext;

_printf_(3, 4)
static int parse_error(const ParseContext *ctx, int r, const char *format, ...) {
        _cleanup_(freep) char *problem = NULL;
        va_list ap;

        if (!ctx->error)
                return r;

        va_start(ap, format);
        r = error_va(&problem, r, format, ap);
        va_end(ap);
        if (r == -ENOMEM && !problem) {
                *ctx->error = NULL;
                return r;
        }

        return error_set(ctx->error, r, "%s:%u: %s", ctx->filename, ctx->line, problem);
}

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

/* The [Section] Key= table. */

typedef enum Section {
        SECTION_NONE,
        SECTION_CONNECTOR,
        SECTION_NOTIFY,
        SECTION_PROC,
        SECTION_BUS,
        _SECTION_MAX,
} Section;

static const char *const section_table[_SECTION_MAX] = {
        [SECTION_CONNECTOR] = "Connector",
        [SECTION_NOTIFY] = "Notify",
        [SECTION_PROC] = "Proc",
        [SECTION_BUS] = "Bus",
};

typedef struct ConfigItem ConfigItem;

/* value is the stripped, non-empty (unless the item parses_empty) value; the parser may
 * modify it. data points at the item's field in c. */
typedef int (*ConfigParser)(const ParseContext *ctx, const ConfigItem *item, char *value, Config *c,
                            void *data);

struct ConfigItem {
        Section section;
        const char *key;
        ConfigParser parse;
        size_t offset;
        size_t size;
        uint64_t min, max;
        /* The parser gives "" its own meaning (the empty set, no group) instead of the
         * generic "reset to the default". */
        bool parses_empty;
};

static int config_parse_bool(const ParseContext *ctx, const ConfigItem *item, char *value, Config *c,
                             void *data) {
        int b = parse_boolean(value);

        if (b < 0)
                return parse_error(ctx, -EINVAL, "invalid %s= value '%s': expected yes or no",
                                   item->key, value);

        *(bool *) data = b;
        return 0;
}

static int config_parse_groups(const ParseContext *ctx, const ConfigItem *item, char *value,
                               Config *c, void *data) {
        uint32_t set = 0;
        char *state = NULL;

        for (char *w = strtok_r(value, LIST_SEPARATORS, &state); w;
             w = strtok_r(NULL, LIST_SEPARATORS, &state)) {
                uint64_t g;

                if (parse_uint64(w, &g) < 0 || g < 1 || g > CND_GROUP_MAX)
                        return parse_error(ctx, -EINVAL, "invalid group '%s' in %s=: expected 1..%u",
                                           w, item->key, CND_GROUP_MAX);
                set |= GROUP_BIT(g);
        }

        *(uint32_t *) data = set;
        return 0;
}

static int config_parse_proc_events(const ParseContext *ctx, const ConfigItem *item, char *value,
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
                        return parse_error(ctx, -EINVAL, "unknown event '%s' in %s=", w, item->key);
                set |= UINT32_C(1) << k;
        }

        *(uint32_t *) data = set;
        return 0;
}

static int parse_ranged(const ParseContext *ctx, const ConfigItem *item, const char *value,
                        uint64_t *ret) {
        uint64_t v;

        if (parse_uint64(value, &v) < 0 || v < item->min || v > item->max)
                return parse_error(ctx, -EINVAL,
                                   "invalid %s= value '%s': expected an integer %" PRIu64 "..%" PRIu64,
                                   item->key, value, item->min, item->max);
        *ret = v;
        return 0;
}

/* For the unsigned and the uint32_t fields alike. */
_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "unsigned fields are parsed as uint32_t");

static int config_parse_uint(const ParseContext *ctx, const ConfigItem *item, char *value, Config *c,
                             void *data) {
        uint64_t v = 0;
        int r;

        r = parse_ranged(ctx, item, value, &v);
        if (r < 0)
                return r;
        *(uint32_t *) data = (uint32_t) v;
        return 0;
}

static int config_parse_sec(const ParseContext *ctx, const ConfigItem *item, char *value, Config *c,
                            void *data) {
        uint64_t usec;

        if (parse_sec(value, item->max, &usec) < 0)
                return parse_error(ctx, -EINVAL,
                                   "invalid %s= value '%s': expected seconds 0..%" PRIu64
                                   " with at most 6 decimals",
                                   item->key, value, item->max / USEC_PER_SEC);

        *(uint64_t *) data = usec;
        return 0;
}

static int config_parse_size(const ParseContext *ctx, const ConfigItem *item, char *value, Config *c,
                             void *data) {
        uint64_t v;

        if (parse_size(value, &v) < 0 || v < item->min || v > item->max)
                return parse_error(ctx, -EINVAL,
                                   "invalid %s= value '%s': expected bytes %" PRIu64 "..%" PRIu64
                                   " with an optional K, M or G suffix",
                                   item->key, value, item->min, item->max);

        *(uint64_t *) data = v;
        return 0;
}

static int config_parse_admin_group(const ParseContext *ctx, const ConfigItem *item, char *value,
                                    Config *c, void *data) {
        char *s;
        gid_t gid = 0;
        int r;

        if (*value == 0) {
                c->admin_group = mfree(c->admin_group);
                c->admin_gid = 0;
                return 0;
        }

        /* Resolved now rather than per method call, so that a typo stops cnd from starting
         * instead of silently locking the admins out. */
        r = resolve_group(value, &gid);
        if (r == -ESRCH)
                return parse_error(ctx, r, "unknown group '%s' in %s=", value, item->key);
        if (r < 0)
                return parse_error(ctx, r, "cannot resolve group '%s' in %s=: %s", value, item->key,
                                   strerror(-r));

        s = strdup(value);
        if (!s)
                return parse_error(ctx, -ENOMEM, "out of memory");

        free(c->admin_group);
        c->admin_group = s;
        c->admin_gid = gid;
        return 0;
}

#define ITEM(sec, k, p, field, lo, hi, pe)                                      \
        {                                                                       \
                .section = (sec), .key = (k), .parse = (p),                     \
                .offset = offsetof(Config, field),                              \
                .size = sizeof(((Config *) NULL)->field),                       \
                .min = (lo), .max = (hi), .parses_empty = (pe),                 \
        }

static const ConfigItem config_items[] = {
        ITEM(SECTION_CONNECTOR, "Groups", config_parse_groups, groups, 0, 0, true),
        ITEM(SECTION_CONNECTOR, "AcceptUserspaceSenders", config_parse_bool,
             accept_userspace_senders, 0, 0, false),
        ITEM(SECTION_CONNECTOR, "ScanIntervalSec", config_parse_sec, scan_interval_usec, 0,
             SCAN_INTERVAL_MAX_USEC, false),
        ITEM(SECTION_CONNECTOR, "BatchGroups", config_parse_groups, batch_groups, 0, 0, true),
        ITEM(SECTION_CONNECTOR, "ReceiveBufferSize", config_parse_size, receive_buffer_bytes,
             RECEIVE_BUFFER_MIN, RECEIVE_BUFFER_MAX, false),
        ITEM(SECTION_CONNECTOR, "MaxUnregisteredIds", config_parse_uint, max_unregistered_ids, 1,
             65536, false),
        ITEM(SECTION_NOTIFY, "Group", config_parse_uint, notify_group, 0, CND_GROUP_MAX, false),
        ITEM(SECTION_PROC, "Events", config_parse_proc_events, proc_events, 0, 0, true),
        ITEM(SECTION_PROC, "RawMessages", config_parse_bool, proc_raw_messages, 0, 0, false),
        ITEM(SECTION_BUS, "AdminGroup", config_parse_admin_group, admin_group, 0, 0, true),
        ITEM(SECTION_BUS, "MaxQueuedSignals", config_parse_uint, max_queued_signals, 64, 262144,
             false),
        ITEM(SECTION_BUS, "MaxQueuedBytes", config_parse_size, max_queued_bytes, UINT64_C(64) << 10,
             UINT64_C(1) << 30, false),
        ITEM(SECTION_BUS, "MaxPendingRequests", config_parse_uint, max_pending_requests, 1, 65536,
             false),
};

static const ConfigItem *config_item_find(Section section, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(config_items); i++)
                if (config_items[i].section == section && streq(config_items[i].key, key))
                        return &config_items[i];
        return NULL;
}

static int config_assign(const ParseContext *ctx, Config *c, const ConfigItem *item, char *value) {
        void *data = (uint8_t *) c + item->offset;

        if (*value == 0 && !item->parses_empty) {
                /* As in systemd, "Key=" undoes earlier assignments, e.g. from the main file. */
                Config defaults;

                config_init(&defaults);
                memcpy(data, (const uint8_t *) &defaults + item->offset, item->size);
                return 0;
        }

        return item->parse(ctx, item, value, c, data);
}

/* The text parser. */

static char *strip(char *s) {
        char *e;

        s += strspn(s, WHITESPACE);
        e = s + strlen(s);
        while (e > s && strchr(WHITESPACE, e[-1]))
                e--;
        *e = 0;
        return s;
}

/* "Groups=1   # joined at start", as the contract's own example writes it: a '#' or ';' after
 * white space starts a comment. No value cnd takes can contain one legitimately. */
static char *cut_trailing_comment(char *value) {
        for (char *p = value; *p; p++)
                if ((*p == '#' || *p == ';') && (p == value || strchr(WHITESPACE, p[-1]))) {
                        *p = 0;
                        break;
                }
        return value;
}

static int parse_section_header(const ParseContext *ctx, char *l, Section *section) {
        size_t n = strlen(l);

        if (n < 2 || l[n - 1] != ']')
                return parse_error(ctx, -EBADMSG, "invalid section header '%s'", l);
        l[n - 1] = 0;

        for (size_t i = 0; i < ELEMENTSOF(section_table); i++)
                if (section_table[i] && streq(section_table[i], l + 1)) {
                        *section = (Section) i;
                        return 0;
                }

        /* Unknown sections are errors rather than skipped: a misspelt header would otherwise
         * silently drop every key below it. */
        return parse_error(ctx, -EINVAL, "unknown section [%s]", l + 1);
}

static int parse_line(const ParseContext *ctx, Config *c, Section *section, const char *p, size_t len) {
        char buf[CONFIG_LINE_MAX + 1], *l, *eq, *key, *value;
        const ConfigItem *item;

        if (len > 0 && p[len - 1] == '\r')
                len--;
        if (len > CONFIG_LINE_MAX)
                return parse_error(ctx, -ENOBUFS, "line too long (more than %u bytes)", CONFIG_LINE_MAX);
        if (memchr(p, 0, len))
                return parse_error(ctx, -EBADMSG, "NUL byte in line");

        memcpy(buf, p, len);
        buf[len] = 0;

        l = strip(buf);
        if (*l == 0 || *l == '#' || *l == ';')
                return 0;

        if (*l == '[')
                return parse_section_header(ctx, l, section);

        eq = strchr(l, '=');
        if (!eq)
                return parse_error(ctx, -EBADMSG, "expected Key=Value, got '%s'", l);
        *eq = 0;
        key = strip(l);
        value = strip(cut_trailing_comment(eq + 1));
        if (*key == 0)
                return parse_error(ctx, -EBADMSG, "expected Key=Value, got an empty key");

        if (*section == SECTION_NONE)
                return parse_error(ctx, -EBADMSG, "assignment to '%s' before any [Section] header", key);

        item = config_item_find(*section, key);
        if (!item)
                return parse_error(ctx, -EINVAL, "unknown key '%s' in section [%s]", key,
                                   section_table[*section]);

        return config_assign(ctx, c, item, value);
}

int config_parse_text(Config *c, const char *filename, const char *text, size_t size, char **error) {
        ParseContext ctx = {
                .filename = filename ?: "(text)",
                .error = error,
        };
        Section section = SECTION_NONE;
        size_t pos = 0;

        while (pos < size) {
                const char *eol = memchr(text + pos, '\n', size - pos);
                size_t len = eol ? (size_t) (eol - (text + pos)) : size - pos;
                int r;

                ctx.line++;
                r = parse_line(&ctx, c, &section, text + pos, len);
                if (r < 0)
                        return r;
                pos += len + 1;
        }

        return 0;
}

/* Files. */

static int config_load_file(Config *c, const char *path, bool missing_ok, char **error) {
        _cleanup_(freep) char *text = NULL;
        size_t size = 0;
        int r;

        r = read_full_file(path, CONFIG_FILE_MAX, &text, &size);
        if (r == -ENOENT && missing_ok)
                return 0;
        if (r == -EFBIG)
                return error_set(error, r, "%s: file too large (more than %u bytes)", path,
                                 CONFIG_FILE_MAX);
        if (r < 0)
                return error_set(error, r, "%s: %s", path, strerror(-r));

        return config_parse_text(c, path, text, size, error);
}

/* Drop-ins: file name → path of the highest-priority file of that name. */

typedef struct Dropin {
        char *path;
        const char *name; /* points into path */
} Dropin;

typedef struct DropinList {
        Dropin items[CONFIG_DROPINS_MAX];
        size_t n;
} DropinList;

static void dropin_list_done(DropinList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].path);
        l->n = 0;
}

static bool dropin_name_valid(const char *name) {
        size_t n = strlen(name);

        return name[0] != '.' && n > strlen(".conf") && streq(name + n - strlen(".conf"), ".conf");
}

/* A later directory's file replaces an earlier one of the same name, so that an admin can
 * override a vendor drop-in in /etc, or mask it with a symlink to /dev/null. */
static int dropin_list_add(DropinList *l, const char *dir, const char *name, char **error) {
        Dropin *d = NULL;
        char *path;

        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].name, name)) {
                        d = &l->items[i];
                        break;
                }

        if (!d && l->n >= CONFIG_DROPINS_MAX)
                return error_set(error, -E2BIG, "%s/%s: too many drop-ins (more than %u)", dir, name,
                                 CONFIG_DROPINS_MAX);

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return error_set(error, -ENOMEM, "out of memory");

        if (d)
                free(d->path);
        else
                d = &l->items[l->n++];
        d->path = path;
        d->name = path + strlen(dir) + 1;
        return 0;
}

/* Regular files count, and /dev/null so that it can mask; reading it applies nothing. Anything
 * else (directories, sockets, dangling symlinks) is not a drop-in. */
static int dropin_is_file(DIR *d, const char *dir, const char *name, char **error) {
        struct stat st;

        if (fstatat(dirfd(d), name, &st, 0) < 0) {
                if (errno == ENOENT)
                        return false;
                return error_set(error, -errno, "%s/%s: %s", dir, name, strerror(errno));
        }

        return S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
}

static int dropin_list_add_dir(DropinList *l, const char *dir, char **error) {
        _cleanup_(closedirp) DIR *d = NULL;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                return error_set(error, -errno, "%s: %s", dir, strerror(errno));
        }

        for (;;) {
                struct dirent *de;
                int r;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return error_set(error, -errno, "%s: %s", dir, strerror(errno));
                        return 0;
                }

                if (!dropin_name_valid(de->d_name))
                        continue;

                r = dropin_is_file(d, dir, de->d_name, error);
                if (r <= 0) {
                        if (r < 0)
                                return r;
                        continue;
                }

                r = dropin_list_add(l, dir, de->d_name, error);
                if (r < 0)
                        return r;
        }
}

static int dropin_compare(const void *a, const void *b) {
        const Dropin *x = a, *y = b;

        return strcmp(x->name, y->name);
}

/* *c is overwritten without being freed first: the caller must not hold allocated state in it
 * (it is either fresh or has been through config_done()). On failure *c holds the defaults, never
 * a half-applied file. main_file may be NULL for none. */
int config_load(Config *c, const char *main_file, bool must_exist, const char *const *dropin_dirs,
                char **error) {
        _cleanup_(dropin_list_done) DropinList dropins = { .n = 0 };
        _cleanup_(config_done) Config new;
        int r;

        config_init(c);
        config_init(&new);

        if (main_file) {
                r = config_load_file(&new, main_file, !must_exist, error);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; dropin_dirs && dropin_dirs[i]; i++) {
                r = dropin_list_add_dir(&dropins, dropin_dirs[i], error);
                if (r < 0)
                        return r;
        }

        qsort(dropins.items, dropins.n, sizeof(Dropin), dropin_compare);

        for (size_t i = 0; i < dropins.n; i++) {
                r = config_load_file(&new, dropins.items[i].path, false, error);
                if (r < 0)
                        return r;
        }

        /* Across files: on a group that also carries messages, a kernel message could pass for
         * a notification. */
        if (new.notify_group != 0 && (new.groups & GROUP_BIT(new.notify_group))) {
                if (error && asprintf(error, "%s: [Notify] Group=%" PRIu32 " is also in [Connector] Groups=; "
                                      "the notification group must be one of its own",
                                      main_file ?: "configuration", new.notify_group) < 0)
                        *error = NULL;
                return -EINVAL;
        }

        *c = new;
        new.admin_group = NULL;
        return 0;
}

/* Dumping. */

static void dump_groups(FILE *f, const char *key, uint32_t set) {
        const char *sep = "";

        fprintf(f, "%s=", key);
        for (unsigned g = 1; g <= CND_GROUP_MAX; g++)
                if (set & GROUP_BIT(g)) {
                        fprintf(f, "%s%u", sep, g);
                        sep = " ";
                }
        fputc('\n', f);
}

static void dump_sec(FILE *f, const char *key, uint64_t usec) {
        char frac[8];
        size_t n;

        fprintf(f, "%s=%" PRIu64, key, usec / USEC_PER_SEC);
        if (usec % USEC_PER_SEC == 0) {
                fputc('\n', f);
                return;
        }

        snprintf(frac, sizeof(frac), "%06" PRIu64, usec % USEC_PER_SEC);
        for (n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
                frac[n - 1] = 0;
        fprintf(f, ".%s\n", frac);
}

static void dump_size(FILE *f, const char *key, uint64_t bytes) {
        static const struct {
                char suffix;
                unsigned shift;
        } units[] = { { 'G', 30 }, { 'M', 20 }, { 'K', 10 } };

        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (bytes != 0 && bytes % (UINT64_C(1) << units[i].shift) == 0) {
                        fprintf(f, "%s=%" PRIu64 "%c\n", key, bytes >> units[i].shift, units[i].suffix);
                        return;
                }
        fprintf(f, "%s=%" PRIu64 "\n", key, bytes);
}

static void dump_proc_events(FILE *f, const char *key, uint32_t set) {
        const char *sep = "";

        fprintf(f, "%s=", key);
        for (ProcKind k = 0; k < _PROC_KIND_MAX; k++)
                if (set & (UINT32_C(1) << k)) {
                        fprintf(f, "%s%s", sep, proc_kind_to_string(k));
                        sep = " ";
                }
        fputc('\n', f);
}

int config_dump(const Config *c, char **ret) {
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        size_t size = 0;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        fputs("[Connector]\n", f);
        dump_groups(f, "Groups", c->groups);
        fprintf(f, "AcceptUserspaceSenders=%s\n", yes_no(c->accept_userspace_senders));
        dump_sec(f, "ScanIntervalSec", c->scan_interval_usec);
        dump_groups(f, "BatchGroups", c->batch_groups);
        dump_size(f, "ReceiveBufferSize", c->receive_buffer_bytes);
        fprintf(f, "MaxUnregisteredIds=%u\n", c->max_unregistered_ids);

        fputs("\n[Notify]\n", f);
        fprintf(f, "Group=%" PRIu32 "\n", c->notify_group);

        fputs("\n[Proc]\n", f);
        dump_proc_events(f, "Events", c->proc_events);
        fprintf(f, "RawMessages=%s\n", yes_no(c->proc_raw_messages));

        fputs("\n[Bus]\n", f);
        fprintf(f, "AdminGroup=%s\n", strempty(c->admin_group));
        fprintf(f, "MaxQueuedSignals=%u\n", c->max_queued_signals);
        dump_size(f, "MaxQueuedBytes", c->max_queued_bytes);
        fprintf(f, "MaxPendingRequests=%u\n", c->max_pending_requests);

        /* The buffer is only complete (and errors only known) once the stream is closed. */
        if (fclose(TAKE_PTR(f)) != 0)
                return -ENOMEM;

        *ret = TAKE_PTR(buf);
        return 0;
}
