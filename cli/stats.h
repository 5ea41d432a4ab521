/*
 * `stats [ID]` and the statistics plumbing `top` shares: fetching
 * query-iothread-stats and reading counters out of the answer.
 *
 * Thread rules: single-threaded (the Session's thread).
 */
#ifndef CLI_STATS_H
#define CLI_STATS_H

#include "session.h"

G_BEGIN_DECLS

typedef struct {
    char *id;
    JsonObject *stats;    /* the "stats" member (AioContextStats) */
} StatsSample;

void stats_sample_free(gpointer sample);

/* query-iothread-stats (for @id, or all when NULL).  Array of StatsSample*
 * (free with g_ptr_array_unref), or NULL with the error printed and
 * *@status set. */
GPtrArray *stats_fetch(Session *s, const char *id, CmdStatus *status);

/* Counter @name of @stats as a double; false if missing or not a number. */
bool stats_value(JsonObject *stats, const char *name, double *value);

/* The members of the stats reply's "stats" object as the server's schema
 * declares them (the type of query-iothread-stats' "stats" member), in
 * schema order: SchemaMember * (free with g_ptr_array_unref); empty when
 * the schema does not say. */
GPtrArray *stats_schema_members(Session *s);

/* True for members the schema marks with the feature "gauge": levels
 * (current poll time, pool threads, in flight...) rather than counters
 * that only grow; no rate is computed for them. */
bool stats_is_gauge(Session *s, const char *name);

/* `stats [ID]`: a table with a row per counter and, per context, the
 * value and its rate per second since the previous `stats` call. */
CmdStatus cmd_stats(Session *s, char **argv);

/* `top [--interval S] [--count N]` (top.c). */
CmdStatus cmd_top(Session *s, char **argv);

G_END_DECLS

#endif /* CLI_STATS_H */
