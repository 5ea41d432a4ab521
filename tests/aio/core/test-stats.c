/*
 * test-stats: the per-context counters of aio_context_get_stats() move by
 * exactly what the loop did: iterations per aio_poll() call, bh_calls,
 * timer_calls, fd_dispatches, fd_handlers, blocking_waits (only for waits
 * with a timeout), notify_wakeups (a cross-thread aio_notify during a
 * blocking wait), and no polling counters when polling is off; blocked_ns
 * and busy_ns while a wait is in progress.  Cross-thread checks wait for
 * the loop to be inside a wait (seen in the stats) instead of giving it a
 * head start, so no result depends on how fast a thread is scheduled.
 */
#include "aio-test.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define DELTA(field) ((int64_t)(after.field - before.field))

static void count_cb(void *opaque)
{
    (*(int *)opaque)++;
}

static void drain_cb(void *opaque)
{
    int *fds = opaque;
    char buf[16];
    while (read(fds[0], buf, sizeof(buf)) > 0) {
    }
}

static void notifier_cb(EventNotifier *e)
{
    event_notifier_test_and_clear(e);
}

typedef struct Notifier {
    AioContext *ctx;
    atomic_bool stop;
} Notifier;

/* A loop thread parked in a blocking aio_poll until 'stop'. */
typedef struct Parked {
    AioContext *ctx;
    atomic_bool stop;
} Parked;

static void *parked_thread(void *opaque)
{
    Parked *p = opaque;
    while (!atomic_load(&p->stop)) {
        aio_poll(p->ctx, true);
    }
    return NULL;
}

/* Notifies the context each time its loop is seen waiting, until told to
 * stop: a notify that lands outside a wait only makes the next iteration
 * non-blocking, and the loop then waits again. */
static void *notify_thread(void *opaque)
{
    Notifier *n = opaque;
    while (!atomic_load(&n->stop)) {
        if (test_loop_is_waiting(n->ctx, NULL)) {
            aio_notify(n->ctx);
        }
        g_usleep(100);
    }
    return NULL;
}

static uint64_t notify_wakeups(AioContext *ctx)
{
    AioStats s;
    aio_context_get_stats(ctx, &s);
    return s.notify_wakeups;
}

/* Reads @ctx's stats twice, 1 ms apart, within one blocking wait of its
 * (otherwise idle) loop thread; retried until both reads fall within the
 * same wait, for 10 s at most (a hang guard). */
static bool read_during_one_wait(AioContext *ctx, AioStats *a, AioStats *b)
{
    int64_t end = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 10000LL * AIO_SCALE_MS;
    while (aio_clock_get_ns(AIO_CLOCK_MONOTONIC) < end) {
        if (!test_loop_is_waiting(ctx, NULL)) {
            g_usleep(100);
            continue;
        }
        /* In a wait before @a and still in it after @b: both within it. */
        aio_context_get_stats(ctx, a);
        g_usleep(1000);
        aio_context_get_stats(ctx, b);
        if (test_loop_is_waiting(ctx, a)) {
            return true;
        }
    }
    return false;
}

/* Non-blocking polls with nothing to do: one iteration each, no wait, no
 * dispatch, no polling; the stats name the backend. */
static void test_idle_polls_count_iterations_only(AioContext *ctx)
{
    AioStats before, after;

    aio_context_get_stats(ctx, &before);
    for (int i = 0; i < 7; i++) {
        aio_poll(ctx, false);
    }
    aio_context_get_stats(ctx, &after);
    is_int(DELTA(iterations), 7, "iterations: one per aio_poll call");
    is_int(DELTA(blocking_waits), 0, "blocking_waits: none for aio_poll(false)");
    is_int(DELTA(bh_calls) + DELTA(timer_calls) + DELTA(fd_dispatches), 0,
           "idle polls dispatch nothing");
    is_int(DELTA(poll_attempts) + DELTA(poll_hits) + DELTA(poll_misses), 0,
           "polling counters still with polling off");
    ok(after.fdmon && strcmp(after.fdmon, aio_context_fdmon_name(ctx)) == 0,
       "backend: stats name the backend in use (%s)",
       after.fdmon ? after.fdmon : "(null)");
}

/* Scheduled and oneshot BHs: one bh_call per run. */
static void test_bh_runs_counted(AioContext *ctx)
{
    AioStats before, after;
    int n = 0;
    AioBH *bh = aio_bh_new(ctx, count_cb, &n);

    aio_context_get_stats(ctx, &before);
    for (int i = 0; i < 5; i++) {
        aio_bh_schedule(bh);
        aio_poll(ctx, false);
    }
    aio_bh_schedule_oneshot(ctx, count_cb, &n);
    aio_bh_schedule_oneshot(ctx, count_cb, &n);
    aio_poll(ctx, false);
    aio_context_get_stats(ctx, &after);
    is_int(DELTA(bh_calls), 7, "bh_calls: +7 for 7 BH runs");
    aio_bh_delete(bh);
}

/* Three expired timers in one poll: three timer_calls, no bh_call. */
static void test_expired_timers_counted(AioContext *ctx)
{
    AioStats before, after;
    AioTimer *t[3];
    int tn = 0;

    aio_context_get_stats(ctx, &before);
    for (int i = 0; i < 3; i++) {
        t[i] = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS, count_cb, &tn);
        aio_timer_mod_ns(t[i], aio_clock_get_ns(AIO_CLOCK_MONOTONIC) - 1);
    }
    aio_poll(ctx, false);
    aio_context_get_stats(ctx, &after);
    ok(tn == 3, "timers ran");
    is_int(DELTA(timer_calls), 3, "timer_calls: +3");
    is_int(DELTA(bh_calls), 0, "bh_calls: unchanged by timers");
    for (int i = 0; i < 3; i++) {
        aio_timer_free(t[i]);
    }
}

/* A timer that expires during blocking polls: one timer_call. */
static void test_timer_fired_in_blocking_poll_counted(AioContext *ctx)
{
    AioStats before, after;
    int tn = 0;
    AioTimer *t = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                                count_cb, &tn);

    aio_context_get_stats(ctx, &before);
    aio_timer_mod_ns(t, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 2 * AIO_SCALE_MS);
    bool fired = POLL_UNTIL(ctx, tn == 1, 5000);
    aio_context_get_stats(ctx, &after);
    ok(fired, "2 ms timer fired in a blocking poll");
    is_int(DELTA(timer_calls), 1, "timer_calls: +1");
    aio_timer_free(t);
}

/* A blocking aio_poll (a pending timer gives it a timeout) counts one wait
 * even when a ready notifier ends it at once.  Arming the timer notifies
 * the context: a non-blocking poll consumes that first, or the next
 * iteration would not wait at all. */
static void test_blocking_wait_counted(AioContext *ctx)
{
    AioStats before, after;
    int tn = 0;
    AioTimer *t = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_NS,
                                count_cb, &tn);
    EventNotifier ready;

    event_notifier_init(&ready, false);
    aio_set_event_notifier(ctx, &ready, notifier_cb, NULL, NULL);
    aio_timer_mod_ns(t, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 60000LL * AIO_SCALE_MS);
    aio_poll(ctx, false);
    event_notifier_set(&ready);
    aio_context_get_stats(ctx, &before);
    aio_poll(ctx, true);
    aio_context_get_stats(ctx, &after);
    is_int(DELTA(blocking_waits), 1, "blocking_waits: +1 for one blocking aio_poll");
    ok(after.blocked_ns > before.blocked_ns, "blocked_ns: grew");
    aio_set_event_notifier(ctx, &ready, NULL, NULL, NULL);
    event_notifier_cleanup(&ready);
    aio_timer_free(t);
}

/* An fd handler and an event notifier: fd_handlers counts registrations,
 * fd_dispatches one per handler call, and removal takes both back. */
static void test_fd_handlers_and_dispatches_counted(AioContext *ctx)
{
    AioStats before, after;
    EventNotifier e;
    int fds[2];

    g_assert(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    event_notifier_init(&e, false);
    aio_context_get_stats(ctx, &before);
    aio_set_fd_handler(ctx, fds[0], drain_cb, NULL, NULL, NULL, fds);
    aio_set_event_notifier(ctx, &e, notifier_cb, NULL, NULL);
    aio_context_get_stats(ctx, &after);
    is_int(DELTA(fd_handlers), 2, "fd_handlers: +2 after two registrations");

    aio_context_get_stats(ctx, &before);
    ok(write(fds[1], "x", 1) == 1, "pipe written");
    aio_poll(ctx, false);
    event_notifier_set(&e);
    aio_poll(ctx, false);
    aio_context_get_stats(ctx, &after);
    is_int(DELTA(fd_dispatches), 2, "fd_dispatches: +1 per handler call");

    aio_context_get_stats(ctx, &before);
    aio_set_fd_handler(ctx, fds[0], NULL, NULL, NULL, NULL, NULL);
    aio_set_event_notifier(ctx, &e, NULL, NULL, NULL);
    aio_poll(ctx, false);
    aio_context_get_stats(ctx, &after);
    is_int(DELTA(fd_handlers), -2, "fd_handlers: back after removal");
    event_notifier_cleanup(&e);
    close(fds[0]);
    close(fds[1]);
}

/* A cross-thread aio_notify during a blocking wait: one notify_wakeup, the
 * wait counted, nothing dispatched. */
static void test_cross_thread_notify_counted(AioContext *ctx)
{
    AioStats before, after;
    Notifier nt = { .ctx = ctx };
    pthread_t th;

    aio_context_get_stats(ctx, &before);
    pthread_create(&th, NULL, notify_thread, &nt);
    bool woke = POLL_UNTIL(ctx, notify_wakeups(ctx) > before.notify_wakeups,
                           10000);
    atomic_store(&nt.stop, true);
    pthread_join(th, NULL);
    aio_context_get_stats(ctx, &after);
    ok(woke, "notify_wakeups: a cross-thread notify during a blocking wait "
       "counted (+%" PRId64 ")", DELTA(notify_wakeups));
    ok(DELTA(blocking_waits) >= 1, "blocking_waits: the notified wait counted");
    is_int(DELTA(bh_calls) + DELTA(fd_dispatches), 0,
           "a bare notify dispatches no BH or fd handler");
}

/* A wait still in progress is blocked time, not busy time: a reader in
 * another thread must not see an idle loop as busy. */
static void test_wait_in_progress_is_blocked_not_busy(void)
{
    AioStats before, after;
    AioContext *idle = aio_context_new(NULL);
    Parked parked = { .ctx = idle };
    pthread_t pt;

    aio_poll(idle, false);
    pthread_create(&pt, NULL, parked_thread, &parked);
    bool in_one_wait = read_during_one_wait(idle, &before, &after);
    ok(in_one_wait, "two reads fell within one blocking wait");
    ok(after.blocked_ns > before.blocked_ns,
       "a wait in progress counts as blocked (%" PRIu64 " -> %" PRIu64 " ns)",
       before.blocked_ns, after.blocked_ns);
    is_int((int64_t)after.busy_ns, (int64_t)before.busy_ns,
           "a wait in progress adds nothing to busy_ns");
    atomic_store(&parked.stop, true);
    aio_notify(idle);
    pthread_join(pt, NULL);
    aio_context_unref(idle);
}

int main(void)
{
    AioContext *ctx = test_context_new();
    GError *err = NULL;

    ok(aio_context_set_poll_params(ctx, 0, 0, 0, &err),
       "polling disabled for exact counting");
    while (aio_poll(ctx, false)) {
    }
    test_idle_polls_count_iterations_only(ctx);
    test_bh_runs_counted(ctx);
    test_expired_timers_counted(ctx);
    test_timer_fired_in_blocking_poll_counted(ctx);
    test_blocking_wait_counted(ctx);
    test_fd_handlers_and_dispatches_counted(ctx);
    test_cross_thread_notify_counted(ctx);
    aio_context_unref(ctx);
    test_wait_in_progress_is_blocked_not_busy();
    return done_testing();
}
