/*
 * IOThread: thread lifecycle, run loop, live property changes.  See
 * iothread.h for the contracts and the thread rules.
 *
 * Cross-thread synchronisation uses pthread mutexes/conds and C11 atomics
 * only (ThreadSanitizer cannot see GLib's GMutex/GCond).
 */
#include "iothread.h"
#include "cpu-affinity.h"
#include "aioctx/thread-pool.h"

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

    /* Owner thread only: the values set, as read back from the context
     * by the iothread after the last change. */
    AioParams params;
    /* Owner thread only: cpu-affinity as set (canonical; NULL until the
     * first set, read as "": inherit). */
    char *cpu_affinity;

    /* Owner thread only: the stall watchdog's view of this loop. */
    StallWatch stall_watch;
};

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

IOThread *iothread_new(const char *id, const AioParams *params,
                       GError **error)
{
    AioParams wanted;
    sigset_t all, old;
    int err;

    aio_params_init_default(&wanted);
    if (params) {
        aio_params_merge(&wanted, params);
    }
    if (!aio_params_check(&wanted, error)) {
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
    if (!aio_context_set_params(t->ctx, &wanted, error)) {
        goto fail;
    }
    aio_context_get_params(t->ctx, &t->params);

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
    g_free(t->cpu_affinity);
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

void iothread_get_params(const IOThread *t, AioParams *out)
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
    const AioParams *change;
    bool ok;
    GError *error;
    AioParams now;
} ApplyRequest;

static void apply_in_iothread(void *opaque)
{
    ApplyRequest *req = opaque;

    req->ok = aio_context_set_params(req->ctx, req->change, &req->error);
    aio_context_get_params(req->ctx, &req->now);
}

bool iothread_set_params(IOThread *t, const AioParams *change,
                         unsigned *changed_mask, GError **error)
{
    ApplyRequest req = { .ctx = t->ctx, .change = change };
    AioParams wanted = t->params;

    if (changed_mask) {
        *changed_mask = 0;
    }
    /* Judged here first, so a refused change costs the iothread nothing;
     * the context judges it again (the same table) before storing it. */
    aio_params_merge(&wanted, change);
    if (!aio_params_check(&wanted, error)) {
        return false;
    }
    if (!change->mask) {
        return true;
    }
    iothread_run_sync(t, apply_in_iothread, &req);
    if (!req.ok) {
        /* Only the context's own values differ from ours: a bug. */
        g_propagate_error(error, req.error);
        return false;
    }
    if (changed_mask) {
        *changed_mask = iothread_params_diff(&t->params, &req.now);
    }
    t->params = req.now;
    return true;
}

/* ---------------------------------------------------------------------- */
/* CPU affinity                                                            */

const char *iothread_get_cpu_affinity(const IOThread *t)
{
    return t->cpu_affinity ? t->cpu_affinity : "";
}

typedef struct AffinityRequest {
    AioContext *ctx;
    cpu_set_t cpus;
    int err;                    /* pthread_setaffinity_np's, for the loop */
} AffinityRequest;

/* In the iothread: the loop's thread first, then its pool (created here if
 * need be, so workers made later start on the set too). */
static void apply_affinity_in_iothread(void *opaque)
{
    AffinityRequest *req = opaque;

    req->err = pthread_setaffinity_np(pthread_self(), sizeof(req->cpus),
                                      &req->cpus);
    if (!req->err) {
        thread_pool_set_affinity(aio_get_thread_pool(req->ctx), &req->cpus);
    }
}

bool iothread_set_cpu_affinity(IOThread *t, const char *cpulist,
                               bool *changed, GError **error)
{
    AffinityRequest req = { .ctx = t->ctx };
    cpu_set_t allowed;
    char *canonical;

    cpu_affinity_allowed(&allowed);
    if (!cpu_affinity_check(cpulist, &allowed, &canonical, &req.cpus,
                            error)) {
        return false;
    }
    if (CPU_COUNT(&req.cpus) == 0) {
        req.cpus = allowed;     /* inherit: back to the daemon's set */
    }
    iothread_run_sync(t, apply_affinity_in_iothread, &req);
    if (req.err) {
        g_set_error(error, AIO_ERROR, AIO_ERROR_FAILED,
                    CPU_AFFINITY_PROPERTY ": cannot move iothread '%s' to "
                    "CPUs %s: %s", t->id, cpulist, g_strerror(req.err));
        g_free(canonical);
        return false;
    }
    if (changed) {
        *changed = strcmp(canonical, iothread_get_cpu_affinity(t)) != 0;
    }
    g_free(t->cpu_affinity);
    t->cpu_affinity = canonical;
    return true;
}

bool iothread_check_stall(IOThread *t, int64_t now_ns, StallReport *out)
{
    AioHeartbeat hb;

    aio_context_get_heartbeat(t->ctx, &hb);
    return stall_watch_sample(&t->stall_watch, &hb,
                              t->params.stall_threshold_ns, now_ns, out);
}

uint64_t iothread_get_stalls(const IOThread *t)
{
    return t->stall_watch.stalls;
}
