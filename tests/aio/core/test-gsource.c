/*
 * test-gsource: the AioContext driven by a GLib main loop.
 *
 * The same BH / notifier / fd / timer set as the aio_poll tests, but
 * dispatched by g_main_context_iteration() on a GMainContext the context's
 * GSource is attached to (g_source_attach(aio_get_g_source(ctx), gctx)).
 * Waits are bounded by a GLib timeout source, independent of the context's
 * own timers, so a broken GSource path fails instead of hanging.
 */
#include "aio-test.h"

#include <fcntl.h>
#include <unistd.h>

static GMainContext *gctx;

static gboolean glib_watchdog_cb(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

/* Blocking iterations until @cond, at most @ms milliseconds. */
#define ITERATE_UNTIL(cond, ms) ({                                     \
    bool fired_ = false;                                               \
    GSource *wd_ = g_timeout_source_new(ms);                           \
    g_source_set_callback(wd_, glib_watchdog_cb, &fired_, NULL);       \
    g_source_attach(wd_, gctx);                                        \
    while (!(cond) && !fired_) {                                       \
        g_main_context_iteration(gctx, TRUE);                          \
    }                                                                  \
    g_source_destroy(wd_);                                             \
    g_source_unref(wd_);                                               \
    (bool)(cond);                                                      \
})

static void count_cb(void *opaque)
{
    (*(int *)opaque)++;
}

static void test_bh(AioContext *ctx)
{
    int n = 0;
    AioBH *bh = aio_bh_new(ctx, count_cb, &n);
    aio_bh_schedule(bh);
    g_main_context_iteration(gctx, FALSE);
    is_int(n, 1, "gsource bh: one non-blocking iteration runs a scheduled BH");
    g_main_context_iteration(gctx, FALSE);
    is_int(n, 1, "gsource bh: and only once");

    for (int i = 0; i < 10; i++) {
        aio_bh_schedule(bh);
    }
    ok(ITERATE_UNTIL(n == 2, 5000), "gsource bh: scheduled x10 runs");
    g_main_context_iteration(gctx, FALSE);
    is_int(n, 2, "gsource bh: x10 before dispatch runs once");

    aio_bh_schedule(bh);
    aio_bh_cancel(bh);
    g_main_context_iteration(gctx, FALSE);
    is_int(n, 2, "gsource bh: cancelled BH does not run");

    aio_bh_schedule_oneshot(ctx, count_cb, &n);
    ok(ITERATE_UNTIL(n == 3, 5000), "gsource bh: oneshot runs");
    aio_bh_delete(bh);
}

static void test_idle_bh(AioContext *ctx)
{
    int n = 0;
    AioBH *bh = aio_bh_new(ctx, count_cb, &n);
    aio_bh_schedule_idle(bh);
    ok(ITERATE_UNTIL(n == 1, 5000),
       "gsource idle bh: blocking iterations run it (timeout capped)");
    aio_bh_delete(bh);
}

typedef struct NestedData {
    AioContext *ctx;
    AioBH *inner;
    int inner_n;
    bool nested_progress;
} NestedData;

static void nested_outer_cb(void *opaque)
{
    NestedData *d = opaque;
    aio_bh_schedule(d->inner);
    d->nested_progress = aio_poll(d->ctx, false);
}

static void nested_inner_cb(void *opaque)
{
    ((NestedData *)opaque)->inner_n++;
}

static void test_nested_aio_poll(AioContext *ctx)
{
    NestedData d = { .ctx = ctx };
    d.inner = aio_bh_new(ctx, nested_inner_cb, &d);
    aio_bh_schedule_oneshot(ctx, nested_outer_cb, &d);
    ITERATE_UNTIL(d.inner_n == 1, 5000);
    ok(d.nested_progress && d.inner_n == 1,
       "gsource: aio_poll nested in a GSource-dispatched BH runs a BH");
    aio_bh_delete(d.inner);
}

typedef struct NotifierData {
    EventNotifier e;
    int n;
} NotifierData;

static void notifier_cb(EventNotifier *e)
{
    NotifierData *d = (NotifierData *)e;
    event_notifier_test_and_clear(e);
    d->n++;
}

static void test_notifier(AioContext *ctx)
{
    NotifierData d = { 0 };
    event_notifier_init(&d.e, false);
    aio_set_event_notifier(ctx, &d.e, notifier_cb, NULL, NULL);
    g_main_context_iteration(gctx, FALSE);
    is_int(d.n, 0, "gsource notifier: not called while clear");
    event_notifier_set(&d.e);
    ok(ITERATE_UNTIL(d.n == 1, 5000), "gsource notifier: set -> dispatched");
    event_notifier_set(&d.e);
    ok(ITERATE_UNTIL(d.n == 2, 5000), "gsource notifier: set again -> again");
    g_main_context_iteration(gctx, FALSE);
    is_int(d.n, 2, "gsource notifier: not called again once cleared");
    aio_set_event_notifier(ctx, &d.e, NULL, NULL, NULL);
    event_notifier_set(&d.e);
    g_main_context_iteration(gctx, FALSE);
    g_main_context_iteration(gctx, FALSE);
    is_int(d.n, 2, "gsource notifier: removed -> not called");
    event_notifier_cleanup(&d.e);
}

typedef struct FdData {
    AioContext *ctx;
    int rfd, wfd;
    int n;
} FdData;

static void fd_remove_self_cb(void *opaque)
{
    FdData *d = opaque;
    d->n++;
    aio_set_fd_handler(d->ctx, d->rfd, NULL, NULL, NULL, NULL, NULL);
}

static void test_fd(AioContext *ctx)
{
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        printf("Bail out! pipe2\n");
        exit(1);
    }
    FdData d = { .ctx = ctx, .rfd = fds[0], .wfd = fds[1] };
    aio_set_fd_handler(ctx, d.rfd, fd_remove_self_cb, NULL, NULL, NULL, &d);
    g_main_context_iteration(gctx, FALSE);
    is_int(d.n, 0, "gsource fd: empty pipe not dispatched");
    ok(write(d.wfd, "x", 1) == 1, "gsource fd: pipe written");
    ok(ITERATE_UNTIL(d.n == 1, 5000), "gsource fd: readable -> dispatched");
    g_main_context_iteration(gctx, FALSE);
    g_main_context_iteration(gctx, FALSE);
    is_int(d.n, 1, "gsource fd: handler that removed itself not called again");
    close(d.rfd);
    close(d.wfd);
}

typedef struct TimerData {
    int64_t deadline;
    int64_t fired_at;
    int n;
} TimerData;

static void timer_cb(void *opaque)
{
    TimerData *t = opaque;
    t->fired_at = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    t->n++;
}

static void test_timer(AioContext *ctx)
{
    TimerData a = { 0 }, b = { 0 };
    AioTimer *ta = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                                 timer_cb, &a);
    AioTimer *tb = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                                 timer_cb, &b);
    int64_t now = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    a.deadline = now + 3 * AIO_SCALE_MS;
    b.deadline = now + 1 * AIO_SCALE_MS;
    aio_timer_mod_ns(ta, a.deadline);
    aio_timer_mod_ns(tb, b.deadline);
    ok(ITERATE_UNTIL(a.n == 1 && b.n == 1, 5000),
       "gsource timer: both timers fired through the main loop");
    ok(a.fired_at >= a.deadline && b.fired_at >= b.deadline,
       "gsource timer: not early");
    ok(b.fired_at <= a.fired_at, "gsource timer: deadline order");
    aio_timer_free(ta);
    aio_timer_free(tb);
}

int main(void)
{
    AioContext *ctx = test_context_new();
    gctx = g_main_context_new();
    GSource *src = aio_get_g_source(ctx);
    g_source_attach(src, gctx);
    g_source_unref(src);

    test_bh(ctx);
    test_idle_bh(ctx);
    test_nested_aio_poll(ctx);
    test_notifier(ctx);
    test_fd(ctx);
    test_timer(ctx);

    g_source_destroy(src);
    g_main_context_unref(gctx);
    aio_context_unref(ctx);
    return done_testing();
}
