/*
 * test-thread-pool: the per-context worker pool (aio/thread-pool.h).
 * Completion delivery (exactly once, in the home thread), min/max bounds
 * under load, live resize and idle exit, cancellation, refusal of invalid
 * sizes, and finalization with jobs in flight.
 */
#include "aioctx/aio.h"
#include "aioctx/thread-pool.h"
#include "tap.h"
#include "pool-test.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_t home;

/* ---- 10k jobs ---------------------------------------------------------- */

#define NJOBS 10000
static _Atomic int job_runs[NJOBS];
static int done_calls[NJOBS];
static int done_wrong_thread;
static int done_bad_ret;
static int done_total;

static int count_job(void *arg)
{
    intptr_t i = (intptr_t)arg;
    atomic_fetch_add(&job_runs[i], 1);
    return (int)(i % 1000);
}

static void count_done(void *opaque, int ret)
{
    intptr_t i = (intptr_t)opaque;
    if (!pthread_equal(pthread_self(), home)) {
        done_wrong_thread++;
    }
    if (ret != (int)(i % 1000)) {
        done_bad_ret++;
    }
    done_calls[i]++;
    done_total++;
}

static void test_many_jobs(void)
{
    AioContext *ctx = aio_context_new(NULL);
    ThreadPool *pool = aio_get_thread_pool(ctx);
    for (intptr_t i = 0; i < NJOBS; i++) {
        if (!thread_pool_submit(pool, count_job, (void *)i, count_done,
                                (void *)i)) {
            break;
        }
    }
    POLL_UNTIL(ctx, done_total == NJOBS);
    int once = 0, ran_once = 0;
    for (int i = 0; i < NJOBS; i++) {
        once += done_calls[i] == 1;
        ran_once += atomic_load(&job_runs[i]) == 1;
    }
    is_int(once, NJOBS, "10k jobs: every done callback ran exactly once");
    is_int(ran_once, NJOBS, "10k jobs: every job ran exactly once");
    is_int(done_wrong_thread, 0, "10k jobs: callbacks ran in the home thread");
    is_int(done_bad_ret, 0, "10k jobs: callbacks got the job's return value");
    AioStats st;
    aio_context_get_stats(ctx, &st);
    is_int(st.pool_completed, NJOBS, "stats: pool_completed counts them");
    is_int(st.pool_queued, 0, "stats: nothing left queued");
    aio_context_unref(ctx);
}

/* ---- bounds under load -------------------------------------------------- */

static _Atomic int running_now;
static _Atomic int running_max;
static int load_done;
static uint64_t threads_seen_max;
static AioContext *load_ctx;

/* Counts a job as running and records the most seen at once. */
static void job_running(void)
{
    int now = atomic_fetch_add(&running_now, 1) + 1;
    int seen = atomic_load(&running_max);
    while (now > seen && !atomic_compare_exchange_weak(&running_max, &seen,
                                                       now)) {
    }
}

static int sleepy_job(void *arg)
{
    job_running();
    g_usleep((intptr_t)arg);
    atomic_fetch_sub(&running_now, 1);
    return 0;
}

static void load_done_cb(void *opaque, int ret)
{
    uint64_t t = pool_threads(load_ctx);
    if (t > threads_seen_max) {
        threads_seen_max = t;
    }
    load_done++;
}

/* A job that holds its worker until the gate opens: jobs overlap by
 * construction, not because a sleep happened to be long enough.  It
 * blocks on a condition variable, as blocking work does (the pool grows
 * past one worker per CPU only for workers it sees asleep in a job; a
 * job polling a flag every 100 µs was sometimes seen running). */
static bool gate_open;          /* under gate_lock */
/* pthread, not GMutex: ThreadSanitizer sees only pthread's locks. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;

static void gate_set(bool open)
{
    pthread_mutex_lock(&gate_lock);
    gate_open = open;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

static int gated_job(void *arg)
{
    job_running();
    pthread_mutex_lock(&gate_lock);
    while (!gate_open) {
        pthread_cond_wait(&gate_cond, &gate_lock);
    }
    pthread_mutex_unlock(&gate_lock);
    atomic_fetch_sub(&running_now, 1);
    return 0;
}

static void test_bounds(void)
{
    GError *err = NULL;
    AioContext *ctx = load_ctx = aio_context_new(NULL);
    ok(aio_context_set_thread_pool_params(ctx, 2, 3, &err),
       "set min=2 max=3 before the pool exists");
    ThreadPool *pool = aio_get_thread_pool(ctx);
    is_int(pool_threads(ctx), 2, "a new pool starts min workers at once");

    atomic_store(&running_max, 0);
    gate_set(false);
    for (int i = 0; i < 60; i++) {
        thread_pool_submit(pool, gated_job, NULL, load_done_cb, NULL);
    }
    /* Held jobs keep 57 queued: the pool must grow to max and no further. */
    POLL_UNTIL(ctx, atomic_load(&running_now) == 3);
    is_int(atomic_load(&running_now), 3,
           "under load the pool grew to max: 3 held jobs run at once");
    gate_set(true);
    POLL_UNTIL(ctx, load_done == 60);
    is_int(load_done, 60, "60 held jobs completed");
    ok(atomic_load(&running_max) <= 3, "never more than max=3 jobs at once "
       "(saw %d)", atomic_load(&running_max));
    ok(threads_seen_max <= 3, "stats never showed more than 3 workers "
       "(saw %" PRIu64 ")", threads_seen_max);
    ok(pool_threads(ctx) >= 2, "at least min workers remain");
    aio_context_unref(ctx);
}

/* ---- live resize -------------------------------------------------------- */

static void test_resize(void)
{
    GError *err = NULL;
    AioContext *ctx = load_ctx = aio_context_new(NULL);
    ThreadPool *pool = aio_get_thread_pool(ctx);
    is_int(pool_threads(ctx), 0, "default min=0: no worker before a job");

    ok(aio_context_set_thread_pool_params(ctx, 4, 6, &err),
       "raise min to 4 live");
    is_int(pool_threads(ctx), 4, "raising min spawned 4 workers at once");

    /* Keep all workers busy, then lower max below the busy count. */
    load_done = 0;
    atomic_store(&running_max, 0);
    for (int i = 0; i < 24; i++) {
        thread_pool_submit(pool, sleepy_job, (void *)(intptr_t)3000,
                           load_done_cb, NULL);
    }
    ok(aio_context_set_thread_pool_params(ctx, 1, 1, &err),
       "lower min=1 max=1 live with jobs in flight");
    POLL_UNTIL(ctx, load_done == 24);
    is_int(load_done, 24, "every job of the resized pool completed");
    POLL_UNTIL(ctx, pool_threads(ctx) == 1);
    is_int(pool_threads(ctx), 1, "surplus workers exited down to max=1");

    atomic_store(&running_max, 0);
    load_done = 0;
    for (int i = 0; i < 6; i++) {
        thread_pool_submit(pool, sleepy_job, (void *)(intptr_t)1000,
                           load_done_cb, NULL);
    }
    POLL_UNTIL(ctx, load_done == 6);
    is_int(atomic_load(&running_max), 1, "after the resize jobs run one at a "
           "time");

    /* Idle exit above min, with a short timeout for the test. */
    thread_pool_set_idle_timeout(pool, 50 * 1000 * 1000);
    ok(aio_context_set_thread_pool_params(ctx, 0, 4, &err), "min=0 max=4");
    POLL_UNTIL(ctx, pool_threads(ctx) == 0);
    is_int(pool_threads(ctx), 0, "idle workers above min exit after the "
           "idle timeout");
    aio_context_unref(ctx);
}

/* ---- cancellation -------------------------------------------------------- */

static _Atomic bool blocker_started, blocker_release;
static _Atomic int cancel_job_runs;
static int cancel_ret[12];
static int cancel_done_calls;

static int blocker_job(void *arg)
{
    atomic_store(&blocker_started, true);
    while (!atomic_load(&blocker_release)) {
        g_usleep(100);
    }
    return 7;
}

static int small_job(void *arg)
{
    atomic_fetch_add(&cancel_job_runs, 1);
    return 1;
}

static void cancel_done(void *opaque, int ret)
{
    cancel_ret[(intptr_t)opaque] = ret;
    cancel_done_calls++;
}

static void test_cancel(void)
{
    GError *err = NULL;
    AioContext *ctx = aio_context_new(NULL);
    aio_context_set_thread_pool_params(ctx, 1, 1, &err);
    ThreadPool *pool = aio_get_thread_pool(ctx);
    ThreadPoolRequest *reqs[12];

    reqs[0] = thread_pool_submit(pool, blocker_job, NULL, cancel_done,
                                 (void *)0);
    for (intptr_t i = 1; i < 12; i++) {
        reqs[i] = thread_pool_submit(pool, small_job, NULL, cancel_done,
                                     (void *)i);
    }
    while (!atomic_load(&blocker_started)) {
        g_usleep(100);
    }
    ok(!thread_pool_cancel(pool, reqs[0]), "a running job cannot be "
       "cancelled");
    int cancelled = 0;
    for (int i = 1; i < 12; i += 2) {
        cancelled += thread_pool_cancel(pool, reqs[i]);
    }
    is_int(cancelled, 6, "queued jobs can be cancelled");
    is_int(cancel_done_calls, 0, "cancel never calls back synchronously");
    atomic_store(&blocker_release, true);
    POLL_UNTIL(ctx, cancel_done_calls == 12);
    is_int(cancel_done_calls, 12, "every request got exactly one callback");
    is_int(cancel_ret[0], 7, "the running job finished normally");
    int ecanceled = 0, normal = 0;
    for (int i = 1; i < 12; i++) {
        if (i % 2) {
            ecanceled += cancel_ret[i] == -ECANCELED;
        } else {
            normal += cancel_ret[i] == 1;
        }
    }
    is_int(ecanceled, 6, "cancelled jobs reported -ECANCELED");
    is_int(normal, 5, "the others ran and reported their result");
    is_int(atomic_load(&cancel_job_runs), 5, "cancelled jobs never ran");
    AioStats st;
    aio_context_get_stats(ctx, &st);
    is_int(st.pool_cancelled, 6, "stats: pool_cancelled");
    is_int(st.pool_completed, 6, "stats: pool_completed");
    aio_context_unref(ctx);
}

/* ---- invalid parameters ------------------------------------------------- */

static void test_invalid(void)
{
    AioContext *ctx = aio_context_new(NULL);
    GError *err = NULL;
    aio_context_set_thread_pool_params(ctx, 1, 5, NULL);
    aio_get_thread_pool(ctx);
    const int64_t bad[][2] = { { -1, 4 }, { 5, 4 }, { 0, 0 }, { 0, -3 } };
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        bool r = aio_context_set_thread_pool_params(ctx, bad[i][0], bad[i][1],
                                                    &err);
        ok(!r && err && err->message[0], "min=%" PRId64 " max=%" PRId64
           " refused: %s", bad[i][0], bad[i][1], err ? err->message : "-");
        g_clear_error(&err);
    }
    int64_t min, max;
    aio_context_get_thread_pool_params(ctx, &min, &max);
    ok(min == 1 && max == 5, "nothing changed (min=%" PRId64 " max=%" PRId64
       ")", min, max);
    is_int(pool_threads(ctx), 1, "the pool kept its workers");
    aio_context_unref(ctx);
}

/* ---- finalization with jobs in flight ---------------------------------- */
/* Jobs block on a gate that a helper thread opens only once the main thread
 * sleeps inside aio_context_unref (waiting for the running jobs), so jobs
 * are still queued when finalization starts: the contract says they are
 * cancelled while the running ones complete normally. */

enum { FIN_JOBS = 40 };
static int fin_done_calls;
static int fin_cancelled;
static int fin_completed;
static _Atomic int fin_started;
static atomic_bool fin_gate_open;
static atomic_bool fin_unref_called;

static int fin_job(void *arg)
{
    atomic_fetch_add(&fin_started, 1);
    while (!atomic_load(&fin_gate_open)) {
        g_usleep(100);
    }
    return 0;
}

static void fin_done(void *opaque, int ret)
{
    fin_done_calls++;
    fin_cancelled += ret == -ECANCELED;
    fin_completed += ret == 0;
}

/* Whether thread @tid of this process is blocked (state S or D). */
static bool thread_sleeps(pid_t tid)
{
    char path[64], *text = NULL;
    bool sleeps = false;

    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    if (g_file_get_contents(path, &text, NULL, NULL)) {
        const char *end = strrchr(text, ')');  /* the name may hold spaces */
        sleeps = end && (end[2] == 'S' || end[2] == 'D');
    }
    g_free(text);
    return sleeps;
}

/* Opens the gate once the main thread (@opaque: its tid) blocks in unref;
 * after 10 s regardless, so a broken finalization fails instead of hanging. */
static void *fin_gate_opener(void *opaque)
{
    pid_t main_tid = (pid_t)(intptr_t)opaque;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < deadline &&
           !(atomic_load(&fin_unref_called) && thread_sleeps(main_tid))) {
        g_usleep(1000);
    }
    g_usleep(20 * 1000);    /* let it settle into the wait; not a check */
    atomic_store(&fin_gate_open, true);
    return NULL;
}

static void test_finalize(void)
{
    AioContext *ctx = aio_context_new(NULL);
    aio_context_set_thread_pool_params(ctx, 0, 2, NULL);
    ThreadPool *pool = aio_get_thread_pool(ctx);
    pthread_t opener;

    for (int i = 0; i < FIN_JOBS; i++) {
        thread_pool_submit(pool, fin_job, NULL, fin_done, NULL);
    }
    while (!atomic_load(&fin_started)) {
        g_usleep(100);
    }
    pthread_create(&opener, NULL, fin_gate_opener,
                   (void *)(intptr_t)gettid());
    atomic_store(&fin_unref_called, true);
    aio_context_unref(ctx);
    pthread_join(opener, NULL);
    int started = atomic_load(&fin_started);
    is_int(fin_done_calls, FIN_JOBS, "finalize: every request called back "
           "once");
    is_int(fin_completed, started, "finalize: every job that started ran "
           "to completion with its result");
    is_int(fin_cancelled, FIN_JOBS - started, "finalize: every job still "
           "queued got -ECANCELED");
    ok(started <= 2, "finalize: no queued job started once finalization "
       "began (%d started, 2 workers)", started);
}

/* ---- a job queued as an idle worker stops spinning ---------------------- */

/* An idle worker spins briefly (without the lock) before it sleeps, and a
 * submit does not wake a spinner.  A job queued just as the spin gives up
 * must still run at once, not after the idle timeout.  One job at a time,
 * each queued a delay after the previous one ended, the delay swept in
 * 100 ns steps across the spin's end (about 20 µs), with an idle timeout
 * far beyond the 10 s this test waits for a job to start. */
#define SWEEP_JOBS 3000
#define SWEEP_STEP_NS 100
#define SWEEP_STEPS 600
static _Atomic int64_t sweep_job_end_ns;
static _Atomic int sweep_jobs_ended;
static int sweep_done;

static int stamp_job(void *arg)
{
    (void)arg;
    atomic_store(&sweep_job_end_ns, aio_clock_get_ns(AIO_CLOCK_MONOTONIC));
    atomic_fetch_add(&sweep_jobs_ended, 1);
    return 0;
}

static void sweep_done_cb(void *opaque, int ret)
{
    (void)opaque;
    (void)ret;
    sweep_done++;
}

/* Spin (running the loop) until @n jobs ended or 10 s passed. */
static bool wait_jobs_ended(AioContext *ctx, int n)
{
    int64_t end = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 10000000000LL;
    while (atomic_load(&sweep_jobs_ended) < n) {
        if (aio_clock_get_ns(AIO_CLOCK_MONOTONIC) > end) {
            return false;
        }
        aio_poll(ctx, false);
    }
    return true;
}

static void test_job_queued_as_spin_ends_runs_at_once(void)
{
    AioContext *ctx = aio_context_new(NULL);
    aio_context_set_thread_pool_params(ctx, 1, 1, NULL);
    ThreadPool *pool = aio_get_thread_pool(ctx);
    thread_pool_set_idle_timeout(pool, 60 * 1000000000LL);
    int started = 0;

    for (int i = 0; i < SWEEP_JOBS; i++) {
        int64_t at = atomic_load(&sweep_job_end_ns) +
                     (i % SWEEP_STEPS) * SWEEP_STEP_NS;
        while (aio_clock_get_ns(AIO_CLOCK_MONOTONIC) < at) {
        }
        thread_pool_submit(pool, stamp_job, NULL, sweep_done_cb, NULL);
        if (!wait_jobs_ended(ctx, i + 1)) {
            break;
        }
        started++;
    }
    is_int(started, SWEEP_JOBS, "every job queued around the end of the "
           "idle spin started at once, not after the idle timeout");
    POLL_UNTIL(ctx, sweep_done == started);
    is_int(sweep_done, started, "and each was called back");
    aio_context_unref(ctx);
}

int main(void)
{
    home = pthread_self();
    test_many_jobs();
    test_bounds();
    test_resize();
    test_job_queued_as_spin_ends_runs_at_once();
    test_cancel();
    test_invalid();
    test_finalize();
    return done_testing();
}
