/*
 * iothreadctl's command dispatcher: one input line is a human command
 * (info, iothread, stats, top, events, help, quit), a raw QMP command in
 * qmp-shell syntax, or a raw {...} JSON request sent as is.
 *
 * Thread rules: single-threaded (the Session's thread).
 */
#ifndef CLI_COMMANDS_H
#define CLI_COMMANDS_H

#include "session.h"

G_BEGIN_DECLS

/* Run one line.  Blank lines and '#' comments are CMD_OK and do nothing.
 * Errors are printed by the time this returns. */
CmdStatus commands_run_line(Session *s, const char *line);

/* The human command names (NULL-terminated, static), for completion and
 * suggestions. */
const char *const *commands_human_names(void);

/* Subcommand words of a human command (e.g. "iothread" -> add, del, set;
 * "info" -> iothreads), or NULL (static). */
const char *const *commands_subcommands(const char *human);

/* The iothread property names `iothread add|set` accept: the members of
 * iothread-set's arguments other than "id" when the schema is known, else
 * the built-in list.  Caller frees the vector (g_strfreev). */
char **commands_iothread_properties(Session *s);

/* Set by the SIGINT handler; long-running commands (top) stop when it is
 * set and clear it. */
extern volatile int cli_interrupted;

G_END_DECLS

#endif /* CLI_COMMANDS_H */
