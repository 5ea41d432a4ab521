/*
 * iothreadd's command line: parsing and checking every option before the
 * daemon creates anything, so a bad command line changes nothing and exits
 * with status 2 and a message naming the problem.
 *
 * Thread rules: none (called once, from main(), before any thread exists).
 */
#ifndef IOTHREAD_OPTIONS_H
#define IOTHREAD_OPTIONS_H

#include <glib.h>
#include <stdbool.h>

#include "iothread.h"
#include "log.h"

G_BEGIN_DECLS

/* One --object: an iothread to create, or the main-loop's settings. */
typedef struct DaemonObjectOption {
    bool main_loop;             /* "main-loop,..." rather than "iothread,..." */
    char *id;
    AioParams change;           /* the given values (a partial set) */
    char *cpu_affinity;         /* iothread: cpu-affinity=, or NULL */
} DaemonObjectOption;

typedef struct DaemonOptions {
    GPtrArray *qmp_addresses;   /* char *: "unix:PATH[,OPT=V]..." /
                                 * "tcp:HOST:PORT[,OPT=V]..." (QmpAddress) */
    GPtrArray *objects;         /* DaemonObjectOption * */
    char *pidfile;
    char *config;               /* --config FILE (config.h), or NULL */
    bool auto_save;             /* --auto-save: needs --config */
    char *metrics_address;      /* --metrics tcp:HOST:PORT, or NULL */
    bool metrics_remote;        /* --metrics-remote: HOST need not be loopback */
    bool foreground;
    bool nodefaults;            /* no io0/io1 even without --object */
    bool help;
    bool version;
    DaemonLogLevel log_level;   /* --log-level (default info) */
    bool debug_commands;        /* --enable-debug-commands: x-debug-* */
} DaemonOptions;

/* The iothreads created when no --object iothread,... is given (and
 * --nodefaults is not): io0 and io1 with default properties. */
extern const char *const daemon_default_iothreads[];

/* Parse argv.  false + @error (a message for the user) on any problem:
 * unknown option, missing argument, malformed --qmp address, --object with
 * an unknown type or property, a value that is not an integer, an invalid
 * combination, a bad or duplicate id, a cpu-affinity the daemon's CPUs
 * refuse, --auto-save without --config, an unknown --log-level.
 * A bad --metrics address.  In --object, ",," stands for a
 * comma inside a value (cpu-affinity=0-1,,4), as in QEMU. */
bool daemon_options_parse(int argc, char **argv, DaemonOptions *opts,
                          GError **error);
void daemon_options_clear(DaemonOptions *opts);

/* Whether the default iothreads are to be created. */
bool daemon_options_want_defaults(const DaemonOptions *opts);

/* The --help text. */
const char *daemon_options_usage(void);

G_END_DECLS

#endif /* IOTHREAD_OPTIONS_H */
