/*
 * Hooks of the services a context creates on first use (thread pool, disk
 * engines): how they are torn down at finalize, how their counters reach
 * aio_context_get_stats() and how new pool sizes reach a running pool.
 * Kept here so the loop core (core/) includes no service header.
 */
#include "core/aio-internal.h"
#include "coroutine/coroutine-internal.h"
#include "services/disk-common.h"
#include "aioctx/thread-pool.h"

void aio_context_destroy_services(AioContext *ctx)
{
    /* Coroutines first, while the services they may use still work; the
     * end hook runs those the services' teardown woke. */
    aio_co_context_finalize_begin(ctx);
    /* Engines first: their completion callbacks may still use the pool
     * (linux-aio fsync); the pool's done callbacks never use the engines. */
    if (ctx->luring) {
        luring_cleanup(ctx->luring);
    }
    if (ctx->linux_aio) {
        laio_cleanup(ctx->linux_aio);
    }
    if (ctx->thread_pool) {
        ThreadPool *pool = ctx->thread_pool;
        thread_pool_free(pool);
        ctx->thread_pool = NULL;
    }
    aio_co_context_finalize_end(ctx);
}

static void add_disk_stats(AioStats *out, const AioDiskStats *d)
{
    out->io_submitted += d->submitted;
    out->io_submit_calls += d->submit_calls;
    out->io_in_flight += d->in_flight;
    out->io_completed += d->completed;
    out->io_errors += d->errors;
    out->io_requeues += d->requeues;
    if (d->max_batch > out->io_max_batch) {
        out->io_max_batch = d->max_batch;
    }
}

/* Any thread: the service pointers are published with release stores by
 * their creators in the home thread. */
void aio_context_fill_service_stats(AioContext *ctx, AioStats *out)
{
    ThreadPool *pool = __atomic_load_n(&ctx->thread_pool, __ATOMIC_ACQUIRE);
    LinuxAioState *laio = __atomic_load_n(&ctx->linux_aio, __ATOMIC_ACQUIRE);
    LuringState *luring = __atomic_load_n(&ctx->luring, __ATOMIC_ACQUIRE);

    if (pool) {
        ThreadPoolStats ps;
        thread_pool_get_stats(pool, &ps);
        out->pool_threads = ps.threads;
        out->pool_idle = ps.idle;
        out->pool_queued = ps.queued;
        out->pool_completed = ps.completed;
        out->pool_cancelled = ps.cancelled;
    }
    if (laio) {
        AioDiskStats d;
        laio_get_stats(laio, &d);
        add_disk_stats(out, &d);
    }
    if (luring) {
        AioDiskStats d;
        luring_get_stats(luring, &d);
        add_disk_stats(out, &d);
    }
}

void aio_context_apply_thread_pool_params(AioContext *ctx)
{
    if (ctx->params.thread_pool_min > 0 && !ctx->thread_pool) {
        aio_get_thread_pool(ctx);   /* starts thread-pool-min workers */
        return;
    }
    if (ctx->thread_pool) {
        thread_pool_update_params(ctx->thread_pool,
                                  ctx->params.thread_pool_min,
                                  ctx->params.thread_pool_max);
    }
}
