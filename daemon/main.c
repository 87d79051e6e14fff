/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* cnd: brokers kernel connector (NETLINK_CONNECTOR) messages to D-Bus. */

#include <getopt.h>
#include <signal.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include "bus-introspect.h"
#include "conf.h"
#include "log.h"
#include "manager.h"

typedef struct Arguments {
        const char *config_file;
        bool config_given;
        bool check_config;
        bool use_dropins;
        const char *bus_introspect;
} Arguments;

static void help(void) {
        printf("Usage: cnd [OPTIONS...]\n\n"
               "Republishes Linux kernel connector messages on the D-Bus system bus.\n\n"
               "  -h --help              Show this help and exit\n"
               "     --version           Show the version and exit\n"
               "     --config=FILE       Read FILE instead of " CND_CONFIG_FILE "\n"
               "     --no-drop-ins       Do not read cnd.conf.d drop-in directories\n"
               "     --check-config      Validate the configuration, print it, exit 0 or 1\n"
               "     --log-level=LEVEL   err, warning, notice, info (default) or debug\n"
               "     --bus-introspect=INTERFACE\n"
               "                         Print the D-Bus introspection XML of INTERFACE\n"
               "                         (\"list\": the interfaces) and exit\n"
               "\nSee cnd(8) and cnd.conf(5).\n");
}

/* Returns 1 to go on, 0 to exit successfully, negative on a usage error. */
static int parse_argv(int argc, char *argv[], Arguments *args) {
        enum { ARG_VERSION = 0x100, ARG_CONFIG, ARG_NO_DROPINS, ARG_CHECK_CONFIG, ARG_LOG_LEVEL,
               ARG_INTERFACE_XML };
        static const struct option options[] = {
                { "help",           no_argument,       NULL, 'h'                },
                { "version",        no_argument,       NULL, ARG_VERSION        },
                { "config",         required_argument, NULL, ARG_CONFIG         },
                { "no-drop-ins",    no_argument,       NULL, ARG_NO_DROPINS     },
                { "check-config",   no_argument,       NULL, ARG_CHECK_CONFIG   },
                { "log-level",      required_argument, NULL, ARG_LOG_LEVEL      },
                { "bus-introspect", required_argument, NULL, ARG_INTERFACE_XML },
                {}
        };
        int c, level;

        *args = (Arguments) { .config_file = CND_CONFIG_FILE, .use_dropins = true };

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("cnd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_CONFIG:
                        args->config_file = optarg;
                        args->config_given = true;
                        break;
                case ARG_NO_DROPINS:
                        args->use_dropins = false;
                        break;
                case ARG_CHECK_CONFIG:
                        args->check_config = true;
                        break;
                case ARG_LOG_LEVEL:
                        level = log_level_from_string(optarg);
                        if (level < 0) {
                                fprintf(stderr, "cnd: unknown log level '%s'\n", optarg);
                                return -EINVAL;
                        }
                        log_set_max_level(level);
                        break;
                case ARG_INTERFACE_XML:
                        args->bus_introspect = optarg;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                fprintf(stderr, "cnd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static int check_config(const Config *config) {
        _cleanup_(freep) char *text = NULL;

        if (config_dump(config, &text) < 0)
                return log_oom();
        fputs(text, stdout);
        return 0;
}

/* Each stream is a file descriptor of cnd's, and cnd waits with epoll, never select(): as
 * systemd's daemons do, it takes the hard limit as its own (the soft one is 1024 by default). */
static void bump_nofile_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(freep) char *error = NULL;
        Arguments args;
        Config config;
        sigset_t mask;
        int r;

        r = parse_argv(argc, argv, &args);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        /* Before the configuration: the interfaces do not depend on it. */
        if (args.bus_introspect)
                return bus_introspect(stdout, args.bus_introspect) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        r = config_load(&config, args.config_file, args.config_given,
                        args.use_dropins ? CND_DROPIN_DIRS : NULL, &error);
        if (r < 0) {
                log_error("Invalid configuration: %s", error ?: strerror(-r));
                config_done(&config);   /* the defaults, which a key may allocate */
                return EXIT_FAILURE;
        }
        if (args.check_config) {
                r = check_config(&config);
                config_done(&config);
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }

        /* sd-event receives these through a signalfd; they must not be delivered the old way. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        bump_nofile_limit();
        r = manager_new(&m, args.config_file, args.config_given, args.use_dropins, &config);
        config_done(&config);
        if (r < 0) {
                log_error_errno(r, "Failed to set up: %m");
                return EXIT_FAILURE;
        }

        r = manager_startup(m);
        if (r < 0) {
                (void) sd_notifyf(false, "STATUS=Failed to start: %s\nERRNO=%d", strerror(-r), -r);
                return EXIT_FAILURE;
        }

        r = manager_run(m);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                return EXIT_FAILURE;
        }
        return r;
}
