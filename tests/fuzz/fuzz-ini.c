/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The INI reader on arbitrary text, with callbacks that accept every section and key: what it
 * calls back with must be stripped and well-formed, a failure must say where, and the headers
 * and assignments written back as "[name]" and "key=value" lines must read the same again. */

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ini.h"

#define WHITESPACE " \t\r"

typedef struct Reading {
        FILE *events;   /* what was called back, with lengths, for comparing two readings */
        FILE *text;     /* the same written back as INI text */
        unsigned line;
} Reading;

static void check_stripped(const char *s) {
        size_t n = strlen(s);

        if (n > 0 && (strchr(WHITESPACE, s[0]) || strchr(WHITESPACE, s[n - 1])))
                abort();
        if (n > INI_LINE_MAX || strchr(s, '\n'))
                abort();
}

static void check_line(Reading *r, const IniContext *ctx) {
        if (ctx->line <= r->line || !streq(ctx->filename, "fuzz.ini"))
                abort();
        r->line = ctx->line;
}

static int on_section(const IniContext *ctx, const char *name, void *userdata) {
        Reading *r = userdata;

        check_line(r, ctx);
        if (strchr(name, '\n'))
                abort();
        /* Exercises a callback's error. */
        if (streq(name, "reject"))
                return ini_error(ctx, -EPERM, "rejected");
        fprintf(r->events, "S%zu:%s\n", strlen(name), name);
        fprintf(r->text, "[%s]\n", name);
        return 0;
}

static int on_assignment(const IniContext *ctx, const char *section, const char *key, char *value,
                         void *userdata) {
        Reading *r = userdata;

        check_line(r, ctx);
        check_stripped(key);
        check_stripped(value);
        /* No '=' in the key, no comment left in the value. */
        if (key[0] == 0 || strchr(key, '=') || value[0] == '#' || value[0] == ';')
                abort();
        for (const char *p = value; *p; p++)
                if ((*p == '#' || *p == ';') && strchr(WHITESPACE, p[-1]))
                        abort();
        fprintf(r->events, "A%zu:%s%zu:%s%zu:%s\n", strlen(section), section, strlen(key), key,
                strlen(value), value);
        fprintf(r->text, "%s=%s\n", key, value);
        return 0;
}

static const IniCallbacks callbacks = { .section = on_section, .assignment = on_assignment };

/* Reads size bytes of text; *events and *text are what it called back with. */
static int reading(const char *data, size_t size, char **events, char **text, char **error) {
        Reading r = {};
        size_t n1, n2;
        int ret;

        r.events = open_memstream(events, &n1);
        r.text = open_memstream(text, &n2);
        if (!r.events || !r.text)
                abort();
        ret = ini_parse_text("fuzz.ini", data, size, &callbacks, &r, error);
        if (fclose(r.events) != 0 || fclose(r.text) != 0)
                abort();
        return ret;
}

/* "fuzz.ini:LINE: problem", LINE from 1. */
static void check_error(const char *error) {
        const char *p;

        if (!error)
                return; /* out of memory */
        if (strncmp(error, "fuzz.ini:", strlen("fuzz.ini:")) != 0)
                abort();
        p = error + strlen("fuzz.ini:");
        if (*p < '1' || *p > '9')
                abort();
        p += strspn(p, "0123456789");
        if (strncmp(p, ": ", 2) != 0 || p[2] == 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *events = NULL, *text = NULL, *events2 = NULL, *text2 = NULL, *error = NULL;

        if (reading((const char *) data, size, &events, &text, &error) < 0)
                check_error(error);
        else {
                /* Written back, the same headers and assignments in the same order. */
                if (reading(text, strlen(text), &events2, &text2, NULL) < 0)
                        abort();
                if (!streq(events, events2) || !streq(text, text2))
                        abort();
        }

        free(events);
        free(text);
        free(events2);
        free(text2);
        free(error);
        return 0;
}
