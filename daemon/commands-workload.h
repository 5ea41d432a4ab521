/*
 * The daemon's workload commands: workload-add, workload-del,
 * query-workloads and the events WORKLOAD_FINISHED / WORKLOAD_FAILED, on
 * top of workload/workload.h.  Registered by daemon_commands_new().
 *
 * Intervals: every workload is sampled once a second by a timer of the
 * main context (only while workloads exist); query-workloads' *-interval
 * members cover the last two samples, so every client sees the same
 * interval whatever it queries.
 *
 * Thread rules: everything here runs in the main loop's thread (the
 * QmpServer's and the registry's home thread).
 */
#ifndef DAEMON_COMMANDS_WORKLOAD_H
#define DAEMON_COMMANDS_WORKLOAD_H

#include "registry.h"
#include "server.h"
#include "workload.h"

G_BEGIN_DECLS

typedef struct DaemonWorkloads DaemonWorkloads;

/* Register the workload commands on @server. */
DaemonWorkloads *daemon_workloads_new(QmpServer *server, ObjectRegistry *reg);
/* Stop every workload (each request completes or is cancelled, files
 * closed), then free.  Before the iothreads go. */
void daemon_workloads_free(DaemonWorkloads *wl);

/* The id of a workload on iothread @iothread_id (the first created), or
 * NULL: such an iothread must not be deleted. */
const char *daemon_workloads_using(DaemonWorkloads *wl,
                                   const char *iothread_id);

/* The workload named @id, or NULL (for the tuner, which samples it). */
Workload *daemon_workloads_find(DaemonWorkloads *wl, const char *id);

G_END_DECLS

#endif /* DAEMON_COMMANDS_WORKLOAD_H */
