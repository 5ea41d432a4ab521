/*
 * io-bench's thread-pool part: null jobs, 10 us CPU jobs and 1 ms blocking
 * jobs (a sleep) with 64 outstanding, through the pool at its default
 * size, with 4 and with 64 workers, and libuv's uv_queue_work with its 4
 * workers, in the same run.
 *
 * Each job kind runs in --slices slices; a slice runs every pool once for
 * pool_seconds / slices, starting from a different one each slice, so
 * other work on the machine (the load average is printed with every row)
 * falls on all of them alike.  Per pool: whole-run jobs/s and CPU per
 * job, and what explains them: context switches per job (voluntary and
 * involuntary, the whole process), the home thread's CPU per job, and
 * jobs delivered per wake-up of the home thread (one blocking wait ends
 * in one wake-up).  Per pool of ours: the min/median/max of its per-slice
 * jobs/s over libuv's in the same slice.
 */
#include "io-bench.h"
#include "bench-util.h"
#include "aioctx/thread-pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
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

/* One pool's figures, summed over its slices. */
typedef struct PoolAcc {
    double elapsed_s, cpu_s, home_cpu_s;
    uint64_t jobs, switches, wakeups;
    uint64_t threads_at_end;        /* ours: of the last slice */
    GArray *rates;                  /* jobs/s of each slice */
} PoolAcc;

/* Where a slice started: CPU of the process and of the calling (home)
 * thread, context switches of the process, wall clock. */
typedef struct SliceStart {
    double wall, cpu, home_cpu;
    uint64_t switches;
} SliceStart;

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Voluntary and involuntary, every thread of the process (exited ones
 * included). */
static uint64_t context_switches(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
}

static SliceStart slice_start(void)
{
    return (SliceStart){ now_s(), cpu_s(), thread_cpu_s(), context_switches() };
}

/* Add a slice that began at @s and ran @jobs over @wakeups wake-ups. */
static void slice_end(PoolAcc *acc, const SliceStart *s, uint64_t jobs,
                      uint64_t wakeups)
{
    double elapsed = now_s() - s->wall;
    acc->elapsed_s += elapsed;
    acc->cpu_s += cpu_s() - s->cpu;
    acc->home_cpu_s += thread_cpu_s() - s->home_cpu;
    acc->switches += context_switches() - s->switches;
    acc->jobs += jobs;
    acc->wakeups += wakeups;
    double rate = jobs / elapsed;
    g_array_append_val(acc->rates, rate);
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

/* One slice of our pool (@workers fixed, 0: the default size). */
static void run_pool_slice(int workers, double secs, PoolAcc *acc)
{
    AioContext *ctx = aio_context_new(NULL);
    if (workers) {
        aio_context_set_thread_pool_params(ctx, workers, workers, NULL);
    }
    PoolRun r = { .pool = aio_get_thread_pool(ctx) };
    SliceStart s = slice_start();
    double end = s.wall + secs;
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
    AioStats st;
    aio_context_get_stats(ctx, &st);
    slice_end(acc, &s, r.done, st.blocking_waits);
    acc->threads_at_end = st.pool_threads;
    aio_context_unref(ctx);
}

#ifdef HAVE_LIBUV
typedef struct UvRun {
    uv_loop_t *loop;
    bool stop;
    int outstanding;
    uint64_t done, iterations;
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

/* Runs once per loop iteration, before the loop blocks for I/O. */
static void uv_count_iteration(uv_prepare_t *p)
{
    UvRun *r = p->data;
    r->iterations++;
}

/* One slice of libuv's pool (its 4 workers stay up between slices). */
static void run_libuv_slice(double secs, PoolAcc *acc)
{
    UvRun r = { .loop = uv_default_loop() };
    uv_work_t *works = g_new0(uv_work_t, POOL_OUTSTANDING);
    uv_prepare_t prepare;
    uv_prepare_init(r.loop, &prepare);
    prepare.data = &r;
    uv_prepare_start(&prepare, uv_count_iteration);
    uv_unref((uv_handle_t *)&prepare);  /* the loop ends with the jobs */
    SliceStart s = slice_start();
    r.end = s.wall + secs;
    for (int i = 0; i < POOL_OUTSTANDING; i++) {
        works[i].data = &r;
        r.outstanding++;
        uv_queue_work(r.loop, &works[i], uv_job, uv_after);
    }
    uv_run(r.loop, UV_RUN_DEFAULT);
    slice_end(acc, &s, r.done, r.iterations);
    uv_close((uv_handle_t *)&prepare, NULL);
    uv_run(r.loop, UV_RUN_NOWAIT);      /* finishes the close */
    g_free(works);
}
#endif

/* The pools of one run: ours at these sizes (0: the default), then libuv. */
static const int pool_sizes[] = { 0, 4, 64 };
#define N_OURS G_N_ELEMENTS(pool_sizes)
#ifdef HAVE_LIBUV
#define N_POOLS (N_OURS + 1)
#else
#define N_POOLS N_OURS
#endif

static void run_slice_of(unsigned k, double secs, PoolAcc *acc)
{
#ifdef HAVE_LIBUV
    if (k == N_OURS) {
        run_libuv_slice(secs, acc);
        return;
    }
#endif
    run_pool_slice(pool_sizes[k], secs, acc);
}

static double median_sorted(GArray *v)
{
    return g_array_index(v, double, v->len / 2);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Ours over libuv, slice by slice: min, median, max. */
static void emit_slice_ratios(const char *extra, const PoolAcc *ours,
                              const PoolAcc *libuv)
{
    GArray *ratios = g_array_new(FALSE, FALSE, sizeof(double));
    for (unsigned i = 0; i < ours->rates->len && i < libuv->rates->len; i++) {
        double lib = g_array_index(libuv->rates, double, i);
        double ratio = lib > 0 ? g_array_index(ours->rates, double, i) / lib
                               : 0;
        g_array_append_val(ratios, ratio);
    }
    if (ratios->len) {
        g_array_sort(ratios, compare_doubles);
        emit("thread_pool", "aio", extra, "slice_ratio_libuv_min",
             g_array_index(ratios, double, 0));
        emit("thread_pool", "aio", extra, "slice_ratio_libuv_median",
             median_sorted(ratios));
        emit("thread_pool", "aio", extra, "slice_ratio_libuv_max",
             g_array_index(ratios, double, ratios->len - 1));
    }
    g_array_free(ratios, TRUE);
}

/* Pool @k's rows; @libuv is libuv's accumulator, NULL without libuv. */
static void emit_pool_rows(unsigned k, const PoolAcc *acc,
                           const PoolAcc *libuv)
{
    bool ours = k < N_OURS;
    char extra[240], threads[16];
    snprintf(threads, sizeof(threads), "%d", ours ? pool_sizes[k] : 4);
    snprintf(extra, sizeof(extra), ", \"threads\": \"%s\", \"job_us\": %d, "
             "\"job\": \"%s\", \"outstanding\": %d, \"slices\": %u, "
             "\"load\": %.2f", ours && !pool_sizes[k] ? "default" : threads,
             job_us, job_kind(), POOL_OUTSTANDING, acc->rates->len,
             bench_load_average());
    const char *impl = ours ? "aio" : "libuv";
    if (!acc->jobs) {
        check_failed("%s pool (%s workers, %s %d us jobs) ran no job", impl,
                     ours && !pool_sizes[k] ? "default" : threads,
                     job_kind(), job_us);
        return;
    }
    double jobs = acc->jobs;
    emit("thread_pool", impl, extra, "jobs_per_s", jobs / acc->elapsed_s);
    emit("thread_pool", impl, extra, "cpu_us_per_job", acc->cpu_s / jobs * 1e6);
    emit("thread_pool", impl, extra, "home_cpu_us_per_job",
         acc->home_cpu_s / jobs * 1e6);
    emit("thread_pool", impl, extra, "switches_per_job", acc->switches / jobs);
    emit("thread_pool", impl, extra, "jobs_per_wakeup",
         acc->wakeups ? jobs / acc->wakeups : jobs);
    if (ours) {
        emit("thread_pool", impl, extra, "threads_at_end",
             acc->threads_at_end);
        if (libuv) {
            emit_slice_ratios(extra, acc, libuv);
        }
    }
}

/* Every pool on the current job kind, alternated in slices. */
static void run_job_kind(void)
{
    PoolAcc acc[N_POOLS] = { 0 };
    int slices = opt.slices > 0 ? opt.slices : 1;
    double secs = opt.pool_seconds / slices;

    for (unsigned k = 0; k < N_POOLS; k++) {
        acc[k].rates = g_array_new(FALSE, FALSE, sizeof(double));
    }
    for (int i = 0; i < slices; i++) {
        for (unsigned j = 0; j < N_POOLS; j++) {
            unsigned k = (i + j) % N_POOLS;
            run_slice_of(k, secs, &acc[k]);
        }
    }
#ifdef HAVE_LIBUV
    const PoolAcc *libuv = &acc[N_OURS];
#else
    const PoolAcc *libuv = NULL;
#endif
    for (unsigned k = 0; k < N_POOLS; k++) {
        emit_pool_rows(k, &acc[k], libuv);
    }
    for (unsigned k = 0; k < N_POOLS; k++) {
        g_array_free(acc[k].rates, TRUE);
    }
}

void io_bench_pool(void)
{
    /* Null jobs, 10 us of CPU, 1 ms asleep (blocking, fsync-like). */
    const struct { int us; bool sleeps; } jobs[] = {
        { 0, false }, { 10, false }, { 1000, true },
    };

#ifdef HAVE_LIBUV
    /* libuv reads it once, at its pool's first use. */
    setenv("UV_THREADPOOL_SIZE", "4", 1);
#endif
    for (unsigned j = 0; j < G_N_ELEMENTS(jobs); j++) {
        job_us = jobs[j].us;
        job_sleeps = jobs[j].sleeps;
        run_job_kind();
#ifndef HAVE_LIBUV
        printf("{\"bench\": \"thread_pool\", \"impl\": \"libuv\", \"job_us\": "
               "%d, \"job\": \"%s\", \"skipped\": \"libuv not found at "
               "build time\"}\n", job_us, job_kind());
#endif
    }
}
