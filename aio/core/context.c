/*
 * AioContext lifetime: creation (choosing the fdmon),
 * references, the current context of a thread, and finalize (services,
 * BHs, handlers, fdmon, in that order).  BHs are in bh.c, notify in
 * notify.c, the GSource glue in gsource.c, statistics in stats.c,
 * parameters in params.c; the loop itself (aio_poll, fd handlers,
 * adaptive polling) is in aio-posix.c.
 */
#include "core/aio-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK(aio-error-quark, aio_error)

static __thread AioContext *current_context;

/* GSource finalize: the last reference is gone. */
void aio_context_finalize(GSource *source)
{
    AioContext *ctx = (AioContext *)source;

    aio_context_destroy_services(ctx);
    aio_bh_context_finalize(ctx);

    aio_set_event_notifier(ctx, &ctx->notifier, NULL, NULL, NULL);
    /* Handlers their owners never removed: forget them. */
    while (!LIST_EMPTY(&ctx->aio_handlers)) {
        aio_set_fd_handler(ctx, LIST_FIRST(&ctx->aio_handlers)->pfd.fd,
                           NULL, NULL, NULL, NULL, NULL);
    }
    ctx->fdmon_ops->destroy(ctx);
    aio_free_deleted_handlers(ctx);
    event_notifier_cleanup(&ctx->notifier);
    pthread_mutex_destroy(&ctx->bh_registry_lock);
    aio_call_state_destroy(&ctx->calls);
    g_aligned_free(ctx->mailbox);
    if (current_context == ctx) {
        current_context = NULL;
    }
}

static AioFdmonKind fdmon_kind_from_env(void)
{
    const char *env = g_getenv("AIO_FDMON");

    if (!env || !*env) {
        return AIO_FDMON_AUTO;
    }
    if (!strcmp(env, "poll")) {
        return AIO_FDMON_POLL;
    }
    if (!strcmp(env, "epoll")) {
        return AIO_FDMON_EPOLL;
    }
    if (!strcmp(env, "io_uring")) {
        return AIO_FDMON_IO_URING;
    }
    g_warning("AIO_FDMON=%s is not one of poll, epoll, io_uring; ignored", env);
    return AIO_FDMON_AUTO;
}

void aio_context_set_fdmon(AioContext *ctx, const FDMonOps *ops)
{
    ctx->fdmon_ops = ops;
    atomic_store_explicit(&ctx->fdmon_name, ops->name, memory_order_release);
}

/* Try the wanted fdmon, then the ones below it; poll cannot fail. */
static void aio_context_choose_fdmon(AioContext *ctx, AioFdmonKind kind)
{
    static const FDMonOps *const order[] = {
        &fdmon_io_uring_ops, &fdmon_epoll_ops, &fdmon_poll_ops,
    };
    size_t first = 0;

    switch (kind) {
    case AIO_FDMON_AUTO:
    case AIO_FDMON_IO_URING:
        first = 0;
        break;
    case AIO_FDMON_EPOLL:
        first = 1;
        break;
    case AIO_FDMON_POLL:
        first = 2;
        break;
    }
    for (size_t i = first; i < G_N_ELEMENTS(order); i++) {
        g_autoptr(GError) err = NULL;

        if (order[i]->init(ctx, &err)) {
            aio_context_set_fdmon(ctx, order[i]);
            return;
        }
        g_info("aio: %s fd monitoring unavailable (%s); falling back",
               order[i]->name, err ? err->message : "no reason given");
    }
    g_assert_not_reached();     /* fdmon_poll_ops.init always succeeds */
}

AioContext *aio_context_new_full(AioFdmonKind fdmon, GError **error)
{
    AioContext *ctx;
    int ret;

    ctx = (AioContext *)g_source_new(&aio_source_funcs, sizeof(AioContext));
    ctx->mailbox = g_aligned_alloc0(1, sizeof(AioMailbox),
                                    _Alignof(AioMailbox));
    g_source_set_name(&ctx->source, "aio-context");
    g_source_set_can_recurse(&ctx->source, true);
    LIST_INIT(&ctx->aio_handlers);
    LIST_INIT(&ctx->deleted_aio_handlers);
    LIST_INIT(&ctx->poll_aio_handlers);
    STAILQ_INIT(&ctx->bh_slice_list);
    LIST_INIT(&ctx->bh_registry);
    pthread_mutex_init(&ctx->bh_registry_lock, NULL);
    for (int i = 0; i < AIO_CLOCK_MAX; i++) {
        ctx->tlg[i].ctx = ctx;
        ctx->tlg[i].clock = i;
    }
    aio_call_state_init(&ctx->calls);
    aio_context_init_params(ctx);
    aio_context_init_stats(ctx);

    ret = event_notifier_init(&ctx->notifier, false);
    if (ret < 0) {
        g_set_error(error, AIO_ERROR, AIO_ERROR_FAILED,
                    "cannot create the context's eventfd: %s", g_strerror(-ret));
        /* finalize must not run on a half-built context */
        ctx->fdmon_ops = &fdmon_poll_ops;
        fdmon_poll_ops.init(ctx, NULL);
        g_source_unref(&ctx->source);
        return NULL;
    }

    ctx->fdmon_forced = fdmon != AIO_FDMON_AUTO ? fdmon : fdmon_kind_from_env();
    aio_context_choose_fdmon(ctx, ctx->fdmon_forced);
    aio_context_notifier_install(ctx);
    return ctx;
}

AioContext *aio_context_new(GError **error)
{
    return aio_context_new_full(AIO_FDMON_AUTO, error);
}

void aio_context_ref(AioContext *ctx)
{
    g_source_ref(&ctx->source);
}

void aio_context_unref(AioContext *ctx)
{
    g_source_unref(&ctx->source);
}

const char *aio_context_fdmon_name(AioContext *ctx)
{
    return atomic_load_explicit(&ctx->fdmon_name, memory_order_acquire);
}

AioContext *aio_get_current_context(void)
{
    return current_context;
}

void aio_set_current_context(AioContext *ctx)
{
    current_context = ctx;
    if (ctx && pthread_getcpuclockid(pthread_self(), &ctx->home_cpu_clock) == 0) {
        atomic_store(&ctx->home_cpu_clock_valid, true);
    }
}
