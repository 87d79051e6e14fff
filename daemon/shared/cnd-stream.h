/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CND_STREAM_H
#define CND_STREAM_H

/* The records of a cnd stream, the socket that org.cnd.Connector1.Manager.AcquireStream() hands
 * out (org.cnd.Connector1(5), STREAMS). Installed as <cnd/stream.h> for clients; cnd writes
 * what this header says.
 *
 * The socket is an AF_UNIX SOCK_SEQPACKET one: every read returns one packet of at most
 * max_record bytes (AcquireStream's second value) holding one or more whole records, one after
 * the other. A read of 0 bytes is the end of the stream (cnd stopped, or dropped the stream).
 * Every record starts with a struct cnd_record and its body follows; the next record starts
 * CND_RECORD_ALIGN(sizeof(struct cnd_record) + length) bytes after the start of this one.
 * Integers are in host byte order. The first record of a stream is a CND_RECORD_HELLO. A type
 * a client does not know is to be skipped: later versions of the format may add types, and may
 * append fields to a body (never move them), which is why the bodies carry their own sizes. */

#include <linux/connector.h>
#include <stdint.h>

#define CND_STREAM_VERSION 1

/* Records start on 8-byte boundaries within a packet. */
#define CND_RECORD_ALIGNTO 8U
#define CND_RECORD_ALIGN(len) (((len) + CND_RECORD_ALIGNTO - 1) & ~(CND_RECORD_ALIGNTO - 1))

enum cnd_record_type {
        CND_RECORD_HELLO = 1,           /* struct cnd_record_hello */
        CND_RECORD_MESSAGE = 2,         /* struct cn_msg and its data, as the kernel sent it */
        CND_RECORD_LOST = 3,            /* struct cnd_record_lost */
        CND_RECORD_ID_ADDED = 4,        /* struct cnd_record_id: an id registered in the kernel */
        CND_RECORD_ID_REMOVED = 5,      /* struct cnd_record_id: an id gone from the kernel */
        CND_RECORD_PROCESS_STARTED = 6, /* struct cnd_record_process */
        CND_RECORD_PROCESS_EXITED = 7,  /* struct cnd_record_process */
};

struct cnd_record {
        uint16_t type;                  /* enum cnd_record_type */
        uint16_t reserved;              /* 0 */
        uint32_t length;                /* bytes of the body that follows */
};

struct cnd_record_hello {
        uint32_t version;               /* CND_STREAM_VERSION of the writer */
        uint32_t max_record;            /* no packet is larger */
};

enum cnd_lost_reason {
        /* The stream's socket was full: cnd could not write this many of the stream's
         * records (messages, ids, processes). Exact. */
        CND_LOST_STREAM_FULL = 1,
        /* The kernel dropped this many messages on cnd's own connector socket before cnd read
         * them (its drop counter, for all ids): some may have been this stream's. */
        CND_LOST_KERNEL = 2,
};

/* How many records the stream missed since the previous lost record of the same reason. It
 * comes before the records written after the loss, as soon as there is room for it. */
struct cnd_record_lost {
        uint64_t count;
        uint32_t reason;                /* enum cnd_lost_reason */
        uint32_t reserved;
};

struct cnd_record_id {
        uint32_t idx, val;
        char name[];                    /* NUL-terminated, "" if unknown */
};

/* A process started a program (Started) or a process left (Exited), as the Started and Exited
 * signals of org.cnd.Connector1.Processes say. size is the size of the fixed part: strings
 * start at ((const char *) body + size), n_strings NUL-terminated strings of strings_size bytes
 * in all. The first n_named_strings of them are named (enum cnd_process_string: exe, unit,
 * cgroup, user_unit, machine, container), the rest are the arguments (none in an Exited
 * record, nor where [Processes] Arguments=no): a later version may name more strings, and the
 * arguments still start at index n_named_strings. A named string is "" if the process has no
 * such thing or it is not known; pid_namespace, mount_namespace and namespace_pid are 0 if not
 * known. Fields that do not apply are -1 (exit_code, exit_signal) or 0. */
struct cnd_record_process {
        uint32_t size;                  /* sizeof(struct cnd_record_process) of the writer */
        uint32_t pid, ppid, uid;
        int32_t exit_code, exit_signal;
        uint32_t core_dumped;           /* 0 or 1 */
        uint32_t namespace_pid;         /* its pid in its own pid namespace */
        uint64_t start_time;            /* field 22 of /proc/PID/stat: clock ticks since boot */
        uint64_t timestamp_ns;          /* the kernel event's */
        uint64_t runtime_ns;            /* Exited only */
        uint64_t pid_namespace;         /* inode of /proc/PID/ns/pid */
        uint64_t mount_namespace;       /* inode of /proc/PID/ns/mnt */
        uint32_t n_strings;             /* n_named_strings + the number of arguments */
        uint32_t n_named_strings;       /* CND_PROCESS_NAMED_STRINGS of the writer */
        uint32_t strings_size;
        uint32_t reserved;
};

/* The named strings of a process record, in their order. */
enum cnd_process_string {
        CND_PROCESS_EXE = 0,
        CND_PROCESS_UNIT = 1,           /* the system unit */
        CND_PROCESS_CGROUP = 2,
        CND_PROCESS_USER_UNIT = 3,      /* under a user manager */
        CND_PROCESS_MACHINE = 4,        /* systemd-machined's container or VM */
        CND_PROCESS_CONTAINER = 5,      /* "RUNTIME:ID" from the cgroup path */
        CND_PROCESS_NAMED_STRINGS = 6,
};

#endif
