/*
 * Hooks of the services a context creates on first use (thread pool, disk
 * engines): how they are torn down at finalize and how their counters reach
 * aio_context_get_stats().  Kept here so async.c knows no service.
 */
#include "aio-internal.h"

void aio_context_destroy_services(AioContext *ctx)
{
    (void)ctx;      /* no service attached yet: issue 4 adds them here */
}

void aio_context_fill_service_stats(AioContext *ctx, AioStats *out)
{
    (void)ctx;
    (void)out;
}

void aio_context_apply_thread_pool_params(AioContext *ctx)
{
    (void)ctx;      /* no pool yet: issue 4 calls thread_pool_update_params */
}
