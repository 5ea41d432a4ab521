/*
 * The tuner commands (see commands-tune.h).  Arguments arrive validated
 * against the schema (types, the parameter and objective names), so the
 * handlers translate them into a TuneConfig and leave every check that
 * needs the system (the iothread, the workload, the values against the
 * iothread's settings) to tune_start().
 */
#include "commands-tune.h"
#include "commands.h"
#include "tune.h"

#include <string.h>

struct DaemonTunes {
    QmpServer *server;
    ObjectRegistry *reg;
    DaemonCommands *cmds;
    DaemonWorkloads *wl;
    GPtrArray *jobs;            /* TuneJob *, the last one per iothread */
    bool closing;               /* freeing: set values without events */
};

static TuneJob *find_job(DaemonTunes *tunes, const char *iothread)
{
    for (guint i = 0; i < tunes->jobs->len; i++) {
        TuneJob *job = g_ptr_array_index(tunes->jobs, i);
        if (strcmp(tune_iothread(job), iothread) == 0) {
            return job;
        }
    }
    return NULL;
}

static void *fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void *fail(GError **error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_propagate_error(error, g_error_new_valist(QMP_ERROR, QMP_ERROR_GENERIC,
                                                fmt, ap));
    va_end(ap);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* The job's hooks                                                         */

static IOThread *hook_find_iothread(void *opaque, const char *id)
{
    DaemonTunes *tunes = opaque;
    return object_registry_find_iothread(tunes->reg, id);
}

static Workload *hook_find_workload(void *opaque, const char *id)
{
    DaemonTunes *tunes = opaque;
    return daemon_workloads_find(tunes->wl, id);
}

static bool hook_set_value(void *opaque, const char *iothread,
                           AioParamId param, int64_t value, GError **error)
{
    DaemonTunes *tunes = opaque;
    AioParams change = { 0 };

    aio_params_set(&change, param, value);
    if (tunes->closing) {
        IOThread *t = object_registry_find_iothread(tunes->reg, iothread);
        return t && iothread_set_params(t, &change, NULL, error);
    }
    return daemon_commands_set_properties(tunes->cmds, iothread, &change,
                                          error);
}

/* A row's figures (TuneResult in the schema). */
static void add_row_members(JsonObject *o, const TuneResult *row)
{
    json_object_set_int_member(o, "value", row->value);
    if (row->error) {
        json_object_set_string_member(o, "error", row->error);
    }
    json_object_set_int_member(o, "ops", (gint64)row->ops);
    json_object_set_double_member(o, "iops", row->iops);
    json_object_set_int_member(o, "p50-ns", (gint64)row->p50_ns);
    json_object_set_int_member(o, "p99-ns", (gint64)row->p99_ns);
    json_object_set_double_member(o, "cpu", row->cpu);
    json_object_set_double_member(o, "polling", row->polling);
}

static void hook_on_step(TuneJob *job, const TuneResult *row, void *opaque)
{
    DaemonTunes *tunes = opaque;
    JsonObject *data = json_object_new();
    const TuneResult *rows;
    const int64_t *values;

    json_object_set_string_member(data, "id", tune_iothread(job));
    json_object_set_string_member(data, "workload", tune_workload(job));
    json_object_set_string_member(data, "parameter",
                                  aio_param_info(tune_param(job))->name);
    json_object_set_int_member(data, "step", tune_results(job, &rows));
    json_object_set_int_member(data, "steps", tune_values(job, &values));
    add_row_members(data, row);
    qmp_server_emit_event(tunes->server, "IOTHREAD_TUNE_PROGRESS", data);
}

/* The value in effect once the job ended. */
static int64_t value_now(DaemonTunes *tunes, TuneJob *job)
{
    IOThread *t = object_registry_find_iothread(tunes->reg,
                                                tune_iothread(job));
    AioParams now;

    if (!t) {
        return tune_original_value(job);
    }
    iothread_get_params(t, &now);
    return aio_params_get(&now, tune_param(job));
}

/* The outcome, shared by IOTHREAD_TUNE_DONE and query-tune. */
static void add_outcome(JsonObject *o, DaemonTunes *tunes, TuneJob *job)
{
    const TuneResult *rows;
    const char *reason;
    int pick = tune_recommendation(job, &reason);

    tune_results(job, &rows);
    json_object_set_string_member(o, "state",
                                  tune_state_name(tune_state(job)));
    if (pick >= 0) {
        json_object_set_int_member(o, "recommendation", rows[pick].value);
    }
    if (reason) {
        json_object_set_string_member(o, "reason", reason);
    }
    json_object_set_boolean_member(o, "applied", tune_applied(job));
    if (tune_error(job)) {
        json_object_set_string_member(o, "error", tune_error(job));
    }
    if (tune_state(job) != TUNE_STATE_RUNNING) {
        json_object_set_int_member(o, "value", value_now(tunes, job));
    }
}

static void emit_done(DaemonTunes *tunes, TuneJob *job)
{
    JsonObject *data = json_object_new();

    json_object_set_string_member(data, "id", tune_iothread(job));
    json_object_set_string_member(data, "workload", tune_workload(job));
    json_object_set_string_member(data, "parameter",
                                  aio_param_info(tune_param(job))->name);
    add_outcome(data, tunes, job);
    qmp_server_emit_event(tunes->server, "IOTHREAD_TUNE_DONE", data);
}

static void hook_on_end(TuneJob *job, void *opaque)
{
    emit_done(opaque, job);
}

static const TuneHooks hooks = {
    .find_iothread = hook_find_iothread,
    .find_workload = hook_find_workload,
    .set_value = hook_set_value,
    .on_step = hook_on_step,
    .on_end = hook_on_end,
};

/* ---------------------------------------------------------------------- */
/* iothread-tune                                                           */

/* The values given (NULL when none were); caller frees. */
static int64_t *values_from_args(JsonObject *args, size_t *n)
{
    JsonArray *arr = json_object_has_member(args, "values")
        ? json_object_get_array_member(args, "values") : NULL;

    *n = arr ? json_array_get_length(arr) : 0;
    if (!arr) {
        return NULL;
    }
    int64_t *values = g_new0(int64_t, MAX(*n, 1));
    for (size_t i = 0; i < *n; i++) {
        values[i] = json_array_get_int_element(arr, i);
    }
    return values;
}

/* The schema checked names and types: translate.  The strings stay
 * borrowed from @args. */
static void config_from_args(JsonObject *args, TuneConfig *cfg)
{
    const char *param = json_object_get_string_member_with_default(
        args, "parameter", "poll-max-ns");
    const char *objective = json_object_get_string_member_with_default(
        args, "objective", "balanced");
    double step = json_object_has_member(args, "step-seconds")
        ? json_object_get_double_member(args, "step-seconds")
        : TUNE_DEFAULT_STEP_NS / 1e9;

    memset(cfg, 0, sizeof(*cfg));
    cfg->iothread = json_object_get_string_member(args, "id");
    cfg->workload = json_object_get_string_member(args, "workload");
    cfg->param = aio_param_find(param)->id;
    cfg->objective = tune_objective_from_name(objective);
    /* Clamped into int64 range; tune_start() checks the bounds. */
    cfg->step_ns = step * 1e9 > 0 && step * 1e9 < 1e18
        ? (int64_t)(step * 1e9) : -1;
    cfg->apply = json_object_get_boolean_member_with_default(args, "apply",
                                                             false);
}

static JsonNode *cmd_iothread_tune(QmpServer *server, JsonObject *args,
                                   void *opaque, GError **error)
{
    DaemonTunes *tunes = opaque;
    TuneConfig cfg;
    GError *cause = NULL;

    config_from_args(args, &cfg);
    TuneJob *old = find_job(tunes, cfg.iothread);
    if (old && tune_state(old) == TUNE_STATE_RUNNING) {
        const TuneResult *rows;
        const int64_t *values;
        return fail(error, "iothread '%s' is already being tuned (%s with "
                    "workload '%s', step %zu of %zu); iothread-tune-cancel "
                    "it first", cfg.iothread,
                    aio_param_info(tune_param(old))->name,
                    tune_workload(old), tune_results(old, &rows) + 1,
                    tune_values(old, &values));
    }
    int64_t *values = values_from_args(args, &cfg.n_values);
    cfg.values = values;
    TuneJob *job = tune_start(&cfg, object_registry_main_context(tunes->reg),
                              &hooks, tunes, &cause);
    g_free(values);
    if (!job) {
        fail(error, "%s", cause->message);
        g_error_free(cause);
        return NULL;
    }
    if (old) {
        g_ptr_array_remove(tunes->jobs, old);
    }
    g_ptr_array_add(tunes->jobs, job);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* query-tune, iothread-tune-cancel                                        */

static JsonArray *int_array(const int64_t *values, size_t n)
{
    JsonArray *arr = json_array_new();
    for (size_t i = 0; i < n; i++) {
        json_array_add_int_element(arr, values[i]);
    }
    return arr;
}

static JsonArray *results_array(TuneJob *job)
{
    const TuneResult *rows;
    size_t n = tune_results(job, &rows);
    JsonArray *arr = json_array_new();

    for (size_t i = 0; i < n; i++) {
        JsonObject *o = json_object_new();
        add_row_members(o, &rows[i]);
        json_array_add_object_element(arr, o);
    }
    return arr;
}

static JsonObject *tune_to_json(DaemonTunes *tunes, TuneJob *job)
{
    JsonObject *o = json_object_new();
    const int64_t *values;
    size_t n = tune_values(job, &values);

    json_object_set_string_member(o, "id", tune_iothread(job));
    json_object_set_string_member(o, "workload", tune_workload(job));
    json_object_set_string_member(o, "parameter",
                                  aio_param_info(tune_param(job))->name);
    json_object_set_string_member(o, "objective",
        tune_objective_name(tune_objective(job)));
    json_object_set_boolean_member(o, "apply", tune_apply_requested(job));
    json_object_set_double_member(o, "step-seconds",
                                  tune_step_ns(job) / 1e9);
    json_object_set_int_member(o, "original", tune_original_value(job));
    json_object_set_array_member(o, "values", int_array(values, n));
    json_object_set_array_member(o, "results", results_array(job));
    add_outcome(o, tunes, job);
    return o;
}

static JsonNode *cmd_query_tune(QmpServer *server, JsonObject *args,
                                void *opaque, GError **error)
{
    DaemonTunes *tunes = opaque;
    const char *id = json_object_get_string_member_with_default(args, "id",
                                                                NULL);
    JsonArray *arr = json_array_new();
    JsonNode *node = json_node_alloc();

    for (guint i = 0; i < tunes->jobs->len; i++) {
        TuneJob *job = g_ptr_array_index(tunes->jobs, i);
        if (!id || strcmp(tune_iothread(job), id) == 0) {
            json_array_add_object_element(arr, tune_to_json(tunes, job));
        }
    }
    json_node_init_array(node, arr);
    json_array_unref(arr);
    return node;
}

static JsonNode *cmd_iothread_tune_cancel(QmpServer *server,
                                          JsonObject *args, void *opaque,
                                          GError **error)
{
    DaemonTunes *tunes = opaque;
    const char *id = json_object_get_string_member(args, "id");
    TuneJob *job = find_job(tunes, id);

    if (!job || tune_state(job) != TUNE_STATE_RUNNING) {
        return fail(error, "iothread '%s' has no tune running", id);
    }
    tune_cancel(job);
    emit_done(tunes, job);
    return NULL;
}

/* ---------------------------------------------------------------------- */

DaemonTunes *daemon_tunes_new(QmpServer *server, ObjectRegistry *reg,
                              DaemonCommands *cmds, DaemonWorkloads *wl)
{
    DaemonTunes *tunes = g_new0(DaemonTunes, 1);

    tunes->server = server;
    tunes->reg = reg;
    tunes->cmds = cmds;
    tunes->wl = wl;
    tunes->jobs = g_ptr_array_new_with_free_func((GDestroyNotify)tune_free);
    qmp_server_register(server, "iothread-tune", cmd_iothread_tune, tunes);
    qmp_server_register(server, "query-tune", cmd_query_tune, tunes);
    qmp_server_register(server, "iothread-tune-cancel",
                        cmd_iothread_tune_cancel, tunes);
    return tunes;
}

void daemon_tunes_free(DaemonTunes *tunes)
{
    if (!tunes) {
        return;
    }
    tunes->closing = true;
    g_ptr_array_unref(tunes->jobs);
    g_free(tunes);
}
