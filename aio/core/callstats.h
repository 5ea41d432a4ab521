/*
 * Callback accounting (see "Callback accounting" in aio.h): the per-name
 * call table and the heartbeat of one context.  Internal to aio/.
 *
 * The dispatch sites (bh.c, aio-posix.c, timer.c, the coroutine entry)
 * bracket each callback with aio_call_begin() / aio_call_end().  With
 * every instrumentation off, aio_call_begin() is one load and one
 * predictable branch and aio_call_end() a branch on its result.
 *
 * Thread rules:
 *  - mode, time_countdown, next_call_id and index belong to the home
 *    thread (mode is atomic only so heartbeat readers can see it is off).
 *  - entries: appended by the home thread under lock; readers walk it
 *    under lock.  An entry is never freed before the context.  Its
 *    counters are written by the home thread only (relaxed load + store)
 *    and read with relaxed loads, so a snapshot is consistent per counter.
 *  - hb_*: a seqlock written by the home thread (hb_seq odd while a write
 *    is in progress), read by any thread (aio_context_get_heartbeat).
 */
#ifndef AIO_CORE_CALLSTATS_H
#define AIO_CORE_CALLSTATS_H

#include "aioctx/aio.h"

#include <pthread.h>
#include <stdatomic.h>

enum {
    AIO_CALLS_DETAIL    = 1 << 0,   /* stats-detail on: count and time */
    AIO_CALLS_HEARTBEAT = 1 << 1,   /* stall-threshold-ns > 0: publish */
};

typedef struct AioCallEntry {
    const struct AioCallState *owner;   /* validates cached pointers */
    AioCallKind kind;
    const char *name;
    _Atomic uint64_t calls;
    _Atomic uint64_t timed_calls;
    _Atomic uint64_t timed_ns;
    _Atomic uint64_t max_ns;
    struct AioCallEntry *next;          /* the entries list */
} AioCallEntry;

typedef struct AioCallState {
    _Atomic unsigned mode;              /* AIO_CALLS_* */
    unsigned time_countdown;            /* untimed calls left before one */
    uint64_t next_call_id;
    GHashTable *index[AIO_CALL_KIND_COUNT];  /* name -> entry */
    unsigned n_entries;
    AioCallEntry *other[AIO_CALL_KIND_COUNT];    /* past the names cap */

    pthread_mutex_t lock;
    AioCallEntry *entries;              /* newest first */

    _Atomic uint64_t hb_seq;
    _Atomic(AioCallEntry *) hb_entry;   /* innermost running call; NULL */
    _Atomic uint64_t hb_call_id;
} AioCallState;

/* What aio_call_begin() did, for aio_call_end(): the mode may change
 * inside the callback (a parameter change is itself a BH). */
typedef struct AioCallFrame {
    AioCallEntry *counted;              /* NULL: not counted */
    int64_t start_ns;                   /* 0: not timed */
    bool published;                     /* the heartbeat shows this call */
    AioCallEntry *outer_entry;          /* what the heartbeat showed */
    uint64_t outer_call_id;
} AioCallFrame;

void aio_call_state_init(AioCallState *s);
void aio_call_state_destroy(AioCallState *s);
/* Home thread: derive the mode from the parameters in force. */
void aio_call_state_apply_params(AioCallState *s, const AioParams *p);

void aio_call_begin_slow(AioCallState *s, bool waited, AioCallKind kind,
                         const char *name, AioCallEntry **cache,
                         AioCallFrame *f);
void aio_call_end_slow(AioCallState *s, AioCallFrame *f);

/*
 * Before a callback: returns whether aio_call_end() has work.  @waited:
 * the loop blocked in this iteration, so timing the call costs no
 * throughput.  @cache: where the callback's object keeps its entry.
 */
static inline bool aio_call_begin(AioCallState *s, bool waited,
                                  AioCallKind kind, const char *name,
                                  AioCallEntry **cache, AioCallFrame *f)
{
    if (__builtin_expect(atomic_load_explicit(&s->mode,
                                              memory_order_relaxed) == 0, 1)) {
        return false;
    }
    aio_call_begin_slow(s, waited, kind, name, cache, f);
    return true;
}

static inline void aio_call_end(AioCallState *s, bool begun, AioCallFrame *f)
{
    if (__builtin_expect(begun, 0)) {
        aio_call_end_slow(s, f);
    }
}

#endif /* AIO_CORE_CALLSTATS_H */
