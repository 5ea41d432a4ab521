/*
 * The AioContext as a GSource: a GLib main loop drives it through prepare
 * (timeout, notify_me), check and dispatch.  Finalize is the context's end
 * of life, in context.c.
 */
#include "core/aio-internal.h"


static gboolean aio_ctx_prepare(GSource *source, gint *timeout)
{
    AioContext *ctx = (AioContext *)source;
    int64_t ns;

    atomic_fetch_or(&ctx->mailbox->notify_me, 1);
    /* The fetch_or (seq_cst) is ordered before reading BH flags below. */
    ctx->fdmon_ops->gsource_prepare(ctx);
    ns = aio_compute_timeout(ctx);
    if (ns < 0) {
        *timeout = -1;
    } else {
        /* Round up: waking before a timer's deadline is a wasted pass. */
        int64_t ms = (ns + 999999) / 1000000;
        *timeout = ms > G_MAXINT ? G_MAXINT : (gint)ms;
    }
    return *timeout == 0;
}

static gboolean aio_ctx_check(GSource *source)
{
    AioContext *ctx = (AioContext *)source;

    /* Finish computing the timeout before clearing the flag. */
    atomic_fetch_and_explicit(&ctx->mailbox->notify_me, ~1u, memory_order_release);
    aio_notify_accept(ctx);
    return aio_bh_scheduled(ctx) || ctx->fdmon_ops->gsource_check(ctx) ||
           aio_timerlists_deadline_ns(ctx) == 0;
}

static gboolean aio_ctx_dispatch(GSource *source, GSourceFunc callback,
                                 gpointer user_data)
{
    AioContext *ctx = (AioContext *)source;
    AioHandlerList ready_list = LIST_HEAD_INITIALIZER(ready_list);

    ctx->walking_handlers++;
    ctx->fdmon_ops->gsource_dispatch(ctx, &ready_list);
    aio_dispatch_ready(ctx, &ready_list);
    return G_SOURCE_CONTINUE;
}

GSourceFuncs aio_source_funcs = {
    .prepare = aio_ctx_prepare,
    .check = aio_ctx_check,
    .dispatch = aio_ctx_dispatch,
    .finalize = aio_context_finalize,
};

GSource *aio_get_g_source(AioContext *ctx)
{
    g_source_ref(&ctx->source);
    return &ctx->source;
}
