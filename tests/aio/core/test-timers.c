/*
 * test-timers: AioTimer on both clocks and aio_compute_timeout().
 *
 * Timers armed in shuffled order fire in deadline order and never before
 * their deadline (checked against aio_clock_get_ns of their own clock, not
 * against durations: no timing assertion beyond "not early").  Re-arming
 * moves a timer, deleting stops it, scales apply, and aio_compute_timeout
 * reflects timers and BHs.
 */
#include "aio-test.h"

#define NTIMERS 6

typedef struct TimerRec {
    AioTimer timer;
    AioClockType clock;
    int64_t deadline_ns;
    int64_t fired_at_ns;
    int order;          /* firing position, -1 until fired */
} TimerRec;

static TimerRec recs[NTIMERS];
static int fired;

static void rec_cb(void *opaque)
{
    TimerRec *r = opaque;
    r->fired_at_ns = aio_clock_get_ns(r->clock);
    r->order = fired++;
}

static void test_deadline_order(AioContext *ctx, AioClockType clock,
                                const char *clock_name)
{
    /* Offsets in µs, deliberately not armed in order. */
    static const int64_t offset_us[NTIMERS] = { 3000, 500, 2000, 1000, 4000, 1500 };
    fired = 0;
    int64_t now = aio_clock_get_ns(clock);
    for (int i = 0; i < NTIMERS; i++) {
        recs[i] = (TimerRec){ .clock = clock, .order = -1,
                              .deadline_ns = now + offset_us[i] * 1000 };
        aio_timer_init(ctx, &recs[i].timer, clock, AIO_SCALE_NS, rec_cb,
                       &recs[i]);
        aio_timer_mod_ns(&recs[i].timer, recs[i].deadline_ns);
    }
    ok(aio_timer_pending(&recs[0].timer) &&
       aio_timer_expire_time_ns(&recs[0].timer) == recs[0].deadline_ns,
       "%s: pending with the armed expire time", clock_name);

    bool all = POLL_UNTIL(ctx, fired == NTIMERS, 5000);
    ok(all, "%s: all %d timers fired", clock_name, NTIMERS);

    bool early = false, in_order = true;
    for (int i = 0; i < NTIMERS; i++) {
        if (recs[i].fired_at_ns < recs[i].deadline_ns) {
            early = true;
            diag("timer %d fired %" PRId64 " ns early", i,
                 recs[i].deadline_ns - recs[i].fired_at_ns);
        }
        for (int j = 0; j < NTIMERS; j++) {
            if (recs[i].deadline_ns < recs[j].deadline_ns &&
                recs[i].order > recs[j].order) {
                in_order = false;
            }
        }
    }
    ok(!early, "%s: no timer fired before its deadline", clock_name);
    ok(in_order, "%s: timers fired in deadline order", clock_name);
    ok(!aio_timer_pending(&recs[0].timer) &&
       aio_timer_expire_time_ns(&recs[0].timer) == -1,
       "%s: a fired timer is no longer pending", clock_name);
}

static void count_cb(void *opaque)
{
    (*(int *)opaque)++;
}

static void test_mod_del(AioContext *ctx)
{
    int n = 0;
    AioTimer *t = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_MS,
                                count_cb, &n);
    int64_t now_ms = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) / AIO_SCALE_MS;

    /* Armed far away then moved close: fires at the new time. */
    aio_timer_mod(t, now_ms + 60000);
    int64_t far = aio_timer_expire_time_ns(t);
    aio_timer_mod(t, now_ms + 2);
    ok(aio_timer_expire_time_ns(t) < far &&
       aio_timer_expire_time_ns(t) == (now_ms + 2) * AIO_SCALE_MS,
       "mod: re-arming moves the deadline (ms scale converts to ns)");
    bool done = POLL_UNTIL(ctx, n == 1, 5000);
    ok(done, "mod: moved timer fired");
    ok(aio_clock_get_ns(AIO_CLOCK_MONOTONIC) >= (now_ms + 2) * AIO_SCALE_MS,
       "mod: not before its deadline");

    /* Deleted before expiry: never fires. */
    aio_timer_mod(t, now_ms + 1);   /* already in the past or nearly */
    aio_timer_del(t);
    ok(!aio_timer_pending(t), "del: not pending");
    int m = 0;
    AioTimer *later = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_US,
                                    count_cb, &m);
    aio_timer_mod(later, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) / 1000 + 5000);
    done = POLL_UNTIL(ctx, m == 1, 5000);
    ok(done && n == 1, "del: deleted timer did not fire (a later one did)");

    /* Expired on arming: runs on the next non-blocking poll. */
    aio_timer_mod_ns(t, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) - 1);
    ok(aio_poll(ctx, false) && n == 2, "expired timer runs on next poll");
    ok(!aio_poll(ctx, false), "expired timer: once");

    aio_timer_free(later);
    aio_timer_free(t);
}

static void test_compute_timeout(AioContext *ctx)
{
    while (aio_poll(ctx, false)) {
    }
    is_int(aio_compute_timeout(ctx), -1,
           "compute_timeout: nothing pending means forever (-1)");

    int n = 0;
    AioTimer *t = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                                count_cb, &n);
    aio_timer_mod_ns(t, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) +
                        50 * AIO_SCALE_MS);
    int64_t to = aio_compute_timeout(ctx);
    ok(to > 0 && to <= 50 * AIO_SCALE_MS,
       "compute_timeout: bounded by a 50 ms timer (%" PRId64 " ns)", to);

    AioTimer *rt = aio_timer_new(ctx, AIO_CLOCK_REALTIME, AIO_SCALE_NS,
                                 count_cb, &n);
    aio_timer_mod_ns(rt, aio_clock_get_ns(AIO_CLOCK_REALTIME) +
                         20 * AIO_SCALE_MS);
    to = aio_compute_timeout(ctx);
    ok(to > 0 && to <= 20 * AIO_SCALE_MS,
       "compute_timeout: the nearest clock's timer wins (%" PRId64 " ns)",
       to);

    AioBH *bh = aio_bh_new(ctx, count_cb, &n);
    aio_bh_schedule(bh);
    is_int(aio_compute_timeout(ctx), 0,
           "compute_timeout: a scheduled BH means 0");
    aio_poll(ctx, false);

    aio_timer_mod_ns(t, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) - 1);
    is_int(aio_compute_timeout(ctx), 0,
           "compute_timeout: an expired timer means 0");
    aio_poll(ctx, false);

    aio_timer_del(rt);
    is_int(aio_compute_timeout(ctx), -1,
           "compute_timeout: back to -1 after timers fired/deleted");
    aio_bh_delete(bh);
    aio_timer_free(rt);
    aio_timer_free(t);
}

int main(void)
{
    AioContext *ctx = test_context_new();
    test_deadline_order(ctx, AIO_CLOCK_MONOTONIC, "monotonic");
    test_deadline_order(ctx, AIO_CLOCK_REALTIME, "realtime");
    test_mod_del(ctx);
    test_compute_timeout(ctx);
    aio_context_unref(ctx);
    return done_testing();
}
