/*
 * Waiting inside a coroutine: aio_co_sleep_ns, CoQueue, CoMutex.
 *
 * CoQueue and CoMutex keep their waiters under a spinlock held for a few
 * list operations and never across a switch.  A waiter queues itself, drops
 * the spinlock, then yields; a waker in another thread that dequeues it
 * first calls aio_co_wake, which schedules it into its context, whose home
 * thread is the one still running it, so it is entered only after it
 * yielded.  A waker in the same thread is either a coroutine (the waiter is
 * queued behind it) or runs after the waiter yielded.
 */
#include "coroutine/coroutine-internal.h"

#include <errno.h>

static void co_sleep_timer_cb(void *opaque)
{
    CoSleeper *sl = opaque;

    co_context_remove_sleeper(sl);
    aio_co_wake(sl->co);
}

int aio_co_sleep_ns(AioContext *ctx, AioClockType clock, int64_t ns)
{
    CoSleeper sl = { .co = co_self_or_die("aio_co_sleep_ns"), .ctx = ctx };

    if (co_context_dying(ctx)) {
        return -ECANCELED;
    }
    aio_timer_init(ctx, &sl.timer, clock, AIO_SCALE_NS, co_sleep_timer_cb, &sl);
    aio_timer_mod_ns(&sl.timer, aio_clock_get_ns(clock) + ns);
    co_context_add_sleeper(&sl);
    aio_coroutine_yield();
    aio_timer_del(&sl.timer);
    return sl.ret;
}

/* ---------------------------------------------------------------------- */
/* CoQueue                                                                 */

void aio_co_queue_init(CoQueue *q)
{
    atomic_init(&q->spin, 0);
    q->waiters.head = q->waiters.tail = NULL;
}

void aio_co_queue_wait(CoQueue *q, CoMutex *mutex)
{
    Coroutine *self = co_self_or_die("aio_co_queue_wait");

    co_spin_lock(&q->spin);
    co_list_push(&q->waiters, self);
    co_spin_unlock(&q->spin);
    if (mutex) {
        aio_co_mutex_unlock(mutex);
    }
    aio_coroutine_yield();
    if (mutex) {
        aio_co_mutex_lock(mutex);
    }
}

bool aio_co_queue_next(CoQueue *q)
{
    co_spin_lock(&q->spin);
    Coroutine *co = co_list_pop(&q->waiters);
    co_spin_unlock(&q->spin);
    if (co) {
        aio_co_wake(co);
    }
    return co != NULL;
}

void aio_co_queue_restart_all(CoQueue *q)
{
    co_spin_lock(&q->spin);
    CoList all = q->waiters;
    q->waiters.head = q->waiters.tail = NULL;
    co_spin_unlock(&q->spin);

    Coroutine *co;
    while ((co = co_list_pop(&all))) {
        aio_co_wake(co);
    }
}

bool aio_co_queue_empty(CoQueue *q)
{
    co_spin_lock(&q->spin);
    bool empty = q->waiters.head == NULL;
    co_spin_unlock(&q->spin);
    return empty;
}

/* ---------------------------------------------------------------------- */
/* CoMutex                                                                 */

void aio_co_mutex_init(CoMutex *m)
{
    atomic_init(&m->spin, 0);
    m->locked = false;
    m->holder = NULL;
    m->waiters.head = m->waiters.tail = NULL;
}

void aio_co_mutex_lock(CoMutex *m)
{
    Coroutine *self = co_self_or_die("aio_co_mutex_lock");

    co_spin_lock(&m->spin);
    if (!m->locked) {
        m->locked = true;
        m->holder = self;
        co_spin_unlock(&m->spin);
    } else {
        co_list_push(&m->waiters, self);
        co_spin_unlock(&m->spin);
        /* The unlocker made us the holder before waking us. */
        aio_coroutine_yield();
    }
    self->locks_held++;
}

void aio_co_mutex_unlock(CoMutex *m)
{
    Coroutine *self = co_self_or_die("aio_co_mutex_unlock");

    co_spin_lock(&m->spin);
    if (!m->locked || m->holder != self) {
        co_spin_unlock(&m->spin);
        co_die("aio_co_mutex_unlock: coroutine %p does not hold the lock",
               (void *)self);
    }
    Coroutine *next = co_list_pop(&m->waiters);
    m->holder = next;
    m->locked = next != NULL;
    co_spin_unlock(&m->spin);
    self->locks_held--;
    if (next) {
        aio_co_wake(next);
    }
}
