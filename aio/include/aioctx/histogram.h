/*
 * libaioctx: log-linear histograms of non-negative integers (nanoseconds,
 * bytes, batch sizes), in the manner of HdrHistogram.
 *
 * Values below 128 have a bucket each (exact).  Above, every power of two
 * [2^k, 2^(k+1)) is split into 64 equal buckets, so a bucket's width is at
 * most 1/64 of its lower bound and the value reported for a bucket (its
 * midpoint) is within 0.8% of every value recorded in it.  Values of
 * 2^44 and more (4.9 hours in nanoseconds) share the last bucket; min and
 * max are kept exactly, and reported percentiles are clamped to them.
 *
 * Thread rules: one writer thread at a time calls aio_histogram_record();
 * any thread may call aio_histogram_snapshot() concurrently (every field
 * is read and written with relaxed atomics, so a snapshot taken during a
 * record may miss that one value, never tear a counter).  The other
 * functions work on histograms no thread is writing (snapshots, or
 * before/after the writer runs).
 */
#ifndef AIOCTX_HISTOGRAM_H
#define AIOCTX_HISTOGRAM_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define AIO_HISTOGRAM_SUB_BITS 6   /* 64 buckets per power of two */
#define AIO_HISTOGRAM_MAX_BITS 44  /* values >= 2^44 share the last bucket */
#define AIO_HISTOGRAM_BUCKETS \
    ((2u << AIO_HISTOGRAM_SUB_BITS) + \
     (AIO_HISTOGRAM_MAX_BITS - AIO_HISTOGRAM_SUB_BITS - 1) * \
     (1u << AIO_HISTOGRAM_SUB_BITS))

typedef struct AioHistogram {
    uint64_t count;     /* values recorded */
    uint64_t sum;       /* their sum (wraps after 2^64) */
    uint64_t min;       /* smallest recorded; UINT64_MAX while empty */
    uint64_t max;       /* largest recorded; 0 while empty */
    uint64_t buckets[AIO_HISTOGRAM_BUCKETS];
} AioHistogram;

/* Empties @h. */
void aio_histogram_init(AioHistogram *h);

/* Adds one value.  One writer thread at a time; lock-free, no allocation. */
void aio_histogram_record(AioHistogram *h, uint64_t value);

/* Copies @h into @out; thread-safe against the writer.  @out->count is
 * the total of the copied buckets, so percentiles of a snapshot are
 * consistent even when a record ran concurrently. */
void aio_histogram_snapshot(const AioHistogram *h, AioHistogram *out);

/* @dst += @src (merging the values of two histograms). */
void aio_histogram_add(AioHistogram *dst, const AioHistogram *src);

/* @out = the values recorded between snapshot @older and snapshot @newer
 * of one histogram (an interval).  min and max of an interval are not
 * known exactly: @out gets the range of its non-empty buckets, clamped
 * to @newer's max. */
void aio_histogram_subtract(AioHistogram *out, const AioHistogram *newer,
                            const AioHistogram *older);

/* The value at or below which @percent (0..100) of the recorded values
 * lie: the midpoint of the bucket holding that rank, clamped to [min,
 * max]; exact below 128, within 0.8% above; the top rank (p100) is max
 * exactly.  0 for an empty histogram. */
uint64_t aio_histogram_percentile(const AioHistogram *h, double percent);

/* How many recorded values are <= @value.  Exact when @value < 128 or
 * @value + 1 is a power of two (bucket bounds); otherwise counts only
 * the buckets lying wholly at or below @value.  For exporting cumulative
 * buckets (Prometheus "le") at power-of-two bounds. */
uint64_t aio_histogram_count_at_most(const AioHistogram *h, uint64_t value);

/* The mean of the recorded values; 0 for an empty histogram. */
double aio_histogram_mean(const AioHistogram *h);

G_END_DECLS

#endif /* AIOCTX_HISTOGRAM_H */
