/*
 * test-callstats: per-name call accounting and the heartbeat, single
 * thread, once per fdmon.
 *
 * With stats-detail 1, a BH, an fd handler, a timer and a coroutine, each
 * named through its _full variant and called a known number of times, show
 * exactly that many calls under their kind and name; the plain calls name
 * a callback after its function; with stats-detail 0 nothing is recorded;
 * a name's first call is timed; names past the cap are counted as
 * "(other)".  With stall-threshold-ns > 0 the heartbeat shows the running
 * callback (and the outer one again after a nested call), and nothing
 * with it 0.
 */
#include "aio-test.h"
#include "aioctx/coroutine.h"

#include <sys/eventfd.h>
#include <unistd.h>

static void set_param(AioContext *ctx, AioParamId id, int64_t value)
{
    AioParams p = { 0 };

    aio_params_set(&p, id, value);
    if (!aio_context_set_params(ctx, &p, NULL)) {
        printf("Bail out! cannot set %s\n", aio_param_info(id)->name);
        exit(1);
    }
}

static AioContext *detail_context(void)
{
    AioContext *ctx = test_context_new();

    set_param(ctx, AIO_PARAM_STATS_DETAIL, 1);
    return ctx;
}

/* The entry of (@kind, @name) in a fresh snapshot; calls -1 if absent. */
static AioCallStats find_call(AioContext *ctx, AioCallKind kind,
                              const char *name)
{
    AioCallStats *all, found = { .calls = (uint64_t)-1 };
    guint n = aio_context_get_call_stats(ctx, &all);

    for (guint i = 0; i < n; i++) {
        if (all[i].kind == kind && strcmp(all[i].name, name) == 0) {
            found = all[i];
        }
    }
    g_free(all);
    return found;
}

/* ---------------------------------------------------------------------- */
/* Known call counts                                                       */

typedef struct Counted {
    AioBH *bh;
    int runs, want;
} Counted;

static void counted_bh(void *opaque)
{
    Counted *c = opaque;

    if (++c->runs < c->want) {
        aio_bh_schedule(c->bh);
    }
}

static void test_bh_calls_counted(void)
{
    AioContext *ctx = detail_context();
    Counted c = { .want = 5 };

    c.bh = aio_bh_new_full(ctx, counted_bh, &c, "bh-counted");
    aio_bh_schedule(c.bh);
    ok(POLL_UNTIL(ctx, c.runs == c.want, 5000), "the BH ran 5 times");
    is_int((int64_t)find_call(ctx, AIO_CALL_BH, "bh-counted").calls, 5,
           "bh 'bh-counted' counts 5 calls");
    aio_bh_delete(c.bh);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
}

static void efd_read(void *opaque)
{
    int *reads = opaque;
    uint64_t v;

    if (read(reads[1], &v, sizeof(v)) == sizeof(v)) {
        reads[0]++;
    }
}

static void test_fd_calls_counted(void)
{
    AioContext *ctx = detail_context();
    int reads[2] = { 0, eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };
    uint64_t one = 1;
    bool all = true;

    aio_set_fd_handler_full(ctx, reads[1], efd_read, NULL, NULL, NULL, reads,
                            "fd-counted");
    for (int i = 1; i <= 3; i++) {
        all &= write(reads[1], &one, sizeof(one)) == sizeof(one);
        all &= POLL_UNTIL(ctx, reads[0] == i, 5000);
    }
    ok(all, "the eventfd was read 3 times");
    is_int((int64_t)find_call(ctx, AIO_CALL_FD, "fd-counted").calls, 3,
           "fd 'fd-counted' counts 3 calls");
    aio_set_fd_handler(ctx, reads[1], NULL, NULL, NULL, NULL, NULL);
    close(reads[1]);
    aio_context_unref(ctx);
}

typedef struct Ticker {
    AioTimer *timer;
    int fired, want;
} Ticker;

static void ticker_cb(void *opaque)
{
    Ticker *t = opaque;

    if (++t->fired < t->want) {
        aio_timer_mod_ns(t->timer, aio_clock_get_ns(AIO_CLOCK_MONOTONIC));
    }
}

static void test_timer_calls_counted(void)
{
    AioContext *ctx = detail_context();
    Ticker t = { .want = 4 };

    t.timer = aio_timer_new_full(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                                 ticker_cb, &t, "timer-counted");
    aio_timer_mod_ns(t.timer, aio_clock_get_ns(AIO_CLOCK_MONOTONIC));
    ok(POLL_UNTIL(ctx, t.fired == t.want, 5000), "the timer fired 4 times");
    is_int((int64_t)find_call(ctx, AIO_CALL_TIMER, "timer-counted").calls, 4,
           "timer 'timer-counted' counts 4 calls");
    aio_timer_free(t.timer);
    aio_context_unref(ctx);
}

static void yield_twice(void *opaque)
{
    aio_coroutine_yield();
    aio_coroutine_yield();
    (*(int *)opaque)++;
}

static void test_coroutine_entries_counted(void)
{
    AioContext *ctx = detail_context();
    int done = 0;
    Coroutine *co = aio_coroutine_create_named(yield_twice, &done, 0,
                                               "co-counted");

    aio_set_current_context(ctx);
    for (int i = 0; i < 3; i++) {
        aio_coroutine_enter(co);
    }
    is_int(done, 1, "the coroutine ran to its end in 3 entries");
    is_int((int64_t)find_call(ctx, AIO_CALL_COROUTINE, "co-counted").calls, 3,
           "coroutine 'co-counted' counts 3 calls (entries)");
    aio_set_current_context(NULL);
    aio_context_unref(ctx);
}

/* ---------------------------------------------------------------------- */
/* Default names, detail off, timing, the cap                              */

static void plain_named_bh(void *opaque)
{
    (*(int *)opaque)++;
}

static void plain_named_write(void *opaque)
{
    int *fds = opaque;

    fds[0]++;
    aio_set_fd_handler(aio_get_current_context(), fds[1], NULL, NULL, NULL,
                       NULL, NULL);
}

static void test_plain_calls_named_after_callback(void)
{
    AioContext *ctx = detail_context();
    int runs = 0, fds[2] = { 0, eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };

    aio_set_current_context(ctx);
    aio_bh_schedule_oneshot(ctx, plain_named_bh, &runs);
    aio_set_fd_handler(ctx, fds[1], NULL, plain_named_write, NULL, NULL, fds);
    ok(POLL_UNTIL(ctx, runs == 1 && fds[0] == 1, 5000),
       "the BH and the write handler ran");
    is_int((int64_t)find_call(ctx, AIO_CALL_BH, "plain_named_bh").calls, 1,
           "aio_bh_schedule_oneshot names the BH after its function");
    is_int((int64_t)find_call(ctx, AIO_CALL_FD, "plain_named_write").calls, 1,
           "aio_set_fd_handler without io_read names it after io_write");
    close(fds[1]);
    aio_set_current_context(NULL);
    aio_context_unref(ctx);
}

static void test_detail_off_records_nothing(void)
{
    AioContext *ctx = test_context_new();
    Counted c = { .want = 3 };
    AioCallStats *all;

    c.bh = aio_bh_new_full(ctx, counted_bh, &c, "bh-unseen");
    aio_bh_schedule(c.bh);
    ok(POLL_UNTIL(ctx, c.runs == c.want, 5000), "the BH ran 3 times");
    is_int(aio_context_get_call_stats(ctx, &all), 0,
           "with stats-detail 0 no name is recorded");
    g_free(all);
    aio_bh_delete(c.bh);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
}

static void sleepy_bh(void *opaque)
{
    g_usleep(2000);
    (*(int *)opaque)++;
}

static void test_first_call_timed(void)
{
    AioContext *ctx = detail_context();
    int runs = 0;
    AioCallStats s;

    aio_bh_schedule_oneshot_full(ctx, sleepy_bh, &runs, "bh-sleepy");
    ok(POLL_UNTIL(ctx, runs == 1, 5000), "the sleeping BH ran");
    s = find_call(ctx, AIO_CALL_BH, "bh-sleepy");
    ok(s.timed_calls == 1 && s.max_ns >= 2000000 && s.total_ns == s.max_ns,
       "its first call was timed: at least its 2 ms sleep (timed %" PRIu64
       ", max %" PRIu64 " ns, total %" PRIu64 " ns)", s.timed_calls,
       s.max_ns, s.total_ns);
    aio_context_unref(ctx);
}

static void test_names_past_cap_are_other(void)
{
    AioContext *ctx = detail_context();
    enum { N = AIO_CALL_NAMES_MAX + 44 };
    char **names = g_new0(char *, N + 1);
    int runs = 0;
    uint64_t named_calls = 0, other_calls = 0;
    AioCallStats *all;

    for (int i = 0; i < N; i++) {
        names[i] = g_strdup_printf("bh-%d", i);
        aio_bh_schedule_oneshot_full(ctx, plain_named_bh, &runs, names[i]);
    }
    ok(POLL_UNTIL(ctx, runs == N, 5000), "%d BHs with distinct names ran", N);
    guint n = aio_context_get_call_stats(ctx, &all);
    for (guint i = 0; i < n; i++) {
        if (all[i].kind != AIO_CALL_BH) {
            continue;
        }
        if (strcmp(all[i].name, "(other)") == 0) {
            other_calls += all[i].calls;
        } else {
            named_calls += all[i].calls;
        }
    }
    ok(n <= AIO_CALL_NAMES_MAX + AIO_CALL_KIND_COUNT && other_calls > 0 &&
       named_calls + other_calls == N,
       "at most %d names are kept, the rest count as (other): %u entries, "
       "%" PRIu64 " named + %" PRIu64 " other calls", AIO_CALL_NAMES_MAX, n,
       named_calls, other_calls);
    g_free(all);
    aio_context_unref(ctx);
    g_strfreev(names);
}

/* ---------------------------------------------------------------------- */
/* The heartbeat                                                           */

typedef struct Seen {
    AioContext *ctx;
    AioHeartbeat outer, inner, outer_again;
} Seen;

static void heartbeat_inner(void *opaque)
{
    Seen *s = opaque;

    aio_context_get_heartbeat(s->ctx, &s->inner);
}

static void heartbeat_outer(void *opaque)
{
    Seen *s = opaque;

    aio_context_get_heartbeat(s->ctx, &s->outer);
    aio_coroutine_enter(aio_coroutine_create_named(heartbeat_inner, s, 0,
                                                   "co-inner"));
    aio_context_get_heartbeat(s->ctx, &s->outer_again);
}

static void test_heartbeat_shows_running_call(void)
{
    Seen s = { .ctx = test_context_new() };
    AioHeartbeat after;

    set_param(s.ctx, AIO_PARAM_STALL_THRESHOLD_NS, 1000000);
    aio_set_current_context(s.ctx);
    aio_bh_schedule_oneshot_full(s.ctx, heartbeat_outer, &s, "bh-outer");
    ok(POLL_UNTIL(s.ctx, s.outer_again.in_call, 5000), "the BH ran");
    ok(s.outer.in_call && s.outer.kind == AIO_CALL_BH &&
       strcmp(s.outer.name, "bh-outer") == 0,
       "inside the BH the heartbeat shows bh 'bh-outer'");
    ok(s.inner.in_call && s.inner.kind == AIO_CALL_COROUTINE &&
       strcmp(s.inner.name, "co-inner") == 0 &&
       s.inner.call_id != s.outer.call_id,
       "inside the nested coroutine it shows coroutine 'co-inner'");
    ok(s.outer_again.kind == AIO_CALL_BH &&
       s.outer_again.call_id == s.outer.call_id,
       "after the coroutine it shows the BH again, same call id");
    aio_context_get_heartbeat(s.ctx, &after);
    ok(!after.in_call, "outside any callback it shows none");
    aio_set_current_context(NULL);
    aio_context_unref(s.ctx);
}

static void test_heartbeat_off_without_threshold(void)
{
    Seen s = { .ctx = detail_context() };

    aio_set_current_context(s.ctx);
    aio_bh_schedule_oneshot_full(s.ctx, heartbeat_inner, &s, "bh-quiet");
    ok(POLL_UNTIL(s.ctx, find_call(s.ctx, AIO_CALL_BH, "bh-quiet").calls == 1,
                  5000), "the BH ran");
    ok(!s.inner.in_call,
       "with stall-threshold-ns 0 the heartbeat shows no call");
    aio_set_current_context(NULL);
    aio_context_unref(s.ctx);
}

int main(void)
{
    test_bh_calls_counted();
    test_fd_calls_counted();
    test_timer_calls_counted();
    test_coroutine_entries_counted();
    test_plain_calls_named_after_callback();
    test_detail_off_records_nothing();
    test_first_call_timed();
    test_names_past_cap_are_other();
    test_heartbeat_shows_running_call();
    test_heartbeat_off_without_threshold();
    return done_testing();
}
