/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The open streams (streams.c): who holds how many, the limits of [Streams], and the fan-out
 * of what cnd relays to every stream that asked for it. The relay hands each accepted message
 * to streams_message() and ends its read batch with streams_batch_done(), which sends what was
 * gathered; the id table's and the process table's changes come through streams_id_change()
 * and streams_process(), and what they gather goes out when the event loop has dispatched what
 * woke it (a post source). A stream is filtered before anything is copied for it. */

#include <linux/connector.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "stream.h"

typedef struct Streams {
        sd_event *event;
        const Config *config;           /* the daemon's, whichever is current: the limits */
        Stream **streams;
        size_t n, allocated;
        /* Records added outside a read batch (a scan's id changes, process records after the
         * reads they waited for) go out once the event loop is done with what woke it. */
        sd_event_source *flush;
        size_t n_processes;             /* streams with the Processes option */
        size_t n_id_changes;            /* streams with the IdChanges option */
        uint64_t lost_of_closed;        /* records streams that are gone missed */
        uint64_t kernel_dropped;        /* the connector socket's drops, at the last batch */
} Streams;

void streams_init(Streams *st, sd_event *event, const Config *config);
/* Closes every stream: their clients read the end of the stream. */
void streams_done(Streams *st);

/* Opens a stream for a client of uid with options (taken over, whatever the outcome; left
 * empty). Fails with
 * -EDQUOT when uid holds [Streams] MaxPerUser= streams, -ENFILE at MaxStreams=. On success
 * *ret_client_fd is the client's end, for the caller to hand on and close. */
int streams_open(Streams *st, uid_t uid, bool all_processes, StreamOptions *options, int *ret_client_fd);

/* An accepted message, exactly as the kernel sent it. */
void streams_message(Streams *st, const struct cn_msg *msg);
/* An id was registered in the kernel (added) or is gone from it. */
void streams_id_change(Streams *st, bool added, uint32_t idx, uint32_t val, const char *name);

/* What a process record says (<cnd/stream.h>, struct cnd_record_process). */
typedef struct StreamProcess {
        uint32_t pid, ppid, uid;
        int32_t exit_code, exit_signal;
        bool core_dumped;
        uint64_t start_time, timestamp_ns, runtime_ns;
        const char *exe, *unit, *cgroup;
        const char *user_unit, *machine, *container;    /* NULL: unknown, sent as "" */
        uint64_t pid_namespace, mount_namespace;
        uint32_t namespace_pid;
        char *const *argv;              /* NULL-terminated, or NULL */
} StreamProcess;

/* The body of a process record, in one allocation: the arguments are left out when the record
 * would not fit a packet otherwise. */
int stream_process_body(const StreamProcess *p, void **ret, size_t *ret_size);
/* A process record (CND_RECORD_PROCESS_STARTED or _EXITED) for the streams that carry
 * processes and may see p's uid. */
void streams_process(Streams *st, uint16_t type, const StreamProcess *p);

/* The end of a read batch: kernel_dropped is the socket's drop counter now (loss.h). Sends
 * what every stream gathered and frees the streams whose clients went. */
void streams_batch_done(Streams *st, uint64_t kernel_dropped);

/* StreamLostRecords: records missed for a full socket, by every stream ever opened. */
uint64_t streams_lost_records(const Streams *st);
