/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cnctl proc: a live view of process events in the manner of forkstat. From a stream: cn_proc's
 * messages (id 1:1) decoded as cnd decodes them for its Proc signals, and the Started and Exited
 * records of the processes cnd lets this user see (their own; every one for root and the reader
 * group). From signals: the Proc signals (public), and with access to the Processes interface
 * the program, arguments and unit of each start and exit. Either way the same lines and the
 * same JSON objects. Loss shows where it happens: a stream's lost records or Overrun, and steps
 * of LostEvents, which emits no signal and is read every second. */

#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>

#include "bus-util.h"
#include "proc-event.h"
#include "proc-kind.h"
#include "follow.h"
#include "verbs.h"

#define LOST_EVENTS_POLL_USEC USEC_PER_SEC

typedef struct ProcSignal {
        const char *member;
        const char *interface;
        ProcKind kind;
        const char *const *args;        /* as org.cnd.Connector1(5) names them */
} ProcSignal;

#define TAIL "cpu", "timestamp_ns", NULL

static const ProcSignal proc_signals[] = {
        { "Fork", CND_PROC_IFACE, PROC_KIND_FORK,
          (const char *const[]) { "parent_pid", "parent_tgid", "child_pid", "child_tgid", TAIL } },
        { "Exec", CND_PROC_IFACE, PROC_KIND_EXEC, (const char *const[]) { "pid", "tgid", TAIL } },
        { "Uid", CND_PROC_IFACE, PROC_KIND_UID, (const char *const[]) { "pid", "tgid", "ruid", "euid", TAIL } },
        { "Gid", CND_PROC_IFACE, PROC_KIND_GID, (const char *const[]) { "pid", "tgid", "rgid", "egid", TAIL } },
        { "Sid", CND_PROC_IFACE, PROC_KIND_SID, (const char *const[]) { "pid", "tgid", TAIL } },
        { "Ptrace", CND_PROC_IFACE, PROC_KIND_PTRACE,
          (const char *const[]) { "pid", "tgid", "tracer_pid", "tracer_tgid", TAIL } },
        { "Comm", CND_PROC_IFACE, PROC_KIND_COMM, (const char *const[]) { "pid", "tgid", "comm", TAIL } },
        { "Coredump", CND_PROC_IFACE, PROC_KIND_COREDUMP,
          (const char *const[]) { "pid", "tgid", "parent_pid", "parent_tgid", TAIL } },
        { "Exit", CND_PROC_IFACE, PROC_KIND_EXIT,
          (const char *const[]) { "pid", "tgid", "exit_code", "exit_signal", "parent_pid", "parent_tgid", TAIL } },
        /* The Processes interface: the same starts and exits with what /proc told cnd. The stream's
         * process records carry the same fields. */
        { "Started", CND_PROCESSES_IFACE, PROC_KIND_EXEC,
          (const char *const[]) { "pid", "ppid", "uid", "exe", "argv", "unit", "cgroup", "start_time",
                                  "timestamp_ns", "where", NULL } },
        { "Exited", CND_PROCESSES_IFACE, PROC_KIND_EXIT,
          (const char *const[]) { "pid", "ppid", "uid", "exe", "unit", "exit_code", "exit_signal",
                                  "core_dumped", "runtime_ns", "start_time", "timestamp_ns", "where", NULL } },
};

#define SIGNAL_STARTED (&proc_signals[_PROC_KIND_MAX])
#define SIGNAL_EXITED (&proc_signals[_PROC_KIND_MAX + 1])

typedef struct ProcView {
        Follow follow;
        uint32_t kinds;                 /* bits of ProcKind shown */
        uint32_t published;             /* bits of ProcKind cnd publishes ([Proc] Events=) */
        bool stream;                    /* reading a stream, not signals */
        /* Started/Exited of every process come: they stand for its exec and exit. Without it
         * a stream still brings this user's own, beside the public events. */
        bool details;
        uint64_t lost_events;           /* LostEvents when last read */
        sd_bus_slot *lost_query;        /* a read of LostEvents under way */
        sd_event_source *lost_timer;
} ProcView;

static const ProcSignal *find_signal(sd_bus_message *m) {
        for (size_t i = 0; i < ELEMENTSOF(proc_signals); i++)
                if (sd_bus_message_is_signal(m, proc_signals[i].interface, proc_signals[i].member))
                        return &proc_signals[i];
        return NULL;
}

static bool is_details(const ProcSignal *sig) {
        return streq(sig->interface, CND_PROCESSES_IFACE);
}

static int64_t jint(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static const char *signal_name(int sig, char buf[static 16]) {
        const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL;

        if (abbrev)
                snprintf(buf, 16, "SIG%s", abbrev);
        else
                snprintf(buf, 16, "signal %d", sig);
        return buf;
}

/* The kernel's exit_code is a wait status. */
static void print_wait_status(uint32_t status) {
        char buf[16];

        if (WIFEXITED(status))
                printf("exited %d", WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
                printf("killed by %s%s", signal_name(WTERMSIG(status), buf), WCOREDUMP(status) ? ", core dumped" : "");
        else
                printf("status 0x%x", status);
}

/* The unit, and the container when there is one: " [unit] (docker:ID)". */
static void print_unit(json_object *j) {
        const char *unit = json_get_str(j, "unit");
        json_object *where = NULL;
        const char *container = "";

        if (*unit) {
                fputs(" [", stdout);
                print_sanitized(stdout, unit);
                putchar(']');
        }
        if (json_object_object_get_ex(j, "where", &where))
                container = json_get_str(where, "container");
        if (*container) {
                fputs(" (", stdout);
                print_sanitized(stdout, container);
                putchar(')');
        }
}

static void print_started(json_object *j) {
        json_object *argv = NULL;
        size_t n = 0;

        printf("uid %" PRIu64 ": ", json_get_u64(j, "uid"));
        if (json_object_object_get_ex(j, "argv", &argv))
                n = json_object_array_length(argv);
        for (size_t i = 0; i < n; i++) {
                if (i)
                        putchar(' ');
                print_sanitized(stdout, strempty(json_object_get_string(json_object_array_get_idx(argv, i))));
        }
        if (n == 0)
                print_sanitized(stdout, *json_get_str(j, "exe") ? json_get_str(j, "exe")
                                                                : "(gone before cnd could read it)");
        print_unit(j);
}

static void print_exited(json_object *j) {
        char buf[16];
        uint64_t runtime_ns = json_get_u64(j, "runtime_ns");

        if (jint(j, "exit_signal") >= 0)
                printf("killed by %s%s", signal_name((int) jint(j, "exit_signal"), buf),
                       json_get_bool(j, "core_dumped") ? ", core dumped" : "");
        else
                printf("exited %" PRId64, jint(j, "exit_code"));
        printf(" after %" PRIu64 ".%03" PRIu64 " s: ", runtime_ns / 1000000000, runtime_ns / 1000000 % 1000);
        print_sanitized(stdout, *json_get_str(j, "exe") ? json_get_str(j, "exe") : "(program not known)");
        print_unit(j);
}

/* The INFO column of one event. */
static void print_info(const ProcSignal *sig, json_object *j) {
        uint64_t pid = json_get_u64(j, "pid"), tgid = json_get_u64(j, "tgid");

        switch (sig->kind) {
        case PROC_KIND_FORK:
                if (json_get_u64(j, "child_pid") != json_get_u64(j, "child_tgid"))
                        printf("new thread of %" PRIu64, json_get_u64(j, "child_tgid"));
                break;
        case PROC_KIND_EXEC:
                if (is_details(sig))
                        print_started(j);
                break;
        case PROC_KIND_UID:
                printf("ruid %" PRIu64 " euid %" PRIu64, json_get_u64(j, "ruid"), json_get_u64(j, "euid"));
                break;
        case PROC_KIND_GID:
                printf("rgid %" PRIu64 " egid %" PRIu64, json_get_u64(j, "rgid"), json_get_u64(j, "egid"));
                break;
        case PROC_KIND_SID:
                fputs("new session", stdout);
                break;
        case PROC_KIND_PTRACE:
                if (json_get_u64(j, "tracer_pid"))
                        printf("traced by %" PRIu64, json_get_u64(j, "tracer_tgid"));
                else
                        fputs("tracer detached", stdout);
                break;
        case PROC_KIND_COMM:
                fputs("name ", stdout);
                print_sanitized(stdout, json_get_str(j, "comm"));
                break;
        case PROC_KIND_COREDUMP:
                fputs("dumped core", stdout);
                break;
        case PROC_KIND_EXIT:
                if (is_details(sig))
                        print_exited(j);
                else if (pid != tgid)
                        printf("thread of %" PRIu64 " ended", tgid);
                else
                        print_wait_status((uint32_t) json_get_u64(j, "exit_code"));
                break;
        default:
                break;
        }
}

/* With the Processes signals, a process's exec and exit come from them, with details. */
static bool shown_by_details(const ProcView *v, const ProcSignal *sig, json_object *j) {
        if (!v->details || is_details(sig))
                return false;
        return sig->kind == PROC_KIND_EXEC ||
                (sig->kind == PROC_KIND_EXIT && json_get_u64(j, "pid") == json_get_u64(j, "tgid"));
}

static uint64_t event_ppid(const ProcSignal *sig, json_object *j) {
        switch (sig->kind) {
        case PROC_KIND_FORK:
                return json_get_u64(j, "parent_tgid");
        case PROC_KIND_EXIT:
        case PROC_KIND_COREDUMP:
                /* cn_proc sends 0 for a task already being reaped. */
                return is_details(sig) ? json_get_u64(j, "ppid") : json_get_u64(j, "parent_tgid");
        case PROC_KIND_EXEC:
                return is_details(sig) ? json_get_u64(j, "ppid") : 0;
        default:
                return 0;
        }
}

static int print_text(ProcView *v, const ProcSignal *sig, json_object *j) {
        char when[32], ppid[16] = "-";
        uint64_t pid;

        if (shown_by_details(v, sig, j))
                return 0;
        pid = sig->kind == PROC_KIND_FORK ? json_get_u64(j, "child_pid") : json_get_u64(j, "pid");
        if (event_ppid(sig, j))
                snprintf(ppid, sizeof(ppid), "%" PRIu64, event_ppid(sig, j));
        follow_format_time(&v->follow, when, json_get_u64(j, "timestamp_ns"));
        printf("%s %-8s %7" PRIu64 " %7s  ", when, proc_kind_to_string(sig->kind), pid, ppid);
        print_info(sig, j);
        putchar('\n');
        return fflush(stdout) == 0 ? 0 : -errno;
}

static int print_event(ProcView *v, const ProcSignal *sig, json_object *j) {
        return v->follow.c->out.json != JSON_OFF ? output_json(&v->follow.c->out, j) : print_text(v, sig, j);
}

static int on_proc_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(json_object_putp) json_object *j = NULL;
        ProcView *v = userdata;
        const ProcSignal *sig = find_signal(m);
        int r;

        if (!sig || !(v->kinds & (UINT32_C(1) << sig->kind)))
                return 0;
        j = json_object_new_object();
        if (!j)
                return sd_event_exit(v->follow.event, -ENOMEM);
        json_object_object_add(j, "signal", json_object_new_string(sig->member));
        if (json_read_args(m, sig->args, j) < 0)
                return 0;       /* not the signature this cnctl knows: not ours to print */
        r = print_event(v, sig, j);
        return r < 0 ? sd_event_exit(v->follow.event, r) : 0;
}

/* A decoded cn_proc event as its Proc signal's arguments: the event's words in the order of
 * the signal, comm where the signal has it, then cpu and timestamp_ns. */
static json_object *proc_event_json(const ProcSignal *sig, const ProcEvent *ev) {
        json_object *j = json_object_new_object();
        unsigned field = 0;

        if (!j)
                return NULL;
        json_object_object_add(j, "signal", json_object_new_string(sig->member));
        for (const char *const *name = sig->args; *name; name++)
                if (streq(*name, "comm"))
                        json_object_object_add(j, *name, json_object_new_string(ev->comm));
                else if (streq(*name, "cpu"))
                        json_object_object_add(j, *name, json_object_new_int64(ev->cpu));
                else if (streq(*name, "timestamp_ns"))
                        json_object_object_add(j, *name, json_object_new_uint64(ev->timestamp_ns));
                else
                        json_object_object_add(j, *name, json_object_new_int64(field < ev->n_fields ?
                                                                                ev->fields[field++] : 0));
        return j;
}

static json_object *strings_json(const char *const *strings, size_t n) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < n; i++)
                json_object_array_add(a, json_object_new_string(strings[i]));
        return a;
}

static void add_where_string(json_object *w, const char *key, const char *value) {
        json_object_object_add(w, key, json_object_new_string(value));
}

static void add_where_number(json_object *w, const char *key, uint64_t value) {
        if (value > 0)
                json_object_object_add(w, key, json_object_new_uint64(value));
}

/* The where dictionary of the signals, from a record: a number not known is left out, as the
 * signals leave it out; a string the record cannot tell from none is "". */
static json_object *where_json(const StreamProcessRecord *p) {
        json_object *w = json_object_new_object();

        if (!w)
                return NULL;
        add_where_string(w, "user_unit", p->user_unit);
        add_where_string(w, "machine", p->machine);
        add_where_string(w, "container", p->container);
        add_where_number(w, "pid_namespace", p->fixed.pid_namespace);
        add_where_number(w, "mount_namespace", p->fixed.mount_namespace);
        add_where_number(w, "namespace_pid", p->fixed.namespace_pid);
        return w;
}

/* One field of a process record, typed as its Started or Exited signal's argument. */
static json_object *process_field_json(const char *name, const StreamProcessRecord *p) {
        const struct cnd_record_process *x = &p->fixed;

        if (streq(name, "where"))
                return where_json(p);
        if (streq(name, "pid") || streq(name, "ppid") || streq(name, "uid"))
                return json_object_new_int64(streq(name, "pid") ? x->pid : streq(name, "ppid") ? x->ppid : x->uid);
        if (streq(name, "exe") || streq(name, "unit") || streq(name, "cgroup"))
                return json_object_new_string(streq(name, "exe") ? p->exe : streq(name, "unit") ? p->unit : p->cgroup);
        if (streq(name, "argv"))
                return strings_json(p->argv, p->n_argv);
        if (streq(name, "exit_code") || streq(name, "exit_signal"))
                return json_object_new_int(streq(name, "exit_code") ? x->exit_code : x->exit_signal);
        if (streq(name, "core_dumped"))
                return json_object_new_boolean(x->core_dumped != 0);
        return json_object_new_uint64(streq(name, "start_time") ? x->start_time
                                      : streq(name, "runtime_ns") ? x->runtime_ns : x->timestamp_ns);
}

static json_object *process_json(const ProcSignal *sig, const StreamProcessRecord *p) {
        json_object *j = json_object_new_object();

        if (!j)
                return NULL;
        json_object_object_add(j, "signal", json_object_new_string(sig->member));
        for (const char *const *name = sig->args; *name; name++)
                json_object_object_add(j, *name, process_field_json(*name, p));
        return j;
}

static bool shown(const ProcView *v, const ProcSignal *sig) {
        return v->kinds & v->published & (UINT32_C(1) << sig->kind);
}

/* A stream's message of id 1:1: an event as its signal would have it. Acks and kinds this
 * cnctl does not know are not events; what cnd does not publish as signals is not shown
 * either, so that the two ways show the same. */
static json_object *message_json(ProcView *v, const StreamRecord *rec, const ProcSignal **ret_sig) {
        const uint8_t *data;
        struct cn_msg h;
        ProcEvent ev;

        if (stream_record_message(rec, &h, &data) < 0 || h.id.idx != CN_IDX_PROC || h.id.val != CN_VAL_PROC ||
            proc_event_decode(data, h.len, &ev) != PROC_DECODE_EVENT)
                return NULL;
        *ret_sig = &proc_signals[ev.kind];
        return shown(v, *ret_sig) ? proc_event_json(*ret_sig, &ev) : NULL;
}

static json_object *record_process_json(ProcView *v, const StreamRecord *rec, const ProcSignal **ret_sig) {
        StreamProcessRecord p;
        json_object *j;

        *ret_sig = rec->type == CND_RECORD_PROCESS_STARTED ? SIGNAL_STARTED : SIGNAL_EXITED;
        if (!(v->kinds & (UINT32_C(1) << (*ret_sig)->kind)) || stream_record_process(rec, &p) < 0)
                return NULL;
        j = process_json(*ret_sig, &p);
        stream_process_record_done(&p);
        return j;
}

static int on_record(Follow *f, const StreamRecord *rec, void *userdata) {
        _cleanup_(json_object_putp) json_object *j = NULL;
        const ProcSignal *sig = NULL;
        ProcView *v = userdata;

        if (rec->type == CND_RECORD_MESSAGE)
                j = message_json(v, rec, &sig);
        else if (rec->type == CND_RECORD_PROCESS_STARTED || rec->type == CND_RECORD_PROCESS_EXITED)
                j = record_process_json(v, rec, &sig);
        return j ? print_event(v, sig, j) : 0;
}

static int on_lost_events(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(json_object_putp) json_object *j = NULL;
        ProcView *v = userdata;
        uint64_t lost;
        int r;

        v->lost_query = sd_bus_slot_unref(v->lost_query);
        if (sd_bus_message_is_method_error(reply, NULL) || sd_bus_message_read(reply, "v", "t", &lost) < 0)
                return 0;       /* cnd away: the name watch tells */
        if (lost <= v->lost_events) {
                v->lost_events = lost;
                return 0;
        }
        j = json_object_new_object();
        if (!j)
                return 0;
        json_object_object_add(j, "property", json_object_new_string("LostEvents"));
        json_object_object_add(j, "lost_events", json_object_new_uint64(lost));
        r = follow_print_event(&v->follow, j, "%" PRIu64 " process events lost (gaps in cn_proc's numbering; "
                               "%" PRIu64 " since cnd started)", lost - v->lost_events, lost);
        v->lost_events = lost;
        return r < 0 ? sd_event_exit(v->follow.event, r) : 0;
}

static void query_lost_events(ProcView *v) {
        if (v->lost_query)
                return;
        (void) sd_bus_call_method_async(v->follow.c->bus, &v->lost_query, CND_BUS_NAME, CND_PROC_PATH,
                                        "org.freedesktop.DBus.Properties", "Get", on_lost_events, v,
                                        "ss", CND_PROC_IFACE, "LostEvents");
}

static int on_lost_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        ProcView *v = userdata;

        query_lost_events(v);
        return sd_event_source_set_time(source, usec + LOST_EVENTS_POLL_USEC);
}

static void on_loss(Follow *s, bool restarted, void *userdata) {
        ProcView *v = userdata;

        if (restarted)
                v->lost_events = 0;
        query_lost_events(v);
}

static int add_matches(ProcView *v, const char *interface, const char *path) {
        for (size_t i = 0; i < ELEMENTSOF(proc_signals); i++) {
                const ProcSignal *sig = &proc_signals[i];
                _cleanup_(freep) char *rule = NULL;
                int r;

                if (!streq(sig->interface, interface) || !(v->kinds & (UINT32_C(1) << sig->kind)))
                        continue;
                if (asprintf(&rule, "path='%s',interface='%s',member='%s'", path, interface, sig->member) < 0)
                        return log_fail("Out of memory.");
                r = follow_add_match(&v->follow, rule, on_proc_signal, v);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Whether the details of every process will come (the Processes signals, or a stream's records
 * of every uid): a GetProcess of ourselves answers as the policy does for them (both are for
 * root and the reader group). Absence is no error: what the Proc events say is shown, with one
 * note. */
static bool probe_details(ProcView *v) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const Output *o = &v->follow.c->out;
        int r;

        r = sd_bus_call_method(v->follow.c->bus, CND_BUS_NAME, CND_PROCESSES_PATH, CND_PROCESSES_IFACE,
                               "GetProcess", &error, &reply, "u", (uint32_t) getpid());
        if (r >= 0 || sd_bus_error_has_name(&error, CND_ERROR_NO_SUCH_PROCESS))
                return true;
        if (sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED) && v->stream)
                output_note(o, "Note: programs, arguments and units are shown for your own processes; for "
                            "everyone's to root and members of group %s only ([Processes] ReaderGroup= "
                            "in cnd.conf).", CNCTL_READER_GROUP);
        else if (sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED))
                output_note(o, "Note: programs, arguments and units are shown to root and members of group "
                            "%s only ([Processes] ReaderGroup= in cnd.conf).", CNCTL_READER_GROUP);
        else if (bus_error_is_absent(&error))
                output_note(o, "Note: this cnd publishes no programs, arguments or units "
                            "([Processes] Enabled= in cnd.conf, or an older cnd).");
        else
                output_note(o, "Note: no programs, arguments or units: %s", strempty(error.message));
        return false;
}

/* Notes on what will not come: cnd not listening, or kinds its Events= leaves out. */
static int check_proc_state(ProcView *v) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(json_object_putp) json_object *proc = NULL;
        const Output *o = &v->follow.c->out;
        json_object *events = NULL;
        uint32_t published = 0;
        int r;

        r = cnd_get_all(v->follow.c->bus, CND_PROC_PATH, CND_PROC_IFACE, &proc, &error);
        if (r < 0)
                return log_call_error("read cnd's process event state", ACCESS_ANYONE, &error, r);
        v->lost_events = json_get_u64(proc, "lost_events");
        if (!json_get_bool(proc, "listening"))
                output_note(o, "Note: cnd is not listening to process events (group 1 is not joined): cnctl join 1");
        if (json_object_object_get_ex(proc, "events", &events))
                for (size_t i = 0; i < json_object_array_length(events); i++) {
                        int k = proc_kind_from_string(json_object_get_string(json_object_array_get_idx(events, i)));

                        if (k >= 0)
                                published |= UINT32_C(1) << k;
                }
        v->published = published;
        if (v->kinds & ~published) {
                char missing[128] = "";

                for (ProcKind k = 0; k < _PROC_KIND_MAX; k++)
                        if ((v->kinds & ~published) & (UINT32_C(1) << k)) {
                                strcat(missing, *missing ? " " : "");
                                strcat(missing, proc_kind_to_string(k));
                        }
                output_note(o, "Note: cnd does not publish these events: %s ([Proc] Events= in cnd.conf).", missing);
        }
        return 0;
}

/* cn_proc's messages (id 1:1) and the processes cnd lets this user see. 0 with the stream set
 * up, 1 to follow signals instead, -1 printed. */
static int acquire_stream(ProcView *v) {
        static const uint32_t proc_id[][2] = { { CN_IDX_PROC, CN_VAL_PROC } };

        if (!follow_want_stream(&v->follow, true))
                return 1;
        return follow_acquire_stream(&v->follow, &(FollowStreamOptions) {
                .ids = proc_id, .n_ids = 1, .processes = true,
        }, on_record);
}

int verb_proc(Cnctl *c, int argc, char *argv[]) {
        ProcView v = { .kinds = c->kinds ?: PROC_KINDS_ALL };
        int r;

        r = follow_init(&v.follow, c);
        if (r < 0)
                goto finish;
        v.follow.on_loss = on_loss;
        v.follow.userdata = &v;
        r = acquire_stream(&v);
        v.stream = r == 0;
        if (r > 0) {
                r = add_matches(&v, CND_PROC_IFACE, CND_PROC_PATH);
                if (r >= 0)
                        r = follow_watch_cnd(&v.follow);
        }
        if (r >= 0)
                r = check_proc_state(&v);
        if (r < 0)
                goto finish;
        v.details = probe_details(&v);
        if (v.details && !v.stream) {
                r = add_matches(&v, CND_PROCESSES_IFACE, CND_PROCESSES_PATH);
                if (r < 0)
                        goto finish;
        }
        r = sd_event_add_time_relative(v.follow.event, &v.lost_timer, CLOCK_MONOTONIC, LOST_EVENTS_POLL_USEC,
                                       0, on_lost_timer, &v);
        if (r >= 0)
                r = sd_event_source_set_enabled(v.lost_timer, SD_EVENT_ON);
        if (r < 0) {
                errno = -r;
                r = log_fail("Failed to set up a timer: %m");
                goto finish;
        }
        if (c->out.json == JSON_OFF && c->out.legend) {
                printf("%-15s %-8s %7s %7s  %s\n", "TIME", "EVENT", "PID", "PPID", "INFO");
                fflush(stdout);
        }
        r = follow_run(&v.follow);
finish:
        sd_bus_slot_unref(v.lost_query);
        sd_event_source_unref(v.lost_timer);
        follow_done(&v.follow);
        return r;
}
