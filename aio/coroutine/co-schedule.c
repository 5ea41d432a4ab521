/*
 * Coroutines across contexts: aio_co_schedule / aio_co_wake / aio_co_enter
 * / aio_co_reschedule_self (QEMU util/async.c), and the per-context state
 * they need, attached to AioContext through one pointer and torn down by
 * the finalization hooks in services.c.
 *
 * AioCoState discipline:
 *  - scheduled: a lock-free stack; any thread pushes (CAS on the head), the
 *    BH in the home thread takes it whole (exchange) and reverses it, so
 *    coroutines run in scheduling order.  No element is popped singly, so
 *    there is no ABA problem.
 *  - sleepers: home thread only (aio_co_sleep_ns runs there).
 *  - dying: set by the finalizing thread; read by schedulers, which during
 *    finalization can only be that same thread (nobody else holds a
 *    reference to the context).
 *  - The state itself is created on first use by any thread (CAS on
 *    ctx->coroutines; the loser frees its copy) and freed at finalization.
 */
#include "coroutine/coroutine-internal.h"
#include "core/aio-internal.h"

#include <errno.h>

struct AioCoState {
    AioBH *bh;
    Coroutine *_Atomic scheduled;
    CoSleeper *sleepers;
    _Atomic bool dying;
};

static void co_schedule_bh_cb(void *opaque);

static AioCoState *co_state(AioContext *ctx)
{
    AioCoState *s = atomic_load_explicit(&ctx->coroutines, memory_order_acquire);
    AioCoState *expected = NULL;

    if (s) {
        return s;
    }
    s = g_new0(AioCoState, 1);
    s->bh = aio_bh_new_full(ctx, co_schedule_bh_cb, ctx, "aio_co_schedule");
    if (!atomic_compare_exchange_strong_explicit(&ctx->coroutines, &expected, s,
                                                 memory_order_acq_rel,
                                                 memory_order_acquire)) {
        aio_bh_delete(s->bh);
        g_free(s);
        s = expected;
    }
    return s;
}

/* Enter, in scheduling order, the coroutines of a stack taken whole. */
static void co_run_scheduled(AioContext *ctx, Coroutine *stack)
{
    Coroutine *straight = NULL;

    while (stack) {
        Coroutine *next = stack->scheduled_next;
        stack->scheduled_next = straight;
        straight = stack;
        stack = next;
    }
    while (straight) {
        Coroutine *co = straight;
        straight = co->scheduled_next;
        /* Cleared before entering, so it may schedule itself again. */
        atomic_store_explicit(&co->scheduled, NULL, memory_order_release);
        co_enter_in(ctx, co);
    }
}

static void co_schedule_bh_cb(void *opaque)
{
    AioContext *ctx = opaque;
    AioCoState *s = atomic_load_explicit(&ctx->coroutines, memory_order_acquire);

    co_run_scheduled(ctx, atomic_exchange(&s->scheduled, NULL));
}

void co_enter_here(AioContext *ctx, Coroutine *co)
{
    Coroutine *self = aio_coroutine_self();

    if (!self) {
        co_enter_in(ctx, co);
    } else if (self == co) {
        co_die("aio_co_enter: coroutine %p enters itself", (void *)co);
    } else {
        co_list_push(&self->co_queue_wakeup, co);
    }
}

void aio_co_schedule_full(AioContext *ctx, Coroutine *co, const char *caller)
{
    const char *first = NULL;

    if (!atomic_compare_exchange_strong(&co->scheduled, &first, caller)) {
        co_die("%s: coroutine %p is already scheduled (first by %s)",
               caller, (void *)co, first);
    }
    AioCoState *s = co_state(ctx);
    if (atomic_load(&s->dying)) {
        atomic_store(&co->scheduled, NULL);
        co_enter_here(ctx, co);
        return;
    }
    /* @co may run, and its owner drop the last reference to @ctx, before
     * aio_bh_schedule below: keep @ctx alive until then. */
    aio_context_ref(ctx);
    Coroutine *head = atomic_load_explicit(&s->scheduled, memory_order_relaxed);
    do {
        co->scheduled_next = head;
    } while (!atomic_compare_exchange_weak_explicit(&s->scheduled, &head, co,
                                                    memory_order_release,
                                                    memory_order_relaxed));
    aio_bh_schedule(s->bh);
    aio_context_unref(ctx);
}

static void co_enter_or_schedule(AioContext *ctx, Coroutine *co,
                                 const char *caller)
{
    if (ctx != aio_get_current_context()) {
        aio_co_schedule_full(ctx, co, caller);
    } else {
        co_enter_here(ctx, co);
    }
}

void aio_co_enter(AioContext *ctx, Coroutine *co)
{
    co_enter_or_schedule(ctx, co, "aio_co_enter");
}

void aio_co_wake(Coroutine *co)
{
    AioContext *ctx = atomic_load_explicit(&co->ctx, memory_order_acquire);

    if (!ctx) {
        co_die("aio_co_wake: coroutine %p never ran in an AioContext (it was "
               "entered in a thread without a current context)", (void *)co);
    }
    co_enter_or_schedule(ctx, co, "aio_co_wake");
}

void aio_co_reschedule_self(AioContext *new_ctx)
{
    Coroutine *self = co_self_or_die("aio_co_reschedule_self");

    if (new_ctx == aio_get_current_context()) {
        return;
    }
    /* Scheduling now could let @new_ctx enter us before we yielded: the
     * entering side schedules us once we switched back (co_switched_back). */
    self->move_to = new_ctx;
    aio_coroutine_yield();
}

void co_schedule_moved(Coroutine *co, AioContext *dest)
{
    aio_co_schedule_full(dest, co, "aio_co_reschedule_self");
}

/* ---------------------------------------------------------------------- */
/* Sleepers                                                                */

bool co_context_dying(AioContext *ctx)
{
    AioCoState *s = atomic_load_explicit(&ctx->coroutines, memory_order_acquire);
    return s && atomic_load(&s->dying);
}

void co_context_add_sleeper(CoSleeper *sl)
{
    AioCoState *s = co_state(sl->ctx);

    sl->prev = NULL;
    sl->next = s->sleepers;
    if (s->sleepers) {
        s->sleepers->prev = sl;
    }
    s->sleepers = sl;
}

void co_context_remove_sleeper(CoSleeper *sl)
{
    AioCoState *s = co_state(sl->ctx);

    if (sl->prev) {
        sl->prev->next = sl->next;
    } else {
        s->sleepers = sl->next;
    }
    if (sl->next) {
        sl->next->prev = sl->prev;
    }
    sl->prev = sl->next = NULL;
}

/* Fail one sleeper: its aio_co_sleep_ns returns -ECANCELED. */
static void co_cancel_sleeper(CoSleeper *sl)
{
    co_context_remove_sleeper(sl);
    aio_timer_del(&sl->timer);
    sl->ret = -ECANCELED;
    co_enter_here(sl->ctx, sl->co);
}

/* ---------------------------------------------------------------------- */
/* Finalization                                                            */

/* Enter everything scheduled or sleeping until nothing is left; from here
 * on schedulers enter at once (see aio_co_schedule_full). */
static void co_context_drain(AioContext *ctx, AioCoState *s)
{
    atomic_store(&s->dying, true);
    for (;;) {
        Coroutine *stack = atomic_exchange(&s->scheduled, NULL);
        if (stack) {
            co_run_scheduled(ctx, stack);
        } else if (s->sleepers) {
            co_cancel_sleeper(s->sleepers);
        } else {
            break;
        }
    }
}

/* Creates the state if there is none, so a coroutine woken by the
 * services' teardown finds the context dying (and is entered at once)
 * instead of referencing a context whose last reference is gone. */
void aio_co_context_finalize_begin(AioContext *ctx)
{
    co_context_drain(ctx, co_state(ctx));
}

void aio_co_context_finalize_end(AioContext *ctx)
{
    AioCoState *s = atomic_load(&ctx->coroutines);
    if (s) {
        co_context_drain(ctx, s);
        aio_bh_delete(s->bh);
        g_free(s);
        atomic_store(&ctx->coroutines, NULL);
    }
}
