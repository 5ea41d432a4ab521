/*
 * test-loop-time: where a loop's wall time goes, and its histograms.
 *
 *  - busy_ns + polling_ns + blocked_ns == wall_ns in every snapshot, and
 *    each figure only grows, while another thread keeps waking the loop
 *    (the figures are read at one instant);
 *  - an idle loop reads >= 95% blocked, a loop running a BH that
 *    reschedules itself >= 95% busy, with its thread CPU beside it (these
 *    hold under any load: the figures are wall-clock time the loop spent
 *    in each phase, descheduled or not);
 *  - wake latency: one value per cross-thread wake-up of a waiting loop,
 *    each within the round trip the waker measured around it; none for
 *    notifies from the loop's own thread;
 *  - iteration_ns: a pass that ran a callback of known length records at
 *    least that length;
 *  - poll windows: min <= median <= max, max the window the loop uses,
 *    all 0 once polling is off.
 * The loop runs in its own thread; the test waits for conditions (with a
 * deadline that only guards against a hang), never for a fixed time.
 */
#include "aio-test.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define DEADLINE_NS (20LL * 1000 * 1000 * 1000)
/* Intervals the share tests look at: long against the loop's own
 * overhead, short for the suite. */
#define INTERVAL_NS (50LL * 1000 * 1000)

static int64_t now_ns(void)
{
    return aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
}

/* A thread running blocking aio_poll() on @ctx until 'stop'. */
typedef struct Loop {
    AioContext *ctx;
    pthread_t thread;
    atomic_bool stop;
} Loop;

static void *loop_thread(void *opaque)
{
    Loop *l = opaque;

    aio_set_current_context(l->ctx);
    while (!atomic_load(&l->stop)) {
        aio_poll(l->ctx, true);
    }
    return NULL;
}

static void loop_start(Loop *l, AioContext *ctx)
{
    l->ctx = ctx;
    atomic_store(&l->stop, false);
    pthread_create(&l->thread, NULL, loop_thread, l);
}

static void loop_stop(Loop *l)
{
    atomic_store(&l->stop, true);
    aio_notify(l->ctx);
    pthread_join(l->thread, NULL);
}

/* Whether @cond became true before the deadline, re-evaluated every
 * 100 µs. */
/* The value @cond had when the wait ended: asking again could see a
 * racy condition (the loop is waiting) change in between. */
#define WAIT_FOR(cond) ({                                               \
    int64_t deadline_ = now_ns() + DEADLINE_NS;                         \
    bool held_;                                                         \
    while (!(held_ = (cond)) && now_ns() < deadline_) {                 \
        g_usleep(100);                                                  \
    }                                                                   \
    held_;                                                              \
})

static AioContext *new_context(int64_t poll_max_ns)
{
    AioContext *ctx = aio_context_new(NULL);

    g_assert(ctx);
    g_assert(aio_context_set_poll_params(ctx, poll_max_ns, 0, 0, NULL));
    return ctx;
}

/* Snapshot @after at least INTERVAL_NS of loop wall time after @before. */
static bool read_interval(AioContext *ctx, AioStats *before, AioStats *after)
{
    aio_context_get_stats(ctx, before);
    return WAIT_FOR((aio_context_get_stats(ctx, after),
                     after->wall_ns >= before->wall_ns + INTERVAL_NS));
}

static double share(uint64_t part_after, uint64_t part_before,
                    const AioStats *after, const AioStats *before)
{
    return (double)(part_after - part_before) /
           (double)(after->wall_ns - before->wall_ns);
}

/* ---------------------------------------------------------------------- */

static atomic_bool waker_stop;

/* Schedules a BH into the loop as fast as it answers. */
static void *waker_thread(void *opaque)
{
    AioBH *bh = opaque;

    while (!atomic_load(&waker_stop)) {
        aio_bh_schedule(bh);
        sched_yield();
    }
    return NULL;
}

static void nop_cb(void *opaque)
{
    atomic_fetch_add((atomic_int *)opaque, 1);
}

static void test_time_adds_up_in_every_snapshot(void)
{
    AioContext *ctx = new_context(32768);
    atomic_int runs = 0;
    AioBH *bh = aio_bh_new(ctx, nop_cb, &runs);
    AioStats prev, cur;
    Loop loop;
    pthread_t waker;
    int sums_off = 0, shrank = 0, snapshots = 0;

    loop_start(&loop, ctx);
    atomic_store(&waker_stop, false);
    pthread_create(&waker, NULL, waker_thread, bh);
    memset(&prev, 0, sizeof(prev));
    /* Many snapshots while the loop switches phases all the time. */
    for (; snapshots < 20000 || atomic_load(&runs) < 100; snapshots++) {
        aio_context_get_stats(ctx, &cur);
        sums_off += cur.busy_ns + cur.polling_ns + cur.blocked_ns != cur.wall_ns;
        shrank += cur.busy_ns < prev.busy_ns || cur.polling_ns < prev.polling_ns ||
                  cur.blocked_ns < prev.blocked_ns || cur.wall_ns < prev.wall_ns;
        prev = cur;
        if (snapshots > 2000000) {
            break;      /* the loop never ran a BH: reported below */
        }
    }
    atomic_store(&waker_stop, true);
    pthread_join(waker, NULL);
    loop_stop(&loop);
    ok(atomic_load(&runs) >= 100, "the loop was woken %d times meanwhile",
       atomic_load(&runs));
    is_int(sums_off, 0, "busy + polling + blocked == wall in all %d snapshots",
           snapshots);
    is_int(shrank, 0, "no figure ever went backwards between snapshots");
    aio_bh_delete(bh);
    aio_context_unref(ctx);
}

static void test_idle_loop_reads_blocked(void)
{
    AioContext *ctx = new_context(32768);
    AioStats before, after;
    Loop loop;

    loop_start(&loop, ctx);
    ok(WAIT_FOR(test_loop_is_waiting(ctx, NULL)), "the idle loop waits");
    bool long_enough = read_interval(ctx, &before, &after);
    double blocked = share(after.blocked_ns, before.blocked_ns, &after, &before);
    loop_stop(&loop);
    ok(long_enough, "%" PRIu64 " ns of loop wall time went by",
       after.wall_ns - before.wall_ns);
    ok(blocked >= 0.95, "an idle loop reads %.2f%% blocked (>= 95%%)",
       blocked * 100);
    aio_context_unref(ctx);
}

typedef struct Spinner {
    AioBH *bh;
    atomic_bool stop;
    atomic_uint_fast64_t calls;
} Spinner;

static void spin_cb(void *opaque)
{
    Spinner *s = opaque;

    atomic_fetch_add(&s->calls, 1);
    if (!atomic_load(&s->stop)) {
        aio_bh_schedule(s->bh);
    }
}

static void test_spinning_bh_reads_busy(void)
{
    AioContext *ctx = new_context(32768);
    Spinner sp = { .calls = 0 };
    AioStats before, after;
    Loop loop;

    sp.bh = aio_bh_new(ctx, spin_cb, &sp);
    loop_start(&loop, ctx);
    aio_bh_schedule(sp.bh);
    ok(WAIT_FOR(atomic_load(&sp.calls) > 1000), "the BH spins");
    bool long_enough = read_interval(ctx, &before, &after) &&
        WAIT_FOR((aio_context_get_stats(ctx, &after),
                  after.bh_calls > before.bh_calls));
    double busy = share(after.busy_ns, before.busy_ns, &after, &before);
    atomic_store(&sp.stop, true);
    loop_stop(&loop);
    ok(long_enough, "%" PRIu64 " ns of loop wall time and %" PRIu64
       " BH calls went by", after.wall_ns - before.wall_ns,
       after.bh_calls - before.bh_calls);
    ok(busy >= 0.95, "a loop spinning a BH reads %.2f%% busy (>= 95%%)",
       busy * 100);
    ok(after.thread_cpu_ns > before.thread_cpu_ns,
       "its thread CPU is reported beside it (+%" PRIu64 " ns)",
       after.thread_cpu_ns - before.thread_cpu_ns);
    aio_bh_delete(sp.bh);
    aio_context_unref(ctx);
}

/* ---------------------------------------------------------------------- */

#define WAKES 20

static void test_wake_latency_one_per_cross_thread_wake(int64_t poll_max_ns)
{
    AioContext *ctx = new_context(poll_max_ns);
    atomic_int runs = 0;
    AioBH *bh = aio_bh_new(ctx, nop_cb, &runs);
    AioContextHistograms h;
    int64_t max_rtt = 0;
    int woken = 0;
    Loop loop;

    loop_start(&loop, ctx);
    for (int i = 0; i < WAKES; i++) {
        if (!WAIT_FOR(test_loop_is_waiting(ctx, NULL))) {
            break;
        }
        int64_t t0 = now_ns();
        aio_bh_schedule(bh);
        if (!WAIT_FOR(atomic_load(&runs) > i)) {
            break;
        }
        max_rtt = MAX(max_rtt, now_ns() - t0);
        woken++;
    }
    ok(WAIT_FOR(test_loop_is_waiting(ctx, NULL)), "the loop waits again");
    aio_context_get_histograms(ctx, &h);
    loop_stop(&loop);
    is_int(woken, WAKES, "poll-max-ns %" PRId64 ": the loop was woken %d "
           "times", poll_max_ns, WAKES);
    /* A wait can end for another reason (a timer of the context) just
     * before the notify arrives; that notify then finds the loop busy and
     * is rightly not a wake-up (seen: 19 of 20, 3 runs in 40).  So: never
     * more than one per wake-up, and all but a few recorded. */
    ok(h.wake_latency_ns.count <= WAKES &&
       h.wake_latency_ns.count >= WAKES * 3 / 4,
       "one wake latency per cross-thread wake-up (%" PRIu64 " of %d)",
       h.wake_latency_ns.count, WAKES);
    ok(h.wake_latency_ns.max <= (uint64_t)max_rtt,
       "each within the waker's round trip (max %" PRIu64 " <= %" PRId64
       " ns)", h.wake_latency_ns.max, max_rtt);
    aio_bh_delete(bh);
    aio_context_unref(ctx);
}

static void test_in_thread_notify_records_no_wake(void)
{
    AioContext *ctx = new_context(32768);
    atomic_int runs = 0;
    AioBH *bh = aio_bh_new(ctx, nop_cb, &runs);
    AioContextHistograms h;

    for (int i = 0; i < 100; i++) {
        aio_bh_schedule(bh);
        aio_poll(ctx, true);
    }
    aio_context_get_histograms(ctx, &h);
    is_int(atomic_load(&runs), 100, "100 BHs scheduled and run in-thread");
    is_int((int64_t)h.wake_latency_ns.count, 0,
           "a notify from the loop's own thread is no wake-up");
    aio_bh_delete(bh);
    aio_context_unref(ctx);
}

typedef struct Burn {
    int64_t ns;         /* how long to run */
    atomic_int_fast64_t ran_ns;     /* how long it ran, measured */
} Burn;

static void burn_cb(void *opaque)
{
    Burn *b = opaque;
    int64_t t0 = now_ns(), t;

    while ((t = now_ns()) - t0 < b->ns) {
    }
    atomic_store(&b->ran_ns, t - t0);
}

static void test_iteration_covers_the_callback(void)
{
    AioContext *ctx = new_context(0);
    Burn burn = { .ns = 2000000, .ran_ns = 0 };
    AioBH *bh = aio_bh_new(ctx, burn_cb, &burn);
    AioContextHistograms before, after;
    Loop loop;

    loop_start(&loop, ctx);
    ok(WAIT_FOR(test_loop_is_waiting(ctx, NULL)), "the loop waits");
    aio_context_get_histograms(ctx, &before);
    aio_bh_schedule(bh);
    bool ran = WAIT_FOR(atomic_load(&burn.ran_ns) > 0) &&
               WAIT_FOR(test_loop_is_waiting(ctx, NULL));
    aio_context_get_histograms(ctx, &after);
    loop_stop(&loop);
    ok(ran, "the BH ran for %" PRId64 " ns and the loop waits again",
       (int64_t)atomic_load(&burn.ran_ns));
    ok(after.iteration_ns.count > before.iteration_ns.count,
       "the pass between the two waits is recorded in iteration_ns");
    ok(after.iteration_ns.max >= (uint64_t)atomic_load(&burn.ran_ns),
       "it covers the callback (%" PRIu64 " >= %" PRId64 " ns)",
       after.iteration_ns.max, (int64_t)atomic_load(&burn.ran_ns));
    aio_bh_delete(bh);
    aio_context_unref(ctx);
}

/* ---------------------------------------------------------------------- */

typedef struct PollOff {
    AioContext *ctx;
    atomic_bool done;
} PollOff;

/* In the loop's thread (its home): polling off. */
static void poll_off_cb(void *opaque)
{
    PollOff *p = opaque;

    aio_context_set_poll_params(p->ctx, 0, 0, 0, NULL);
    atomic_store(&p->done, true);
}

static void test_poll_windows_follow_polling(void)
{
    /* A wait longer than poll-max-ns resets the window: allow 1 s, far
     * above the test's own pauses between wake-ups. */
    AioContext *ctx = new_context(1000000000);
    atomic_int runs = 0;
    AioBH *bh = aio_bh_new(ctx, nop_cb, &runs);
    PollOff off = { .ctx = ctx };
    AioBH *off_bh = aio_bh_new(ctx, poll_off_cb, &off);
    AioStats s;
    Loop loop;

    loop_start(&loop, ctx);
    /* Cross-thread wake-ups put the context's notifier in the poll set
     * and grow its polling time from 0. */
    for (int i = 0; i < 10; i++) {
        WAIT_FOR(test_loop_is_waiting(ctx, NULL));
        aio_bh_schedule(bh);
        WAIT_FOR(atomic_load(&runs) > i);
    }
    bool grown = WAIT_FOR((aio_context_get_stats(ctx, &s),
                           s.poll_window_max_ns > 0 &&
                           test_loop_is_waiting(ctx, NULL)));
    aio_context_get_stats(ctx, &s);
    ok(grown, "a polled handler's window grew (max %" PRId64 " ns)",
       s.poll_window_max_ns);
    ok(s.poll_window_min_ns <= s.poll_window_median_ns &&
       s.poll_window_median_ns <= s.poll_window_max_ns,
       "min %" PRId64 " <= median %" PRId64 " <= max %" PRId64,
       s.poll_window_min_ns, s.poll_window_median_ns, s.poll_window_max_ns);
    is_int(s.poll_window_max_ns, s.poll_ns_current,
           "max is the window the loop busy-polls for");

    aio_bh_schedule(off_bh);
    bool published = WAIT_FOR(atomic_load(&off.done)) &&
                     WAIT_FOR(test_loop_is_waiting(ctx, NULL));
    aio_context_get_stats(ctx, &s);
    loop_stop(&loop);
    ok(published && s.poll_window_min_ns == 0 &&
       s.poll_window_median_ns == 0 && s.poll_window_max_ns == 0,
       "polling off: no handler polled, all 0 by the next wait "
       "(%" PRId64 "/%" PRId64 "/%" PRId64 ")", s.poll_window_min_ns,
       s.poll_window_median_ns, s.poll_window_max_ns);
    aio_bh_delete(off_bh);
    aio_bh_delete(bh);
    aio_context_unref(ctx);
}

int main(void)
{
    AioContext *probe = test_context_new();

    aio_context_unref(probe);
    test_time_adds_up_in_every_snapshot();
    test_idle_loop_reads_blocked();
    test_spinning_bh_reads_busy();
    test_wake_latency_one_per_cross_thread_wake(0);
    test_wake_latency_one_per_cross_thread_wake(32768);
    test_in_thread_notify_records_no_wake();
    test_iteration_covers_the_callback();
    test_poll_windows_follow_polling();
    return done_testing();
}
