/*
 * test-polling: adaptive busy-polling, asserted on what the rules of
 * aio-posix.c guarantee, never on how fast this thread runs.
 *
 * The "device" posts events one at a time.  It can make an event visible
 * to io_poll at once (work posted in memory) or not at all (only its
 * doorbell, a timerfd, announces it), and it rings the doorbell after a
 * chosen delay.  Single-threaded: no helper thread whose scheduling would
 * decide the outcome.
 *
 * Why the outcomes are deterministic:
 *  - An event already visible when a polling window opens is found by the
 *    first pass over the poll set, whatever the window's length.
 *  - An event visible only through the doorbell makes the loop poll its
 *    whole window and then wait, so the measured block time is longer
 *    than the window: each such event grows the window by exactly one
 *    step (grow factor, capped at poll-max-ns), as long as the block time
 *    stays within poll-max-ns.  While learning, poll-max-ns is LEARN_MAX_NS
 *    (2 s): only an iteration stalled for longer than that (a hang, not
 *    noise) could shrink instead.
 *  - A doorbell rung LATE_DOORBELL_NS (200 ms) after posting, with
 *    poll-max-ns 1 ms, means a block time above poll-max-ns (a shrink)
 *    unless the thread stalls for 199 ms between posting and waiting.
 * One watchdog timer per test function guards against a hang; it is armed
 * before the rounds, since arming a timer notifies the context and a
 * notified iteration does not block (and so would not teach a window).
 *
 * poll-mode auto (the governor) is asserted on its two deterministic
 * cases: an epoch of windows that found nothing never pays (the device's
 * events never visible to io_poll: polling stops, apart from probes), and
 * windows whose first pass finds the work cost nothing (events visible at
 * once: polling goes on).  With poll-grow 1 a learnt window stays at
 * 4 µs, so fixed mode opens exactly one window per event.
 *
 * Two dispatch rules around polling, each set up so the outcome does not
 * depend on timing: work that appears as polling ends (posted by
 * io_poll_end itself) is found by the last poll before the loop sleeps,
 * and of two handlers found in one pass, the one the other removes is not
 * called.
 *
 * How often polling finds events that arrive a little later (a real
 * device) is a matter of speed: aio-bench measures it (poll_find_ratio).
 */
#include "aio-test.h"

#include <sys/timerfd.h>
#include <unistd.h>

#define ROUNDS 200
#define LEARN_MAX_NS (2LL * 1000 * 1000 * 1000)
#define WATCHDOG_MS 20000
/* The doorbell of an event that only the fd announces: rung at once. */
#define RING_NOW_NS 1
/* The doorbell lag of an event visible to polling: the fd path is taken
 * only while the handler has no polling window. */
#define KICK_LAG_NS 20000
/* The doorbell of an event later than the lowered poll-max-ns (1 ms). */
#define LATE_DOORBELL_NS (200LL * 1000 * 1000)

typedef struct Device {
    int doorbell;           /* timerfd */
    bool pending;           /* posted, not yet handled */
    bool visible;           /* io_poll sees the pending event */
    int64_t visible_at_ns;  /* ... from then on (0: at once) */
    int poll_ready_calls;   /* events found by polling */
    int read_calls;         /* events found through the doorbell */
} Device;

static Device dev;

static void doorbell_set(int64_t delay_ns)
{
    struct itimerspec its = { .it_value = { .tv_sec = delay_ns / 1000000000,
                                            .tv_nsec = delay_ns % 1000000000 } };
    timerfd_settime(dev.doorbell, 0, &its, NULL);
}

/* Whether the doorbell had rung (consumes the rings). */
static bool doorbell_drain(void)
{
    uint64_t ticks;
    bool rung = false;
    while (read(dev.doorbell, &ticks, sizeof(ticks)) > 0) {
        rung = true;
    }
    return rung;
}

/* An event the doorbell announces @doorbell_ns after posting; io_poll
 * sees it if @visible, @visible_ns after posting (0: at once). */
static void device_post(bool visible, int64_t visible_ns, int64_t doorbell_ns)
{
    dev.pending = true;
    dev.visible = visible;
    dev.visible_at_ns = visible_ns
        ? aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + visible_ns : 0;
    doorbell_set(doorbell_ns);
}

static bool device_io_poll(void *opaque)
{
    return dev.pending && dev.visible &&
           (!dev.visible_at_ns ||
            aio_clock_get_ns(AIO_CLOCK_MONOTONIC) >= dev.visible_at_ns);
}

/* Polling handled the event: no doorbell for it (like a device that
 * suppresses notifications for polled work). */
static void device_poll_ready(void *opaque)
{
    doorbell_set(0);
    doorbell_drain();
    if (dev.pending) {
        dev.pending = false;
        dev.poll_ready_calls++;
    }
}

/* Only a doorbell that really rang counts (a backend might report a stale
 * readiness of an fd that polling already drained). */
static void device_read(void *opaque)
{
    if (doorbell_drain() && dev.pending) {
        dev.pending = false;
        dev.read_calls++;
    }
}

static void new_device(AioContext *ctx)
{
    dev = (Device){ 0 };
    dev.doorbell = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (dev.doorbell < 0) {
        printf("Bail out! timerfd_create failed\n");
        exit(1);
    }
    aio_set_fd_handler(ctx, dev.doorbell, device_read, NULL, device_io_poll,
                       device_poll_ready, NULL);
}

static void free_device(AioContext *ctx)
{
    aio_set_fd_handler(ctx, dev.doorbell, NULL, NULL, NULL, NULL, NULL);
    close(dev.doorbell);
}

/* A context with the given polling parameters, the device registered and
 * the hang watchdog armed (its notification consumed). */
static AioContext *setup(TestWatchdog *wd, int64_t max, int64_t grow,
                         int64_t shrink)
{
    AioContext *ctx = test_context_new();
    GError *err = NULL;
    if (!aio_context_set_poll_params(ctx, max, grow, shrink, &err)) {
        printf("Bail out! set_poll_params: %s\n", err ? err->message : "?");
        exit(1);
    }
    new_device(ctx);
    test_watchdog_arm(ctx, wd, WATCHDOG_MS);
    aio_poll(ctx, false);
    return ctx;
}

static void teardown(AioContext *ctx, TestWatchdog *wd)
{
    test_watchdog_disarm(wd);
    free_device(ctx);
    aio_context_unref(ctx);
}

/* Posts @rounds events one after another (see device_post) and runs the
 * loop until each was handled.  False if the watchdog fired first. */
static bool run_rounds_timed(AioContext *ctx, TestWatchdog *wd, int rounds,
                             bool visible, int64_t visible_ns,
                             int64_t doorbell_ns)
{
    for (int i = 0; i < rounds; i++) {
        device_post(visible, visible_ns, doorbell_ns);
        while (dev.pending && !wd->fired) {
            aio_poll(ctx, true);
        }
        if (dev.pending) {
            diag("round %d of %d: event not handled before the watchdog",
                 i + 1, rounds);
            return false;
        }
    }
    return true;
}

static bool run_rounds(AioContext *ctx, TestWatchdog *wd, int rounds,
                       bool visible, int64_t doorbell_ns)
{
    return run_rounds_timed(ctx, wd, rounds, visible, 0, doorbell_ns);
}

/* The polling window in effect now, read without dispatching the device:
 * a blocking aio_poll that only a 100 µs timer ends publishes the window
 * (poll_ns_current) and adjusts no handler's window. */
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

/* Posts fd-only events until the device's window is @want (after the
 * first event, which only puts the handler in the poll set). */
static bool learn_window(AioContext *ctx, TestWatchdog *wd, int rounds,
                         int64_t want)
{
    bool done = run_rounds(ctx, wd, rounds, false, RING_NOW_NS);
    int64_t w = probe_window(ctx);
    if (w != want) {
        diag("learnt window %" PRId64 " ns, expected %" PRId64, w, want);
    }
    return done && w == want;
}

static void set_poll_mode(AioContext *ctx, AioPollMode mode)
{
    AioParams p = { 0 };
    GError *err = NULL;

    aio_params_set(&p, AIO_PARAM_POLL_MODE, mode);
    if (!aio_context_set_params(ctx, &p, &err)) {
        printf("Bail out! poll-mode %d: %s\n", mode, err ? err->message : "?");
        exit(1);
    }
    aio_poll(ctx, false);       /* consume the change's notification */
}

/* poll-mode auto, events never visible to io_poll: after AUTO_WARMUP
 * events the governor has judged several epochs that found nothing; over
 * the next ROUNDS events it opens at most its probes' windows. */
#define AUTO_WARMUP 100

static AioContext *auto_context_stopped_polling(TestWatchdog *wd)
{
    AioContext *ctx = setup(wd, LEARN_MAX_NS, 1, 0);

    set_poll_mode(ctx, AIO_POLL_MODE_AUTO);
    if (!run_rounds(ctx, wd, AUTO_WARMUP, false, RING_NOW_NS)) {
        diag("auto: warm-up events not delivered");
    }
    return ctx;
}

static void test_auto_stops_polling_invisible_events(void)
{
    TestWatchdog wd;
    AioContext *ctx = auto_context_stopped_polling(&wd);
    AioStats before, after;
    int reads = dev.read_calls;

    aio_context_get_stats(ctx, &before);
    ok(run_rounds(ctx, &wd, ROUNDS, false, RING_NOW_NS),
       "auto, invisible: %d events delivered", ROUNDS);
    aio_context_get_stats(ctx, &after);
    uint64_t attempts = after.poll_attempts - before.poll_attempts;
    is_int(dev.read_calls - reads, ROUNDS,
           "auto, invisible: every event dispatched through io_read");
    ok(attempts <= ROUNDS / 4,
       "auto, invisible: polling stopped (%" PRIu64 " windows for %d "
       "events, only probes)", attempts, ROUNDS);
    is_int((int64_t)(after.poll_hits - before.poll_hits), 0,
           "auto, invisible: no window found work");
    teardown(ctx, &wd);
}

static void test_auto_keeps_polling_visible_events(void)
{
    TestWatchdog wd;
    AioContext *ctx = setup(&wd, LEARN_MAX_NS, 2, 0);
    AioStats before, after;

    set_poll_mode(ctx, AIO_POLL_MODE_AUTO);
    aio_context_get_stats(ctx, &before);
    ok(run_rounds(ctx, &wd, ROUNDS, true, KICK_LAG_NS),
       "auto, visible: %d events delivered", ROUNDS);
    aio_context_get_stats(ctx, &after);
    is_int(dev.poll_ready_calls, ROUNDS - 2,
           "auto, visible: every event after the two that teach the window "
           "is found by polling");
    is_int((int64_t)(after.poll_hits - before.poll_hits), ROUNDS - 2,
           "auto, visible: poll_hits grew by one per event");
    teardown(ctx, &wd);
}

/*
 * poll-mode auto judges polling by the waits it takes off, measured
 * against iterations that skipped polling, not by an assumed wake-up
 * cost.  Timed devices, with margins of milliseconds:
 *  - slow doorbell: io_poll sees the event after 1 ms, the doorbell rings
 *    after 20 ms.  A window finds work late (1 ms of polling per find,
 *    far above any wake-up cost) but spares 19 ms of waiting: polling
 *    pays once the governor has measured the blocked waits;
 *  - fast doorbell: io_poll sees the event after 2 ms, the doorbell rings
 *    after 0.3 ms (polling slows the device).  Windows find every event,
 *    but waiting would have been shorter: polling stops.
 * WARMUP_TIMED events let the window grow (x2 per event from 4 µs) and
 * the governor judge a first epoch, measure skipped waits and judge a
 * probe.
 */
#define WARMUP_TIMED 64
#define TIMED_ROUNDS 64
/* As LEARN_MAX_NS: only a stall of 2 s could shrink a learnt window. */
#define TIMED_MAX_NS LEARN_MAX_NS

/* A timed device (see device_post) under poll-mode auto: @warmup events,
 * then @rounds measured ones: whether they were delivered, the stats
 * around them, and how many polling and the doorbell delivered. */
typedef struct TimedRun {
    bool delivered;
    AioStats before, after;
    int found, reads;
} TimedRun;

static TimedRun run_timed_auto(int warmup, int rounds, int64_t visible_ns,
                               int64_t doorbell_ns)
{
    TestWatchdog wd;
    AioContext *ctx = setup(&wd, TIMED_MAX_NS, 2, 0);
    TimedRun r = { 0 };

    set_poll_mode(ctx, AIO_POLL_MODE_AUTO);
    if (!run_rounds_timed(ctx, &wd, warmup, true, visible_ns, doorbell_ns)) {
        diag("timed device: warm-up events not delivered");
    }
    int found = dev.poll_ready_calls, reads = dev.read_calls;
    aio_context_get_stats(ctx, &r.before);
    r.delivered = run_rounds_timed(ctx, &wd, rounds, true, visible_ns,
                                   doorbell_ns);
    aio_context_get_stats(ctx, &r.after);
    r.found = dev.poll_ready_calls - found;
    r.reads = dev.read_calls - reads;
    teardown(ctx, &wd);
    return r;
}

static void test_auto_polls_when_waits_shrink_more_than_it_costs(void)
{
    TimedRun r = run_timed_auto(WARMUP_TIMED, TIMED_ROUNDS, 1000000, 20000000);

    ok(r.delivered, "auto, slow doorbell: %d events delivered", TIMED_ROUNDS);
    is_int(r.found, TIMED_ROUNDS,
           "auto, slow doorbell: every event found by polling (1 ms of "
           "polling spares 19 ms of waiting)");
    is_int((int64_t)(r.after.blocking_waits - r.before.blocking_waits), 0,
           "auto, slow doorbell: no blocking wait");
}

static void test_auto_stops_polling_that_lengthens_waits(void)
{
    TimedRun r = run_timed_auto(AUTO_WARMUP, ROUNDS, 2000000, 300000);
    uint64_t attempts = r.after.poll_attempts - r.before.poll_attempts;

    ok(r.delivered, "auto, fast doorbell: %d events delivered", ROUNDS);
    ok(attempts <= ROUNDS / 4,
       "auto, fast doorbell: polling stopped (%" PRIu64 " windows for %d "
       "events, only probes)", attempts, ROUNDS);
    ok(r.reads >= ROUNDS - ROUNDS / 4,
       "auto, fast doorbell: events came through the doorbell (%d of %d)",
       r.reads, ROUNDS);
}

/* After auto stopped polling, fixed polls every event's window again. */
static void test_fixed_after_auto_polls_again(void)
{
    TestWatchdog wd;
    AioContext *ctx = auto_context_stopped_polling(&wd);
    AioStats before, after;

    set_poll_mode(ctx, AIO_POLL_MODE_FIXED);
    aio_context_get_stats(ctx, &before);
    ok(run_rounds(ctx, &wd, ROUNDS, false, RING_NOW_NS),
       "auto -> fixed: %d events delivered", ROUNDS);
    aio_context_get_stats(ctx, &after);
    uint64_t attempts = after.poll_attempts - before.poll_attempts;
    ok(attempts >= ROUNDS,
       "auto -> fixed: a window before each event (%" PRIu64 " for %d)",
       attempts, ROUNDS);
    teardown(ctx, &wd);
}

/* poll-max-ns 0 empties the poll set: raised again, a handler re-enters
 * it on its next event as a new one (no window to adjust yet), rather
 * than growing a window it kept. */
static void test_poll_max_ns_zero_empties_poll_set(void)
{
    TestWatchdog wd;
    AioContext *ctx = setup(&wd, LEARN_MAX_NS, 2, 0);
    AioStats before, after;
    GError *err = NULL;
    bool learnt = learn_window(ctx, &wd, 2, 4000);

    if (!aio_context_set_poll_params(ctx, 0, 2, 0, &err) ||
        !aio_context_set_poll_params(ctx, LEARN_MAX_NS, 2, 0, &err)) {
        printf("Bail out! set_poll_params: %s\n", err ? err->message : "?");
        exit(1);
    }
    aio_poll(ctx, false);
    aio_context_get_stats(ctx, &before);
    ok(learnt && run_rounds(ctx, &wd, 1, false, RING_NOW_NS),
       "max 0 and back: window learnt, next event delivered");
    aio_context_get_stats(ctx, &after);
    is_int((int64_t)(after.poll_grows - before.poll_grows), 0,
           "max 0 and back: the first event re-enters the poll set without "
           "growing a window");
    teardown(ctx, &wd);
}

static void test_polling_off_uses_the_fd(void)
{
    TestWatchdog wd;
    AioContext *ctx = setup(&wd, 0, 0, 0);
    AioStats before, after;
    aio_context_get_stats(ctx, &before);
    ok(run_rounds(ctx, &wd, ROUNDS, true, KICK_LAG_NS),
       "off: %d events delivered", ROUNDS);
    aio_context_get_stats(ctx, &after);
    ok(dev.read_calls == ROUNDS && dev.poll_ready_calls == 0,
       "off: every event through io_read, even when visible to io_poll "
       "(read %d, poll_ready %d)", dev.read_calls, dev.poll_ready_calls);
    ok(after.poll_attempts == before.poll_attempts &&
       after.poll_hits == before.poll_hits,
       "off: no poll attempts or hits counted");
    is_int((int64_t)(after.fd_dispatches - before.fd_dispatches), ROUNDS,
           "off: fd_dispatches counts each io_read");
    teardown(ctx, &wd);
}

/* The first event puts the handler in the poll set (window 0), the second
 * teaches it its first window; every later one is already visible when
 * the window opens. */
static void test_visible_events_found_by_polling(void)
{
    TestWatchdog wd;
    AioContext *ctx = setup(&wd, LEARN_MAX_NS, 2, 0);
    AioStats before, after;
    aio_context_get_stats(ctx, &before);
    ok(run_rounds(ctx, &wd, ROUNDS, true, KICK_LAG_NS),
       "on: %d events delivered", ROUNDS);
    aio_context_get_stats(ctx, &after);
    uint64_t hits = after.poll_hits - before.poll_hits;
    is_int(dev.read_calls, 2,
           "on: only the two events that teach the window come through io_read");
    is_int(dev.poll_ready_calls, ROUNDS - 2,
           "on: every later event is found by polling via io_poll_ready");
    is_int((int64_t)hits, dev.poll_ready_calls,
           "on: poll_hits counts one hit per event found by polling");
    ok(after.polling_ns > before.polling_ns, "on: polling_ns grew");
    teardown(ctx, &wd);
}

/* Events announced only by the doorbell: each grows the window once by
 * the factor, starting from 4 µs. */
static void test_window_grows_by_factor(void)
{
    static const int64_t want[] = { 4000, 12000, 36000, 108000, 324000 };
    int64_t got[5];
    TestWatchdog wd;
    AioContext *ctx = setup(&wd, LEARN_MAX_NS, 3, 0);
    AioStats before, after;
    bool done = run_rounds(ctx, &wd, 1, false, RING_NOW_NS);
    bool same = true;
    aio_context_get_stats(ctx, &before);
    for (int i = 0; i < 5; i++) {
        done &= run_rounds(ctx, &wd, 1, false, RING_NOW_NS);
        got[i] = probe_window(ctx);
        if (got[i] != want[i]) {
            diag("event %d: window %" PRId64 " ns, expected %" PRId64,
                 i + 2, got[i], want[i]);
            same = false;
        }
    }
    aio_context_get_stats(ctx, &after);
    ok(done, "grow 3: events delivered");
    ok(same, "grow 3: windows 4, 12, 36, 108, 324 µs, one step per event");
    is_int((int64_t)(after.poll_grows - before.poll_grows), 5,
           "grow 3: poll_grows counts each step");
    teardown(ctx, &wd);
}

/* A grow step past poll-max-ns stops at poll-max-ns: 4 µs * 1000 = 4 ms,
 * then 4 s is capped at LEARN_MAX_NS. */
static void test_window_capped_at_max(void)
{
    TestWatchdog wd;
    AioContext *ctx = setup(&wd, LEARN_MAX_NS, 1000, 0);
    ok(learn_window(ctx, &wd, 3, 4000000), "cap: grow 1000 reaches 4 ms");
    ok(learn_window(ctx, &wd, 1, LEARN_MAX_NS),
       "cap: the next step stops at poll-max-ns (%lld ns)", LEARN_MAX_NS);
    teardown(ctx, &wd);
}

/* Learns a 16 µs window (grow 2), lowers poll-max-ns to 1 ms, then posts
 * an event whose doorbell rings after LATE_DOORBELL_NS; returns the window
 * after it.  Setting the parameters notifies the context: a non-blocking
 * poll consumes that, so the late event's wait is one blocking wait. */
static int64_t window_after_late_event(int64_t shrink, uint64_t *shrinks)
{
    TestWatchdog wd;
    AioContext *ctx = setup(&wd, LEARN_MAX_NS, 2, shrink);
    AioStats before, after;
    GError *err = NULL;
    int64_t w = -1;
    if (!learn_window(ctx, &wd, 4, 16000) ||
        !aio_context_set_poll_params(ctx, AIO_SCALE_MS, 2, shrink, &err)) {
        diag("shrink %" PRId64 ": could not set up the 16 µs window%s%s",
             shrink, err ? ": " : "", err ? err->message : "");
        g_clear_error(&err);
        teardown(ctx, &wd);
        return -1;
    }
    aio_poll(ctx, false);
    aio_context_get_stats(ctx, &before);
    if (run_rounds(ctx, &wd, 1, false, LATE_DOORBELL_NS)) {
        w = probe_window(ctx);
    }
    aio_context_get_stats(ctx, &after);
    *shrinks = after.poll_shrinks - before.poll_shrinks;
    teardown(ctx, &wd);
    return w;
}

/* The divisor is poll-shrink itself: 4, not the default 2 (which a loop
 * ignoring the parameter would use). */
static void test_shrink_divides_window(void)
{
    uint64_t shrinks = 0;
    int64_t w = window_after_late_event(4, &shrinks);
    is_int(w, 4000, "shrink 4: an event later than poll-max-ns quarters 16 µs");
    is_int((int64_t)shrinks, 1, "shrink 4: poll_shrinks counts it");
}

static void test_shrink_zero_resets_window(void)
{
    uint64_t shrinks = 0;
    int64_t w = window_after_late_event(0, &shrinks);
    is_int(w, 0, "shrink 0: an event later than poll-max-ns resets the window");
    is_int((int64_t)shrinks, 1, "shrink 0: poll_shrinks counts it");
}

/* ---- an event that arrives as polling ends -------------------------------
 *
 * A device that stops notifying while polled (io_poll_begin) may post work
 * after the last poll but before io_poll_end turns notifications back on:
 * no notification will announce that work.  The loop must poll once more
 * after io_poll_end, before it sleeps.  Here io_poll_end itself posts the
 * work, so it is always in that gap. */
/* Signals @e until its handler has a polling window, which is returned
 * (0: none after 10 tries): the first signal puts it in the poll set, a
 * later one (a wait longer than its empty window) gives it one; a
 * registration's own notification may come between. */
static int64_t teach_notifier_window(AioContext *ctx, EventNotifier *e)
{
    int64_t window = 0;
    for (int i = 0; i < 10 && window == 0; i++) {
        event_notifier_set(e);
        aio_poll(ctx, true);
        window = probe_window(ctx);
    }
    return window;
}

typedef struct GapDevice {
    EventNotifier e;
    bool post_at_poll_end;  /* the next io_poll_end posts work */
    bool posted;            /* work visible to io_poll, no notification */
    int found;              /* ... found by polling */
} GapDevice;

static GapDevice gap;

static void gap_read(EventNotifier *e)
{
    event_notifier_test_and_clear(e);
}

static bool gap_poll(void *opaque)
{
    return gap.posted;
}

static void gap_poll_ready(EventNotifier *e)
{
    if (gap.posted) {
        gap.posted = false;
        gap.found++;
    }
}

static void gap_poll_end(EventNotifier *e)
{
    if (gap.post_at_poll_end) {
        gap.post_at_poll_end = false;
        gap.posted = true;
    }
}

static void test_work_posted_as_polling_ends_is_found_before_sleeping(void)
{
    TestWatchdog wd;
    AioContext *ctx = test_context_new();
    GError *err = NULL;

    if (!aio_context_set_poll_params(ctx, LEARN_MAX_NS, 2, 0, &err) ||
        event_notifier_init(&gap.e, false) < 0) {
        printf("Bail out! gap device: %s\n", err ? err->message : "?");
        exit(1);
    }
    aio_set_event_notifier(ctx, &gap.e, gap_read, gap_poll, gap_poll_ready);
    aio_set_event_notifier_poll(ctx, &gap.e, NULL, gap_poll_end);
    int64_t window = teach_notifier_window(ctx, &gap.e);
    /* One blocking aio_poll: polls its window, finds nothing, ends
     * polling (the work appears), and must find it instead of sleeping
     * until the watchdog (which would end this aio_poll with found 0). */
    test_watchdog_arm(ctx, &wd, 2000);
    aio_poll(ctx, false);       /* consume the arming's notification */
    gap.post_at_poll_end = true;
    aio_poll(ctx, true);
    ok(window > 0 && gap.found == 1 && !wd.fired,
       "work posted between the last poll and io_poll_end is found before "
       "the loop sleeps (window %" PRId64 " ns, found %d, watchdog %s)",
       window, gap.found, wd.fired ? "fired" : "quiet");
    test_watchdog_disarm(&wd);
    aio_set_event_notifier(ctx, &gap.e, NULL, NULL, NULL);
    event_notifier_cleanup(&gap.e);
    aio_context_unref(ctx);
}

/* ---- a handler removed by another one found in the same poll pass ------ */

typedef struct PairDevice {
    EventNotifier e;        /* first: a PairDevice * is its notifier's */
    bool posted;            /* io_poll reports work */
    int ready_calls;
    AioContext *ctx;
    struct PairDevice *other;
} PairDevice;

static PairDevice pair[2];

static void pair_read(EventNotifier *e)
{
    event_notifier_test_and_clear(e);
}

static bool pair_poll(void *opaque)
{
    return ((PairDevice *)opaque)->posted;     /* opaque: the notifier */
}

/* Handles its work, then removes the other device's handler. */
static void pair_poll_ready(EventNotifier *e)
{
    PairDevice *d = (PairDevice *)e;
    d->posted = false;
    d->ready_calls++;
    if (d->ctx && d->other->ctx) {      /* (d->ctx NULL: called removed) */
        aio_set_event_notifier(d->ctx, &d->other->e, NULL, NULL, NULL);
        d->other->ctx = NULL;
    }
}

/* Both devices have work in the same polling pass, so both are on the
 * ready list; the first dispatched removes the other, which then must not
 * be called (aio.h: a removed handler is never called again). */
static void test_handler_removed_by_a_polled_one_is_not_called(void)
{
    TestWatchdog wd;
    AioContext *ctx = test_context_new();
    GError *err = NULL;
    int64_t window[2];

    if (!aio_context_set_poll_params(ctx, LEARN_MAX_NS, 2, 0, &err)) {
        printf("Bail out! %s\n", err ? err->message : "?");
        exit(1);
    }
    for (int i = 0; i < 2; i++) {
        pair[i] = (PairDevice){ .ctx = ctx, .other = &pair[1 - i] };
        g_assert(event_notifier_init(&pair[i].e, false) == 0);
        aio_set_event_notifier(ctx, &pair[i].e, pair_read, pair_poll,
                               pair_poll_ready);
    }
    for (int i = 0; i < 2; i++) {
        window[i] = teach_notifier_window(ctx, &pair[i].e);
    }
    test_watchdog_arm(ctx, &wd, 2000);
    aio_poll(ctx, false);       /* consume the arming's notification */
    pair[0].posted = pair[1].posted = true;
    aio_poll(ctx, true);
    ok(window[0] > 0 && window[1] > 0 &&
       pair[0].ready_calls + pair[1].ready_calls == 1,
       "of two handlers found by one poll pass, the one the other removed "
       "was not called (io_poll_ready calls %d and %d)", pair[0].ready_calls,
       pair[1].ready_calls);
    test_watchdog_disarm(&wd);
    for (int i = 0; i < 2; i++) {
        if (pair[i].ctx) {
            aio_set_event_notifier(ctx, &pair[i].e, NULL, NULL, NULL);
        }
        event_notifier_cleanup(&pair[i].e);
    }
    aio_context_unref(ctx);
}

int main(void)
{
    test_polling_off_uses_the_fd();
    test_visible_events_found_by_polling();
    test_window_grows_by_factor();
    test_window_capped_at_max();
    test_shrink_divides_window();
    test_shrink_zero_resets_window();
    test_poll_max_ns_zero_empties_poll_set();
    test_auto_stops_polling_invisible_events();
    test_auto_keeps_polling_visible_events();
    test_auto_polls_when_waits_shrink_more_than_it_costs();
    test_auto_stops_polling_that_lengthens_waits();
    test_fixed_after_auto_polls_again();
    test_work_posted_as_polling_ends_is_found_before_sleeping();
    test_handler_removed_by_a_polled_one_is_not_called();
    return done_testing();
}
