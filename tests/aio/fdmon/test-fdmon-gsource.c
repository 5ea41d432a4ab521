/*
 * test-fdmon-gsource: the context driven by a GMainContext (the GSource
 * path: gsource_prepare / check / dispatch of the backend named by
 * AIO_FDMON) instead of aio_poll().
 *
 * An eventfd handler, a pipe write handler, a BH scheduled from another
 * thread, a timer, and a handler removed while its fd is ready; each must
 * behave as under aio_poll().
 */
#include "aio-test.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct Counter {
    unsigned calls;
    int fd;
    bool removed;
    unsigned after_removal;
} Counter;

static void efd_read(void *opaque)
{
    Counter *c = opaque;
    uint64_t v;

    c->calls++;
    if (c->removed) {
        c->after_removal++;
    }
    if (read(c->fd, &v, sizeof(v)) < 0) {
        /* drained */
    }
}

static void file_read(void *opaque)
{
    ((Counter *)opaque)->calls++;
}

static void pipe_writable(void *opaque)
{
    ((Counter *)opaque)->calls++;
}

static void bh_cb(void *opaque)
{
    ((Counter *)opaque)->calls++;
}

static void timer_cb(void *opaque)
{
    ((Counter *)opaque)->calls++;
}

static void signal_efd(int fd)
{
    uint64_t one = 1;
    g_assert(write(fd, &one, sizeof(one)) == sizeof(one));
}

/* Iterate @gctx (blocking) until @cond or @max iterations. */
#define ITERATE_UNTIL(gctx, cond, max) ({                              \
    int n_ = 0;                                                        \
    while (!(cond) && n_++ < (max)) {                                  \
        g_main_context_iteration((gctx), TRUE);                        \
    }                                                                  \
    (bool)(cond);                                                      \
})

typedef struct ThreadArg {
    AioBH *bh;
} ThreadArg;

static void *schedule_from_thread(void *opaque)
{
    ThreadArg *a = opaque;

    g_usleep(2000);             /* let the main loop block first */
    aio_bh_schedule(a->bh);
    return NULL;
}

/* An eventfd read handler: dispatched once per signal, again after
 * re-arming. */
static void test_fd_read_handler_dispatched_once_per_signal(AioContext *ctx,
                                                             GMainContext *gctx)
{
    Counter efd = { .fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };

    aio_set_fd_handler(ctx, efd.fd, efd_read, NULL, NULL, NULL, &efd);
    g_main_context_iteration(gctx, FALSE);
    signal_efd(efd.fd);
    ok(ITERATE_UNTIL(gctx, efd.calls > 0, 50), "eventfd handler dispatched");
    g_main_context_iteration(gctx, FALSE);
    is_int(efd.calls, 1, "exactly once for one signal");
    signal_efd(efd.fd);
    ok(ITERATE_UNTIL(gctx, efd.calls > 1, 50), "and again after re-arming");
    aio_set_fd_handler(ctx, efd.fd, NULL, NULL, NULL, NULL, NULL);
    close(efd.fd);
}

/* A write handler on a pipe (always writable) runs repeatedly, and not
 * after its removal. */
static void test_write_handler_repeats_until_removed(AioContext *ctx,
                                                     GMainContext *gctx)
{
    Counter wr = { 0 };
    int p[2];

    g_assert(pipe(p) == 0);
    aio_set_fd_handler(ctx, p[1], NULL, pipe_writable, NULL, NULL, &wr);
    ok(ITERATE_UNTIL(gctx, wr.calls >= 3, 50),
       "write handler dispatched repeatedly while writable");
    aio_set_fd_handler(ctx, p[1], NULL, NULL, NULL, NULL, NULL);
    wr.calls = 0;
    g_main_context_iteration(gctx, FALSE);
    g_main_context_iteration(gctx, FALSE);
    is_int(wr.calls, 0, "write handler silent after removal");
    close(p[0]);
    close(p[1]);
}

/* A BH scheduled from another thread wakes the blocked GLib loop. */
static void test_cross_thread_bh_wakes_glib_loop(AioContext *ctx,
                                                 GMainContext *gctx)
{
    Counter bh = { 0 };
    ThreadArg ta = { .bh = aio_bh_new(ctx, bh_cb, &bh) };
    pthread_t thr;

    pthread_create(&thr, NULL, schedule_from_thread, &ta);
    ok(ITERATE_UNTIL(gctx, bh.calls > 0, 50),
       "BH scheduled from another thread ran in the GLib loop");
    pthread_join(thr, NULL);
    aio_bh_delete(ta.bh);
}

/* A timer runs in the GLib loop. */
static void test_timer_runs_in_glib_loop(AioContext *ctx, GMainContext *gctx)
{
    Counter tm = { 0 };
    AioTimer *t = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                                timer_cb, &tm);

    aio_timer_mod_ns(t, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 1500000);
    ok(ITERATE_UNTIL(gctx, tm.calls > 0, 50), "1.5 ms timer ran");
    aio_timer_free(t);
}

/* A handler removed while its fd is ready never runs; another one does. */
static void test_handler_removed_while_ready_never_runs(AioContext *ctx,
                                                        GMainContext *gctx)
{
    Counter other = { .fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };
    Counter gone = { .fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };

    aio_set_fd_handler(ctx, other.fd, efd_read, NULL, NULL, NULL, &other);
    aio_set_fd_handler(ctx, gone.fd, efd_read, NULL, NULL, NULL, &gone);
    g_main_context_iteration(gctx, FALSE);
    signal_efd(gone.fd);
    g_usleep(1000);
    aio_set_fd_handler(ctx, gone.fd, NULL, NULL, NULL, NULL, NULL);
    gone.removed = true;
    signal_efd(other.fd);       /* something else to wake for */
    ok(ITERATE_UNTIL(gctx, other.calls > 0, 50), "other handler still runs");
    for (int i = 0; i < 5; i++) {
        g_main_context_iteration(gctx, FALSE);
    }
    is_int(gone.calls, 0, "handler removed while ready never ran");
    aio_set_fd_handler(ctx, other.fd, NULL, NULL, NULL, NULL, NULL);
    close(other.fd);
    close(gone.fd);
}

/* A regular file is always ready, also for the GLib loop. */
static void test_regular_file_always_ready_in_glib_loop(AioContext *ctx,
                                                        GMainContext *gctx)
{
    char path[] = "/tmp/test-fdmon-XXXXXX";
    Counter file = { 0 };
    int n = 0;

    file.fd = mkstemp(path);
    g_assert(file.fd >= 0);
    unlink(path);
    aio_set_fd_handler(ctx, file.fd, file_read, NULL, NULL, NULL, &file);
    while (file.calls < 3 && n++ < 50) {
        g_main_context_iteration(gctx, TRUE);
    }
    ok(file.calls >= 3, "regular file handler dispatched repeatedly by "
       "blocking GLib iterations (%u calls)", file.calls);
    aio_set_fd_handler(ctx, file.fd, NULL, NULL, NULL, NULL, NULL);
    close(file.fd);
}

int main(void)
{
    AioContext *ctx = test_context_new();
    GMainContext *gctx = g_main_context_new();
    GSource *src = aio_get_g_source(ctx);

    g_source_attach(src, gctx);
    test_fd_read_handler_dispatched_once_per_signal(ctx, gctx);
    test_write_handler_repeats_until_removed(ctx, gctx);
    test_cross_thread_bh_wakes_glib_loop(ctx, gctx);
    test_timer_runs_in_glib_loop(ctx, gctx);
    test_handler_removed_while_ready_never_runs(ctx, gctx);
    test_regular_file_always_ready_in_glib_loop(ctx, gctx);
    g_source_destroy(src);
    g_source_unref(src);
    g_main_context_unref(gctx);
    aio_context_unref(ctx);
    return done_testing();
}
