/*
 * The tuner's pure parts (see tune.h): names, default sweeps, the settle
 * time and the recommendation rule.
 */
#include "tune.h"

#include <string.h>

static const char *const objective_names[TUNE_OBJECTIVE__MAX] = {
    [TUNE_OBJECTIVE_LATENCY] = "latency",
    [TUNE_OBJECTIVE_THROUGHPUT] = "throughput",
    [TUNE_OBJECTIVE_CPU] = "cpu",
    [TUNE_OBJECTIVE_BALANCED] = "balanced",
};

static const char *const state_names[TUNE_STATE__MAX] = {
    [TUNE_STATE_RUNNING] = "running",
    [TUNE_STATE_DONE] = "done",
    [TUNE_STATE_CANCELLED] = "cancelled",
    [TUNE_STATE_FAILED] = "failed",
};

const char *tune_objective_name(TuneObjective o)
{
    return (unsigned)o < TUNE_OBJECTIVE__MAX ? objective_names[o] : NULL;
}

const char *tune_state_name(TuneState s)
{
    return (unsigned)s < TUNE_STATE__MAX ? state_names[s] : NULL;
}

int tune_objective_from_name(const char *name)
{
    for (int i = 0; i < TUNE_OBJECTIVE__MAX; i++) {
        if (strcmp(objective_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

int64_t tune_settle_ns(int64_t step_ns)
{
    return CLAMP(step_ns / 5, 20LL * 1000 * 1000, 1000LL * 1000 * 1000);
}

/* Log-spaced around each parameter's default (32768, 32, 64). */
static const int64_t poll_max_ns_sweep[] = {
    0, 1024, 4096, 16384, 32768, 65536, 262144,
};
static const int64_t aio_max_batch_sweep[] = { 1, 2, 4, 8, 16, 32, 64, 128 };
static const int64_t thread_pool_max_sweep[] = { 1, 2, 4, 8, 16, 32, 64 };

size_t tune_default_values(AioParamId param, const int64_t **values)
{
    switch (param) {
    case AIO_PARAM_POLL_MAX_NS:
        *values = poll_max_ns_sweep;
        return G_N_ELEMENTS(poll_max_ns_sweep);
    case AIO_PARAM_AIO_MAX_BATCH:
        *values = aio_max_batch_sweep;
        return G_N_ELEMENTS(aio_max_batch_sweep);
    case AIO_PARAM_THREAD_POOL_MAX:
        *values = thread_pool_max_sweep;
        return G_N_ELEMENTS(thread_pool_max_sweep);
    default:
        *values = NULL;
        return 0;
    }
}

bool tune_param_supported(AioParamId param)
{
    const int64_t *values;
    return tune_default_values(param, &values) > 0;
}

/* ---------------------------------------------------------------------- */
/* The recommendation rule                                                 */

/* The tolerances of one objective, in percent; < 0: not a criterion. */
typedef struct Rule {
    double p99_pct;
    double iops_pct;
} Rule;

static const Rule rules[TUNE_OBJECTIVE__MAX] = {
    [TUNE_OBJECTIVE_LATENCY] = { TUNE_LATENCY_P99_PCT, -1 },
    [TUNE_OBJECTIVE_THROUGHPUT] = { -1, TUNE_THROUGHPUT_IOPS_PCT },
    [TUNE_OBJECTIVE_CPU] = { -1, -1 },
    [TUNE_OBJECTIVE_BALANCED] = { TUNE_BALANCED_P99_PCT,
                                  TUNE_BALANCED_IOPS_PCT },
};

static bool usable(const TuneResult *r)
{
    return r->measured && r->ops > 0;
}

/* The usable rows with the lowest p99 and the highest IOPS (first wins
 * ties); -1 when none is usable. */
static void find_bests(const TuneResult *rows, size_t n, int *best_p99,
                       int *best_iops)
{
    *best_p99 = *best_iops = -1;
    for (size_t i = 0; i < n; i++) {
        if (!usable(&rows[i])) {
            continue;
        }
        if (*best_p99 < 0 || rows[i].p99_ns < rows[*best_p99].p99_ns) {
            *best_p99 = i;
        }
        if (*best_iops < 0 || rows[i].iops > rows[*best_iops].iops) {
            *best_iops = i;
        }
    }
}

static bool acceptable(const Rule *rule, const TuneResult *r,
                       const TuneResult *p99_best,
                       const TuneResult *iops_best)
{
    if (rule->p99_pct >= 0 &&
        r->p99_ns > p99_best->p99_ns * (1 + rule->p99_pct / 100)) {
        return false;
    }
    return rule->iops_pct < 0 ||
           r->iops >= iops_best->iops * (1 - rule->iops_pct / 100);
}

/* Whether @a is cheaper than @b: less CPU; equal CPU, lower p99. */
static bool cheaper(const TuneResult *a, const TuneResult *b)
{
    if (a->cpu != b->cpu) {
        return a->cpu < b->cpu;
    }
    return a->p99_ns < b->p99_ns;
}

/* How far above @best @v lies, in percent of @best. */
static double pct_above(double v, double best)
{
    return best > 0 ? (v - best) * 100 / best : 0;
}

/* "lowest p99 (12.3 us)" or "p99 within 1.6% of the best". */
static void append_p99_claim(GString *s, const TuneResult *r,
                             const TuneResult *best)
{
    if (r->p99_ns <= best->p99_ns) {
        g_string_append_printf(s, "lowest p99 (%.1f us)", r->p99_ns / 1e3);
    } else {
        g_string_append_printf(s, "p99 within %.1f%% of the best",
                               pct_above(r->p99_ns, best->p99_ns));
    }
}

/* "highest IOPS (41728)" or "IOPS within 1.8% of the best". */
static void append_iops_claim(GString *s, const TuneResult *r,
                              const TuneResult *best)
{
    if (r->iops >= best->iops) {
        g_string_append_printf(s, "highest IOPS (%.0f)", r->iops);
    } else {
        g_string_append_printf(s, "IOPS within %.1f%% of the best",
                               best->iops > 0
                               ? (best->iops - r->iops) * 100 / best->iops
                               : 0);
    }
}

/* The objective's own claim about the chosen row. */
static void append_claim(GString *s, TuneObjective objective,
                         const TuneResult *r, const TuneResult *p99_best,
                         const TuneResult *iops_best)
{
    switch (objective) {
    case TUNE_OBJECTIVE_LATENCY:
        append_p99_claim(s, r, p99_best);
        break;
    case TUNE_OBJECTIVE_THROUGHPUT:
        append_iops_claim(s, r, iops_best);
        break;
    case TUNE_OBJECTIVE_CPU:
        g_string_append_printf(s, "least CPU (%.1f%%)", r->cpu * 100);
        break;
    default:
        append_p99_claim(s, r, p99_best);
        g_string_append(s, ", ");
        append_iops_claim(s, r, iops_best);
        break;
    }
}

/* The price of the choice against the best row of the objective's
 * metric: ", 41% less CPU than 32768" or, for cpu, ", p99 +80% over
 * 16384". */
static void append_comparison(GString *s, TuneObjective objective,
                              const TuneResult *r, const TuneResult *ref)
{
    if (r == ref || r->value == ref->value) {
        return;
    }
    if (objective == TUNE_OBJECTIVE_CPU) {
        g_string_append_printf(s, ", p99 %+.0f%% against %" G_GINT64_FORMAT,
                               pct_above(r->p99_ns, ref->p99_ns), ref->value);
    } else if (ref->cpu > r->cpu) {
        g_string_append_printf(s, ", %.0f%% less CPU than %" G_GINT64_FORMAT,
                               (ref->cpu - r->cpu) * 100 / ref->cpu,
                               ref->value);
    }
}

static char *reason_text(TuneObjective objective, const char *param_name,
                         const TuneResult *r, const TuneResult *p99_best,
                         const TuneResult *iops_best)
{
    GString *s = g_string_new(NULL);
    const TuneResult *ref =
        objective == TUNE_OBJECTIVE_THROUGHPUT ? iops_best : p99_best;

    g_string_append_printf(s, "%s %" G_GINT64_FORMAT ": ", param_name,
                           r->value);
    append_claim(s, objective, r, p99_best, iops_best);
    append_comparison(s, objective, r, ref);
    return g_string_free(s, FALSE);
}

/* The cheapest row @rule accepts, or -1. */
static int pick_cheapest(const TuneResult *rows, size_t n, const Rule *rule,
                         int best_p99, int best_iops)
{
    int pick = -1;

    for (size_t i = 0; i < n; i++) {
        if (usable(&rows[i]) &&
            acceptable(rule, &rows[i], &rows[best_p99], &rows[best_iops]) &&
            (pick < 0 || cheaper(&rows[i], &rows[pick]))) {
            pick = i;
        }
    }
    return pick;
}

int tune_recommend(const TuneResult *rows, size_t n, TuneObjective objective,
                   const char *param_name, char **reason)
{
    int best_p99, best_iops, pick = -1;

    g_return_val_if_fail((unsigned)objective < TUNE_OBJECTIVE__MAX, -1);
    find_bests(rows, n, &best_p99, &best_iops);
    if (best_p99 >= 0) {
        pick = pick_cheapest(rows, n, &rules[objective], best_p99,
                             best_iops);
    }
    if (best_p99 >= 0 && pick < 0) {
        /* Only balanced can accept nothing (the best p99 has too few
         * IOPS): latency decides. */
        objective = TUNE_OBJECTIVE_LATENCY;
        pick = pick_cheapest(rows, n, &rules[objective], best_p99,
                             best_iops);
    }
    if (reason) {
        *reason = pick < 0
            ? g_strdup_printf("%s: no value could be measured", param_name)
            : reason_text(objective, param_name, &rows[pick],
                          &rows[best_p99], &rows[best_iops]);
    }
    return pick;
}
