/*
 * The per-context worker thread pool (after QEMU's util/thread-pool.c).
 *
 * A ThreadPool belongs to one AioContext (its *home*).  Jobs run in named
 * worker threads ("aiopool<N>-<M>"); their completion callbacks always run in
 * the home context, from one bottom half that delivers every completion that
 * arrived since it last ran (so a burst of completions costs one BH run).
 * Delivery is prompt, except while jobs queue behind the running ones
 * (at least one per CPU) and completions arrive faster than one per
 * 100 us: then they are gathered and delivered together at most 100 us
 * (plus the kernel's timer slack) later, or as soon as fewer jobs than
 * CPUs are queued, saving the home thread a wake-up per completion.
 *
 * Sizing: the pool keeps at least `min` and at most `max` workers, and
 * spawns a worker only when queued work waits for one and would run on it:
 *  - Runnable workers (alive and not blocked inside a job) are kept at most
 *    at the process's CPU count (thread_pool_cpu_target()): more than that
 *    only share the CPUs, so CPU-bound and short jobs get one worker per
 *    CPU however many are queued, not one per waiting job.  Below that, a
 *    worker is spawned on submit (or when a worker dequeues) while more
 *    jobs are queued than idle workers can take, one spawn at a time.
 *  - Blocking work still reaches `max`: while jobs are queued and no CPU is
 *    free, a growth check runs in the home context; a worker found inside
 *    one job for 200 us or more and sleeping in it (kernel state S or D:
 *    sleep, fsync, a lock) is marked blocked, and a runnable worker is
 *    spawned in its place.  The mark stays across its jobs (a workload's
 *    jobs are alike) until it is seen computing or preempted inside one
 *    job for 200 us (state R) or running jobs shorter than 200 us on
 *    average (two at least) between two checks.  The check runs every
 *    200 us while a worker is marked blocked; each check that finds none
 *    doubles the period, up to 6.4 ms, so CPU-bound work (every worker
 *    runnable, jobs always queued) costs the home thread ~150 checks/s,
 *    and blocking work that follows it is seen within 6.4 ms.  The check
 *    reads /proc only for workers inside one job for 200 us, so short
 *    jobs never pay for it.
 *  - Raising min spawns the missing workers at once.
 *  - Lowering max: surplus workers exit after their current job.
 *  - An idle worker above min exits after THREAD_POOL_IDLE_TIMEOUT_NS
 *    (10 s; thread_pool_set_idle_timeout() changes it, for tests).
 *
 * Thread rules: every function here is home-thread only, except
 * thread_pool_get_stats() (any thread).  Jobs (@func) run in workers and must
 * not touch the context; done callbacks run in the home thread.  The pool's
 * shared state is protected by a pthread mutex (visible to ThreadSanitizer).
 */
#ifndef AIO_THREAD_POOL_H
#define AIO_THREAD_POOL_H

#include "aioctx/aio.h"

#include <sched.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct ThreadPool ThreadPool;
typedef struct ThreadPoolRequest ThreadPoolRequest;

/* Runs in a worker thread; its return value reaches the done callback. */
typedef int ThreadPoolFunc(void *arg);
/* Runs in the home context with @func's result, or -ECANCELED. */
typedef void ThreadPoolDoneFunc(void *opaque, int ret);

#define THREAD_POOL_IDLE_TIMEOUT_NS (10LL * 1000 * 1000 * 1000)

/* The context's pool, created on first use with the context's
 * pool sizes (min workers are started at once).  Home thread. */
ThreadPool *aio_get_thread_pool(AioContext *ctx);

/*
 * Queue @func(@arg) for a worker; @done_cb(@opaque, ret) runs later in the
 * home context, exactly once.  Returns a handle valid until @done_cb starts
 * (for thread_pool_cancel).  Returns NULL only while the context is being
 * finalized (from a done callback run by the finalization); @done_cb is
 * then never called.
 */
ThreadPoolRequest *thread_pool_submit(ThreadPool *pool, ThreadPoolFunc *func,
                                      void *arg, ThreadPoolDoneFunc *done_cb,
                                      void *opaque);

/* Cancel a request that no worker has started: it leaves the queue and its
 * done callback gets -ECANCELED (later, from the BH, never from inside this
 * call).  Returns false, changing nothing, when a worker already runs or ran
 * it; it then completes normally.  @req must be a handle whose done callback
 * has not started yet. */
bool thread_pool_cancel(ThreadPool *pool, ThreadPoolRequest *req);

/* Apply new bounds (already validated by the caller: 0 <= min <= max,
 * max >= 1).  Called by aio_context_set_params(). */
void thread_pool_update_params(struct ThreadPool *pool, int64_t min,
                               int64_t max);

#ifdef CPU_SETSIZE     /* cpu_set_t: <sched.h> with _GNU_SOURCE */
/* The CPUs every worker runs on: applied at once to the workers alive and
 * to each worker the pool creates later (an IOThread passes its own
 * affinity, so its workers follow it).  @cpus NULL: the pool has no set of
 * its own; workers created later inherit the affinity of the thread that
 * creates them (the default) and the workers alive keep theirs.  A worker
 * the kernel refuses to move is logged and keeps running.  Home thread. */
void thread_pool_set_affinity(ThreadPool *pool, const cpu_set_t *cpus);
#endif

/* Runnable workers the pool grows to on its own (the process's CPUs). */
int thread_pool_cpu_target(const ThreadPool *pool);

/* Idle time after which a worker above min exits (> 0). */
void thread_pool_set_idle_timeout(ThreadPool *pool, int64_t ns);

/* Snapshot of the counters (any thread, lock-free). */
typedef struct ThreadPoolStats {
    uint64_t threads;       /* workers alive */
    uint64_t idle;          /* workers waiting for a job */
    uint64_t queued;        /* jobs waiting for a worker */
    uint64_t completed;     /* done callbacks delivered with a job's result */
    uint64_t cancelled;     /* done callbacks delivered with -ECANCELED */
} ThreadPoolStats;
void thread_pool_get_stats(ThreadPool *pool, ThreadPoolStats *out);

/*
 * Finalization (called by aio_context_destroy_services): queued jobs are
 * cancelled, running ones are waited for, every pending done callback is
 * called (in the calling thread, which acts as the home thread), all workers
 * are joined, and the pool is freed.
 */
void thread_pool_free(ThreadPool *pool);

G_END_DECLS

#endif /* AIO_THREAD_POOL_H */
