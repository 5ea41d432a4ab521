/*
 * test-histogram: the log-linear histogram against known samples.  Values
 * below 128 come back exactly; every percentile of a wide sample is within
 * 0.8% of the exact order statistic; min/max/mean/count are exact; an
 * interval (subtract) holds only the values recorded in it; merging adds;
 * cumulative counts at power-of-two bounds are exact; a snapshot taken
 * while another thread records never holds more than was recorded.
 */
#include "aioctx/histogram.h"
#include "tap.h"

#include <pthread.h>
#include <stdlib.h>

static AioHistogram *histogram_new(void)
{
    AioHistogram *h = g_new(AioHistogram, 1);

    aio_histogram_init(h);
    return h;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The exact order statistic the percentile stands for. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    double exact_rank = p / 100.0 * (double)n;
    size_t rank = (size_t)exact_rank;

    rank += (double)rank < exact_rank;
    rank = rank < 1 ? 1 : rank;
    return sorted[rank - 1];
}

static void test_empty_reports_zero(void)
{
    AioHistogram *h = histogram_new();

    is_int((int64_t)aio_histogram_percentile(h, 99), 0, "empty: p99 is 0");
    is_int((int64_t)aio_histogram_count_at_most(h, 1000), 0,
           "empty: nothing at most 1000");
    ok(aio_histogram_mean(h) == 0.0, "empty: mean is 0");
    g_free(h);
}

static void test_small_values_are_exact(void)
{
    AioHistogram *h = histogram_new();
    uint64_t v;
    bool all_exact = true;

    for (v = 0; v < 128; v++) {
        aio_histogram_record(h, v);
    }
    /* 128 values 0..127: the k-th percentile rank is ceil(1.28 k). */
    for (v = 1; v <= 100; v++) {
        uint64_t rank = (v * 128 + 99) / 100;

        if (aio_histogram_percentile(h, (double)v) != rank - 1) {
            all_exact = false;
            diag("p%u: got %llu, want %llu", (unsigned)v,
                 (unsigned long long)aio_histogram_percentile(h, (double)v),
                 (unsigned long long)(rank - 1));
        }
    }
    ok(all_exact, "values below 128: every percentile exact");
    g_free(h);
}

static void test_wide_sample_within_error_bound(void)
{
    enum { N = 100000 };
    static const double ps[] = { 1, 10, 50, 90, 99, 99.9, 99.99, 100 };
    uint64_t *values = g_new(uint64_t, N);
    AioHistogram *h = histogram_new();
    double worst = 0;
    size_t i;

    /* Log-uniform over [1, 2^40): every octave the layout has. */
    srandom(12345);
    for (i = 0; i < N; i++) {
        int octave = (int)(random() % 40);
        uint64_t base = (uint64_t)1 << octave;

        values[i] = base + ((uint64_t)random() * (uint64_t)random()) % base;
        aio_histogram_record(h, values[i]);
    }
    qsort(values, N, sizeof(values[0]), compare_u64);
    for (i = 0; i < G_N_ELEMENTS(ps); i++) {
        uint64_t want = exact_percentile(values, N, ps[i]);
        uint64_t got = aio_histogram_percentile(h, ps[i]);
        double err = got > want ? (double)(got - want) / (double)want
                                : (double)(want - got) / (double)want;

        worst = err > worst ? err : worst;
    }
    ok(worst <= 0.008, "percentiles of 1e5 log-uniform values within 0.8%% "
       "(worst %.4f%%)", worst * 100);
    is_int((int64_t)aio_histogram_percentile(h, 100), (int64_t)values[N - 1],
           "p100 is the exact max");
    is_int((int64_t)h->min, (int64_t)values[0], "min exact");
    is_int((int64_t)h->count, N, "count exact");
    g_free(values);
    g_free(h);
}

static void test_mean_is_exact(void)
{
    AioHistogram *h = histogram_new();

    aio_histogram_record(h, 1000);
    aio_histogram_record(h, 3001);
    ok(aio_histogram_mean(h) == 2000.5, "mean of 1000 and 3001 is 2000.5 "
       "(got %g)", aio_histogram_mean(h));
    g_free(h);
}

static void test_huge_values_clamp_to_max(void)
{
    AioHistogram *h = histogram_new();
    uint64_t huge = (uint64_t)1 << 50;

    aio_histogram_record(h, huge);
    aio_histogram_record(h, UINT64_MAX);
    is_int((int64_t)(aio_histogram_percentile(h, 100) == UINT64_MAX), 1,
           "a value beyond 2^44 is counted and p100 is the exact max");
    is_int((int64_t)aio_histogram_count_at_most(h, UINT64_MAX), 2,
           "both counted at most UINT64_MAX");
    g_free(h);
}

static void test_subtract_gives_the_interval(void)
{
    AioHistogram *h = histogram_new(), *before = histogram_new();
    AioHistogram *after = histogram_new(), *interval = histogram_new();
    int i;

    for (i = 0; i < 1000; i++) {
        aio_histogram_record(h, 5000);          /* before the interval */
    }
    aio_histogram_snapshot(h, before);
    for (i = 0; i < 10; i++) {
        aio_histogram_record(h, 100);           /* inside it */
    }
    aio_histogram_snapshot(h, after);
    aio_histogram_subtract(interval, after, before);
    is_int((int64_t)interval->count, 10, "interval holds the 10 new values");
    is_int((int64_t)interval->sum, 1000, "interval sum is theirs");
    is_int((int64_t)aio_histogram_percentile(interval, 99), 100,
           "interval p99 is 100, not the older 5000");
    g_free(h);
    g_free(before);
    g_free(after);
    g_free(interval);
}

static void test_add_merges(void)
{
    AioHistogram *a = histogram_new(), *b = histogram_new();

    aio_histogram_record(a, 10);
    aio_histogram_record(b, 1u << 20);
    aio_histogram_add(a, b);
    is_int((int64_t)a->count, 2, "merged count");
    is_int((int64_t)a->min, 10, "merged min");
    is_int((int64_t)a->max, 1 << 20, "merged max");
    is_int((int64_t)aio_histogram_percentile(a, 100), 1 << 20,
           "merged p100 from the other histogram");
    g_free(a);
    g_free(b);
}

static void test_count_at_power_of_two_bounds_exact(void)
{
    AioHistogram *h = histogram_new();
    uint64_t v;
    bool exact = true;
    int k;

    for (v = 1; v <= 100000; v += 7) {
        aio_histogram_record(h, v);
    }
    for (k = 1; k < 17; k++) {
        uint64_t bound = ((uint64_t)1 << k) - 1, want = 0;

        for (v = 1; v <= 100000; v += 7) {
            want += v <= bound;
        }
        if (aio_histogram_count_at_most(h, bound) != want) {
            exact = false;
            diag("le %llu: got %llu want %llu", (unsigned long long)bound,
                 (unsigned long long)aio_histogram_count_at_most(h, bound),
                 (unsigned long long)want);
        }
    }
    ok(exact, "count_at_most exact at every 2^k - 1 bound");
    g_free(h);
}

typedef struct Writer {
    AioHistogram *h;
    int values;
} Writer;

static void *writer_main(void *opaque)
{
    Writer *w = opaque;
    int i;

    for (i = 0; i < w->values; i++) {
        aio_histogram_record(w->h, (uint64_t)i);
    }
    return NULL;
}

static void test_snapshot_during_record_is_consistent(void)
{
    Writer w = { .h = histogram_new(), .values = 200000 };
    AioHistogram *snap = histogram_new();
    bool consistent = true;
    uint64_t last = 0;
    pthread_t thread;

    pthread_create(&thread, NULL, writer_main, &w);
    do {
        aio_histogram_snapshot(w.h, snap);
        /* Monotonic, never beyond what the writer records, and p100
         * inside what was recorded so far. */
        if (snap->count < last || snap->count > (uint64_t)w.values ||
            (snap->count && aio_histogram_percentile(snap, 100) >=
                                (uint64_t)w.values)) {
            consistent = false;
        }
        last = snap->count;
    } while (last < (uint64_t)w.values);
    pthread_join(thread, NULL);
    ok(consistent, "snapshots taken during recording are consistent");
    g_free(w.h);
    g_free(snap);
}

int main(void)
{
    test_empty_reports_zero();
    test_small_values_are_exact();
    test_wide_sample_within_error_bound();
    test_mean_is_exact();
    test_huge_values_clamp_to_max();
    test_subtract_gives_the_interval();
    test_add_merges();
    test_count_at_power_of_two_bounds_exact();
    test_snapshot_during_record_is_consistent();
    return done_testing();
}
