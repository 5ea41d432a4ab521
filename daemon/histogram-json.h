/*
 * The QMP form of a histogram: schema struct HistogramSummary (count, min,
 * p50, p90, p99, p999, max).  One function, so every reply that holds a
 * distribution (iothread stats, workloads) spells it the same way.
 * Any thread; @h is a snapshot nobody writes (aio_histogram_snapshot()).
 */
#ifndef DAEMON_HISTOGRAM_JSON_H
#define DAEMON_HISTOGRAM_JSON_H

#include "aioctx/aio.h"
#include "aioctx/histogram.h"

#include <json-glib/json-glib.h>

JsonObject *histogram_summary_to_json(const AioHistogram *h);

/* The distribution members of query-iothread-stats' AioContextStats
 * ("wake-latency-ns", "iteration-ns", "io-batch"), NULL-terminated, and
 * the AioContextHistograms field each one reports: the one map the stats
 * reply and /metrics share. */
extern const char *const context_histogram_names[];
const AioHistogram *context_histogram_by_name(const AioContextHistograms *h,
                                              const char *member);

#endif /* DAEMON_HISTOGRAM_JSON_H */
