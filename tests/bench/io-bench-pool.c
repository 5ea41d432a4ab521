/*
 * io-bench's thread-pool part: null jobs, 10 us CPU jobs and 1 ms blocking
 * jobs (a sleep) with 64 outstanding, through the pool at its default
 * size, with 4 and with 64 workers, and libuv's uv_queue_work with its 4
 * workers, in the same run.
 */
#include "io-bench.h"
#include "bench-util.h"
#include "aioctx/thread-pool.h"

#include <stdio.h>
#include <stdlib.h>
#ifdef HAVE_LIBUV
#include <uv.h>
#endif

#define POOL_OUTSTANDING 64

static void spin_us(int us)
{
    int64_t end = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + us * 1000LL;
    while (aio_clock_get_ns(AIO_CLOCK_MONOTONIC) < end) {
    }
}

static int job_us;
static bool job_sleeps;             /* the job blocks for job_us, not spins */

/* The job both pools run: nothing, job_us of CPU, or job_us asleep. */
static void run_job(void)
{
    if (job_sleeps) {
        g_usleep(job_us);
    } else if (job_us) {
        spin_us(job_us);
    }
}

static int pool_job(void *arg)
{
    run_job();
    return 0;
}

/* The JSON members naming a pool run's job, e.g. `"job_us": 10, "job":
 * "cpu"`. */
static const char *job_kind(void)
{
    return job_sleeps ? "sleep" : job_us ? "cpu" : "null";
}

typedef struct PoolRun {
    ThreadPool *pool;
    bool stop;
    int outstanding;
    uint64_t done;
} PoolRun;

static void pool_done(void *opaque, int ret)
{
    PoolRun *r = opaque;
    r->outstanding--;
    r->done++;
    if (!r->stop) {
        r->outstanding++;
        thread_pool_submit(r->pool, pool_job, NULL, pool_done, r);
    }
}

static void run_pool(int workers)
{
    AioContext *ctx = aio_context_new(NULL);
    if (workers) {
        aio_context_set_thread_pool_params(ctx, workers, workers, NULL);
    }
    int us = job_us;
    PoolRun r = { .pool = aio_get_thread_pool(ctx) };
    double t0 = now_s(), c0 = cpu_s(), end = t0 + opt.pool_seconds;
    for (int i = 0; i < POOL_OUTSTANDING; i++) {
        r.outstanding++;
        thread_pool_submit(r.pool, pool_job, NULL, pool_done, &r);
    }
    unsigned n = 0;
    while (!r.stop) {
        aio_poll(ctx, true);
        if ((++n & 15) == 0 && now_s() >= end) {
            r.stop = true;
        }
    }
    while (r.outstanding) {
        aio_poll(ctx, true);
    }
    double elapsed = now_s() - t0, cpu = cpu_s() - c0;
    AioStats st;
    aio_context_get_stats(ctx, &st);
    char extra[200], threads[16];
    snprintf(threads, sizeof(threads), "%d", workers);
    snprintf(extra, sizeof(extra), ", \"threads\": \"%s\", \"job_us\": %d, "
             "\"job\": \"%s\", \"outstanding\": %d, \"load\": %.2f",
             workers ? threads : "default", us, job_kind(), POOL_OUTSTANDING,
             bench_load_average());
    if (!r.done) {
        check_failed("thread pool (%s workers, %s %d us jobs) ran no job",
                     workers ? threads : "default", job_kind(), us);
    }
    emit("thread_pool", "aio", extra, "jobs_per_s", r.done / elapsed);
    emit("thread_pool", "aio", extra, "cpu_us_per_job", cpu / r.done * 1e6);
    emit("thread_pool", "aio", extra, "threads_at_end", st.pool_threads);
    aio_context_unref(ctx);
}

#ifdef HAVE_LIBUV
typedef struct UvRun {
    uv_loop_t *loop;
    bool stop;
    int outstanding;
    uint64_t done;
    double end;
} UvRun;

static void uv_job(uv_work_t *w)
{
    run_job();
}

static void uv_after(uv_work_t *w, int status)
{
    UvRun *r = w->data;
    r->outstanding--;
    r->done++;
    if ((r->done & 15) == 0 && now_s() >= r->end) {
        r->stop = true;
    }
    if (!r->stop) {
        r->outstanding++;
        uv_queue_work(r->loop, w, uv_job, uv_after);
    }
}

static void run_libuv(void)
{
    UvRun r = { .loop = uv_default_loop() };
    uv_work_t *works = g_new0(uv_work_t, POOL_OUTSTANDING);
    int us = job_us;
    double t0 = now_s(), c0 = cpu_s();
    r.end = t0 + opt.pool_seconds;
    for (int i = 0; i < POOL_OUTSTANDING; i++) {
        works[i].data = &r;
        r.outstanding++;
        uv_queue_work(r.loop, &works[i], uv_job, uv_after);
    }
    uv_run(r.loop, UV_RUN_DEFAULT);
    double elapsed = now_s() - t0, cpu = cpu_s() - c0;
    char extra[200];
    snprintf(extra, sizeof(extra), ", \"threads\": \"4\", \"job_us\": %d, "
             "\"job\": \"%s\", \"outstanding\": %d, \"load\": %.2f", us,
             job_kind(), POOL_OUTSTANDING, bench_load_average());
    if (!r.done) {
        check_failed("libuv (%s %d us jobs) ran no job", job_kind(), us);
    }
    emit("thread_pool", "libuv", extra, "jobs_per_s", r.done / elapsed);
    emit("thread_pool", "libuv", extra, "cpu_us_per_job", cpu / r.done * 1e6);
    g_free(works);
}
#endif

void io_bench_pool(void)
{
    /* Null jobs, 10 us of CPU, 1 ms asleep (blocking, fsync-like). */
    const struct { int us; bool sleeps; } jobs[] = {
        { 0, false }, { 10, false }, { 1000, true },
    };
    const int pool_sizes[] = { 0, 4, 64 };      /* 0: the default */

#ifdef HAVE_LIBUV
    /* libuv reads it once, at its pool's first use. */
    setenv("UV_THREADPOOL_SIZE", "4", 1);
#endif
    for (unsigned j = 0; j < G_N_ELEMENTS(jobs); j++) {
        job_us = jobs[j].us;
        job_sleeps = jobs[j].sleeps;
        for (unsigned k = 0; k < G_N_ELEMENTS(pool_sizes); k++) {
            run_pool(pool_sizes[k]);
        }
#ifdef HAVE_LIBUV
        run_libuv();
#else
        printf("{\"bench\": \"thread_pool\", \"impl\": \"libuv\", \"job_us\": "
               "%d, \"job\": \"%s\", \"skipped\": \"libuv not found at "
               "build time\"}\n", job_us, job_kind());
#endif
    }
}
