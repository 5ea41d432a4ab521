/*
 * When the thread pool grows: one runnable worker per CPU, more only for
 * workers found blocked inside their jobs by a growth check that runs in
 * the home context while jobs wait and backs off while it finds none.
 * Contract in aioctx/thread-pool.h; shared state in thread-pool-int.h.
 */
#include "services/thread-pool-int.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Under lock: queued jobs outnumber the idle and starting workers that
 * will take them, and the pool may still grow. */
bool work_waits_locked(ThreadPool *pool)
{
    unsigned takers = pool->sleeping + pool->spinning + pool->starting;
    return pool->queued > takers && pool->cur_threads < pool->max &&
           !pool->stopping;
}

/* Under lock: a further worker would get a CPU of its own, i.e. fewer
 * workers are runnable (alive and not seen blocked inside a job) than the
 * process has CPUs.  More runnable workers than CPUs only share them. */
bool cpu_free_locked(ThreadPool *pool)
{
    return pool->cur_threads - pool->blocked < pool->cpus;
}

/* CPUs this process may run on (its affinity mask). */
int usable_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) {
        return CPU_COUNT(&set);
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* True if the kernel reports thread @tid of this process sleeping ('S') or
 * in uninterruptible wait ('D'): a worker so found inside one job for a
 * whole check period is blocked (sleep, fsync, a lock), not computing.  A
 * preempted worker is 'R' and counts as runnable. */
static bool thread_sleeps(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return false;
    }
    buf[n] = '\0';
    /* "tid (comm) S ...": comm may hold ')', the state follows the last. */
    char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && (paren[2] == 'S' || paren[2] == 'D');
}

/* Under lock: set or clear @w's blocked mark (pool->blocked counts them). */
static void set_blocked_locked(ThreadPool *pool, Worker *w, bool blocked)
{
    if (w->blocked != blocked) {
        w->blocked = blocked;
        pool->blocked += blocked ? 1 : -1;
    }
}

/*
 * Under lock, home thread: does @w run blocking jobs?  The mark is sticky
 * across jobs, since a worker that blocked in its last job most likely
 * blocks in the next (a workload's jobs are alike), and re-learning it
 * every job would count each new job as runnable for a whole period:
 *  - inside one job for GROW_CHECK_NS or more: blocked if it sleeps there
 *    (kernel state S or D), runnable if it computes or waits for a CPU (R);
 *  - else, jobs shorter than GROW_CHECK_NS on average started since the
 *    previous check @since_ns ago (two at least): short jobs, runnable;
 *  - else no news, the mark stays.
 * The rule reads the job's age, not the period, so it holds whatever the
 * period (see next_grow_period_locked).  Only a worker inside one job for
 * GROW_CHECK_NS costs a /proc read.
 */
static void classify_worker_locked(ThreadPool *pool, Worker *w, int64_t now,
                                   int64_t since_ns)
{
    uint64_t started = w->jobs_started - w->jobs_seen;
    w->jobs_seen = w->jobs_started;
    if (atomic_load(&w->in_job) && now - w->job_start_ns >= GROW_CHECK_NS) {
        bool sleeps = thread_sleeps(w->kernel_tid);
        /* in_job is read again after the state: a worker that left its
         * job and now sleeps on the pool lock is not blocked in a job (it
         * cannot start another one while we hold the lock). */
        if (atomic_load(&w->in_job)) {
            set_blocked_locked(pool, w, sleeps);
        }
    } else if (started >= 2 && (int64_t)started * GROW_CHECK_NS >= since_ns) {
        set_blocked_locked(pool, w, false);
    }
}

/* Under lock, home thread: classify every worker. */
static void mark_blocked_workers_locked(ThreadPool *pool)
{
    int64_t now = mono_ns();
    int64_t since_ns = now - pool->grow_checked_ns;
    Worker *w;
    LIST_FOREACH(w, &pool->workers, link) {
        classify_worker_locked(pool, w, now, since_ns);
    }
    pool->grow_checked_ns = now;
}

/* Under lock: spawn the workers waiting work can use, up to one runnable
 * worker per CPU and max in all. */
static void grow_locked(ThreadPool *pool)
{
    while (work_waits_locked(pool) && cpu_free_locked(pool)) {
        int before = pool->cur_threads;
        spawn_worker_locked(pool);
        if (pool->cur_threads == before) {
            break;
        }
    }
}

/* Home thread: run the growth check one period from now (once). */
void arm_grow_check(ThreadPool *pool)
{
    if (!aio_timer_pending(pool->grow_timer)) {
        aio_timer_mod_ns(pool->grow_timer,
                         aio_clock_get_ns(AIO_CLOCK_MONOTONIC) +
                         pool->grow_check_ns);
    }
}

/* Under lock, home thread: the next check's period.  Short while workers
 * are marked blocked (blocking work: each period may free a CPU for a new
 * worker), doubling while the checks find every worker runnable. */
static void next_grow_period_locked(ThreadPool *pool)
{
    if (pool->blocked > 0) {
        pool->grow_check_ns = GROW_CHECK_NS;
    } else if (pool->grow_check_ns < GROW_CHECK_MAX_NS) {
        pool->grow_check_ns *= 2;
    }
}

/* Timer callback, home thread: while jobs are queued, count the workers
 * blocked in their jobs and replace them with runnable ones.  This is how
 * blocking work reaches max workers while CPU-bound work stays at one
 * worker per CPU. */
void grow_check(void *opaque)
{
    ThreadPool *pool = opaque;
    pthread_mutex_lock(&pool->lock);
    mark_blocked_workers_locked(pool);
    next_grow_period_locked(pool);
    grow_locked(pool);
    bool again = pool->queued > 0 && pool->cur_threads < pool->max &&
                 !pool->stopping;
    publish_locked(pool);
    pthread_mutex_unlock(&pool->lock);
    if (again) {
        arm_grow_check(pool);
    }
}
