/* HistogramSummary replies; see histogram-json.h. */
#include "histogram-json.h"

#include <stdbool.h>

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
