/*
 * Callback accounting: the per-name call table and the heartbeat (the
 * contracts are in callstats.h and in "Callback accounting" in aio.h).
 */
#include "core/aio-internal.h"

#include <string.h>

static const char *const call_kind_names[AIO_CALL_KIND_COUNT] = {
    [AIO_CALL_BH] = "bh",
    [AIO_CALL_FD] = "fd",
    [AIO_CALL_TIMER] = "timer",
    [AIO_CALL_COROUTINE] = "coroutine",
};

/* The name that stands for every name past AIO_CALL_NAMES_MAX. */
static const char other_name[] = "(other)";

const char *aio_call_kind_name(AioCallKind kind)
{
    g_return_val_if_fail((unsigned)kind < AIO_CALL_KIND_COUNT, "unknown");
    return call_kind_names[kind];
}

void aio_call_state_init(AioCallState *s)
{
    memset(s, 0, sizeof(*s));
    for (int k = 0; k < AIO_CALL_KIND_COUNT; k++) {
        /* Keys are the callers' names: not copied (they outlive us). */
        s->index[k] = g_hash_table_new(g_str_hash, g_str_equal);
    }
    pthread_mutex_init(&s->lock, NULL);
}

void aio_call_state_destroy(AioCallState *s)
{
    AioCallEntry *e = s->entries;

    while (e) {
        AioCallEntry *next = e->next;
        g_free(e);
        e = next;
    }
    for (int k = 0; k < AIO_CALL_KIND_COUNT; k++) {
        g_hash_table_destroy(s->index[k]);
    }
    pthread_mutex_destroy(&s->lock);
}

void aio_call_state_apply_params(AioCallState *s, const AioParams *p)
{
    unsigned mode = (p->stats_detail ? AIO_CALLS_DETAIL : 0) |
                    (p->stall_threshold_ns ? AIO_CALLS_HEARTBEAT : 0);

    atomic_store_explicit(&s->mode, mode, memory_order_relaxed);
}

/* ---------------------------------------------------------------------- */
/* The table (home thread)                                                 */

static AioCallEntry *entry_append(AioCallState *s, AioCallKind kind,
                                  const char *name)
{
    AioCallEntry *e = g_new0(AioCallEntry, 1);

    e->owner = s;
    e->kind = kind;
    e->name = name;
    pthread_mutex_lock(&s->lock);
    e->index = s->n_entries++;
    e->next = s->entries;
    s->entries = e;
    pthread_mutex_unlock(&s->lock);
    /* Before the heartbeat can show the index (aio_heartbeat_push). */
    atomic_store_explicit(&s->by_index[e->index], e, memory_order_release);
    return e;
}

static AioCallEntry *entry_lookup(AioCallState *s, AioCallKind kind,
                                  const char *name)
{
    AioCallEntry *e = g_hash_table_lookup(s->index[kind], name);

    if (e) {
        return e;
    }
    if (s->n_entries >= AIO_CALL_NAMES_MAX) {
        if (!s->other[kind]) {
            s->other[kind] = entry_append(s, kind, other_name);
        }
        return s->other[kind];
    }
    e = entry_append(s, kind, name);
    g_hash_table_insert(s->index[kind], (gpointer)name, e);
    return e;
}

/* The entry of a callback, through the pointer its object caches (a
 * coroutine's may belong to another context: it moves). */
static AioCallEntry *entry_of(AioCallState *s, AioCallKind kind,
                              const char *name, AioCallEntry **cache)
{
    AioCallEntry *e = *cache;

    if (!e || e->owner != s) {
        e = entry_lookup(s, kind, name ? name : "(unnamed)");
        *cache = e;
    }
    return e;
}

static void counter_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* Whether to time this call: see "Callback accounting" in aio.h.  The
 * countdown is also run down by aio_call_begin()'s inline path, which
 * leaves its last step to us. */
static bool call_timed(AioCallState *s, AioCallEntry *e, bool waited)
{
    if (waited ||
        atomic_load_explicit(&e->timed_calls, memory_order_relaxed) == 0) {
        return true;
    }
    if (s->time_countdown <= 1) {
        s->time_countdown = AIO_CALL_TIME_EVERY;
        return true;
    }
    s->time_countdown--;
    return false;
}

/* ---------------------------------------------------------------------- */
/* The heartbeat                                                           */

void aio_context_get_heartbeat(AioContext *ctx, AioHeartbeat *out)
{
    AioCallState *s = &ctx->calls;
    uint64_t word = atomic_load_explicit(&s->heartbeat, memory_order_acquire);
    unsigned index = word & ((1u << AIO_HEARTBEAT_INDEX_BITS) - 1);
    AioCallEntry *e;

    memset(out, 0, sizeof(*out));
    if (index == 0 || !(atomic_load_explicit(&s->mode, memory_order_relaxed) &
                        AIO_CALLS_HEARTBEAT)) {
        return;
    }
    e = atomic_load_explicit(&s->by_index[index - 1], memory_order_acquire);
    out->in_call = true;
    out->kind = e->kind;
    out->name = e->name;
    out->call_id = word >> AIO_HEARTBEAT_INDEX_BITS;
}

/* ---------------------------------------------------------------------- */
/* Around a callback (home thread)                                         */

void aio_call_begin_slow(AioCallState *s, bool waited, AioCallKind kind,
                         const char *name, AioCallEntry **cache,
                         AioCallFrame *f)
{
    unsigned mode = atomic_load_explicit(&s->mode, memory_order_relaxed);
    AioCallEntry *e = entry_of(s, kind, name, cache);

    memset(f, 0, sizeof(*f));
    if (mode & AIO_CALLS_DETAIL) {
        f->counted = e;
        aio_call_count(e);
        if (call_timed(s, e, waited)) {
            f->start_ns = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
        }
    }
    if (mode & AIO_CALLS_HEARTBEAT) {
        aio_heartbeat_push(s, e, f);
    }
}

void aio_call_end_slow(AioCallState *s, AioCallFrame *f)
{
    AioCallEntry *e = f->counted;
    uint64_t ns = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) - f->start_ns;

    counter_add(&e->timed_calls, 1);
    counter_add(&e->timed_ns, ns);
    if (ns > atomic_load_explicit(&e->max_ns, memory_order_relaxed)) {
        atomic_store_explicit(&e->max_ns, ns, memory_order_relaxed);
    }
}

/* ---------------------------------------------------------------------- */
/* Readers (any thread)                                                    */

static void entry_snapshot(const AioCallEntry *e, AioCallStats *out)
{
    uint64_t timed_ns = atomic_load_explicit(&e->timed_ns, memory_order_relaxed);

    out->kind = e->kind;
    out->name = e->name;
    out->calls = atomic_load_explicit(&e->calls, memory_order_relaxed);
    out->timed_calls = atomic_load_explicit(&e->timed_calls,
                                            memory_order_relaxed);
    out->max_ns = atomic_load_explicit(&e->max_ns, memory_order_relaxed);
    /* The counters are read one by one: calls may be ahead of timed. */
    if (out->timed_calls == 0) {
        out->total_ns = 0;
    } else if (out->timed_calls >= out->calls) {
        out->total_ns = timed_ns;
    } else {
        out->total_ns = (uint64_t)((double)timed_ns * out->calls /
                                   out->timed_calls);
    }
}

static gint by_total_desc(gconstpointer a, gconstpointer b)
{
    const AioCallStats *x = a, *y = b;

    if (x->total_ns != y->total_ns) {
        return x->total_ns < y->total_ns ? 1 : -1;
    }
    return x->calls < y->calls ? 1 : x->calls > y->calls ? -1 : 0;
}

guint aio_context_get_call_stats(AioContext *ctx, AioCallStats **out)
{
    AioCallState *s = &ctx->calls;
    guint n = 0;

    pthread_mutex_lock(&s->lock);
    *out = g_new0(AioCallStats, s->n_entries ? s->n_entries : 1);
    for (AioCallEntry *e = s->entries; e; e = e->next) {
        /* Entries the heartbeat made while detail was off count nothing. */
        if (atomic_load_explicit(&e->calls, memory_order_relaxed)) {
            entry_snapshot(e, &(*out)[n++]);
        }
    }
    pthread_mutex_unlock(&s->lock);
    qsort(*out, n, sizeof(**out), by_total_desc);
    return n;
}
