/*
 * aio_notify(), notify_me and aio_notify_accept() with QEMU's ordering
 * rules, and the context's own event notifier that a cross-thread notify
 * sets (busy-polling sees it without a syscall).
 */
#include "core/aio-internal.h"


void aio_notify(AioContext *ctx)
{
    /* seq_cst exchange then seq_cst load: 'notified' is written before
     * notify_me is read; pairs with the increment in aio_poll() /
     * aio_ctx_prepare() that is written before they read 'notified' and
     * the BH flags. */
    AioMailbox *mb = ctx->mailbox;
    bool was_notified = atomic_exchange(&mb->notified, true);
    /* Both read at once, while the exchange left the mailbox's line in
     * this CPU's cache: a busy-polling loop takes it back within
     * nanoseconds, and the clock read below would give it the time to. */
    bool wake_waiter = atomic_load(&mb->notify_me) != 0;
    bool loop_waiting = atomic_load_explicit(&mb->waiting,
                                             memory_order_relaxed);

    /* The notify that wakes a waiting loop starts its wake latency; one
     * clock read per wait at most (in-thread notifies find it busy). */
    if (!was_notified && loop_waiting) {
        aio_loop_notify_stamp(ctx);
    }
    if (wake_waiter) {
        event_notifier_set(&ctx->notifier);
    }
}

void aio_notify_accept(AioContext *ctx)
{
    /* seq_cst: cleared before the loop reads the BH flags, so a later
     * aio_notify() is seen by the next poll. */
    atomic_store(&ctx->mailbox->notified, false);
}

static void aio_context_notifier_cb(EventNotifier *e)
{
    AioContext *ctx = container_of(e, AioContext, notifier);

    if (event_notifier_test_and_clear(e)) {
        AIO_STAT_ADD(ctx, notify_wakeups, 1);
    }
}

/* Busy-polling sees a cross-thread aio_notify() without a syscall. */
static bool aio_context_notifier_poll(void *opaque)
{
    EventNotifier *e = opaque;
    AioContext *ctx = container_of(e, AioContext, notifier);

    return atomic_load_explicit(&ctx->mailbox->notified, memory_order_relaxed);
}

static void aio_context_notifier_poll_ready(EventNotifier *e)
{
    /* Nothing to do: aio_poll() runs the BHs that notified us. */
}

/* Home thread, at creation: register the notifier with the loop. */
void aio_context_notifier_install(AioContext *ctx)
{
    aio_set_event_notifier(ctx, &ctx->notifier, aio_context_notifier_cb,
                           aio_context_notifier_poll,
                           aio_context_notifier_poll_ready);
    aio_set_event_notifier_drains(ctx, &ctx->notifier);
}
