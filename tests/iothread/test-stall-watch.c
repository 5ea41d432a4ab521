/*
 * test-stall-watch: the stall watchdog's rules (iothread/stall-watch.h)
 * on made-up heartbeat samples and clock values, so every case is exact:
 *  - a call seen past the threshold: one ongoing report with its kind and
 *    name, counted once, then one final report when it returns;
 *  - a call that returns before the threshold: nothing;
 *  - a burst of stalls within the report interval: one report, and the
 *    next report carries the others as suppressed (all counted);
 *  - threshold 0: nothing is a stall;
 *  - the sampling period: an eighth of the threshold within [1 ms, 1 s].
 */
#include "stall-watch.h"
#include "tap.h"

#include <string.h>

#define MS 1000000LL

static AioHeartbeat running(uint64_t call_id, const char *name)
{
    return (AioHeartbeat){ .in_call = true, .kind = AIO_CALL_FD,
                           .name = name, .call_id = call_id };
}

static const AioHeartbeat idle;

typedef struct Run {
    int reports, ongoing, final;
    StallReport last;
} Run;

/* Sample @hb every @step from @from to @to (inclusive) into @run. */
static int64_t sample_span(StallWatch *w, const AioHeartbeat *hb,
                           int64_t threshold, int64_t from, int64_t to,
                           int64_t step, Run *run)
{
    for (int64_t t = from; t <= to; t += step) {
        StallReport r;

        if (stall_watch_sample(w, hb, threshold, t, &r)) {
            run->reports++;
            run->ongoing += r.ongoing;
            run->final += !r.ongoing;
            run->last = r;
        }
    }
    return to + step;
}

static void test_stall_reported_ongoing_then_final(void)
{
    StallWatch w;
    Run run = { 0 };
    AioHeartbeat hb = running(7, "slow-read");

    stall_watch_init(&w);
    sample_span(&w, &hb, 100 * MS, 0, 150 * MS, 10 * MS, &run);
    ok(run.reports == 1 && run.ongoing == 1 && run.last.ongoing &&
       run.last.kind == AIO_CALL_FD &&
       strcmp(run.last.name, "slow-read") == 0 &&
       run.last.duration_ns == 100 * MS && run.last.suppressed == 0,
       "one ongoing report naming fd 'slow-read' once seen for 100 ms "
       "(duration %" PRId64 ")", run.last.duration_ns);
    is_int((int64_t)w.stalls, 1, "the stall is counted once");
    sample_span(&w, &idle, 100 * MS, 160 * MS, 200 * MS, 10 * MS, &run);
    ok(run.reports == 2 && run.final == 1 && !run.last.ongoing &&
       run.last.duration_ns == 160 * MS,
       "one final report when it returned, with the watched time (%" PRId64
       " ns)", run.last.duration_ns);
    is_int((int64_t)w.stalls, 1, "still one stall");
}

static void test_short_call_not_reported(void)
{
    StallWatch w;
    Run run = { 0 };
    AioHeartbeat a = running(1, "quick"), b = running(2, "quick");

    stall_watch_init(&w);
    sample_span(&w, &a, 100 * MS, 0, 90 * MS, 10 * MS, &run);
    sample_span(&w, &b, 100 * MS, 100 * MS, 190 * MS, 10 * MS, &run);
    sample_span(&w, &idle, 100 * MS, 200 * MS, 400 * MS, 10 * MS, &run);
    ok(run.reports == 0 && w.stalls == 0,
       "calls seen for less than the threshold (even back to back, same "
       "name) are neither reported nor counted");
}

static void test_burst_rate_limited(void)
{
    enum { N = 5 };
    StallWatch w;
    Run run = { 0 };
    int64_t t = 0;

    stall_watch_init(&w);
    for (int i = 0; i < N; i++) {
        AioHeartbeat hb = running(10 + i, "burst");
        t = sample_span(&w, &hb, 20 * MS, t, t + 30 * MS, 10 * MS, &run);
    }
    t = sample_span(&w, &idle, 20 * MS, t, t, 10 * MS, &run);
    ok(run.ongoing == 1 && run.final == 1,
       "%d stalls within a second: one stall reported (ongoing + final), "
       "got %d ongoing, %d final", N, run.ongoing, run.final);
    is_int((int64_t)w.stalls, N, "all %d are counted", N);
    AioHeartbeat later = running(99, "later");
    t = sample_span(&w, &later, 20 * MS, t + STALL_REPORT_INTERVAL_NS,
                    t + STALL_REPORT_INTERVAL_NS + 30 * MS, 10 * MS, &run);
    ok(run.ongoing == 2 && run.last.ongoing &&
       strcmp(run.last.name, "later") == 0,
       "a stall after the interval is reported");
    is_int(run.last.suppressed, N - 1,
           "and carries the %d suppressed stalls", N - 1);
}

static void test_threshold_zero_is_off(void)
{
    StallWatch w;
    Run run = { 0 };
    AioHeartbeat hb = running(3, "forever");

    stall_watch_init(&w);
    sample_span(&w, &hb, 0, 0, 10000 * MS, 100 * MS, &run);
    ok(run.reports == 0 && w.stalls == 0,
       "with threshold 0 a call running 10 s is no stall");
}

static void test_sampling_period(void)
{
    ok(stall_watch_period_ns(100 * MS) == 100 * MS / 8 &&
       stall_watch_period_ns(2 * MS) == 1 * MS &&
       stall_watch_period_ns(60000 * MS) == 1000 * MS,
       "sampling period: threshold / 8 within [1 ms, 1 s]");
}

int main(void)
{
    test_stall_reported_ongoing_then_final();
    test_short_call_not_reported();
    test_burst_rate_limited();
    test_threshold_zero_is_off();
    test_sampling_period();
    return done_testing();
}
