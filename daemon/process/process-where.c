/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Where a process runs: see process-where.h. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process-where.h"
#include "procfs.h"
#include "unit-path.h"
#include "utf8.h"
#include "util.h"

void process_where_done(ProcessWhere *w) {
        free(w->user_unit);
        free(w->machine);
        free(w->container);
        *w = (ProcessWhere) {};
}

int process_where_set(char **field, const char *value) {
        char *s = strdup(value);

        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static uint64_t read_namespace(int dirfd, const char *type) {
        char link[sizeof("ns/") + 16], target[64];
        uint64_t inode;
        ssize_t n;

        snprintf(link, sizeof(link), "ns/%s", type);
        n = readlinkat(dirfd, link, target, sizeof(target));
        if (n < 0 || (size_t) n >= sizeof(target) || procfs_parse_ns_link(target, (size_t) n, type, &inode) < 0)
                return 0;
        return inode;
}

int process_where_read_namespaces(ProcessWhere *w, int dirfd) {
        w->pid_namespace = read_namespace(dirfd, "pid");
        w->mount_namespace = read_namespace(dirfd, "mnt");
        return 0;
}

int process_where_read_container(ProcessWhere *w, const char *cgroup) {
        char *c;
        int r;

        r = container_from_cgroup(cgroup, &c);
        if (r < 0)
                return r;
        free(w->container);
        w->container = c;
        return 0;
}

/* A name the cgroup path or machined's link gave, as a D-Bus string within the bound. */
static int set_escaped(char **field, const char *name) {
        _cleanup_(freep) char *s = NULL;
        int r;

        r = utf8_escape(name, strlen(name), &s);
        if (r < 0)
                return r;
        return process_where_set(field, s);
}

static int read_user_unit(ProcessWhere *w, const char *path) {
        _cleanup_(freep) char *user_unit = NULL;
        int r;

        /* -ENXIO: no user manager or session above the process, or no unit below it. */
        r = user_unit_from_cgroup(path, &user_unit);
        if (r == -ENOMEM)
                return r;
        return set_escaped(&w->user_unit, strempty(user_unit));
}

static int read_machine(ProcessWhere *w, const char *unit) {
        _cleanup_(freep) char *machine = NULL;
        int r;

        /* Any failure to read the link is no machine, as libsystemd's failures always were
         * here: no unit, machined has never run, or it registered no machine for the unit. */
        r = machine_from_unit(UNIT_PATH_MACHINES_DIR, unit, &machine);
        if (r == -ENOMEM)
                return r;
        return set_escaped(&w->machine, strempty(machine));
}

int process_where_read_units(ProcessWhere *w, const char *path, const char *unit) {
        int r;

        r = read_user_unit(w, path);
        if (r >= 0)
                r = read_machine(w, unit);
        return r;
}

int process_where_no_units(ProcessWhere *w) {
        int r;

        r = process_where_set(&w->user_unit, "");
        if (r >= 0)
                r = process_where_set(&w->machine, "");
        return r;
}

void process_where_forget_units(ProcessWhere *w) {
        w->user_unit = mfree(w->user_unit);
        w->machine = mfree(w->machine);
}
