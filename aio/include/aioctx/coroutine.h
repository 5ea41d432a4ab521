/*
 * Coroutines on AioContext: cooperative functions with their own stacks
 * that yield while they wait (for a disk request, a pool job, a timer, a
 * lock) and are resumed by the context they run in.  Semantics follow
 * QEMU's include/qemu/coroutine.h and the aio_co_* functions of its
 * util/async.c.
 *
 * Terms.  A coroutine is *entered* by a caller (a plain function or another
 * coroutine) and runs until it *yields* (back to exactly that caller) or
 * returns (it *terminates*: it is freed, or kept in the calling thread's
 * pool for the next aio_coroutine_create).  A coroutine runs *in* a context:
 * the one of the thread that entered it (aio_get_current_context()), or the
 * one whose bottom half entered it (aio_co_schedule).  aio_co_wake resumes
 * it there.
 *
 * Thread rules:
 *  - aio_co_schedule, aio_co_wake and aio_co_enter may be called from any
 *    thread; CoMutex and CoQueue may be shared by coroutines of different
 *    contexts (a short internal spinlock guards their lists; it is never
 *    held across a switch).
 *  - Everything else acts on the calling thread's current coroutine.
 *  - A yielded coroutine is resumed by one party only: whoever it handed
 *    itself to (a completion, a queue, a timer).  Resuming it twice, or
 *    scheduling it while it is scheduled, is a programming error and stops
 *    the program with a message (not an input error: it cannot be caused by
 *    data from outside).
 *  - Thread-local variables must not be cached across a yield: a coroutine
 *    may resume in another thread (aio_co_reschedule_self).
 *
 * Stacks.  Each coroutine has an mmap'ed stack of AIO_COROUTINE_STACK_SIZE
 * (1 MiB, as QEMU) unless created with aio_coroutine_create_full; below it
 * lies a PROT_NONE guard page, so an overflow faults at once (SIGSEGV)
 * instead of corrupting a neighbour.  Pages are only committed when touched.
 *
 * Switching.  On x86_64 a 15-instruction assembly switch saves the six
 * callee-saved registers on the old stack and swaps stack pointers: no
 * system call, no signal mask (swapcontext would do a sigprocmask syscall
 * per switch); an enter+yield pair costs ~30 ns of CPU here, with the
 * library's bookkeeping (wake-up queue, context, checks) included.  The SysV ABI makes the
 * MXCSR and x87 control words callee-saved too; they are not switched, as
 * nothing in the library changes them (a coroutine that changes the
 * rounding mode changes it for its thread).  Elsewhere (or when built with
 * -DAIO_COROUTINE_UCONTEXT) makecontext creates the first frame and
 * sigsetjmp/siglongjmp without the signal mask switch, as QEMU's
 * coroutine-ucontext does.  Both are annotated for AddressSanitizer
 * (__sanitizer_*_switch_fiber) and ThreadSanitizer (__tsan_*_fiber).
 */
#ifndef AIO_COROUTINE_H
#define AIO_COROUTINE_H

#include "aioctx/aio.h"
#include "aioctx/disk-io.h"
#include "aioctx/thread-pool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct Coroutine Coroutine;
typedef void CoroutineEntry(void *opaque);
/* An intrusive FIFO of coroutines (CoQueue, CoMutex waiters, the queue of
 * coroutines to enter when one yields).  Fields private. */
typedef struct CoList {
    Coroutine *head, *tail;
} CoList;

/* Default usable stack size (the guard page comes on top). */
#define AIO_COROUTINE_STACK_SIZE (1u << 20)
/* Smaller requests are raised to this. */
#define AIO_COROUTINE_MIN_STACK_SIZE (16u << 10)
/* Default capacity of the per-thread pool of terminated coroutines. */
#define AIO_COROUTINE_POOL_MAX 64

/* ---------------------------------------------------------------------- */
/* Core                                                                    */

/*
 * A new coroutine that will run @fn(@opaque) when first entered, with the
 * default stack.  Taken from the calling thread's pool when it has one, else
 * mmap'ed.  Never NULL: failing to map a stack aborts with a message (as an
 * out-of-memory g_malloc does).  Any thread.
 */
#define aio_coroutine_create(fn, opaque) \
    aio_coroutine_create_named((fn), (opaque), 0, #fn)
/* The same with a usable stack of @stack_size bytes (0: the default; raised
 * to AIO_COROUTINE_MIN_STACK_SIZE, rounded up to pages).  Only default-size
 * coroutines are pooled. */
#define aio_coroutine_create_full(fn, opaque, stack_size) \
    aio_coroutine_create_named((fn), (opaque), (stack_size), #fn)
/* The same, named @name in the call statistics and stall reports (each
 * entry into the coroutine is one call; see "Callback accounting" in
 * aio.h): not copied, it must outlive every context the coroutine runs
 * in.  The forms above name it after @fn. */
Coroutine *aio_coroutine_create_named(CoroutineEntry *fn, void *opaque,
                                      size_t stack_size, const char *name);

/*
 * Run @co in the calling thread until it yields or terminates, then return.
 * @co runs in the calling thread's current context.  If the caller is a
 * coroutine, @co nests: its yield returns here.  Coroutines that @co queued
 * with aio_co_enter/aio_co_wake while it ran are entered before this
 * returns.  @co must be new or yielded, not scheduled, not running.
 */
void aio_coroutine_enter(Coroutine *co);

/* Return to the caller that entered the running coroutine.  Coroutine only
 * (aborts with a message otherwise). */
void aio_coroutine_yield(void);

/* The running coroutine, or NULL outside any coroutine. */
Coroutine *aio_coroutine_self(void);
bool aio_in_coroutine(void);

/* Capacity of the calling thread's pool (0 disables pooling: every
 * coroutine maps and unmaps its own stack).  Extra pooled coroutines beyond
 * a lowered capacity are freed at once.  A thread's pool is freed when the
 * thread exits. */
void aio_coroutine_set_pool_max(unsigned max);

/* ---------------------------------------------------------------------- */
/* Scheduling across contexts (co-schedule.c)                              */

/*
 * Any thread.  @co (yielded or new) runs in @ctx's home thread, entered from
 * a bottom half that takes every coroutine scheduled since it last ran, in
 * scheduling order (so the coroutines one thread schedules run in the order
 * it scheduled them).  @co may still be running when this is called if it
 * runs in @ctx's home thread (e.g. a worker thread wakes it before it
 * yielded): the bottom half runs in that thread, so after the yield.
 * Scheduling a coroutine that is already scheduled aborts with a message
 * naming the function that scheduled it first (the caller's function, via
 * this macro).
 */
#define aio_co_schedule(ctx, co) aio_co_schedule_full((ctx), (co), __func__)
void aio_co_schedule_full(AioContext *ctx, Coroutine *co, const char *caller);

/*
 * Any thread.  Resume the yielded @co in the context it last ran in:
 * aio_co_enter(that context, @co).  @co must have run in a context (a
 * thread with a current context, or entered by aio_co_schedule).
 */
void aio_co_wake(Coroutine *co);

/*
 * Any thread.  QEMU's rules: when @ctx is not the calling thread's current
 * context, schedule @co there; inside a coroutine of @ctx, queue @co to be
 * entered when the running coroutine yields or terminates (no nesting);
 * else enter @co now.
 */
void aio_co_enter(AioContext *ctx, Coroutine *co);

/*
 * Coroutine only.  Continue the running coroutine in @new_ctx's home thread
 * (returns there).  No-op when @new_ctx is the current context.  The
 * coroutine yields first and is scheduled into @new_ctx by the party it
 * yielded to, so @new_ctx can never enter it before it stopped running.
 */
void aio_co_reschedule_self(AioContext *new_ctx);

/*
 * Finalization of a context (aio_context_unref's last reference): every
 * coroutine scheduled into it and not yet run, and every coroutine sleeping
 * in it (aio_co_sleep_ns), is entered once more in the finalizing thread,
 * before the context's disk engines and thread pool are torn down; a
 * sleeper's aio_co_sleep_ns returns -ECANCELED.  While the context is being
 * finalized, a coroutine woken or scheduled into it (e.g. by a disk or pool
 * completion delivered by the teardown) is entered at once in the
 * finalizing thread, and aio_co_sleep_ns on it returns -ECANCELED without
 * waiting.  So each such coroutine runs to its next yield: one that
 * terminates leaks nothing; one that yields waiting for something else
 * stays its owner's to resume or free.  Nothing of the context is used
 * after it is freed.
 */

/* ---------------------------------------------------------------------- */
/* Sleeping, wait queues, locks (co-sync.c)                                */

/*
 * Coroutine only, in @ctx (its current context).  Yield for at least @ns
 * nanoseconds of @clock.  Returns 0, or -ECANCELED when @ctx was finalized
 * meanwhile (see above).
 */
int aio_co_sleep_ns(AioContext *ctx, AioClockType clock, int64_t ns);

/* A FIFO of waiting coroutines.  Zero-initialized (or aio_co_queue_init)
 * is empty.  Fields are private. */
typedef struct CoQueue {
    _Atomic int spin;
    CoList waiters;
} CoQueue;

typedef struct CoMutex CoMutex;

void aio_co_queue_init(CoQueue *q);
/*
 * Coroutine only.  Yield until another party calls aio_co_queue_next or
 * aio_co_queue_restart_all.  With @mutex (held by the caller), it is
 * released while waiting and held again when this returns, atomically
 * with respect to the wake-up (a condition variable).
 */
void aio_co_queue_wait(CoQueue *q, CoMutex *mutex);
/* Any thread.  Wake the first waiter (aio_co_wake); returns whether there
 * was one. */
bool aio_co_queue_next(CoQueue *q);
/* Any thread.  Wake every waiter, in queue order. */
void aio_co_queue_restart_all(CoQueue *q);
bool aio_co_queue_empty(CoQueue *q);

/*
 * A lock held by a coroutine.  A contended aio_co_mutex_lock yields (it
 * never blocks the thread); aio_co_mutex_unlock hands the lock to the
 * first waiter, so waiters get it in arrival order (FIFO, no barging).
 * Zero-initialized (or aio_co_mutex_init) is unlocked.  Fields are
 * private.
 */
struct CoMutex {
    _Atomic int spin;
    bool locked;
    Coroutine *holder;
    CoList waiters;
};

void aio_co_mutex_init(CoMutex *m);
/* Coroutine only. */
void aio_co_mutex_lock(CoMutex *m);
/* Coroutine only, by the holder (aborts with a message otherwise). */
void aio_co_mutex_unlock(CoMutex *m);

/* ---------------------------------------------------------------------- */
/* Coroutine I/O (co-io.c)                                                 */

/*
 * Coroutine only, running in the engine's (or pool's) home context.  Submit
 * the request and yield until its completion; return its result: 0 (the
 * whole length was transferred, see disk-io.h) or a negative errno, either
 * from the submission (-EINVAL, -ESHUTDOWN; then nothing was queued) or
 * from the completion (-EBADF, -EIO, -ECANCELED, ...).  @engine is
 * &aio_disk_engine_linux_aio or &aio_disk_engine_io_uring and @state what
 * its setup returned.  The iovec array and buffers must stay valid until
 * the call returns.
 */
int aio_disk_co_preadv(const AioDiskEngine *engine, void *state, int fd,
                       const struct iovec *iov, int iovcnt, uint64_t offset);
int aio_disk_co_pwritev(const AioDiskEngine *engine, void *state, int fd,
                        const struct iovec *iov, int iovcnt, uint64_t offset);
int aio_disk_co_flush(const AioDiskEngine *engine, void *state, int fd);

/* Coroutine only, in @pool's home context.  Run @func(@arg) in a worker and
 * return its result, -ECANCELED, or -ESHUTDOWN while the context is being
 * finalized. */
int thread_pool_co_submit(ThreadPool *pool, ThreadPoolFunc *func, void *arg);

G_END_DECLS

#endif /* AIO_COROUTINE_H */
