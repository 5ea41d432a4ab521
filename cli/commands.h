/*
 * iothreadctl's command dispatcher: one input line is a human command
 * (info, iothread, stats, top, events, hmp, help, quit), a raw QMP command in
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

/* A human command.  Its handler gets the line split into words (argv[0]
 * is the command), or, when @takes_line, the text after the command word
 * as typed (`hmp` passes it on verbatim: HMP has its own syntax). */
typedef struct HumanCommand {
    const char *name;
    const char *usage;
    const char *summary;
    const char *details;   /* for `help NAME` */
    bool takes_line;
    CmdStatus (*handler)(Session *s, char **argv);
    CmdStatus (*line_handler)(Session *s, const char *rest);
} HumanCommand;

/* The human command named @name, or NULL. */
const HumanCommand *commands_find_human(const char *name);

/* The human commands in help's order; *@n is set to their count. */
const HumanCommand *commands_human_table(guint *n);

/* The human command names (NULL-terminated, static), for completion and
 * suggestions. */
const char *const *commands_human_names(void);

/* Subcommand words of a human command (e.g. "iothread" -> add, del, set;
 * "info" -> iothreads), or NULL (static). */
const char *const *commands_subcommands(const char *human);

/* The iothread property names `iothread add|set` accept, learnt from the
 * server's schema: the members object-add's "iothread" variant adds (QEMU
 * and iothreadd both declare them there).  Empty until the schema is
 * known.  Caller frees the vector (g_strfreev). */
char **commands_iothread_properties(Session *s);

/* Run @command with @args (borrowed); on success print @done_message (or
 * the result with --json).  The status, with the error printed. */
CmdStatus commands_run_and_report(Session *s, const char *command,
                                  JsonObject *args, const char *done_message);

/* Set by the SIGINT handler; long-running commands (top) stop when it is
 * set and clear it. */
extern volatile int cli_interrupted;

G_END_DECLS

#endif /* CLI_COMMANDS_H */
