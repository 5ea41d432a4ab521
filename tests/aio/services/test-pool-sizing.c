/*
 * test-pool-sizing: when the worker pool (aio/thread-pool.h) grows.
 * CPU-bound work gets at most one runnable worker per CPU however many jobs
 * are queued; work that blocks inside its jobs still gets up to max
 * workers.  And while jobs queue behind the running ones (when the pool
 * batches completions), every completion is still delivered.  No timing assertion: each check waits for a condition, with a
 * deadline that only guards against a hang.
 */
#include "aioctx/aio.h"
#include "aioctx/thread-pool.h"
#include "../tap.h"
#include "pool-test.h"

#include <stdatomic.h>
#include <unistd.h>

typedef struct Run {
    AioContext *ctx;
    ThreadPool *pool;
    int done;
    int to_submit;              /* chained runs: jobs still to submit */
    uint64_t threads_max;       /* most workers seen from a done callback */
} Run;

/* 20 us of CPU: long enough that a queue of them waits, never asleep. */
static int cpu_job(void *arg)
{
    int64_t end = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 20000;
    while (aio_clock_get_ns(AIO_CLOCK_MONOTONIC) < end) {
    }
    return 0;
}

static void note_done(Run *r)
{
    uint64_t t = pool_threads(r->ctx);
    if (t > r->threads_max) {
        r->threads_max = t;
    }
    r->done++;
}

static void burst_done(void *opaque, int ret)
{
    note_done(opaque);
}

#define BURST 512

static void test_cpu_burst_stays_within_cpus(void)
{
    Run r = { .ctx = aio_context_new(NULL) };
    r.pool = aio_get_thread_pool(r.ctx);
    int cpus = thread_pool_cpu_target(r.pool);
    for (int i = 0; i < BURST; i++) {
        thread_pool_submit(r.pool, cpu_job, NULL, burst_done, &r);
    }
    POLL_UNTIL(r.ctx, r.done == BURST);
    is_int(r.done, BURST, "cpu burst: every job completed");
    ok(r.threads_max >= 1 && r.threads_max <= (uint64_t)cpus,
       "cpu burst: %d queued 20 us jobs got %" PRIu64 " workers, at most one "
       "per CPU (%d), not one per waiting job (max 64)", BURST, r.threads_max,
       cpus);
    aio_context_unref(r.ctx);
}

static void chain_done(void *opaque, int ret)
{
    Run *r = opaque;
    note_done(r);
    if (r->to_submit > 0) {
        r->to_submit--;
        thread_pool_submit(r->pool, cpu_job, NULL, chain_done, r);
    }
}

#define CHAIN 2000

static void test_one_job_at_a_time_no_spawn_per_submit(void)
{
    Run r = { .ctx = aio_context_new(NULL), .to_submit = CHAIN - 1 };
    r.pool = aio_get_thread_pool(r.ctx);
    int cpus = thread_pool_cpu_target(r.pool);
    thread_pool_submit(r.pool, cpu_job, NULL, chain_done, &r);
    POLL_UNTIL(r.ctx, r.done == CHAIN);
    is_int(r.done, CHAIN, "one at a time: every job completed");
    ok(r.threads_max >= 1 && r.threads_max <= (uint64_t)cpus,
       "one at a time: %d submissions got %" PRIu64 " workers (at most one "
       "per CPU, %d)", CHAIN, r.threads_max, cpus);
    aio_context_unref(r.ctx);
}

/* Blocking jobs: each sleeps in read(2) on a pipe until the test writes
 * one byte for it, so its worker is blocked, not computing. */
static int gate[2];

static int blocking_job(void *arg)
{
    char c;
    return read(gate[0], &c, 1) == 1 ? 0 : -1;
}

static void blocking_done(void *opaque, int ret)
{
    Run *r = opaque;
    if (ret == 0) {
        r->done++;
    }
}

static void test_blocking_jobs_reach_max(void)
{
    Run r = { .ctx = aio_context_new(NULL) };
    r.pool = aio_get_thread_pool(r.ctx);
    int max = thread_pool_cpu_target(r.pool) + 6;
    int jobs = 2 * max;
    ok(aio_context_set_thread_pool_params(r.ctx, 0, max, NULL),
       "blocking: thread-pool-max set to CPUs + 6 = %d", max);
    ok(pipe(gate) == 0, "blocking: gate pipe");
    for (int i = 0; i < jobs; i++) {
        thread_pool_submit(r.pool, blocking_job, NULL, blocking_done, &r);
    }
    POLL_UNTIL(r.ctx, pool_threads(r.ctx) == (uint64_t)max);
    is_int(pool_threads(r.ctx), max, "blocking: %d jobs blocked in read(2) "
           "got max = %d workers, past one per CPU", jobs, max);
    char bytes[64] = { 0 };
    ok(write(gate[1], bytes, jobs) == jobs, "blocking: gate opened");
    POLL_UNTIL(r.ctx, r.done == jobs);
    is_int(r.done, jobs, "blocking: every job completed once released");
    close(gate[0]);
    close(gate[1]);
    aio_context_unref(r.ctx);
}

/* 1 ms asleep: a blocking job that completes on its own, shorter than
 * the growth check's longest period. */
static int sleep_job(void *arg)
{
    g_usleep(1000);
    return 0;
}

typedef struct Stream {
    Run run;
    ThreadPoolFunc *func;
    bool stop;
    int outstanding;
} Stream;

/* Keeps the stream's jobs outstanding until it is stopped. */
static void stream_done(void *opaque, int ret)
{
    Stream *s = opaque;
    note_done(&s->run);
    s->outstanding--;
    if (!s->stop) {
        s->outstanding++;
        thread_pool_submit(s->run.pool, s->func, NULL, stream_done, s);
    }
}

static void stream_start(Stream *s, ThreadPoolFunc *func, int jobs)
{
    s->func = func;
    s->stop = false;
    for (int i = 0; i < jobs; i++) {
        s->outstanding++;
        thread_pool_submit(s->run.pool, func, NULL, stream_done, s);
    }
}

static void stream_drain(Stream *s)
{
    s->stop = true;
    POLL_UNTIL(s->run.ctx, s->outstanding == 0);
}

#define CPU_PHASE_JOBS 3000

/* CPU-bound work keeps jobs queued with every worker runnable, which lets
 * the growth check slow down; sleeping jobs that follow, each shorter than
 * the check's slowest period, must still be seen blocked. */
static void test_short_blocking_jobs_after_cpu_work_reach_max(void)
{
    Stream s = { .run.ctx = aio_context_new(NULL) };
    s.run.pool = aio_get_thread_pool(s.run.ctx);
    int max = thread_pool_cpu_target(s.run.pool) + 6;
    ok(aio_context_set_thread_pool_params(s.run.ctx, 0, max, NULL),
       "after cpu work: thread-pool-max set to CPUs + 6 = %d", max);
    stream_start(&s, cpu_job, 4 * max);
    POLL_UNTIL(s.run.ctx, s.run.done >= CPU_PHASE_JOBS);
    stream_drain(&s);
    ok(s.run.done >= CPU_PHASE_JOBS, "after cpu work: %d cpu jobs ran",
       s.run.done);
    stream_start(&s, sleep_job, 2 * max);
    POLL_UNTIL(s.run.ctx, pool_threads(s.run.ctx) == (uint64_t)max);
    is_int(pool_threads(s.run.ctx), max, "after cpu work: 1 ms sleeping jobs "
           "got max = %d workers, past one per CPU", max);
    stream_drain(&s);
    aio_context_unref(s.run.ctx);
}

/* A backlog of short jobs (completions batched), then every worker blocks
 * with jobs still queued behind them: the completions that came before
 * must arrive without any further completion or submission to push them
 * out. */
static void test_completions_delivered_while_jobs_wait_behind_blocked_workers(void)
{
    Stream s = { .run.ctx = aio_context_new(NULL) };
    s.run.pool = aio_get_thread_pool(s.run.ctx);
    int cpus = thread_pool_cpu_target(s.run.pool);
    ok(aio_context_set_thread_pool_params(s.run.ctx, 0, cpus, NULL),
       "batched: thread-pool-max set to the CPU count, %d", cpus);
    ok(pipe(gate) == 0, "batched: gate pipe");
    Run blocked = { .ctx = s.run.ctx };
    stream_start(&s, cpu_job, 64);
    POLL_UNTIL(s.run.ctx, s.run.done >= 1000);
    s.stop = true;
    for (int i = 0; i < cpus; i++) {
        thread_pool_submit(s.run.pool, blocking_job, NULL, blocking_done,
                           &blocked);
    }
    for (int i = 0; i < 2 * cpus; i++) {
        s.outstanding++;
        thread_pool_submit(s.run.pool, cpu_job, NULL, stream_done, &s);
    }
    POLL_UNTIL(s.run.ctx, s.outstanding == 2 * cpus);
    is_int(s.outstanding, 2 * cpus, "batched: every job before the %d "
           "blocking ones was delivered, %d still queued behind them", cpus,
           2 * cpus);
    char bytes[64] = { 0 };
    ok(write(gate[1], bytes, cpus) == cpus, "batched: gate opened");
    POLL_UNTIL(s.run.ctx, s.outstanding == 0 && blocked.done == cpus);
    ok(s.outstanding == 0 && blocked.done == cpus,
       "batched: the blocking and the queued jobs completed once released");
    close(gate[0]);
    close(gate[1]);
    aio_context_unref(s.run.ctx);
}

int main(void)
{
    test_cpu_burst_stays_within_cpus();
    test_one_job_at_a_time_no_spawn_per_submit();
    test_blocking_jobs_reach_max();
    test_short_blocking_jobs_after_cpu_work_reach_max();
    test_completions_delivered_while_jobs_wait_behind_blocked_workers();
    return done_testing();
}
