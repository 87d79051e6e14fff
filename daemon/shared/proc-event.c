/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "proc-event.h"
#include "utf8.h"
#include "util.h"

typedef struct KindLayout {
        uint32_t what;
        unsigned n_fields;      /* u32 fields the signal carries (comm excluded) */
        unsigned min_fields;    /* what the oldest kernels send */
} KindLayout;

static const KindLayout layouts[_PROC_KIND_MAX] = {
        [PROC_KIND_FORK]     = { PROC_EVENT_FORK,     4, 4 },
        [PROC_KIND_EXEC]     = { PROC_EVENT_EXEC,     2, 2 },
        [PROC_KIND_UID]      = { PROC_EVENT_UID,      4, 4 },
        [PROC_KIND_GID]      = { PROC_EVENT_GID,      4, 4 },
        [PROC_KIND_SID]      = { PROC_EVENT_SID,      2, 2 },
        [PROC_KIND_PTRACE]   = { PROC_EVENT_PTRACE,   4, 4 },
        [PROC_KIND_COMM]     = { PROC_EVENT_COMM,     2, 2 },
        /* Parent pid and tgid came later (Linux 4.x): older kernels send only the first part. */
        [PROC_KIND_COREDUMP] = { PROC_EVENT_COREDUMP, 4, 2 },
        [PROC_KIND_EXIT]     = { PROC_EVENT_EXIT,     6, 4 },
};

#define COMM_SIZE 16

uint32_t proc_kind_to_what(ProcKind kind) {
        return (unsigned) kind < _PROC_KIND_MAX ? layouts[kind].what : 0;
}

uint32_t proc_kinds_to_what_mask(uint32_t kinds) {
        uint32_t mask = 0;

        for (ProcKind k = 0; k < _PROC_KIND_MAX; k++)
                if (kinds & (UINT32_C(1) << k))
                        mask |= layouts[k].what;
        return mask;
}

static int kind_from_what(uint32_t what) {
        for (ProcKind k = 0; k < _PROC_KIND_MAX; k++)
                if (layouts[k].what == what)
                        return (int) k;
        return -1;
}

void proc_comm_make_utf8(char *comm) {
        unsigned char *s = (unsigned char *) comm;

        /* A task name is bytes, cut at 15 of them, maybe inside a character; a D-Bus string
         * must be UTF-8, and sd-bus refuses the noncharacters too. Keep every character a
         * D-Bus string may hold, turn the rest into '?'. */
        for (size_t left = strlen(comm); left > 0;) {
                size_t n = utf8_dbus_char_length((const char *) s, left);

                if (n == 0) {
                        *s++ = '?';
                        left--;
                        continue;
                }
                s += n;
                left -= n;
        }
}

void proc_exit_status_decode(uint32_t status, int32_t *ret_code, int32_t *ret_signal, bool *ret_core_dumped) {
        int st = (int) status;

        if (WIFEXITED(st)) {
                *ret_code = WEXITSTATUS(st);
                *ret_signal = -1;
                *ret_core_dumped = false;
        } else if (WIFSIGNALED(st)) {
                *ret_code = -1;
                *ret_signal = WTERMSIG(st);
                *ret_core_dumped = WCOREDUMP(st);
        } else {
                /* Not a status an exit leaves (stopped, continued): nothing to decode. */
                *ret_code = -1;
                *ret_signal = -1;
                *ret_core_dumped = false;
        }
}

static uint32_t read_u32(const uint8_t *p) {
        uint32_t v;

        memcpy(&v, p, sizeof(v));
        return v;
}

ProcDecode proc_event_decode(const void *data, size_t size, ProcEvent *ret) {
        const uint8_t *p = data, *body;
        size_t body_size, need;
        int k;

        *ret = (ProcEvent) {};
        if (size < PROC_EVENT_HEADER_SIZE)
                return PROC_DECODE_MALFORMED;

        ret->what = read_u32(p + offsetof(struct proc_event, what));
        ret->cpu = read_u32(p + offsetof(struct proc_event, cpu));
        memcpy(&ret->timestamp_ns, p + offsetof(struct proc_event, timestamp_ns), sizeof(uint64_t));
        body = p + PROC_EVENT_HEADER_SIZE;
        body_size = size - PROC_EVENT_HEADER_SIZE;

        if (ret->what == PROC_EVENT_NONE) {
                if (body_size < sizeof(uint32_t))
                        return PROC_DECODE_MALFORMED;
                ret->ack_err = read_u32(body);
                return PROC_DECODE_ACK;
        }

        k = kind_from_what(ret->what);
        if (k < 0)
                return PROC_DECODE_UNKNOWN;
        ret->kind = (ProcKind) k;
        ret->n_fields = layouts[k].n_fields;

        need = layouts[k].min_fields * sizeof(uint32_t) + (k == PROC_KIND_COMM ? COMM_SIZE : 0);
        if (body_size < need)
                return PROC_DECODE_MALFORMED;

        for (unsigned i = 0; i < ret->n_fields; i++)
                if ((i + 1) * sizeof(uint32_t) <= body_size)
                        ret->fields[i] = read_u32(body + i * sizeof(uint32_t));

        if (k == PROC_KIND_COMM) {
                /* The kernel pads with NULs; never trust that it did. */
                memcpy(ret->comm, body + 2 * sizeof(uint32_t), COMM_SIZE);
                ret->comm[COMM_SIZE] = 0;
                proc_comm_make_utf8(ret->comm);
        }
        return PROC_DECODE_EVENT;
}

void proc_seq_tracker_done(ProcSeqTracker *t) {
        free(t->next_seq);
        *t = (ProcSeqTracker) {};
}

void proc_seq_tracker_reset(ProcSeqTracker *t) {
        if (t->next_seq)
                memset(t->next_seq, 0, t->n_cpus * sizeof(uint64_t));
}

static int ensure_cpu(ProcSeqTracker *t, uint32_t cpu) {
        size_t n;
        uint64_t *a;

        if (cpu < t->n_cpus)
                return 0;
        n = MIN(MAX((size_t) cpu + 1, t->n_cpus * 2), (size_t) PROC_SEQ_MAX_CPUS);
        a = realloc(t->next_seq, n * sizeof(uint64_t));
        if (!a)
                return -ENOMEM;
        memset(a + t->n_cpus, 0, (n - t->n_cpus) * sizeof(uint64_t));
        t->next_seq = a;
        t->n_cpus = n;
        return 0;
}

int proc_seq_tracker_see(ProcSeqTracker *t, uint32_t cpu, uint32_t seq) {
        uint64_t last_plus_one;
        uint32_t gap;

        if (cpu >= PROC_SEQ_MAX_CPUS)
                return 0;       /* an old kernel's ack (cpu -1): it took no number */
        if (ensure_cpu(t, cpu) < 0)
                return -ENOMEM;

        last_plus_one = t->next_seq[cpu];
        t->next_seq[cpu] = (uint64_t) seq + 1;
        if (last_plus_one == 0)
                return 0;       /* first message of this CPU: nothing to compare */

        gap = seq - (uint32_t) last_plus_one;
        /* A seq at or before the last one is a restart (a new cn_proc, a reordering we cannot
         * judge), not billions of losses. */
        if (gap == 0 || gap > INT32_MAX)
                return 0;
        t->lost += gap;
        return (int) gap;
}
