/*
 * test-coroutine-sync: waiting inside coroutines: aio_co_sleep_ns order and
 * minimum duration, CoMutex under contention from 8 coroutines (mutual
 * exclusion, FIFO hand-off), CoQueue wake order and its mutex release.
 * Run once per fd backend (AIO_FDMON): sleeps are timers, and coroutines
 * re-queue themselves through bottom halves.
 */
#include "aioctx/coroutine.h"
#include "aio-test.h"

#include <stdatomic.h>

static AioContext *ctx;

/* Yield and come back from the context's next BH run, letting every other
 * ready coroutine run meanwhile. */
static void requeue_self(void)
{
    aio_co_schedule(ctx, aio_coroutine_self());
    aio_coroutine_yield();
}

/* ---------------------------------------------------------------------- */
/* aio_co_sleep_ns                                                         */

typedef struct SleepOrder {
    int woke[3];
    int n;
    int too_early;
} SleepOrder;

typedef struct SleepJob {
    SleepOrder *order;
    int ms;
    int64_t base_ns;            /* deadlines are base_ns + ms, however slow
                                 * the start of each coroutine is */
} SleepJob;

static void sleep_entry(void *opaque)
{
    SleepJob *j = opaque;
    int64_t deadline = j->base_ns + j->ms * 1000000LL;
    int64_t ns = deadline - aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    int ret = aio_co_sleep_ns(ctx, AIO_CLOCK_MONOTONIC, ns > 0 ? ns : 0);
    if (ret != 0 || aio_clock_get_ns(AIO_CLOCK_MONOTONIC) < deadline) {
        j->order->too_early++;
    }
    j->order->woke[j->order->n++] = j->ms;
}

static void test_sleep_wakes_in_deadline_order(void)
{
    SleepOrder order = { .n = 0 };
    int64_t base = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    SleepJob jobs[3] = { { &order, 300, base }, { &order, 100, base },
                         { &order, 200, base } };

    for (int i = 0; i < 3; i++) {
        aio_coroutine_enter(aio_coroutine_create(sleep_entry, &jobs[i]));
    }
    bool all = POLL_UNTIL(ctx, order.n == 3, 10000);
    ok(all && order.woke[0] == 100 && order.woke[1] == 200 &&
       order.woke[2] == 300 && order.too_early == 0,
       "coroutines sleeping 300, 100, 200 ms wake in deadline order (%d %d %d), "
       "none before its time", order.woke[0], order.woke[1], order.woke[2]);
}

/* ---------------------------------------------------------------------- */
/* CoMutex                                                                 */

#define LOCKERS 8
#define ROUNDS 50

typedef struct Contention {
    CoMutex mutex;
    int inside;                 /* coroutines in the critical section */
    int overlaps;
    int requested[LOCKERS * ROUNDS], acquired[LOCKERS * ROUNDS];
    int nreq, nacq;
    int finished;
} Contention;

typedef struct Locker {
    Contention *c;
    int id;
} Locker;

static void locker_entry(void *opaque)
{
    Locker *l = opaque;
    Contention *c = l->c;

    for (int r = 0; r < ROUNDS; r++) {
        c->requested[c->nreq++] = l->id;
        aio_co_mutex_lock(&c->mutex);
        c->acquired[c->nacq++] = l->id;
        if (c->inside++) {
            c->overlaps++;
        }
        requeue_self();         /* hold it while the others pile up */
        c->inside--;
        aio_co_mutex_unlock(&c->mutex);
        requeue_self();
    }
    c->finished++;
}

static void test_co_mutex_excludes_and_is_fifo(void)
{
    static Contention c;
    Locker lockers[LOCKERS];

    aio_co_mutex_init(&c.mutex);
    for (int i = 0; i < LOCKERS; i++) {
        lockers[i] = (Locker){ &c, i };
        aio_co_schedule(ctx, aio_coroutine_create(locker_entry, &lockers[i]));
    }
    bool all = POLL_UNTIL(ctx, c.finished == LOCKERS, 20000);
    int unfair = 0;
    for (int i = 0; i < c.nacq; i++) {
        unfair += c.acquired[i] != c.requested[i];
    }
    ok(all && c.overlaps == 0 && c.nacq == LOCKERS * ROUNDS && unfair == 0,
       "%d coroutines x %d rounds: never two inside, the lock went in "
       "request order (overlaps %d, out of order %d)", LOCKERS, ROUNDS,
       c.overlaps, unfair);
}

/* ---------------------------------------------------------------------- */
/* CoQueue                                                                 */

typedef struct Waiters {
    CoQueue queue;
    CoMutex mutex;
    int woke[4];
    int n;
    bool mutex_free_while_waiting;
} Waiters;

typedef struct Waiter {
    Waiters *w;
    int id;
} Waiter;

static void waiter_entry(void *opaque)
{
    Waiter *me = opaque;
    aio_co_queue_wait(&me->w->queue, NULL);
    me->w->woke[me->w->n++] = me->id;
}

static void test_co_queue_next_wakes_in_fifo_order(void)
{
    Waiters w = { .n = 0 };
    Waiter ws[4];

    aio_co_queue_init(&w.queue);
    for (int i = 0; i < 4; i++) {
        ws[i] = (Waiter){ &w, i };
        aio_coroutine_enter(aio_coroutine_create(waiter_entry, &ws[i]));
    }
    bool none_early = w.n == 0;
    while (aio_co_queue_next(&w.queue)) {
    }
    POLL_UNTIL(ctx, w.n == 4, 5000);
    ok(none_early && w.n == 4 && w.woke[0] == 0 && w.woke[1] == 1 &&
       w.woke[2] == 2 && w.woke[3] == 3 && aio_co_queue_empty(&w.queue),
       "aio_co_queue_next wakes waiters one by one in arrival order");
}

static void cond_waiter_entry(void *opaque)
{
    Waiters *w = opaque;
    aio_co_mutex_lock(&w->mutex);
    aio_co_queue_wait(&w->queue, &w->mutex);
    w->woke[w->n++] = w->mutex.holder == aio_coroutine_self();
    aio_co_mutex_unlock(&w->mutex);
}

static void cond_signaller_entry(void *opaque)
{
    Waiters *w = opaque;
    /* Gets the lock at once only if the waiter released it. */
    aio_co_mutex_lock(&w->mutex);
    w->mutex_free_while_waiting = w->n == 0;
    aio_co_queue_restart_all(&w->queue);
    aio_co_mutex_unlock(&w->mutex);
}

static void test_co_queue_wait_releases_mutex(void)
{
    Waiters w = { .n = 0 };

    aio_co_queue_init(&w.queue);
    aio_co_mutex_init(&w.mutex);
    aio_coroutine_enter(aio_coroutine_create(cond_waiter_entry, &w));
    aio_coroutine_enter(aio_coroutine_create(cond_signaller_entry, &w));
    POLL_UNTIL(ctx, w.n == 1, 5000);
    ok(w.mutex_free_while_waiting && w.n == 1 && w.woke[0] == 1 &&
       !w.mutex.locked,
       "aio_co_queue_wait releases the mutex while waiting and holds it "
       "again when woken");
}

int main(void)
{
    ctx = test_context_new();
    aio_set_current_context(ctx);

    test_sleep_wakes_in_deadline_order();
    test_co_mutex_excludes_and_is_fifo();
    test_co_queue_next_wakes_in_fifo_order();
    test_co_queue_wait_releases_mutex();

    aio_context_unref(ctx);
    return done_testing();
}
