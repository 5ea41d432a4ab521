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

G_BEGIN_DECLS

/* One --object: an iothread to create, or the main-loop's settings. */
typedef struct DaemonObjectOption {
    bool main_loop;             /* "main-loop,..." rather than "iothread,..." */
    char *id;
    AioParams change;           /* the given values (a partial set) */
} DaemonObjectOption;

typedef struct DaemonOptions {
    GPtrArray *qmp_addresses;   /* char *: "unix:PATH" / "tcp:HOST:PORT" */
    GPtrArray *objects;         /* DaemonObjectOption * */
    char *pidfile;
    bool foreground;
    bool nodefaults;            /* no io0/io1 even without --object */
    bool help;
    bool version;
    bool debug_commands;        /* --enable-debug-commands: x-debug-* */
} DaemonOptions;

/* The iothreads created when no --object iothread,... is given (and
 * --nodefaults is not): io0 and io1 with default properties. */
extern const char *const daemon_default_iothreads[];

/* Parse argv.  false + @error (a message for the user) on any problem:
 * unknown option, missing argument, malformed --qmp address, --object with
 * an unknown type or property, a value that is not an integer, an invalid
 * combination, a bad or duplicate id. */
bool daemon_options_parse(int argc, char **argv, DaemonOptions *opts,
                          GError **error);
void daemon_options_clear(DaemonOptions *opts);

/* Whether the default iothreads are to be created. */
bool daemon_options_want_defaults(const DaemonOptions *opts);

/* The --help text. */
const char *daemon_options_usage(void);

G_END_DECLS

#endif /* IOTHREAD_OPTIONS_H */
