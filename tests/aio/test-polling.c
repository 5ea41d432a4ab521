/*
 * test-polling: adaptive busy-polling (issue 3), asserted on counters.
 *
 * The "device" posts an event ~20 µs ahead each round: its io_poll turns
 * true when aio_clock_get_ns passes the deadline, so polling can find the
 * event without a syscall (io_poll_ready), while the fd path (io_read)
 * sees it when a timerfd (the doorbell) fires 20 µs later still.  Single-threaded: no helper thread
 * whose scheduling would decide the outcome.  Timer slack is set to 1 ns
 * so the kernel fires the timerfd close to its deadline (the default 50 µs
 * slack would make every wait look longer than poll-max-ns).
 *
 * Checked: with poll-max-ns 64 µs most events are dispatched through
 * io_poll_ready and counted as poll hits; with polling off all go through
 * io_read and no poll counter moves; the polling time takes only values
 * that the grow factor and cap allow, grows, and shrinks by the shrink
 * parameter when an event arrives later than poll-max-ns.
 */
#include "aio-test.h"

#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define ROUNDS 200

typedef struct Device {
    int tfd;
    int64_t deadline;
    bool consumed;
    int poll_ready_calls;   /* events found by polling */
    int read_calls;         /* events found through the fd */
} Device;

static Device dev;

/* Like a device that posts work in memory and rings its doorbell a little
 * later: io_poll sees the work after @delay_ns, the fd fires KICK_LAG_NS
 * after that.  Polling that finds the work cancels the doorbell (as a
 * device with notifications suppressed while polled), so the fd path never
 * sees an event that polling already handled. */
#define KICK_LAG_NS 20000

static void device_set_timer(int64_t delay_ns)
{
    struct itimerspec its = { .it_value = { .tv_sec = delay_ns / 1000000000,
                                            .tv_nsec = delay_ns % 1000000000 } };
    timerfd_settime(dev.tfd, 0, &its, NULL);
}

static void device_arm(int64_t delay_ns)
{
    dev.consumed = false;
    dev.deadline = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + delay_ns;
    device_set_timer(delay_ns + KICK_LAG_NS);
}

static void device_drain(void)
{
    uint64_t ticks;
    while (read(dev.tfd, &ticks, sizeof(ticks)) > 0) {
    }
}

static bool device_io_poll(void *opaque)
{
    return !dev.consumed && aio_clock_get_ns(AIO_CLOCK_MONOTONIC) >= dev.deadline;
}

static void device_poll_ready(void *opaque)
{
    device_set_timer(0);    /* disarm: no doorbell for handled work */
    device_drain();
    if (!dev.consumed) {
        dev.consumed = true;
        dev.poll_ready_calls++;
    }
}

/* Only an event whose time has come counts (defensive: a backend might
 * report a stale completion). */
static void device_read(void *opaque)
{
    device_drain();
    if (!dev.consumed && aio_clock_get_ns(AIO_CLOCK_MONOTONIC) >= dev.deadline) {
        dev.consumed = true;
        dev.read_calls++;
    }
}

/* Runs @rounds events @delay_ns apart; records the polling windows seen. */
static bool run_rounds(AioContext *ctx, int rounds, int64_t delay_ns,
                       int64_t *windows, int *nwindows)
{
    for (int i = 0; i < rounds; i++) {
        device_arm(delay_ns);
        if (!POLL_UNTIL(ctx, dev.consumed, 5000)) {
            return false;
        }
        if (windows) {
            AioStats s;
            aio_context_get_stats(ctx, &s);
            windows[(*nwindows)++] = s.poll_ns_current;
        }
    }
    return true;
}

/* The polling window in effect now, read without dispatching any handler:
 * a blocking aio_poll that only a 100 µs timer ends enters try_poll_mode
 * (which publishes poll_ns_current) and adjusts no handler's window. */
static void probe_fired(void *opaque)
{
    *(bool *)opaque = true;
}

static int64_t probe_window(AioContext *ctx)
{
    bool fired = false;
    AioTimer t;
    AioStats s;
    aio_timer_init(ctx, &t, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS, probe_fired, &fired);
    aio_timer_mod_ns(&t, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 100000);
    while (!fired) {
        aio_poll(ctx, true);
    }
    aio_context_get_stats(ctx, &s);
    return s.poll_ns_current;
}

static void reset_device(void)
{
    dev.poll_ready_calls = dev.read_calls = 0;
}

static bool set_params(AioContext *ctx, int64_t max, int64_t grow, int64_t shrink)
{
    GError *err = NULL;
    bool r = aio_context_set_poll_params(ctx, max, grow, shrink, &err);
    if (!r) {
        diag("set_poll_params: %s", err ? err->message : "?");
        g_clear_error(&err);
    }
    return r;
}

/* Whether every window is 0 or 4 µs * grow^k capped at max, and the
 * largest is at least @must_reach.  Which window first catches the 20 µs
 * event depends on the overhead between arming and polling (larger under
 * sanitizers), so only the set of values is asserted, not the end point. */
static bool windows_follow(const int64_t *w, int n, int64_t grow, int64_t max,
                           int64_t must_reach)
{
    int64_t largest = 0;
    for (int i = 0; i < n; i++) {
        int64_t v = 4000;
        bool allowed = w[i] == 0;
        while (!allowed) {
            int64_t capped = v > max ? max : v;
            if (w[i] == capped) {
                allowed = true;
            }
            if (v >= max) {
                break;
            }
            v *= grow;
        }
        if (!allowed) {
            diag("window %d: %" PRId64 " ns is not 4000*%" PRId64 "^k capped at %"
                 PRId64, i, w[i], grow, max);
            return false;
        }
        largest = w[i] > largest ? w[i] : largest;
    }
    if (largest < must_reach) {
        diag("largest window %" PRId64 " ns < %" PRId64, largest, must_reach);
    }
    return largest >= must_reach;
}

static void new_device(AioContext *ctx)
{
    dev.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (dev.tfd < 0) {
        printf("Bail out! timerfd_create failed\n");
        exit(1);
    }
    aio_set_fd_handler(ctx, dev.tfd, device_read, NULL, device_io_poll,
                       device_poll_ready, NULL);
}

static void free_device(AioContext *ctx)
{
    aio_set_fd_handler(ctx, dev.tfd, NULL, NULL, NULL, NULL, NULL);
    close(dev.tfd);
}

static void test_polling_off(void)
{
    AioContext *ctx = test_context_new();
    AioStats before, after;
    ok(set_params(ctx, 0, 0, 0), "off: poll-max-ns 0 accepted");
    new_device(ctx);
    reset_device();
    aio_context_get_stats(ctx, &before);
    bool done = run_rounds(ctx, ROUNDS, 20000, NULL, NULL);
    aio_context_get_stats(ctx, &after);
    ok(done, "off: %d events delivered", ROUNDS);
    ok(dev.read_calls == ROUNDS && dev.poll_ready_calls == 0,
       "off: every event through io_read (read %d, poll_ready %d)",
       dev.read_calls, dev.poll_ready_calls);
    ok(after.poll_attempts == before.poll_attempts &&
       after.poll_hits == before.poll_hits,
       "off: no poll attempts or hits counted");
    is_int((int64_t)(after.fd_dispatches - before.fd_dispatches), ROUNDS,
           "off: fd_dispatches counts each io_read");
    free_device(ctx);
    aio_context_unref(ctx);
}

static void test_polling_on(void)
{
    AioContext *ctx = test_context_new();
    AioStats before, after;
    static int64_t windows[ROUNDS];
    int nw = 0;
    ok(set_params(ctx, 64000, 2, 0), "on: poll-max-ns 64 µs accepted");
    new_device(ctx);
    reset_device();
    aio_context_get_stats(ctx, &before);
    bool done = run_rounds(ctx, ROUNDS, 20000, windows, &nw);
    aio_context_get_stats(ctx, &after);
    uint64_t hits = after.poll_hits - before.poll_hits;
    uint64_t grows = after.poll_grows - before.poll_grows;
    diag("on: poll_ready %d, read %d, hits %" PRIu64 ", misses %" PRIu64
         ", grows %" PRIu64 ", shrinks %" PRIu64, dev.poll_ready_calls,
         dev.read_calls, hits, after.poll_misses - before.poll_misses, grows,
         after.poll_shrinks - before.poll_shrinks);
    ok(done, "on: %d events delivered", ROUNDS);
    ok(dev.poll_ready_calls + dev.read_calls == ROUNDS,
       "on: each event dispatched once");
    ok(dev.poll_ready_calls >= ROUNDS / 2,
       "on: most events found by polling via io_poll_ready (%d of %d)",
       dev.poll_ready_calls, ROUNDS);
    ok(hits >= (uint64_t)dev.poll_ready_calls,
       "on: poll_hits counts them (%" PRIu64 ")", hits);
    ok(grows >= 1, "on: polling time grew (%" PRIu64 " grows)", grows);
    ok(windows_follow(windows, nw, 2, 64000, 4000),
       "on: windows are 0 or 4 µs * 2^k capped at 64 µs");
    ok(after.polling_ns > before.polling_ns, "on: polling_ns grew");

    /* Shrink: an event later than poll-max-ns divides the window by the
     * shrink factor (here 2), seen as the next round's window. */
    ok(set_params(ctx, 64000, 2, 2), "shrink 2 accepted");
    run_rounds(ctx, 10, 20000, NULL, NULL);     /* settle at >= 32 µs */
    int64_t w_before = probe_window(ctx);
    aio_context_get_stats(ctx, &before);
    run_rounds(ctx, 1, 2 * AIO_SCALE_MS, NULL, NULL);
    aio_context_get_stats(ctx, &after);
    int64_t w_after = probe_window(ctx);
    ok(after.poll_shrinks - before.poll_shrinks >= 1,
       "shrink: a 2 ms event (> poll-max-ns) counted a shrink");
    ok(w_before > 0 && w_after == w_before / 2,
       "shrink: factor 2 halves the window (%" PRId64 " -> %" PRId64 ")",
       w_before, w_after);

    /* Shrink 0 resets to 0. */
    ok(set_params(ctx, 64000, 2, 0), "shrink 0 accepted");
    run_rounds(ctx, 10, 20000, NULL, NULL);
    w_before = probe_window(ctx);
    run_rounds(ctx, 1, 2 * AIO_SCALE_MS, NULL, NULL);
    w_after = probe_window(ctx);
    ok(w_before > 0, "shrink 0: a window was learnt (%" PRId64 ")", w_before);
    is_int(w_after, 0, "shrink 0: window reset to 0 after a late event");

    free_device(ctx);
    aio_context_unref(ctx);
}

static void test_grow_factor(void)
{
    AioContext *ctx = test_context_new();
    AioStats before, after;
    static int64_t windows[ROUNDS];
    int nw = 0;
    ok(set_params(ctx, 100000, 3, 0), "grow 3, max 100 µs accepted");
    new_device(ctx);
    reset_device();
    aio_context_get_stats(ctx, &before);
    run_rounds(ctx, ROUNDS / 2, 20000, windows, &nw);
    aio_context_get_stats(ctx, &after);
    ok(windows_follow(windows, nw, 3, 100000, 4000),
       "grow 3: windows are 0 or 4 µs * 3^k capped at 100 µs");
    ok(after.poll_grows - before.poll_grows >= 1, "grow 3: grows counted");
    ok(dev.poll_ready_calls > 0, "grow 3: events found by polling");
    free_device(ctx);
    aio_context_unref(ctx);
}

int main(void)
{
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    test_polling_off();
    test_polling_on();
    test_grow_factor();
    return done_testing();
}
