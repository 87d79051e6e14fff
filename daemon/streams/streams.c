/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The open streams and the fan-out to them (streams.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "streams.h"
#include "util.h"

void streams_init(Streams *st, sd_event *event, const Config *config) {
        *st = (Streams) { .event = event, .config = config };
}

static void forget(Streams *st, size_t i) {
        Stream *s = st->streams[i];

        st->lost_of_closed += s->lost_total;
        st->n_processes -= s->options.processes;
        st->n_id_changes -= s->options.id_changes;
        stream_free(s);
        /* Order among streams does not matter: the last takes the free place. */
        st->streams[i] = st->streams[--st->n];
}

void streams_done(Streams *st) {
        /* What was gathered, and a last lost record, go out where there is room: a client
         * reading to the end can still check its count. */
        for (size_t i = 0; i < st->n; i++)
                stream_flush(st->streams[i]);
        while (st->n > 0)
                forget(st, st->n - 1);
        st->streams = mfree(st->streams);
        st->allocated = 0;
        st->flush = sd_event_source_disable_unref(st->flush);
}

/* Sends what every stream gathered, and frees the streams whose clients went. */
static void flush_all(Streams *st) {
        for (size_t i = 0; i < st->n; i++)
                stream_flush(st->streams[i]);
        for (size_t i = st->n; i > 0; i--)
                if (st->streams[i - 1]->dead)
                        forget(st, i - 1);
        if (st->n == 0 && st->flush)
                (void) sd_event_source_set_enabled(st->flush, SD_EVENT_OFF);
}

static int on_post(sd_event_source *s, void *userdata) {
        flush_all(userdata);
        return 0;
}

static void on_stream_closed(Stream *s, void *userdata) {
        Streams *st = userdata;

        for (size_t i = 0; i < st->n; i++)
                if (st->streams[i] == s)
                        return forget(st, i);
}

static size_t streams_of(const Streams *st, uid_t uid) {
        size_t n = 0;

        for (size_t i = 0; i < st->n; i++)
                n += st->streams[i]->uid == uid;
        return n;
}

int streams_open(Streams *st, uid_t uid, bool all_processes, StreamOptions *options, int *ret_client_fd) {
        _cleanup_(stream_options_done) StreamOptions o = *options;
        Stream *s;
        int r;

        *options = (StreamOptions) {};
        if (st->n >= st->config->streams_max)
                return -ENFILE;
        if (streams_of(st, uid) >= st->config->streams_max_per_user)
                return -EDQUOT;
        if (st->n == st->allocated) {
                size_t a = MAX(st->allocated * 2, (size_t) 8);
                Stream **p = reallocarray(st->streams, a, sizeof(Stream *));

                if (!p)
                        return -ENOMEM;
                st->streams = p;
                st->allocated = a;
        }

        if (!st->flush) {
                r = sd_event_add_post(st->event, &st->flush, on_post, st);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(st->flush, "streams-flush");
        }
        r = stream_new(&s, st->event, uid, all_processes, &o, on_stream_closed, st, ret_client_fd);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(st->flush, SD_EVENT_ON);
        st->streams[st->n++] = s;
        st->n_processes += s->options.processes;
        st->n_id_changes += s->options.id_changes;
        return 0;
}

void streams_message(Streams *st, const struct cn_msg *msg) {
        for (size_t i = 0; i < st->n; i++) {
                Stream *s = st->streams[i];

                if (stream_options_match(&s->options, msg->id.idx, msg->id.val))
                        stream_add(s, CND_RECORD_MESSAGE, msg, sizeof(*msg) + msg->len);
        }
}

void streams_id_change(Streams *st, bool added, uint32_t idx, uint32_t val, const char *name) {
        /* struct cnd_record_id and its name: names are the kernel's (at most 32 bytes) or cnd's own. */
        _Alignas(struct cnd_record_id) uint8_t body[sizeof(struct cnd_record_id) + 64];
        struct cnd_record_id *id = (struct cnd_record_id *) body;
        size_t len;

        if (st->n_id_changes == 0)
                return;
        *id = (struct cnd_record_id) { .idx = idx, .val = val };
        len = strnlen(strempty(name), sizeof(body) - sizeof(*id) - 1);
        memcpy(id->name, strempty(name), len);
        id->name[len] = 0;
        for (size_t i = 0; i < st->n; i++)
                if (st->streams[i]->options.id_changes)
                        stream_add(st->streams[i], added ? CND_RECORD_ID_ADDED : CND_RECORD_ID_REMOVED, body,
                                   sizeof(*id) + len + 1);
}

/* The named strings of a record, in their order (enum cnd_process_string). */
static void named_strings(const StreamProcess *p, const char *ret[static CND_PROCESS_NAMED_STRINGS]) {
        ret[CND_PROCESS_EXE] = strempty(p->exe);
        ret[CND_PROCESS_UNIT] = strempty(p->unit);
        ret[CND_PROCESS_CGROUP] = strempty(p->cgroup);
        ret[CND_PROCESS_USER_UNIT] = strempty(p->user_unit);
        ret[CND_PROCESS_MACHINE] = strempty(p->machine);
        ret[CND_PROCESS_CONTAINER] = strempty(p->container);
}

static size_t strings_size(const char *const *named, char *const *argv, uint32_t *ret_n) {
        size_t size = 0;
        uint32_t n = CND_PROCESS_NAMED_STRINGS;

        for (unsigned i = 0; i < CND_PROCESS_NAMED_STRINGS; i++)
                size += strlen(named[i]) + 1;
        for (char *const *a = argv; a && *a; a++, n++)
                size += strlen(*a) + 1;
        *ret_n = n;
        return size;
}

int stream_process_body(const StreamProcess *p, void **ret, size_t *ret_size) {
        /* What a packet holds for one record besides its header and the lost records. */
        const size_t room = STREAM_RECORD_MAX - 256 - sizeof(struct cnd_record_process);
        const char *named[CND_PROCESS_NAMED_STRINGS];
        char *const *argv = p->argv;
        uint32_t n_strings;
        size_t size;
        struct cnd_record_process *r;
        char *s;

        named_strings(p, named);
        size = strings_size(named, argv, &n_strings);
        if (size > room) {
                argv = NULL;
                size = strings_size(named, argv, &n_strings);
                if (size > room)
                        return -E2BIG;
        }
        r = malloc(sizeof(*r) + size);
        if (!r)
                return -ENOMEM;
        *r = (struct cnd_record_process) {
                .size = sizeof(*r), .pid = p->pid, .ppid = p->ppid, .uid = p->uid,
                .exit_code = p->exit_code, .exit_signal = p->exit_signal, .core_dumped = p->core_dumped,
                .namespace_pid = p->namespace_pid, .start_time = p->start_time,
                .timestamp_ns = p->timestamp_ns, .runtime_ns = p->runtime_ns,
                .pid_namespace = p->pid_namespace, .mount_namespace = p->mount_namespace,
                .n_strings = n_strings, .n_named_strings = CND_PROCESS_NAMED_STRINGS,
                .strings_size = (uint32_t) size,
        };
        s = (char *) (r + 1);
        for (unsigned i = 0; i < CND_PROCESS_NAMED_STRINGS; i++)
                s = stpcpy(s, named[i]) + 1;
        for (char *const *a = argv; a && *a; a++)
                s = stpcpy(s, *a) + 1;
        *ret = r;
        *ret_size = sizeof(*r) + size;
        return 0;
}

void streams_process(Streams *st, uint16_t type, const StreamProcess *p) {
        _cleanup_(freep) void *body = NULL;
        size_t size;

        if (st->n_processes == 0)
                return;
        if (stream_process_body(p, &body, &size) < 0) {
                /* Counted where it was meant to go, as any record that could not be written. */
                for (size_t i = 0; i < st->n; i++)
                        if (st->streams[i]->options.processes)
                                stream_count_lost(st->streams[i], CND_LOST_STREAM_FULL, 1);
                return;
        }
        for (size_t i = 0; i < st->n; i++) {
                Stream *s = st->streams[i];

                /* Privacy: another user's process only to root and the reader group. */
                if (s->options.processes && (s->all_processes || s->uid == p->uid))
                        stream_add(s, type, body, size);
        }
}

void streams_batch_done(Streams *st, uint64_t kernel_dropped) {
        uint64_t new_drops = kernel_dropped - st->kernel_dropped;

        st->kernel_dropped = kernel_dropped;
        if (new_drops > 0)
                for (size_t i = 0; i < st->n; i++)
                        stream_count_lost(st->streams[i], CND_LOST_KERNEL, new_drops);
        flush_all(st);
}

uint64_t streams_lost_records(const Streams *st) {
        uint64_t n = st->lost_of_closed;

        for (size_t i = 0; i < st->n; i++)
                n += st->streams[i]->lost_total;
        return n;
}
