/*
 * The daemon's tuner commands: iothread-tune, query-tune,
 * iothread-tune-cancel and the events IOTHREAD_TUNE_PROGRESS /
 * IOTHREAD_TUNE_DONE, on top of workload/tune.h.  Registered by
 * daemon_commands_new().
 *
 * A tune is named by its iothread's id (one tune per iothread at a time);
 * the last tune of each iothread stays listed by query-tune, with its
 * results, until the next tune of that iothread replaces it.  Values are
 * set through daemon_commands_set_properties(), the path of iothread-set
 * (so each step also emits IOTHREAD_PROPERTY_CHANGED).
 *
 * Thread rules: everything here runs in the main loop's thread (the
 * QmpServer's and the registry's home thread), which owns the jobs.
 */
#ifndef DAEMON_COMMANDS_TUNE_H
#define DAEMON_COMMANDS_TUNE_H

#include "commands-workload.h"
#include "registry.h"
#include "server.h"

G_BEGIN_DECLS

typedef struct DaemonCommands DaemonCommands;
typedef struct DaemonTunes DaemonTunes;

/* Register the tuner commands on @server; the others must outlive the
 * returned object. */
DaemonTunes *daemon_tunes_new(QmpServer *server, ObjectRegistry *reg,
                              DaemonCommands *cmds, DaemonWorkloads *wl);
/* Cancel every running tune (restoring the original values, without
 * events: the server may be gone), then free.  Before the workloads and
 * the iothreads go. */
void daemon_tunes_free(DaemonTunes *tunes);

G_END_DECLS

#endif /* DAEMON_COMMANDS_TUNE_H */
