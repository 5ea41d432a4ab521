/* HistogramSummary replies; see histogram-json.h. */
#include "histogram-json.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

JsonObject *histogram_summary_to_json(const AioHistogram *h)
{
    JsonObject *o = json_object_new();
    bool empty = h->count == 0;

    json_object_set_int_member(o, "count", (gint64)h->count);
    json_object_set_int_member(o, "min", empty ? 0 : (gint64)h->min);
    json_object_set_int_member(o, "p50", (gint64)aio_histogram_percentile(h, 50));
    json_object_set_int_member(o, "p90", (gint64)aio_histogram_percentile(h, 90));
    json_object_set_int_member(o, "p99", (gint64)aio_histogram_percentile(h, 99));
    json_object_set_int_member(o, "p999",
                               (gint64)aio_histogram_percentile(h, 99.9));
    json_object_set_int_member(o, "max", empty ? 0 : (gint64)h->max);
    return o;
}

const char *const context_histogram_names[] = {
    "wake-latency-ns", "iteration-ns", "io-batch", NULL
};

static const size_t context_histogram_offsets[] = {
    offsetof(AioContextHistograms, wake_latency_ns),
    offsetof(AioContextHistograms, iteration_ns),
    offsetof(AioContextHistograms, io_batch),
};

const AioHistogram *context_histogram_by_name(const AioContextHistograms *h,
                                              const char *member)
{
    for (size_t i = 0; context_histogram_names[i]; i++) {
        if (strcmp(context_histogram_names[i], member) == 0) {
            return (const AioHistogram *)((const char *)h +
                                          context_histogram_offsets[i]);
        }
    }
    return NULL;
}
