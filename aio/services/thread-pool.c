/*
 * The per-context worker thread pool: queue, workers, sizing, cancellation
 * and delivery of completions to the home context.  Contract in
 * thread-pool.h.
 *
 * Hot-path design (null jobs must be cheap):
 *  - One pthread mutex guards the queue and the worker bookkeeping; a
 *    worker takes it once per job (dequeue), the home thread once per
 *    submit.
 *  - Finished jobs are pushed on a lock-free stack; only the push that finds
 *    the stack empty schedules the completion BH, so a burst of completions
 *    costs one BH schedule and one BH run.
 *  - An idle worker first spins briefly (watching an atomic queue length)
 *    before it sleeps on the condition variable; submit signals only when
 *    the queued jobs outnumber the spinning workers, so a steady stream of
 *    jobs does not cost a futex wake per job.
 *  - Requests are recycled through a home-thread free list.
 *  - While every CPU's worker has a queued job after its current one,
 *    completions are batched: a window of BATCH_WINDOW_NS in which workers
 *    do not schedule the BH, closed by a home timer or by the queue
 *    running low (see open_batch_window).
 *  - The growth check (a home-context timer, thread-pool-sizing.c) backs off
 *    while it finds no worker blocked: jobs stay queued all the time under
 *    CPU-bound load, and a check every 200 us then cost the home thread
 *    more CPU than the submits and completions together.
 */
#include "services/thread-pool-int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* How long an idle worker spins before sleeping.  Short: the machine may
 * have fewer cores than workers, and a spinner steals the home thread's
 * CPU. */
#define SPIN_NS 20000
/* At most this many workers spin at once; the others sleep. */
#define MAX_SPINNERS 1
#define FREE_LIST_MAX 256
/* Completion batching window, see open_batch_window: longer than the
 * ~12 us a home wake-up costs several times over, short beside the time
 * the backlogged jobs that justify it wait in the queue. */
#define BATCH_WINDOW_NS 100000

static _Atomic unsigned pool_ids;

/* Under lock: publish the bookkeeping to the stats counters. */
void publish_locked(ThreadPool *pool)
{
    atomic_store_explicit(&pool->st_threads, pool->cur_threads, RELAXED);
    atomic_store_explicit(&pool->st_idle, pool->sleeping + pool->spinning,
                          RELAXED);
    atomic_store_explicit(&pool->st_queued, pool->queued, RELAXED);
    atomic_store_explicit(&pool->queue_len, pool->queued, RELAXED);
}

/* Any thread: while a batching window is open, does the backlog that
 * justified it still hold (fewer queued jobs than CPUs: the workers need
 * the home thread's next submissions soon, so the window must not hold
 * the completions back)? */
static bool backlog_holds(ThreadPool *pool)
{
    return atomic_load_explicit(&pool->queue_len, RELAXED) >=
           (unsigned)pool->cpus;
}

/* Any thread: hand a finished request to the home context.  The push
 * onto an empty stack schedules the BH; while a batching window is open,
 * its timer takes the stack instead, unless the backlog is gone (then
 * every push schedules the BH).  The push and the load of `batching` are
 * sequentially consistent, as are home's clearing of `batching` and its
 * exchange of the stack: a push the closing window's exchange missed
 * comes after the clearing, sees it, and schedules the BH. */
static void push_done(ThreadPool *pool, ThreadPoolRequest *req)
{
    ThreadPoolRequest *head = atomic_load_explicit(&pool->done_stack, RELAXED);
    do {
        req->done_next = head;
    } while (!atomic_compare_exchange_weak_explicit(&pool->done_stack, &head,
                                                    req, memory_order_seq_cst,
                                                    RELAXED));
    bool schedule = atomic_load(&pool->batching) ? !backlog_holds(pool)
                                                 : !head;
    if (schedule) {
        aio_bh_schedule(pool->completion_bh);
    }
}

static void *worker_main(void *opaque);

/* Under lock. */
void spawn_worker_locked(ThreadPool *pool)
{
    Worker *w = g_new0(Worker, 1);
    w->pool = pool;
    w->no = pool->next_worker_no++;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (pool->has_affinity) {
        pthread_attr_setaffinity_np(&attr, sizeof(pool->affinity),
                                    &pool->affinity);
    }
    int err = pthread_create(&w->tid, &attr, worker_main, w);
    pthread_attr_destroy(&attr);
    if (err) {
        g_warning("thread pool: cannot create a worker thread: %s",
                  strerror(err));
        g_free(w);
        return;
    }
    LIST_INSERT_HEAD(&pool->workers, w, link);
    pool->cur_threads++;
    pool->starting++;
    publish_locked(pool);
}

/* Under lock: the calling worker leaves; home joins it later. */
static void worker_exit_locked(ThreadPool *pool, Worker *w)
{
    LIST_REMOVE(w, link);
    LIST_INSERT_HEAD(&pool->zombies, w, link);
    if (w->blocked) {
        pool->blocked--;
    }
    pool->cur_threads--;
    atomic_store_explicit(&pool->zombie_count,
                          atomic_load_explicit(&pool->zombie_count, RELAXED) + 1,
                          RELAXED);
    publish_locked(pool);
    if (pool->cur_threads == 0) {
        pthread_cond_broadcast(&pool->exit_cond);
    }
}

/* Home thread: join the workers that exited. */
static void reap_zombies(ThreadPool *pool)
{
    if (!atomic_load_explicit(&pool->zombie_count, RELAXED)) {
        return;
    }
    pthread_mutex_lock(&pool->lock);
    LIST_HEAD(, Worker) list = { pool->zombies.lh_first };
    if (list.lh_first) {
        list.lh_first->link.le_prev = &list.lh_first;
    }
    LIST_INIT(&pool->zombies);
    atomic_store_explicit(&pool->zombie_count, 0, RELAXED);
    pthread_mutex_unlock(&pool->lock);

    while (!LIST_EMPTY(&list)) {
        Worker *w = LIST_FIRST(&list);
        LIST_REMOVE(w, link);
        pthread_join(w->tid, NULL);
        g_free(w);
    }
}

/* Unlocked: spin until a job is queued or SPIN_NS passed (the caller
 * re-checks under the lock either way). */
static void spin_for_work(ThreadPool *pool)
{
    int64_t deadline = mono_ns() + SPIN_NS;
    unsigned i = 0;
    for (;;) {
        if (atomic_load_explicit(&pool->queue_len, RELAXED)) {
            return;
        }
        if ((++i & 63) == 0) {
            if (mono_ns() > deadline) {
                return;
            }
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

/* Under lock, worker @w: dequeue the oldest job and mark @w inside it. */
static ThreadPoolRequest *take_job_locked(ThreadPool *pool, Worker *w)
{
    ThreadPoolRequest *req = TAILQ_FIRST(&pool->queue);
    TAILQ_REMOVE(&pool->queue, req, link);
    req->state = REQ_RUNNING;
    pool->queued--;
    /* Jobs queued up while workers were starting: keep growing up to a
     * worker per CPU (submit cannot see workers start). */
    if (work_waits_locked(pool) && pool->starting == 0 &&
        cpu_free_locked(pool)) {
        spawn_worker_locked(pool);
    }
    atomic_store(&w->in_job, true);
    w->jobs_started++;
    w->job_start_ns = mono_ns();
    publish_locked(pool);
    return req;
}

static void *worker_main(void *opaque)
{
    Worker *w = opaque;
    ThreadPool *pool = w->pool;
    char name[16];

    snprintf(name, sizeof(name), "aiopool%u-%u", pool->id, w->no);
    pthread_setname_np(pthread_self(), name);

    pthread_mutex_lock(&pool->lock);
    w->kernel_tid = (pid_t)syscall(SYS_gettid);
    pool->starting--;
    for (;;) {
        bool timed_out = false;
        bool spun = false;
        while (TAILQ_EMPTY(&pool->queue) && !pool->stopping &&
               pool->cur_threads <= pool->max) {
            if (timed_out && pool->cur_threads > pool->min) {
                break;
            }
            if (!spun && pool->spinning < MAX_SPINNERS) {
                /* Spin once per idle period, without the lock.  Whatever
                 * the spin found, re-check the loop condition before
                 * sleeping: a submit during the spin did not signal (a
                 * spinner counts as a taker) and a resize or stop
                 * broadcast went past, so sleeping now would miss them
                 * for a whole idle timeout. */
                spun = true;
                pool->spinning++;
                publish_locked(pool);
                pthread_mutex_unlock(&pool->lock);
                spin_for_work(pool);
                pthread_mutex_lock(&pool->lock);
                pool->spinning--;
                publish_locked(pool);
                continue;
            }
            int64_t deadline = mono_ns() + pool->idle_timeout_ns;
            struct timespec ts = {
                .tv_sec = deadline / 1000000000LL,
                .tv_nsec = deadline % 1000000000LL,
            };
            pool->sleeping++;
            publish_locked(pool);
            int err = pthread_cond_timedwait(&pool->work_cond, &pool->lock,
                                             &ts);
            pool->sleeping--;
            publish_locked(pool);
            if (err == ETIMEDOUT) {
                timed_out = true;
            }
        }
        if (TAILQ_EMPTY(&pool->queue) || pool->cur_threads > pool->max) {
            /* Stopping with nothing left, surplus above max, or idle past
             * the timeout above min. */
            break;
        }
        ThreadPoolRequest *req = take_job_locked(pool, w);
        pthread_mutex_unlock(&pool->lock);

        req->ret = req->func(req->arg);
        atomic_store(&w->in_job, false);
        push_done(pool, req);

        pthread_mutex_lock(&pool->lock);
    }
    worker_exit_locked(pool, w);
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

static void release_request(ThreadPool *pool, ThreadPoolRequest *req)
{
    if (pool->free_count < FREE_LIST_MAX) {
        req->done_next = pool->free_list;
        pool->free_list = req;
        pool->free_count++;
    } else {
        g_free(req);
    }
}

/* Home thread: deliver every finished request, oldest first; how many. */
static unsigned deliver_completions(ThreadPool *pool)
{
    /* Sequentially consistent: see push_done. */
    ThreadPoolRequest *stack = atomic_exchange(&pool->done_stack, NULL);
    ThreadPoolRequest *fifo = NULL;
    unsigned n = 0;
    while (stack) {
        ThreadPoolRequest *next = stack->done_next;
        stack->done_next = fifo;
        fifo = stack;
        stack = next;
    }
    while (fifo) {
        ThreadPoolRequest *req = fifo;
        fifo = req->done_next;
        if (req->ret == -ECANCELED && req->state == REQ_DONE) {
            atomic_store_explicit(&pool->st_cancelled,
                atomic_load_explicit(&pool->st_cancelled, RELAXED) + 1,
                RELAXED);
        } else {
            atomic_store_explicit(&pool->st_completed,
                atomic_load_explicit(&pool->st_completed, RELAXED) + 1,
                RELAXED);
        }
        req->done_cb(req->opaque, req->ret);
        release_request(pool, req);
        n++;
    }
    return n;
}

/*
 * Home thread, when completions come faster than one per window (so a
 * window saves wake-ups rather than adding a timer's): open a batching
 * window if every CPU's worker has a queued job after its current one.
 * Such a backlog means the queued jobs wait a job time or more anyway,
 * and the workers do not need the home thread to refill the queue; waking
 * the home thread for each completion then costs a good part of the jobs
 * (measured with 10 us CPU jobs and one worker per CPU: a wake-up per 2.5
 * jobs, 3.6 us of home CPU per job).  In the window the completions
 * accumulate and are delivered together when it closes, BATCH_WINDOW_NS
 * (plus the kernel's timer slack) later, or as soon as fewer jobs than
 * CPUs are queued (push_done): a completion is delayed by at most the
 * window, and only while jobs queue behind it.
 */
static void open_batch_window(ThreadPool *pool)
{
    if (!backlog_holds(pool) || atomic_load(&pool->batching)) {
        return;
    }
    atomic_store(&pool->batching, true);
    aio_timer_mod_ns(pool->batch_timer,
                     aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + BATCH_WINDOW_NS);
}

/* Home thread: deliver what finished, join exited workers, and batch the
 * next completions if work is backlogged. */
static void completion_bh(void *opaque)
{
    ThreadPool *pool = opaque;
    int64_t now = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    bool soon_after = now - pool->last_delivery_ns < BATCH_WINDOW_NS;
    unsigned delivered = deliver_completions(pool);
    reap_zombies(pool);
    if (delivered) {
        pool->last_delivery_ns = now;
        if (soon_after) {
            open_batch_window(pool);
        }
    }
}

/* Timer callback, home thread: the window closes (before the stack is
 * taken, see push_done) and what finished in it is delivered; another
 * opens if this one gathered two completions or more. */
static void close_batch_window(void *opaque)
{
    ThreadPool *pool = opaque;
    atomic_store(&pool->batching, false);
    unsigned delivered = deliver_completions(pool);
    reap_zombies(pool);
    if (delivered) {
        pool->last_delivery_ns = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    }
    if (delivered >= 2) {
        open_batch_window(pool);
    }
}

ThreadPool *aio_get_thread_pool(AioContext *ctx)
{
    ThreadPool *pool = ctx->thread_pool;
    if (pool) {
        return pool;
    }
    pool = g_new0(ThreadPool, 1);
    pool->ctx = ctx;
    pool->id = atomic_fetch_add(&pool_ids, 1) + 1;
    pool->completion_bh = aio_bh_new_full(ctx, completion_bh, pool,
                                          "thread-pool-completion");
    pthread_mutex_init(&pool->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->work_cond, &attr);
    pthread_cond_init(&pool->exit_cond, &attr);
    pthread_condattr_destroy(&attr);
    TAILQ_INIT(&pool->queue);
    LIST_INIT(&pool->workers);
    LIST_INIT(&pool->zombies);
    pool->idle_timeout_ns = THREAD_POOL_IDLE_TIMEOUT_NS;
    pool->cpus = usable_cpus();
    pool->grow_check_ns = GROW_CHECK_NS;
    pool->grow_timer = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, 1, grow_check,
                                     pool);
    pool->batch_timer = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, 1,
                                      close_batch_window, pool);
    pool->min = ctx->params.thread_pool_min;
    pool->max = ctx->params.thread_pool_max;
    if (pool->min > pool->max) {
        pool->min = pool->max;
    }
    pthread_mutex_lock(&pool->lock);
    while (pool->cur_threads < pool->min) {
        int before = pool->cur_threads;
        spawn_worker_locked(pool);
        if (pool->cur_threads == before) {
            break;
        }
    }
    pthread_mutex_unlock(&pool->lock);
    /* Release: stats readers in other threads load the pointer. */
    __atomic_store_n(&ctx->thread_pool, pool, __ATOMIC_RELEASE);
    return pool;
}

ThreadPoolRequest *thread_pool_submit(ThreadPool *pool, ThreadPoolFunc *func,
                                      void *arg, ThreadPoolDoneFunc *done_cb,
                                      void *opaque)
{
    ThreadPoolRequest *req = pool->free_list;
    if (req) {
        pool->free_list = req->done_next;
        pool->free_count--;
    } else {
        req = g_new(ThreadPoolRequest, 1);
    }
    req->func = func;
    req->arg = arg;
    req->done_cb = done_cb;
    req->opaque = opaque;
    req->ret = 0;
    req->state = REQ_QUEUED;
    req->done_next = NULL;

    pthread_mutex_lock(&pool->lock);
    if (pool->stopping) {
        pthread_mutex_unlock(&pool->lock);
        release_request(pool, req);
        return NULL;
    }
    TAILQ_INSERT_TAIL(&pool->queue, req, link);
    pool->queued++;
    unsigned takers = pool->spinning + pool->starting;
    if (pool->sleeping && pool->queued > takers) {
        pthread_cond_signal(&pool->work_cond);
    }
    /* More queued jobs than idle workers: grow, one spawn at a time so a
     * burst of short jobs does not create workers it cannot use, and past
     * a worker per CPU only when the growth check finds workers blocked. */
    bool check_growth = false;
    if (work_waits_locked(pool)) {
        if (pool->starting == 0 && cpu_free_locked(pool)) {
            spawn_worker_locked(pool);
        } else {
            /* The check re-arms itself while jobs stay queued: workers
             * may block after the last submit. */
            check_growth = true;
        }
    }
    publish_locked(pool);
    pthread_mutex_unlock(&pool->lock);
    if (check_growth) {
        arm_grow_check(pool);
    }
    return req;
}

bool thread_pool_cancel(ThreadPool *pool, ThreadPoolRequest *req)
{
    bool cancelled = false;
    pthread_mutex_lock(&pool->lock);
    if (req->state == REQ_QUEUED) {
        TAILQ_REMOVE(&pool->queue, req, link);
        pool->queued--;
        req->state = REQ_DONE;
        req->ret = -ECANCELED;
        publish_locked(pool);
        cancelled = true;
    }
    pthread_mutex_unlock(&pool->lock);
    if (cancelled) {
        push_done(pool, req);
    }
    return cancelled;
}

void thread_pool_update_params(struct ThreadPool *pool, int64_t min,
                               int64_t max)
{
    g_return_if_fail(min >= 0 && max >= 1 && min <= max);
    pthread_mutex_lock(&pool->lock);
    pool->min = min;
    pool->max = max;
    while (pool->cur_threads < pool->min && !pool->stopping) {
        int before = pool->cur_threads;
        spawn_worker_locked(pool);
        if (pool->cur_threads == before) {
            break;
        }
    }
    /* Sleeping workers re-check: surplus ones leave. */
    pthread_cond_broadcast(&pool->work_cond);
    pthread_mutex_unlock(&pool->lock);
    reap_zombies(pool);
}

void thread_pool_set_affinity(ThreadPool *pool, const cpu_set_t *cpus)
{
    Worker *w;

    pthread_mutex_lock(&pool->lock);
    pool->has_affinity = cpus != NULL;
    if (cpus) {
        pool->affinity = *cpus;
        LIST_FOREACH(w, &pool->workers, link) {
            int err = pthread_setaffinity_np(w->tid, sizeof(*cpus), cpus);
            if (err) {
                g_warning("thread pool: cannot set the affinity of worker "
                          "%u: %s", w->no, strerror(err));
            }
        }
    }
    pthread_mutex_unlock(&pool->lock);
}

void thread_pool_set_idle_timeout(ThreadPool *pool, int64_t ns)
{
    g_return_if_fail(ns > 0);
    pthread_mutex_lock(&pool->lock);
    pool->idle_timeout_ns = ns;
    pthread_cond_broadcast(&pool->work_cond);
    pthread_mutex_unlock(&pool->lock);
}

int thread_pool_cpu_target(const ThreadPool *pool)
{
    return pool->cpus;
}

void thread_pool_get_stats(ThreadPool *pool, ThreadPoolStats *out)
{
    out->threads = atomic_load_explicit(&pool->st_threads, RELAXED);
    out->idle = atomic_load_explicit(&pool->st_idle, RELAXED);
    out->queued = atomic_load_explicit(&pool->st_queued, RELAXED);
    out->completed = atomic_load_explicit(&pool->st_completed, RELAXED);
    out->cancelled = atomic_load_explicit(&pool->st_cancelled, RELAXED);
}

void thread_pool_free(ThreadPool *pool)
{
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    while (!TAILQ_EMPTY(&pool->queue)) {
        ThreadPoolRequest *req = TAILQ_FIRST(&pool->queue);
        TAILQ_REMOVE(&pool->queue, req, link);
        req->state = REQ_DONE;
        req->ret = -ECANCELED;
        push_done(pool, req);
    }
    pool->queued = 0;
    pthread_cond_broadcast(&pool->work_cond);
    while (pool->cur_threads > 0) {
        pthread_cond_wait(&pool->exit_cond, &pool->lock);
    }
    publish_locked(pool);
    pthread_mutex_unlock(&pool->lock);

    reap_zombies(pool);
    aio_timer_free(pool->grow_timer);
    aio_timer_free(pool->batch_timer);
    atomic_store(&pool->batching, false);
    /* Callbacks may not submit any more (stopping): one pass suffices. */
    deliver_completions(pool);
    aio_bh_delete(pool->completion_bh);

    while (pool->free_list) {
        ThreadPoolRequest *req = pool->free_list;
        pool->free_list = req->done_next;
        g_free(req);
    }
    pthread_cond_destroy(&pool->work_cond);
    pthread_cond_destroy(&pool->exit_cond);
    pthread_mutex_destroy(&pool->lock);
    g_free(pool);
}
