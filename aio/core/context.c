/*
 * AioContext lifetime, bottom halves, aio_notify, the GSource glue and
 * statistics.  Parameters are in params.c.  The loop itself (aio_poll, fd handlers,
 * adaptive polling) is in aio-posix.c.
 *
 * Bottom halves follow QEMU's util/async.c design: a BH is queued at most
 * once, by whichever thread first sets BH_PENDING in its flags; the queue is
 * a lock-free stack that aio_bh_poll() takes whole into a "slice", so BHs
 * scheduled while a slice runs wait for the next aio_bh_poll(), and nested
 * aio_bh_poll() calls finish the slices of the outer ones.
 */
#include "core/aio-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK(aio-error-quark, aio_error)

enum {
    BH_PENDING   = 1 << 0,  /* on a list, waiting for aio_bh_poll() */
    BH_SCHEDULED = 1 << 1,  /* run the callback */
    BH_DELETED   = 1 << 2,  /* free without running */
    BH_ONESHOT   = 1 << 3,  /* free after running */
    BH_IDLE      = 1 << 4,  /* scheduled without waking the loop */
};

/* An idle BH waits at most this long for a loop iteration. */
#define IDLE_BH_TIMEOUT_NS (10 * 1000 * 1000)

struct AioBH {
    AioContext *ctx;
    const char *name;
    AioBHFunc *cb;
    void *opaque;
    AioBH *next;                    /* the pending stack or a slice */
    LIST_ENTRY(AioBH) registered;   /* ctx->bh_registry (not oneshots) */
    _Atomic unsigned flags;
};

static __thread AioContext *current_context;

/* ---------------------------------------------------------------------- */
/* Bottom halves                                                           */

/* Thread-safe. */
static void aio_bh_enqueue(AioBH *bh, unsigned new_flags)
{
    /* Load ctx first: once the BH is pending, the loop may run and free it. */
    AioContext *ctx = bh->ctx;
    unsigned old_flags;

    /* seq_cst: the callback's data and new_flags are written before the BH
     * becomes visible; pairs with the fetch_and in aio_bh_poll(). */
    old_flags = atomic_fetch_or(&bh->flags, BH_PENDING | new_flags);
    if (!(old_flags & BH_PENDING)) {
        AioBH *head = atomic_load_explicit(&ctx->bh_list, memory_order_relaxed);

        do {
            bh->next = head;
        /* seq_cst, like the exchange in aio_bh_poll(): together with the
         * seq_cst 'notified' accesses, a loop that cleared 'notified'
         * after we set it is guaranteed to see this push. */
        } while (!atomic_compare_exchange_weak(&ctx->bh_list, &head, bh));
    }
    if (!(new_flags & BH_IDLE)) {
        aio_notify(ctx);
    }
}

static AioBH *bh_alloc(AioContext *ctx, AioBHFunc *cb, void *opaque,
                       const char *name)
{
    AioBH *bh = g_new0(AioBH, 1);

    bh->ctx = ctx;
    bh->cb = cb;
    bh->opaque = opaque;
    bh->name = name;
    return bh;
}

AioBH *aio_bh_new_full(AioContext *ctx, AioBHFunc *cb, void *opaque,
                       const char *name)
{
    AioBH *bh = bh_alloc(ctx, cb, opaque, name);

    pthread_mutex_lock(&ctx->bh_registry_lock);
    LIST_INSERT_HEAD(&ctx->bh_registry, bh, registered);
    pthread_mutex_unlock(&ctx->bh_registry_lock);
    return bh;
}

void aio_bh_schedule_oneshot_full(AioContext *ctx, AioBHFunc *cb, void *opaque,
                                  const char *name)
{
    aio_bh_enqueue(bh_alloc(ctx, cb, opaque, name), BH_SCHEDULED | BH_ONESHOT);
}

void aio_bh_schedule(AioBH *bh)
{
    aio_bh_enqueue(bh, BH_SCHEDULED);
}

void aio_bh_schedule_idle(AioBH *bh)
{
    aio_bh_enqueue(bh, BH_SCHEDULED | BH_IDLE);
}

void aio_bh_cancel(AioBH *bh)
{
    atomic_fetch_and(&bh->flags, ~(unsigned)BH_SCHEDULED);
}

void aio_bh_delete(AioBH *bh)
{
    AioContext *ctx = bh->ctx;

    pthread_mutex_lock(&ctx->bh_registry_lock);
    LIST_REMOVE(bh, registered);
    pthread_mutex_unlock(&ctx->bh_registry_lock);
    /* The loop frees it: it may be on a slice right now. */
    aio_bh_enqueue(bh, BH_DELETED);
}

/* Home thread: take the next BH off a slice and clear its flags. */
static AioBH *bh_dequeue(AioBH **list, unsigned *flags)
{
    AioBH *bh = *list;

    if (bh) {
        *list = bh->next;
        /* seq_cst: pairs with aio_bh_enqueue; a scheduler that sees
         * BH_PENDING cleared re-queues the BH (and notifies). */
        *flags = atomic_fetch_and(&bh->flags,
                                  ~(unsigned)(BH_PENDING | BH_SCHEDULED | BH_IDLE));
    }
    return bh;
}

int aio_bh_poll(AioContext *ctx)
{
    BHListSlice slice;
    BHListSlice *s;
    int ret = 0;

    slice.bh_list = atomic_exchange(&ctx->bh_list, NULL);
    STAILQ_INSERT_TAIL(&ctx->bh_slice_list, &slice, next);

    while ((s = STAILQ_FIRST(&ctx->bh_slice_list))) {
        unsigned flags;
        AioBH *bh = bh_dequeue(&s->bh_list, &flags);

        if (!bh) {
            STAILQ_REMOVE_HEAD(&ctx->bh_slice_list, next);
            continue;
        }
        if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
            /* Idle BHs don't count as progress. */
            if (!(flags & BH_IDLE)) {
                ret++;
            }
            /* Counted before the call: a callback that answers someone
             * (e.g. a QMP reply) must not be seen ahead of its count. */
            AIO_STAT_ADD(ctx, bh_calls, 1);
            bh->cb(bh->opaque);
        }
        if (flags & (BH_DELETED | BH_ONESHOT)) {
            g_free(bh);
        }
    }
    return ret;
}

/* Reads flags of BHs other threads may be scheduling: atomics only.  Nodes
 * are freed only by this thread, so walking the stack is safe. */
static int64_t bh_list_timeout(AioBH *bh, int64_t timeout)
{
    for (; bh; bh = bh->next) {
        unsigned flags = atomic_load_explicit(&bh->flags, memory_order_relaxed);

        if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
            if (!(flags & BH_IDLE)) {
                return 0;
            }
            timeout = IDLE_BH_TIMEOUT_NS;
        }
    }
    return timeout;
}

static int64_t soonest_timeout(int64_t a, int64_t b)
{
    /* -1 means infinite: compare as unsigned. */
    return (uint64_t)a < (uint64_t)b ? a : b;
}

int64_t aio_compute_timeout(AioContext *ctx)
{
    BHListSlice *s;
    int64_t timeout = -1;

    timeout = bh_list_timeout(atomic_load_explicit(&ctx->bh_list,
                                                   memory_order_acquire),
                              timeout);
    if (timeout == 0) {
        return 0;
    }
    STAILQ_FOREACH(s, &ctx->bh_slice_list, next) {
        timeout = bh_list_timeout(s->bh_list, timeout);
        if (timeout == 0) {
            return 0;
        }
    }
    return soonest_timeout(timeout, aio_timerlists_deadline_ns(ctx));
}

static bool bh_list_has_scheduled(AioBH *bh)
{
    for (; bh; bh = bh->next) {
        unsigned flags = atomic_load_explicit(&bh->flags, memory_order_relaxed);

        if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
            return true;
        }
    }
    return false;
}

/* Any BH (idle ones included) waiting to run? */
static bool bh_scheduled(AioContext *ctx)
{
    BHListSlice *s;

    if (bh_list_has_scheduled(atomic_load_explicit(&ctx->bh_list,
                                                   memory_order_acquire))) {
        return true;
    }
    STAILQ_FOREACH(s, &ctx->bh_slice_list, next) {
        if (bh_list_has_scheduled(s->bh_list)) {
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------------- */
/* Notification                                                            */

void aio_notify(AioContext *ctx)
{
    /* seq_cst store then seq_cst load: 'notified' is written before
     * notify_me is read; pairs with the increment in aio_poll() /
     * aio_ctx_prepare() that is written before they read 'notified' and
     * the BH flags. */
    atomic_store(&ctx->notified, true);
    if (atomic_load(&ctx->notify_me)) {
        event_notifier_set(&ctx->notifier);
    }
}

void aio_notify_accept(AioContext *ctx)
{
    /* seq_cst: cleared before the loop reads the BH flags, so a later
     * aio_notify() is seen by the next poll. */
    atomic_store(&ctx->notified, false);
}

static void aio_context_notifier_cb(EventNotifier *e)
{
    AioContext *ctx = container_of(e, AioContext, notifier);

    if (event_notifier_test_and_clear(e)) {
        AIO_STAT_ADD(ctx, notify_wakeups, 1);
    }
}

/* Busy-polling sees a cross-thread aio_notify() without a syscall. */
static bool aio_context_notifier_poll(void *opaque)
{
    EventNotifier *e = opaque;
    AioContext *ctx = container_of(e, AioContext, notifier);

    return atomic_load_explicit(&ctx->notified, memory_order_relaxed);
}

static void aio_context_notifier_poll_ready(EventNotifier *e)
{
    /* Nothing to do: aio_poll() runs the BHs that notified us. */
}

/* ---------------------------------------------------------------------- */
/* GSource glue                                                            */

static gboolean aio_ctx_prepare(GSource *source, gint *timeout)
{
    AioContext *ctx = (AioContext *)source;
    int64_t ns;

    atomic_fetch_or(&ctx->notify_me, 1);
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
    atomic_fetch_and_explicit(&ctx->notify_me, ~1u, memory_order_release);
    aio_notify_accept(ctx);
    return bh_scheduled(ctx) || ctx->fdmon_ops->gsource_check(ctx) ||
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

static void aio_ctx_finalize(GSource *source)
{
    AioContext *ctx = (AioContext *)source;
    AioBH *bh;

    aio_context_destroy_services(ctx);

    /* There must be no aio_bh_poll() in progress: drain what is queued. */
    g_assert(STAILQ_EMPTY(&ctx->bh_slice_list));
    bh = atomic_exchange(&ctx->bh_list, NULL);
    while (bh) {
        AioBH *next = bh->next;
        unsigned flags = atomic_load(&bh->flags);

        if (flags & (BH_DELETED | BH_ONESHOT)) {
            if ((flags & (BH_ONESHOT | BH_SCHEDULED | BH_DELETED)) ==
                (BH_ONESHOT | BH_SCHEDULED)) {
                g_critical("AioContext finalized with oneshot BH '%s' still "
                           "pending: it never ran", bh->name);
            }
            g_free(bh);
        }
        bh = next;
    }
    /* Every BH still registered was never deleted: a lifecycle bug of its
     * owner.  Name it, and free it since nobody can run it any more. */
    while ((bh = LIST_FIRST(&ctx->bh_registry))) {
        LIST_REMOVE(bh, registered);
        g_critical("AioContext finalized with BH '%s' never deleted", bh->name);
        g_free(bh);
    }

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
    if (current_context == ctx) {
        current_context = NULL;
    }
}

static GSourceFuncs aio_source_funcs = {
    .prepare = aio_ctx_prepare,
    .check = aio_ctx_check,
    .dispatch = aio_ctx_dispatch,
    .finalize = aio_ctx_finalize,
};

GSource *aio_get_g_source(AioContext *ctx)
{
    g_source_ref(&ctx->source);
    return &ctx->source;
}

/* ---------------------------------------------------------------------- */
/* Creation                                                                */

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
    atomic_store_explicit(&ctx->backend_name, ops->name, memory_order_release);
}

/* Try the wanted backend, then the ones below it; poll cannot fail. */
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
    aio_context_init_params(ctx);

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
    aio_set_event_notifier(ctx, &ctx->notifier, aio_context_notifier_cb,
                           aio_context_notifier_poll,
                           aio_context_notifier_poll_ready);
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

const char *aio_context_backend_name(AioContext *ctx)
{
    return atomic_load_explicit(&ctx->backend_name, memory_order_acquire);
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

/* ---------------------------------------------------------------------- */
/* Statistics                                                              */

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
    out->backend = aio_context_backend_name(ctx);
    aio_context_fill_service_stats(ctx, out);
}
