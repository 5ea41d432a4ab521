/*
 * query-iothread-stats (see commands-stats.h): each context's AioStats,
 * histograms and (for an iothread) stall count, relative to the baseline
 * of its last reset.
 */
#include "commands-stats.h"
#include "callstats-json.h"
#include "commands.h"
#include "histogram-json.h"

#include <string.h>

struct DaemonStats {
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

/* Monotonic counters are shown relative to the reset baseline; gauges
 * (current values) are shown as they are. */
static JsonObject *stats_to_json(const AioStats *s, const AioStats *base)
{
    static const AioStats zero;
    JsonObject *o = json_object_new();

    if (!base) {
        base = &zero;
    }
#define COUNTER(field, name) \
    json_object_set_int_member(o, name, (gint64)(s->field - base->field))
#define GAUGE(field, name) \
    json_object_set_int_member(o, name, (gint64)s->field)
    COUNTER(iterations, "iterations");
    COUNTER(blocking_waits, "blocking-waits");
    COUNTER(notify_wakeups, "notify-wakeups");
    COUNTER(bh_calls, "bh-calls");
    COUNTER(timer_calls, "timer-calls");
    COUNTER(fd_dispatches, "fd-dispatches");
    COUNTER(poll_attempts, "poll-attempts");
    COUNTER(poll_hits, "poll-hits");
    COUNTER(poll_misses, "poll-misses");
    COUNTER(poll_grows, "poll-grows");
    COUNTER(poll_shrinks, "poll-shrinks");
    GAUGE(poll_ns_current, "poll-ns-current");
    COUNTER(polling_ns, "polling-ns");
    COUNTER(blocked_ns, "blocked-ns");
    COUNTER(busy_ns, "busy-ns");
    COUNTER(thread_cpu_ns, "thread-cpu-ns");
    GAUGE(pool_threads, "pool-threads");
    GAUGE(pool_idle, "pool-idle");
    GAUGE(pool_queued, "pool-queued");
    COUNTER(pool_completed, "pool-completed");
    COUNTER(pool_cancelled, "pool-cancelled");
    COUNTER(io_submitted, "io-submitted");
    COUNTER(io_submit_calls, "io-submit-calls");
    GAUGE(io_in_flight, "io-in-flight");
    COUNTER(io_completed, "io-completed");
    COUNTER(io_errors, "io-errors");
    COUNTER(io_requeues, "io-requeues");
    GAUGE(fd_handlers, "fd-handlers");
    COUNTER(wall_ns, "wall-ns");
#undef COUNTER
#undef GAUGE
    json_object_set_string_member(o, "backend",
                                  s->fdmon ? s->fdmon : "unknown");
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

    JsonObject *stats = stats_to_json(&now->stats, base ? &base->stats : NULL);
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
