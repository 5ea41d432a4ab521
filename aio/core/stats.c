/*
 * Statistics: the loop's single-writer counters read lock-free from any
 * thread; the time account (busy / polling / blocked adding up to the
 * wall time, under a sequence lock: AioLoopTime in aio-internal.h); the
 * histograms (wake latency, busy time per pass, disk batch sizes) and
 * the effective poll windows; then the attached services' counters.
 */
#include "core/aio-internal.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#define LOAD(field) atomic_load_explicit(&ctx->stats.field, memory_order_relaxed)

/* Poll windows published at most this many handlers deep (the median of
 * a larger set is taken over the first ones). */
#define POLL_WINDOWS_MAX 64

void aio_context_init_stats(AioContext *ctx)
{
    aio_histogram_init(&ctx->histograms.wake_latency_ns);
    aio_histogram_init(&ctx->histograms.iteration_ns);
    aio_histogram_init(&ctx->histograms.io_batch);
}

/* ---------------------------------------------------------------------- */
/* Writer side: the home thread                                            */

/* Sequence lock, one writer: odd while the fields change.  The odd seq
 * is a full barrier (a locked RMW), so it is visible to every reader
 * before the writer reads the clock that stamps the change: a reader
 * that saw the old, even seq after reading its own clock read that clock
 * earlier, and never extends the old phase past the change. */
static void time_write_begin(AioLoopTime *t)
{
    atomic_fetch_add_explicit(&t->seq, 1, memory_order_seq_cst);
}

static void time_write_end(AioLoopTime *t)
{
    uint32_t seq = atomic_load_explicit(&t->seq, memory_order_relaxed);

    atomic_store_explicit(&t->seq, seq + 1, memory_order_release);
}

/* The wait that ends at @now was woken by a notify stamped during it:
 * record notify -> wait end.  A stamp older than the wait belongs to a
 * notifier that raced with the previous wait's end: dropped. */
static void record_wake_latency(AioContext *ctx, int64_t wait_start,
                                int64_t now)
{
    int64_t stamp = atomic_load_explicit(&ctx->mailbox->notify_ns,
                                         memory_order_relaxed);

    if (!stamp) {
        return;
    }
    atomic_store_explicit(&ctx->mailbox->notify_ns, 0, memory_order_relaxed);
    if (stamp >= wait_start) {
        aio_histogram_record(&ctx->histograms.wake_latency_ns,
                             now > stamp ? (uint64_t)(now - stamp) : 0);
    }
}

int64_t aio_loop_enter_phase(AioContext *ctx, AioLoopPhase phase)
{
    AioLoopTime *t = &ctx->time;
    AioLoopPhase old = atomic_load_explicit(&t->phase, memory_order_relaxed);
    int64_t since, now;

    if (phase == old) {
        return 0;
    }
    time_write_begin(t);
    now = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    since = atomic_load_explicit(&t->phase_start_ns, memory_order_relaxed);
    if (old == AIO_PHASE_POLLING) {
        AIO_STAT_ADD(ctx, polling_ns, now - since);
    } else if (old == AIO_PHASE_BLOCKED) {
        AIO_STAT_ADD(ctx, blocked_ns, now - since);
    }
    atomic_store_explicit(&t->phase, phase, memory_order_relaxed);
    atomic_store_explicit(&ctx->mailbox->waiting, phase != AIO_PHASE_BUSY,
                          memory_order_relaxed);
    atomic_store_explicit(&t->phase_start_ns, now, memory_order_relaxed);
    time_write_end(t);
    if (phase == AIO_PHASE_BUSY) {
        /* The wake latency is recorded at the next wait_begin: reading
         * the notifier's stamp here would stall the dispatch that the
         * notifier waits for on the line it is still writing. */
        t->busy_since_ns = now;
    }
    return now;
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Min, median and max of the handlers' polling times, for other threads
 * (AioStats); recomputed only after a change. */
static void publish_poll_windows(AioContext *ctx)
{
    int64_t ns[POLL_WINDOWS_MAX];
    size_t n = 0;
    AioHandler *node;

    LIST_FOREACH(node, &ctx->poll_aio_handlers, node_poll) {
        if (n < POLL_WINDOWS_MAX) {
            ns[n++] = node->poll.ns;
        }
    }
    qsort(ns, n, sizeof(ns[0]), cmp_int64);
    AIO_STAT_SET(ctx, poll_window_min_ns, n ? ns[0] : 0);
    AIO_STAT_SET(ctx, poll_window_median_ns, n ? ns[(n - 1) / 2] : 0);
    AIO_STAT_SET(ctx, poll_window_max_ns, n ? ns[n - 1] : 0);
    ctx->poll_windows_dirty = false;
}

void aio_loop_wait_begin(AioContext *ctx, int64_t now)
{
    AioLoopTime *t = &ctx->time;

    if (t->busy_since_ns) {
        record_wake_latency(ctx, t->wait_start_ns, t->busy_since_ns);
        aio_histogram_record(&ctx->histograms.iteration_ns,
                             now > t->busy_since_ns
                             ? (uint64_t)(now - t->busy_since_ns) : 0);
        t->busy_since_ns = 0;
    }
    t->wait_start_ns = now;
    /* A stamp left by a notifier that lost the race with the last wait's
     * end would be taken for this wait's. */
    atomic_store_explicit(&ctx->mailbox->notify_ns, 0, memory_order_relaxed);
    if (ctx->poll_windows_dirty) {
        publish_poll_windows(ctx);
    }
}

void aio_context_record_io_batch(AioContext *ctx, uint64_t n)
{
    aio_histogram_record(&ctx->histograms.io_batch, n);
}

/* ---------------------------------------------------------------------- */
/* Any thread                                                              */

int64_t aio_loop_notify_stamp(AioContext *ctx)
{
    int64_t expected = 0, now;

    if (atomic_load_explicit(&ctx->mailbox->notify_ns, memory_order_relaxed)) {
        return 0;   /* an earlier notify of this wait is the wake-up */
    }
    now = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    atomic_compare_exchange_strong_explicit(
        &ctx->mailbox->notify_ns, &expected, now,
        memory_order_relaxed, memory_order_relaxed);
    return now;
}

/* polling_ns, blocked_ns and wall_ns at one instant (see AioLoopTime),
 * the phase in progress counted up to it; busy_ns is the rest. */
static void read_time(AioContext *ctx, AioStats *out)
{
    AioLoopTime *t = &ctx->time;
    uint32_t seq;
    int64_t start, since, now;
    uint64_t idle;
    AioLoopPhase phase;

    for (unsigned tries = 0;; tries++) {
        seq = atomic_load_explicit(&t->seq, memory_order_acquire);
        if (seq & 1) {
            if (tries > 100) {
                sched_yield();  /* the writer was preempted mid-switch */
            }
            continue;
        }
        start = atomic_load_explicit(&ctx->loop_start_ns, memory_order_relaxed);
        out->polling_ns = LOAD(polling_ns);
        out->blocked_ns = LOAD(blocked_ns);
        phase = atomic_load_explicit(&t->phase, memory_order_relaxed);
        since = atomic_load_explicit(&t->phase_start_ns, memory_order_relaxed);
        now = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
        /* seq checked again after the clock read: a locked RMW that
         * leaves it unchanged orders it after everything before (a
         * fence would do, but ThreadSanitizer does not model fences). */
        if (atomic_fetch_add_explicit(&t->seq, 0, memory_order_seq_cst) ==
            seq) {
            break;
        }
    }
    if (!start) {
        return;     /* the loop never ran: all 0 */
    }
    if (phase != AIO_PHASE_BUSY && now > since) {
        *(phase == AIO_PHASE_POLLING ? &out->polling_ns : &out->blocked_ns) +=
            (uint64_t)(now - since);
    }
    out->wall_ns = now > start ? (uint64_t)(now - start) : 0;
    /* Every phase began after the loop started, so idle <= wall; the
     * clamp only guards against a clock that went backwards. */
    idle = out->polling_ns + out->blocked_ns;
    out->busy_ns = out->wall_ns > idle ? out->wall_ns - idle : 0;
}

static void read_thread_cpu(AioContext *ctx, AioStats *out)
{
    struct timespec ts;

    if (atomic_load(&ctx->home_cpu_clock_valid) &&
        clock_gettime(ctx->home_cpu_clock, &ts) == 0) {
        out->thread_cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
    }
}

void aio_context_get_stats(AioContext *ctx, AioStats *out)
{
    memset(out, 0, sizeof(*out));
    out->iterations = LOAD(iterations);
    out->blocking_waits = LOAD(blocking_waits);
    out->notify_wakeups = LOAD(notify_wakeups);
    out->bh_calls = LOAD(bh_calls);
    out->timer_calls = LOAD(timer_calls);
    out->fd_dispatches = LOAD(fd_dispatches);
    out->poll_attempts = LOAD(poll_attempts);
    out->poll_hits = LOAD(poll_hits);
    out->poll_misses = LOAD(poll_misses);
    out->poll_grows = LOAD(poll_grows);
    out->poll_shrinks = LOAD(poll_shrinks);
    out->poll_ns_current = LOAD(poll_ns_current);
    out->poll_window_min_ns = LOAD(poll_window_min_ns);
    out->poll_window_median_ns = LOAD(poll_window_median_ns);
    out->poll_window_max_ns = LOAD(poll_window_max_ns);
    out->fd_handlers = LOAD(fd_handlers);
    read_time(ctx, out);
    read_thread_cpu(ctx, out);
    out->fdmon = aio_context_fdmon_name(ctx);
    aio_context_fill_service_stats(ctx, out);
}

void aio_context_get_histograms(AioContext *ctx, AioContextHistograms *out)
{
    aio_histogram_snapshot(&ctx->histograms.wake_latency_ns,
                           &out->wake_latency_ns);
    aio_histogram_snapshot(&ctx->histograms.iteration_ns, &out->iteration_ns);
    aio_histogram_snapshot(&ctx->histograms.io_batch, &out->io_batch);
}
