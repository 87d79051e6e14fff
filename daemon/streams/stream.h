/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One stream (stream.c): cnd's end of a socketpair handed to a client by AcquireStream, what
 * the client asked it to carry, and its write path. Records are gathered into a packet while a
 * read batch is relayed and written with one send() when the packet is full or the batch ends
 * (stream_flush). cnd never blocks on a stream and never buffers more than one packet for it:
 * when its socket is full the packet is dropped, its records are counted, and nothing more is
 * gathered until the socket has room again; then a lost record goes first. The records are
 * those of <cnd/stream.h>. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "cnd-stream.h"

/* The largest packet, hence record, cnd writes: a Started record with a 64 KiB command line,
 * its program, cgroup and unit fits. */
#define STREAM_RECORD_MAX (128U * 1024U)
/* A packet is sent once it holds this much: large enough that one send() carries hundreds of
 * small messages, small enough that a stream costs little memory. */
#define STREAM_PACKET_TARGET (32U * 1024U)
/* BufferBytes: the send buffer of cnd's end, which holds what the client has not read yet. */
#define STREAM_BUFFER_DEFAULT (1U * 1024U * 1024U)
#define STREAM_BUFFER_MIN (2U * STREAM_RECORD_MAX)
#define STREAM_BUFFER_MAX (16U * 1024U * 1024U)
/* Entries of the Ids option, at most. */
#define STREAM_IDS_MAX 256U

typedef struct StreamId {
        uint32_t idx, val;      /* UINT32_MAX: every val of idx, or every idx (with val) */
} StreamId;

typedef struct StreamOptions {
        StreamId *ids;          /* owned */
        size_t n_ids;
        bool processes;         /* Started/Exited records */
        bool id_changes;        /* id added/removed records */
        uint32_t buffer_bytes;
} StreamOptions;

void stream_options_done(StreamOptions *o);
/* Whether the stream carries messages of this id. */
bool stream_options_match(const StreamOptions *o, uint32_t idx, uint32_t val);

typedef struct Stream Stream;
/* The client hung up, or a write failed for good: the owner frees the stream (not from within
 * stream_add() or stream_flush(), which only mark it dead). */
typedef void (*StreamClosedHandler)(Stream *s, void *userdata);

struct Stream {
        int fd;                         /* cnd's end; the client holds the other */
        sd_event_source *source;        /* hang-up, and room again after a full socket */
        uid_t uid;                      /* the client's */
        bool all_processes;             /* root or a reader: every process, else uid's own */
        StreamOptions options;

        uint8_t *packet;                /* being gathered; STREAM_PACKET_TARGET or more */
        size_t packet_size, packet_allocated;
        uint64_t packet_records;        /* records in it, lost records not counted */
        /* The counts the lost records at the packet's start carry, by reason. */
        uint64_t packet_lost[3];

        bool full;                      /* the socket was full: nothing gathered until room */
        bool dead;                      /* the client went, or a write failed: to be freed */
        uint64_t lost[3];               /* missed and not yet reported, by enum cnd_lost_reason */
        uint64_t lost_total;            /* records missed for a full socket, ever */

        StreamClosedHandler on_closed;
        void *userdata;
};

/* Makes the socketpair and cnd's end of it; *ret_client_fd is the client's end (the caller
 * hands it on and closes it). The hello record is written at once. */
int stream_new(Stream **ret, sd_event *event, uid_t uid, bool all_processes, StreamOptions *options,
               StreamClosedHandler on_closed, void *userdata, int *ret_client_fd);
Stream *stream_free(Stream *s);

/* Adds a record of type with a body of size bytes (at most STREAM_RECORD_MAX - its header):
 * gathered, or counted as lost. */
void stream_add(Stream *s, uint16_t type, const void *body, size_t size);
/* count records of reason were lost: messages the kernel dropped before cnd read them
 * (CND_LOST_KERNEL), or records cnd could not make for the stream (CND_LOST_STREAM_FULL). */
void stream_count_lost(Stream *s, enum cnd_lost_reason reason, uint64_t count);
/* Sends the packet gathered so far, if any. */
void stream_flush(Stream *s);
