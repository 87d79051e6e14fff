/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The process table as JSON lines in a sealed memfd: see process-dump.h. */

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <sys/mman.h>

#include "process-dump.h"
#include "utf8.h"

static void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

/* json-c's adders take the value's reference when they succeed; a failed one leaves it ours. */
static int add(json_object *o, const char *key, json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(o, key, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

static int add_string(json_object *o, const char *key, const char *value) {
        return value ? add(o, key, json_object_new_string(value)) : 0;
}

static int add_number(json_object *o, const char *key, uint64_t value) {
        return add(o, key, json_object_new_uint64(value));
}

static json_object *argv_array(char * const *argv) {
        json_object *a = json_object_new_array();

        for (char * const *s = argv; a && s && *s; s++) {
                json_object *v = json_object_new_string(*s);

                /* An argument that could not be made must not become a JSON null. */
                if (!v || json_object_array_add(a, v) < 0) {
                        json_object_put(v);
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

/* As the bus's where dictionary: unknown strings and zero numbers left out. */
static json_object *where_object(const ProcessWhere *w) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        int r;

        if (!o)
                return NULL;
        r = add_string(o, "user_unit", w->user_unit);
        if (r >= 0)
                r = add_string(o, "machine", w->machine);
        if (r >= 0)
                r = add_string(o, "container", w->container);
        if (r >= 0 && w->pid_namespace)
                r = add_number(o, "pid_namespace", w->pid_namespace);
        if (r >= 0 && w->mount_namespace)
                r = add_number(o, "mount_namespace", w->mount_namespace);
        if (r >= 0 && w->namespace_pid)
                r = add_number(o, "namespace_pid", w->namespace_pid);
        return r < 0 ? NULL : TAKE_PTR(o);
}

static json_object *entry_object(const ProcessEntry *e, bool arguments) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        int r;

        if (!o)
                return NULL;
        /* As the bus gives them: (uint32_t) -1 for an unknown ppid or uid. */
        r = add_number(o, "pid", (uint32_t) e->pid);
        if (r >= 0)
                r = add_number(o, "ppid", (uint32_t) e->ppid);
        if (r >= 0)
                r = add_number(o, "uid", (uint32_t) e->uid);
        if (r >= 0)
                r = add_string(o, "exe", strempty(e->exe));
        if (r >= 0 && arguments)
                r = add(o, "argv", argv_array(e->argv));
        if (r >= 0)
                r = add_string(o, "unit", strempty(e->unit));
        if (r >= 0)
                r = add_string(o, "cgroup", strempty(e->cgroup));
        if (r >= 0)
                r = add_number(o, "start_time", e->start_time);
        if (r >= 0)
                r = add(o, "where", where_object(&e->where));
        return r < 0 ? NULL : TAKE_PTR(o);
}

int process_dump_line(const ProcessEntry *e, bool arguments, char **ret) {
        _cleanup_(json_object_putp) json_object *o = entry_object(e, arguments);
        _cleanup_(freep) char *safe = NULL;
        const char *json;
        size_t n;
        int r;

        if (!o)
                return -ENOMEM;
        json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!json)
                return -ENOMEM;
        r = utf8_escape_json_controls(json, &safe);
        if (r < 0)
                return r;
        n = strlen(safe);
        *ret = realloc(safe, n + 2);
        if (!*ret)
                return -ENOMEM;
        safe = NULL;
        memcpy(*ret + n, "\n", 2);
        return 0;
}

static int write_table(FILE *f, const ProcessTable *t, bool arguments) {
        _cleanup_(freep) ProcessEntry **sorted = NULL;
        size_t n = 0;
        int r;

        r = process_table_sorted(t, &sorted, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(freep) char *line = NULL;

                r = process_dump_line(sorted[i], arguments, &line);
                if (r < 0)
                        return r;
                if (fputs(line, f) < 0)
                        return -errno;
        }
        return fflush(f) == 0 ? 0 : -errno;
}

#define DUMP_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

int process_dump(const ProcessTable *t, bool arguments, int *ret_fd) {
        _cleanup_(closep) int fd = -1;
        _cleanup_(fclosep) FILE *f = NULL;
        int r, copy;

        fd = memfd_create("cnd-processes", MFD_ALLOW_SEALING | MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
                return -errno;
        f = fdopen(copy, "w");
        if (!f) {
                r = -errno;
                close(copy);
                return r;
        }
        r = write_table(f, t, arguments);
        if (r < 0)
                return r;
        f = (fclose(f), NULL);
        if (fcntl(fd, F_ADD_SEALS, DUMP_SEALS) < 0)
                return -errno;
        /* The reader shares the file's offset: it reads from the start. */
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
