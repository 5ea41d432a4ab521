/*
 * The tuner's recommendation rule (tune_recommend(), pure) on synthetic
 * result tables: one case per objective, ties, values that failed, and
 * the reason text; plus the default sweeps and the settle time.
 */
#include <string.h>

#include "tap.h"
#include "tune.h"

#define US(x) ((uint64_t)(x) * 1000)

/* A measured row. */
static TuneResult row(int64_t value, double iops, uint64_t p99_ns,
                      double cpu)
{
    TuneResult r = {
        .value = value, .measured = true, .ops = 1000, .iops = iops,
        .p50_ns = p99_ns / 2, .p99_ns = p99_ns, .cpu = cpu,
    };
    return r;
}

/* A poll-max-ns sweep where polling longer lowers latency and raises
 * throughput at a CPU price:
 *   value    iops    p99    cpu
 *   0        40000   40us   0.10
 *   4096     49100   20.3us 0.30
 *   32768    50000   20us   0.60   (best p99, best IOPS)
 *   262144   50000   20us   0.95 */
static void sweep(TuneResult *rows)
{
    rows[0] = row(0, 40000, US(40), 0.10);
    rows[1] = row(4096, 49100, 20300, 0.30);
    rows[2] = row(32768, 50000, US(20), 0.60);
    rows[3] = row(262144, 50000, US(20), 0.95);
}

static int64_t pick_value(const TuneResult *rows, size_t n,
                          TuneObjective objective)
{
    int i = tune_recommend(rows, n, objective, "poll-max-ns", NULL);
    return i < 0 ? -1 : rows[i].value;
}

static void test_latency_picks_cheapest_within_2pct_of_best_p99(void)
{
    TuneResult rows[4];

    sweep(rows);
    /* 4096's p99 is 1.5% above the best, at half the CPU of 32768. */
    is_int(pick_value(rows, 4, TUNE_OBJECTIVE_LATENCY), 4096,
           "latency: 4096 (p99 within 2%%, least CPU of those)");
    rows[1].p99_ns = 20500;   /* 2.5% above: no longer acceptable */
    is_int(pick_value(rows, 4, TUNE_OBJECTIVE_LATENCY), 32768,
           "latency: 32768 once 4096's p99 is 2.5%% above the best");
}

static void test_throughput_picks_cheapest_within_2pct_of_best_iops(void)
{
    TuneResult rows[4];

    sweep(rows);
    is_int(pick_value(rows, 4, TUNE_OBJECTIVE_THROUGHPUT), 4096,
           "throughput: 4096 (IOPS 1.8%% below the best, least CPU)");
    rows[1].iops = 48900;   /* 2.2% below */
    is_int(pick_value(rows, 4, TUNE_OBJECTIVE_THROUGHPUT), 32768,
           "throughput: 32768 once 4096 is 2.2%% below the best");
}

static void test_cpu_picks_least_cpu(void)
{
    TuneResult rows[4];

    sweep(rows);
    is_int(pick_value(rows, 4, TUNE_OBJECTIVE_CPU), 0,
           "cpu: 0, the least CPU, whatever its latency");
}

static void test_balanced_picks_cheapest_within_10pct_p99_5pct_iops(void)
{
    TuneResult rows[4];

    sweep(rows);
    rows[1] = row(4096, 47600, 21900, 0.30);   /* -4.8% IOPS, +9.5% p99 */
    is_int(pick_value(rows, 4, TUNE_OBJECTIVE_BALANCED), 4096,
           "balanced: 4096 (p99 +9.5%%, IOPS -4.8%%, least CPU)");
    rows[1].p99_ns = 22100;                      /* +10.5% */
    is_int(pick_value(rows, 4, TUNE_OBJECTIVE_BALANCED), 32768,
           "balanced: 32768 once 4096's p99 is 10.5%% above the best");
    rows[1].p99_ns = 21900;
    rows[1].iops = 47400;                        /* -5.2% */
    is_int(pick_value(rows, 4, TUNE_OBJECTIVE_BALANCED), 32768,
           "balanced: 32768 once 4096's IOPS are 5.2%% below the best");
}

static void test_balanced_falls_back_to_latency_when_none_is_both(void)
{
    /* The lowest p99 (2) has 14% fewer IOPS than the highest (1); 1's p99
     * is 30% above: neither is both. */
    TuneResult rows[3] = {
        row(1, 22000, US(30), 0.07),
        row(2, 19000, 23000, 0.06),
        row(3, 17000, US(70), 0.08),
    };
    char *reason = NULL;
    int i = tune_recommend(rows, 3, TUNE_OBJECTIVE_BALANCED, "x", &reason);

    is_int(i < 0 ? -1 : rows[i].value, 2,
           "balanced with no value both: the latency rule picks 2");
    ok(reason && g_str_has_prefix(reason, "x 2: lowest p99"),
       "the reason is latency's: %s", reason ? reason : "(null)");
    g_free(reason);
}

static void test_tie_on_cpu_goes_to_lower_p99_then_earlier_row(void)
{
    TuneResult rows[3] = {
        row(1, 1000, US(30), 0.5),
        row(2, 1000, US(29), 0.5),
        row(3, 1000, US(29), 0.5),
    };

    is_int(pick_value(rows, 3, TUNE_OBJECTIVE_CPU), 2,
           "equal CPU: the lower p99 wins, of equals the earlier row");
    rows[0].p99_ns = US(29);
    is_int(pick_value(rows, 3, TUNE_OBJECTIVE_LATENCY), 1,
           "all equal: the first row wins");
}

static void test_failed_value_is_never_recommended(void)
{
    TuneResult rows[4];

    sweep(rows);
    /* 0 refused by the iothread, 4096 saw no op: neither counts, and a
     * failed row's zero p99 is not "the best p99". */
    rows[0].measured = false;
    rows[0].p99_ns = 0;
    rows[0].cpu = 0;
    rows[1].ops = 0;
    rows[1].p99_ns = 0;
    is_int(pick_value(rows, 4, TUNE_OBJECTIVE_CPU), 32768,
           "cpu: the unmeasured 0 and the op-less 4096 are skipped");
    is_int(pick_value(rows, 4, TUNE_OBJECTIVE_LATENCY), 32768,
           "latency: a failed row's p99 of 0 is not the best");
}

static void test_nothing_measured_recommends_nothing(void)
{
    TuneResult rows[2] = { row(1, 10, 100, 0.1), row(2, 10, 100, 0.1) };
    char *reason = NULL;

    rows[0].measured = rows[1].measured = false;
    is_int(tune_recommend(rows, 2, TUNE_OBJECTIVE_BALANCED, "aio-max-batch",
                          &reason), -1, "no measured row: no recommendation");
    ok(reason && strstr(reason, "no value could be measured"),
       "the reason says so: %s", reason ? reason : "(null)");
    g_free(reason);
}

static void test_reason_names_value_margin_and_cpu_saving(void)
{
    TuneResult rows[4];
    char *reason = NULL;

    sweep(rows);
    tune_recommend(rows, 4, TUNE_OBJECTIVE_LATENCY, "poll-max-ns", &reason);
    /* 20300 vs 20000: 1.5%; CPU 0.30 vs 0.60: 50% less. */
    ok(reason && !strcmp(reason, "poll-max-ns 4096: p99 within 1.5% of the "
                         "best, 50% less CPU than 32768"),
       "latency reason: %s", reason ? reason : "(null)");
    g_free(reason);
    tune_recommend(rows, 4, TUNE_OBJECTIVE_CPU, "poll-max-ns", &reason);
    ok(reason && g_str_has_prefix(reason, "poll-max-ns 0: least CPU (10.0%)"),
       "cpu reason: %s", reason ? reason : "(null)");
    g_free(reason);
    rows[1] = row(4096, 47600, 21900, 0.30);
    tune_recommend(rows, 4, TUNE_OBJECTIVE_BALANCED, "poll-max-ns", &reason);
    ok(reason && !strcmp(reason, "poll-max-ns 4096: p99 within 9.5% of the "
                         "best, IOPS within 4.8% of the best, 50% less CPU "
                         "than 32768"),
       "balanced reason: %s", reason ? reason : "(null)");
    g_free(reason);
    tune_recommend(rows, 1, TUNE_OBJECTIVE_BALANCED, "poll-max-ns", &reason);
    ok(reason && !strcmp(reason, "poll-max-ns 0: lowest p99 (40.0 us), "
                         "highest IOPS (40000)"),
       "balanced reason of the best on both: %s", reason ? reason : "(null)");
    g_free(reason);
}

static void test_default_sweeps_exist_only_for_tunable_params(void)
{
    const int64_t *values;

    ok(tune_default_values(AIO_PARAM_POLL_MAX_NS, &values) >= 3 &&
       values[0] == 0, "poll-max-ns sweeps from 0 (no polling)");
    ok(tune_default_values(AIO_PARAM_AIO_MAX_BATCH, &values) >= 3 &&
       tune_default_values(AIO_PARAM_THREAD_POOL_MAX, &values) >= 3,
       "aio-max-batch and thread-pool-max have sweeps");
    ok(!tune_param_supported(AIO_PARAM_POLL_GROW) &&
       !tune_param_supported(AIO_PARAM_THREAD_POOL_MIN),
       "poll-grow and thread-pool-min are not tuned");
}

static void test_default_sweeps_are_increasing_and_valid(void)
{
    for (int p = 0; p < AIO_PARAM_COUNT; p++) {
        const int64_t *values;
        size_t n = tune_default_values(p, &values);
        const AioParamInfo *info = aio_param_info(p);
        bool good = true;

        for (size_t i = 0; i < n; i++) {
            good &= values[i] >= info->min && values[i] <= info->max &&
                    (i == 0 || values[i] > values[i - 1]);
        }
        ok(good, "%s: the sweep increases, within the table's bounds",
           info->name);
    }
}

static void test_settle_is_a_fifth_of_the_step_clamped(void)
{
    is_int(tune_settle_ns(1000000000LL), 200000000LL, "1 s step: 200 ms");
    is_int(tune_settle_ns(50000000LL), 20000000LL, "50 ms step: 20 ms");
    is_int(tune_settle_ns(60000000000LL), 1000000000LL, "60 s step: 1 s");
}

int main(void)
{
    test_latency_picks_cheapest_within_2pct_of_best_p99();
    test_throughput_picks_cheapest_within_2pct_of_best_iops();
    test_cpu_picks_least_cpu();
    test_balanced_picks_cheapest_within_10pct_p99_5pct_iops();
    test_balanced_falls_back_to_latency_when_none_is_both();
    test_tie_on_cpu_goes_to_lower_p99_then_earlier_row();
    test_failed_value_is_never_recommended();
    test_nothing_measured_recommends_nothing();
    test_reason_names_value_margin_and_cpu_saving();
    test_default_sweeps_exist_only_for_tunable_params();
    test_default_sweeps_are_increasing_and_valid();
    test_settle_is_a_fifth_of_the_step_clamped();
    return done_testing();
}
