/*
 * aio_context_get_stats(): the loop's single-writer counters read
 * lock-free from any thread, busy time computed at read time, then the
 * attached services' counters.
 */
#include "core/aio-internal.h"

#include <string.h>
#include <time.h>


#define LOAD(field) atomic_load_explicit(&ctx->stats.field, memory_order_relaxed)

void aio_context_get_stats(AioContext *ctx, AioStats *out)
{
    int64_t start = atomic_load_explicit(&ctx->loop_start_ns,
                                         memory_order_relaxed);

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
    out->polling_ns = LOAD(polling_ns);
    out->blocked_ns = LOAD(blocked_ns);
    out->fd_handlers = LOAD(fd_handlers);
    /* Busy = wall time since the loop first ran, less waiting: computed
     * here so the loop never reads a clock just for accounting. */
    if (start) {
        int64_t now = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
        int64_t elapsed = now - start;
        int64_t waiting = atomic_load_explicit(&ctx->wait_start_ns,
                                               memory_order_relaxed);
        int64_t idle;

        /* A wait still in progress counts as blocked already. */
        if (waiting && now > waiting) {
            out->blocked_ns += (uint64_t)(now - waiting);
        }
        idle = (int64_t)(out->blocked_ns + out->polling_ns);

        out->busy_ns = elapsed > idle ? (uint64_t)(elapsed - idle) : 0;
    }
    if (atomic_load(&ctx->home_cpu_clock_valid)) {
        struct timespec ts;

        if (clock_gettime(ctx->home_cpu_clock, &ts) == 0) {
            out->thread_cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
        }
    }
    out->fdmon = aio_context_fdmon_name(ctx);
    aio_context_fill_service_stats(ctx, out);
}
