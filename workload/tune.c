/*
 * The tune job: a state machine on one timer of the owner's context (see
 * tune.h).  Per value: SETTLE (the value set, not measured), then MEASURE
 * (between two workload samples); the timer fires at the end of each
 * phase and at least every TUNE_CHECK_NS in between, to notice a workload
 * or iothread that went away.
 */
#include "tune.h"

#include <string.h>

typedef enum {
    PHASE_SETTLE,
    PHASE_MEASURE,
} TunePhase;

struct TuneJob {
    TuneHooks hooks;
    void *opaque;
    char *iothread_id, *workload_id;
    /* Identities seen at the start: compared with what the ids name at
     * every tick, dereferenced only while they still match. */
    IOThread *iothread;
    Workload *workload;
    AioParamId param;
    TuneObjective objective;
    bool apply;
    int64_t step_ns;
    int64_t *values;
    size_t n_values;
    TuneResult *rows;           /* n_values allocated, n_rows filled */
    size_t n_rows;
    TuneState state;
    int64_t original;
    int pick;                   /* recommended row, -1: none (yet) */
    char *reason;
    bool applied;
    char *error;
    TunePhase phase;
    int64_t phase_end_ns;
    WorkloadSample *before;     /* the sample opening the measurement */
    AioTimer *timer;
};

static int64_t now_ns(void)
{
    return aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
}

static const char *param_name(const TuneJob *job)
{
    return aio_param_info(job->param)->name;
}

/* ---------------------------------------------------------------------- */
/* Checks                                                                  */

static bool fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool fail(GError **error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_propagate_error(error, g_error_new_valist(G_FILE_ERROR,
                                                G_FILE_ERROR_INVAL, fmt, ap));
    va_end(ap);
    return false;
}

/* The iothread exists, the workload exists, runs there and is running. */
static bool check_targets(const TuneConfig *cfg, const TuneHooks *hooks,
                          void *opaque, GError **error)
{
    IOThread *t = hooks->find_iothread(opaque, cfg->iothread);
    Workload *w = hooks->find_workload(opaque, cfg->workload);

    if (!t) {
        return fail(error, "Cannot find iothread '%s'", cfg->iothread);
    }
    if (!w) {
        return fail(error, "workload '%s' not found", cfg->workload);
    }
    if (workload_iothread(w) != t) {
        return fail(error, "workload '%s' runs on iothread '%s', not '%s'",
                    cfg->workload, iothread_get_id(workload_iothread(w)),
                    cfg->iothread);
    }
    WorkloadState state = workload_state(w, NULL);
    if (state == WORKLOAD_STATE_PREPARING) {
        return fail(error, "workload '%s' is still laying out its file "
                    "(state preparing); tune it once it is running",
                    cfg->workload);
    }
    if (state != WORKLOAD_STATE_RUNNING) {
        return fail(error, "workload '%s' is not running (%s)",
                    cfg->workload, workload_state_name(state));
    }
    return true;
}

/* Each value is one the iothread would accept with its other settings. */
static bool check_values(IOThread *t, AioParamId param,
                         const int64_t *values, size_t n, GError **error)
{
    if (n == 0 || n > TUNE_MAX_VALUES) {
        return fail(error, "values: give 1 to %d values, not %zu",
                    TUNE_MAX_VALUES, n);
    }
    for (size_t i = 0; i < n; i++) {
        AioParams p;
        GError *cause = NULL;

        iothread_get_params(t, &p);
        aio_params_set(&p, param, values[i]);
        if (!aio_params_check(&p, &cause)) {
            fail(error, "values[%zu] (%" G_GINT64_FORMAT "): %s", i,
                 values[i], cause->message);
            g_error_free(cause);
            return false;
        }
    }
    return true;
}

static bool check_config(const TuneConfig *cfg, const TuneHooks *hooks,
                         void *opaque, GError **error)
{
    const int64_t *values = cfg->values;
    size_t n = cfg->n_values;

    if (!tune_param_supported(cfg->param)) {
        return fail(error, "parameter '%s' cannot be tuned",
                    aio_param_info(cfg->param)->name);
    }
    if (cfg->step_ns < TUNE_MIN_STEP_NS || cfg->step_ns > TUNE_MAX_STEP_NS) {
        return fail(error, "step-seconds must be between %g and %g",
                    TUNE_MIN_STEP_NS / 1e9, TUNE_MAX_STEP_NS / 1e9);
    }
    if (!check_targets(cfg, hooks, opaque, error)) {
        return false;
    }
    if (!values) {
        n = tune_default_values(cfg->param, &values);
    }
    return check_values(hooks->find_iothread(opaque, cfg->iothread),
                        cfg->param, values, n, error);
}

/* Whether what the ids name now is what the job started with, and the
 * workload still runs; else why not (caller frees). */
static char *lost_target(TuneJob *job)
{
    const char *err;

    if (job->hooks.find_iothread(job->opaque, job->iothread_id) !=
        job->iothread) {
        return g_strdup_printf("iothread '%s' was deleted", job->iothread_id);
    }
    if (job->hooks.find_workload(job->opaque, job->workload_id) !=
        job->workload) {
        return g_strdup_printf("workload '%s' was deleted", job->workload_id);
    }
    switch (workload_state(job->workload, &err)) {
    case WORKLOAD_STATE_RUNNING:
        return NULL;
    case WORKLOAD_STATE_FAILED:
        return g_strdup_printf("workload '%s' failed: %s", job->workload_id,
                               err);
    default:
        return g_strdup_printf("workload '%s' finished", job->workload_id);
    }
}

/* ---------------------------------------------------------------------- */
/* Steps                                                                   */

static bool set_value(TuneJob *job, int64_t value, GError **error)
{
    return job->hooks.set_value(job->opaque, job->iothread_id, job->param,
                                value, error);
}

/* Put the original value back, if the iothread is still there. */
static void restore(TuneJob *job)
{
    if (job->hooks.find_iothread(job->opaque, job->iothread_id) ==
        job->iothread) {
        /* The value was valid before the job; a refusal now means someone
         * changed another parameter meanwhile: leave it to them. */
        set_value(job, job->original, NULL);
    }
}

/* Fire at the end of the phase, or sooner to check the targets. */
static void arm(TuneJob *job)
{
    aio_timer_mod_ns(job->timer,
                     MIN(job->phase_end_ns, now_ns() + TUNE_CHECK_NS));
}

static TuneResult *add_row(TuneJob *job)
{
    TuneResult *row = &job->rows[job->n_rows++];

    memset(row, 0, sizeof(*row));
    row->value = job->values[job->n_rows - 1];
    return row;
}

static void finish(TuneJob *job);

/* Set the next value and settle; a value the iothread refuses gets a row
 * with the error and the sweep goes on. */
static void begin_next_value(TuneJob *job)
{
    while (job->n_rows < job->n_values) {
        GError *cause = NULL;
        int64_t value = job->values[job->n_rows];

        if (set_value(job, value, &cause)) {
            job->phase = PHASE_SETTLE;
            job->phase_end_ns = now_ns() + tune_settle_ns(job->step_ns);
            arm(job);
            return;
        }
        TuneResult *row = add_row(job);
        row->error = g_strdup(cause->message);
        g_error_free(cause);
        job->hooks.on_step(job, row, job->opaque);
    }
    finish(job);
}

/* The row of the interval that ends now. */
static void measure_row(TuneJob *job, TuneResult *row)
{
    WorkloadSample *after = g_new(WorkloadSample, 1);
    WorkloadInterval *iv = g_new(WorkloadInterval, 1);

    workload_sample(job->workload, after);
    workload_interval(after, job->before, iv);
    row->ops = iv->ops;
    row->iops = iv->iops;
    row->p50_ns = aio_histogram_percentile(&iv->latency_ns, 50);
    row->p99_ns = aio_histogram_percentile(&iv->latency_ns, 99);
    row->cpu = iv->cpu;
    row->polling = iv->polling;
    row->measured = iv->ops > 0;
    if (!row->measured) {
        row->error = g_strdup("no op completed during the step");
    }
    g_free(iv);
    g_free(after);
}

static void end_phase(TuneJob *job)
{
    if (job->phase == PHASE_SETTLE) {
        workload_sample(job->workload, job->before);
        job->phase = PHASE_MEASURE;
        job->phase_end_ns = now_ns() + job->step_ns;
        arm(job);
        return;
    }
    TuneResult *row = add_row(job);
    measure_row(job, row);
    job->hooks.on_step(job, row, job->opaque);
    begin_next_value(job);
}

/* Recommend, then apply or restore; DONE. */
static void finish(TuneJob *job)
{
    job->pick = tune_recommend(job->rows, job->n_rows, job->objective,
                               param_name(job), &job->reason);
    if (job->apply && job->pick >= 0) {
        GError *cause = NULL;
        job->applied = set_value(job, job->rows[job->pick].value, &cause);
        if (!job->applied) {
            job->error = g_strdup(cause->message);
            g_error_free(cause);
            restore(job);
        }
    } else {
        restore(job);
    }
    job->state = TUNE_STATE_DONE;
    job->hooks.on_end(job, job->opaque);
}

static void fail_job(TuneJob *job, char *why)
{
    job->error = why;
    aio_timer_del(job->timer);
    restore(job);
    job->state = TUNE_STATE_FAILED;
    job->hooks.on_end(job, job->opaque);
}

static void tick(void *opaque)
{
    TuneJob *job = opaque;
    char *why = lost_target(job);

    if (why) {
        fail_job(job, why);
    } else if (now_ns() < job->phase_end_ns) {
        arm(job);
    } else {
        end_phase(job);
    }
}

/* ---------------------------------------------------------------------- */
/* Lifecycle                                                               */

static TuneJob *job_new(const TuneConfig *cfg, const TuneHooks *hooks,
                        void *opaque)
{
    TuneJob *job = g_new0(TuneJob, 1);
    const int64_t *values = cfg->values;
    size_t n = cfg->n_values;
    AioParams now;

    if (!values) {
        n = tune_default_values(cfg->param, &values);
    }
    job->hooks = *hooks;
    job->opaque = opaque;
    job->iothread_id = g_strdup(cfg->iothread);
    job->workload_id = g_strdup(cfg->workload);
    job->iothread = hooks->find_iothread(opaque, cfg->iothread);
    job->workload = hooks->find_workload(opaque, cfg->workload);
    job->param = cfg->param;
    job->objective = cfg->objective;
    job->apply = cfg->apply;
    job->step_ns = cfg->step_ns;
    job->values = g_memdup2(values, n * sizeof(*values));
    job->n_values = n;
    job->rows = g_new0(TuneResult, n);
    job->pick = -1;
    job->before = g_new(WorkloadSample, 1);
    iothread_get_params(job->iothread, &now);
    job->original = aio_params_get(&now, cfg->param);
    return job;
}

TuneJob *tune_start(const TuneConfig *cfg, AioContext *owner_ctx,
                    const TuneHooks *hooks, void *opaque, GError **error)
{
    if (!check_config(cfg, hooks, opaque, error)) {
        return NULL;
    }
    TuneJob *job = job_new(cfg, hooks, opaque);
    job->timer = aio_timer_new(owner_ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                               tick, job);
    job->state = TUNE_STATE_RUNNING;
    begin_next_value(job);
    return job;
}

void tune_cancel(TuneJob *job)
{
    if (job->state != TUNE_STATE_RUNNING) {
        return;
    }
    aio_timer_del(job->timer);
    restore(job);
    job->state = TUNE_STATE_CANCELLED;
}

void tune_free(TuneJob *job)
{
    if (!job) {
        return;
    }
    tune_cancel(job);
    aio_timer_free(job->timer);
    for (size_t i = 0; i < job->n_rows; i++) {
        g_free(job->rows[i].error);
    }
    g_free(job->rows);
    g_free(job->values);
    g_free(job->before);
    g_free(job->reason);
    g_free(job->error);
    g_free(job->iothread_id);
    g_free(job->workload_id);
    g_free(job);
}

/* ---------------------------------------------------------------------- */
/* Accessors                                                               */

const char *tune_iothread(const TuneJob *job)
{
    return job->iothread_id;
}
const char *tune_workload(const TuneJob *job)
{
    return job->workload_id;
}
AioParamId tune_param(const TuneJob *job)
{
    return job->param;
}
TuneObjective tune_objective(const TuneJob *job)
{
    return job->objective;
}
bool tune_apply_requested(const TuneJob *job)
{
    return job->apply;
}
int64_t tune_step_ns(const TuneJob *job)
{
    return job->step_ns;
}
TuneState tune_state(const TuneJob *job)
{
    return job->state;
}
int64_t tune_original_value(const TuneJob *job)
{
    return job->original;
}
bool tune_applied(const TuneJob *job)
{
    return job->applied;
}
const char *tune_error(const TuneJob *job)
{
    return job->error;
}

size_t tune_values(const TuneJob *job, const int64_t **values)
{
    *values = job->values;
    return job->n_values;
}

size_t tune_results(const TuneJob *job, const TuneResult **rows)
{
    *rows = job->rows;
    return job->n_rows;
}

int tune_recommendation(const TuneJob *job, const char **reason)
{
    if (reason) {
        *reason = job->reason;
    }
    return job->pick;
}
