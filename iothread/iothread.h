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

#include "aioctx/aio.h"
#include "properties.h"
#include "stall-watch.h"

G_BEGIN_DECLS

typedef struct IOThread IOThread;

/*
 * Create an iothread: a new AioContext configured with the defaults
 * overridden by the given members of @params (NULL: none), checked whole, a thread named "IO <id>" (truncated to the 15
 * characters the kernel keeps) running aio_poll(ctx, true) until stopped.
 * Returns once the thread runs and its tid is known.  NULL + @error if the
 * parameters are invalid or a resource (eventfd, thread) is unavailable.
 * @id is copied; this layer does not check its syntax (see registry.h).
 */
IOThread *iothread_new(const char *id, const AioParams *params,
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

/* The property values set (complete; as read back from the context by the
 * iothread after the last change).  Owner thread. */
void iothread_get_params(const IOThread *t, AioParams *out);

/*
 * Live change, all or nothing.  Checks the merged set (current values +
 * @change) in the calling thread; if refused, false + @error and nothing
 * changes.  Else applies it inside the iothread with
 * aio_context_set_params() and waits until it has.  On return the new
 * values are visible through iothread_get_params().  Owner thread.
 * *@changed_mask (may be NULL) receives the members whose value changed.
 */
bool iothread_set_params(IOThread *t, const AioParams *change,
                         unsigned *changed_mask, GError **error);

/* The cpu-affinity property as set: a canonical cpulist ("0-3,8"), or ""
 * (inherit: the daemon's allowed CPUs).  Owner thread. */
const char *iothread_get_cpu_affinity(const IOThread *t);

/*
 * Live change of cpu-affinity: @cpulist is checked against the CPUs the
 * calling (owner) thread may run on (cpu-affinity.h); if refused, false +
 * @error and nothing changes.  Else the set ("" = the owner's set) is
 * applied inside the iothread with pthread_setaffinity_np to the iothread
 * and, through thread_pool_set_affinity, to its pool's workers alive and
 * to come; on return it is in effect.  *@changed (may be NULL): whether the
 * canonical value differs from the previous one.  Owner thread.
 */
bool iothread_set_cpu_affinity(IOThread *t, const char *cpulist,
                               bool *changed, GError **error);

/* Thread-safe: the context's counters (aio_context_get_stats). */
void iothread_get_stats(IOThread *t, AioStats *out);

/*
 * The stall watchdog's sample of this iothread at @now_ns (monotonic):
 * reads the loop's heartbeat and applies stall-watch.h's rules with the
 * iothread's stall-threshold-ns.  True + *@out when a report is due.
 * Owner thread (the watchdog runs on the daemon's main loop).
 */
bool iothread_check_stall(IOThread *t, int64_t now_ns, StallReport *out);
/* Stalls counted so far (reported or not).  Owner thread. */
uint64_t iothread_get_stalls(const IOThread *t);

/*
 * Run @fn(@opaque) inside the iothread and wait for it to return.  Owner
 * thread.  Used for work that must happen in the iothread's own loop
 * (tests use it to load the iothread).
 */
void iothread_run_sync(IOThread *t, void (*fn)(void *opaque), void *opaque);

G_END_DECLS

#endif /* IOTHREAD_IOTHREAD_H */
