/*
 * Inside the thread pool: what thread-pool.c (queue, workers, delivery)
 * and thread-pool-sizing.c (when the pool grows) share.  Not installed.
 * The thread rules of each field are written beside it; the contract of
 * the pool is in aioctx/thread-pool.h.
 */
#ifndef AIO_SERVICES_THREAD_POOL_INT_H
#define AIO_SERVICES_THREAD_POOL_INT_H

#include "aioctx/thread-pool.h"
#include "core/aio-internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <time.h>

/* Period of the growth check while queued work waits with as many runnable
 * workers as CPUs.  Shorter than the blocking jobs worth a thread (a 1 ms
 * sleep or fsync stays in one job over a whole period), long enough that
 * the check costs the home thread little (5k wake-ups/s at most, and only
 * while work waits). */
#define GROW_CHECK_NS 200000
/* A check that finds no worker blocked doubles the period up to this:
 * CPU-bound jobs keep work queued with every worker runnable, and a check
 * every 200 us then costs the home thread a timer wake-up (and /proc reads
 * for workers preempted inside a job) for nothing: 3.4 us of home CPU per
 * 10 us job, a fifth of the job, measured.  At this period the checks cost
 * ~150 wake-ups/s; blocking work that follows CPU-bound work is seen
 * within one long period, and the period is short again from there. */
#define GROW_CHECK_MAX_NS 6400000

enum { REQ_QUEUED, REQ_RUNNING, REQ_DONE };

struct ThreadPoolRequest {
    ThreadPoolFunc *func;
    void *arg;
    ThreadPoolDoneFunc *done_cb;
    void *opaque;
    int ret;
    int state;                              /* under pool->lock */
    TAILQ_ENTRY(ThreadPoolRequest) link;    /* pool->queue, under lock */
    ThreadPoolRequest *done_next;           /* done stack / free list */
};

typedef struct Worker {
    pthread_t tid;
    ThreadPool *pool;
    unsigned no;
    pid_t kernel_tid;           /* set before the worker takes its first job */
    /* Running a job's func: set under lock, cleared by the worker without
     * it as soon as the func returns (before it waits for the lock). */
    atomic_bool in_job;
    bool blocked;               /* under lock: see classify_worker_locked */
    uint64_t jobs_started;      /* under lock */
    int64_t job_start_ns;       /* under lock: when the last job began */
    uint64_t jobs_seen;         /* home, under lock: at the last check */
    LIST_ENTRY(Worker) link;                /* pool->workers or zombies */
} Worker;

struct ThreadPool {
    AioContext *ctx;
    AioBH *completion_bh;
    unsigned id;

    pthread_mutex_t lock;
    pthread_cond_t work_cond;       /* workers wait for jobs here */
    pthread_cond_t exit_cond;       /* finalization waits for workers */
    /* Everything below up to the atomics: under lock. */
    TAILQ_HEAD(, ThreadPoolRequest) queue;
    LIST_HEAD(, Worker) workers;
    LIST_HEAD(, Worker) zombies;    /* exited, to be joined by home */
    int64_t min, max;
    int64_t idle_timeout_ns;
    int cur_threads;                /* alive (including starting) */
    int starting;                   /* spawned, not yet in their loop */
    int sleeping;                   /* in cond wait */
    int spinning;
    int blocked;                    /* workers with ->blocked set */
    int cpus;                       /* runnable workers wanted at most */
    bool has_affinity;              /* thread_pool_set_affinity's set */
    cpu_set_t affinity;
    unsigned queued;
    unsigned next_worker_no;
    bool stopping;

    /* Read without the lock by spinners. */
    _Atomic unsigned queue_len;
    _Atomic unsigned zombie_count;

    /* Finished requests, pushed by workers, taken whole by the BH. */
    ThreadPoolRequest *_Atomic done_stack;
    /* Set by home while a batching window is open: pushes do not schedule
     * the completion BH, the window's timer delivers.  Sequentially
     * consistent with the pushes (see push_done). */
    atomic_bool batching;

    /* Home thread only. */
    AioTimer *grow_timer;           /* the growth check, see grow_check */
    AioTimer *batch_timer;          /* ends a batching window */
    int64_t last_delivery_ns;       /* when the BH last delivered */
    int64_t grow_check_ns;          /* its period now */
    int64_t grow_checked_ns;        /* when it last ran */
    ThreadPoolRequest *free_list;
    unsigned free_count;

    /* Stats: written under lock (or by home for completed/cancelled),
     * read anywhere with relaxed loads. */
    _Atomic uint64_t st_threads, st_idle, st_queued;
    _Atomic uint64_t st_completed, st_cancelled;
};

#define RELAXED memory_order_relaxed

static inline int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* thread-pool.c */
void publish_locked(ThreadPool *pool);
void spawn_worker_locked(ThreadPool *pool);

/* thread-pool-sizing.c */
bool work_waits_locked(ThreadPool *pool);
bool cpu_free_locked(ThreadPool *pool);
int usable_cpus(void);
void arm_grow_check(ThreadPool *pool);
void grow_check(void *opaque);

#endif /* AIO_SERVICES_THREAD_POOL_INT_H */
