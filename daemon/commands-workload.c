/*
 * The workload commands (see commands-workload.h).  Arguments arrive
 * validated against the schema (types, ranges, enum values, the members
 * of the type's variant), so the handlers translate them into a
 * WorkloadConfig and leave every check that needs the system (the
 * iothread, the file) to workload_start().
 */
#include "commands-workload.h"
#include "histogram-json.h"
#include "workload.h"

#include <string.h>

#define SAMPLE_PERIOD_NS (1000LL * 1000 * 1000)

/* One workload and its last two once-a-second samples. */
typedef struct Entry {
    DaemonWorkloads *wl;
    Workload *w;
    char *iothread_id;
    WorkloadSample *older, *newer;  /* newer NULL before the first tick */
} Entry;

struct DaemonWorkloads {
    QmpServer *server;
    ObjectRegistry *reg;
    GPtrArray *entries;             /* Entry *, creation order */
    AioTimer *sampler;
};

static Entry *find_entry(DaemonWorkloads *wl, const char *id)
{
    for (guint i = 0; i < wl->entries->len; i++) {
        Entry *e = g_ptr_array_index(wl->entries, i);
        if (strcmp(workload_id(e->w), id) == 0) {
            return e;
        }
    }
    return NULL;
}

static void entry_free(void *p)
{
    Entry *e = p;

    workload_stop(e->w);
    g_free(e->older);
    g_free(e->newer);
    g_free(e->iothread_id);
    g_free(e);
}

Workload *daemon_workloads_find(DaemonWorkloads *wl, const char *id)
{
    Entry *e = find_entry(wl, id);
    return e ? e->w : NULL;
}

const char *daemon_workloads_using(DaemonWorkloads *wl,
                                   const char *iothread_id)
{
    for (guint i = 0; i < wl->entries->len; i++) {
        Entry *e = g_ptr_array_index(wl->entries, i);
        if (strcmp(e->iothread_id, iothread_id) == 0) {
            return workload_id(e->w);
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* Sampling                                                                */

static void sample_tick(void *opaque)
{
    DaemonWorkloads *wl = opaque;

    for (guint i = 0; i < wl->entries->len; i++) {
        Entry *e = g_ptr_array_index(wl->entries, i);
        if (e->newer) {
            WorkloadSample *t = e->older;
            e->older = e->newer;
            e->newer = t;
        } else {
            e->newer = g_new(WorkloadSample, 1);
        }
        workload_sample(e->w, e->newer);
    }
    if (wl->entries->len) {
        aio_timer_mod_ns(wl->sampler, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) +
                                      SAMPLE_PERIOD_NS);
    }
}

/* The last interval: between the last two samples, or since the start
 * (the first sample, taken at the start) until now. */
static void last_interval(Entry *e, WorkloadInterval *out)
{
    if (e->newer) {
        workload_interval(e->newer, e->older, out);
        return;
    }
    WorkloadSample *now = g_new(WorkloadSample, 1);
    workload_sample(e->w, now);
    workload_interval(now, e->older, out);
    g_free(now);
}

/* ---------------------------------------------------------------------- */
/* Events                                                                  */

static void on_end(Workload *w, void *opaque)
{
    DaemonWorkloads *wl = opaque;
    const char *error;
    JsonObject *data = json_object_new();

    json_object_set_string_member(data, "id", workload_id(w));
    if (workload_state(w, &error) == WORKLOAD_STATE_FAILED) {
        json_object_set_string_member(data, "error", error);
        qmp_server_emit_event(wl->server, "WORKLOAD_FAILED", data);
        return;
    }
    WorkloadSample *s = g_new(WorkloadSample, 1);
    workload_sample(w, s);
    json_object_set_int_member(data, "ops", (gint64)s->ops);
    json_object_set_int_member(data, "bytes", (gint64)s->bytes);
    json_object_set_int_member(data, "errors", (gint64)s->errors);
    json_object_set_int_member(data, "elapsed-ns",
                               workload_end_ns(w) - workload_start_ns(w));
    g_free(s);
    qmp_server_emit_event(wl->server, "WORKLOAD_FINISHED", data);
}

/* ---------------------------------------------------------------------- */
/* workload-add                                                            */

static gint64 int_or(JsonObject *args, const char *name, gint64 dflt)
{
    return json_object_get_int_member_with_default(args, name, dflt);
}

static bool bool_or(JsonObject *args, const char *name, bool dflt)
{
    return json_object_get_boolean_member_with_default(args, name, dflt);
}

static int enum_or(JsonObject *args, const char *name,
                   int (*from_name)(const char *), int dflt)
{
    const char *v = json_object_get_string_member_with_default(args, name,
                                                               NULL);
    return v ? from_name(v) : dflt;
}

/* The schema checked names, types and ranges: translate. */
static void config_from_args(JsonObject *args, WorkloadConfig *cfg)
{
    workload_config_init(cfg);
    cfg->type = workload_type_from_name(
        json_object_get_string_member(args, "type"));
    cfg->runtime_ns = int_or(args, "runtime", 0) * 1000000000LL;
    cfg->filename = json_object_get_string_member_with_default(
        args, "filename", NULL);
    cfg->engine = enum_or(args, "engine", workload_engine_from_name,
                          cfg->engine);
    cfg->rw = enum_or(args, "rw", workload_rw_from_name, cfg->rw);
    cfg->rwmixread = int_or(args, "rwmixread", cfg->rwmixread);
    cfg->bs = int_or(args, "bs", cfg->bs);
    cfg->iodepth = int_or(args, "iodepth", cfg->iodepth);
    cfg->size = int_or(args, "size", 0);
    cfg->direct = bool_or(args, "direct", cfg->direct);
    cfg->rate_iops = int_or(args, "rate-iops", 0);
    cfg->create = bool_or(args, "create", false);
    cfg->allow_overwrite = bool_or(args, "allow-overwrite", false);
    cfg->period_ns = int_or(args, "period-ns", cfg->period_ns);
}

static void add_entry(DaemonWorkloads *wl, Workload *w, const char *iothread)
{
    Entry *e = g_new0(Entry, 1);

    e->wl = wl;
    e->w = w;
    e->iothread_id = g_strdup(iothread);
    e->older = g_new(WorkloadSample, 1);
    workload_sample(w, e->older);
    g_ptr_array_add(wl->entries, e);
    if (!aio_timer_pending(wl->sampler)) {
        aio_timer_mod_ns(wl->sampler, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) +
                                      SAMPLE_PERIOD_NS);
    }
}

static JsonNode *cmd_workload_add(QmpServer *server, JsonObject *args,
                                  void *opaque, GError **error)
{
    DaemonWorkloads *wl = opaque;
    const char *id = json_object_get_string_member(args, "id");
    const char *iothread = json_object_get_string_member(args, "iothread");
    IOThread *t = object_registry_find_iothread(wl->reg, iothread);
    GError *cause = NULL;
    WorkloadConfig cfg;
    Workload *w;

    if (!object_id_validate(id, &cause)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "workload id: %s",
                    cause->message);
        g_error_free(cause);
        return NULL;
    }
    if (find_entry(wl, id)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "workload '%s' already exists", id);
        return NULL;
    }
    if (!t) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "Cannot find iothread '%s'", iothread);
        return NULL;
    }
    config_from_args(args, &cfg);
    w = workload_start(id, t, object_registry_main_context(wl->reg), &cfg,
                       on_end, wl, &cause);
    if (!w) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "workload '%s': %s",
                    id, cause->message);
        g_error_free(cause);
        return NULL;
    }
    add_entry(wl, w, iothread);
    return NULL;
}

static JsonNode *cmd_workload_del(QmpServer *server, JsonObject *args,
                                  void *opaque, GError **error)
{
    DaemonWorkloads *wl = opaque;
    const char *id = json_object_get_string_member(args, "id");
    Entry *e = find_entry(wl, id);

    if (!e) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "workload '%s' not found", id);
        return NULL;
    }
    g_ptr_array_remove(wl->entries, e);   /* stops and frees it */
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* query-workloads                                                         */

static void add_disk_config(JsonObject *o, const WorkloadConfig *cfg)
{
    json_object_set_string_member(o, "filename", cfg->filename);
    json_object_set_string_member(o, "engine",
                                  workload_engine_name(cfg->engine));
    json_object_set_string_member(o, "rw", workload_rw_name(cfg->rw));
    json_object_set_int_member(o, "rwmixread", cfg->rwmixread);
    json_object_set_int_member(o, "bs", (gint64)cfg->bs);
    json_object_set_int_member(o, "iodepth", cfg->iodepth);
    json_object_set_int_member(o, "size", (gint64)cfg->size);
    json_object_set_boolean_member(o, "direct", cfg->direct);
    json_object_set_int_member(o, "rate-iops", (gint64)cfg->rate_iops);
}

static void add_config(JsonObject *o, const WorkloadConfig *cfg)
{
    json_object_set_int_member(o, "runtime", cfg->runtime_ns / 1000000000LL);
    if (cfg->type == WORKLOAD_DISK) {
        add_disk_config(o, cfg);
    } else if (cfg->type == WORKLOAD_TIMER) {
        json_object_set_int_member(o, "period-ns", cfg->period_ns);
    }
}

/* Counters and rates since the start, and over the last interval. */
static void add_figures(JsonObject *o, Entry *e)
{
    WorkloadSample *now = g_new(WorkloadSample, 1);
    WorkloadInterval *iv = g_new(WorkloadInterval, 1);
    int64_t end = workload_end_ns(e->w);
    int64_t elapsed;

    workload_sample(e->w, now);
    elapsed = (end ? end : now->time_ns) - workload_start_ns(e->w);
    last_interval(e, iv);
    json_object_set_int_member(o, "elapsed-ns", elapsed);
    json_object_set_int_member(o, "ops", (gint64)now->ops);
    json_object_set_int_member(o, "bytes", (gint64)now->bytes);
    json_object_set_int_member(o, "errors", (gint64)now->errors);
    json_object_set_double_member(o, "iops",
                                  elapsed > 0 ? now->ops * 1e9 / elapsed : 0);
    json_object_set_double_member(o, "iops-interval", iv->iops);
    json_object_set_int_member(o, "interval-ns", iv->wall_ns);
    json_object_set_object_member(o, "latency-ns",
        histogram_summary_to_json(&now->latency_ns));
    json_object_set_object_member(o, "latency-interval-ns",
        histogram_summary_to_json(&iv->latency_ns));
    json_object_set_double_member(o, "cpu-interval", iv->cpu);
    json_object_set_double_member(o, "polling-interval", iv->polling);
    g_free(iv);
    g_free(now);
}

static JsonObject *workload_to_json(Entry *e)
{
    JsonObject *o = json_object_new();
    const WorkloadConfig *cfg = workload_config(e->w);
    const char *error;
    WorkloadState state = workload_state(e->w, &error);

    json_object_set_string_member(o, "id", workload_id(e->w));
    json_object_set_string_member(o, "iothread", e->iothread_id);
    json_object_set_string_member(o, "type", workload_type_name(cfg->type));
    json_object_set_string_member(o, "state", workload_state_name(state));
    if (error) {
        json_object_set_string_member(o, "error", error);
    }
    add_figures(o, e);
    add_config(o, cfg);
    return o;
}

static JsonNode *cmd_query_workloads(QmpServer *server, JsonObject *args,
                                     void *opaque, GError **error)
{
    DaemonWorkloads *wl = opaque;
    JsonArray *arr = json_array_new();
    JsonNode *node = json_node_alloc();

    for (guint i = 0; i < wl->entries->len; i++) {
        json_array_add_object_element(arr,
            workload_to_json(g_ptr_array_index(wl->entries, i)));
    }
    json_node_init_array(node, arr);
    json_array_unref(arr);
    return node;
}

/* ---------------------------------------------------------------------- */

DaemonWorkloads *daemon_workloads_new(QmpServer *server, ObjectRegistry *reg)
{
    DaemonWorkloads *wl = g_new0(DaemonWorkloads, 1);

    wl->server = server;
    wl->reg = reg;
    wl->entries = g_ptr_array_new_with_free_func(entry_free);
    wl->sampler = aio_timer_new(object_registry_main_context(reg),
                                AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                                sample_tick, wl);
    qmp_server_register(server, "workload-add", cmd_workload_add, wl);
    qmp_server_register(server, "workload-del", cmd_workload_del, wl);
    qmp_server_register(server, "query-workloads", cmd_query_workloads, wl);
    return wl;
}

void daemon_workloads_free(DaemonWorkloads *wl)
{
    if (!wl) {
        return;
    }
    g_ptr_array_unref(wl->entries);
    aio_timer_free(wl->sampler);
    g_free(wl);
}
