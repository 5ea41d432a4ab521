/*
 * test-metrics-text: the exposition text of daemon/metrics.c for
 * synthetic histograms: cumulative buckets exact at le = 2^k - 1, +Inf,
 * _sum and _count from the histogram; a name with the word "ns" is
 * written in seconds (exact decimals); family headers escape HELP.
 */
#include <string.h>

#include "metrics.h"
#include "tap.h"

/* The histogram of @values (@n of them). */
static AioHistogram *histogram_of(const uint64_t *values, size_t n)
{
    AioHistogram *h = g_new(AioHistogram, 1);

    aio_histogram_init(h);
    for (size_t i = 0; i < n; i++) {
        aio_histogram_record(h, values[i]);
    }
    return h;
}

/* Whether @text holds line @line. */
static bool has_line(const char *text, const char *line)
{
    g_autofree char *needle = g_strdup_printf("\n%s\n", line);
    g_autofree char *framed = g_strdup_printf("\n%s", text);

    return strstr(framed, needle) != NULL;
}

static void test_buckets_are_cumulative_counts(void)
{
    static const uint64_t values[] = { 0, 1, 5, 1000, 1023, 1024, 5000 };
    AioHistogram *h = histogram_of(values, G_N_ELEMENTS(values));
    GString *out = g_string_new(NULL);
    static const char *const want[] = {
        "iothreadd_io_batch_bucket{iothread=\"io0\",le=\"0\"} 1",
        "iothreadd_io_batch_bucket{iothread=\"io0\",le=\"1\"} 2",
        "iothreadd_io_batch_bucket{iothread=\"io0\",le=\"3\"} 2",
        "iothreadd_io_batch_bucket{iothread=\"io0\",le=\"7\"} 3",
        "iothreadd_io_batch_bucket{iothread=\"io0\",le=\"511\"} 3",
        "iothreadd_io_batch_bucket{iothread=\"io0\",le=\"1023\"} 5",
        "iothreadd_io_batch_bucket{iothread=\"io0\",le=\"2047\"} 6",
        "iothreadd_io_batch_bucket{iothread=\"io0\",le=\"4095\"} 6",
        "iothreadd_io_batch_bucket{iothread=\"io0\",le=\"8191\"} 7",
        "iothreadd_io_batch_bucket{iothread=\"io0\",le=\"+Inf\"} 7",
    };
    bool all = true;

    metrics_write_histogram(out, "io-batch", "iothread=\"io0\"", h);
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        if (!has_line(out->str, want[i])) {
            diag("missing: %s", want[i]);
            all = false;
        }
    }
    ok(all, "buckets count the values <= 2^k - 1, +Inf counts all");
    g_string_free(out, TRUE);
    g_free(h);
}

static void test_sum_and_count_are_the_histograms(void)
{
    static const uint64_t values[] = { 3, 40, 700, 9000 };
    AioHistogram *h = histogram_of(values, G_N_ELEMENTS(values));
    GString *out = g_string_new(NULL);

    metrics_write_histogram(out, "io-batch", "iothread=\"io1\"", h);
    ok(has_line(out->str, "iothreadd_io_batch_sum{iothread=\"io1\"} 9743") &&
       has_line(out->str, "iothreadd_io_batch_count{iothread=\"io1\"} 4"),
       "_sum and _count are the histogram's sum and count");
    g_string_free(out, TRUE);
    g_free(h);
}

static void test_ns_name_is_written_in_seconds(void)
{
    static const uint64_t values[] = { 1500, 2500, 3000000001 };
    AioHistogram *h = histogram_of(values, G_N_ELEMENTS(values));
    GString *out = g_string_new(NULL);

    metrics_write_histogram(out, "wake-latency-ns", "", h);
    ok(has_line(out->str,
                "iothreadd_wake_latency_seconds_bucket{le=\"0.000002047\"} 1") &&
       has_line(out->str,
                "iothreadd_wake_latency_seconds_bucket{le=\"0\"} 0") &&
       has_line(out->str,
                "iothreadd_wake_latency_seconds_sum{} 3.000004001"),
       "a name with the word ns is written in seconds, exactly");
    g_string_free(out, TRUE);
    g_free(h);
}

static void test_family_header_escapes_help(void)
{
    GString *out = g_string_new(NULL);

    metrics_write_family(out, "pool-threads", "gauge", "a\\b\nc");
    ok(!strcmp(out->str, "# HELP iothreadd_pool_threads a\\\\b\\nc\n"
                         "# TYPE iothreadd_pool_threads gauge\n"),
       "a family header names the metric, escapes HELP and gives the type");
    g_string_free(out, TRUE);
}

int main(void)
{
    test_buckets_are_cumulative_counts();
    test_sum_and_count_are_the_histograms();
    test_ns_name_is_written_in_seconds();
    test_family_header_escapes_help();
    return done_testing();
}
