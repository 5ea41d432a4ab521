/*
 * IOThread: a named pthread running its own AioContext, with tunable
 * properties (adaptive polling, I/O batch bound, thread-pool size) that can
 * be changed while it runs.  Plain C API: no JSON, no QMP.
 *
 * Thread rules:
 *  - An IOThread is created, changed, queried and freed by one thread, its
 *    *owner* (the daemon's main loop thread).  Only iothread_get_stats(),
 *    iothread_get_aio_context() and iothread_get_g_main_context() may be
 *    called from any thread.
 *  - The iothread's AioContext is driven only by the iothread.  A live
 *    property change is validated in the owner's thread and then applied
 *    inside the iothread by a bottom half; the owner blocks on a pthread
 *    condition until the BH has run, so the change has taken effect when
 *    iothread_set_params() returns and the loop never sees a half-applied
 *    set.
 */
#ifndef IOTHREAD_IOTHREAD_H
#define IOTHREAD_IOTHREAD_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "aio.h"

G_BEGIN_DECLS

/* Defaults of a new iothread (QEMU's values). */
#define IOTHREAD_DEFAULT_POLL_MAX_NS     32768
#define IOTHREAD_DEFAULT_THREAD_POOL_MAX 64
/* Upper bounds (as in schema/qmp-schema.json): they are int64 on the wire,
 * but a pool size or batch beyond INT_MAX is meaningless (QEMU refuses it
 * as well). */
#define IOTHREAD_PROP_MAX_SMALL          INT32_MAX
/* poll-grow / poll-shrink are factors: 2^32 is already absurd. */
#define IOTHREAD_PROP_MAX_FACTOR         (INT64_C(1) << 32)
/* What an aio-max-batch of 0 means (the disk engines' default). */
#define IOTHREAD_AIO_MAX_BATCH_DEFAULT   32

/* One bit per tunable property. */
typedef enum {
    IOTHREAD_PROP_POLL_MAX_NS     = 1u << 0,
    IOTHREAD_PROP_POLL_GROW       = 1u << 1,
    IOTHREAD_PROP_POLL_SHRINK     = 1u << 2,
    IOTHREAD_PROP_AIO_MAX_BATCH   = 1u << 3,
    IOTHREAD_PROP_THREAD_POOL_MIN = 1u << 4,
    IOTHREAD_PROP_THREAD_POOL_MAX = 1u << 5,
} IOThreadProp;
#define IOTHREAD_PROP_ALL        0x3fu
/* The subset a main-loop object has. */
#define IOTHREAD_PROP_MAIN_LOOP  (IOTHREAD_PROP_AIO_MAX_BATCH | \
                                  IOTHREAD_PROP_THREAD_POOL_MIN | \
                                  IOTHREAD_PROP_THREAD_POOL_MAX)

/* A full set of property values. */
typedef struct IOThreadParams {
    int64_t poll_max_ns;
    int64_t poll_grow;
    int64_t poll_shrink;
    int64_t aio_max_batch;
    int64_t thread_pool_min;
    int64_t thread_pool_max;
} IOThreadParams;

/* A partial change: the properties whose bit is in @mask take the value in
 * @values; the others keep their current value. */
typedef struct IOThreadParamChange {
    unsigned mask;
    IOThreadParams values;
} IOThreadParamChange;

/* Fill @p with the defaults of a new iothread. */
void iothread_params_init_default(IOThreadParams *p);

/* Property names as on the wire ("poll-max-ns", ...).  Returns the
 * property's bit, or 0 for a name that is not a tunable property. */
IOThreadProp iothread_prop_from_name(const char *name);
const char *iothread_prop_name(IOThreadProp prop);
/* Access one field of @p by its bit (exactly one bit set). */
int64_t iothread_params_get(const IOThreadParams *p, IOThreadProp prop);
void iothread_params_set(IOThreadParams *p, IOThreadProp prop, int64_t value);

/* Record "@name = @value" in @change.  false + @error (naming the
 * property) if @name is not one of @allowed_mask's properties. */
bool iothread_change_add(IOThreadParamChange *change, unsigned allowed_mask,
                         const char *name, int64_t value, GError **error);

/* @base with @change applied. */
IOThreadParams iothread_params_merge(const IOThreadParams *base,
                                     const IOThreadParamChange *change);

/* The rules of the aio setters, checked on a complete set so that a
 * combination is judged as a whole: every value in 0..bound,
 * thread-pool-max >= 1 and thread-pool-min <= thread-pool-max.  false +
 * @error naming the offending property (and value) otherwise. */
bool iothread_params_validate(const IOThreadParams *p, GError **error);

/* Apply @p to @ctx.  Home thread of @ctx (or before its loop runs).  @p
 * must have passed iothread_params_validate(); the setters are called in
 * one go, so no loop iteration can see a part of the set. */
bool iothread_params_apply(AioContext *ctx, const IOThreadParams *p,
                           unsigned mask, GError **error);
/* Read the values in effect from @ctx.  Same thread rule. */
void iothread_params_read(AioContext *ctx, IOThreadParams *p);

typedef struct IOThread IOThread;

/*
 * Create an iothread: a new AioContext configured with @params (validated
 * here; NULL = defaults), a thread named "IO <id>" (truncated to the 15
 * characters the kernel keeps) running aio_poll(ctx, true) until stopped.
 * Returns once the thread runs and its tid is known.  NULL + @error if the
 * parameters are invalid or a resource (eventfd, thread) is unavailable.
 * @id is copied; this layer does not check its syntax (see registry.h).
 */
IOThread *iothread_new(const char *id, const IOThreadParams *params,
                       GError **error);

/*
 * Stop and free: schedules a stop BH, lets the loop drain (BHs that are
 * already scheduled run, running thread-pool jobs and in-flight disk I/O
 * complete and their completions run in the iothread), joins the thread and
 * drops the context.  Owner thread; never from inside the iothread.
 */
void iothread_free(IOThread *t);

const char *iothread_get_id(const IOThread *t);
/* The kernel thread id (gettid()) of the loop thread. */
pid_t iothread_get_thread_id(const IOThread *t);
/* Thread-safe.  The context lives as long as the IOThread. */
AioContext *iothread_get_aio_context(IOThread *t);

/* Thread-safe.  Creates on first use a GMainContext driven by the iothread
 * (the AioContext is attached to it as a GSource, and the run loop switches
 * to g_main_loop_run), so GLib sources can be attached to the iothread. */
GMainContext *iothread_get_g_main_context(IOThread *t);

/* The property values in effect (as read back from the context by the
 * iothread after the last change).  Owner thread. */
void iothread_get_params(const IOThread *t, IOThreadParams *out);

/*
 * Live change.  Validates the merged set (current values + @change) in the
 * calling thread; if invalid, false + @error and nothing changes.  Else
 * applies it inside the iothread and waits until it has.  On return the
 * values in effect are visible through iothread_get_params().  Owner
 * thread.  *@changed_mask (may be NULL) receives the properties whose value
 * actually changed.
 */
bool iothread_set_params(IOThread *t, const IOThreadParamChange *change,
                         unsigned *changed_mask, GError **error);

/* Thread-safe: the context's counters (aio_context_get_stats). */
void iothread_get_stats(IOThread *t, AioStats *out);

/*
 * Run @fn(@opaque) inside the iothread and wait for it to return.  Owner
 * thread.  Used for work that must happen in the iothread's own loop
 * (tests use it to load the iothread).
 */
void iothread_run_sync(IOThread *t, void (*fn)(void *opaque), void *opaque);

G_END_DECLS

#endif /* IOTHREAD_IOTHREAD_H */
