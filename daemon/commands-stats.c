/*
 * query-iothread-stats (see commands-stats.h): each context's AioStats
 * (counters relative to the baseline of its last reset, gauges as they
 * are), its histograms and (for an iothread) its stall count since the
 * reset.
 */
#include "commands-stats.h"
#include "callstats-json.h"
#include "commands.h"
#include "histogram-json.h"

#include <string.h>

struct DaemonStats {
    const QmpSchema *schema;
    ObjectRegistry *reg;
    /* reset: id -> StatsBaseline taken at the reset. */
    GHashTable *baselines;
    /* The same for each iothread's stall count: id -> uint64_t. */
    GHashTable *stall_baselines;
};

/* What a context had recorded at its last reset. */
typedef struct StatsBaseline {
    AioStats stats;
    AioContextHistograms histograms;
} StatsBaseline;

bool stats_member_is_gauge(const QmpSchemaMemberInfo *m)
{
    return g_strv_contains((const char *const *)m->features, "gauge");
}

/* Int member @name of @o: a level (a gauge in the schema) as it is @now,
 * a counter relative to what it was at the reset (@then). */
static void set_stat(JsonObject *o, const QmpSchema *schema,
                     const char *name, uint64_t now, uint64_t then)
{
    QmpSchemaMemberInfo m;
    bool gauge = qmp_schema_type_member_find(schema, STATS_SCHEMA_TYPE, name,
                                             &m) &&
                 stats_member_is_gauge(&m);

    json_object_set_int_member(o, name, (gint64)(gauge ? now : now - then));
}

JsonObject *stats_to_json(const QmpSchema *schema, const AioStats *now,
                          const AioStats *base)
{
    static const AioStats zero;
    JsonObject *o = json_object_new();

    if (!base) {
        base = &zero;
    }
    /* AioStats' field for each int member: the schema says which kind. */
#define STAT(field, name) \
    set_stat(o, schema, name, (uint64_t)now->field, (uint64_t)base->field)
    STAT(iterations, "iterations");
    STAT(blocking_waits, "blocking-waits");
    STAT(notify_wakeups, "notify-wakeups");
    STAT(bh_calls, "bh-calls");
    STAT(timer_calls, "timer-calls");
    STAT(fd_dispatches, "fd-dispatches");
    STAT(poll_attempts, "poll-attempts");
    STAT(poll_hits, "poll-hits");
    STAT(poll_misses, "poll-misses");
    STAT(poll_grows, "poll-grows");
    STAT(poll_shrinks, "poll-shrinks");
    STAT(poll_ns_current, "poll-ns-current");
    STAT(polling_ns, "polling-ns");
    STAT(blocked_ns, "blocked-ns");
    STAT(busy_ns, "busy-ns");
    STAT(thread_cpu_ns, "thread-cpu-ns");
    STAT(pool_threads, "pool-threads");
    STAT(pool_idle, "pool-idle");
    STAT(pool_queued, "pool-queued");
    STAT(pool_completed, "pool-completed");
    STAT(pool_cancelled, "pool-cancelled");
    STAT(io_submitted, "io-submitted");
    STAT(io_submit_calls, "io-submit-calls");
    STAT(io_in_flight, "io-in-flight");
    STAT(io_completed, "io-completed");
    STAT(io_errors, "io-errors");
    STAT(io_requeues, "io-requeues");
    STAT(fd_handlers, "fd-handlers");
    STAT(wall_ns, "wall-ns");
#undef STAT
    json_object_set_string_member(o, "backend",
                                  now->fdmon ? now->fdmon : "unknown");
    return o;
}

/* An iothread's stalls (relative to its reset baseline) into @stats. */
static void add_stalls(DaemonStats *ds, JsonObject *stats,
                       IOThread *t, bool reset)
{
    uint64_t stalls = iothread_get_stalls(t);
    const uint64_t *base = g_hash_table_lookup(ds->stall_baselines,
                                               iothread_get_id(t));

    json_object_set_int_member(stats, "stalls",
                               (gint64)(stalls - (base ? *base : 0)));
    if (reset) {
        g_hash_table_insert(ds->stall_baselines,
                            g_strdup(iothread_get_id(t)),
                            g_memdup2(&stalls, sizeof(stalls)));
    }
}

/* Each histogram as a HistogramSummary of what it recorded since the
 * reset (@base NULL: since creation). */
static void histograms_to_json(JsonObject *o, const AioContextHistograms *h,
                               const AioContextHistograms *base)
{
    AioHistogram *since = g_new(AioHistogram, 1);

    for (size_t i = 0; context_histogram_names[i]; i++) {
        const char *name = context_histogram_names[i];
        const AioHistogram *now = context_histogram_by_name(h, name);

        if (base) {
            aio_histogram_subtract(since, now,
                                   context_histogram_by_name(base, name));
        }
        json_object_set_object_member(o, name,
            histogram_summary_to_json(base ? since : now));
    }
    g_free(since);
}

/* The IOThreadStatsInfo of context @ctx, of iothread @t (NULL: main-loop). */
static void add_stats(DaemonStats *ds, JsonArray *arr, const char *id,
                      AioContext *ctx, IOThread *t, bool reset, bool detail)
{
    StatsBaseline *now = g_new(StatsBaseline, 1);
    StatsBaseline *base = g_hash_table_lookup(ds->baselines, id);

    aio_context_get_stats(ctx, &now->stats);
    aio_context_get_histograms(ctx, &now->histograms);

    JsonObject *stats = stats_to_json(ds->schema, &now->stats,
                                      base ? &base->stats : NULL);
    histograms_to_json(stats, &now->histograms,
                       base ? &base->histograms : NULL);
    if (t) {
        add_stalls(ds, stats, t, reset);
    }
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "id", id);
    json_object_set_object_member(o, "stats", stats);
    if (detail) {
        json_object_set_array_member(o, "callbacks", callstats_to_json(ctx));
    }
    json_array_add_object_element(arr, o);
    if (reset) {
        g_hash_table_insert(ds->baselines, g_strdup(id), now);
    } else {
        g_free(now);
    }
}

static JsonNode *cmd_query_iothread_stats(QmpServer *server, JsonObject *args,
                                          void *opaque, GError **error)
{
    DaemonStats *ds = opaque;
    const char *only = json_object_has_member(args, "id")
                       ? json_object_get_string_member(args, "id") : NULL;
    bool reset = json_object_has_member(args, "reset") &&
                 json_object_get_boolean_member(args, "reset");
    bool detail = json_object_has_member(args, "detail") &&
                  json_object_get_boolean_member(args, "detail");
    AioContext *main_ctx = object_registry_main_context(ds->reg);
    JsonArray *arr;
    JsonNode *node;

    if (only && strcmp(only, REGISTRY_MAIN_LOOP_ID) != 0 &&
        !object_registry_find_iothread(ds->reg, only)) {
        return fail_no_iothread(error, only);
    }
    arr = json_array_new();
    if (only && strcmp(only, REGISTRY_MAIN_LOOP_ID) == 0) {
        add_stats(ds, arr, only, main_ctx, NULL, reset, detail);
    } else if (only) {
        IOThread *t = object_registry_find_iothread(ds->reg, only);
        add_stats(ds, arr, only, iothread_get_aio_context(t), t, reset,
                  detail);
    } else {
        guint n;
        IOThread *const *all = object_registry_iothreads(ds->reg, &n);
        for (guint i = 0; i < n; i++) {
            add_stats(ds, arr, iothread_get_id(all[i]),
                      iothread_get_aio_context(all[i]), all[i], reset,
                      detail);
        }
        add_stats(ds, arr, REGISTRY_MAIN_LOOP_ID, main_ctx, NULL, reset,
                  detail);
    }
    node = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(node, arr);
    return node;
}

DaemonStats *daemon_stats_new(QmpServer *server, ObjectRegistry *reg)
{
    DaemonStats *ds = g_new0(DaemonStats, 1);

    ds->schema = qmp_server_schema(server);
    ds->reg = reg;
    ds->baselines = g_hash_table_new_full(g_str_hash, g_str_equal,
                                          g_free, g_free);
    ds->stall_baselines = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                g_free, g_free);
    qmp_server_register(server, "query-iothread-stats",
                        cmd_query_iothread_stats, ds);
    return ds;
}

void daemon_stats_free(DaemonStats *ds)
{
    if (!ds) {
        return;
    }
    g_hash_table_destroy(ds->baselines);
    g_hash_table_destroy(ds->stall_baselines);
    g_free(ds);
}

void daemon_stats_forget(DaemonStats *ds, const char *id)
{
    g_hash_table_remove(ds->baselines, id);
    g_hash_table_remove(ds->stall_baselines, id);
}
