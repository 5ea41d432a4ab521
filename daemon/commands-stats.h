/*
 * The daemon's statistics command: query-iothread-stats, on top of
 * aio_context_get_stats() / aio_context_get_histograms() and the
 * iothreads' stall counts.  Registered by daemon_commands_new().
 *
 * A reset (reset: true) records a baseline per id here; later replies
 * show counters and histograms relative to it, so a reset never writes
 * the context's own counters or histograms.
 *
 * Thread rules: everything here runs in the main loop's thread (the
 * QmpServer's and the registry's home thread), which owns the baselines.
 */
#ifndef DAEMON_COMMANDS_STATS_H
#define DAEMON_COMMANDS_STATS_H

#include "registry.h"
#include "server.h"

G_BEGIN_DECLS

typedef struct DaemonStats DaemonStats;

/* Register query-iothread-stats on @server; @server and @reg must outlive
 * the returned object. */
DaemonStats *daemon_stats_new(QmpServer *server, ObjectRegistry *reg);
void daemon_stats_free(DaemonStats *ds);

/* Drop the baselines of @id (its object was deleted: an object created
 * later under the same id starts from its own creation). */
void daemon_stats_forget(DaemonStats *ds, const char *id);

G_END_DECLS

#endif /* DAEMON_COMMANDS_STATS_H */
