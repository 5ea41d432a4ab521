/*
 * The QMP form of a histogram: schema struct HistogramSummary (count, min,
 * p50, p90, p99, p999, max).  One function, so every reply that holds a
 * distribution (iothread stats, workloads) spells it the same way.
 * Any thread; @h is a snapshot nobody writes (aio_histogram_snapshot()).
 */
#ifndef DAEMON_HISTOGRAM_JSON_H
#define DAEMON_HISTOGRAM_JSON_H

#include "aioctx/histogram.h"

#include <json-glib/json-glib.h>

JsonObject *histogram_summary_to_json(const AioHistogram *h);

#endif /* DAEMON_HISTOGRAM_JSON_H */
