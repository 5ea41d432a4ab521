/*
 * libaioctx internals: the AioContext and AioHandler structures and the
 * FDMonOps fdmon interface.  Not installed; only the .c files of aio/ include it.
 *
 * Ownership and thread rules of every field are written next to it.  "home"
 * means the context's home thread (see aio.h).
 */
#ifndef AIO_AIO_INTERNAL_H
#define AIO_AIO_INTERNAL_H

#include "aioctx/aio.h"
#include "core/callstats.h"

#include <liburing.h>
#include <stdatomic.h>
#include <sys/queue.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>

#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

/* ---------------------------------------------------------------------- */
/* Handlers                                                                */

typedef LIST_HEAD(AioHandlerList, AioHandler) AioHandlerList;
typedef SLIST_HEAD(AioHandlerSList, AioHandler) AioHandlerSList;

/* Adaptive polling state of one handler. */
typedef struct AioPolledEvent {
    int64_t ns;                 /* current polling time, 0 = not polling */
} AioPolledEvent;

/* One registered fd.  Created and freed by the home thread only.  A
 * handler is never modified in place: aio_set_fd_handler() builds a new
 * node and the fdmon's ->update() swaps old for new, so a fdmon may
 * keep pointers to nodes it has in flight (io_uring) until it releases
 * them with aio_free_deleted_handler(). */
struct AioHandler {
    GPollFD pfd;                /* fd, G_IO_* events; revents for poll/GSource */
    IOHandler *io_read;
    IOHandler *io_write;
    AioPollFn *io_poll;
    IOHandler *io_poll_ready;
    IOHandler *io_poll_begin;
    IOHandler *io_poll_end;
    void *opaque;

    LIST_ENTRY(AioHandler) node;          /* ctx->aio_handlers */
    LIST_ENTRY(AioHandler) node_ready;    /* a ready_list during dispatch */
    LIST_ENTRY(AioHandler) node_deleted;  /* ctx->deleted_aio_handlers */
    LIST_ENTRY(AioHandler) node_poll;     /* ctx->poll_aio_handlers */
    bool on_ready_list;
    bool on_deleted_list;
    bool on_poll_list;
    bool deleted;               /* removed: never called again */
    bool poll_ready;            /* found ready by io_poll, not by the fd */
    /* io_read empties the fd before it returns (an EventNotifier handler
     * that calls event_notifier_test_and_clear), or leaves it non-empty
     * only where aio_fdmon_reports_each_write() holds: either way an fdmon
     * that emulates level triggering (io_uring) need not ask the fd again
     * after reporting it.  Set by aio_set_event_notifier_drains(). */
    bool io_read_drains;
    int ready_events;           /* G_IO_* set by the fdmon with node_ready */

    /* Set by a fdmon's ->update() when it still needs a node that is
     * being removed (io_uring: its POLL_ADD is in flight).  The core then
     * only unlinks it; the fdmon calls aio_free_deleted_handler() when
     * it is done with it.  Home thread only. */
    bool backend_owns;

    /* io_uring fdmon state (fdmon-io_uring.c only). */
    SLIST_ENTRY(AioHandler) node_submitted;
    unsigned uring_flags;

    int64_t poll_idle_timeout;  /* drop out of polling after this (ns) */
    AioPolledEvent poll;

    const char *name;           /* aio_set_fd_handler_full's */
    AioCallEntry *call_entry;   /* its call statistics, once used (home) */
};

/* Add @node to @ready_list with @revents (G_IO_*), once. */
void aio_add_ready_handler(AioHandlerList *ready_list, AioHandler *node,
                           int revents);

/* For fdmons that defer freeing (io_uring): free a handler that is on
 * ctx->deleted_aio_handlers once the fdmon is done with it. */
void aio_free_deleted_handler(AioContext *ctx, AioHandler *node);

/* Declare that @notifier's io_read always drains it (io_read_drains
 * above); call after each aio_set_event_notifier() that registers it.
 * Saves the io_uring fdmon one poll(2) per wake-up.  No-op if not
 * registered.  Home thread. */
void aio_set_event_notifier_drains(AioContext *ctx, EventNotifier *notifier);

/* ---------------------------------------------------------------------- */
/* fdmons                                                  */

typedef struct FDMonOps {
    const char *name;

    /* Set up / tear down the fdmon's own state (ctx->fdmon_data) and its
     * registration with the GSource (g_source_add_unix_fd of an epoll or
     * ring fd; for poll, g_source_add_poll of each handler's pfd).  init
     * may fail with @error: the caller falls back to another fdmon.
     * destroy may be called with handlers still registered (poll -> epoll
     * upgrade, finalize): it forgets them without calling anything. */
    bool (*init)(AioContext *ctx, GError **error);
    void (*destroy)(AioContext *ctx);

    /* Add (old == NULL), remove (new == NULL) or replace a monitored fd.
     * Home thread. */
    void (*update)(AioContext *ctx, AioHandler *old_node, AioHandler *new_node);

    /* Wait up to @timeout ns (-1 forever, 0 non-blocking) and put ready
     * handlers on @ready_list.  Returns the number of ready handlers, or a
     * negative errno (EINTR is retried inside). */
    int (*wait)(AioContext *ctx, AioHandlerList *ready_list, int64_t timeout);

    /* Tell aio_poll() to stop busy-polling early because ->wait() has
     * something ready. */
    bool (*need_wait)(AioContext *ctx);

    /* Optional: fdmon-specific dispatch (io_uring CqeHandlers). Returns
     * whether progress was made. */
    bool (*dispatch)(AioContext *ctx);

    /* GLib main-loop path: prepare before g_poll, check after, dispatch
     * puts ready handlers on @ready_list. */
    void (*gsource_prepare)(AioContext *ctx);
    bool (*gsource_check)(AioContext *ctx);
    void (*gsource_dispatch)(AioContext *ctx, AioHandlerList *ready_list);

    /* Optional: whether the fdmon reports every write to a watched fd as
     * a new event, readable before or not (see
     * aio_fdmon_reports_each_write()).  NULL: level-triggered only. */
    bool (*reports_each_write)(AioContext *ctx);

    /* Optional (io_uring only): see aio_add_sqe(). */
    void (*add_sqe)(AioContext *ctx,
                    void (*prep_sqe)(struct io_uring_sqe *sqe, void *opaque),
                    void *opaque, CqeHandler *cqe_handler);
} FDMonOps;

extern const FDMonOps fdmon_poll_ops;
extern const FDMonOps fdmon_epoll_ops;
extern const FDMonOps fdmon_io_uring_ops;

/* Whether @ctx's fdmon reports every write to a watched fd as a new event,
 * even while the fd stays readable (FDMonOps.reports_each_write): io_uring
 * with multishot polls (each write wakes the poll, which posts a cqe).  An EventNotifier handler that
 * takes its work from elsewhere (the linux-aio ring) may then leave the
 * eventfd unread while wake-ups find work; it must empty it, then look
 * again, when one finds none (a parked or re-armed poll asks the level).
 * False for poll, epoll and one-shot io_uring polls: level-triggered, they
 * would report a non-empty eventfd at every wait.  Home thread. */
bool aio_fdmon_reports_each_write(AioContext *ctx);

/* Whether @ctx uses io_uring with multishot polls (false on another
 * fdmon, or after the kernel refused multishot).  For white-box tests. */
bool fdmon_io_uring_uses_multishot(AioContext *ctx);

/* Past this many handlers a poll context switches itself to epoll. */
#define FDMON_POLL_UPGRADE_THRESHOLD 64

/* Switch @ctx from poll to epoll (called by fdmon-poll's update when the
 * threshold is crossed); returns false, leaving poll in place, on failure. */
bool fdmon_epoll_try_upgrade(AioContext *ctx);

/* ---------------------------------------------------------------------- */
/* Bottom halves                                                           */

/* Each aio_bh_poll() carves the pending list into a slice of its own; nested
 * calls chain their slices so inner calls finish the outer ones' work. */
typedef struct BHListSlice {
    AioBH *bh_list;
    STAILQ_ENTRY(BHListSlice) next;
} BHListSlice;

/* ---------------------------------------------------------------------- */
/* Timers                                                                  */

typedef struct AioTimerList {
    AioContext *ctx;
    AioClockType clock;
    AioTimer *active;           /* sorted by expire_time; home thread only */
} AioTimerList;

/* Run expired timers of every clock; returns whether any ran. */
bool aio_timerlists_run_expired(AioContext *ctx);
/* ns to the nearest deadline, 0 if expired, -1 if none. */
int64_t aio_timerlists_deadline_ns(AioContext *ctx);

/* ---------------------------------------------------------------------- */
/* Statistics counters                                                     */

/* Written only by the home thread with relaxed stores of (load + n): no RMW
 * atomics on the hot path.  Any thread reads with relaxed loads. */
typedef struct AioStatCounters {
    _Atomic uint64_t iterations;
    _Atomic uint64_t blocking_waits;
    _Atomic uint64_t notify_wakeups;
    _Atomic uint64_t bh_calls;
    _Atomic uint64_t timer_calls;
    _Atomic uint64_t fd_dispatches;
    _Atomic uint64_t poll_attempts;
    _Atomic uint64_t poll_hits;
    _Atomic uint64_t poll_misses;
    _Atomic uint64_t poll_grows;
    _Atomic uint64_t poll_shrinks;
    _Atomic int64_t  poll_ns_current;
    _Atomic uint64_t polling_ns;
    _Atomic uint64_t blocked_ns;
    _Atomic uint64_t fd_handlers;
    _Atomic int64_t  poll_window_min_ns;
    _Atomic int64_t  poll_window_median_ns;
    _Atomic int64_t  poll_window_max_ns;
} AioStatCounters;

/*
 * The loop's phase and its start, for time accounting (stats.c).  A
 * sequence lock with one writer, the home thread: it makes seq odd,
 * changes the phase, polling_ns / blocked_ns and phase_start_ns, then
 * makes seq even again; a reader retries until it read the same even seq
 * before and after, so it sees all of them (and reads its clock) at one
 * instant.  Written only where the loop reads a clock anyway.
 */
typedef enum AioLoopPhase {
    AIO_PHASE_BUSY,         /* running callbacks or the loop's own work */
    AIO_PHASE_POLLING,      /* inside a busy-poll window */
    AIO_PHASE_BLOCKED,      /* in a blocking wait of the fdmon */
} AioLoopPhase;

typedef struct AioLoopTime {
    _Atomic uint32_t seq;
    _Atomic int phase;              /* AioLoopPhase */
    _Atomic int64_t phase_start_ns; /* when the phase began */
    int64_t wait_start_ns;          /* home: start of the current wait */
    int64_t busy_since_ns;          /* home: end of the last wait (0: none) */
} AioLoopTime;

/*
 * The mailbox: what other threads write to wake the loop, and what they
 * read while doing so, apart from the context (allocated 64-byte aligned:
 * a GSource is only malloc-aligned).  A cross-thread aio_bh_schedule() +
 * aio_notify() then touches the first line (and the BH's), no line the
 * loop writes for its own use (its phase, counters, handler lists); the
 * loop reads that line once per wake-up and writes it once
 * (aio_notify_accept).  The wake-up's stamp has the second line: the loop
 * reads it only at its next wait, when the notifier is done with it.
 */
typedef struct AioMailbox {
    /* Bit 0: a GSource prepare..check is in progress; bits 1..31: count of
     * aio_poll() calls between their notify_me increment and their wait's
     * end.  Written by home, read by aio_notify() anywhere. */
    _Atomic uint32_t notify_me;
    /* Set by aio_notify(), cleared by aio_notify_accept(); lets the loop
     * skip the eventfd read and the poll callback see notifications. */
    _Atomic bool notified;
    /* The loop is in a wait (busy-polling or blocked): written by home
     * with its phase (stats.c), read by aio_notify() to time wake-ups. */
    _Atomic bool waiting;
    /* Scheduled BHs: a lock-free stack pushed by any thread (CAS on the
     * head), taken whole by aio_bh_poll().  No element is ever popped
     * singly, so there is no ABA problem.  On the line the loop polls: a
     * line of its own costs the loop one more transfer per wake-up
     * (measured: 0.3 us slower round trips). */
    AioBH *_Atomic bh_list;
    /* Set by the first aio_notify() that finds the loop waiting (any
     * thread, compare-and-swap from 0); taken by the loop at its next wait
     * (wake latency).  Not on the polled line: a busy-polling loop keeps
     * reading that line, and every further write a notifier makes to it
     * would have to take it back. */
    _Alignas(64) _Atomic int64_t notify_ns;
} __attribute__((aligned(64))) AioMailbox;

#define AIO_STAT_ADD(ctx, field, n) \
    atomic_store_explicit(&(ctx)->stats.field, \
        atomic_load_explicit(&(ctx)->stats.field, memory_order_relaxed) + (n), \
        memory_order_relaxed)
#define AIO_STAT_SET(ctx, field, v) \
    atomic_store_explicit(&(ctx)->stats.field, (v), memory_order_relaxed)

/* ---------------------------------------------------------------------- */
/* Poll governor (poll-mode auto; aio-posix.c)                             */

/* How the current blocking iteration is filed (see poll-governor.c). */
typedef enum AioGovernorSample {
    AIO_GOVERNOR_SAMPLE_NONE,       /* not a sample (fixed mode, no poll set) */
    AIO_GOVERNOR_SAMPLE_POLLED,     /* the governor let it poll */
    AIO_GOVERNOR_SAMPLE_SKIPPED,    /* the governor skipped its window */
} AioGovernorSample;

/* Whether a context's busy-polling pays, judged over epochs of polling
 * windows against the waits of iterations that skipped polling.  Home
 * thread only.  All zero is the initial state (polling, nothing
 * measured). */
typedef struct AioPollGovernor {
    AioGovernorSample sample;   /* the current iteration's */
    /* this epoch */
    unsigned windows;           /* windows polled */
    unsigned hits;              /* of them, windows that found work */
    int64_t cost_ns;            /* polling time, bar first-pass finds */
    unsigned polled_samples;    /* iterations the governor let poll */
    int64_t polled_wait_ns;     /* their waits, summed (clamped) */
    /* skipping and the reference */
    unsigned skip_left;         /* blocking iterations still to skip */
    unsigned backoff;           /* length of the next skip (0: the shortest) */
    unsigned paid_epochs;       /* epochs that paid since the last skip */
    unsigned refresh_epochs;    /* paid epochs between re-measurements */
    int64_t blocked_wait_ns;    /* average wait of skipped iterations */
    uint64_t blocked_samples;   /* how many were measured (0: none) */
} AioPollGovernor;

/* The governor's steps in one aio_poll() (poll-governor.c), home thread.
 * skips: whether this blocking iteration skips its polling window (also
 *   files the iteration as a polled or skipped sample; fixed mode: never
 *   skips, no sample).
 * account_window: a window of this iteration ran; whether it found work
 *   and the polling time it cost (0 for a first-pass find).
 * note_wait: the iteration's wait ended, @wait_ns after the loop could
 *   first wait; may end the epoch and judge it.
 * reset: back to the initial state, keeping the measured blocked wait
 *   (on a poll-mode change). */
bool aio_poll_governor_skips(AioContext *ctx);
void aio_poll_governor_account_window(AioContext *ctx, bool found,
                                      int64_t cost_ns);
void aio_poll_governor_note_wait(AioContext *ctx, int64_t wait_ns);
void aio_poll_governor_reset(AioContext *ctx);

/* ---------------------------------------------------------------------- */
/* The context                                                             */

struct ThreadPool;
struct LinuxAioState;
struct LuringState;
struct AioCoState;

struct AioContext {
    GSource source;             /* first: the context *is* a GSource */
    /* What other threads write to wake the loop (see AioMailbox); set at
     * creation, read by every notifier: kept away from fields the loop
     * writes on every iteration. */
    AioMailbox *mailbox;

    /* Registered handlers; home thread only.  Removal while
     * walking_handlers > 0 only marks the node deleted; the last walker
     * frees it (unless the fdmon defers, see aio_free_deleted_handler). */
    AioHandlerList aio_handlers;
    AioHandlerList deleted_aio_handlers;
    AioHandlerList poll_aio_handlers;   /* handlers in the poll set */
    unsigned walking_handlers;
    unsigned handler_count;
    int poll_disable_cnt;               /* handlers without io_poll */

    EventNotifier notifier;

    STAILQ_HEAD(, BHListSlice) bh_slice_list;   /* home only */
    /* Every live non-oneshot BH, so finalize can name leaked ones.
     * Protected by bh_registry_lock (aio_bh_new/delete are thread-safe;
     * oneshots stay out of it so the hot path takes no lock). */
    pthread_mutex_t bh_registry_lock;
    LIST_HEAD(, AioBH) bh_registry;

    AioTimerList tlg[AIO_CLOCK_MAX];            /* home only */

    /* The values set (mask: all); written by aio_context_set_params()
     * and read by the loop and the services, all in the home thread. */
    AioParams params;
    bool poll_started;          /* inside a busy-poll window */
    AioPollGovernor poll_governor;  /* home only */

    const FDMonOps *fdmon_ops;  /* home only; may change (poll -> epoll) */
    void *fdmon_data;           /* the fdmon's own state */
    AioFdmonKind fdmon_forced;  /* AUTO unless the creator forced one */

    /* Attached services, created on first use, freed at finalize. */
    struct ThreadPool *thread_pool;
    struct LinuxAioState *linux_aio;
    struct LuringState *luring;
    /* Coroutine state (co-schedule.c), created on first use by any thread. */
    struct AioCoState *_Atomic coroutines;

    _Atomic(const char *) fdmon_name;         /* for other threads */
    int64_t last_block_ns;      /* this iteration's poll+block time (home) */
    unsigned waitless_iterations;   /* see aio_poll: bounds fd starvation */

    AioStatCounters stats;
    _Atomic int64_t loop_start_ns;  /* first aio_poll (0 = not yet) */
    AioLoopTime time;               /* where the wall time goes (stats.c) */
    AioContextHistograms histograms;    /* home thread writes (stats.c) */
    /* Set by the home thread when a handler's polling time or the poll
     * set changed; the next wait republishes the poll windows. */
    bool poll_windows_dirty;
    /* CPU clock of the home thread, set by aio_set_current_context(). */
    _Atomic bool home_cpu_clock_valid;
    clockid_t home_cpu_clock;

    /* Callback accounting and the heartbeat (callstats.h). */
    AioCallState calls;
};

/* The dispatch half of a loop iteration, shared by aio_poll() and the
 * GSource: runs BHs, the handlers on @ready_list and the fdmon's own
 * completions, ends the handler walk the caller began (walking_handlers++
 * before collecting @ready_list), freeing handlers removed meanwhile, then
 * runs expired timers.  Returns whether progress was made. */
bool aio_dispatch_ready(AioContext *ctx, AioHandlerList *ready_list);

/* Free the handlers on ctx->deleted_aio_handlers; nobody may be walking. */
void aio_free_deleted_handlers(AioContext *ctx);

/* The context's pieces, one file each (core/):
 * bh.c: whether any BH waits to run (any thread), and the BH teardown at
 * finalize (home thread). */
bool aio_bh_scheduled(AioContext *ctx);
void aio_bh_context_finalize(AioContext *ctx);
/* notify.c: register the context's own notifier (home thread, creation). */
void aio_context_notifier_install(AioContext *ctx);
/* gsource.c: the GSourceFuncs of every context; context.c: its finalize. */
extern GSourceFuncs aio_source_funcs;
void aio_context_finalize(GSource *source);

/* Time accounting and histograms (stats.c), home thread.  The loop is
 * about to wait (busy-poll or block), since @now: records the previous
 * wait's wake latency (from the mailbox's stamp; read here, off the path
 * from the wake-up to the dispatch), ends the busy pass that began at the
 * previous wait's end (iteration_ns) and republishes the poll windows if
 * they changed. */
void aio_loop_wait_begin(AioContext *ctx, int64_t now);
/* The loop enters @phase now; returns now, the clock read that stamps the
 * change (read inside the sequence lock: callers use it instead of
 * reading their own).  polling_ns / blocked_ns get the time of the phase
 * left; leaving a wait for AIO_PHASE_BUSY stamps its end (busy_since_ns)
 * and clears the mailbox's waiting flag.  Entering the current phase changes
 * nothing, reads no clock and returns 0. */
int64_t aio_loop_enter_phase(AioContext *ctx, AioLoopPhase phase);
/* aio_notify() found the loop waiting: stamp the notify (any thread).
 * Returns the clock it read, or 0 when an earlier notify of this wait had
 * stamped it already. */
int64_t aio_loop_notify_stamp(AioContext *ctx);
/* A disk engine handed @n requests to the kernel in one call. */
void aio_context_record_io_batch(AioContext *ctx, uint64_t n);
/* A new context's histograms, empty. */
void aio_context_init_stats(AioContext *ctx);

/* Called from finalize / stats / parameter changes: the attached services
 * (thread pool, disk engines).  Defined in services/services.c so the core
 * includes no service header and each service's owner keeps its hooks in
 * one place. */
void aio_context_destroy_services(AioContext *ctx);
void aio_context_fill_service_stats(AioContext *ctx, AioStats *out);
/* Push ctx->params' pool sizes to a running pool; thread-pool-min > 0
 * starts one (with its workers) if the context has none yet.  Home
 * thread. */
void aio_context_apply_thread_pool_params(AioContext *ctx);

/* Parameters (params.c).  A new context's initial values, from the table. */
void aio_context_init_params(AioContext *ctx);
/* The disk-engine batch bound in effect (aio-max-batch, 0 resolved).
 * Home thread. */
int64_t aio_context_max_batch(AioContext *ctx);

/* Make @ops the context's fdmon (after its ->init succeeded). */
void aio_context_set_fdmon(AioContext *ctx, const FDMonOps *ops);

#endif /* AIO_AIO_INTERNAL_H */
