/*
 * iothreadctl's input loops: the interactive readline prompt (history,
 * completion, Ctrl-C cancels the line, events printed as they arrive) and
 * script mode (one command per line from a non-terminal stdin).
 *
 * Thread rules: single-threaded (the main thread).
 */
#ifndef CLI_REPL_H
#define CLI_REPL_H

#include <stdio.h>

#include "session.h"

G_BEGIN_DECLS

/* Exit statuses (see iothreadctl --help). */
enum {
    EXIT_OK = 0,
    EXIT_COMMAND_FAILED = 1,
    EXIT_USAGE = 2,
    EXIT_NO_CONNECTION = 3,
};

/* The exit status a command's result maps to in -c and script modes. */
int repl_exit_status(CmdStatus status);

/* The readline prompt until Ctrl-D or quit; returns the exit status (0).
 * History: $XDG_STATE_HOME/iothreadctl_history, else
 * ~/.iothreadctl_history. */
int repl_interactive(Session *s);

/* Run @in line by line ('#' comments and blank lines skipped).  Stops at
 * the first failing command unless @keep_going; returns the exit status of
 * the first failure, or 0. */
int repl_script(Session *s, FILE *in, bool keep_going);

/* Install the SIGINT handler that sets cli_interrupted (no SA_RESTART, so
 * blocking waits return EINTR) and ignore SIGPIPE. */
void repl_install_signals(void);

G_END_DECLS

#endif /* CLI_REPL_H */
