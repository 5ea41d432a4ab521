/*
 * Bottom halves.  They follow QEMU's util/async.c design: a BH is queued at
 * most once, by whichever thread first sets BH_PENDING in its flags; the
 * queue is a lock-free stack that aio_bh_poll() takes whole into a "slice",
 * so BHs scheduled while a slice runs wait for the next aio_bh_poll(), and
 * nested aio_bh_poll() calls finish the slices of the outer ones.
 */
#include "core/aio-internal.h"

#include <string.h>


enum {
    BH_PENDING   = 1 << 0,  /* on a list, waiting for aio_bh_poll() */
    BH_SCHEDULED = 1 << 1,  /* run the callback */
    BH_DELETED   = 1 << 2,  /* free without running */
    BH_ONESHOT   = 1 << 3,  /* free after running */
    BH_IDLE      = 1 << 4,  /* scheduled without waking the loop */
};

/* An idle BH waits at most this long for a loop iteration. */
#define IDLE_BH_TIMEOUT_NS (10 * 1000 * 1000)

struct AioBH {
    AioContext *ctx;
    const char *name;
    AioBHFunc *cb;
    void *opaque;
    AioBH *next;                    /* the pending stack or a slice */
    LIST_ENTRY(AioBH) registered;   /* ctx->bh_registry (not oneshots) */
    _Atomic unsigned flags;
    AioCallEntry *call_entry;       /* its call statistics (home thread) */
};
/* Thread-safe. */
static void aio_bh_enqueue(AioBH *bh, unsigned new_flags)
{
    /* Load ctx first: once the BH is pending, the loop may run and free it. */
    AioContext *ctx = bh->ctx;
    AioMailbox *mb = ctx->mailbox;
    unsigned old_flags;

    /* seq_cst: the callback's data and new_flags are written before the BH
     * becomes visible; pairs with the fetch_and in aio_bh_poll(). */
    old_flags = atomic_fetch_or(&bh->flags, BH_PENDING | new_flags);
    if (!(old_flags & BH_PENDING)) {
        AioBH *head = atomic_load_explicit(&mb->bh_list, memory_order_relaxed);

        do {
            bh->next = head;
        /* seq_cst, like the exchange in aio_bh_poll(): together with the
         * seq_cst 'notified' accesses, a loop that cleared 'notified'
         * after we set it is guaranteed to see this push. */
        } while (!atomic_compare_exchange_weak(&mb->bh_list, &head, bh));
    }
    if (!(new_flags & BH_IDLE)) {
        aio_notify(ctx);
    }
}

static AioBH *bh_alloc(AioContext *ctx, AioBHFunc *cb, void *opaque,
                       const char *name)
{
    AioBH *bh = g_new0(AioBH, 1);

    bh->ctx = ctx;
    bh->cb = cb;
    bh->opaque = opaque;
    bh->name = name;
    return bh;
}

AioBH *aio_bh_new_full(AioContext *ctx, AioBHFunc *cb, void *opaque,
                       const char *name)
{
    AioBH *bh = bh_alloc(ctx, cb, opaque, name);

    pthread_mutex_lock(&ctx->bh_registry_lock);
    LIST_INSERT_HEAD(&ctx->bh_registry, bh, registered);
    pthread_mutex_unlock(&ctx->bh_registry_lock);
    return bh;
}

void aio_bh_schedule_oneshot_full(AioContext *ctx, AioBHFunc *cb, void *opaque,
                                  const char *name)
{
    aio_bh_enqueue(bh_alloc(ctx, cb, opaque, name), BH_SCHEDULED | BH_ONESHOT);
}

void aio_bh_schedule(AioBH *bh)
{
    aio_bh_enqueue(bh, BH_SCHEDULED);
}

void aio_bh_schedule_idle(AioBH *bh)
{
    aio_bh_enqueue(bh, BH_SCHEDULED | BH_IDLE);
}

void aio_bh_cancel(AioBH *bh)
{
    atomic_fetch_and(&bh->flags, ~(unsigned)BH_SCHEDULED);
}

void aio_bh_delete(AioBH *bh)
{
    AioContext *ctx = bh->ctx;

    pthread_mutex_lock(&ctx->bh_registry_lock);
    LIST_REMOVE(bh, registered);
    pthread_mutex_unlock(&ctx->bh_registry_lock);
    /* The loop frees it: it may be on a slice right now. */
    aio_bh_enqueue(bh, BH_DELETED);
}

/* Home thread: run the callback, accounted under the BH's name. */
static void bh_call(AioContext *ctx, AioBH *bh)
{
    AioCallFrame frame;
    bool begun = aio_call_begin(&ctx->calls, ctx->last_block_ns != 0,
                                AIO_CALL_BH, bh->name, &bh->call_entry,
                                &frame);

    bh->cb(bh->opaque);
    aio_call_end(&ctx->calls, begun, &frame);
}

/* Home thread: take the next BH off a slice and clear its flags. */
static AioBH *bh_dequeue(AioBH **list, unsigned *flags)
{
    AioBH *bh = *list;

    if (bh) {
        *list = bh->next;
        /* seq_cst: pairs with aio_bh_enqueue; a scheduler that sees
         * BH_PENDING cleared re-queues the BH (and notifies). */
        *flags = atomic_fetch_and(&bh->flags,
                                  ~(unsigned)(BH_PENDING | BH_SCHEDULED | BH_IDLE));
    }
    return bh;
}

int aio_bh_poll(AioContext *ctx)
{
    BHListSlice slice;
    BHListSlice *s;
    int ret = 0;

    slice.bh_list = atomic_exchange(&ctx->mailbox->bh_list, NULL);
    STAILQ_INSERT_TAIL(&ctx->bh_slice_list, &slice, next);

    while ((s = STAILQ_FIRST(&ctx->bh_slice_list))) {
        unsigned flags;
        AioBH *bh = bh_dequeue(&s->bh_list, &flags);

        if (!bh) {
            STAILQ_REMOVE_HEAD(&ctx->bh_slice_list, next);
            continue;
        }
        if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
            /* Idle BHs don't count as progress. */
            if (!(flags & BH_IDLE)) {
                ret++;
            }
            /* Counted before the call: a callback that answers someone
             * (e.g. a QMP reply) must not be seen ahead of its count. */
            AIO_STAT_ADD(ctx, bh_calls, 1);
            bh_call(ctx, bh);
        }
        if (flags & (BH_DELETED | BH_ONESHOT)) {
            g_free(bh);
        }
    }
    return ret;
}

/* Reads flags of BHs other threads may be scheduling: atomics only.  Nodes
 * are freed only by this thread, so walking the stack is safe. */
static int64_t bh_list_timeout(AioBH *bh, int64_t timeout)
{
    for (; bh; bh = bh->next) {
        unsigned flags = atomic_load_explicit(&bh->flags, memory_order_relaxed);

        if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
            if (!(flags & BH_IDLE)) {
                return 0;
            }
            timeout = IDLE_BH_TIMEOUT_NS;
        }
    }
    return timeout;
}

static int64_t soonest_timeout(int64_t a, int64_t b)
{
    /* -1 means infinite: compare as unsigned. */
    return (uint64_t)a < (uint64_t)b ? a : b;
}

int64_t aio_compute_timeout(AioContext *ctx)
{
    BHListSlice *s;
    int64_t timeout = -1;

    timeout = bh_list_timeout(atomic_load_explicit(&ctx->mailbox->bh_list,
                                                   memory_order_acquire),
                              timeout);
    if (timeout == 0) {
        return 0;
    }
    STAILQ_FOREACH(s, &ctx->bh_slice_list, next) {
        timeout = bh_list_timeout(s->bh_list, timeout);
        if (timeout == 0) {
            return 0;
        }
    }
    return soonest_timeout(timeout, aio_timerlists_deadline_ns(ctx));
}

static bool bh_list_has_scheduled(AioBH *bh)
{
    for (; bh; bh = bh->next) {
        unsigned flags = atomic_load_explicit(&bh->flags, memory_order_relaxed);

        if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
            return true;
        }
    }
    return false;
}

/* Any BH (idle ones included) waiting to run? */
bool aio_bh_scheduled(AioContext *ctx)
{
    BHListSlice *s;

    if (bh_list_has_scheduled(atomic_load_explicit(&ctx->mailbox->bh_list,
                                                   memory_order_acquire))) {
        return true;
    }
    STAILQ_FOREACH(s, &ctx->bh_slice_list, next) {
        if (bh_list_has_scheduled(s->bh_list)) {
            return true;
        }
    }
    return false;
}

/* Home thread, at finalize: free what is queued, and name (then free) every
 * BH its owner never deleted. */
void aio_bh_context_finalize(AioContext *ctx)
{
    AioBH *bh;

    /* There must be no aio_bh_poll() in progress: drain what is queued. */
    g_assert(STAILQ_EMPTY(&ctx->bh_slice_list));
    bh = atomic_exchange(&ctx->mailbox->bh_list, NULL);
    while (bh) {
        AioBH *next = bh->next;
        unsigned flags = atomic_load(&bh->flags);

        if (flags & (BH_DELETED | BH_ONESHOT)) {
            if ((flags & (BH_ONESHOT | BH_SCHEDULED | BH_DELETED)) ==
                (BH_ONESHOT | BH_SCHEDULED)) {
                g_critical("AioContext finalized with oneshot BH '%s' still "
                           "pending: it never ran", bh->name);
            }
            g_free(bh);
        }
        bh = next;
    }
    /* Every BH still registered was never deleted: a lifecycle bug of its
     * owner.  Name it, and free it since nobody can run it any more. */
    while ((bh = LIST_FIRST(&ctx->bh_registry))) {
        LIST_REMOVE(bh, registered);
        g_critical("AioContext finalized with BH '%s' never deleted", bh->name);
        g_free(bh);
    }
}
