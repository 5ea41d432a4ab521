/*
 * test-stats: the per-context counters of aio_context_get_stats() move by
 * exactly what the loop did: iterations per aio_poll() call, bh_calls,
 * timer_calls, fd_dispatches, fd_handlers, blocking_waits (only for waits
 * with a timeout), notify_wakeups (a cross-thread aio_notify during a
 * blocking wait), and no polling counters when polling is off.
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
    atomic_bool done;
} Notifier;

/* A loop thread parked in a blocking aio_poll until 'stop'. */
typedef struct Parked {
    AioContext *ctx;
    atomic_bool started;
    atomic_bool stop;
} Parked;

static void *parked_thread(void *opaque)
{
    Parked *p = opaque;
    atomic_store(&p->started, true);
    while (!atomic_load(&p->stop)) {
        aio_poll(p->ctx, true);
    }
    return NULL;
}

static void *notify_thread(void *opaque)
{
    Notifier *n = opaque;
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    atomic_store(&n->done, true);
    aio_notify(n->ctx);
    return NULL;
}

int main(void)
{
    AioContext *ctx = test_context_new();
    AioStats before, after;
    GError *err = NULL;
    ok(aio_context_set_poll_params(ctx, 0, 0, 0, &err),
       "polling disabled for exact counting");
    while (aio_poll(ctx, false)) {
    }

    /* Non-blocking polls with nothing to do. */
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
    ok(after.backend && strcmp(after.backend, aio_context_backend_name(ctx)) == 0,
       "backend: stats name the backend in use (%s)",
       after.backend ? after.backend : "(null)");

    /* BHs. */
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

    /* Timers: three expired ones in one poll. */
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

    /* A blocking wait ended by a timer. */
    aio_context_get_stats(ctx, &before);
    aio_timer_mod_ns(t[0], aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 2 * AIO_SCALE_MS);
    bool fired = POLL_UNTIL(ctx, tn == 4, 5000);
    aio_context_get_stats(ctx, &after);
    ok(fired, "2 ms timer fired in a blocking poll");
    ok(DELTA(blocking_waits) >= 1, "blocking_waits: counted (+%" PRId64 ")",
       DELTA(blocking_waits));
    ok(after.blocked_ns > before.blocked_ns, "blocked_ns: grew");
    is_int(DELTA(timer_calls), 1, "timer_calls: +1");
    for (int i = 0; i < 3; i++) {
        aio_timer_free(t[i]);
    }

    /* fd handlers and event notifiers. */
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        printf("Bail out! pipe2\n");
        return 1;
    }
    EventNotifier e;
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

    /* A cross-thread aio_notify during a blocking wait. */
    Notifier nt = { .ctx = ctx };
    pthread_t th;
    aio_context_get_stats(ctx, &before);
    pthread_create(&th, NULL, notify_thread, &nt);
    bool woke = POLL_UNTIL(ctx, atomic_load(&nt.done), 5000);
    pthread_join(th, NULL);
    aio_context_get_stats(ctx, &after);
    ok(woke, "cross-thread notify woke the loop");
    ok(DELTA(notify_wakeups) >= 1, "notify_wakeups: counted (+%" PRId64 ")",
       DELTA(notify_wakeups));
    ok(DELTA(blocking_waits) >= 1, "blocking_waits: the notified wait counted");
    is_int(DELTA(bh_calls) + DELTA(fd_dispatches), 0,
           "a bare notify dispatches no BH or fd handler");

    aio_context_unref(ctx);

    /* A wait still in progress is blocked time, not busy time: a reader
     * in another thread must not see an idle loop as busy. */
    AioContext *idle = aio_context_new(NULL);
    Parked parked = { .ctx = idle };
    pthread_t pt;
    aio_poll(idle, false);
    pthread_create(&pt, NULL, parked_thread, &parked);
    while (!atomic_load(&parked.started)) {
        sched_yield();
    }
    struct timespec ms200 = { 0, 200 * 1000 * 1000 };
    nanosleep(&ms200, NULL);
    aio_context_get_stats(idle, &after);
    ok(after.blocked_ns >= 150 * 1000 * 1000,
       "a wait in progress counts as blocked (%" PRIu64 " ns)", after.blocked_ns);
    ok(after.busy_ns < 100 * 1000 * 1000,
       "an idle loop is not busy (%" PRIu64 " ns)", after.busy_ns);
    atomic_store(&parked.stop, true);
    aio_notify(idle);
    pthread_join(pt, NULL);
    aio_context_unref(idle);
    return done_testing();
}
