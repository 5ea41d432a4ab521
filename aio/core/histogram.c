/*
 * Log-linear histograms: bucket arithmetic, recording, percentiles.
 * The bucket layout and the thread rules are in aioctx/histogram.h.
 */
#include "aioctx/histogram.h"

#include <string.h>

#define SUB_COUNT (1u << AIO_HISTOGRAM_SUB_BITS)     /* buckets per octave */
#define EXACT_LIMIT (2u << AIO_HISTOGRAM_SUB_BITS)   /* values with a bucket each */
#define FIRST_OCTAVE (AIO_HISTOGRAM_SUB_BITS + 1)    /* log2(EXACT_LIMIT) */

/* Single writer, concurrent readers: relaxed atomic loads and stores, so
 * no read tears; no read-modify-write is needed with one writer. */
static inline uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void store(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static unsigned bucket_of(uint64_t value)
{
    unsigned octave, shift;

    if (value < EXACT_LIMIT) {
        return (unsigned)value;
    }
    octave = 63 - (unsigned)__builtin_clzll(value);
    if (octave >= AIO_HISTOGRAM_MAX_BITS) {
        return AIO_HISTOGRAM_BUCKETS - 1;
    }
    shift = octave - AIO_HISTOGRAM_SUB_BITS;
    return EXACT_LIMIT + (octave - FIRST_OCTAVE) * SUB_COUNT +
           (unsigned)((value >> shift) - SUB_COUNT);
}

/* [*lower, *lower + *width) is the range of values bucket @i holds. */
static void bucket_range(unsigned i, uint64_t *lower, uint64_t *width)
{
    unsigned j, octave, shift;

    if (i < EXACT_LIMIT) {
        *lower = i;
        *width = 1;
        return;
    }
    j = i - EXACT_LIMIT;
    octave = FIRST_OCTAVE + j / SUB_COUNT;
    shift = octave - AIO_HISTOGRAM_SUB_BITS;
    *lower = (uint64_t)(SUB_COUNT + j % SUB_COUNT) << shift;
    *width = (uint64_t)1 << shift;
}

static uint64_t bucket_midpoint(unsigned i)
{
    uint64_t lower, width;

    bucket_range(i, &lower, &width);
    return lower + width / 2;
}

void aio_histogram_init(AioHistogram *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

void aio_histogram_record(AioHistogram *h, uint64_t value)
{
    unsigned i = bucket_of(value);

    store(&h->buckets[i], load(&h->buckets[i]) + 1);
    store(&h->sum, load(&h->sum) + value);
    if (value < load(&h->min)) {
        store(&h->min, value);
    }
    if (value > load(&h->max)) {
        store(&h->max, value);
    }
    store(&h->count, load(&h->count) + 1);
}

void aio_histogram_snapshot(const AioHistogram *h, AioHistogram *out)
{
    uint64_t total = 0;
    unsigned i;

    out->sum = load(&h->sum);
    out->min = load(&h->min);
    out->max = load(&h->max);
    for (i = 0; i < AIO_HISTOGRAM_BUCKETS; i++) {
        out->buckets[i] = load(&h->buckets[i]);
        total += out->buckets[i];
    }
    out->count = total;
}

void aio_histogram_add(AioHistogram *dst, const AioHistogram *src)
{
    unsigned i;

    for (i = 0; i < AIO_HISTOGRAM_BUCKETS; i++) {
        dst->buckets[i] += src->buckets[i];
    }
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min) {
        dst->min = src->min;
    }
    if (src->max > dst->max) {
        dst->max = src->max;
    }
}

void aio_histogram_subtract(AioHistogram *out, const AioHistogram *newer,
                            const AioHistogram *older)
{
    uint64_t lower, width;
    int first = -1, last = -1;
    unsigned i;

    for (i = 0; i < AIO_HISTOGRAM_BUCKETS; i++) {
        uint64_t n = newer->buckets[i], o = older->buckets[i];

        out->buckets[i] = n > o ? n - o : 0;
        if (out->buckets[i]) {
            first = first < 0 ? (int)i : first;
            last = (int)i;
        }
    }
    out->count = newer->count > older->count ? newer->count - older->count : 0;
    out->sum = newer->sum - older->sum;
    if (first < 0) {
        out->min = UINT64_MAX;
        out->max = 0;
        return;
    }
    bucket_range((unsigned)first, &out->min, &width);
    bucket_range((unsigned)last, &lower, &width);
    out->max = lower + width - 1;
    if (out->max > newer->max) {
        out->max = newer->max;
    }
}

uint64_t aio_histogram_percentile(const AioHistogram *h, double percent)
{
    uint64_t total = 0, rank, seen = 0, value;
    double exact_rank;
    unsigned i;

    for (i = 0; i < AIO_HISTOGRAM_BUCKETS; i++) {
        total += h->buckets[i];
    }
    if (total == 0) {
        return 0;
    }
    percent = percent < 0 ? 0 : percent > 100 ? 100 : percent;
    /* The smallest rank r with r / total >= percent / 100, at least 1. */
    exact_rank = percent / 100.0 * (double)total;
    rank = (uint64_t)exact_rank;
    rank += (double)rank < exact_rank;
    rank = rank < 1 ? 1 : rank > total ? total : rank;
    if (rank == total && h->max) {
        return h->max;          /* the largest value is kept exactly */
    }
    for (i = 0; i < AIO_HISTOGRAM_BUCKETS - 1; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            break;
        }
    }
    value = bucket_midpoint(i);
    if (value < h->min) {
        value = h->min;
    }
    if (value > h->max) {
        value = h->max;
    }
    return value;
}

uint64_t aio_histogram_count_at_most(const AioHistogram *h, uint64_t value)
{
    uint64_t count = 0, lower, width;
    unsigned i;

    if (h->count && value >= h->max) {
        return h->count;     /* also covers values beyond the last bucket */
    }
    for (i = 0; i < AIO_HISTOGRAM_BUCKETS; i++) {
        bucket_range(i, &lower, &width);
        if (lower + width - 1 > value) {
            break;
        }
        count += h->buckets[i];
    }
    return count;
}

double aio_histogram_mean(const AioHistogram *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}
