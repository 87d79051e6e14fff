/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Unit tests for daemon/relay/idtable.c: the /proc/net/connector parser on the kernel's own format and
 * on everything it must refuse, the table's scan diff and the events it reports, the bound on
 * unregistered ids with least-recently-active eviction, notifications, the lookup cache (run
 * under ASan or valgrind to prove it never returns a freed entry), the object paths, and a
 * seeded random run against a simple model. */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>

#include "idtable.h"
#include "tests.h"
#include "util.h"

/* Records the table's events: counts, and a log like "created 1:1 registered 1:1". */
typedef struct Recorder {
        IdTable *table;
        unsigned created, destroyed, registered, unregistered;
        char log[4096];
        size_t log_len;
        bool log_overflow;
        char registered_name[CN_NAME_MAX];      /* id->name at the last registered event */
        char unregistered_name[CN_NAME_MAX];    /* id->name at the last unregistered event */
} Recorder;

/* Starts a new log; the counts go on, so that they always add up to the table's size. */
static void recorder_clear_log(Recorder *r) {
        r->log[0] = '\0';
        r->log_len = 0;
        r->log_overflow = false;
        r->registered_name[0] = r->unregistered_name[0] = '\0';
}

static bool table_holds(const IdTable *t, const CnId *id) {
        for (size_t i = 0; i < t->n; i++)
                if (t->ids[i] == id)
                        return true;
        return false;
}

static void record(Recorder *r, const char *event, const CnId *id) {
        int k;

        if (r->log_overflow)
                return;
        k = snprintf(r->log + r->log_len, sizeof(r->log) - r->log_len, "%s%s %" PRIu32 ":%" PRIu32,
                     r->log_len > 0 ? " " : "", event, id->idx, id->val);
        CHECK(k > 0);
        if ((size_t) k >= sizeof(r->log) - r->log_len) {
                r->log_overflow = true;
                r->log[r->log_len] = '\0';
                return;
        }
        r->log_len += (size_t) k;
}

static void on_created(CnId *id, void *userdata) {
        Recorder *r = userdata;

        CHECK(table_holds(r->table, id));
        r->created++;
        record(r, "created", id);
}

static void on_destroyed(CnId *id, void *userdata) {
        Recorder *r = userdata;

        /* Told before the entry goes, so that the Manager can still use it. */
        CHECK(table_holds(r->table, id));
        CHECK(!id->registered);
        r->destroyed++;
        record(r, "destroyed", id);
}

static void on_registered(CnId *id, void *userdata) {
        Recorder *r = userdata;

        CHECK(table_holds(r->table, id));
        CHECK(id->registered);
        r->registered++;
        snprintf(r->registered_name, sizeof(r->registered_name), "%s", id->name);
        record(r, "registered", id);
}

static void on_unregistered(CnId *id, void *userdata) {
        Recorder *r = userdata;

        CHECK(table_holds(r->table, id));
        CHECK(!id->registered);
        r->unregistered++;
        snprintf(r->unregistered_name, sizeof(r->unregistered_name), "%s", id->name);
        record(r, "unregistered", id);
}

static const IdTableEvents recorder_events = {
        .created = on_created,
        .destroyed = on_destroyed,
        .registered = on_registered,
        .unregistered = on_unregistered,
};

static void table_init(IdTable *t, Recorder *r, unsigned max_unregistered) {
        *r = (Recorder) { .table = t };
        idtable_init(t, max_unregistered, &recorder_events, r);
}

/* The entry at (idx, val) by a plain search, leaving the lookup cache alone. */
static CnId *lookup(const IdTable *t, uint32_t idx, uint32_t val) {
        for (size_t i = 0; i < t->n; i++)
                if (t->ids[i]->idx == idx && t->ids[i]->val == val)
                        return t->ids[i];
        return NULL;
}

/* What must hold after every operation. The tests, like the Manager, count a message on every
 * entry idtable_get_for_message() returns, so an unregistered entry has always received one. */
static void check_table(const IdTable *t, const Recorder *r) {
        size_t unregistered = 0;
        char path[CN_ID_PATH_MAX];

        CHECK(t->n <= t->allocated);
        CHECK(t->n == 0 || t->ids);
        for (size_t i = 0; i < t->n; i++) {
                const CnId *id = t->ids[i];

                if (i > 0)
                        CHECK(t->ids[i - 1]->idx < id->idx ||
                              (t->ids[i - 1]->idx == id->idx && t->ids[i - 1]->val < id->val));
                CHECK(memchr(id->name, '\0', sizeof(id->name)));
                cn_id_format_path(path, id->idx, id->val);
                CHECK_STREQ(id->path, path);
                CHECK(id->last_active <= t->clock);
                if (!id->registered) {
                        unregistered++;
                        CHECK(id->received > 0);
                }
        }
        CHECK_EQ_INT(t->n_unregistered, unregistered);
        CHECK(t->n_unregistered <= t->max_unregistered);
        CHECK(!t->last || table_holds(t, t->last));
        if (r)
                CHECK_EQ_INT(r->created - r->destroyed, t->n);
}

/* One accepted message, as the Manager handles it. */
static CnId *message(IdTable *t, uint32_t idx, uint32_t val, bool *created) {
        CnId *id = idtable_get_for_message(t, idx, val, created);

        CHECK(id);
        CHECK_EQ_INT(id->idx, idx);
        CHECK_EQ_INT(id->val, val);
        CHECK_EQ_INT(id->last_active, t->clock);
        id->received++;
        return id;
}

static ConnectorEntry *parse(const char *text, size_t *n, unsigned *n_bad) {
        ConnectorEntry *entries = NULL;

        *n = SIZE_MAX;
        CHECK_EQ_INT(connector_list_parse(text, strlen(text), &entries, n, n_bad), 0);
        CHECK(*n != SIZE_MAX);
        CHECK(*n == 0 || entries);
        for (size_t i = 0; i < *n; i++) {
                CHECK(memchr(entries[i].name, '\0', sizeof(entries[i].name)));
                if (i > 0)
                        CHECK(entries[i - 1].idx < entries[i].idx ||
                              (entries[i - 1].idx == entries[i].idx && entries[i - 1].val < entries[i].val));
        }
        return entries;
}

/* Applies the scan /proc/net/connector would give as text, which must parse cleanly. */
static int scan(IdTable *t, const char *text) {
        _cleanup_(freep) ConnectorEntry *entries = NULL;
        unsigned n_bad;
        size_t n;

        entries = parse(text, &n, &n_bad);
        CHECK_EQ_INT(n_bad, 0);
        return idtable_apply_scan(t, entries, n);
}

#define HEADER "Name            ID\n"

/* Parses size bytes of text into "name=idx:val" items joined by ";", checking the order. */
static char *parse_summary(const char *text, size_t size, unsigned *n_bad) {
        _cleanup_(freep) ConnectorEntry *entries = NULL;
        char *s = NULL;
        size_t n = SIZE_MAX, len = 0;
        FILE *f = open_memstream(&s, &len);

        CHECK(f);
        CHECK_EQ_INT(connector_list_parse(text, size, &entries, &n, n_bad), 0);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        CHECK(entries[i - 1].idx < entries[i].idx ||
                              (entries[i - 1].idx == entries[i].idx && entries[i - 1].val < entries[i].val));
                fprintf(f, "%s%s=%" PRIu32 ":%" PRIu32, i > 0 ? ";" : "", entries[i].name,
                        entries[i].idx, entries[i].val);
        }
        CHECK(fclose(f) == 0);
        return s;
}

/* The parse of text must give expected and count bad lines as bad. A macro so that a failure
 * names the test case. */
#define CHECK_PARSE_N(text, size, expected, bad)                                        \
        do {                                                                            \
                unsigned _bad_ = UINT_MAX;                                              \
                _cleanup_(freep) char *_s_ = parse_summary((text), (size), &_bad_);     \
                CHECK_STREQ(_s_, (expected));                                           \
                CHECK_EQ_INT(_bad_, (bad));                                             \
        } while (0)

#define CHECK_PARSE(text, expected, bad) CHECK_PARSE_N((text), strlen(text), (expected), (bad))

static void test_parse_kernel_format(void) {
        char text[512];

        /* Exactly what the kernel's cn_proc_show() prints. */
        snprintf(text, sizeof(text), "Name            ID\n%-15s %u:%u\n%-15s %u:%u\n%-15s %u:%u\n",
                 "cn_proc", 1U, 1U, "cnfeed", 11U, 0U, "cnfeed_data", 11U, 4294967295U);
        CHECK_PARSE(text, "cn_proc=1:1;cnfeed=11:0;cnfeed_data=11:4294967295", 0);

        /* A name as long as the kernel allows (CN_CBQ_NAMELEN - 1), past the column width. */
        snprintf(text, sizeof(text), HEADER "%-15s %u:%u\n", "abcdefghijklmnopqrstuvwxyz01234", 7U, 8U);
        CHECK_PARSE(text, "abcdefghijklmnopqrstuvwxyz01234=7:8", 0);

        CHECK_PARSE(HEADER "w1              3:1\n", "w1=3:1", 0);
        CHECK_PARSE(HEADER "x               0:0\n", "x=0:0", 0);
        CHECK_PARSE(HEADER "x               4294967295:4294967295\n", "x=4294967295:4294967295", 0);

        /* Nothing registered, nothing at all, blank lines. */
        CHECK_PARSE(HEADER, "", 0);
        CHECK_PARSE("", "", 0);
        CHECK_PARSE("\n\n\n", "", 0);
        CHECK_PARSE(HEADER "\na 1:2\n\n", "a=1:2", 0);

        /* No header: still parsed. */
        CHECK_PARSE("cn_proc         1:1\n", "cn_proc=1:1", 0);

        /* The last line without its newline. */
        CHECK_PARSE(HEADER "cn_proc         1:1", "cn_proc=1:1", 0);
        CHECK_PARSE(HEADER "a 1:1\nb 2:2", "a=1:1;b=2:2", 0);
        CHECK_PARSE_N(HEADER "a 1:1\nb 2:23", strlen(HEADER "a 1:1\nb 2:2"), "a=1:1;b=2:2", 0);
        CHECK_PARSE_N(HEADER "a 1:1\nb 2:2\n", 0, "", 0);

        /* An empty result is an empty array, and n_bad is reset. */
        {
                ConnectorEntry *entries = (ConnectorEntry *) 1;
                unsigned n_bad = 77;
                size_t n = 77;

                CHECK_EQ_INT(connector_list_parse("", 0, &entries, &n, &n_bad), 0);
                CHECK_EQ_INT(n, 0);
                CHECK_EQ_INT(n_bad, 0);
                free(entries);
        }
}

static void test_parse_names(void) {
        char text[256], name[64];

        /* The id is the last field; the name is everything before it, spaces and all. */
        CHECK_PARSE(HEADER "my driver       3:4\n", "my driver=3:4", 0);
        CHECK_PARSE(HEADER "a b  c          3:4\n", "a b  c=3:4", 0);
        CHECK_PARSE(HEADER "a:b             3:4\n", "a:b=3:4", 0);
        CHECK_PARSE(HEADER "x\t3:4\n", "x=3:4", 0);
        CHECK_PARSE(HEADER "x 3:4   \n", "x=3:4", 0);
        CHECK_PARSE(HEADER "x 3:4 \t \n", "x=3:4", 0);
        CHECK_PARSE(HEADER "x\t \t3:4\n", "x=3:4", 0);

        /* Empty names. */
        CHECK_PARSE(HEADER "                3:4\n", "=3:4", 0);
        CHECK_PARSE(HEADER "3:4\n", "=3:4", 0);
        CHECK_PARSE(HEADER "\t3:4\n", "=3:4", 0);

        /* 31 characters fit, 32 and more do not. */
        for (size_t len = 1; len <= 40; len++) {
                memset(name, 'n', len);
                name[len] = '\0';
                snprintf(text, sizeof(text), HEADER "%s 9:9\n", name);
                if (len < CN_NAME_MAX) {
                        char expected[80];

                        snprintf(expected, sizeof(expected), "%s=9:9", name);
                        CHECK_PARSE(text, expected, 0);
                } else
                        CHECK_PARSE(text, "", 1);
        }

        /* A NUL byte cannot be part of a name. */
        CHECK_PARSE_N(HEADER "a\0b 5:5\nc 6:6\n", strlen(HEADER) + 14, "c=6:6", 1);

        /* Names go out as D-Bus strings, which must be UTF-8: only printable ASCII passes. */
        CHECK_PARSE(HEADER "a\x01" "b 5:5\n", "a?b=5:5", 0);
        CHECK_PARSE(HEADER "caf\xc3\xa9 5:5\n", "caf??" "=5:5", 0);
        CHECK_PARSE(HEADER "\xff\x7f 5:5\n", "??" "=5:5", 0);
}

static void test_parse_bad_lines(void) {
        static const char *const bad[] = {
                "nocolon         12",
                "x               1",
                "x               x:1",
                "x               1:x",
                "x               a:b",
                "x               :1",
                "x               1:",
                "x               :",
                "x               -1:1",
                "x               +1:1",
                "x               1:+1",
                "x               0x1:1",
                "x               1:1:1",
                "x               1.5:1",
                "x               4294967296:1",
                "x               1:4294967296",
                "x               99999999999:1",
                "x               1:18446744073709551617",
                "x               1:2x",
                "x               1: 2",
                "x               1 :2",
                "x               1:2 extra",
                "   ",
                "\t",
                "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn 1:1",
                "Name            ID", /* a header is only a header on the first line */
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char text[256];

                snprintf(text, sizeof(text), HEADER "a 1:1\n%s\nb 2:2\n", bad[i]);
                CHECK_PARSE(text, "a=1:1;b=2:2", 1);
                /* And as the last line, without a newline. */
                snprintf(text, sizeof(text), HEADER "a 1:1\nb 2:2\n%s", bad[i]);
                CHECK_PARSE(text, "a=1:1;b=2:2", 1);
        }

        /* Each bad line counts once. */
        CHECK_PARSE(HEADER "x 1\ny 2\nz 3\nok 4:4\nw :\n", "ok=4:4", 4);

        /* CRLF is not what the kernel writes: such lines are refused, not taken with a '\r'
         * in the val or in the name. The header is not recognized either. */
        CHECK_PARSE("Name            ID\r\ncn_proc         1:1\r\ncnfeed          11:0\r\n", "", 3);
        CHECK_PARSE(HEADER "cn_proc         1:1\r\nok 2:2\n", "ok=2:2", 1);
}

static void test_parse_sort_unique(void) {
        CHECK_PARSE(HEADER "c 3:0\nb 2:5\na 1:9\nd 2:4\n", "a=1:9;d=2:4;b=2:5;c=3:0", 0);
        CHECK_PARSE(HEADER "x 4294967295:0\ny 0:4294967295\nz 1:0\n", "y=0:4294967295;z=1:0;x=4294967295:0", 0);
        CHECK_PARSE(HEADER "a 1:1\na 1:1\na 1:1\n", "a=1:1", 0);
        CHECK_PARSE(HEADER "b 2:2\na 1:1\nb 2:2\na 1:1\nc 0:7\n", "c=0:7;a=1:1;b=2:2", 0);

        /* Many lines in random order with many repeats: the output is exactly the set. */
        enum { RANGE = 24 };
        bool present[RANGE][RANGE] = {};
        uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
        char *text = NULL;
        size_t text_size = 0, n = 0, expected_n = 0;
        FILE *f = open_memstream(&text, &text_size);
        ConnectorEntry *entries;
        unsigned n_bad;

        CHECK(f);
        fputs(HEADER, f);
#define NEXT() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
        for (unsigned i = 0; i < 3000; i++) {
                uint32_t idx = (uint32_t) (NEXT() % RANGE), val = (uint32_t) (NEXT() % RANGE);

                if (!present[idx][val])
                        expected_n++;
                present[idx][val] = true;
                fprintf(f, "id%02u_%02u         %u:%u\n", idx, val, idx, val);
        }
#undef NEXT
        CHECK(fclose(f) == 0);

        entries = parse(text, &n, &n_bad);
        CHECK_EQ_INT(n_bad, 0);
        CHECK_EQ_INT(n, expected_n);
        CHECK(expected_n > RANGE * RANGE / 2); /* the set is not trivial */
        for (size_t i = 0; i < n; i++) {
                char name[CN_NAME_MAX];

                CHECK(entries[i].idx < RANGE && entries[i].val < RANGE);
                CHECK(present[entries[i].idx][entries[i].val]);
                snprintf(name, sizeof(name), "id%02u_%02u", entries[i].idx, entries[i].val);
                CHECK_STREQ(entries[i].name, name);
        }
        free(entries);
        free(text);
}

static void test_paths(void) {
        static const char *const bad[] = {
                "",
                "/",
                "/org/cnd/Connector1",
                "/org/cnd/Connector1/id",
                "/org/cnd/Connector1/id/",
                "/org/cnd/Connector1/id/1",
                "/org/cnd/Connector1/id/1/",
                "/org/cnd/Connector1/id//1",
                "/org/cnd/Connector1/id/1//2",
                "/org/cnd/Connector1/id/1/2/",
                "/org/cnd/Connector1/id/1/2/3",
                "/org/cnd/Connector1/id/01/2",
                "/org/cnd/Connector1/id/1/02",
                "/org/cnd/Connector1/id/00/0",
                "/org/cnd/Connector1/id/0/00",
                "/org/cnd/Connector1/id/+1/2",
                "/org/cnd/Connector1/id/1/+2",
                "/org/cnd/Connector1/id/-1/2",
                "/org/cnd/Connector1/id/ 1/2",
                "/org/cnd/Connector1/id/1 /2",
                "/org/cnd/Connector1/id/1/2 ",
                "/org/cnd/Connector1/id/0x1/2",
                "/org/cnd/Connector1/id/a/2",
                "/org/cnd/Connector1/id/1/b",
                "/org/cnd/Connector1/id/4294967296/0",
                "/org/cnd/Connector1/id/0/4294967296",
                "/org/cnd/Connector1/id/10000000000/0",
                "/org/cnd/Connector1/id/18446744073709551616/0",
                "/org/cnd/Connector1/id/0/184467440737095516170",
                "/org/cnd/Connector1/idx/1/2",
                "/org/cnd/Connector1/ids/1/2",
                "/org/cnd/Connector1/Id/1/2",
                "org/cnd/Connector1/id/1/2",
                "//org/cnd/Connector1/id/1/2",
                "/org/cnd/Connector1/proc",
        };
        char path[CN_ID_PATH_MAX];
        uint32_t idx, val;

        cn_id_format_path(path, 0, 0);
        CHECK_STREQ(path, "/org/cnd/Connector1/id/0/0");
        cn_id_format_path(path, 1, 1);
        CHECK_STREQ(path, "/org/cnd/Connector1/id/1/1");
        cn_id_format_path(path, UINT32_MAX, UINT32_MAX);
        CHECK_STREQ(path, "/org/cnd/Connector1/id/4294967295/4294967295");
        CHECK(strlen(path) < CN_ID_PATH_MAX);
        cn_id_format_path(path, 10, 4294967295U);
        CHECK_STREQ(path, "/org/cnd/Connector1/id/10/4294967295");

        CHECK_EQ_INT(cn_id_parse_path("/org/cnd/Connector1/id/0/0", &idx, &val), 0);
        CHECK_EQ_INT(idx, 0);
        CHECK_EQ_INT(val, 0);
        CHECK_EQ_INT(cn_id_parse_path("/org/cnd/Connector1/id/4294967295/4294967295", &idx, &val), 0);
        CHECK_EQ_INT(idx, UINT32_MAX);
        CHECK_EQ_INT(val, UINT32_MAX);
        CHECK_EQ_INT(cn_id_parse_path("/org/cnd/Connector1/id/10/20", &idx, &val), 0);
        CHECK_EQ_INT(idx, 10);
        CHECK_EQ_INT(val, 20);
        CHECK_EQ_INT(cn_id_parse_path("/org/cnd/Connector1/id/1000000000/4000000000", &idx, &val), 0);
        CHECK_EQ_INT(idx, 1000000000);
        CHECK_EQ_INT(val, 4000000000U);

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = cn_id_parse_path(bad[i], &idx, &val);

                if (r != -EINVAL)
                        fprintf(stderr, "unexpected %d for \"%s\"\n", r, bad[i]);
                CHECK_EQ_INT(r, -EINVAL);
        }

        /* Round trip, over the edges and a pseudo-random sample. */
        static const uint32_t edges[] = { 0, 1, 9, 10, 99, 100, 4294967294U, 4294967295U };
        for (size_t i = 0; i < ELEMENTSOF(edges); i++)
                for (size_t j = 0; j < ELEMENTSOF(edges); j++) {
                        cn_id_format_path(path, edges[i], edges[j]);
                        CHECK_EQ_INT(cn_id_parse_path(path, &idx, &val), 0);
                        CHECK_EQ_INT(idx, edges[i]);
                        CHECK_EQ_INT(val, edges[j]);
                }
        uint64_t x = UINT64_C(0x853c49e6748fea9b);
        for (unsigned i = 0; i < 10000; i++) {
#define NEXT() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
                uint64_t r = NEXT();
                uint32_t a = (uint32_t) r >> (r >> 59), b = (uint32_t) (r >> 32) >> ((r >> 54) & 31);
#undef NEXT
                char again[CN_ID_PATH_MAX];

                cn_id_format_path(path, a, b);
                CHECK_EQ_INT(cn_id_parse_path(path, &idx, &val), 0);
                CHECK_EQ_INT(idx, a);
                CHECK_EQ_INT(val, b);
                cn_id_format_path(again, idx, val);
                CHECK_STREQ(again, path);
        }
}

static void test_scan(void) {
        IdTable t;
        Recorder r;
        bool created;
        CnId *id;

        table_init(&t, &r, 16);
        check_table(&t, &r);

        /* Additions: created, then registered, for each id in order. */
        CHECK_EQ_INT(scan(&t, HEADER "b 2:0\na 1:1\n"), 2);
        CHECK_STREQ(r.log, "created 1:1 registered 1:1 created 2:0 registered 2:0");
        CHECK_EQ_INT(r.created, 2);
        CHECK_EQ_INT(r.registered, 2);
        CHECK_EQ_INT(r.destroyed + r.unregistered, 0);
        check_table(&t, &r);
        CHECK_EQ_INT(t.n, 2);
        CHECK_EQ_INT(t.n_unregistered, 0);
        id = lookup(&t, 1, 1);
        CHECK(id && id->registered);
        CHECK_STREQ(id->name, "a");
        CHECK_STREQ(id->path, "/org/cnd/Connector1/id/1/1");
        CHECK_EQ_INT(id->received, 0);
        CHECK_STREQ(lookup(&t, 2, 0)->name, "b");

        /* The same scan again: nothing. */
        recorder_clear_log(&r);
        CHECK_EQ_INT(scan(&t, HEADER "a 1:1\nb 2:0\n"), 0);
        CHECK_STREQ(r.log, "");
        check_table(&t, &r);
        CHECK_EQ_INT(t.n, 2);

        /* Messages on a registered id do not change its registration. */
        id = message(&t, 2, 0, &created);
        CHECK(!created);
        CHECK(id == lookup(&t, 2, 0));
        CHECK(id->registered);
        CHECK_EQ_INT(t.n_unregistered, 0);
        CHECK_STREQ(r.log, "");

        /* Removal of an id that received messages: it stays, unregistered. */
        CHECK_EQ_INT(scan(&t, HEADER "a 1:1\n"), 1);
        CHECK_STREQ(r.log, "unregistered 2:0");
        CHECK_STREQ(r.unregistered_name, "b");
        id = lookup(&t, 2, 0);
        CHECK(id && !id->registered);
        CHECK_EQ_INT(id->received, 1);
        CHECK_EQ_INT(t.n_unregistered, 1);
        check_table(&t, &r);

        /* Removal of an id that never carried a message: it goes. */
        recorder_clear_log(&r);
        CHECK_EQ_INT(scan(&t, HEADER), 1);
        CHECK_STREQ(r.log, "unregistered 1:1 destroyed 1:1");
        CHECK(!lookup(&t, 1, 1));
        CHECK(!idtable_find(&t, 1, 1));
        CHECK_EQ_INT(t.n, 1);
        check_table(&t, &r);

        /* Still gone: no change, no event, the kept entry too. */
        recorder_clear_log(&r);
        CHECK_EQ_INT(scan(&t, HEADER), 0);
        CHECK_STREQ(r.log, "");

        /* Re-registration of the kept one: registered, not created, with the new name. */
        CHECK_EQ_INT(scan(&t, HEADER "c 2:0\n"), 1);
        CHECK_STREQ(r.log, "registered 2:0");
        CHECK_STREQ(r.registered_name, "c");
        CHECK(lookup(&t, 2, 0) == id);
        CHECK(id->registered);
        CHECK_STREQ(id->name, "c");
        CHECK_EQ_INT(id->received, 1);
        CHECK_EQ_INT(t.n_unregistered, 0);
        check_table(&t, &r);

        /* Another owner between two scans: a removal (with the old name) and an addition. */
        recorder_clear_log(&r);
        CHECK_EQ_INT(scan(&t, HEADER "d 2:0\n"), 2);
        CHECK_STREQ(r.log, "unregistered 2:0 registered 2:0");
        CHECK_STREQ(r.unregistered_name, "c");
        CHECK_STREQ(r.registered_name, "d");
        CHECK(lookup(&t, 2, 0) == id);
        CHECK_STREQ(id->name, "d");
        CHECK(id->registered);
        CHECK_EQ_INT(t.n_unregistered, 0);
        check_table(&t, &r);

        /* An id first seen by a message, registered by a later scan. */
        recorder_clear_log(&r);
        id = message(&t, 5, 5, &created);
        CHECK(created);
        CHECK_STREQ(r.log, "created 5:5");
        CHECK_EQ_INT(t.n_unregistered, 1);
        CHECK_EQ_INT(scan(&t, HEADER "d 2:0\ne 5:5\n"), 1);
        CHECK_STREQ(r.log, "created 5:5 registered 5:5");
        CHECK(id->registered);
        CHECK_STREQ(id->name, "e");
        CHECK_EQ_INT(t.n_unregistered, 0);
        check_table(&t, &r);

        /* Several changes in one scan, in id order. */
        recorder_clear_log(&r);
        CHECK_EQ_INT(scan(&t, HEADER "f 0:9\nE 5:5\ng 7:0\n"), 5);
        CHECK_STREQ(r.log, "created 0:9 registered 0:9 unregistered 2:0 "
                           "unregistered 5:5 registered 5:5 created 7:0 registered 7:0");
        check_table(&t, &r);
        CHECK(!lookup(&t, 2, 0)->registered);

        /* idtable_done() calls no event and leaves an empty table that works. */
        recorder_clear_log(&r);
        idtable_done(&t);
        CHECK_STREQ(r.log, "");
        CHECK_EQ_INT(t.n, 0);
        CHECK_EQ_INT(t.n_unregistered, 0);
        CHECK(!idtable_find(&t, 0, 9));
        CHECK_EQ_INT(scan(&t, HEADER "a 1:1\n"), 1);
        CHECK_STREQ(r.log, "created 1:1 registered 1:1");
        idtable_done(&t);
        idtable_done(&t);
}

/* The bound on unregistered ids applies to scans too: entries that lose their registration
 * but carried messages are evicted, least recently active first. */
static void test_scan_bound(void) {
        IdTable t;
        Recorder r;
        bool created;

        table_init(&t, &r, 2);
        CHECK_EQ_INT(scan(&t, HEADER "a 1:1\nb 1:2\nc 1:3\nd 1:4\n"), 4);
        message(&t, 1, 3, &created);
        message(&t, 1, 1, &created);
        message(&t, 1, 4, &created);
        message(&t, 1, 2, &created);
        message(&t, 1, 1, &created);
        /* Activity order, oldest first: 1:3, 1:4, 1:2, 1:1. */
        recorder_clear_log(&r);
        CHECK_EQ_INT(scan(&t, HEADER), 4);
        CHECK_STREQ(r.log, "unregistered 1:1 unregistered 1:2 unregistered 1:3 unregistered 1:4 "
                           "destroyed 1:3 destroyed 1:4");
        CHECK(lookup(&t, 1, 1));
        CHECK(lookup(&t, 1, 2));
        CHECK_EQ_INT(t.n, 2);
        check_table(&t, &r);
        idtable_done(&t);
}

static void test_get_for_message(void) {
        IdTable t;
        Recorder r;
        bool created = true;
        CnId *a, *b;

        table_init(&t, &r, 4);
        CHECK_EQ_INT(t.max_unregistered, 4);

        a = message(&t, 7, 7, &created);
        CHECK(created);
        CHECK(t.last == a); /* the next message most likely has the same id */
        CHECK_STREQ(r.log, "created 7:7");
        CHECK(!a->registered);
        CHECK_STREQ(a->name, "");
        CHECK_STREQ(a->path, "/org/cnd/Connector1/id/7/7");
        CHECK_EQ_INT(t.n_unregistered, 1);
        check_table(&t, &r);

        recorder_clear_log(&r);
        b = message(&t, 7, 7, &created);
        CHECK(!created);
        CHECK(a == b);
        CHECK_EQ_INT(a->received, 2);
        CHECK_STREQ(r.log, "");
        CHECK_EQ_INT(t.n, 1);

        /* Other ids on either side stay sorted; the first one is still found. */
        message(&t, 7, 6, &created);
        CHECK(created);
        message(&t, 8, 0, &created);
        CHECK(created);
        CHECK(message(&t, 7, 7, &created) == a);
        CHECK(!created);
        CHECK_EQ_INT(t.n, 3);
        check_table(&t, &r);
        idtable_done(&t);

        /* A bound of 0 means 1. */
        table_init(&t, &r, 0);
        CHECK_EQ_INT(t.max_unregistered, 1);
        message(&t, 1, 0, &created);
        message(&t, 2, 0, &created);
        CHECK_STREQ(r.log, "created 1:0 destroyed 1:0 created 2:0");
        CHECK_EQ_INT(t.n, 1);
        check_table(&t, &r);
        idtable_done(&t);
}

static void test_bound(void) {
        IdTable t;
        Recorder r;
        bool created;

        /* 1000 distinct ids through a bound of 4: never more than 4, the newest ones kept. */
        table_init(&t, &r, 4);
        for (uint32_t i = 0; i < 1000; i++) {
                /* Spread over the id space, so that insertions land anywhere. */
                uint32_t idx = (i * 2654435761U) % 1009, val = i;

                message(&t, idx, val, &created);
                CHECK(created);
                CHECK(t.n_unregistered <= 4);
                CHECK(t.n <= 4);
                check_table(&t, &r);
                for (uint32_t k = i >= 3 ? i - 3 : 0; k <= i; k++)
                        CHECK(lookup(&t, (k * 2654435761U) % 1009, k));
        }
        CHECK_EQ_INT(r.created, 1000);
        CHECK_EQ_INT(r.destroyed, 996);
        CHECK_EQ_INT(r.registered + r.unregistered, 0);
        idtable_done(&t);

        /* Least recently active goes first: touching an id again saves it. */
        table_init(&t, &r, 4);
        message(&t, 0, 'A', &created);
        message(&t, 0, 'B', &created);
        message(&t, 0, 'C', &created);
        message(&t, 0, 'D', &created);
        message(&t, 0, 'A', &created);
        CHECK(!created);
        message(&t, 0, 'C', &created);
        recorder_clear_log(&r);
        message(&t, 0, 'E', &created);
        CHECK(created);
        CHECK_STREQ(r.log, "destroyed 0:66 created 0:69"); /* B */
        CHECK(lookup(&t, 0, 'A') && lookup(&t, 0, 'C') && lookup(&t, 0, 'D') && lookup(&t, 0, 'E'));

        message(&t, 0, 'D', &created);
        recorder_clear_log(&r);
        message(&t, 0, 'F', &created);
        CHECK_STREQ(r.log, "destroyed 0:65 created 0:70"); /* A */
        recorder_clear_log(&r);
        message(&t, 0, 'G', &created);
        CHECK_STREQ(r.log, "destroyed 0:67 created 0:71"); /* C */
        recorder_clear_log(&r);
        message(&t, 0, 'H', &created);
        CHECK_STREQ(r.log, "destroyed 0:69 created 0:72"); /* E */
        check_table(&t, &r);

        /* An id that keeps sending survives a flood of new ones. */
        for (uint32_t i = 0; i < 500; i++) {
                message(&t, 0, 'D', &created);
                message(&t, 1, i, &created);
        }
        CHECK(lookup(&t, 0, 'D'));
        CHECK(lookup(&t, 1, 499) && lookup(&t, 1, 498) && lookup(&t, 1, 497));
        CHECK_EQ_INT(t.n, 4);
        check_table(&t, &r);
        idtable_done(&t);

        /* Registered entries are never evicted, even the least active ones, nor counted. */
        table_init(&t, &r, 4);
        CHECK_EQ_INT(scan(&t, HEADER "r1 0:1\nr2 0:2\nr3 100:0\n"), 3);
        message(&t, 0, 1, &created);
        CHECK(!created);
        for (uint32_t i = 0; i < 200; i++) {
                message(&t, 50, i, &created);
                CHECK(created);
                CHECK(lookup(&t, 0, 1) && lookup(&t, 0, 2) && lookup(&t, 100, 0));
                CHECK(t.n_unregistered <= 4);
                check_table(&t, &r);
        }
        CHECK_EQ_INT(t.n, 3 + 4);
        CHECK_EQ_INT(t.n_unregistered, 4);
        CHECK(lookup(&t, 0, 1)->registered && lookup(&t, 0, 2)->registered);
        CHECK_EQ_INT(r.destroyed, 196);

        /* A kept entry that lost its registration competes like any other. */
        recorder_clear_log(&r);
        CHECK_EQ_INT(scan(&t, HEADER "r2 0:2\nr3 100:0\n"), 1);
        CHECK_STREQ(r.log, "unregistered 0:1 destroyed 0:1"); /* its last message is the oldest */
        CHECK_EQ_INT(t.n_unregistered, 4);
        check_table(&t, &r);
        idtable_done(&t);
}

static void test_set_max_unregistered(void) {
        IdTable t;
        Recorder r;
        bool created;

        table_init(&t, &r, 8);
        CHECK_EQ_INT(scan(&t, HEADER "reg 5:5\n"), 1);
        for (uint32_t i = 0; i < 8; i++)
                message(&t, 0, i, &created);
        message(&t, 0, 1, &created);
        CHECK_EQ_INT(t.n_unregistered, 8);

        /* Lowering the bound evicts at once, least recently active first; registered ids stay. */
        recorder_clear_log(&r);
        idtable_set_max_unregistered(&t, 3);
        CHECK_EQ_INT(t.max_unregistered, 3);
        CHECK_STREQ(r.log, "destroyed 0:0 destroyed 0:2 destroyed 0:3 destroyed 0:4 destroyed 0:5");
        CHECK(lookup(&t, 0, 1) && lookup(&t, 0, 6) && lookup(&t, 0, 7) && lookup(&t, 5, 5));
        check_table(&t, &r);

        /* Raising it evicts nothing, and the next ids fit under it. */
        recorder_clear_log(&r);
        idtable_set_max_unregistered(&t, 10);
        CHECK_STREQ(r.log, "");
        for (uint32_t i = 0; i < 7; i++)
                message(&t, 1, i, &created);
        CHECK_EQ_INT(t.n_unregistered, 10);
        CHECK_STREQ(r.log, "created 1:0 created 1:1 created 1:2 created 1:3 created 1:4 created 1:5 created 1:6");
        check_table(&t, &r);

        /* 0 means 1, as in idtable_init(). */
        idtable_set_max_unregistered(&t, 0);
        CHECK_EQ_INT(t.max_unregistered, 1);
        CHECK_EQ_INT(t.n_unregistered, 1);
        CHECK(lookup(&t, 1, 6) && lookup(&t, 5, 5));
        CHECK_EQ_INT(t.n, 2);
        check_table(&t, &r);
        idtable_done(&t);
}

static void test_set_registered(void) {
        IdTable t;
        Recorder r;
        bool created;
        CnId *id;

        table_init(&t, &r, 4);

        /* A new id: created and registered, without a name (a notification carries none). */
        CHECK_EQ_INT(idtable_set_registered(&t, 3, 4, true), 1);
        CHECK_STREQ(r.log, "created 3:4 registered 3:4");
        id = lookup(&t, 3, 4);
        CHECK(id && id->registered);
        CHECK_STREQ(id->name, "");
        CHECK_EQ_INT(t.n_unregistered, 0);
        check_table(&t, &r);

        /* Again: nothing changes. */
        recorder_clear_log(&r);
        CHECK_EQ_INT(idtable_set_registered(&t, 3, 4, true), 0);
        CHECK_STREQ(r.log, "");

        /* Gone without a message: unregistered and destroyed. */
        CHECK_EQ_INT(idtable_set_registered(&t, 3, 4, false), 1);
        CHECK_STREQ(r.log, "unregistered 3:4 destroyed 3:4");
        CHECK(!lookup(&t, 3, 4));
        check_table(&t, &r);

        /* Unknown or already unregistered: nothing. */
        recorder_clear_log(&r);
        CHECK_EQ_INT(idtable_set_registered(&t, 3, 4, false), 0);
        CHECK_EQ_INT(idtable_set_registered(&t, 9, 9, false), 0);
        CHECK_STREQ(r.log, "");
        CHECK_EQ_INT(t.n, 0);

        /* An id with messages: registered and unregistered in place, and kept. */
        id = message(&t, 5, 6, &created);
        recorder_clear_log(&r);
        CHECK_EQ_INT(t.n_unregistered, 1);
        CHECK_EQ_INT(idtable_set_registered(&t, 5, 6, true), 1);
        CHECK_STREQ(r.log, "registered 5:6");
        CHECK(id->registered);
        CHECK_EQ_INT(t.n_unregistered, 0);
        check_table(&t, &r);
        CHECK_EQ_INT(idtable_set_registered(&t, 5, 6, true), 0);
        recorder_clear_log(&r);
        CHECK_EQ_INT(idtable_set_registered(&t, 5, 6, false), 1);
        CHECK_STREQ(r.log, "unregistered 5:6");
        CHECK(lookup(&t, 5, 6) == id);
        CHECK(!id->registered);
        CHECK_EQ_INT(t.n_unregistered, 1);
        CHECK_EQ_INT(idtable_set_registered(&t, 5, 6, false), 0);
        check_table(&t, &r);

        /* A scan-named id keeps its name through a notification that it is still there. */
        CHECK_EQ_INT(scan(&t, HEADER "named 7:7\n"), 1); /* 5:6 was unregistered already */
        recorder_clear_log(&r);
        CHECK_EQ_INT(idtable_set_registered(&t, 7, 7, true), 0);
        CHECK_STREQ(lookup(&t, 7, 7)->name, "named");
        CHECK_STREQ(r.log, "");

        /* Unregistering past the bound evicts the least recently active. */
        message(&t, 7, 7, &created);
        CHECK(!created);
        for (uint32_t i = 0; i < 3; i++)
                message(&t, 8, i, &created);
        CHECK_EQ_INT(t.n_unregistered, 4);
        recorder_clear_log(&r);
        CHECK_EQ_INT(idtable_set_registered(&t, 7, 7, false), 1);
        CHECK_STREQ(r.log, "unregistered 7:7 destroyed 5:6");
        CHECK_EQ_INT(t.n_unregistered, 4);
        check_table(&t, &r);
        idtable_done(&t);
}

/* The lookup cache must never hand out an entry that was freed, whichever way it went. Without
 * the sanitizers a stale cache shows as a wrong result; with them, as a use after free. */
static void test_find_cache(void) {
        IdTable t;
        Recorder r;
        bool created;
        CnId *id;

        table_init(&t, &r, 1);

        /* Removed by a scan. */
        CHECK_EQ_INT(scan(&t, HEADER "a 3:3\nb 3:4\n"), 2);
        id = idtable_find(&t, 3, 3);
        CHECK(id && id == lookup(&t, 3, 3));
        CHECK(t.last == id);
        CHECK(idtable_find(&t, 3, 3) == id);
        CHECK_EQ_INT(scan(&t, HEADER "b 3:4\n"), 1);
        CHECK(!idtable_find(&t, 3, 3));
        CHECK(idtable_find(&t, 3, 4) == lookup(&t, 3, 4));

        /* Removed by a notification. */
        CHECK(idtable_find(&t, 3, 4));
        CHECK_EQ_INT(idtable_set_registered(&t, 3, 4, false), 1);
        CHECK(!idtable_find(&t, 3, 4));
        CHECK_EQ_INT(t.n, 0);

        /* Evicted by the bound after a scan, while cached. */
        message(&t, 9, 1, &created);
        CHECK_EQ_INT(scan(&t, HEADER "c 9:2\n"), 1);
        message(&t, 9, 2, &created);
        CHECK(!created);
        CHECK(idtable_find(&t, 9, 1));
        CHECK(t.last == lookup(&t, 9, 1));
        CHECK_EQ_INT(scan(&t, HEADER), 1);
        CHECK(!lookup(&t, 9, 1)); /* the older of the two unregistered ones went */
        CHECK(!idtable_find(&t, 9, 1));
        CHECK(idtable_find(&t, 9, 2) == lookup(&t, 9, 2));

        /* Evicted by a new id's message, while cached. */
        CHECK(idtable_find(&t, 9, 2));
        message(&t, 9, 3, &created);
        CHECK(created);
        CHECK(!idtable_find(&t, 9, 2));
        CHECK(idtable_find(&t, 9, 3) == lookup(&t, 9, 3));
        check_table(&t, &r);

        /* Evicted by a notification past the bound, while cached. */
        CHECK_EQ_INT(idtable_set_registered(&t, 9, 4, true), 1);
        message(&t, 9, 4, &created);
        CHECK(idtable_find(&t, 9, 3));
        CHECK_EQ_INT(idtable_set_registered(&t, 9, 4, false), 1);
        CHECK(!idtable_find(&t, 9, 3));
        CHECK(idtable_find(&t, 9, 4) == lookup(&t, 9, 4));

        /* A miss does not disturb the cache; insertions around a cached entry do not either. */
        CHECK(!idtable_find(&t, 0, 0));
        CHECK(idtable_find(&t, 9, 4));
        CHECK_EQ_INT(scan(&t, HEADER "x 0:0\ny 9:5\nz 10:0\n"), 3);
        CHECK(idtable_find(&t, 9, 4) == lookup(&t, 9, 4));
        CHECK(idtable_find(&t, 0, 0) == lookup(&t, 0, 0));
        CHECK(idtable_find(&t, 10, 0) == lookup(&t, 10, 0));
        CHECK(!idtable_find(&t, 9, 6));
        check_table(&t, &r);

        /* Freed by idtable_done(). */
        CHECK(idtable_find(&t, 9, 4));
        idtable_done(&t);
        CHECK(!t.last);
        CHECK(!idtable_find(&t, 9, 4));
}

/* A seeded random run against a model of what a scan must do: after every step the registered
 * entries are exactly the last scan's plus the notified ones, the return values and events
 * match, and idtable_find() agrees with a plain search for every id in the range. */
static void test_random(void) {
        enum { RANGE = 6, ROUNDS = 3000, MAX_UNREGISTERED = 5 };
        static const char *const names[] = { "a", "b", "long name", "" };
        uint64_t x = UINT64_C(0xd1b54a32d192ed03);
        unsigned n_scans = 0, n_messages = 0, n_evicted = 0;
        IdTable t;
        Recorder r;

        table_init(&t, &r, MAX_UNREGISTERED);
#define NEXT() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
        for (unsigned round = 0; round < ROUNDS; round++) {
                unsigned op = (unsigned) (NEXT() % 8);
                Recorder before = r;

                if (op < 2) {
                        /* A scan of a random set, listed in random order, some lines twice. */
                        const char *scan_name[RANGE][RANGE] = {};
                        _cleanup_(freep) ConnectorEntry *entries = NULL;
                        _cleanup_(freep) char *text = NULL;
                        size_t text_size = 0, n;
                        FILE *f = open_memstream(&text, &text_size);
                        unsigned n_bad, added = 0, removed = 0, renamed = 0, named = 0;
                        int changes;

                        CHECK(f);
                        fputs(HEADER, f);
                        for (unsigned k = 0; k < RANGE * RANGE * 2; k++) {
                                uint32_t idx = (uint32_t) (NEXT() % RANGE), val = (uint32_t) (NEXT() % RANGE);

                                if (NEXT() % 3 != 0)
                                        continue;
                                if (!scan_name[idx][val])
                                        scan_name[idx][val] = names[NEXT() % ELEMENTSOF(names)];
                                fprintf(f, "%-15s %u:%u\n", scan_name[idx][val], idx, val);
                        }
                        CHECK(fclose(f) == 0);
                        entries = parse(text, &n, &n_bad);
                        CHECK_EQ_INT(n_bad, 0);

                        for (uint32_t idx = 0; idx < RANGE; idx++)
                                for (uint32_t val = 0; val < RANGE; val++) {
                                        const CnId *id = lookup(&t, idx, val);
                                        bool was = id && id->registered;

                                        if (scan_name[idx][val] && !was)
                                                added++;
                                        else if (scan_name[idx][val] && !streq(id->name, scan_name[idx][val])) {
                                                /* An unknown name ("") learnt is no new registration. */
                                                if (id->name[0] == '\0')
                                                        named++;
                                                else
                                                        renamed++;
                                        }
                                        else if (!scan_name[idx][val] && was)
                                                removed++;
                                }

                        changes = idtable_apply_scan(&t, entries, n);
                        CHECK_EQ_INT(changes, added + removed + 2 * renamed + named);
                        CHECK_EQ_INT(r.registered - before.registered, added + renamed);
                        CHECK_EQ_INT(r.unregistered - before.unregistered, removed + renamed);

                        for (uint32_t idx = 0; idx < RANGE; idx++)
                                for (uint32_t val = 0; val < RANGE; val++) {
                                        const CnId *id = lookup(&t, idx, val);

                                        if (scan_name[idx][val]) {
                                                CHECK(id && id->registered);
                                                CHECK_STREQ(id->name, scan_name[idx][val]);
                                        } else
                                                CHECK(!id || !id->registered);
                                }
                        n_scans++;
                } else if (op < 7) {
                        uint32_t idx = (uint32_t) (NEXT() % RANGE), val = (uint32_t) (NEXT() % RANGE);
                        CnId *known = lookup(&t, idx, val), *id;
                        bool created;
                        size_t n = t.n;

                        id = message(&t, idx, val, &created);
                        CHECK(created == !known);
                        CHECK(!known || id == known);
                        CHECK_EQ_INT(r.created - before.created, created);
                        if (created && t.n == n) {
                                CHECK_EQ_INT(r.destroyed - before.destroyed, 1);
                                n_evicted++;
                        } else
                                CHECK_EQ_INT(r.destroyed, before.destroyed);
                        n_messages++;
                } else {
                        uint32_t idx = (uint32_t) (NEXT() % RANGE), val = (uint32_t) (NEXT() % RANGE);
                        const CnId *known = lookup(&t, idx, val);
                        bool was_registered = known && known->registered, registered = NEXT() & 1;
                        int changed = idtable_set_registered(&t, idx, val, registered);

                        CHECK_EQ_INT(changed, registered != was_registered);
                        CHECK_EQ_INT(r.registered - before.registered, registered && changed);
                        CHECK_EQ_INT(r.unregistered - before.unregistered, !registered && changed);
                        if (registered)
                                CHECK(lookup(&t, idx, val) && lookup(&t, idx, val)->registered);
                        else
                                CHECK(!lookup(&t, idx, val) || !lookup(&t, idx, val)->registered);
                }

                check_table(&t, &r);
                for (uint32_t idx = 0; idx < RANGE; idx++)
                        for (uint32_t val = 0; val < RANGE; val++)
                                CHECK(idtable_find(&t, idx, val) == lookup(&t, idx, val));
        }
#undef NEXT
        /* The run reached the interesting states. */
        CHECK(n_scans > ROUNDS / 8);
        CHECK(n_messages > ROUNDS / 2);
        CHECK(n_evicted > 10);
        idtable_done(&t);
}

/* A notification registers an id before a scan can name it (it carries no name). The scan that
 * names it later sees the same registration, which must not come out as a removal and an
 * addition: cnfeed(4), "one change in the kernel gives one signal, however it was seen". */
static void test_notification_then_scan(void) {
        IdTable t;
        Recorder r;
        bool created;

        table_init(&t, &r, 4);
        CHECK_EQ_INT(idtable_set_registered(&t, 11, 1, true), 1);
        CHECK_STREQ(r.log, "created 11:1 registered 11:1");
        recorder_clear_log(&r);
        CHECK_EQ_INT(scan(&t, HEADER "cnfeed_data     11:1\n"), 1); /* the name changed */
        CHECK_STREQ(lookup(&t, 11, 1)->name, "cnfeed_data");
        CHECK_STREQ(r.log, "");

        /* The same for an entry kept from an earlier registration under another name. */
        message(&t, 11, 1, &created);
        CHECK_EQ_INT(idtable_set_registered(&t, 11, 1, false), 1);
        CHECK_EQ_INT(idtable_set_registered(&t, 11, 1, true), 1);
        recorder_clear_log(&r);
        CHECK_EQ_INT(scan(&t, HEADER "other           11:1\n"), 1);
        CHECK_STREQ(lookup(&t, 11, 1)->name, "other");
        CHECK_STREQ(r.log, "");
        idtable_done(&t);
}

int main(void) {
        test_parse_kernel_format();
        test_parse_names();
        test_parse_bad_lines();
        test_parse_sort_unique();
        test_paths();
        test_scan();
        test_scan_bound();
        test_get_for_message();
        test_bound();
        test_set_max_unregistered();
        test_set_registered();
        test_find_cache();
        test_random();
        test_notification_then_scan();
        return EXIT_SUCCESS;
}
