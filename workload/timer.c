/*
 * The timer workload: a timer of the iothread's context that expires every
 * period-ns; one op per expiry, its latency how late it ran (now minus
 * the deadline).  A late expiry skips the periods it missed rather than
 * firing them in a burst.
 *
 * Thread rules: the timer and its state belong to the iothread; the owner
 * reaches them through iothread_run_sync.
 */
#include "workload-internal.h"

typedef struct TimerLoad {
    Workload *w;
    AioTimer *timer;
    int64_t deadline_ns;
    bool ended;
} TimerLoad;

static void timer_expired(void *opaque)
{
    TimerLoad *tl = opaque;
    int64_t now = workload_now_ns();
    int64_t period = tl->w->cfg.period_ns;

    workload_record(tl->w, 0, (uint64_t)MAX(now - tl->deadline_ns, 0));
    if (workload_runtime_over(tl->w, now)) {
        tl->ended = true;
        workload_end(tl->w, NULL);
        return;
    }
    tl->deadline_ns += period;
    if (tl->deadline_ns <= now) {
        tl->deadline_ns = now + period;
    }
    aio_timer_mod_ns(tl->timer, tl->deadline_ns);
}

static void arm_in_iothread(void *opaque)
{
    TimerLoad *tl = opaque;

    tl->timer = aio_timer_new(tl->w->ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                              timer_expired, tl);
    tl->deadline_ns = workload_now_ns() + tl->w->cfg.period_ns;
    aio_timer_mod_ns(tl->timer, tl->deadline_ns);
}

static void free_in_iothread(void *opaque)
{
    TimerLoad *tl = opaque;
    aio_timer_free(tl->timer);
}

static bool timer_start(Workload *w, GError **error)
{
    TimerLoad *tl;

    if (w->cfg.period_ns <= 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "period-ns must be positive");
        return false;
    }
    tl = g_new0(TimerLoad, 1);
    tl->w = w;
    iothread_run_sync(w->iothread, arm_in_iothread, tl);
    w->data = tl;
    return true;
}

static void timer_stop(Workload *w)
{
    TimerLoad *tl = w->data;

    iothread_run_sync(w->iothread, free_in_iothread, tl);
    g_free(tl);
}

const WorkloadOps workload_timer_ops = {
    .start = timer_start,
    .stop = timer_stop,
};
