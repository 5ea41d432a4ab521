/*
 * test-fdmon-timer: a blocking aio_poll() waits for a sub-millisecond-
 * precision timer without waking early, on the backend named by AIO_FDMON.
 *
 * What is asserted is not speed but the shape of the wait: one blocking
 * aio_poll() call runs the timer (a backend that rounds 1.5 ms down to 1 ms,
 * or that returns on an internal completion such as an io_uring
 * POLL_REMOVE, needs two calls), the timer never runs before its deadline,
 * and the wait does not hang (a generous upper bound, far above any
 * scheduling noise).  The measured wake-up delay is printed as a comment.
 */
#include "aio-test.h"

#include <sys/eventfd.h>
#include <unistd.h>

static void timer_cb(void *opaque)
{
    int64_t *fired_at = opaque;

    *fired_at = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
}

static void dummy_read(void *opaque)
{
}

/* Arms a timer @delay_ns ahead and runs blocking aio_poll() until it ran. */
static void check_wait(AioContext *ctx, int64_t delay_ns, const char *what)
{
    AioTimer t;
    int64_t fired_at = 0, start, deadline;
    int calls = 0;
    bool first_progress;

    aio_timer_init(ctx, &t, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS, timer_cb,
                   &fired_at);
    start = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    deadline = start + delay_ns;
    aio_timer_mod_ns(&t, deadline);
    /* Arming the earliest timer notifies the context (so a wait elsewhere
     * recomputes its timeout); consume that first. */
    aio_poll(ctx, false);

    first_progress = aio_poll(ctx, true);
    calls++;
    while (!fired_at && calls < 1000) {
        aio_poll(ctx, true);
        calls++;
    }

    ok(first_progress && calls == 1 && fired_at,
       "%s: %.1f us timer ran by the first blocking aio_poll (%d calls)",
       what, delay_ns / 1000.0, calls);
    ok(fired_at >= deadline, "%s: not before its deadline (%+.1f us)", what,
       (fired_at - deadline) / 1000.0);
    ok(fired_at && fired_at - deadline < 250 * 1000000LL,
       "%s: woke within 250 ms of the deadline", what);
    diag("%s: woke %.1f us after the deadline", what,
         (fired_at - deadline) / 1000.0);
    aio_timer_del(&t);
}

int main(void)
{
    AioContext *ctx = test_context_new();
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

    /* Let the context settle (first iteration, notifier armed). */
    while (aio_poll(ctx, false)) {
    }

    check_wait(ctx, 1500 * 1000, "idle");
    check_wait(ctx, 300 * 1000, "sub-ms");
    check_wait(ctx, 10500 * 1000, "10.5 ms");

    /* A handler registered and removed just before the wait: on io_uring
     * its POLL_ADD/POLL_REMOVE completions arrive during the wait and must
     * not end it. */
    aio_set_fd_handler(ctx, efd, dummy_read, NULL, NULL, NULL, NULL);
    aio_poll(ctx, false);
    aio_set_fd_handler(ctx, efd, NULL, NULL, NULL, NULL, NULL);
    check_wait(ctx, 1500 * 1000, "after a removal");

    /* A silent fd registered: the wait still ends with the timer. */
    aio_set_fd_handler(ctx, efd, dummy_read, NULL, NULL, NULL, NULL);
    check_wait(ctx, 1500 * 1000, "with an idle fd");
    aio_set_fd_handler(ctx, efd, NULL, NULL, NULL, NULL, NULL);

    aio_context_unref(ctx);
    close(efd);
    return done_testing();
}
