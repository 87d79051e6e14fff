/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "util.h"

int stream_packet_next(const uint8_t *packet, size_t size, size_t *offset, StreamRecord *ret) {
        struct cnd_record h;
        size_t left;

        if (*offset >= size)
                return 0;
        left = size - *offset;
        if (left < sizeof(h))
                return -EBADMSG;
        memcpy(&h, packet + *offset, sizeof(h));
        if (h.length > left - sizeof(h))
                return -EBADMSG;
        *ret = (StreamRecord) { .type = h.type, .body = packet + *offset + sizeof(h), .size = h.length };
        /* The padding after the last record may be left out: the packet ends there anyway. */
        *offset += MIN((size_t) CND_RECORD_ALIGN(sizeof(h) + (size_t) h.length), left);
        return 1;
}

int stream_record_message(const StreamRecord *r, struct cn_msg *ret_header, const uint8_t **ret_data) {
        if (r->size < sizeof(struct cn_msg))
                return -EBADMSG;
        memcpy(ret_header, r->body, sizeof(struct cn_msg));
        if (ret_header->len != r->size - sizeof(struct cn_msg))
                return -EBADMSG;
        *ret_data = r->body + sizeof(struct cn_msg);
        return 0;
}

/* Bodies may grow at their end in later versions: what this cnctl knows must be there. */
static int copy_fixed(const StreamRecord *r, void *ret, size_t size) {
        if (r->size < size)
                return -EBADMSG;
        memcpy(ret, r->body, size);
        return 0;
}

int stream_record_hello(const StreamRecord *r, struct cnd_record_hello *ret) {
        return copy_fixed(r, ret, sizeof(*ret));
}

int stream_record_lost(const StreamRecord *r, struct cnd_record_lost *ret) {
        return copy_fixed(r, ret, sizeof(*ret));
}

/* The next NUL-terminated string of [*p, end), or NULL if none ends there. */
static const char *next_string(const char **p, const char *end) {
        const char *s = *p, *nul = memchr(s, 0, (size_t) (end - s));

        if (!nul)
                return NULL;
        *p = nul + 1;
        return s;
}

/* The named strings, in the order of enum cnd_process_string: a later writer may name more,
 * which are skipped. */
static int named_strings(StreamProcessRecord *p, const char **s, const char *end) {
        const char **named[CND_PROCESS_NAMED_STRINGS] = {
                [CND_PROCESS_EXE] = &p->exe,
                [CND_PROCESS_UNIT] = &p->unit,
                [CND_PROCESS_CGROUP] = &p->cgroup,
                [CND_PROCESS_USER_UNIT] = &p->user_unit,
                [CND_PROCESS_MACHINE] = &p->machine,
                [CND_PROCESS_CONTAINER] = &p->container,
        };

        for (uint32_t i = 0; i < CND_PROCESS_NAMED_STRINGS; i++)
                *named[i] = "";
        for (uint32_t i = 0; i < p->fixed.n_named_strings; i++) {
                const char *v = next_string(s, end);

                if (!v)
                        return -EBADMSG;
                if (i < CND_PROCESS_NAMED_STRINGS)
                        *named[i] = v;
        }
        return 0;
}

int stream_record_process(const StreamRecord *r, StreamProcessRecord *ret) {
        StreamProcessRecord p = {};
        const char *s, *end;

        if (copy_fixed(r, &p.fixed, sizeof(p.fixed)) < 0 || p.fixed.size < sizeof(p.fixed) ||
            p.fixed.size > r->size || p.fixed.strings_size > r->size - p.fixed.size ||
            p.fixed.n_named_strings <= CND_PROCESS_CGROUP || p.fixed.n_strings < p.fixed.n_named_strings ||
            p.fixed.n_strings > p.fixed.strings_size)
                return -EBADMSG;
        s = (const char *) r->body + p.fixed.size;
        end = s + p.fixed.strings_size;
        if (named_strings(&p, &s, end) < 0)
                return -EBADMSG;
        p.n_argv = p.fixed.n_strings - p.fixed.n_named_strings;
        p.argv = calloc(p.n_argv + 1, sizeof(char *));
        if (!p.argv)
                return -ENOMEM;
        for (size_t i = 0; i < p.n_argv; i++) {
                p.argv[i] = next_string(&s, end);
                if (!p.argv[i]) {
                        stream_process_record_done(&p);
                        return -EBADMSG;
                }
        }
        *ret = p;
        return 0;
}

void stream_process_record_done(StreamProcessRecord *p) {
        free(p->argv);
        *p = (StreamProcessRecord) {};
}
