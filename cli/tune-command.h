/*
 * iothreadctl's `tune` command: run iothread-tune with a progress bar,
 * then print the result table, the terminal plots (tune-plot.h) and the
 * recommendation.
 *
 * Thread rules: single-threaded (the Session's thread).
 */
#ifndef CLI_TUNE_COMMAND_H
#define CLI_TUNE_COMMAND_H

#include "commands.h"

G_BEGIN_DECLS

/* `tune ID WORKLOAD [--parameter P] [--values a,b,c] [--step S]
 * [--objective O] [--apply]`. */
CmdStatus cmd_tune(Session *s, char **argv);

G_END_DECLS

#endif /* CLI_TUNE_COMMAND_H */
