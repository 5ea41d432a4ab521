/*
 * The daemon's statistics command: query-iothread-stats, on top of
 * aio_context_get_stats() / aio_context_get_histograms() and the
 * iothreads' stall counts.  Registered by daemon_commands_new().
 *
 * A reset (reset: true) records a baseline per id here; later replies
 * show counters and histograms relative to it, so a reset never writes
 * the context's own counters or histograms.
 *
 * Thread rules: the command runs in the main loop's thread (the
 * QmpServer's and the registry's home thread), which owns the baselines;
 * stats_member_is_gauge() and stats_to_json() are pure (any thread).
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

/*
 * Counters and gauges.  The schema type STATS_SCHEMA_TYPE (a context's
 * "stats") marks each int member that is a level (a current value that
 * goes up and down) with the feature "gauge"; every other int member is
 * a counter.  The reply shows a counter relative to the last reset and a
 * gauge as it is; the metrics endpoint types them counter (NAME_total) or
 * gauge.  Both ask stats_member_is_gauge(), so the mark in the schema is
 * the one list.
 */
#define STATS_SCHEMA_TYPE "AioContextStats"
bool stats_member_is_gauge(const QmpSchemaMemberInfo *m);

/* The int members and "backend" of a context's stats as the reply shows
 * them: each counter of @now minus its value in @base (NULL: since
 * creation), each gauge of @schema's as it is in @now. */
JsonObject *stats_to_json(const QmpSchema *schema, const AioStats *now,
                          const AioStats *base);

G_END_DECLS

#endif /* DAEMON_COMMANDS_STATS_H */
