/*
 * aio-test.h: helpers shared by the test-*.c programs under tests/aio.
 *
 *  - test_context_new(): a context on the backend named by AIO_FDMON (the
 *    meson registration runs every core test once per backend), checking
 *    that the context really uses it.  When the kernel cannot do io_uring
 *    the whole program is skipped (TAP "1..0 # SKIP"), since the library's
 *    fallback is then the documented behaviour.
 *  - POLL_UNTIL(ctx, cond, ms): run blocking aio_poll() until @cond holds,
 *    with a watchdog timer so a lost wake-up fails the test instead of
 *    hanging it until meson's timeout.
 *  - test_loop_is_waiting(ctx, same): from another thread, whether the
 *    context's loop is inside a blocking wait now (read from its stats),
 *    so a test can act during a wait instead of guessing with a sleep.
 *
 * Header-only; include after tap.h in exactly one .c file per program.
 * Home thread only, like the API it drives, except test_loop_is_waiting()
 * (any thread, as aio_context_get_stats()).
 */
#ifndef TESTS_AIO_TEST_H
#define TESTS_AIO_TEST_H

#include "aioctx/aio.h"
#include "tap.h"

#include <liburing.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* Whether io_uring_queue_init works here (containers may forbid it). */
static TAP_UNUSED bool test_kernel_has_io_uring(void)
{
    struct io_uring ring;
    if (io_uring_queue_init(2, &ring, 0) < 0) {
        return false;
    }
    io_uring_queue_exit(&ring);
    return true;
}

/* The backend AIO_FDMON asks for, or NULL when unset. */
static TAP_UNUSED const char *test_requested_backend(void)
{
    const char *s = getenv("AIO_FDMON");
    return (s && *s) ? s : NULL;
}

/*
 * A new context.  Emits one TAP result ("context uses backend X") when
 * AIO_FDMON is set, so every program fails visibly on a backend that does
 * not exist yet rather than silently testing another one.  Exits with a
 * skip-all when io_uring is asked for and the kernel refuses it, and with a
 * bail-out when the context cannot be created at all.
 */
static TAP_UNUSED AioContext *test_context_new(void)
{
    const char *want = test_requested_backend();
    if (want && strcmp(want, "io_uring") == 0 && !test_kernel_has_io_uring()) {
        printf("1..0 # SKIP io_uring_queue_init fails on this kernel\n");
        exit(0);
    }
    GError *err = NULL;
    AioContext *ctx = aio_context_new(&err);
    if (!ctx) {
        printf("Bail out! aio_context_new: %s\n", err ? err->message : "?");
        exit(1);
    }
    if (want) {
        const char *got = aio_context_fdmon_name(ctx);
        ok(got && strcmp(got, want) == 0, "context uses backend %s (got %s)",
           want, got ? got : "(null)");
    }
    return ctx;
}

typedef struct TestWatchdog {
    AioTimer timer;
    bool fired;
} TestWatchdog;

static TAP_UNUSED void test_watchdog_cb(void *opaque)
{
    ((TestWatchdog *)opaque)->fired = true;
}

static TAP_UNUSED void test_watchdog_arm(AioContext *ctx, TestWatchdog *wd,
                                         int64_t ms)
{
    wd->fired = false;
    aio_timer_init(ctx, &wd->timer, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                   test_watchdog_cb, wd);
    aio_timer_mod_ns(&wd->timer,
                     aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + ms * 1000000);
}

static TAP_UNUSED void test_watchdog_disarm(TestWatchdog *wd)
{
    aio_timer_del(&wd->timer);
}

/* Evaluates to whether @cond became true before @ms milliseconds. */
#define POLL_UNTIL(ctx, cond, ms) ({                                   \
    TestWatchdog wd_;                                                  \
    test_watchdog_arm((ctx), &wd_, (ms));                              \
    while (!(cond) && !wd_.fired) {                                    \
        aio_poll((ctx), true);                                         \
    }                                                                  \
    test_watchdog_disarm(&wd_);                                        \
    (bool)(cond);                                                      \
})

/* Whether @ctx's loop (run by another thread) is inside a blocking wait
 * now, as its stats tell: a wait in progress counts as blocked time, so
 * blocked_ns grows between two reads while no iteration starts and no wait
 * is counted as ended (the loop counts a wait before adding its time).
 * With @same, also whether it is still the wait in progress when @same was
 * read (same iteration, no wait ended since). */
static TAP_UNUSED bool test_loop_is_waiting(AioContext *ctx, const AioStats *same)
{
    AioStats a, b;
    aio_context_get_stats(ctx, &a);
    sched_yield();
    aio_context_get_stats(ctx, &b);
    if (same && (a.iterations != same->iterations ||
                 a.blocking_waits != same->blocking_waits)) {
        return false;
    }
    return b.iterations == a.iterations && b.blocking_waits == a.blocking_waits &&
           b.blocked_ns > a.blocked_ns;
}

#endif /* TESTS_AIO_TEST_H */
