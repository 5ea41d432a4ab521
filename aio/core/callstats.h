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
 *  - heartbeat: one word, so publishing a call is one release store: the
 *    call id in the high bits, the running entry's index + 1 in the low
 *    AIO_HEARTBEAT_INDEX_BITS (0: no call).  Written by the home thread,
 *    read by any thread; by_index[] maps an index to its entry, published
 *    with a release store before the index can appear in the word.
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

#define AIO_HEARTBEAT_INDEX_BITS 16
#define AIO_CALL_ENTRIES_MAX (AIO_CALL_NAMES_MAX + AIO_CALL_KIND_COUNT)

typedef struct AioCallEntry {
    const struct AioCallState *owner;   /* validates cached pointers */
    unsigned index;                     /* in by_index[] */
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

    AioCallEntry *_Atomic by_index[AIO_CALL_ENTRIES_MAX];
    _Atomic uint64_t heartbeat;         /* innermost running call */
} AioCallState;

/* What aio_call_begin() did, for aio_call_end(): the mode may change
 * inside the callback (a parameter change is itself a BH). */
typedef struct AioCallFrame {
    AioCallEntry *counted;              /* set when timed */
    int64_t start_ns;                   /* 0: not timed */
    bool published;                     /* the heartbeat shows this call */
    uint64_t outer_heartbeat;           /* what it showed before */
} AioCallFrame;

void aio_call_state_init(AioCallState *s);
void aio_call_state_destroy(AioCallState *s);
/* Home thread: derive the mode from the parameters in force. */
void aio_call_state_apply_params(AioCallState *s, const AioParams *p);

void aio_call_begin_slow(AioCallState *s, bool waited, AioCallKind kind,
                         const char *name, AioCallEntry **cache,
                         AioCallFrame *f);
void aio_call_end_slow(AioCallState *s, AioCallFrame *f);

/* Home thread: one more call of @e (single writer: load + store). */
static inline void aio_call_count(AioCallEntry *e)
{
    atomic_store_explicit(&e->calls,
        atomic_load_explicit(&e->calls, memory_order_relaxed) + 1,
        memory_order_relaxed);
}

/* Home thread: the heartbeat shows @e as a new call until the frame ends. */
static inline void aio_heartbeat_push(AioCallState *s, AioCallEntry *e,
                                      AioCallFrame *f)
{
    f->published = true;
    f->outer_heartbeat = atomic_load_explicit(&s->heartbeat,
                                              memory_order_relaxed);
    /* Release: a reader that sees the index also sees by_index[] filled
     * (a plain store on x86). */
    atomic_store_explicit(&s->heartbeat,
                          (++s->next_call_id << AIO_HEARTBEAT_INDEX_BITS) |
                          (e->index + 1), memory_order_release);
}

/*
 * Before a callback: returns whether aio_call_end() has work.  @waited:
 * the loop blocked in this iteration, so timing the call costs no
 * throughput.  @cache: where the callback's object keeps its entry.
 * The common case (entry cached, call not timed) is inline: a count and a
 * countdown, a heartbeat store; everything else is aio_call_begin_slow().
 */
static inline bool aio_call_begin(AioCallState *s, bool waited,
                                  AioCallKind kind, const char *name,
                                  AioCallEntry **cache, AioCallFrame *f)
{
    unsigned mode = atomic_load_explicit(&s->mode, memory_order_relaxed);
    AioCallEntry *e;

    if (__builtin_expect(mode == 0, 1)) {
        return false;
    }
    e = *cache;
    if (__builtin_expect(!e || e->owner != s ||
                         ((mode & AIO_CALLS_DETAIL) &&
                          (waited || s->time_countdown <= 1)), 0)) {
        aio_call_begin_slow(s, waited, kind, name, cache, f);
        return true;
    }
    f->start_ns = 0;
    f->published = false;
    if (mode & AIO_CALLS_DETAIL) {
        s->time_countdown--;
        aio_call_count(e);
    }
    if (mode & AIO_CALLS_HEARTBEAT) {
        aio_heartbeat_push(s, e, f);
    }
    return true;
}

static inline void aio_call_end(AioCallState *s, bool begun, AioCallFrame *f)
{
    if (__builtin_expect(begun, 0)) {
        if (f->start_ns) {
            aio_call_end_slow(s, f);
        }
        if (f->published) {
            atomic_store_explicit(&s->heartbeat, f->outer_heartbeat,
                                  memory_order_release);
        }
    }
}

#endif /* AIO_CORE_CALLSTATS_H */
