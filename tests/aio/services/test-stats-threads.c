/*
 * test-stats-threads: the statistics that describe threads, read from
 * another thread as aio_context_get_stats() allows:
 *  - thread_cpu_ns is the CPU time of the context's home thread (the one
 *    that made it current), not of the reader: a home thread that burned
 *    CPU reports at least what it measured itself, while the reader burned
 *    almost nothing;
 *  - pool_idle is the number of pool workers waiting for a job: all of them
 *    with nothing to do, one less while a job runs, all again after it.
 * Waits are bounded by deadlines that only guard against a hang.
 */
#include "aioctx/aio.h"
#include "aioctx/thread-pool.h"
#include "tap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static int64_t thread_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Spin until @flag is set (or 10 s pass); whether it was set. */
static bool wait_flag(atomic_bool *flag)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!atomic_load(flag) && g_get_monotonic_time() < deadline) {
        g_usleep(100);
    }
    return atomic_load(flag);
}

/* ---- thread_cpu_ns ------------------------------------------------------- */

enum { BURN_NS = 200 * 1000 * 1000 };

typedef struct Home {
    AioContext *ctx;
    _Atomic int64_t burned_ns;  /* the home thread's own CPU clock */
    atomic_bool burned;         /* set by the home thread */
    atomic_bool read;           /* set by the reader: the home may exit */
} Home;

static void *home_thread(void *opaque)
{
    Home *h = opaque;

    aio_set_current_context(h->ctx);
    aio_poll(h->ctx, false);
    while (thread_cpu_now() < BURN_NS) {
        /* burn CPU in the home thread */
    }
    atomic_store(&h->burned_ns, thread_cpu_now());
    atomic_store(&h->burned, true);
    wait_flag(&h->read);        /* the CPU clock dies with the thread */
    aio_set_current_context(NULL);
    return NULL;
}

static void test_thread_cpu_ns_is_the_home_threads(void)
{
    Home h = { .ctx = aio_context_new(NULL) };
    pthread_t thr;
    AioStats st;

    pthread_create(&thr, NULL, home_thread, &h);
    bool burned = wait_flag(&h.burned);
    aio_context_get_stats(h.ctx, &st);
    int64_t reader_ns = thread_cpu_now();
    atomic_store(&h.read, true);
    pthread_join(thr, NULL);

    ok(burned, "the home thread burned %d ms of CPU", BURN_NS / 1000000);
    ok((int64_t)st.thread_cpu_ns >= atomic_load(&h.burned_ns),
       "thread_cpu_ns (%" PRIu64 ") is at least the home thread's own CPU "
       "clock (%" PRId64 "); the reader's is %" PRId64, st.thread_cpu_ns,
       atomic_load(&h.burned_ns), reader_ns);
    ok(reader_ns < BURN_NS, "the reader itself used less CPU than that, so "
       "the figure is not the reader's");
    aio_context_unref(h.ctx);
}

/* ---- pool_idle ----------------------------------------------------------- */

static atomic_bool job_started, job_release;

static int gated_job(void *arg)
{
    atomic_store(&job_started, true);
    wait_flag(&job_release);
    return 0;
}

static void job_done(void *opaque, int ret)
{
    *(int *)opaque = ret == 0 ? 1 : -1;
}

/* Poll @ctx until its stats show @threads workers of which @idle are idle
 * (up to 10 s). */
static bool wait_pool(AioContext *ctx, uint64_t threads, uint64_t idle,
                      AioStats *st)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    do {
        aio_poll(ctx, false);
        aio_context_get_stats(ctx, st);
        if (st->pool_threads == threads && st->pool_idle == idle) {
            return true;
        }
        g_usleep(1000);
    } while (g_get_monotonic_time() < deadline);
    return false;
}

static void test_pool_idle_counts_waiting_workers(void)
{
    AioContext *ctx = aio_context_new(NULL);
    AioStats st;
    int done = 0;

    aio_set_current_context(ctx);
    g_assert(aio_context_set_thread_pool_params(ctx, 2, 2, NULL));
    ThreadPool *pool = aio_get_thread_pool(ctx);

    bool idle = wait_pool(ctx, 2, 2, &st);
    ok(idle, "no job: both workers idle (threads %" PRIu64 ", idle %" PRIu64
       ")", st.pool_threads, st.pool_idle);
    thread_pool_submit(pool, gated_job, NULL, job_done, &done);
    bool started = wait_flag(&job_started);
    idle = started && wait_pool(ctx, 2, 1, &st);
    ok(idle, "one job running: one worker idle (threads %" PRIu64 ", idle %"
       PRIu64 ")", st.pool_threads, st.pool_idle);
    atomic_store(&job_release, true);
    idle = wait_pool(ctx, 2, 2, &st);
    ok(idle, "job finished: both idle again (threads %" PRIu64 ", idle %"
       PRIu64 ")", st.pool_threads, st.pool_idle);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!done && g_get_monotonic_time() < deadline) {
        aio_poll(ctx, false);
        g_usleep(1000);
    }
    is_int(done, 1, "the job's done callback ran with its result");
    aio_set_current_context(NULL);
    aio_context_unref(ctx);
}

int main(void)
{
    test_thread_cpu_ns_is_the_home_threads();
    test_pool_idle_counts_waiting_workers();
    return done_testing();
}
