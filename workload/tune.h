/*
 * The tuner: a job that sweeps one tunable of an iothread over a list of
 * values while a workload runs on it, measures each value, and recommends
 * one.  Plain C API (no JSON, no QMP); the daemon serves it as
 * iothread-tune / query-tune / iothread-tune-cancel.
 *
 * A job is a state machine driven by one timer of the owner's context (no
 * thread of its own).  For each value, in order:
 *   1. set it on the iothread through the owner's setter (the daemon's
 *      iothread-set path, so the change is validated, applied inside the
 *      iothread and announced like any other);
 *   2. settle: tune_settle_ns(step) of load under the new value, not
 *      measured (the polling window and the pool adapt first);
 *   3. measure: sample the workload, wait step_ns, sample again; the row
 *      is the interval between the two (workload_interval): IOPS, p50/p99
 *      latency of the ops in the interval, the iothread's CPU and
 *      busy-polling shares.
 * Then the recommendation (tune_recommend()), and the parameter is left
 * at the recommended value when apply was asked, else restored to the
 * value it had before the job.  A cancel or a failure also restores it.
 *
 * The job fails (on_end, state FAILED, the original value restored where
 * the iothread still exists) when the workload is deleted, ends or fails,
 * or the iothread goes, mid-tune: the job looks both up by id through the
 * owner's hooks at every tick (at least every TUNE_CHECK_NS), and never
 * keeps a pointer to either across ticks beyond comparing identities.
 *
 * Thread rules: a TuneJob is created, driven, cancelled and freed by one
 * thread, its owner (the daemon's main loop thread, which also owns the
 * IOThread objects and the workloads); every hook runs in that thread.
 * tune_recommend() and the name helpers are pure.
 */
#ifndef WORKLOAD_TUNE_H
#define WORKLOAD_TUNE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aioctx/aio.h"
#include "iothread.h"
#include "workload.h"

G_BEGIN_DECLS

/* The one spelling of each enum on the wire, in the schema's order. */
typedef enum {
    TUNE_OBJECTIVE_LATENCY,
    TUNE_OBJECTIVE_THROUGHPUT,
    TUNE_OBJECTIVE_CPU,
    TUNE_OBJECTIVE_BALANCED,
    TUNE_OBJECTIVE__MAX,
} TuneObjective;

typedef enum {
    TUNE_STATE_RUNNING,
    TUNE_STATE_DONE,            /* every value measured, recommendation made */
    TUNE_STATE_CANCELLED,       /* tune_cancel() */
    TUNE_STATE_FAILED,          /* workload or iothread gone; see the error */
    TUNE_STATE__MAX,
} TuneState;

const char *tune_objective_name(TuneObjective o);
const char *tune_state_name(TuneState s);
/* The value named @name, or -1. */
int tune_objective_from_name(const char *name);

/* Limits and defaults (the schema's docs state the same). */
#define TUNE_MAX_VALUES         64
#define TUNE_MIN_STEP_NS        (50LL * 1000 * 1000)
#define TUNE_MAX_STEP_NS        (3600LL * 1000 * 1000 * 1000)
#define TUNE_DEFAULT_STEP_NS    (2LL * 1000 * 1000 * 1000)
/* Longest time between two checks that the workload and iothread exist. */
#define TUNE_CHECK_NS           (200LL * 1000 * 1000)

/* The tolerances of the recommendation rule, in percent (see
 * tune_recommend()). */
#define TUNE_LATENCY_P99_PCT     2.0
#define TUNE_THROUGHPUT_IOPS_PCT 2.0
#define TUNE_BALANCED_P99_PCT    10.0
#define TUNE_BALANCED_IOPS_PCT   5.0

/* The unmeasured time after each change: a fifth of the step, clamped to
 * [20 ms, 1 s]. */
int64_t tune_settle_ns(int64_t step_ns);

/*
 * The default sweep of @param: log-spaced values around its default.
 *   poll-max-ns:      0 1024 4096 16384 32768 65536 262144
 *   aio-max-batch:    1 2 4 8 16 32 64 128
 *   thread-pool-max:  1 2 4 8 16 32 64
 * Returns the count and points *@values at a static array; 0 (and NULL)
 * for a parameter the tuner does not sweep.
 */
size_t tune_default_values(AioParamId param, const int64_t **values);

/* Whether the tuner sweeps @param (the three above). */
bool tune_param_supported(AioParamId param);

/* One measured value (a row of the result table). */
typedef struct TuneResult {
    int64_t value;
    bool measured;              /* false: @error says why not */
    char *error;                /* owned; NULL when measured */
    uint64_t ops;               /* in the measured interval */
    double iops;
    uint64_t p50_ns, p99_ns;    /* latency of the interval's ops */
    double cpu;                 /* iothread CPU share of the interval, 0..1 */
    double polling;             /* busy-polling share of the interval */
} TuneResult;

/*
 * The recommendation rule, pure.  Among the measured rows with ops > 0,
 * the objective selects the acceptable ones relative to the best row of
 * its metric, then the cheapest acceptable row wins (least CPU; equal
 * CPU: lower p99, then the earlier row):
 *   latency:    p99 within TUNE_LATENCY_P99_PCT % of the lowest p99;
 *   throughput: IOPS within TUNE_THROUGHPUT_IOPS_PCT % of the highest;
 *   cpu:        every row;
 *   balanced:   p99 within TUNE_BALANCED_P99_PCT % of the lowest and IOPS
 *               within TUNE_BALANCED_IOPS_PCT % of the highest; when no
 *               row is both (the lowest p99 comes with too few IOPS),
 *               the latency rule decides.
 * Returns the row's index, or -1 when no row was measured; *@reason (may
 * be NULL; caller frees) gets the why in words, e.g. "poll-max-ns 8192:
 * p99 within 1.6% of the best, 41% less CPU than 32768".
 */
int tune_recommend(const TuneResult *rows, size_t n, TuneObjective objective,
                   const char *param_name, char **reason);

/* What to run.  Strings are copied by tune_start(). */
typedef struct TuneConfig {
    const char *iothread;       /* the iothread's id (also the job's) */
    const char *workload;       /* a workload running on that iothread */
    AioParamId param;           /* tune_param_supported() */
    const int64_t *values;      /* NULL: tune_default_values() */
    size_t n_values;
    int64_t step_ns;            /* TUNE_MIN_STEP_NS..TUNE_MAX_STEP_NS */
    TuneObjective objective;
    bool apply;                 /* leave the recommended value set */
} TuneConfig;

typedef struct TuneJob TuneJob;

/* What the job needs from its owner; every hook runs in the owner's
 * thread. */
typedef struct TuneHooks {
    /* The objects named @id now, or NULL when there is none. */
    IOThread *(*find_iothread)(void *opaque, const char *id);
    Workload *(*find_workload)(void *opaque, const char *id);
    /* Set @param of iothread @iothread to @value (the owner's one path
     * for property changes); false + @error if refused. */
    bool (*set_value)(void *opaque, const char *iothread, AioParamId param,
                      int64_t value, GError **error);
    /* A row was added (measured or not). */
    void (*on_step)(TuneJob *job, const TuneResult *row, void *opaque);
    /* The job ended on its own (DONE or FAILED); not after tune_cancel()
     * or tune_free(). */
    void (*on_end)(TuneJob *job, void *opaque);
} TuneHooks;

/*
 * Check @cfg (the iothread and the workload exist and the workload runs
 * there and is running, the parameter is swept, step_ns and the values are
 * within bounds and each value is valid for the iothread's current
 * settings), then set the first value and start.  NULL + @error (naming
 * the problem) when anything is wrong: then nothing changed.  @hooks is
 * copied.  Owner thread.
 */
TuneJob *tune_start(const TuneConfig *cfg, AioContext *owner_ctx,
                    const TuneHooks *hooks, void *opaque, GError **error);

/* Stop a running job and restore the original value (state CANCELLED;
 * no on_end).  A job that already ended is left as it is.  Owner thread. */
void tune_cancel(TuneJob *job);

/* Cancel (if running) and free.  Owner thread. */
void tune_free(TuneJob *job);

/* Accessors (owner thread).  Strings are borrowed from the job. */
const char *tune_iothread(const TuneJob *job);
const char *tune_workload(const TuneJob *job);
AioParamId tune_param(const TuneJob *job);
TuneObjective tune_objective(const TuneJob *job);
bool tune_apply_requested(const TuneJob *job);
int64_t tune_step_ns(const TuneJob *job);
TuneState tune_state(const TuneJob *job);
/* The value the parameter had before the job. */
int64_t tune_original_value(const TuneJob *job);
/* The values to sweep, and how many of them have a row so far. */
size_t tune_values(const TuneJob *job, const int64_t **values);
size_t tune_results(const TuneJob *job, const TuneResult **rows);
/* Once DONE: the recommended row's index (-1: none) and the reason. */
int tune_recommendation(const TuneJob *job, const char **reason);
/* Whether the recommended value was left set (apply). */
bool tune_applied(const TuneJob *job);
/* Why it FAILED, else NULL. */
const char *tune_error(const TuneJob *job);

G_END_DECLS

#endif /* WORKLOAD_TUNE_H */
