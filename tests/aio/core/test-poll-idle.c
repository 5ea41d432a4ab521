/*
 * test-poll-idle: a busy-polled handler that shows no work leaves the poll
 * set, and rejoins it when work reaches it through its fd.
 *
 * The contract (aio.h, adaptive polling): a handler whose io_poll has found
 * nothing for the idle interval (7 s) is no longer busy-polled, so an idle
 * device costs a polling loop nothing; an fd event on it puts it back.
 * Observed through the handler's own io_poll calls: a loop kept iterating
 * by a 1 ms timer polls the handler until it drops out, then never again;
 * after one write to its eventfd it is polled again.  The waits are bounded
 * by deadlines that only guard against a hang (20 s for the 7 s interval).
 */
#include "aio-test.h"

#include <sys/eventfd.h>
#include <unistd.h>

typedef struct Device {
    int efd;
    unsigned io_poll_calls;
    unsigned reads;
} Device;

static bool device_poll(void *opaque)
{
    ((Device *)opaque)->io_poll_calls++;
    return false;           /* never any work in memory: only the fd */
}

static void device_read(void *opaque)
{
    Device *d = opaque;
    uint64_t v;

    d->reads++;
    if (read(d->efd, &v, sizeof(v)) < 0) {
        /* EAGAIN: already drained; nothing else to do */
    }
}

static void device_kick(Device *d)
{
    uint64_t one = 1;
    g_assert(write(d->efd, &one, sizeof(one)) == sizeof(one));
}

/* Keeps the loop iterating (and so polling) while nothing else happens. */
typedef struct Ticker {
    AioTimer timer;
    unsigned ticks;
} Ticker;

static void ticker_cb(void *opaque)
{
    Ticker *t = opaque;
    t->ticks++;
    aio_timer_mod_ns(&t->timer,
                     aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 1000000);
}

/* Run the loop until the handler went @quiet iterations without an io_poll
 * call; false if that did not happen within @ms. */
static bool run_until_not_polled(AioContext *ctx, Device *d, unsigned quiet,
                                 int64_t ms)
{
    int64_t deadline = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + ms * 1000000;
    unsigned last = d->io_poll_calls, still = 0;

    while (still < quiet &&
           aio_clock_get_ns(AIO_CLOCK_MONOTONIC) < deadline) {
        aio_poll(ctx, true);
        still = d->io_poll_calls == last ? still + 1 : 0;
        last = d->io_poll_calls;
    }
    return still >= quiet;
}

/* Events through the fd until the loop busy-polls the handler (its polling
 * time grows from the short waits before each event). */
static bool warm_up_polling(AioContext *ctx, Device *d)
{
    for (int i = 0; i < 100; i++) {
        unsigned before = d->reads;
        device_kick(d);
        if (!POLL_UNTIL(ctx, d->reads > before, 5000)) {
            return false;
        }
        unsigned polled = d->io_poll_calls;
        aio_poll(ctx, true);            /* one timer tick: a polling pass */
        if (d->io_poll_calls > polled) {
            return true;
        }
    }
    return false;
}

int main(void)
{
    AioContext *ctx = test_context_new();
    Device d = { .efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };
    Ticker t = { 0 };

    g_assert(d.efd >= 0);
    g_assert(aio_context_set_poll_params(ctx, 64000, 0, 0, NULL));
    aio_timer_init(ctx, &t.timer, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                   ticker_cb, &t);
    ticker_cb(&t);
    aio_set_fd_handler(ctx, d.efd, device_read, NULL, device_poll, NULL, &d);

    bool warm = warm_up_polling(ctx, &d);
    ok(warm, "a handler that gets work is busy-polled (%u io_poll calls)",
       d.io_poll_calls);
    unsigned before_idle = d.io_poll_calls;
    bool dropped = run_until_not_polled(ctx, &d, 200, 20000);
    ok(dropped, "after the idle interval without work the handler is no "
       "longer polled");
    ok(d.io_poll_calls > before_idle, "it was polled while idle before it "
       "dropped out (%u io_poll calls while idle)",
       d.io_poll_calls - before_idle);

    unsigned reads = d.reads;
    device_kick(&d);
    ok(POLL_UNTIL(ctx, d.reads > reads, 5000), "an idle handler that left "
       "the poll set still gets its fd event");
    unsigned rejoined = d.io_poll_calls;
    ok(POLL_UNTIL(ctx, d.io_poll_calls > rejoined, 5000), "after work "
       "through its fd the handler is busy-polled again");

    aio_set_fd_handler(ctx, d.efd, NULL, NULL, NULL, NULL, NULL);
    aio_timer_del(&t.timer);
    close(d.efd);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
    return done_testing();
}
