/*
 * IOThread: thread lifecycle, run loop, live property changes.  See
 * iothread.h for the contracts and the thread rules.
 *
 * Cross-thread synchronisation uses pthread mutexes/conds and C11 atomics
 * only (ThreadSanitizer cannot see GLib's GMutex/GCond).
 */
#include "iothread.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* How long deletion waits for pool jobs / disk I/O still in flight before
 * it gives up and lets the context's finalizer deal with them. */
#define IOTHREAD_DRAIN_LIMIT_NS (10LL * 1000 * 1000 * 1000)
#define IOTHREAD_DRAIN_STEP_NS  (1000 * 1000)

struct IOThread {
    char *id;
    AioContext *ctx;
    pthread_t thread;
    pid_t tid;                  /* written before `started` is published */

    /* Guards started, the sync-call `done` flags and gctx/gloop creation;
     * `cond` is broadcast whenever one of them changes. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started;

    /* Iothread only: set by the stop BH, read by the run loop. */
    bool stopping;

    /* Optional GLib loop, created on demand under `lock`. */
    GMainContext *gctx;
    GMainLoop *gloop;
    _Atomic bool run_gcontext;

    /* Owner thread only: the values in effect, as read back from the
     * context by the iothread after the last change. */
    IOThreadParams params;
};

/* ---------------------------------------------------------------------- */
/* Property table                                                          */

static const struct {
    IOThreadProp prop;
    const char *name;
} prop_names[] = {
    { IOTHREAD_PROP_POLL_MAX_NS,     "poll-max-ns" },
    { IOTHREAD_PROP_POLL_GROW,       "poll-grow" },
    { IOTHREAD_PROP_POLL_SHRINK,     "poll-shrink" },
    { IOTHREAD_PROP_AIO_MAX_BATCH,   "aio-max-batch" },
    { IOTHREAD_PROP_THREAD_POOL_MIN, "thread-pool-min" },
    { IOTHREAD_PROP_THREAD_POOL_MAX, "thread-pool-max" },
};

void iothread_params_init_default(IOThreadParams *p)
{
    *p = (IOThreadParams) {
        .poll_max_ns = IOTHREAD_DEFAULT_POLL_MAX_NS,
        .thread_pool_max = IOTHREAD_DEFAULT_THREAD_POOL_MAX,
    };
}

IOThreadProp iothread_prop_from_name(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(prop_names); i++) {
        if (strcmp(prop_names[i].name, name) == 0) {
            return prop_names[i].prop;
        }
    }
    return 0;
}

const char *iothread_prop_name(IOThreadProp prop)
{
    for (size_t i = 0; i < G_N_ELEMENTS(prop_names); i++) {
        if (prop_names[i].prop == prop) {
            return prop_names[i].name;
        }
    }
    return NULL;
}

static int64_t *params_field(IOThreadParams *p, IOThreadProp prop)
{
    switch (prop) {
    case IOTHREAD_PROP_POLL_MAX_NS:     return &p->poll_max_ns;
    case IOTHREAD_PROP_POLL_GROW:       return &p->poll_grow;
    case IOTHREAD_PROP_POLL_SHRINK:     return &p->poll_shrink;
    case IOTHREAD_PROP_AIO_MAX_BATCH:   return &p->aio_max_batch;
    case IOTHREAD_PROP_THREAD_POOL_MIN: return &p->thread_pool_min;
    case IOTHREAD_PROP_THREAD_POOL_MAX: return &p->thread_pool_max;
    }
    g_assert_not_reached();
}

int64_t iothread_params_get(const IOThreadParams *p, IOThreadProp prop)
{
    return *params_field((IOThreadParams *)p, prop);
}

void iothread_params_set(IOThreadParams *p, IOThreadProp prop, int64_t value)
{
    *params_field(p, prop) = value;
}

bool iothread_change_add(IOThreadParamChange *change, unsigned allowed_mask,
                         const char *name, int64_t value, GError **error)
{
    IOThreadProp prop = iothread_prop_from_name(name);

    if (!prop || !(prop & allowed_mask)) {
        g_set_error(error, AIO_ERROR, AIO_ERROR_INVALID,
                    "Property '%s' not found", name);
        return false;
    }
    change->mask |= prop;
    iothread_params_set(&change->values, prop, value);
    return true;
}

IOThreadParams iothread_params_merge(const IOThreadParams *base,
                                     const IOThreadParamChange *change)
{
    IOThreadParams out = *base;

    for (size_t i = 0; i < G_N_ELEMENTS(prop_names); i++) {
        IOThreadProp prop = prop_names[i].prop;
        if (change->mask & prop) {
            iothread_params_set(&out, prop,
                                iothread_params_get(&change->values, prop));
        }
    }
    return out;
}

bool iothread_params_validate(const IOThreadParams *p, GError **error)
{
    for (size_t i = 0; i < G_N_ELEMENTS(prop_names); i++) {
        IOThreadProp prop = prop_names[i].prop;
        int64_t v = iothread_params_get(p, prop);
        /* The same bounds as the schema's (qmp-schema.json), so the
         * command line and QMP accept the same values. */
        int64_t bound = prop == IOTHREAD_PROP_POLL_MAX_NS ? INT64_MAX :
                        (prop & (IOTHREAD_PROP_POLL_GROW |
                                 IOTHREAD_PROP_POLL_SHRINK))
                        ? IOTHREAD_PROP_MAX_FACTOR : IOTHREAD_PROP_MAX_SMALL;
        if (v < 0 || v > bound) {
            g_set_error(error, AIO_ERROR, AIO_ERROR_INVALID,
                        "Parameter '%s' must be in range [0, %" G_GINT64_FORMAT
                        "], got %" G_GINT64_FORMAT,
                        prop_names[i].name, bound, v);
            return false;
        }
    }
    if (p->thread_pool_max < 1) {
        g_set_error(error, AIO_ERROR, AIO_ERROR_INVALID,
                    "Parameter 'thread-pool-max' must be at least 1, got %"
                    G_GINT64_FORMAT, p->thread_pool_max);
        return false;
    }
    if (p->thread_pool_min > p->thread_pool_max) {
        g_set_error(error, AIO_ERROR, AIO_ERROR_INVALID,
                    "Parameter 'thread-pool-min' (%" G_GINT64_FORMAT
                    ") must not exceed 'thread-pool-max' (%" G_GINT64_FORMAT
                    ")", p->thread_pool_min, p->thread_pool_max);
        return false;
    }
    return true;
}

bool iothread_params_apply(AioContext *ctx, const IOThreadParams *p,
                           unsigned mask, GError **error)
{
    if ((mask & (IOTHREAD_PROP_POLL_MAX_NS | IOTHREAD_PROP_POLL_GROW |
                 IOTHREAD_PROP_POLL_SHRINK)) &&
        !aio_context_set_poll_params(ctx, p->poll_max_ns, p->poll_grow,
                                     p->poll_shrink, error)) {
        return false;
    }
    if ((mask & IOTHREAD_PROP_AIO_MAX_BATCH) &&
        !aio_context_set_aio_params(ctx, p->aio_max_batch, error)) {
        return false;
    }
    if ((mask & (IOTHREAD_PROP_THREAD_POOL_MIN |
                 IOTHREAD_PROP_THREAD_POOL_MAX)) &&
        !aio_context_set_thread_pool_params(ctx, p->thread_pool_min,
                                            p->thread_pool_max, error)) {
        return false;
    }
    return true;
}

void iothread_params_read(AioContext *ctx, IOThreadParams *p)
{
    aio_context_get_poll_params(ctx, &p->poll_max_ns, &p->poll_grow,
                                &p->poll_shrink);
    p->aio_max_batch = aio_context_get_aio_max_batch(ctx);
    aio_context_get_thread_pool_params(ctx, &p->thread_pool_min,
                                       &p->thread_pool_max);
}

/* ---------------------------------------------------------------------- */
/* The thread                                                              */

static pid_t current_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

static void drain_timer_cb(void *opaque)
{
    /* Only there to bound a blocking wait. */
}

/*
 * Called in the iothread after the stop BH: run what is already scheduled
 * and wait for work other threads do on the context's behalf (pool jobs,
 * disk I/O), whose completions must run here before the context goes.
 */
static void iothread_drain(IOThread *t)
{
    AioTimer *timer = aio_timer_new(t->ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                                    drain_timer_cb, NULL);
    int64_t deadline = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) +
                       IOTHREAD_DRAIN_LIMIT_NS;

    for (;;) {
        if (aio_poll(t->ctx, false)) {
            continue;
        }
        AioStats s;
        aio_context_get_stats(t->ctx, &s);
        bool pending = s.pool_queued > 0 || s.pool_threads > s.pool_idle ||
                       s.io_in_flight > 0;
        int64_t now = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
        if (!pending) {
            break;
        }
        if (now > deadline) {
            g_warning("iothread %s: work still in flight after %lld s; "
                      "leaving it to the context's finalizer", t->id,
                      IOTHREAD_DRAIN_LIMIT_NS / 1000000000LL);
            break;
        }
        /* A completion wakes us; the timer bounds the wait in case the
         * counters were read just before they dropped to zero. */
        aio_timer_mod_ns(timer, now + IOTHREAD_DRAIN_STEP_NS);
        aio_poll(t->ctx, true);
    }
    aio_timer_free(timer);
}

static void *iothread_run(void *opaque)
{
    IOThread *t = opaque;
    char name[16];

    /* The kernel keeps 15 characters of a thread name. */
    g_snprintf(name, sizeof(name), "IO %s", t->id);
    pthread_setname_np(pthread_self(), name);
    aio_set_current_context(t->ctx);

    pthread_mutex_lock(&t->lock);
    t->tid = current_tid();
    t->started = true;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);

    while (!t->stopping) {
        if (atomic_load(&t->run_gcontext)) {
            /* The AioContext is a GSource of gctx, so this loop drives
             * both; the stop BH quits it. */
            g_main_context_push_thread_default(t->gctx);
            g_main_loop_run(t->gloop);
            g_main_context_pop_thread_default(t->gctx);
        } else {
            aio_poll(t->ctx, true);
        }
    }
    iothread_drain(t);
    aio_set_current_context(NULL);
    return NULL;
}

static void iothread_stop_bh(void *opaque)
{
    IOThread *t = opaque;
    GMainLoop *gloop;

    t->stopping = true;
    pthread_mutex_lock(&t->lock);
    gloop = t->gloop;
    pthread_mutex_unlock(&t->lock);
    if (gloop) {
        g_main_loop_quit(gloop);
    }
}

IOThread *iothread_new(const char *id, const IOThreadParams *params,
                       GError **error)
{
    IOThreadParams defaults;
    sigset_t all, old;
    int err;

    if (!params) {
        iothread_params_init_default(&defaults);
        params = &defaults;
    }
    if (!iothread_params_validate(params, error)) {
        return NULL;
    }

    IOThread *t = g_new0(IOThread, 1);
    t->id = g_strdup(id);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    t->ctx = aio_context_new(error);
    if (!t->ctx) {
        goto fail;
    }
    /* The loop does not run yet, so the owner may configure it. */
    if (!iothread_params_apply(t->ctx, params, IOTHREAD_PROP_ALL, error)) {
        goto fail;
    }
    iothread_params_read(t->ctx, &t->params);

    /* Signals belong to the main thread (signalfd there): the iothread
     * starts with everything blocked. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&t->thread, NULL, iothread_run, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        g_set_error(error, AIO_ERROR, AIO_ERROR_FAILED,
                    "Cannot start thread for iothread '%s': %s", id,
                    g_strerror(err));
        goto fail;
    }

    pthread_mutex_lock(&t->lock);
    while (!t->started) {
        pthread_cond_wait(&t->cond, &t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return t;

fail:
    if (t->ctx) {
        aio_context_unref(t->ctx);
    }
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    g_free(t->id);
    g_free(t);
    return NULL;
}

void iothread_free(IOThread *t)
{
    if (!t) {
        return;
    }
    g_assert(aio_get_current_context() != t->ctx);
    aio_bh_schedule_oneshot(t->ctx, iothread_stop_bh, t);
    pthread_join(t->thread, NULL);

    if (t->gctx) {
        g_main_loop_unref(t->gloop);
        g_main_context_unref(t->gctx);
    }
    aio_context_unref(t->ctx);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    g_free(t->id);
    g_free(t);
}

const char *iothread_get_id(const IOThread *t)
{
    return t->id;
}

pid_t iothread_get_thread_id(const IOThread *t)
{
    return t->tid;
}

AioContext *iothread_get_aio_context(IOThread *t)
{
    return t->ctx;
}

GMainContext *iothread_get_g_main_context(IOThread *t)
{
    pthread_mutex_lock(&t->lock);
    if (!t->gctx) {
        GSource *source = aio_get_g_source(t->ctx);
        t->gctx = g_main_context_new();
        g_source_attach(source, t->gctx);
        g_source_unref(source);
        t->gloop = g_main_loop_new(t->gctx, FALSE);
        atomic_store(&t->run_gcontext, true);
    }
    pthread_mutex_unlock(&t->lock);
    /* Leave the blocking aio_poll so the loop switches to gctx. */
    aio_notify(t->ctx);
    return t->gctx;
}

void iothread_get_params(const IOThread *t, IOThreadParams *out)
{
    *out = t->params;
}

void iothread_get_stats(IOThread *t, AioStats *out)
{
    aio_context_get_stats(t->ctx, out);
}

/* ---------------------------------------------------------------------- */
/* Calls into the iothread                                                 */

typedef struct SyncCall {
    IOThread *t;
    void (*fn)(void *opaque);
    void *opaque;
    bool done;                  /* under t->lock */
} SyncCall;

static void sync_call_bh(void *opaque)
{
    SyncCall *call = opaque;

    call->fn(call->opaque);
    pthread_mutex_lock(&call->t->lock);
    call->done = true;
    pthread_cond_broadcast(&call->t->cond);
    pthread_mutex_unlock(&call->t->lock);
}

void iothread_run_sync(IOThread *t, void (*fn)(void *opaque), void *opaque)
{
    SyncCall call = { .t = t, .fn = fn, .opaque = opaque };

    if (aio_get_current_context() == t->ctx) {
        fn(opaque);
        return;
    }
    aio_bh_schedule_oneshot(t->ctx, sync_call_bh, &call);
    pthread_mutex_lock(&t->lock);
    while (!call.done) {
        pthread_cond_wait(&t->cond, &t->lock);
    }
    pthread_mutex_unlock(&t->lock);
}

typedef struct ApplyRequest {
    AioContext *ctx;
    IOThreadParams wanted;
    unsigned mask;
    bool ok;
    GError *error;
    IOThreadParams in_effect;
} ApplyRequest;

static void apply_in_iothread(void *opaque)
{
    ApplyRequest *req = opaque;

    req->ok = iothread_params_apply(req->ctx, &req->wanted, req->mask,
                                    &req->error);
    iothread_params_read(req->ctx, &req->in_effect);
}

bool iothread_set_params(IOThread *t, const IOThreadParamChange *change,
                         unsigned *changed_mask, GError **error)
{
    ApplyRequest req = {
        .ctx = t->ctx,
        .wanted = iothread_params_merge(&t->params, change),
        .mask = change->mask,
    };
    unsigned changed = 0;

    if (changed_mask) {
        *changed_mask = 0;
    }
    if (!iothread_params_validate(&req.wanted, error)) {
        return false;
    }
    if (change->mask) {
        iothread_run_sync(t, apply_in_iothread, &req);
    } else {
        req.ok = true;
        req.in_effect = t->params;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(prop_names); i++) {
        IOThreadProp prop = prop_names[i].prop;
        if (iothread_params_get(&t->params, prop) !=
            iothread_params_get(&req.in_effect, prop)) {
            changed |= prop;
        }
    }
    t->params = req.in_effect;
    if (changed_mask) {
        *changed_mask = changed;
    }
    if (!req.ok) {
        /* Validation mirrors the setters, so this means they disagree:
         * report it rather than pretend. */
        g_propagate_error(error, req.error);
        return false;
    }
    return true;
}
