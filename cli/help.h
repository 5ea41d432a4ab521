/*
 * `help [COMMAND [TAG-VALUE]]`: the overview of the human and QMP
 * commands, a human command's usage, or a QMP command's documentation and
 * arguments rendered from the server's query-qmp-schema.  A flat union
 * (QEMU's object-add) is shown by variant: the members every call takes,
 * then per tag value the members that value adds, each required only where
 * the schema says so.
 *
 * Thread rules: single-threaded (the Session's thread).
 */
#ifndef CLI_HELP_H
#define CLI_HELP_H

#include "session.h"

G_BEGIN_DECLS

CmdStatus cmd_help(Session *s, char **argv);

G_END_DECLS

#endif /* CLI_HELP_H */
