/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* stream-reader: read a stream of cnd's (AcquireStream, org.cnd.Connector1(5), STREAMS) and
 * print one line per record. Any user may run it.
 *
 *   stream-reader [--processes] [--id-changes] [IDX:VAL...]
 *
 * IDX:VAL selects a connector id (decimal or 0x hex); VAL "*" selects every val of IDX.
 * --processes adds the Started/Exited records (another user's processes only for root and
 * the reader group), --id-changes a record per id registered in or removed from the kernel.
 * Lines:
 *
 *   hello version V max_record N
 *   message IDX:VAL seq S ack A len L flags F data HEX
 *   lost N stream-full|kernel
 *   started pid P ppid P uid U exe EXE unit UNIT cgroup CGROUP argv ARG...
 *   exited pid P ppid P uid U exe EXE unit UNIT exit_code C exit_signal S core_dumped 0|1 runtime_ns T
 *   id-added IDX:VAL NAME, id-removed IDX:VAL NAME
 *   end of stream
 *
 * Text that comes from the kernel or from other users (program names, arguments, id names) is
 * printed with its control characters escaped as \xNN, as cnctl(1) does: a terminal would act
 * on them. An empty string prints as "-". The exit status is 0 when the stream ends (cnd
 * stopped), 1 on an error.
 *
 * Build: cc -o stream-reader stream-reader.c $(pkg-config --cflags --libs libsystemd) */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cnd/stream.h>
#include <systemd/sd-bus.h>

#define MAX_IDS 256

struct options {
        uint32_t ids[MAX_IDS][2];
        unsigned n_ids;
        bool processes, id_changes;
};

/* Escaping. */

/* The length of the UTF-8 character at s (n bytes left) and its code point, or 0 if the bytes
 * are no valid UTF-8. */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *ret) {
        size_t len;
        uint32_t c, min;

        if (s[0] < 0x80) {
                *ret = s[0];
                return 1;
        }
        if ((s[0] & 0xe0) == 0xc0)
                len = 2, c = s[0] & 0x1f, min = 0x80;
        else if ((s[0] & 0xf0) == 0xe0)
                len = 3, c = s[0] & 0x0f, min = 0x800;
        else if ((s[0] & 0xf8) == 0xf0)
                len = 4, c = s[0] & 0x07, min = 0x10000;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *ret = c;
        return len;
}

/* What a terminal acts on: C0, DEL, C1, and the bidi controls that reorder what follows. */
static bool is_control(uint32_t c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* Prints s with each byte of a control character or of invalid UTF-8 as \xNN. */
static void print_escaped(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        size_t n = strlen(s);

        if (n == 0) {
                fputs("-", stdout);
                return;
        }
        for (size_t i = 0; i < n;) {
                uint32_t c;
                size_t k = utf8_char(p + i, n - i, &c);

                if (k == 0 || is_control(c)) {
                        for (size_t end = i + (k ? k : 1); i < end; i++)
                                printf("\\x%02x", p[i]);
                        continue;
                }
                fwrite(p + i, 1, k, stdout);
                i += k;
        }
}

/* Records. Each body is checked against its length before it is read: a client trusts the
 * format, not the sizes in it. */

static void print_malformed(const char *what, uint32_t length) {
        printf("malformed %s record of %" PRIu32 " bytes\n", what, length);
}

static void print_message(const void *body, uint32_t length) {
        const struct cn_msg *msg = body;
        const unsigned char *data = body;

        if (length < sizeof(*msg) || msg->len > length - sizeof(*msg)) {
                print_malformed("message", length);
                return;
        }
        printf("message %" PRIu32 ":%" PRIu32 " seq %" PRIu32 " ack %" PRIu32 " len %u flags %u data ",
               msg->id.idx, msg->id.val, msg->seq, msg->ack, msg->len, msg->flags);
        for (unsigned i = 0; i < msg->len; i++)
                printf("%02x", data[sizeof(*msg) + i]);
        putchar('\n');
}

static void print_lost(const void *body, uint32_t length) {
        struct cnd_record_lost lost;

        if (length < sizeof(lost)) {
                print_malformed("lost", length);
                return;
        }
        memcpy(&lost, body, sizeof(lost));
        printf("lost %" PRIu64 " %s\n", lost.count,
               lost.reason == CND_LOST_STREAM_FULL ? "stream-full" :
               lost.reason == CND_LOST_KERNEL      ? "kernel" : "other");
}

static void print_id(uint16_t type, const void *body, uint32_t length) {
        struct cnd_record_id id;
        const char *name = (const char *) body + sizeof(id);

        if (length <= sizeof(id) || !memchr(name, 0, length - sizeof(id))) {
                print_malformed("id", length);
                return;
        }
        memcpy(&id, body, sizeof(id));
        printf("%s %" PRIu32 ":%" PRIu32 " ", type == CND_RECORD_ID_ADDED ? "id-added" : "id-removed", id.idx,
               id.val);
        print_escaped(name);
        putchar('\n');
}

/* The strings of a process record: n NUL-terminated strings in size bytes. Returns false if
 * they are not. */
static bool split_strings(const char *s, uint32_t size, uint32_t n, const char **ret, uint32_t max) {
        uint32_t off = 0;

        for (uint32_t i = 0; i < n; i++) {
                const char *nul = off < size ? memchr(s + off, 0, size - off) : NULL;

                if (!nul)
                        return false;
                if (i < max)
                        ret[i] = s + off;
                off = (uint32_t) (nul - s) + 1;
        }
        return true;
}

static void print_process(uint16_t type, const void *body, uint32_t length) {
        struct cnd_record_process p = { 0 };
        const char *strings[CND_PROCESS_NAMED_STRINGS] = { 0 }, *s;
        uint32_t size;

        if (length < sizeof(size)) {
                print_malformed("process", length);
                return;
        }
        /* A later writer may append fields: the strings start after its size, not ours. */
        memcpy(&size, body, sizeof(size));
        if (size > length || size < offsetof(struct cnd_record_process, reserved)) {
                print_malformed("process", length);
                return;
        }
        memcpy(&p, body, size < sizeof(p) ? size : sizeof(p));
        s = (const char *) body + size;
        /* The first n_named_strings are named, in the order of enum cnd_process_string; a later
         * writer may name more, and the arguments follow them. */
        if (p.strings_size > length - size || p.n_named_strings <= CND_PROCESS_CGROUP ||
            p.n_strings < p.n_named_strings ||
            !split_strings(s, p.strings_size, p.n_strings, strings,
                           p.n_named_strings < CND_PROCESS_NAMED_STRINGS ? p.n_named_strings
                                                                         : CND_PROCESS_NAMED_STRINGS)) {
                print_malformed("process", length);
                return;
        }

        printf("%s pid %" PRIu32 " ppid %" PRIu32 " uid %" PRIu32 " exe ",
               type == CND_RECORD_PROCESS_STARTED ? "started" : "exited", p.pid, p.ppid, p.uid);
        print_escaped(strings[CND_PROCESS_EXE]);
        fputs(" unit ", stdout);
        print_escaped(strings[CND_PROCESS_UNIT]);
        if (strings[CND_PROCESS_CONTAINER] && *strings[CND_PROCESS_CONTAINER]) {
                fputs(" container ", stdout);
                print_escaped(strings[CND_PROCESS_CONTAINER]);
        }
        if (type == CND_RECORD_PROCESS_STARTED) {
                fputs(" cgroup ", stdout);
                print_escaped(strings[CND_PROCESS_CGROUP]);
                fputs(" argv", stdout);
                /* The arguments follow the named strings, one after the other. */
                s = (const char *) body + size;
                for (uint32_t i = 0; i < p.n_named_strings; i++)
                        s += strlen(s) + 1;
                for (uint32_t i = p.n_named_strings; i < p.n_strings; i++, s += strlen(s) + 1) {
                        putchar(' ');
                        print_escaped(s);
                }
        } else
                printf(" exit_code %" PRId32 " exit_signal %" PRId32 " core_dumped %" PRIu32 " runtime_ns %" PRIu64,
                       p.exit_code, p.exit_signal, p.core_dumped, p.runtime_ns);
        putchar('\n');
}

static void print_record(uint16_t type, const void *body, uint32_t length) {
        struct cnd_record_hello hello;

        switch (type) {
        case CND_RECORD_HELLO:
                if (length < sizeof(hello))
                        break;
                memcpy(&hello, body, sizeof(hello));
                printf("hello version %" PRIu32 " max_record %" PRIu32 "\n", hello.version, hello.max_record);
                break;
        case CND_RECORD_MESSAGE:
                print_message(body, length);
                break;
        case CND_RECORD_LOST:
                print_lost(body, length);
                break;
        case CND_RECORD_ID_ADDED:
        case CND_RECORD_ID_REMOVED:
                print_id(type, body, length);
                break;
        case CND_RECORD_PROCESS_STARTED:
        case CND_RECORD_PROCESS_EXITED:
                print_process(type, body, length);
                break;
        default:
                /* A type of a later version of the format: skipped, as <cnd/stream.h> asks. */
                break;
        }
}

/* One packet: whole records one after the other, each CND_RECORD_ALIGN()ed. */
static int print_packet(const unsigned char *packet, size_t size) {
        size_t off = 0;

        while (off < size) {
                struct cnd_record h;

                if (size - off < sizeof(h))
                        return -EBADMSG;
                memcpy(&h, packet + off, sizeof(h));
                if (h.length > size - off - sizeof(h))
                        return -EBADMSG;
                print_record(h.type, packet + off + sizeof(h), h.length);
                off += CND_RECORD_ALIGN(sizeof(h) + (size_t) h.length);
        }
        return 0;
}

/* Reads packets until the end of the stream (a read of 0 bytes). */
static int read_stream(int fd, uint32_t max_record) {
        unsigned char *packet = malloc(max_record);
        int r = 0;

        if (!packet)
                return -ENOMEM;
        for (;;) {
                struct iovec iov = { .iov_base = packet, .iov_len = max_record };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                ssize_t n = recvmsg(fd, &mh, 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0) {
                        printf("end of stream\n");
                        break;
                }
                /* No packet is larger than max_record: a cut one is not cnd's. */
                r = mh.msg_flags & MSG_TRUNC ? -EMSGSIZE : print_packet(packet, (size_t) n);
                if (r < 0)
                        break;
                /* Once per packet, not per line: a packet holds up to hundreds of records. */
                if (fflush(stdout) != 0) {
                        r = -errno;
                        break;
                }
        }
        free(packet);
        return r;
}

/* The call. */

static int append_options(sd_bus_message *m, const struct options *o) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && o->n_ids > 0) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "Ids");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "a(uu)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(uu)");
                for (unsigned i = 0; r >= 0 && i < o->n_ids; i++)
                        r = sd_bus_message_append(m, "(uu)", o->ids[i][0], o->ids[i][1]);
                for (unsigned i = 0; r >= 0 && i < 3; i++)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0 && o->processes)
                r = sd_bus_message_append(m, "{sv}", "Processes", "b", 1);
        if (r >= 0 && o->id_changes)
                r = sd_bus_message_append(m, "{sv}", "IdChanges", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* Asks cnd for a stream; returns its fd, and the largest packet in *ret_max_record. The bus
 * connection is not needed afterwards: the fd is the stream. */
static int acquire_stream(const struct options *o, uint32_t *ret_max_record) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus *bus = NULL;
        int fd = -1, r;

        r = sd_bus_open_system(&bus);   /* honours $DBUS_SYSTEM_BUS_ADDRESS */
        if (r < 0) {
                fprintf(stderr, "Cannot connect to the system bus: %s\n", strerror(-r));
                return r;
        }
        r = sd_bus_message_new_method_call(bus, &m, "org.cnd.Connector1", "/org/cnd/Connector1",
                                           "org.cnd.Connector1.Manager", "AcquireStream");
        if (r >= 0)
                r = append_options(m, o);
        if (r < 0) {
                fprintf(stderr, "Cannot build the call: %s\n", strerror(-r));
                goto out;
        }
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0) {
                fprintf(stderr, "AcquireStream failed: %s\n", error.message ? error.message : strerror(-r));
                goto out;
        }
        r = sd_bus_message_read(reply, "hu", &fd, ret_max_record);
        if (r < 0) {
                fprintf(stderr, "Cannot read the reply: %s\n", strerror(-r));
                goto out;
        }
        /* The reply owns the fd it carries: keep a copy of our own. */
        r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (r < 0) {
                r = -errno;
                fprintf(stderr, "Cannot keep the stream's fd: %s\n", strerror(errno));
        }
out:
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        sd_bus_flush_close_unref(bus);
        return r;
}

/* The command line. */

static bool parse_u32(const char *s, uint32_t *ret) {
        unsigned long long v;
        char *end;

        if (*s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoull(s, &end, 0);
        if (errno != 0 || *end != '\0' || v > UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

static bool parse_id(const char *arg, uint32_t ret[2]) {
        char idx[32];
        const char *colon = strchr(arg, ':');

        if (!colon || (size_t) (colon - arg) >= sizeof(idx))
                return false;
        memcpy(idx, arg, (size_t) (colon - arg));
        idx[colon - arg] = '\0';
        if (!parse_u32(idx, &ret[0]))
                return false;
        if (strcmp(colon + 1, "*") == 0) {
                ret[1] = UINT32_MAX;    /* every val of idx */
                return true;
        }
        return parse_u32(colon + 1, &ret[1]);
}

static int parse_args(int argc, char *argv[], struct options *o) {
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--processes") == 0)
                        o->processes = true;
                else if (strcmp(argv[i], "--id-changes") == 0)
                        o->id_changes = true;
                else if (o->n_ids == MAX_IDS) {
                        fprintf(stderr, "At most %u ids.\n", MAX_IDS);
                        return -1;
                } else if (!parse_id(argv[i], o->ids[o->n_ids++])) {
                        fprintf(stderr, "Not an id: '%s' (IDX:VAL, VAL may be '*').\n", argv[i]);
                        return -1;
                }
        }
        if (o->n_ids == 0 && !o->processes && !o->id_changes) {
                fprintf(stderr, "Usage: %s [--processes] [--id-changes] [IDX:VAL...]\n", argv[0]);
                return -1;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        struct options o = { 0 };
        uint32_t max_record = 0;
        int fd, r;

        if (parse_args(argc, argv, &o) < 0)
                return 1;
        fd = acquire_stream(&o, &max_record);
        if (fd < 0)
                return 1;
        r = read_stream(fd, max_record);
        close(fd);
        if (r < 0) {
                fprintf(stderr, "Reading the stream failed: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
