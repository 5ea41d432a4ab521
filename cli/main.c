/*
 * iothreadctl: the interactive QMP client of iothreadd.  main() only parses
 * options, connects and hands over to the -c, script or interactive loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "commands.h"
#include "repl.h"
#include "session.h"

static const char *description =
    "Talks QMP to iothreadd (or to QEMU: what a server lacks is said, and\n"
    "iothread set falls back to one qom-set per property).  With no -c and stdin a terminal: a readline\n"
    "prompt (Tab completes, history kept, Ctrl-C cancels the line, Ctrl-D\n"
    "or quit leaves).  With stdin not a terminal: script mode, one command\n"
    "per line, '#' comments, stops at the first error unless --keep-going.\n"
    "\n"
    "Commands: info iothreads | iothread add|del|set ID [PROP=VALUE...] |\n"
    "stats [ID] | top [--interval S] [--count N] | events on|off |\n"
    "hmp LINE | help [COMMAND] | any QMP command in qmp-shell syntax, e.g.\n"
    "  object-add qom-type=iothread id=io2\n"
    "or a raw {\"execute\": ...} JSON line.\n"
    "\n"
    "Exit status: 0 ok, 1 a command failed (-c and script modes), 2 usage,\n"
    "3 cannot connect.";

typedef struct {
    char *socket_path;
    char **commands;
    gboolean json, keep_going, verbose, version;
} Options;

/* Parse the options into @o; false with the message printed when they do
 * not parse or an argument is left over. */
static bool parse_options(int *argc, char ***argv, Options *o)
{
    GOptionEntry entries[] = {
        { "socket", 's', 0, G_OPTION_ARG_STRING, &o->socket_path,
          "QMP socket of the server (unix:PATH, tcp:HOST:PORT or a path; "
          "default: iothreadd's default socket)", "SOCKET" },
        { "command", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &o->commands,
          "Run COMMAND and exit (repeatable: run in order)", "COMMAND" },
        { "json", 'j', 0, G_OPTION_ARG_NONE, &o->json,
          "Machine-readable output: one JSON document per command, errors "
          "as {\"error\": {\"class\", \"desc\"}}", NULL },
        { "keep-going", 'k', 0, G_OPTION_ARG_NONE, &o->keep_going,
          "In -c and script modes, go on after a failed command", NULL },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose,
          "Echo the JSON requests sent (on stderr)", NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &o->version,
          "Print the version and exit", NULL },
        { NULL }
    };
    GError *err = NULL;
    GOptionContext *ctx = g_option_context_new("- iothreadd's interactive "
                                               "QMP client");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx, description);
    bool parsed = g_option_context_parse(ctx, argc, argv, &err);
    g_option_context_free(ctx);
    if (!parsed) {
        fprintf(stderr, "iothreadctl: %s (see --help)\n", err->message);
        g_error_free(err);
    } else if (*argc > 1) {
        fprintf(stderr, "iothreadctl: unexpected argument '%s' (commands go "
                "after -c; see --help)\n", (*argv)[1]);
        parsed = false;
    }
    return parsed;
}

/* -c mode: run @commands in order; the exit status of the first failure
 * (stopping there unless @keep_going), or 0. */
static int run_commands(Session *s, char **commands, bool keep_going)
{
    int status = EXIT_OK;

    for (guint i = 0; commands[i]; i++) {
        CmdStatus st = commands_run_line(s, commands[i]);
        if (st == CMD_QUIT) {
            break;
        }
        if (st != CMD_OK && status == EXIT_OK) {
            status = repl_exit_status(st);
        }
        if (st != CMD_OK && !keep_going) {
            break;
        }
    }
    return status;
}

int main(int argc, char **argv)
{
    Options o = { 0 };
    GError *err = NULL;
    int status;

    if (!parse_options(&argc, &argv, &o)) {
        g_free(o.socket_path);
        g_strfreev(o.commands);
        return EXIT_USAGE;
    }
    if (o.version) {
        printf("iothreadctl %s\n", IOTHREADD_VERSION);
        g_free(o.socket_path);
        g_strfreev(o.commands);
        return EXIT_OK;
    }
    if (!o.socket_path || !*o.socket_path) {
        g_free(o.socket_path);
        o.socket_path = qmp_default_socket_path();
    }
    repl_install_signals();
    Session *s = session_new(o.socket_path, o.json, o.verbose);
    if (!session_ensure_connected(s, &err)) {
        session_print_connect_error(s, err);
        g_error_free(err);
        status = EXIT_NO_CONNECTION;
    } else if (o.commands) {
        status = run_commands(s, o.commands, o.keep_going);
    } else if (isatty(STDIN_FILENO)) {
        s->interactive = true;
        status = repl_interactive(s);
    } else {
        status = repl_script(s, stdin, o.keep_going);
    }
    session_free(s);
    g_free(o.socket_path);
    g_strfreev(o.commands);
    return status;
}
