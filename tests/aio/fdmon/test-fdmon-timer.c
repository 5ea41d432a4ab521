/*
 * test-fdmon-timer: a blocking aio_poll() waits for a sub-millisecond-
 * precision timer without waking early, on the backend named by AIO_FDMON.
 *
 * What is asserted is not speed but the shape of the wait: one blocking
 * aio_poll() call runs the timer (a backend that rounds 1.5 ms down to 1 ms,
 * or that returns on an internal completion such as an io_uring
 * POLL_REMOVE, needs two calls) and the timer never runs before its
 * deadline.  How late it runs is speed, not shape: it is printed as a
 * comment only (a wait that never ends hits meson's timeout).  When this
 * thread is descheduled for longer than the delay between arming the
 * timer and starting the wait, the wait's shape cannot be seen: such a
 * measurement is retried with a fresh deadline.
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

#define MAX_ATTEMPTS 100

/* Arms @t @delay_ns ahead and consumes the notification that arming the
 * earliest timer sends (so a wait elsewhere recomputes its timeout).
 * Retried while the timer already ran by then; returns the deadline, or
 * -1 if it never stayed pending. */
static int64_t arm_pending(AioContext *ctx, AioTimer *t, int64_t delay_ns,
                           int64_t *fired_at)
{
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        int64_t deadline = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + delay_ns;
        *fired_at = 0;
        aio_timer_mod_ns(t, deadline);
        aio_poll(ctx, false);
        if (!*fired_at) {
            return deadline;
        }
        diag("timer ran before the wait started (attempt %d); again",
             attempt + 1);
    }
    return -1;
}

/* Arms a timer @delay_ns ahead and runs blocking aio_poll() until it ran. */
static void check_wait(AioContext *ctx, int64_t delay_ns, const char *what)
{
    AioTimer t;
    int64_t fired_at = 0, deadline;
    int calls = 0;
    bool first_progress;

    aio_timer_init(ctx, &t, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS, timer_cb,
                   &fired_at);
    deadline = arm_pending(ctx, &t, delay_ns, &fired_at);
    if (deadline < 0) {
        ok(false, "%s: the timer stayed pending until a wait in %d attempts",
           what, MAX_ATTEMPTS);
        return;
    }

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
