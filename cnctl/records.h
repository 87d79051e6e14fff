/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The records of a cnd stream (<cnd/stream.h>, cnd-stream.h here) from the bytes of one packet:
 * pure functions, unit-tested. A packet comes from cnd, but a record that does not fit what the
 * header says is refused (-EBADMSG) rather than read past its end. */

#include <linux/connector.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnd-stream.h"

typedef struct StreamRecord {
        uint16_t type;          /* enum cnd_record_type, or one this cnctl does not know */
        const uint8_t *body;
        size_t size;
} StreamRecord;

/* The record at *offset of a packet of size bytes, and *offset moved past it. 1 and the record,
 * 0 at the packet's end, -EBADMSG for a record cut by the packet's end. */
int stream_packet_next(const uint8_t *packet, size_t size, size_t *offset, StreamRecord *ret);

/* A message record: the cn_msg header copied out, its data pointing into the body. */
int stream_record_message(const StreamRecord *r, struct cn_msg *ret_header, const uint8_t **ret_data);

int stream_record_hello(const StreamRecord *r, struct cnd_record_hello *ret);
int stream_record_lost(const StreamRecord *r, struct cnd_record_lost *ret);

/* A process record: the fixed part copied out, the strings pointing into the body. */
typedef struct StreamProcessRecord {
        struct cnd_record_process fixed;
        /* The named strings (enum cnd_process_string); "" for those a writer does not name. */
        const char *exe, *unit, *cgroup, *user_unit, *machine, *container;
        const char **argv;      /* owned array (of pointers into the body), NULL-terminated */
        size_t n_argv;
} StreamProcessRecord;

int stream_record_process(const StreamRecord *r, StreamProcessRecord *ret);
void stream_process_record_done(StreamProcessRecord *p);
