/*
 * What coroutine.c, co-schedule.c, co-sync.c and co-io.c share.  Not
 * installed.
 */
#ifndef AIO_COROUTINE_INTERNAL_H
#define AIO_COROUTINE_INTERNAL_H

#include "aioctx/coroutine.h"
#include "core/aio-internal.h"

#include <sched.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

#if defined(__x86_64__) && !defined(AIO_COROUTINE_UCONTEXT)
#define AIO_COROUTINE_ASM_SWITCH 1
#endif

typedef enum {
    CO_ACTION_ENTER,
    CO_ACTION_YIELD,
    CO_ACTION_TERMINATE,
} CoAction;

struct Coroutine {
    CoroutineEntry *entry;
    void *entry_arg;
    /* aio_coroutine_create_named's name, and its call statistics in the
     * context that last counted it (written by the thread running it). */
    const char *name;
    AioCallEntry *call_entry;
    /* Who entered it and gets control at its yield; NULL while it is not
     * running.  Written and read by the thread running it. */
    Coroutine *caller;
    /* The context it last ran in (release-stored before each entry, so a
     * waker in another thread that read it sees where to schedule). */
    AioContext *_Atomic ctx;
    /* Name of the function that scheduled it; NULL when not scheduled.
     * Set by CAS in aio_co_schedule, cleared by the BH before entering. */
    const char *_Atomic scheduled;
    Coroutine *scheduled_next;      /* a context's scheduled stack */
    /* Entered when this coroutine yields or terminates (aio_co_enter from
     * inside it); then a CoQueue/CoMutex waiter link. */
    CoList co_queue_wakeup;
    Coroutine *co_queue_next;
    /* aio_co_reschedule_self: where the entering side schedules it once
     * it yielded.  Written by the coroutine, read after the switch back. */
    AioContext *move_to;
    CoAction action;                /* why it last switched back */
    unsigned locks_held;            /* CoMutex held: must be 0 at exit */

    /* Mapping: [guard page][stack_bottom .. +stack_size][this struct],
     * the struct at the end of the stack's top page. */
    void *map;
    size_t map_size;
    void *stack_bottom;
    size_t stack_size;
    bool pooled_size;               /* default size: may go to a pool */
    Coroutine *pool_next;
#ifdef AIO_COROUTINE_ASM_SWITCH
    void *sp;                       /* saved stack pointer while switched out */
#else
    sigjmp_buf env;
#endif
    void *asan_fake_stack;
    void *tsan_fiber;
};

static inline void co_list_push(CoList *l, Coroutine *co)
{
    co->co_queue_next = NULL;
    if (l->tail) {
        l->tail->co_queue_next = co;
    } else {
        l->head = co;
    }
    l->tail = co;
}

static inline Coroutine *co_list_pop(CoList *l)
{
    Coroutine *co = l->head;
    if (co) {
        l->head = co->co_queue_next;
        if (!l->head) {
            l->tail = NULL;
        }
        co->co_queue_next = NULL;
    }
    return co;
}

/* Put all of @front before the elements of @l; @front ends empty. */
static inline void co_list_prepend(CoList *l, CoList *front)
{
    if (!front->head) {
        return;
    }
    front->tail->co_queue_next = l->head;
    if (!l->tail) {
        l->tail = front->tail;
    }
    l->head = front->head;
    front->head = front->tail = NULL;
}

/* The short lock of CoQueue and CoMutex: held for a few list operations,
 * never across a switch; yields the CPU if the holder was preempted. */
static inline void co_spin_lock(_Atomic int *spin)
{
    unsigned n = 0;
    while (atomic_exchange_explicit(spin, 1, memory_order_acquire)) {
        if (++n % 64 == 0) {
            sched_yield();
        }
    }
}

static inline void co_spin_unlock(_Atomic int *spin)
{
    atomic_store_explicit(spin, 0, memory_order_release);
}

/* A programming error of the embedding program: say what, stop. */
#define co_die(...) do {                                                \
        fprintf(stderr, __VA_ARGS__);                                   \
        fputc('\n', stderr);                                            \
        abort();                                                        \
    } while (0)

/* Enter @co (and what it queues) in @ctx from the calling thread, which
 * must be @ctx's home thread (or the finalizing one). */
void co_enter_in(AioContext *ctx, Coroutine *co);
/* The scheduling half of aio_co_reschedule_self, run by the entering side
 * after @co switched back (co-schedule.c). */
void co_schedule_moved(Coroutine *co, AioContext *dest);

/* The coroutine state of a context (co-schedule.c), reached through
 * AioContext.coroutines. */
typedef struct AioCoState AioCoState;

/* Per-context coroutine state hooks, called by aio/services.c at
 * finalization: _begin before the services are torn down, _end after. */
void aio_co_context_finalize_begin(AioContext *ctx);
void aio_co_context_finalize_end(AioContext *ctx);

/* The running coroutine; outside one, stop naming @fn (API misuse). */
Coroutine *co_self_or_die(const char *fn);

/* Enter @co in @ctx from its home (or finalizing) thread by aio_co_enter's
 * rules: queued behind the running coroutine, else entered now. */
void co_enter_here(AioContext *ctx, Coroutine *co);

/* A coroutine in aio_co_sleep_ns.  Its context keeps a list of them (home
 * thread only) so finalization can fail them. */
typedef struct CoSleeper {
    Coroutine *co;
    AioContext *ctx;
    AioTimer timer;
    int ret;                    /* 0, or -ECANCELED */
    struct CoSleeper *prev, *next;
} CoSleeper;

/* Whether @ctx is being finalized. */
bool co_context_dying(AioContext *ctx);
void co_context_add_sleeper(CoSleeper *s);
void co_context_remove_sleeper(CoSleeper *s);

#endif /* AIO_COROUTINE_INTERNAL_H */
