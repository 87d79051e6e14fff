/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cnctl: the command line of cnd, in the manner of networkctl and timedatectl: a table of verbs,
 * status by default, and nothing but cnd's D-Bus API underneath, so that it works unprivileged
 * wherever the bus's policy lets it. */

#include <getopt.h>

#include "bus-util.h"
#include "verbs.h"
#include "parse.h"

typedef struct Verb {
        const char *name;
        const char *usage;      /* its arguments, for the error when their count is wrong */
        unsigned min_args, max_args;    /* the verb itself counted */
        int (*run)(Cnctl *c, int argc, char *argv[]);
} Verb;

#define ARGS_ANY UINT32_MAX

static int verb_help(Cnctl *c, int argc, char *argv[]);

static const Verb verbs[] = {
        { "status",  "",              1, 1,        verb_status },     /* the default */
        { "ids",     "",              1, 1,        verb_ids },
        { "monitor", "[IDX:VAL...]",  1, ARGS_ANY, verb_monitor },
        { "proc",    "",              1, 1,        verb_proc },
        { "send",    "IDX:VAL DATA",  3, 3,        verb_send },
        { "request", "IDX:VAL DATA",  3, 3,        verb_request },
        { "join",    "GROUP",         2, 2,        verb_join },
        { "leave",   "GROUP",         2, 2,        verb_leave },
        { "reload",  "",              1, 1,        verb_reload },
        { "help",    "",              1, ARGS_ANY, verb_help },
};

static void help(void) {
        printf("%1$s [OPTIONS...] COMMAND ...\n"
               "\n"
               "Show and control cnd, which publishes the kernel connector on D-Bus.\n"
               "\n"
               "Commands:\n"
               "  status                 Show version, groups, counters, loss, registered ids\n"
               "                         and the state of process events (the default)\n"
               "  ids                    List connector ids: registered ones and those seen\n"
               "  monitor [IDX:VAL...]   Print the messages of these ids (all if none) as they\n"
               "                         come, one line each\n"
               "  proc                   Print process events as they come\n"
               "  send IDX:VAL DATA      Send a message to a connector id in the kernel\n"
               "  request IDX:VAL DATA   Send a message and print the reply\n"
               "  join GROUP             Make cnd join a connector group\n"
               "  leave GROUP            Make cnd leave a connector group\n"
               "  reload                 Make cnd read its configuration again\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --version           Show the package version\n"
               "     --json=MODE         Print JSON: short (one object per line), pretty, or\n"
               "                         off (the default)\n"
               "     --no-pager          Do not pipe status and ids into a pager\n"
               "     --no-legend         Do not print column headers and footers\n"
               "  -q --quiet             Print no notes or hints, and nothing on success\n"
               "     --kinds=KIND,...    proc: only these events, of fork exec uid gid sid\n"
               "                         ptrace comm coredump exit\n"
               "     --timeout=MS        request: wait this long for the reply (default 5000,\n"
               "                         at most 60000)\n"
               "     --via=stream|signals\n"
               "                         monitor, proc: read a stream of cnd's own (the\n"
               "                         default), or follow its D-Bus signals\n"
               "\n"
               "DATA is hex (01000000) or @FILE (@- for standard input). IDX:VAL is a\n"
               "connector id such as 1:1; monitor also takes IDX alone for all its values.\n"
               "send, request, join, leave and reload are for root and members of group\n"
               "%2$s. See cnctl(1) for more.\n",
               program_invocation_short_name, CNCTL_ADMIN_GROUP);
}

static int verb_help(Cnctl *c, int argc, char *argv[]) {
        help();
        return 0;
}

static int parse_argv(Cnctl *c, int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_NO_PAGER,
                ARG_NO_LEGEND,
                ARG_KINDS,
                ARG_TIMEOUT,
                ARG_VIA,
        };
        static const struct option options[] = {
                { "help",      no_argument,       NULL, 'h' },
                { "version",   no_argument,       NULL, ARG_VERSION },
                { "json",      required_argument, NULL, ARG_JSON },
                { "no-pager",  no_argument,       NULL, ARG_NO_PAGER },
                { "no-legend", no_argument,       NULL, ARG_NO_LEGEND },
                { "quiet",     no_argument,       NULL, 'q' },
                { "kinds",     required_argument, NULL, ARG_KINDS },
                { "timeout",   required_argument, NULL, ARG_TIMEOUT },
                { "via",       required_argument, NULL, ARG_VIA },
                {}
        };
        const char *bad;
        size_t bad_len;
        int opt;

        /* One line of our own for a bad option, not getopt's two. */
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":hq", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("cnctl %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_JSON:
                        if (json_mode_from_string(optarg, &c->out.json) < 0)
                                return log_fail("Invalid --json=%s: use short, pretty or off.", optarg);
                        break;
                case ARG_NO_PAGER:
                        c->out.pager = false;
                        break;
                case ARG_NO_LEGEND:
                        c->out.legend = false;
                        break;
                case 'q':
                        c->out.quiet = true;
                        break;
                case ARG_KINDS:
                        if (parse_kinds(optarg, &c->kinds, &bad, &bad_len) < 0)
                                return log_fail("Invalid --kinds=: unknown kind '%.*s'; kinds are fork, "
                                                "exec, uid, gid, sid, ptrace, comm, coredump and exit.",
                                                (int) bad_len, bad);
                        break;
                case ARG_TIMEOUT:
                        if (parse_u32(optarg, &c->timeout_msec) < 0 || streq(optarg, "-1"))
                                return log_fail("Invalid --timeout=%s: give milliseconds, such as 5000.", optarg);
                        c->timeout_set = true;
                        break;
                case ARG_VIA:
                        if (streq(optarg, "stream"))
                                c->via = VIA_STREAM;
                        else if (streq(optarg, "signals"))
                                c->via = VIA_SIGNALS;
                        else
                                return log_fail("Invalid --via=%s: use stream or signals.", optarg);
                        break;
                case ':':
                        return log_fail("Option '%s' needs a value. See '%s --help'.", argv[optind - 1],
                                        program_invocation_short_name);
                default:
                        return log_fail("Unknown option '%s'. See '%s --help'.", argv[optind - 1],
                                        program_invocation_short_name);
                }
        return 1;
}

static const Verb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

/* Options that belong to one verb are refused elsewhere, rather than silently ignored. */
static int check_verb_options(const Cnctl *c, const Verb *v) {
        if (c->kinds != 0 && !streq(v->name, "proc"))
                return log_fail("--kinds= is an option of 'cnctl proc', not of '%s'.", v->name);
        if (c->via != VIA_DEFAULT && !streq(v->name, "monitor") && !streq(v->name, "proc"))
                return log_fail("--via= is an option of 'cnctl monitor' and 'cnctl proc', not of '%s'.", v->name);
        if (c->timeout_set && !streq(v->name, "request"))
                return log_fail("--timeout= is an option of 'cnctl request', not of '%s'.", v->name);
        return 0;
}

static int dispatch(Cnctl *c, int argc, char *argv[]) {
        char *status_argv[] = { (char *) "status", NULL };
        const Verb *v;
        unsigned n;

        if (argc <= 0) {
                argv = status_argv;
                argc = 1;
        }
        v = find_verb(argv[0]);
        if (!v)
                return log_fail("Unknown command '%s'. See '%s --help'.", argv[0], program_invocation_short_name);
        n = (unsigned) argc;
        if (n < v->min_args || (v->max_args != ARGS_ANY && n > v->max_args))
                return log_fail("%s: usage: %s %s%s%s", n < v->min_args ? "Too few arguments" : "Too many arguments",
                                program_invocation_short_name, v->name, *v->usage ? " " : "", v->usage);
        if (check_verb_options(c, v) < 0)
                return -1;
        return v->run(c, argc, argv);
}

int main(int argc, char *argv[]) {
        Cnctl c = {
                .out = { .json = JSON_OFF, .legend = true, .pager = true },
        };
        int r;

        r = parse_argv(&c, argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        r = dispatch(&c, argc - optind, argv + optind);

        pager_close(&c.out);
        sd_bus_flush_close_unref(c.bus);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
