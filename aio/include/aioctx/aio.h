/*
 * libaioctx: a QEMU-style event loop (AioContext) for I/O threads.
 *
 * The public API.  Names and semantics follow QEMU's include/block/aio.h
 * where they apply: qemu_bh_* is spelled aio_bh_*, Error **errp is
 * GError **error, QEMUTimer is AioTimer.
 *
 * Thread rules (the whole library follows them):
 *  - An AioContext has a *home thread*: the one that runs aio_poll() on it
 *    (or the GMainContext it is attached to).  Everything not marked
 *    "thread-safe" below must be called from the home thread, or from any
 *    thread while the home thread is known not to run the context (before the
 *    loop starts, after it stopped).
 *  - Thread-safe: aio_context_ref/unref, aio_bh_new*, aio_bh_schedule*,
 *    aio_bh_cancel, aio_bh_delete, aio_notify, aio_context_get_stats,
 *    aio_context_get_call_stats, aio_context_get_heartbeat,
 *    aio_context_get_histograms, event_notifier_set, aio_clock_get_ns.
 *  - Callbacks (BHs, fd handlers, timers, completions) always run in the
 *    home thread, from aio_poll() or the GSource dispatch.
 */
#ifndef AIO_AIO_H
#define AIO_AIO_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "aioctx/histogram.h"

G_BEGIN_DECLS

typedef struct AioContext AioContext;
typedef struct AioBH AioBH;
typedef struct AioTimer AioTimer;
typedef struct AioHandler AioHandler;

typedef void AioBHFunc(void *opaque);
typedef bool AioPollFn(void *opaque);
typedef void IOHandler(void *opaque);

#define AIO_ERROR (aio_error_quark())
GQuark aio_error_quark(void);
typedef enum {
    AIO_ERROR_FAILED,       /* a system call failed; message names it */
    AIO_ERROR_INVALID,      /* an argument was out of range */
    AIO_ERROR_UNSUPPORTED,  /* the kernel or build lacks the feature */
} AioErrorCode;

/* ---------------------------------------------------------------------- */
/* Event notifier (eventfd)                                                */

typedef struct EventNotifier {
    int rfd;
    int wfd;    /* == rfd for an eventfd */
} EventNotifier;
typedef void EventNotifierHandler(EventNotifier *e);

/* Returns 0 or -errno.  @active: start in the signalled state. */
int event_notifier_init(EventNotifier *e, bool active);
void event_notifier_cleanup(EventNotifier *e);
/* Thread-safe and async-signal-safe.  Returns 0 or -errno. */
int event_notifier_set(EventNotifier *e);
/* Clears the notifier; returns whether it was set. */
bool event_notifier_test_and_clear(EventNotifier *e);
int event_notifier_get_fd(const EventNotifier *e);

/* ---------------------------------------------------------------------- */
/* Context lifetime                                                        */

/* Which fdmon a context uses.  An fdmon ("fd monitor") is the mechanism
 * that waits for fd readiness: poll(2), epoll or io_uring, plugged into
 * the loop through FDMonOps (aio/core/aio-internal.h); sources in
 * aio/fdmon/.  The QMP wire reports it as the "backend" member.
 * AUTO: the AIO_FDMON environment variable (poll|epoll|io_uring) if set,
 * else io_uring when the kernel allows it, else epoll.  An fdmon that cannot be set up falls back (io_uring ->
 * epoll -> poll) with a g_info() naming the reason; never an abort. */
typedef enum {
    AIO_FDMON_AUTO = 0,
    AIO_FDMON_POLL,
    AIO_FDMON_EPOLL,
    AIO_FDMON_IO_URING,
} AioFdmonKind;

/* A new context with the AUTO fdmon.  NULL + @error when the eventfd or
 * fdmon cannot be created.  The caller holds one reference. */
AioContext *aio_context_new(GError **error);
AioContext *aio_context_new_full(AioFdmonKind fdmon, GError **error);
/* Thread-safe. */
void aio_context_ref(AioContext *ctx);
/* Thread-safe.  The last unref finalizes: waits for the thread pool's
 * running jobs, destroys disk engines, and reports (g_critical) every BH
 * that was never deleted by its name. */
void aio_context_unref(AioContext *ctx);

/* The fdmon in use: "poll", "epoll" or "io_uring". */
const char *aio_context_fdmon_name(AioContext *ctx);

/* The context as a GSource (a new reference), so a GMainContext can drive
 * it: g_source_attach(aio_get_g_source(ctx), main_ctx). */
GSource *aio_get_g_source(AioContext *ctx);

/* The context whose loop runs in the calling thread (NULL if none was set).
 * aio_poll() does not set it: the thread that owns the loop does, once. */
AioContext *aio_get_current_context(void);
void aio_set_current_context(AioContext *ctx);

/* ---------------------------------------------------------------------- */
/* The loop                                                                */

/*
 * Runs ready bottom halves, fd handlers and expired timers.  With @blocking,
 * waits (busy-polling first, see aio_context_set_poll_params) until at least
 * one callback ran or aio_notify() was called.  Returns whether progress was
 * made (a callback other than an idle BH or the context's own notifier ran).
 * May be nested: a callback may call aio_poll() on the same context.
 * Home thread only.
 */
bool aio_poll(AioContext *ctx, bool blocking);

/* Thread-safe: force a concurrent or the next blocking aio_poll() (or
 * GSource wait) to return and re-examine pending events. */
void aio_notify(AioContext *ctx);
/* Acknowledge an aio_notify(); used by the loop itself before it looks at
 * BHs, exported for GSource-style drivers. */
void aio_notify_accept(AioContext *ctx);

/* Nanoseconds a blocking wait may last: 0 if something is ready, -1 for
 * forever, else until the nearest timer (idle BHs cap it at 10 ms). */
int64_t aio_compute_timeout(AioContext *ctx);

/* ---------------------------------------------------------------------- */
/* Bottom halves                                                           */

/* Thread-safe.  @name identifies the BH in leak reports; it is not copied,
 * so it must outlive the BH (a string literal in practice). */
AioBH *aio_bh_new_full(AioContext *ctx, AioBHFunc *cb, void *opaque,
                       const char *name);
#define aio_bh_new(ctx, cb, opaque) aio_bh_new_full((ctx), (cb), (opaque), #cb)
/* Thread-safe, wait-free.  A BH scheduled several times before it runs runs
 * once.  A BH scheduled from a BH runs in the next aio_bh_poll() slice. */
void aio_bh_schedule(AioBH *bh);
/* As aio_bh_schedule, but does not wake the loop: runs at the next loop
 * iteration, at the latest within 10 ms; not counted as progress. */
void aio_bh_schedule_idle(AioBH *bh);
/* Undo pending schedules; the callback may still run if it races with the
 * loop in another thread. */
void aio_bh_cancel(AioBH *bh);
/* Cancel and free (asynchronously: the loop frees it). Thread-safe. */
void aio_bh_delete(AioBH *bh);
/* Allocate, schedule, run once, free. Thread-safe. */
void aio_bh_schedule_oneshot_full(AioContext *ctx, AioBHFunc *cb, void *opaque,
                                  const char *name);
#define aio_bh_schedule_oneshot(ctx, cb, opaque) \
    aio_bh_schedule_oneshot_full((ctx), (cb), (opaque), #cb)

/* Run one slice of scheduled BHs (internal to the loop, exported for
 * tests).  Returns the number of non-idle callbacks run. */
int aio_bh_poll(AioContext *ctx);

/* ---------------------------------------------------------------------- */
/* File descriptors                                                        */

/*
 * Register, change or (with io_read == io_write == NULL) remove the handlers
 * of @fd.  @io_poll, if given, is called while busy-polling: it returns true
 * when there is work, and then @io_poll_ready runs instead of a syscall.
 * Safe to call from inside any callback of the same context, including to
 * remove the handler that is running: a removed handler is never called
 * again.
 */
void aio_set_fd_handler_full(AioContext *ctx, int fd,
                             IOHandler *io_read, IOHandler *io_write,
                             AioPollFn *io_poll, IOHandler *io_poll_ready,
                             void *opaque, const char *name);
/* @name (the _full variants) names the handler in the call statistics and
 * stall reports (see "Callback accounting"); the plain forms name it after
 * its io_read callback (io_write when io_read is NULL), as the text of the
 * argument, like aio_bh_new. */
#ifdef __cplusplus
#define AIO_HANDLER_NAME_(io_read, io_write) #io_read
#else
#define AIO_HANDLER_NAME_(io_read, io_write) \
    _Generic((io_read), void *: #io_write, default: #io_read)
#endif
#define aio_set_fd_handler(ctx, fd, io_read, io_write, io_poll, io_poll_ready, \
                           opaque) \
    aio_set_fd_handler_full((ctx), (fd), (io_read), (io_write), (io_poll), \
                            (io_poll_ready), (opaque), \
                            AIO_HANDLER_NAME_(io_read, io_write))
/* Same for an EventNotifier: @io_read(notifier) when it is signalled;
 * io_read == NULL removes it. */
void aio_set_event_notifier_full(AioContext *ctx, EventNotifier *notifier,
                                 EventNotifierHandler *io_read,
                                 AioPollFn *io_poll,
                                 EventNotifierHandler *io_poll_ready,
                                 const char *name);
#define aio_set_event_notifier(ctx, notifier, io_read, io_poll, io_poll_ready) \
    aio_set_event_notifier_full((ctx), (notifier), (io_read), (io_poll), \
                                (io_poll_ready), #io_read)
/* Callbacks around busy-polling for a registered notifier (e.g. to disable
 * the device's notifications while polling).  No-op if not registered. */
void aio_set_event_notifier_poll(AioContext *ctx, EventNotifier *notifier,
                                 EventNotifierHandler *io_poll_begin,
                                 EventNotifierHandler *io_poll_end);

/* ---------------------------------------------------------------------- */
/* Timers                                                                  */

typedef enum {
    AIO_CLOCK_MONOTONIC = 0, /* CLOCK_MONOTONIC: intervals, never jumps */
    AIO_CLOCK_REALTIME,      /* CLOCK_REALTIME: wall time, may jump */
    AIO_CLOCK_MAX
} AioClockType;

#define AIO_SCALE_NS 1
#define AIO_SCALE_US 1000
#define AIO_SCALE_MS 1000000

typedef void AioTimerCB(void *opaque);

struct AioTimer {              /* public so it can be embedded; fields private */
    int64_t expire_time;       /* ns, -1 when not pending */
    struct AioTimerList *list;
    AioTimerCB *cb;
    void *opaque;
    int scale;
    AioTimer *next;
    const char *name;          /* see aio_timer_init_full */
    struct AioCallEntry *call_entry;   /* its call statistics, once used */
};

/* Thread-safe. */
int64_t aio_clock_get_ns(AioClockType type);

/* @name names the timer in the call statistics and stall reports (not
 * copied: see "Callback accounting"); the plain forms name it after @cb. */
void aio_timer_init_full(AioContext *ctx, AioTimer *ts, AioClockType type,
                         int scale, AioTimerCB *cb, void *opaque,
                         const char *name);
#define aio_timer_init(ctx, ts, type, scale, cb, opaque) \
    aio_timer_init_full((ctx), (ts), (type), (scale), (cb), (opaque), #cb)
AioTimer *aio_timer_new_full(AioContext *ctx, AioClockType type, int scale,
                             AioTimerCB *cb, void *opaque, const char *name);
#define aio_timer_new(ctx, type, scale, cb, opaque) \
    aio_timer_new_full((ctx), (type), (scale), (cb), (opaque), #cb)
/* Arm at @expire_time (in the timer's scale, absolute on its clock);
 * re-arming a pending timer moves it.  Fires no earlier than that. */
void aio_timer_mod(AioTimer *ts, int64_t expire_time);
void aio_timer_mod_ns(AioTimer *ts, int64_t expire_time_ns);
void aio_timer_del(AioTimer *ts);
bool aio_timer_pending(const AioTimer *ts);
/* Expiry in ns, or -1 when not pending. */
int64_t aio_timer_expire_time_ns(const AioTimer *ts);
/* Deletes and frees a timer from aio_timer_new(). */
void aio_timer_free(AioTimer *ts);

/* ---------------------------------------------------------------------- */
/* Parameters                                                              */

/*
 * The tunables of a context.  One table (aio/params.c, read with
 * aio_param_info()) owns, per parameter, its name (the same on QMP, the
 * command line and here), its field in AioParams, its default, its bounds,
 * whether a main-loop object has it, and its doc; every layer above reads
 * that table instead of restating it.
 *
 * Set vs effective: a context keeps and returns exactly the value set.
 * Where a value stands for something else (aio-max-batch 0 = the engine
 * default, poll-grow 0 = x2), aio_params_effective() resolves it; the live
 * state (current polling window, pool threads) is in AioStats.
 *
 * Values are int64; an enum-valued parameter (poll-mode) stores the index
 * of its value in its table entry's @values (the names on QMP, the command
 * line and in events), so every layer keeps one representation.
 */
typedef enum AioParamId {
    AIO_PARAM_POLL_MAX_NS,
    AIO_PARAM_POLL_GROW,
    AIO_PARAM_POLL_SHRINK,
    AIO_PARAM_AIO_MAX_BATCH,
    AIO_PARAM_THREAD_POOL_MIN,
    AIO_PARAM_THREAD_POOL_MAX,
    AIO_PARAM_POLL_MODE,
    AIO_PARAM_STALL_THRESHOLD_NS,
    AIO_PARAM_STATS_DETAIL,
    AIO_PARAM_COUNT
} AioParamId;

#define AIO_PARAM_BIT(id)  (1u << (id))
/* The services' defaults the parameter table states (aio-max-batch 0 means
 * AIO_DISK_DEFAULT_MAX_BATCH; thread-pool-max starts at
 * THREAD_POOL_DEFAULT_MAX).  Defined here, with the table's API, so the
 * loop core needs no service header; disk-io.h and thread-pool.h use them. */
#define AIO_DISK_DEFAULT_MAX_BATCH 32
#define THREAD_POOL_DEFAULT_MAX 64

#define AIO_PARAMS_ALL     (AIO_PARAM_BIT(AIO_PARAM_COUNT) - 1)

/*
 * poll-mode: who decides whether a blocking iteration busy-polls.
 *  FIXED: QEMU's semantics: poll whenever a handler's learnt window (grown
 *   and shrunk between 0 and poll-max-ns by poll-grow/poll-shrink) is
 *   above 0.
 *  AUTO: the same windows, gated by a per-context governor that skips
 *   them while polling costs more CPU than the waiting it spares: the
 *   loop measures its waits (from the moment it may wait to the moment it
 *   has work) with polling and, now and then, without, and keeps polling
 *   while the polling time (a find on the first pass costs nothing: the
 *   loop looks once anyway) is no more than the wait it took off.  While
 *   it skips, it probes again after a number of blocking iterations that
 *   doubles (up to a bound) each time a probe finds polling still does not
 *   pay.  See aio/core/poll-governor.c.  The default of an iothread; a
 *   bare context starts FIXED (and with poll-max-ns 0).
 */
typedef enum AioPollMode {
    AIO_POLL_MODE_FIXED,
    AIO_POLL_MODE_AUTO,
} AioPollMode;

/* A set of values, complete or partial: @mask has AIO_PARAM_BIT(id) for
 * each member that is given; the others are ignored. */
typedef struct AioParams {
    unsigned mask;
    int64_t poll_max_ns;        /* longest busy-poll window, ns; 0 = off */
    int64_t poll_grow;          /* window growth factor; 0 = x2 */
    int64_t poll_shrink;        /* window shrink divisor; 0 = reset to 0 */
    int64_t aio_max_batch;      /* disk-engine batch bound; 0 = default */
    int64_t thread_pool_min;    /* pool workers kept alive */
    int64_t thread_pool_max;    /* most pool workers (created on demand) */
    int64_t poll_mode;          /* AioPollMode */
    int64_t stall_threshold_ns; /* a callback running longer stalls; 0 = off */
    int64_t stats_detail;       /* 1: per-name call statistics; 0 = off */
} AioParams;

typedef struct AioParamInfo {
    AioParamId id;
    const char *name;           /* "poll-max-ns", ... */
    size_t offset;              /* of the int64_t field in AioParams */
    int64_t default_value;      /* of a new iothread or main-loop object */
    int64_t context_initial;    /* of a new bare AioContext */
    int64_t min, max;           /* inclusive bounds */
    int64_t zero_means;         /* what 0 stands for (0: just 0) */
    bool main_loop;             /* a main-loop object has it too */
    const char *doc;            /* one sentence, no bounds or default */
    /* An enum-valued parameter: the name of each value (index = value,
     * min = 0, max = last index), NULL-terminated.  NULL: an integer. */
    const char *const *values;
} AioParamInfo;

/* The table entry of @id (0 <= id < AIO_PARAM_COUNT), or by name (NULL
 * for a name that is not a parameter). */
const AioParamInfo *aio_param_info(AioParamId id);
const AioParamInfo *aio_param_find(const char *name);
/* An enum-valued parameter's name for @value; NULL for an integer
 * parameter or a value out of its range. */
const char *aio_param_value_name(const AioParamInfo *info, int64_t value);
/* An enum-valued parameter's value named @name into *@value; false for an
 * integer parameter or a name that is not one of its values. */
bool aio_param_value_parse(const AioParamInfo *info, const char *name,
                           int64_t *value);

int64_t aio_params_get(const AioParams *p, AioParamId id);
/* Store @value and mark the member given. */
void aio_params_set(AioParams *p, AioParamId id, int64_t value);
/* Every member given, each with its default_value. */
void aio_params_init_default(AioParams *p);
/* The given members of @changes override those of @base (whose mask grows
 * accordingly). */
void aio_params_merge(AioParams *base, const AioParams *changes);
/* The value in effect for the value set: zero_means for 0, else itself. */
int64_t aio_params_effective(const AioParams *p, AioParamId id);

/*
 * Check the given members of @p against the table (QEMU 7.2's rules and
 * error texts): a negative value is "<name> value must be in range [0,
 * 9223372036854775807]"; an enum value out of range "<name> value must be
 * one of: fixed, auto" (its names); a pool size outside its bounds, or min > max when
 * both are given, is "bad thread-pool-min/thread-pool-max values".  false
 * + @error (AIO_ERROR_INVALID) on the first problem in table order.
 */
bool aio_params_check(const AioParams *p, GError **error);

/*
 * Apply the given members of @changes, all or nothing: the current values
 * merged with @changes are checked whole (aio_params_check), and only if
 * the whole set passes is any of it stored.  A thread-pool-min above 0
 * creates the pool with that many workers at once.  Home thread, or before
 * the loop runs.
 */
bool aio_context_set_params(AioContext *ctx, const AioParams *changes,
                            GError **error);
/* The values set (mask: all).  Home thread, or before the loop runs. */
void aio_context_get_params(AioContext *ctx, AioParams *out);

/* Shorthands of aio_context_set_params / get_params for one group. */
bool aio_context_set_poll_params(AioContext *ctx, int64_t max_ns,
                                 int64_t grow, int64_t shrink, GError **error);
void aio_context_get_poll_params(AioContext *ctx, int64_t *max_ns,
                                 int64_t *grow, int64_t *shrink);
bool aio_context_set_aio_params(AioContext *ctx, int64_t max_batch,
                                GError **error);
int64_t aio_context_get_aio_max_batch(AioContext *ctx);
bool aio_context_set_thread_pool_params(AioContext *ctx, int64_t min,
                                        int64_t max, GError **error);
void aio_context_get_thread_pool_params(AioContext *ctx, int64_t *min,
                                        int64_t *max);

/* ---------------------------------------------------------------------- */
/* Statistics                                                              */

/*
 * Counters since the context was created.  Each is written by one thread
 * only (the home thread, or for the pool fields under the pool's lock) and
 * read with relaxed atomics, so aio_context_get_stats() is thread-safe and
 * lock-free for the loop; a snapshot is consistent per field, not across
 * fields.  To show "since reset", subtract an earlier snapshot.
 */
typedef struct AioStats {
    /* loop */
    uint64_t iterations;        /* aio_poll() calls */
    uint64_t blocking_waits;    /* waits in the fdmon with timeout != 0 */
    uint64_t notify_wakeups;    /* times the context's notifier was found set */
    uint64_t bh_calls;
    uint64_t timer_calls;
    uint64_t fd_dispatches;     /* io_read/io_write/io_poll_ready calls */
    /* adaptive polling */
    uint64_t poll_attempts;     /* busy-poll windows entered */
    uint64_t poll_hits;         /* windows that found work */
    uint64_t poll_misses;       /* windows that ran out and blocked */
    uint64_t poll_grows;
    uint64_t poll_shrinks;
    int64_t  poll_ns_current;   /* max current poll time over handlers;
                                   0 while poll-mode auto skips it */
    /* time, ns */
    uint64_t polling_ns;        /* busy-polling */
    uint64_t blocked_ns;        /* in blocking waits */
    uint64_t busy_ns;           /* in aio_poll, neither polling nor blocked */
    uint64_t thread_cpu_ns;     /* CPU time of the home thread (0 if unknown) */
    /* thread pool */
    uint64_t pool_threads;
    uint64_t pool_idle;
    uint64_t pool_queued;
    uint64_t pool_completed;
    uint64_t pool_cancelled;
    /* disk engines (linux-aio + io_uring engine, summed) */
    uint64_t io_submitted;      /* requests handed to the kernel */
    uint64_t io_submit_calls;   /* io_submit / io_uring_submit calls */
    uint64_t io_in_flight;
    uint64_t io_completed;
    uint64_t io_errors;
    uint64_t io_requeues;       /* EAGAIN resubmissions */
    /* fd monitoring */
    uint64_t fd_handlers;       /* registered handlers */
    const char *fdmon;          /* static string; QMP "backend" */
    /* disk engines, appended after the fields above (ABI order) */
    uint64_t io_max_batch;      /* largest single submission so far */
    /* time, appended (ABI order): the wall time busy_ns + polling_ns +
     * blocked_ns add up to, exactly (see "Time" below) */
    uint64_t wall_ns;
    /* effective polling windows: min / median (the lower middle) / max of
     * the polling times of the handlers in the poll set, ns; the loop
     * busy-polls for the max.  All 0 when no handler is polled. */
    int64_t poll_window_min_ns;
    int64_t poll_window_median_ns;
    int64_t poll_window_max_ns;
} AioStats;

/*
 * Time.  The loop's wall time since its first aio_poll() is split in
 * three: polling_ns (busy-polling windows), blocked_ns (blocking waits in
 * the fdmon) and busy_ns (the rest: running callbacks and the loop's own
 * work).  aio_context_get_stats() reads the three and wall_ns at one
 * instant (the home thread publishes its phase changes under a sequence
 * lock), a wait or polling window still in progress counted up to that
 * instant, so busy_ns + polling_ns + blocked_ns == wall_ns in every
 * snapshot and the differences of two snapshots add up to the difference
 * of their wall_ns.  busy_ns is wall-clock time: a thread descheduled
 * inside a callback stays busy; thread_cpu_ns (read just after) is its
 * CPU time beside it.  Only aio_poll() is timed: a context dispatched by
 * a GLib main loop (aio_get_g_source) reports 0 until aio_poll() runs.
 */

/* Thread-safe. */
void aio_context_get_stats(AioContext *ctx, AioStats *out);

/*
 * Latency and size distributions of a context, each written by the home
 * thread only (see aioctx/histogram.h for the buckets and thread rules).
 *
 *  wake_latency_ns  from the first aio_notify() (from any thread: a BH
 *                   scheduled, a coroutine woken, a pool completion) that
 *                   finds the loop waiting (busy-polling or blocked) to
 *                   the moment the loop ends that wait to dispatch.  The
 *                   notifier reads the clock only then (once per wait);
 *                   the loop reuses the timestamp it takes when the wait
 *                   ends.  The sample is recorded when the busy pass that
 *                   the wake-up started ends (at the loop's next wait),
 *                   so a reader that raced with that pass sees it at its
 *                   next read.  Wake-ups by an fd alone are not in it (the
 *                   kernel does not say when the fd became ready).
 *  iteration_ns     busy time per loop pass: from the end of a wait (or
 *                   polling window) to the start of the next one, i.e.
 *                   what the loop spent running callbacks for one wake-up.
 *                   Passes that follow each other without waiting (work
 *                   was ready) are one value: the loop reads no clock
 *                   between them.  A loop that never waits records none.
 *  io_batch         requests per submit call of the disk engines.
 */
typedef struct AioContextHistograms {
    AioHistogram wake_latency_ns;
    AioHistogram iteration_ns;
    AioHistogram io_batch;
} AioContextHistograms;

/* Thread-safe: snapshots (aio_histogram_snapshot) of the three. */
void aio_context_get_histograms(AioContext *ctx, AioContextHistograms *out);

/* ---------------------------------------------------------------------- */
/* Callback accounting                                                     */

/*
 * Every callback the loop runs has a kind and a name: a BH its
 * aio_bh_new_full name, an fd handler (io_read, io_write and io_poll_ready
 * alike) its aio_set_fd_handler_full name, a timer its aio_timer_init_full
 * name, a coroutine its aio_coroutine_create_named name (each entry into
 * it is a call).  Names are not copied: they must stay valid as long as
 * the context (string literals in practice), since other threads read
 * them.  Two names with the same text are one name.
 *
 * Two parameters switch the instrumentation on (both off on a bare
 * context; with both off the loop pays one predictable branch per call):
 *  - stats-detail 1: per (kind, name), calls, and the duration of timed
 *    calls.  Reading the clock costs more than a short callback (0.3 µs
 *    on a paravirtualized clock), so a call is timed when the loop had
 *    been waiting in this iteration (it was idle anyway), when it is the
 *    name's first call, and otherwise one call in AIO_CALL_TIME_EVERY;
 *    total_ns is then the timed time scaled by calls / timed_calls.
 *    Durations include callbacks nested inside (a BH that enters a
 *    coroutine includes the coroutine's run).
 *  - stall-threshold-ns > 0: the loop publishes a heartbeat, the callback
 *    running now (kind, name, a call id), for a watchdog in another thread
 *    (aio_context_get_heartbeat).  The loop reads no clock for it: the
 *    watchdog times what it sees.  The threshold itself is the watchdog's.
 *
 * Thread rules: the table is written by the home thread only; a new name
 * is appended under a mutex that readers take too; counters are
 * single-writer relaxed atomics.  The heartbeat is one atomic word the
 * home thread stores at each call's start and end and any thread reads.
 */
typedef enum AioCallKind {
    AIO_CALL_BH,
    AIO_CALL_FD,
    AIO_CALL_TIMER,
    AIO_CALL_COROUTINE,
    AIO_CALL_KIND_COUNT
} AioCallKind;

/* One call in this many is timed while the loop has work. */
#define AIO_CALL_TIME_EVERY 1024
/* Distinct names per context; later names are counted as "(other)". */
#define AIO_CALL_NAMES_MAX 256

/* "bh", "fd", "timer", "coroutine". */
const char *aio_call_kind_name(AioCallKind kind);

typedef struct AioCallStats {
    AioCallKind kind;
    const char *name;
    uint64_t calls;
    uint64_t timed_calls;       /* calls whose duration was measured */
    uint64_t total_ns;          /* estimated (exact when timed == calls) */
    uint64_t max_ns;            /* longest timed call */
} AioCallStats;

/* Thread-safe.  Every name with calls counted so far (since the context
 * was made, over the periods stats-detail was on), sorted by total_ns,
 * largest first.  Returns the count; *@out is g_free()'d by the caller. */
guint aio_context_get_call_stats(AioContext *ctx, AioCallStats **out);

typedef struct AioHeartbeat {
    bool in_call;               /* a callback is running */
    AioCallKind kind;           /* of the innermost running callback */
    const char *name;
    uint64_t call_id;           /* changes with every call */
} AioHeartbeat;

/* Thread-safe.  What the loop runs now (in_call false when it is not in a
 * callback, or stall-threshold-ns is 0).  A call that returned to an outer
 * one shows the outer call again, with its own call id. */
void aio_context_get_heartbeat(AioContext *ctx, AioHeartbeat *out);

/* ---------------------------------------------------------------------- */
/* io_uring passthrough (only on io_uring contexts)                        */

struct io_uring_sqe;
struct io_uring_cqe;

/* One per request; must live from aio_add_sqe() until ->cb runs. */
typedef struct CqeHandler CqeHandler;
struct CqeHandler {
    /* Called from the loop when the request completed. */
    void (*cb)(CqeHandler *handler);
    /* Filled in before ->cb: the result (res) and flags of the cqe. */
    int32_t cqe_res;
    uint32_t cqe_flags;
    /* Internal. */
    CqeHandler *next;
};

/* Whether @ctx's fd monitoring is io_uring (so aio_add_sqe works). */
bool aio_has_io_uring(AioContext *ctx);
/* Home thread.  @prep_sqe fills the sqe (must not set user_data).  The
 * kernel may see it at once or at the next loop iteration.  Requests still
 * pending when the context is destroyed are dropped without a callback. */
void aio_add_sqe(AioContext *ctx,
                 void (*prep_sqe)(struct io_uring_sqe *sqe, void *opaque),
                 void *opaque, CqeHandler *cqe_handler);
/* Home thread.  Hand the sqes added so far to the kernel now (one
 * io_uring_enter) rather than at the loop's next wait, for a request that
 * must start at once (a disk engine resubmitting from a completion
 * callback keeps the device busy).  Reaps nothing, runs no callback.
 * Returns 0 when the kernel took them all, else a negative errno; what it
 * did not take goes at the next wait.  0 on a context without io_uring. */
int aio_submit_sqes(AioContext *ctx);

G_END_DECLS

#endif /* AIO_AIO_H */
