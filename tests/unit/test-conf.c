/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/conf/conf.c: the text parser key by key, its error messages (file:line and
 * the problem), file and drop-in loading on a scratch tree under /tmp, and config_dump()'s
 * round trip. */

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "conf.h"
#include "fileio.h"
#include "scratch.h"
#include "tests.h"
#include "util.h"

#define FILENAME "t.conf"

static void check_defaults(const Config *c) {
        CHECK_EQ_INT(c->groups, GROUP_BIT(1));
        CHECK(!c->accept_userspace_senders);
        CHECK_EQ_INT(c->scan_interval_usec, 5 * USEC_PER_SEC);
        CHECK_EQ_INT(c->batch_groups, 0);
        CHECK_EQ_INT(c->receive_buffer_bytes, 8 * 1024 * 1024);
        CHECK_EQ_INT(c->max_unregistered_ids, 1024);
        CHECK_EQ_INT(c->notify_group, 0);
        CHECK_EQ_INT(c->proc_events, PROC_KINDS_ALL);
        CHECK(!c->proc_raw_messages);
        CHECK(c->processes_enabled);
        CHECK(c->processes_arguments);
        CHECK(!c->reader_group);
        CHECK_EQ_INT(c->reader_gid, 0);
        CHECK_EQ_INT(c->journal_events, 0);
        CHECK(!c->journal_arguments);
        CHECK_EQ_INT(c->journal_rate_limit_interval_usec, 30 * USEC_PER_SEC);
        CHECK_EQ_INT(c->journal_rate_limit_burst, 1000);
        CHECK(!c->admin_group);
        CHECK_EQ_INT(c->admin_gid, 0);
        CHECK_EQ_INT(c->max_queued_signals, 8192);
        CHECK_EQ_INT(c->max_queued_bytes, 4 << 20);
        CHECK_EQ_INT(c->max_pending_requests, 256);
}

static bool config_equal(const Config *a, const Config *b) {
        return a->groups == b->groups &&
                a->accept_userspace_senders == b->accept_userspace_senders &&
                a->scan_interval_usec == b->scan_interval_usec &&
                a->batch_groups == b->batch_groups &&
                a->stream_only_groups == b->stream_only_groups &&
                a->streams_max_per_user == b->streams_max_per_user &&
                a->streams_max == b->streams_max &&
                a->receive_buffer_bytes == b->receive_buffer_bytes &&
                a->max_unregistered_ids == b->max_unregistered_ids &&
                a->notify_group == b->notify_group &&
                a->proc_events == b->proc_events &&
                a->proc_raw_messages == b->proc_raw_messages &&
                a->processes_enabled == b->processes_enabled &&
                a->processes_arguments == b->processes_arguments &&
                streq(strempty(a->reader_group), strempty(b->reader_group)) &&
                !a->reader_group == !b->reader_group &&
                a->reader_gid == b->reader_gid &&
                a->journal_events == b->journal_events &&
                a->journal_arguments == b->journal_arguments &&
                a->journal_rate_limit_interval_usec == b->journal_rate_limit_interval_usec &&
                a->journal_rate_limit_burst == b->journal_rate_limit_burst &&
                streq(strempty(a->admin_group), strempty(b->admin_group)) &&
                !a->admin_group == !b->admin_group &&
                a->admin_gid == b->admin_gid &&
                a->max_queued_signals == b->max_queued_signals &&
                a->max_queued_bytes == b->max_queued_bytes &&
                a->max_pending_requests == b->max_pending_requests;
}

/* Parses text (NUL-terminated here) on top of the defaults into *c and requires success. */
static void parse_ok(Config *c, const char *text) {
        char *error = NULL;
        int r;

        config_init(c);
        r = config_parse_text(c, FILENAME, text, strlen(text), &error);
        if (r < 0)
                fprintf(stderr, "unexpected failure %d for:\n%s\n-> %s\n", r, text, strempty(error));
        CHECK_EQ_INT(r, 0);
        CHECK(!error);
}

/* Parses size bytes of text and returns the error message, which must exist. */
static char *parse_fail_n(const char *text, size_t size) {
        _cleanup_(config_done) Config c;
        char *error = NULL;
        int r;

        config_init(&c);
        r = config_parse_text(&c, FILENAME, text, size, &error);
        if (r >= 0)
                fprintf(stderr, "unexpected success for:\n%.*s\n", (int) size, text);
        CHECK(r < 0);
        CHECK(error);
        return error;
}

/* The error must start with "t.conf:LINE: " and mention problem. A macro so that a failure
 * points at the test case, not at a helper. */
#define CHECK_PARSE_ERROR_N(text, size, line, problem)                                  \
        do {                                                                            \
                _cleanup_(freep) char *_err_ = parse_fail_n((text), (size));            \
                char _where_[64];                                                       \
                snprintf(_where_, sizeof(_where_), FILENAME ":%u: ", (unsigned) (line)); \
                CHECK_CONTAINS(_err_, _where_);                                         \
                CHECK(strncmp(_err_, _where_, strlen(_where_)) == 0);                   \
                CHECK_CONTAINS(_err_, (problem));                                       \
        } while (0)

#define CHECK_PARSE_ERROR(text, line, problem) \
        CHECK_PARSE_ERROR_N((text), strlen(text), (line), (problem))

/* One assignment in one section, the key on line 2. */
static char *one(const char *section, const char *key, const char *value) {
        char *s;

        CHECK(asprintf(&s, "[%s]\n%s=%s\n", section, key, value) >= 0);
        return s;
}

#define CHECK_BAD_VALUE(section, key, value, problem)                                   \
        do {                                                                            \
                _cleanup_(freep) char *_t_ = one((section), (key), (value));            \
                CHECK_PARSE_ERROR(_t_, 2, (problem));                                   \
        } while (0)

static void test_proc_kind(void) {
        static const char *const names[] = {
                "fork", "exec", "uid", "gid", "sid", "ptrace", "comm", "coredump", "exit",
        };

        CHECK_EQ_INT(ELEMENTSOF(names), _PROC_KIND_MAX);
        for (ProcKind k = 0; k < _PROC_KIND_MAX; k++) {
                CHECK_STREQ(proc_kind_to_string(k), names[k]);
                CHECK_EQ_INT(proc_kind_from_string(names[k]), k);
        }
        CHECK(!proc_kind_to_string(_PROC_KIND_MAX));
        CHECK(!proc_kind_to_string((ProcKind) -1));
        CHECK_EQ_INT(proc_kind_from_string("Fork"), -EINVAL);
        CHECK_EQ_INT(proc_kind_from_string("all"), -EINVAL);
        CHECK_EQ_INT(proc_kind_from_string(""), -EINVAL);
        CHECK_EQ_INT(proc_kind_from_string(NULL), -EINVAL);
        CHECK_EQ_INT(PROC_KINDS_ALL, 0x1ff);
}

static void test_defaults(void) {
        Config c;

        config_init(&c);
        check_defaults(&c);
        config_done(&c);
        CHECK(!c.admin_group);
        config_done(&c); /* idempotent */

        /* Empty text, only comments and blank lines: nothing changes. */
        parse_ok(&c, "");
        check_defaults(&c);
        config_done(&c);
        parse_ok(&c, "\n\n   \n\t\n# comment\n; comment\n  # indented\n\t; indented\n[Connector]\n");
        check_defaults(&c);
        config_done(&c);
}

static void test_groups(void) {
        Config c;

        parse_ok(&c, "[Connector]\nGroups=2\n");
        CHECK_EQ_INT(c.groups, GROUP_BIT(2));

        parse_ok(&c, "[Connector]\nGroups=1 2\t 32\t\t5\n");
        CHECK_EQ_INT(c.groups, GROUP_BIT(1) | GROUP_BIT(2) | GROUP_BIT(5) | GROUP_BIT(32));
        CHECK_EQ_INT(c.groups, UINT32_C(0x80000013));

        parse_ok(&c, "[Connector]\nGroups=3 3 03 3\n");
        CHECK_EQ_INT(c.groups, GROUP_BIT(3));

        parse_ok(&c, "[Connector]\nGroups=\n");
        CHECK_EQ_INT(c.groups, 0);

        parse_ok(&c, "[Connector]\nGroups=   \n");
        CHECK_EQ_INT(c.groups, 0);

        /* Every group on its own. */
        for (unsigned g = 1; g <= CND_GROUP_MAX; g++) {
                _cleanup_(freep) char *t = NULL;

                CHECK(asprintf(&t, "[Connector]\nGroups=%u\nBatchGroups=%u\n", g, g) >= 0);
                parse_ok(&c, t);
                CHECK_EQ_INT(c.groups, GROUP_BIT(g));
                CHECK_EQ_INT(c.batch_groups, GROUP_BIT(g));
        }

        /* BatchGroups need not be a subset of Groups. */
        parse_ok(&c, "[Connector]\nGroups=1\nBatchGroups=7 9\n");
        CHECK_EQ_INT(c.groups, GROUP_BIT(1));
        CHECK_EQ_INT(c.batch_groups, GROUP_BIT(7) | GROUP_BIT(9));

        parse_ok(&c, "[Connector]\nBatchGroups=4\nBatchGroups=\n");
        CHECK_EQ_INT(c.batch_groups, 0);

        const char *keys[] = { "Groups", "BatchGroups" };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                CHECK_BAD_VALUE("Connector", keys[i], "0", "invalid group '0'");
                CHECK_BAD_VALUE("Connector", keys[i], "33", "invalid group '33'");
                CHECK_BAD_VALUE("Connector", keys[i], "1 2 33", "invalid group '33'");
                CHECK_BAD_VALUE("Connector", keys[i], "x", "invalid group 'x'");
                CHECK_BAD_VALUE("Connector", keys[i], "1 x 2", "invalid group 'x'");
                CHECK_BAD_VALUE("Connector", keys[i], "+1", "invalid group '+1'");
                CHECK_BAD_VALUE("Connector", keys[i], "-1", "invalid group '-1'");
                CHECK_BAD_VALUE("Connector", keys[i], "1,2", "invalid group '1,2'");
                CHECK_BAD_VALUE("Connector", keys[i], "0x1", "invalid group '0x1'");
                CHECK_BAD_VALUE("Connector", keys[i], "1.0", "invalid group '1.0'");
                CHECK_BAD_VALUE("Connector", keys[i], "4294967297", "invalid group '4294967297'");
                CHECK_BAD_VALUE("Connector", keys[i], "99999999999999999999999",
                                "invalid group '99999999999999999999999'");
                /* A '#' glued to a value is part of it, and no group. */
                CHECK_BAD_VALUE("Connector", keys[i], "1#first", "invalid group '1#first'");

                _cleanup_(freep) char *t = one("Connector", keys[i], "0");
                CHECK_PARSE_ERROR(t, 2, keys[i]);
        }
}

static void test_booleans(void) {
        static const char *const yes[] = { "yes", "YES", "Yes", "true", "TRUE", "on", "On", "1" };
        static const char *const no[] = { "no", "NO", "false", "False", "off", "OFF", "0" };
        static const struct {
                const char *section, *key;
                size_t offset;
        } keys[] = {
                { "Connector", "AcceptUserspaceSenders", offsetof(Config, accept_userspace_senders) },
                { "Proc", "RawMessages", offsetof(Config, proc_raw_messages) },
        };

        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                Config c;

                for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                        _cleanup_(freep) char *t = one(keys[k].section, keys[k].key, yes[i]);

                        parse_ok(&c, t);
                        CHECK(*(bool *) ((uint8_t *) &c + keys[k].offset));
                }
                for (size_t i = 0; i < ELEMENTSOF(no); i++) {
                        _cleanup_(freep) char *t = NULL;

                        /* Set it first, so that "no" visibly changes something. */
                        CHECK(asprintf(&t, "[%s]\n%s=yes\n%s=%s\n", keys[k].section, keys[k].key,
                                       keys[k].key, no[i]) >= 0);
                        parse_ok(&c, t);
                        CHECK(!*(bool *) ((uint8_t *) &c + keys[k].offset));
                }

                /* Empty resets to the default (no). */
                _cleanup_(freep) char *t = NULL;
                CHECK(asprintf(&t, "[%s]\n%s=yes\n%s=\n", keys[k].section, keys[k].key,
                               keys[k].key) >= 0);
                parse_ok(&c, t);
                CHECK(!*(bool *) ((uint8_t *) &c + keys[k].offset));

                static const char *const bad[] = { "2", "y", "n", "yess", "enable", "-1", "yes no", "yes#" };
                for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                        _cleanup_(freep) char *b = one(keys[k].section, keys[k].key, bad[i]);
                        _cleanup_(freep) char *quoted = NULL;

                        CHECK(asprintf(&quoted, "'%s'", bad[i]) >= 0);
                        CHECK_PARSE_ERROR(b, 2, quoted);
                        CHECK_PARSE_ERROR(b, 2, keys[k].key);
                }
        }

        /* Booleans of one section are not keys of the other. */
        CHECK_PARSE_ERROR("[Proc]\nAcceptUserspaceSenders=yes\n", 2,
                          "unknown key 'AcceptUserspaceSenders' in section [Proc]");
}

static void test_scan_interval(void) {
        static const struct {
                const char *text;
                uint64_t usec;
        } good[] = {
                { "0", 0 },
                { "5", 5 * USEC_PER_SEC },
                { "0.5", 500000 },
                { "10.25", 10250000 },
                { "5s", 5 * USEC_PER_SEC },
                { "0.5s", 500000 },
                { "0.000001", 1 },
                { "1.123456", 1123456 },
                { "007", 7 * USEC_PER_SEC },
                { "3.10", 3100000 },
                { "86400", UINT64_C(86400) * USEC_PER_SEC },
                { "86400.000000", UINT64_C(86400) * USEC_PER_SEC },
                { "86399.999999", UINT64_C(86400) * USEC_PER_SEC - 1 },
        };
        static const char *const bad[] = {
                "-1", "+1", "1.", ".5", "0.0000001", "1.1234567", "86400.000001", "86401",
                "5 s", "5ms", "5S", "5sec", "1e3", "abc", "0x10", "1,5", "5ss", "s",
                "99999999999999999999999", "18446744073709551616", "5#five",
        };
        Config c;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_(freep) char *t = one("Connector", "ScanIntervalSec", good[i].text);

                parse_ok(&c, t);
                CHECK_EQ_INT(c.scan_interval_usec, good[i].usec);
        }

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(freep) char *t = one("Connector", "ScanIntervalSec", bad[i]);
                _cleanup_(freep) char *quoted = NULL;

                CHECK(asprintf(&quoted, "invalid ScanIntervalSec= value '%s'", bad[i]) >= 0);
                CHECK_PARSE_ERROR(t, 2, quoted);
        }

        parse_ok(&c, "[Connector]\nScanIntervalSec=0\nScanIntervalSec=\n");
        CHECK_EQ_INT(c.scan_interval_usec, 5 * USEC_PER_SEC);
}

static void test_receive_buffer(void) {
        static const struct {
                const char *text;
                uint64_t bytes;
        } good[] = {
                { "4096", 4096 },
                { "4K", 4096 },
                { "4k", 4096 },
                { "5000", 5000 },
                { "512K", 512 * 1024 },
                { "8M", 8 * 1024 * 1024 },
                { "8m", 8 * 1024 * 1024 },
                { "1G", UINT64_C(1) << 30 },
                { "1g", UINT64_C(1) << 30 },
                { "1024M", UINT64_C(1) << 30 },
                { "1073741824", UINT64_C(1) << 30 },
        };
        static const char *const bad[] = {
                "4095", "3K", "0", "0K", "1073741825", "2G", "1025M", "1T", "8MB", "8MiB", "8 M",
                "M", "-1", "+4096", "4.5M", "0x1000", "18446744073709551616",
                "17179869184G", "99999999999999999999999K", "abc", "8M#eight",
        };
        Config c;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_(freep) char *t = one("Connector", "ReceiveBufferSize", good[i].text);

                parse_ok(&c, t);
                CHECK_EQ_INT(c.receive_buffer_bytes, good[i].bytes);
        }

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(freep) char *t = one("Connector", "ReceiveBufferSize", bad[i]);
                _cleanup_(freep) char *quoted = NULL;

                CHECK(asprintf(&quoted, "invalid ReceiveBufferSize= value '%s'", bad[i]) >= 0);
                CHECK_PARSE_ERROR(t, 2, quoted);
        }

        parse_ok(&c, "[Connector]\nReceiveBufferSize=1G\nReceiveBufferSize=\n");
        CHECK_EQ_INT(c.receive_buffer_bytes, 8 * 1024 * 1024);
}

/* A ranged integer key: good values at and inside the bounds, bad ones just outside. */
static void check_ranged(const char *section, const char *key, size_t offset, bool is_uint32,
                         uint64_t min, uint64_t max, uint64_t def) {
        uint64_t values[] = { min, min + 1, (min + max) / 2, max - 1, max };
        Config c;

        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                _cleanup_(freep) char *t = NULL;
                uint64_t got;

                CHECK(asprintf(&t, "[%s]\n%s=%" PRIu64 "\n", section, key, values[i]) >= 0);
                parse_ok(&c, t);
                got = is_uint32 ? *(uint32_t *) ((uint8_t *) &c + offset)
                                : *(unsigned *) ((uint8_t *) &c + offset);
                CHECK_EQ_INT(got, values[i]);
        }

        _cleanup_(freep) char *t = NULL;
        CHECK(asprintf(&t, "[%s]\n%s=%" PRIu64 "\n%s=\n", section, key, max, key) >= 0);
        parse_ok(&c, t);
        CHECK_EQ_INT(is_uint32 ? *(uint32_t *) ((uint8_t *) &c + offset)
                               : *(unsigned *) ((uint8_t *) &c + offset),
                     def);

        char above[32], below[32];
        snprintf(above, sizeof(above), "%" PRIu64, max + 1);
        snprintf(below, sizeof(below), "%" PRIu64, min - 1);
        const char *bad[] = {
                above, min > 0 ? below : "-1", "-1", "+1", "1.5", "abc", "1 2", "0x10", "1e3",
                "4294967296", "18446744073709551616", "99999999999999999999999", "1#one",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(freep) char *b = NULL, *expect = NULL;

                CHECK(asprintf(&b, "[%s]\n%s=%s\n", section, key, bad[i]) >= 0);
                CHECK(asprintf(&expect, "invalid %s= value '%s': expected an integer %" PRIu64
                               "..%" PRIu64, key, bad[i], min, max) >= 0);
                CHECK_PARSE_ERROR(b, 2, expect);
        }
}

static void test_integers(void) {
        check_ranged("Connector", "MaxUnregisteredIds", offsetof(Config, max_unregistered_ids), false,
                     1, 65536, 1024);
        check_ranged("Bus", "MaxQueuedSignals", offsetof(Config, max_queued_signals), false, 64,
                     262144, 8192);
        check_ranged("Bus", "MaxPendingRequests", offsetof(Config, max_pending_requests), false, 1,
                     65536, 256);

        Config c;

        parse_ok(&c, "[Bus]\nMaxQueuedBytes=64K\n");
        CHECK_EQ_INT(c.max_queued_bytes, 64 << 10);
        parse_ok(&c, "[Bus]\nMaxQueuedBytes=1G\nMaxQueuedBytes=\n");
        CHECK_EQ_INT(c.max_queued_bytes, 4 << 20);
        CHECK_BAD_VALUE("Bus", "MaxQueuedBytes", "65535", "invalid MaxQueuedBytes= value '65535'");
        CHECK_BAD_VALUE("Bus", "MaxQueuedBytes", "2G", "invalid MaxQueuedBytes= value '2G'");
        check_ranged("Notify", "Group", offsetof(Config, notify_group), true, 0, 32, 0);
        check_ranged("Journal", "RateLimitBurst", offsetof(Config, journal_rate_limit_burst), false, 0,
                     1000000, 1000);
}

static void test_proc_events(void) {
        Config c;

        parse_ok(&c, "[Proc]\nEvents=fork exit\n");
        CHECK_EQ_INT(c.proc_events, (1U << PROC_KIND_FORK) | (1U << PROC_KIND_EXIT));

        parse_ok(&c, "[Proc]\nEvents=all\n");
        CHECK_EQ_INT(c.proc_events, PROC_KINDS_ALL);

        parse_ok(&c, "[Proc]\nEvents=exec all exec\n");
        CHECK_EQ_INT(c.proc_events, PROC_KINDS_ALL);

        parse_ok(&c, "[Proc]\nEvents=\n");
        CHECK_EQ_INT(c.proc_events, 0);

        parse_ok(&c, "[Proc]\nEvents=\tcomm \t coredump\t\n");
        CHECK_EQ_INT(c.proc_events, (1U << PROC_KIND_COMM) | (1U << PROC_KIND_COREDUMP));

        parse_ok(&c, "[Proc]\nEvents=fork exec uid gid sid ptrace comm coredump exit\n");
        CHECK_EQ_INT(c.proc_events, PROC_KINDS_ALL);

        for (ProcKind k = 0; k < _PROC_KIND_MAX; k++) {
                _cleanup_(freep) char *t = one("Proc", "Events", proc_kind_to_string(k));

                parse_ok(&c, t);
                CHECK_EQ_INT(c.proc_events, 1U << k);
        }

        CHECK_BAD_VALUE("Proc", "Events", "Fork", "unknown event 'Fork' in Events=");
        CHECK_BAD_VALUE("Proc", "Events", "fork foo", "unknown event 'foo' in Events=");
        CHECK_BAD_VALUE("Proc", "Events", "ALL", "unknown event 'ALL' in Events=");
        CHECK_BAD_VALUE("Proc", "Events", "fork,exec", "unknown event 'fork,exec' in Events=");
        CHECK_BAD_VALUE("Proc", "Events", "none", "unknown event 'none' in Events=");
        CHECK_BAD_VALUE("Proc", "Events", "fork#x", "unknown event 'fork#x' in Events=");
}

static void test_reader_group(void) {
        Config c;

        parse_ok(&c, "[Processes]\nReaderGroup=root\nEnabled=no\nArguments=no\n[Journal]\nEvents=exec exit\n");
        CHECK_STREQ(c.reader_group, "root");
        CHECK_EQ_INT(c.reader_gid, 0);
        CHECK(!c.admin_group);
        CHECK(!c.processes_enabled);
        CHECK(!c.processes_arguments);
        CHECK_EQ_INT(c.journal_events, (1U << PROC_KIND_EXEC) | (1U << PROC_KIND_EXIT));
        CHECK(!c.journal_arguments);
        config_done(&c);

        parse_ok(&c, "[Journal]\nArguments=yes\nRateLimitIntervalSec=2.5\nRateLimitBurst=0\n");
        CHECK(c.journal_arguments);
        CHECK_EQ_INT(c.journal_rate_limit_interval_usec, 2500 * USEC_PER_MSEC);
        CHECK_EQ_INT(c.journal_rate_limit_burst, 0);
        config_done(&c);

        parse_ok(&c, "[Processes]\nReaderGroup=root\nReaderGroup=\n");
        CHECK(!c.reader_group);
        config_done(&c);

        CHECK_BAD_VALUE("Processes", "ReaderGroup", "cnd-test-no-such-group-7f3a",
                        "unknown group 'cnd-test-no-such-group-7f3a'");
        CHECK_BAD_VALUE("Journal", "Events", "start", "unknown event 'start' in Events=");
        CHECK_BAD_VALUE("Journal", "RateLimitIntervalSec", "3601", "invalid RateLimitIntervalSec= value '3601'");
}

static void test_admin_group(void) {
        Config c;

        parse_ok(&c, "[Bus]\nAdminGroup=root\n");
        CHECK_STREQ(c.admin_group, "root");
        CHECK_EQ_INT(c.admin_gid, 0);
        config_done(&c);

        parse_ok(&c, "[Bus]\nAdminGroup=0\n");
        CHECK_STREQ(c.admin_group, "0");
        CHECK_EQ_INT(c.admin_gid, 0);
        config_done(&c);

        /* Reassignment frees the old string (valgrind checks), empty resets to root only. */
        parse_ok(&c, "[Bus]\nAdminGroup=root\nAdminGroup=0\nAdminGroup= root \n");
        CHECK_STREQ(c.admin_group, "root");
        config_done(&c);

        parse_ok(&c, "[Bus]\nAdminGroup=root\nAdminGroup=\n");
        CHECK(!c.admin_group);
        CHECK_EQ_INT(c.admin_gid, 0);
        config_done(&c);

        CHECK_BAD_VALUE("Bus", "AdminGroup", "cnd-test-no-such-group-7f3a",
                        "unknown group 'cnd-test-no-such-group-7f3a'");
        CHECK_BAD_VALUE("Bus", "AdminGroup", "4294967295", "unknown group '4294967295'");
        CHECK_BAD_VALUE("Bus", "AdminGroup", "99999999999999999999", "unknown group");
        CHECK_BAD_VALUE("Bus", "AdminGroup", "root#admins", "unknown group 'root#admins'");
        parse_ok(&c, "[Bus]\nAdminGroup=root # admins\n");
        CHECK_STREQ(c.admin_group, "root");
        config_done(&c);

        /* A failing assignment leaves the earlier one alone and leaks nothing. */
        CHECK_PARSE_ERROR("[Bus]\nAdminGroup=root\nAdminGroup=cnd-test-no-such-group-7f3a\n", 3,
                          "unknown group");
}

static void test_syntax(void) {
        Config c;

        /* Whitespace around keys, values and section headers. */
        parse_ok(&c, "  [Connector]  \n  Groups  =  3 4  \n\tScanIntervalSec\t=\t1\t\n");
        CHECK_EQ_INT(c.groups, GROUP_BIT(3) | GROUP_BIT(4));
        CHECK_EQ_INT(c.scan_interval_usec, USEC_PER_SEC);

        /* Later wins; sections may repeat; the last line needs no newline. */
        parse_ok(&c, "[Connector]\nGroups=2\n[Notify]\nGroup=3\n[Connector]\nGroups=5\n"
                     "[Notify]\nGroup=4");
        CHECK_EQ_INT(c.groups, GROUP_BIT(5));
        CHECK_EQ_INT(c.notify_group, 4);

        /* CRLF line ends, and a mix. */
        parse_ok(&c, "# comment\r\n[Connector]\r\nGroups=6 7\r\n\r\n[Proc]\nEvents=fork\r\n"
                     "RawMessages=yes\r\n");
        CHECK_EQ_INT(c.groups, GROUP_BIT(6) | GROUP_BIT(7));
        CHECK_EQ_INT(c.proc_events, 1U << PROC_KIND_FORK);
        CHECK(c.proc_raw_messages);
        CHECK_PARSE_ERROR("[Connector]\r\n\r\nGroups=1\r\nGroups=x\r\n", 4, "invalid group 'x'");

        /* Whole-line comments, and trailing ones after white space (as cnd.conf(5)'s examples have). */
        parse_ok(&c, "#[Bogus]\n;[Bogus]\n[Connector]\n#Groups=x\n  ;Groups=x\nGroups=9\n");
        CHECK_EQ_INT(c.groups, GROUP_BIT(9));
        parse_ok(&c, "[Connector]\nGroups=1 3   # groups joined at start\nScanIntervalSec=5\t; often\n"
                     "AcceptUserspaceSenders=no # tests only\n[Notify]\nGroup=0 # off\n");
        CHECK_EQ_INT(c.groups, GROUP_BIT(1) | GROUP_BIT(3));
        CHECK_EQ_INT(c.scan_interval_usec, 5 * USEC_PER_SEC);
        parse_ok(&c, "[Connector]\nBatchGroups=   # none\n");
        CHECK_EQ_INT(c.batch_groups, 0);

        /* The text need not be NUL-terminated: only size bytes count. */
        {
                static const char text[] = "[Connector]\nGroups=1 2 bogus";
                char *error = NULL;

                config_init(&c);
                CHECK_EQ_INT(config_parse_text(&c, FILENAME, text, strlen("[Connector]\nGroups=1 2"),
                                               &error), 0);
                CHECK(!error);
                CHECK_EQ_INT(c.groups, GROUP_BIT(1) | GROUP_BIT(2));

                char *copy = malloc(strlen(text));
                CHECK(copy);
                memcpy(copy, text, strlen(text)); /* no NUL, valgrind would see an overread */
                CHECK_PARSE_ERROR_N(copy, strlen(text), 2, "invalid group 'bogus'");
                free(copy);
        }

        /* A NULL filename is allowed and named generically. */
        {
                _cleanup_(freep) char *error = NULL;

                config_init(&c);
                CHECK(config_parse_text(&c, NULL, "x", 1, &error) < 0);
                CHECK_CONTAINS(error, ":1: expected Key=Value");
        }

        /* A NULL error pointer is allowed. */
        config_init(&c);
        CHECK_EQ_INT(config_parse_text(&c, FILENAME, "[Nope]", 6, NULL), -EINVAL);

        /* Exact messages for the common mistakes. */
        {
                _cleanup_(freep) char *e = parse_fail_n("[Connector]\nGroups=1\n\n# x\n\nGrups=1\n",
                                                          strlen("[Connector]\nGroups=1\n\n# x\n\nGrups=1\n"));

                CHECK_STREQ(e, FILENAME ":6: unknown key 'Grups' in section [Connector]");
        }
        CHECK_PARSE_ERROR("[Connector]\n[Bogus]\nGroups=1\n", 2, "unknown section [Bogus]");
        CHECK_PARSE_ERROR("[connector]\n", 1, "unknown section [connector]");
        CHECK_PARSE_ERROR("[ Connector ]\n", 1, "unknown section [ Connector ]");
        CHECK_PARSE_ERROR("[]\n", 1, "unknown section []");
        CHECK_PARSE_ERROR("[Connector\n", 1, "invalid section header '[Connector'");
        CHECK_PARSE_ERROR("[\n", 1, "invalid section header '['");
        CHECK_PARSE_ERROR("[Connector] # main\n", 1, "invalid section header");
        CHECK_PARSE_ERROR("[Notify]\nGroups=1\n", 2, "unknown key 'Groups' in section [Notify]");
        CHECK_PARSE_ERROR("[Connector]\ngroups=1\n", 2, "unknown key 'groups' in section [Connector]");
        CHECK_PARSE_ERROR("[Bus]\nGroup=1\n", 2, "unknown key 'Group' in section [Bus]");
        CHECK_PARSE_ERROR("Groups=1\n[Connector]\n", 1, "before any [Section] header");
        CHECK_PARSE_ERROR("# c\n\nGroups=1\n", 3, "'Groups'");
        CHECK_PARSE_ERROR("[Connector]\nGroups 1\n", 2, "expected Key=Value, got 'Groups 1'");
        CHECK_PARSE_ERROR("[Connector]\n\n\nGroups\n", 4, "expected Key=Value");
        CHECK_PARSE_ERROR("garbage\n[Connector]\n", 1, "expected Key=Value");
        CHECK_PARSE_ERROR("[Connector]\n=1\n", 2, "expected Key=Value, got an empty key");
        CHECK_PARSE_ERROR("[Connector]\nGroups=1 \\\n2\n", 2, "invalid group '\\'");

        /* Embedded NUL bytes. */
#define CHECK_NUL_ERROR(literal, line) CHECK_PARSE_ERROR_N(literal, sizeof(literal) - 1, line, "NUL byte")
        CHECK_NUL_ERROR("[Connector]\nGroups=1\0 2\n", 2);
        CHECK_NUL_ERROR("[Connector]\n\n# x\0y\n", 3);
        CHECK_NUL_ERROR("\0", 1);
        CHECK_NUL_ERROR("[Connector]\nGroups=1\n\0", 3);
#undef CHECK_NUL_ERROR

        /* Lines of 4096 bytes are fine (also with CRLF), 4097 are not, not even comments. */
        {
                size_t n = 4096;
                _cleanup_(freep) char *t = malloc(n + 64);
                char *p;

                CHECK(t);
                p = stpcpy(t, "[Connector]\n");
                memset(p, '#', n);
                strcpy(p + n, "\r\nGroups=2\n");
                parse_ok(&c, t);
                CHECK_EQ_INT(c.groups, GROUP_BIT(2));

                p = stpcpy(t, "[Connector]\n");
                memset(p, '#', n + 1);
                strcpy(p + n + 1, "\nGroups=2\n");
                CHECK_PARSE_ERROR(t, 2, "line too long");

                /* A long value is reported as too long, not as a bad value. */
                p = stpcpy(t, "[Connector]\nGroups=");
                memset(p, '1', n);
                p[n] = 0;
                CHECK_PARSE_ERROR(t, 2, "line too long");
        }

        /* Empty values: lists become empty, scalars go back to their defaults. */
        parse_ok(&c,
                 "[Connector]\nGroups=3\nAcceptUserspaceSenders=yes\nScanIntervalSec=9\nBatchGroups=3\n"
                 "ReceiveBufferSize=1G\nMaxUnregisteredIds=5\n"
                 "[Notify]\nGroup=9\n"
                 "[Proc]\nEvents=fork\nRawMessages=yes\n"
                 "[Bus]\nAdminGroup=root\nMaxQueuedSignals=64\n"
                 "[Connector]\nGroups=\nAcceptUserspaceSenders=\nScanIntervalSec=\nBatchGroups=\n"
                 "ReceiveBufferSize=\nMaxUnregisteredIds=\n"
                 "[Notify]\nGroup=\n"
                 "[Proc]\nEvents=\nRawMessages=\n"
                 "[Bus]\nAdminGroup=\nMaxQueuedSignals=\n");
        CHECK_EQ_INT(c.groups, 0);
        CHECK_EQ_INT(c.batch_groups, 0);
        CHECK_EQ_INT(c.proc_events, 0);
        c.groups = GROUP_BIT(1);
        c.proc_events = PROC_KINDS_ALL;
        check_defaults(&c);
        config_done(&c);

        /* '=' in the value is part of it (and here a bad group). */
        CHECK_PARSE_ERROR("[Connector]\nGroups=1=2\n", 2, "invalid group '1=2'");
}

static void test_load(void) {
        char root[] = "/tmp/test-conf-XXXXXX";
        _cleanup_(freep) char *d1 = NULL, *d2 = NULL, *d3 = NULL, *missing = NULL, *main_file = NULL;
        Config c;
        char *error = NULL;
        int r;

        CHECK(mkdtemp(root));
        d1 = make_dir(root, "d1");
        d2 = make_dir(root, "d2");
        d3 = make_dir(root, "d3");
        CHECK(asprintf(&missing, "%s/missing.d", root) >= 0);
        CHECK(asprintf(&main_file, "%s/cnd.conf", root) >= 0);

        const char *const dirs[] = { d1, missing, d2, d3, NULL };

        /* Nothing at all: the defaults. */
        r = config_load(&c, main_file, false, dirs, &error);
        CHECK_EQ_INT(r, 0);
        CHECK(!error);
        check_defaults(&c);
        config_done(&c);

        r = config_load(&c, NULL, true, NULL, &error);
        CHECK_EQ_INT(r, 0);
        check_defaults(&c);
        config_done(&c);

        /* A missing main file the user named is an error. */
        r = config_load(&c, main_file, true, dirs, &error);
        CHECK_EQ_INT(r, -ENOENT);
        CHECK_CONTAINS(error, main_file);
        CHECK_CONTAINS(error, ": No such file or directory");
        check_defaults(&c);
        error = mfree(error);

        write_file(root, "cnd.conf",
                   "[Connector]\nGroups=1\nMaxUnregisteredIds=11\n[Bus]\nMaxQueuedSignals=200\n"
                   "AdminGroup=root\n");

        /* Masking: d3/50-m.conf replaces d1/50-m.conf, so RawMessages stays off. */
        write_file(d1, "50-m.conf", "[Proc]\nRawMessages=yes\n");
        write_file(d3, "50-m.conf", "[Notify]\nGroup=7\n");

        /* Sorting is by file name across directories, not by directory. */
        write_file(d2, "20-b.conf", "[Connector]\nGroups=3\n");
        write_file(d1, "30-c.conf", "[Connector]\nGroups=4\n");
        write_file(d3, "10-x.conf", "[Connector]\nScanIntervalSec=3\n");
        write_file(d1, "90-z.conf", "[Connector]\nScanIntervalSec=7\n");
        write_file(d2, "05-first.conf", "[Bus]\nMaxQueuedSignals=100\n");

        /* Not drop-ins: hidden, wrong suffix, directories, dangling symlinks. */
        write_file(d1, ".hidden.conf", "bogus\n");
        write_file(d1, "README", "bogus\n");
        write_file(d1, "99.conf.bak", "bogus\n");
        write_file(d1, "conf", "bogus\n");
        write_file(d2, ".conf", "bogus\n");
        {
                _cleanup_(freep) char *sub = make_dir(d2, "70-dir.conf");
                _cleanup_(freep) char *link = NULL;

                write_file(sub, "inner.conf", "bogus\n");
                CHECK(asprintf(&link, "%s/80-dangling.conf", d3) >= 0);
                CHECK(symlink("/nonexistent/cnd-test", link) == 0);
        }

        /* A symlink to /dev/null masks a drop-in that would otherwise fail. */
        write_file(d1, "40-null.conf", "bogus\n");
        {
                _cleanup_(freep) char *link = NULL;

                CHECK(asprintf(&link, "%s/40-null.conf", d2) >= 0);
                CHECK(symlink("/dev/null", link) == 0);
        }

        /* A symlink to a regular file counts. */
        {
                _cleanup_(freep) char *target = NULL, *link = NULL;

                CHECK(asprintf(&target, "%s/target", root) >= 0);
                write_file(root, "target", "[Connector]\nAcceptUserspaceSenders=yes\n");
                CHECK(asprintf(&link, "%s/60-link.conf", d3) >= 0);
                CHECK(symlink(target, link) == 0);
        }

        for (int must_exist = 0; must_exist <= 1; must_exist++) {
                r = config_load(&c, main_file, must_exist, dirs, &error);
                if (r < 0)
                        fprintf(stderr, "%s\n", strempty(error));
                CHECK_EQ_INT(r, 0);
                CHECK(!error);
                CHECK_EQ_INT(c.groups, GROUP_BIT(4));
                CHECK_EQ_INT(c.scan_interval_usec, 7 * USEC_PER_SEC);
                CHECK_EQ_INT(c.notify_group, 7);
                CHECK(!c.proc_raw_messages);
                CHECK(c.accept_userspace_senders);
                CHECK_EQ_INT(c.max_queued_signals, 100);
                CHECK_EQ_INT(c.max_unregistered_ids, 11);
                CHECK_STREQ(c.admin_group, "root");
                CHECK_EQ_INT(c.admin_gid, 0);
                config_done(&c);
        }

        /* Without the main file the drop-ins still apply. */
        CHECK(unlink(main_file) == 0);
        r = config_load(&c, main_file, false, dirs, &error);
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(c.groups, GROUP_BIT(4));
        CHECK_EQ_INT(c.max_unregistered_ids, 1024);
        CHECK(!c.admin_group);
        config_done(&c);
        write_file(root, "cnd.conf",
                   "[Connector]\nGroups=1\nMaxUnregisteredIds=11\n[Bus]\nAdminGroup=root\n");

        /* Without drop-in directories only the main file applies. */
        r = config_load(&c, main_file, true, NULL, &error);
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(c.groups, GROUP_BIT(1));
        CHECK_EQ_INT(c.max_unregistered_ids, 11);
        CHECK_STREQ(c.admin_group, "root");
        config_done(&c);

        /* An invalid drop-in fails the whole load, and *c ends at the defaults. */
        write_file(d2, "60-bad.conf", "# bad\n[Connector]\nGroups=0\n");
        r = config_load(&c, main_file, true, dirs, &error);
        CHECK_EQ_INT(r, -EINVAL);
        CHECK_CONTAINS(error, "/d2/60-bad.conf:3: ");
        CHECK_CONTAINS(error, "invalid group '0'");
        check_defaults(&c);
        error = mfree(error);

        /* The same name in a later directory masks the bad one. */
        write_file(d3, "60-bad.conf", "[Connector]\nBatchGroups=2\n");
        r = config_load(&c, main_file, true, dirs, &error);
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(c.batch_groups, GROUP_BIT(2));
        config_done(&c);

        /* An invalid main file. */
        write_file(root, "cnd.conf", "[Connector]\nGroups=1\n[Bus]\nAdminGroup=cnd-test-no-such-group-7f3a\n");
        r = config_load(&c, main_file, false, dirs, &error);
        CHECK(r < 0);
        CHECK_CONTAINS(error, "/cnd.conf:4: unknown group 'cnd-test-no-such-group-7f3a'");
        check_defaults(&c);
        error = mfree(error);
        write_file(root, "cnd.conf", "[Connector]\nGroups=1\n");

        /* A main file that is a directory. */
        r = config_load(&c, d1, false, NULL, &error);
        CHECK_EQ_INT(r, -EISDIR);
        CHECK_CONTAINS(error, d1);
        check_defaults(&c);
        error = mfree(error);

        /* Files over 1 MiB: exactly 1 MiB is fine, one byte more is not. */
        {
                size_t n = 1024 * 1024;
                _cleanup_(freep) char *big = malloc(n + 2);

                CHECK(big);
                memset(big, '\n', n + 1);
                big[n + 1] = 0;
                write_file(d1, "55-big.conf", big);
                r = config_load(&c, main_file, true, dirs, &error);
                CHECK_EQ_INT(r, -EFBIG);
                CHECK_CONTAINS(error, "/d1/55-big.conf: file too large");
                check_defaults(&c);
                error = mfree(error);

                big[n] = 0;
                write_file(d1, "55-big.conf", big);
                r = config_load(&c, main_file, true, dirs, &error);
                CHECK_EQ_INT(r, 0);
                config_done(&c);
        }

        /* An unreadable drop-in (root reads anything, so only as a normal user). */
        if (geteuid() != 0) {
                _cleanup_(freep) char *path = NULL;

                write_file(d2, "56-secret.conf", "[Connector]\nGroups=1\n");
                CHECK(asprintf(&path, "%s/56-secret.conf", d2) >= 0);
                CHECK(chmod(path, 0) == 0);
                r = config_load(&c, main_file, true, dirs, &error);
                CHECK_EQ_INT(r, -EACCES);
                CHECK_CONTAINS(error, path);
                CHECK_CONTAINS(error, "Permission denied");
                check_defaults(&c);
                error = mfree(error);
                CHECK(unlink(path) == 0);
        }

        /* At most 256 drop-ins, counted after masking. */
        {
                _cleanup_(freep) char *many = make_dir(root, "many");
                const char *const many_dirs[] = { many, d1, many, NULL };

                for (unsigned i = 0; i < 256; i++) {
                        char name[32];

                        snprintf(name, sizeof(name), "%03u.conf", i);
                        write_file(many, name, "[Connector]\n");
                }
                r = config_load(&c, NULL, false, (const char *const[]) { many, many, NULL }, &error);
                CHECK_EQ_INT(r, 0);
                config_done(&c);

                r = config_load(&c, NULL, false, many_dirs, &error);
                CHECK_EQ_INT(r, -E2BIG);
                CHECK_CONTAINS(error, "too many drop-ins");
                check_defaults(&c);
                error = mfree(error);
        }

        rm_rf(root);
        CHECK(access(root, F_OK) < 0 && errno == ENOENT);
}

/* Values that differ from c's and from the defaults everywhere, so that text parsed on top of
 * them must set every key. */
static void config_init_unlike(Config *parsed, const Config *c) {
        config_init(parsed);
        parsed->groups = parsed->batch_groups = parsed->stream_only_groups = UINT32_C(0xdeadbeef);
        parsed->streams_max_per_user = parsed->streams_max = 4095;
        parsed->proc_events = 0x5a;
        parsed->scan_interval_usec = 12345;
        parsed->receive_buffer_bytes = 12345;
        parsed->max_queued_bytes = 12345;
        parsed->max_unregistered_ids = parsed->max_queued_signals = parsed->max_pending_requests = 12345;
        parsed->notify_group = 31;
        parsed->accept_userspace_senders = !c->accept_userspace_senders;
        parsed->proc_raw_messages = !c->proc_raw_messages;
        parsed->admin_gid = 4242;
}

static void check_round_trip(const Config *c) {
        _cleanup_(freep) char *dump = NULL, *dump2 = NULL;
        _cleanup_(config_done) Config parsed;
        char *error = NULL;
        int r;

        CHECK_EQ_INT(config_dump(c, &dump), 0);
        CHECK(dump);

        config_init_unlike(&parsed, c);

        r = config_parse_text(&parsed, "dump", dump, strlen(dump), &error);
        if (r < 0)
                fprintf(stderr, "%s\n---\n%s", strempty(error), dump);
        CHECK_EQ_INT(r, 0);
        CHECK(config_equal(c, &parsed));

        /* And the dump is stable. */
        CHECK_EQ_INT(config_dump(&parsed, &dump2), 0);
        CHECK_STREQ(dump, dump2);
}

static void test_dump(void) {
        _cleanup_(freep) char *dump = NULL;
        Config c;

        config_init(&c);
        CHECK_EQ_INT(config_dump(&c, &dump), 0);
        CHECK_STREQ(dump,
                    "[Connector]\n"
                    "Groups=1\n"
                    "AcceptUserspaceSenders=no\n"
                    "ScanIntervalSec=5\n"
                    "BatchGroups=\n"
                    "StreamOnlyGroups=\n"
                    "ReceiveBufferSize=8M\n"
                    "MaxUnregisteredIds=1024\n"
                    "\n[Notify]\n"
                    "Group=0\n"
                    "\n[Proc]\n"
                    "Events=fork exec uid gid sid ptrace comm coredump exit\n"
                    "RawMessages=no\n"
                    "\n[Processes]\n"
                    "Enabled=yes\n"
                    "Arguments=yes\n"
                    "ReaderGroup=\n"
                    "\n[Journal]\n"
                    "Events=\n"
                    "Arguments=no\n"
                    "RateLimitIntervalSec=30\n"
                    "RateLimitBurst=1000\n"
                    "\n[Bus]\n"
                    "AdminGroup=\n"
                    "MaxQueuedSignals=8192\n"
                    "MaxQueuedBytes=4M\n"
                    "MaxPendingRequests=256\n"
                    "\n[Streams]\n"
                    "MaxPerUser=16\n"
                    "MaxStreams=256\n");
        check_round_trip(&c);

        parse_ok(&c,
                 "[Connector]\nGroups=1 2 17 32\nAcceptUserspaceSenders=yes\nScanIntervalSec=0.25\n"
                 "BatchGroups=32 5\nStreamOnlyGroups=7\nReceiveBufferSize=5000\nMaxUnregisteredIds=1\n"
                 "[Notify]\nGroup=32\n"
                 "[Proc]\nEvents=exit comm\nRawMessages=on\n"
                 "[Bus]\nAdminGroup=root\nMaxQueuedSignals=262144\nMaxQueuedBytes=65536\n"
                 "[Streams]\nMaxPerUser=0\nMaxStreams=4096\n");
        check_round_trip(&c);
        free(dump);
        CHECK_EQ_INT(config_dump(&c, &dump), 0);
        CHECK_CONTAINS(dump, "Groups=1 2 17 32\n");
        CHECK_CONTAINS(dump, "BatchGroups=5 32\n");
        CHECK_CONTAINS(dump, "StreamOnlyGroups=7\n");
        CHECK_CONTAINS(dump, "MaxPerUser=0\n");
        CHECK_CONTAINS(dump, "MaxStreams=4096\n");
        CHECK_CONTAINS(dump, "ScanIntervalSec=0.25\n");
        CHECK_CONTAINS(dump, "ReceiveBufferSize=5000\n");
        CHECK_CONTAINS(dump, "Events=comm exit\n");
        CHECK_CONTAINS(dump, "AdminGroup=root\n");
        config_done(&c);

        parse_ok(&c, "[Connector]\nGroups=\nScanIntervalSec=86399.999999\nReceiveBufferSize=1G\n"
                     "[Proc]\nEvents=\n[Bus]\nAdminGroup=0\n");
        check_round_trip(&c);
        config_done(&c);

        /* Many valid configs, built field by field from a fixed pseudo-random sequence. */
        uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
        for (unsigned i = 0; i < 2000; i++) {
#define NEXT() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
                config_init(&c);
                c.groups = (uint32_t) NEXT();
                c.accept_userspace_senders = NEXT() & 1;
                c.scan_interval_usec = NEXT() % (UINT64_C(86400) * USEC_PER_SEC + 1);
                if (i % 3 == 0)
                        c.scan_interval_usec -= c.scan_interval_usec % USEC_PER_SEC;
                c.batch_groups = (uint32_t) NEXT();
                c.receive_buffer_bytes = 4096 + NEXT() % ((UINT64_C(1) << 30) - 4096 + 1);
                if (i % 4 == 0)
                        c.receive_buffer_bytes = (4 + NEXT() % 1021) << 10;
                if (i % 4 == 1)
                        c.receive_buffer_bytes = (1 + NEXT() % 1024) << 20;
                c.max_unregistered_ids = 1 + (unsigned) (NEXT() % 65536);
                c.max_pending_requests = 1 + (unsigned) (NEXT() % 65536);
                c.notify_group = (uint32_t) (NEXT() % 33);
                c.proc_events = (uint32_t) NEXT() & PROC_KINDS_ALL;
                c.proc_raw_messages = NEXT() & 1;
                if (NEXT() & 1) {
                        c.admin_group = strdup(NEXT() & 1 ? "root" : "0");
                        CHECK(c.admin_group);
                }
                c.max_queued_signals = (unsigned) (64 + NEXT() % (262144 - 64 + 1));
                c.max_queued_bytes = (UINT64_C(64) << 10) + NEXT() % ((UINT64_C(1) << 30) - (UINT64_C(64) << 10) + 1);
#undef NEXT
                check_round_trip(&c);
                config_done(&c);
        }
}

/* Text that sets every key of the table to the given values (one per item, NULL for the
 * table's default), each under its own header. */
static char *text_of_values(const char *const *values) {
        const ConfigItem *items;
        char *text = NULL;
        size_t n, size = 0;
        FILE *f;

        items = config_items(&n);
        f = open_memstream(&text, &size);
        CHECK(f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "[%s]\n%s=%s\n", items[i].section, items[i].key,
                        values ? values[i] : items[i].default_value);
        CHECK(fclose(f) == 0);
        return text;
}

/* text parsed on top of values unlike the defaults must dump as config_init() does. */
static void check_sets_defaults(const char *text) {
        _cleanup_(freep) char *expected = NULL, *got = NULL, *error = NULL;
        _cleanup_(config_done) Config defaults, c;
        int r;

        config_init(&defaults);
        CHECK_EQ_INT(config_dump(&defaults, &expected), 0);

        config_init_unlike(&c, &defaults);
        r = config_parse_text(&c, "defaults", text, strlen(text), &error);
        if (r < 0)
                fprintf(stderr, "%s\n---\n%s", strempty(error), text);
        CHECK_EQ_INT(r, 0);
        CHECK(config_equal(&c, &defaults));
        CHECK_EQ_INT(config_dump(&c, &got), 0);
        CHECK_STREQ(got, expected);
}

/* The table: every default parses, alone and all together, and sets what config_init() sets;
 * no key is listed twice; a section's keys stand together, so config_dump() writes each
 * header once. */
static void test_table(void) {
        const ConfigItem *items;
        size_t n;

        items = config_items(&n);
        CHECK(n > 0);

        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *t = one(items[i].section, items[i].key, items[i].default_value);
                Config c;

                parse_ok(&c, t);
                config_done(&c);

                for (size_t j = 0; j < i; j++) {
                        CHECK(!streq(items[j].section, items[i].section) ||
                              !streq(items[j].key, items[i].key));
                        CHECK(!streq(items[j].section, items[i].section) ||
                              streq(items[i - 1].section, items[i].section));
                }
        }

        _cleanup_(freep) char *all = text_of_values(NULL);
        check_sets_defaults(all);
}

/* "Default: _8M_." or "Default: empty." in the entry text, white space already folded. NULL if
 * the entry has none. */
static char *documented_default(const char *entry) {
        const char *p = strstr(entry, "Default: ");

        if (!p)
                return NULL;
        p += strlen("Default: ");
        if (strncmp(p, "empty.", strlen("empty.")) == 0)
                return strdup("");
        CHECK(*p == '_');
        CHECK(strchr(p + 1, '_'));
        return strndup(p + 1, (size_t) (strchr(p + 1, '_') - (p + 1)));
}

/* cnd.conf(5) documents every key of the table, under its section's heading, with the table's
 * default: "# [Connector] SECTION OPTIONS", then "*Groups=*", its text, "Default: _1_.". */
static void test_documented_defaults(const char *man_page) {
        _cleanup_(freep) char *man = NULL, *text = NULL;
        const ConfigItem *items;
        size_t n, size = 0, found = 0;
        char **documented;

        if (!man_page) {
                fprintf(stderr, "cnd.conf(5) not given, not comparing its defaults\n");
                return;
        }

        items = config_items(&n);
        documented = calloc(n, sizeof(char *));
        CHECK(documented);
        CHECK_EQ_INT(read_full_file(man_page, 1024 * 1024, &man, &size), 0);

        /* Walks the lines, collecting each key's entry up to the next key or heading. */
        char section[64] = "", key[64] = "", entry[4096] = "";
        char *state = NULL;
        for (char *l = strtok_r(man, "\n", &state);; l = strtok_r(NULL, "\n", &state)) {
                bool heading = l && l[0] == '#', is_key = l && l[0] == '*' && strlen(l) > 3 &&
                        streq(l + strlen(l) - 2, "=*") && !strchr(l, ' ');

                if (!l || heading || is_key) {
                        for (size_t i = 0; key[0] && i < n; i++)
                                if (streq(items[i].section, section) && streq(items[i].key, key)) {
                                        CHECK(!documented[i]);
                                        documented[i] = documented_default(entry);
                                        if (!documented[i])
                                                fprintf(stderr, "[%s] %s= has no default\n", section, key);
                                        CHECK(documented[i]);
                                        found++;
                                }
                        key[0] = entry[0] = 0;
                }
                if (!l)
                        break;
                if (heading && sscanf(l, "# [%63[A-Za-z]] SECTION OPTIONS", section) != 1)
                        section[0] = 0;
                else if (is_key && section[0])
                        snprintf(key, sizeof(key), "%.*s", (int) strlen(l) - 3, l + 1);
                else if (key[0]) {
                        /* Folds the line breaks and tabs of a wrapped "Default:\n\t_1024_.". */
                        l += strspn(l, " \t");
                        CHECK(strlen(entry) + strlen(l) + 2 < sizeof(entry));
                        strcat(strcat(entry, " "), l);
                }
        }

        for (size_t i = 0; i < n; i++) {
                if (!documented[i])
                        fprintf(stderr, "[%s] %s= is not in %s\n", items[i].section, items[i].key, man_page);
                CHECK(documented[i]);
                CHECK_STREQ(documented[i], items[i].default_value);
        }
        CHECK_EQ_INT(found, n);

        /* And the documented defaults, written in a file, are the defaults. */
        text = text_of_values((const char *const *) documented);
        check_sets_defaults(text);

        for (size_t i = 0; i < n; i++)
                free(documented[i]);
        free(documented);
}

int main(int argc, char *argv[]) {
        test_proc_kind();
        test_defaults();
        test_groups();
        test_booleans();
        test_scan_interval();
        test_receive_buffer();
        test_integers();
        test_proc_events();
        test_admin_group();
        test_reader_group();
        test_syntax();
        test_load();
        test_dump();
        test_table();
        test_documented_defaults(argc > 1 ? argv[1] : NULL);
        return EXIT_SUCCESS;
}
