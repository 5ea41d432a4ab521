/*
 * io-bench: disk engines and thread pool, each next to its reference in the
 * same run.  One JSON object per line (README "Figures" gives them).
 *
 *  - 4 KiB O_DIRECT random reads at QD 1 and 32 on a file filled with real
 *    data (1 GiB, or 64 MiB with --quick), through an AioContext with the
 *    linux-aio and the io_uring engine, then fio with the same ioengine,
 *    file and parameters: IOPS, mean and p99 latency, CPU seconds per 100k
 *    I/Os, and our IOPS as a ratio of fio's.
 *  - Thread pool: null jobs, 10 us CPU jobs and 1 ms blocking jobs (a
 *    sleep) with 64 outstanding, at the default size, with 4 and with 64
 *    workers, and libuv's uv_queue_work with its 4 workers.
 *
 * The engines' context is configured like an iothread's (adaptive polling
 * with poll-max-ns 32768, the iothread default): that is how the engines
 * run in the daemon, and a QD 1 completion is then found by polling the
 * completion ring rather than by a blocking wait and a wake-up.
 *
 * The engine and fio each run for --seconds in total, alternately in
 * --slices slices (5 by default, 1 with --quick): the device's throughput
 * drifts by several percent over tens of seconds, which two back-to-back
 * 10 s runs would put into the ratio.
 *
 * Usage: io-bench [--quick] [--file PATH] [--seconds N] [--slices N]
 *                 [--engine NAME] [--qd N] [--poll-max-ns N] [--no-pool]
 *                 [--no-disk] [--no-fio]
 * (--engine/--qd/--no-pool/--no-disk/--no-fio narrow a run down while
 * investigating; the figures to compare come from a full run.)
 */
#include "aioctx/aio.h"
#include "aioctx/disk-io.h"
#include "aioctx/thread-pool.h"
#include "bench-load.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_LIBUV
#include <uv.h>
#endif

#define BS 4096
/* IOTHREAD_DEFAULT_POLL_MAX_NS (iothread/iothread.h), which this benchmark
 * does not link against. */
#define IOTHREAD_POLL_MAX_NS 32768

static bool quick;
static double seconds = 10;
static double pool_seconds = 3;
static const char *file_path;
static uint64_t file_size;
static const char *fdmon_name = "?";
static const char *only_engine;     /* --engine: run just this one */
static int only_qd;                 /* --qd: just this queue depth */
static bool skip_pool;              /* --no-pool */
static bool skip_disk;              /* --no-disk: the pool rows only */
static bool skip_fio;               /* --no-fio (investigation only) */
static int slices;                  /* --slices; 0: 5, or 1 with --quick */
static int64_t poll_max_ns = -1;    /* --poll-max-ns; -1: iothread default */

static double now_s(void)
{
    return aio_clock_get_ns(AIO_CLOCK_MONOTONIC) / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The run's own checks (the --quick run is a test: its exit status is the
 * result): every row of ours present with no I/O error, and every
 * reference ran or printed a "skipped" line because it is not installed. */
static unsigned failed_checks;

static G_GNUC_PRINTF(1, 2) void check_failed(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "io-bench: FAILED: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failed_checks++;
}

static void emit(const char *bench, const char *impl, const char *extra,
                 const char *metric, double value)
{
    printf("{\"bench\": \"%s\", \"impl\": \"%s\"%s, \"metric\": \"%s\", "
           "\"value\": %.6g}\n", bench, impl, extra, metric, value);
    fflush(stdout);
}

/* ---------------------------------------------------------------------- */
/* Test file                                                               */

static bool prepare_file(void)
{
    struct stat st;
    if (stat(file_path, &st) == 0 && (uint64_t)st.st_size == file_size) {
        return true;    /* reuse: already filled by an earlier run */
    }
    int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        fprintf(stderr, "io-bench: cannot create %s: %s\n", file_path,
                strerror(errno));
        return false;
    }
    enum { CHUNK = 1 << 20 };
    uint64_t *buf = g_malloc(CHUNK);
    uint64_t x = 88172645463325252ull;
    for (uint64_t off = 0; off < file_size; off += CHUNK) {
        for (size_t i = 0; i < CHUNK / 8; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            buf[i] = x;
        }
        if (write(fd, buf, CHUNK) != CHUNK) {
            fprintf(stderr, "io-bench: writing %s failed\n", file_path);
            close(fd);
            g_free(buf);
            return false;
        }
    }
    fsync(fd);
    close(fd);
    g_free(buf);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Engines through an AioContext                                          */

typedef struct IoSlot {
    struct iovec iov;
    int64_t start_ns;
    struct IoRun *run;
} IoSlot;

typedef struct IoRun {
    const AioDiskEngine *engine;
    void *eng;
    int fd;
    uint64_t rng;
    uint64_t blocks;
    bool stop;
    int outstanding;
    uint64_t done;
    uint64_t errors;
    uint32_t *lat_ns;
    size_t nlat, cap;
} IoRun;

static void io_submit_slot(IoRun *r, IoSlot *s);

static void io_done(void *opaque, int ret)
{
    IoSlot *s = opaque;
    IoRun *r = s->run;
    int64_t lat = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) - s->start_ns;
    r->outstanding--;
    r->done++;
    if (ret < 0) {
        r->errors++;
    }
    if (r->nlat == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1 << 20;
        r->lat_ns = g_renew(uint32_t, r->lat_ns, r->cap);
    }
    r->lat_ns[r->nlat++] = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
    if (!r->stop) {
        io_submit_slot(r, s);
    }
}

static void io_submit_slot(IoRun *r, IoSlot *s)
{
    r->rng ^= r->rng << 13; r->rng ^= r->rng >> 7; r->rng ^= r->rng << 17;
    uint64_t off = (r->rng % r->blocks) * BS;
    s->start_ns = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    r->outstanding++;
    if (r->engine->submit(r->eng, AIO_DISK_READ, r->fd, &s->iov, 1, off, 0,
                          io_done, s) < 0) {
        r->outstanding--;
        r->errors++;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* One implementation's figures, summed over its slices (see main()). */
typedef struct Acc {
    bool failed;
    double elapsed_s, cpu_s;
    uint64_t ios, errors;
    GArray *lat_ns;             /* ours: every latency (uint32_t ns) */
    double lat_mean_x_ios;      /* fio: per-slice mean latency x I/Os */
    double p99_x_ios;           /* fio: per-slice p99 x I/Os */
    /* ours: loop counters */
    uint64_t iterations, blocking_waits, polling_ns, poll_attempts, poll_hits;
    uint64_t submitted, submit_calls;
} Acc;

/* One slice of @secs through a fresh AioContext; false on a set-up
 * failure (reported). */
static bool run_engine_slice(const AioDiskEngine *engine, int qd, double secs,
                             Acc *acc)
{
    GError *err = NULL;
    AioContext *ctx = aio_context_new(&err);
    if (!ctx) {
        fprintf(stderr, "io-bench: %s\n", err->message);
        g_clear_error(&err);
        return false;
    }
    fdmon_name = aio_context_fdmon_name(ctx);
    if (!aio_context_set_poll_params(ctx, poll_max_ns, 0, 0, &err)) {
        fprintf(stderr, "io-bench: %s\n", err->message);
        g_clear_error(&err);
        aio_context_unref(ctx);
        return false;
    }
    IoRun r = { .engine = engine, .blocks = file_size / BS };
    /* A different offset sequence per slice, same for every build. */
    r.rng = 0x9e3779b97f4a7c15ull + acc->ios;
    r.eng = engine->setup(ctx, &err);
    r.fd = open(file_path, O_RDONLY | O_DIRECT);
    if (!r.eng || r.fd < 0) {
        fprintf(stderr, "io-bench: %s: %s\n", engine->name,
                err ? err->message : strerror(errno));
        g_clear_error(&err);
        if (r.fd >= 0) {
            close(r.fd);
        }
        aio_context_unref(ctx);
        return false;
    }
    IoSlot *slots = g_new0(IoSlot, qd);
    void *bufs;
    if (posix_memalign(&bufs, BS, (size_t)qd * BS)) {
        abort();
    }
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < qd; i++) {
        slots[i].run = &r;
        slots[i].iov = (struct iovec){ (char *)bufs + (size_t)i * BS, BS };
        io_submit_slot(&r, &slots[i]);
    }
    double end = t0 + secs;
    unsigned n = 0;
    while (!r.stop) {
        aio_poll(ctx, true);
        if ((++n & 15) == 0 && now_s() >= end) {
            r.stop = true;
        }
    }
    while (r.outstanding > 0) {
        aio_poll(ctx, true);
    }
    acc->elapsed_s += now_s() - t0;
    acc->cpu_s += cpu_s() - c0;
    AioStats st;
    aio_context_get_stats(ctx, &st);
    acc->ios += r.done;
    acc->errors += r.errors;
    acc->iterations += st.iterations;
    acc->blocking_waits += st.blocking_waits;
    acc->polling_ns += st.polling_ns;
    acc->poll_attempts += st.poll_attempts;
    acc->poll_hits += st.poll_hits;
    acc->submitted += st.io_submitted;
    acc->submit_calls += st.io_submit_calls;
    g_array_append_vals(acc->lat_ns, r.lat_ns, r.nlat);
    close(r.fd);
    aio_context_unref(ctx);
    free(bufs);
    g_free(slots);
    g_free(r.lat_ns);
    return true;
}

static void emit_engine(const AioDiskEngine *engine, int qd, Acc *acc)
{
    GArray *lat = acc->lat_ns;
    g_array_sort(lat, cmp_u32);
    double sum = 0;
    for (guint i = 0; i < lat->len; i++) {
        sum += g_array_index(lat, uint32_t, i);
    }
    double per_io = acc->ios ? 1.0 / acc->ios : 0;
    char extra[256];
    snprintf(extra, sizeof(extra), ", \"engine\": \"%s\", \"backend\": \"%s\","
             " \"iodepth\": %d, \"bs\": %d, \"poll_max_ns\": %" PRId64,
             engine->name, fdmon_name, qd, BS, poll_max_ns);
    emit("io_randread", "aio", extra, "iops", acc->ios / acc->elapsed_s);
    emit("io_randread", "aio", extra, "mean_us",
         lat->len ? sum / lat->len / 1e3 : 0);
    emit("io_randread", "aio", extra, "p99_us",
         lat->len ? g_array_index(lat, uint32_t, (guint)(lat->len * 0.99))
                    / 1e3 : 0);
    emit("io_randread", "aio", extra, "cpu_s_per_100k_io",
         acc->cpu_s * per_io * 1e5);
    emit("io_randread", "aio", extra, "mean_batch",
         acc->submit_calls ? (double)acc->submitted / acc->submit_calls : 0);
    /* Where the loop's time goes: iterations and waits per I/O, and the
     * busy-polling it did. */
    emit("io_randread", "aio", extra, "blocking_waits_per_io",
         acc->blocking_waits * per_io);
    emit("io_randread", "aio", extra, "iterations_per_io",
         acc->iterations * per_io);
    emit("io_randread", "aio", extra, "polling_us_per_io",
         acc->polling_ns / 1e3 * per_io);
    emit("io_randread", "aio", extra, "poll_hit_ratio",
         acc->poll_attempts ? (double)acc->poll_hits / acc->poll_attempts : 0);
    if (acc->errors) {
        emit("io_randread", "aio", extra, "errors", acc->errors);
    }
}

/* ---------------------------------------------------------------------- */
/* fio reference                                                           */

static double json_double(JsonObject *o, const char *member)
{
    return o && json_object_has_member(o, member)
           ? json_object_get_double_member(o, member) : 0;
}

static void fio_extra(char *buf, size_t size, const char *engine_name, int qd)
{
    snprintf(buf, size, ", \"engine\": \"%s\", \"iodepth\": %d, \"bs\": %d",
             engine_name, qd, BS);
}

/* One fio slice of @secs; false (and a "skipped" line) when fio is absent
 * or fails. */
static bool run_fio_slice(const char *ioengine, const char *engine_name,
                          int qd, double secs, Acc *acc)
{
    char extra[256];
    fio_extra(extra, sizeof(extra), engine_name, qd);
    char *fio = g_find_program_in_path("fio");
    if (!fio) {
        printf("{\"bench\": \"io_randread\", \"impl\": \"fio\"%s, "
               "\"skipped\": \"fio not found in PATH\"}\n", extra);
        return false;
    }
    char *argv[] = {
        fio, "--name=io-bench", g_strdup_printf("--filename=%s", file_path),
        g_strdup_printf("--ioengine=%s", ioengine), "--direct=1",
        "--rw=randread", "--bs=4k", g_strdup_printf("--iodepth=%d", qd),
        g_strdup_printf("--size=%" PRIu64, file_size),
        g_strdup_printf("--runtime=%g", secs), "--time_based=1",
        "--numjobs=1", "--thread=0", "--output-format=json", NULL,
    };
    char *out = NULL, *errout = NULL;
    int status = 0;
    GError *err = NULL;
    bool ok = false;
    bool ran = g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                            &out, &errout, &status, &err);
    JsonParser *parser = json_parser_new();
    /* fio may print notes before the JSON document. */
    const char *json = out ? strchr(out, '{') : NULL;
    if (!ran || !g_spawn_check_wait_status(status, NULL) || !json ||
        !json_parser_load_from_data(parser, json, -1, NULL)) {
        check_failed("fio (installed) failed for %s QD %d: %s", engine_name,
                     qd, err ? err->message
                             : (errout ? g_strstrip(errout) : "?"));
    } else {
        JsonObject *root = json_node_get_object(json_parser_get_root(parser));
        JsonObject *job = json_array_get_object_element(
            json_object_get_array_member(root, "jobs"), 0);
        JsonObject *rd = json_object_get_object_member(job, "read");
        JsonObject *lat = json_object_get_object_member(rd, "lat_ns");
        JsonObject *clat = json_object_get_object_member(rd, "clat_ns");
        JsonObject *pct = clat && json_object_has_member(clat, "percentile")
                          ? json_object_get_object_member(clat, "percentile")
                          : NULL;
        double total = json_double(rd, "total_ios");
        double runtime_s = json_double(rd, "runtime") / 1e3;
        acc->ios += (uint64_t)total;
        acc->elapsed_s += runtime_s;
        acc->cpu_s += (json_double(job, "usr_cpu") +
                       json_double(job, "sys_cpu")) / 100 * runtime_s;
        acc->lat_mean_x_ios += json_double(lat, "mean") * total;
        acc->p99_x_ios += json_double(pct, "99.000000") * total;
        ok = total > 0 && runtime_s > 0;
        if (!ok) {
            check_failed("fio reported no I/O for %s QD %d", engine_name, qd);
        }
    }
    g_object_unref(parser);
    g_clear_error(&err);
    g_free(out);
    g_free(errout);
    for (int i = 2; i <= 3; i++) {
        g_free(argv[i]);
    }
    for (int i = 7; i <= 9; i++) {
        g_free(argv[i]);
    }
    g_free(fio);
    return ok;
}

/* fio's p99 is the I/O-weighted mean of its slices' p99 (fio reports
 * percentiles per run only); with one slice it is fio's own figure. */
static void emit_fio(const char *engine_name, int qd, Acc *acc)
{
    char extra[256];
    fio_extra(extra, sizeof(extra), engine_name, qd);
    emit("io_randread", "fio", extra, "iops", acc->ios / acc->elapsed_s);
    emit("io_randread", "fio", extra, "mean_us",
         acc->lat_mean_x_ios / acc->ios / 1e3);
    emit("io_randread", "fio", extra, "p99_us", acc->p99_x_ios / acc->ios / 1e3);
    emit("io_randread", "fio", extra, "cpu_s_per_100k_io",
         acc->cpu_s / acc->ios * 1e5);
}

/* One slice of ours (@fio_engine NULL) or of fio into @acc; its IOPS, or 0
 * when it failed (then acc->failed is set). */
static double slice_iops(Acc *acc, const AioDiskEngine *engine, int qd,
                         double secs, const char *fio_engine)
{
    uint64_t ios = acc->ios;
    double elapsed = acc->elapsed_s;
    acc->failed = fio_engine
        ? !run_fio_slice(fio_engine, engine->name, qd, secs, acc)
        : !run_engine_slice(engine, qd, secs, acc);
    if (acc->failed || acc->elapsed_s <= elapsed) {
        return 0;
    }
    return (acc->ios - ios) / (acc->elapsed_s - elapsed);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The spread of the per-slice ratios (ours / fio in the slice pair) and the
 * machine load now: a whole-run ratio far from 1 with a wide spread is
 * noise from other work on the machine, not a difference of engines. */
static void emit_slice_ratios(const char *extra, GArray *ratios)
{
    if (!ratios->len) {
        return;
    }
    g_array_sort(ratios, compare_doubles);
    double *r = (double *)ratios->data;
    char more[300];
    snprintf(more, sizeof(more), "%s, \"load\": %.2f", extra, load_average());
    emit("io_randread", "aio", more, "slice_ratio_min", r[0]);
    emit("io_randread", "aio", more, "slice_ratio_median", r[ratios->len / 2]);
    emit("io_randread", "aio", more, "slice_ratio_max", r[ratios->len - 1]);
}

/* Ours and fio alternately, @slices times each: the device's throughput
 * drifts by several percent over tens of seconds here, and alternating
 * keeps that drift out of the ratio. */
static void bench_engine(const AioDiskEngine *engine, const char *fio_engine,
                         int qd)
{
    Acc ours = { .lat_ns = g_array_new(FALSE, FALSE, sizeof(uint32_t)) };
    Acc ref = { .failed = skip_fio };
    double secs = seconds / slices;

    GArray *ratios = g_array_new(FALSE, FALSE, sizeof(double));
    for (int i = 0; i < slices && !ours.failed; i++) {
        double ours_iops = slice_iops(&ours, engine, qd, secs, NULL);
        if (!ref.failed) {
            double ref_iops = slice_iops(&ref, engine, qd, secs, fio_engine);
            if (ours_iops > 0 && ref_iops > 0) {
                double ratio = ours_iops / ref_iops;
                g_array_append_val(ratios, ratio);
            }
        }
    }
    if (!ours.failed && ours.ios) {
        emit_engine(engine, qd, &ours);
    } else {
        check_failed("no %s QD %d row: the engine %s", engine->name, qd,
                     ours.failed ? "could not be set up" : "completed no I/O");
    }
    if (ours.errors) {
        check_failed("%s QD %d: %" PRIu64 " I/O errors", engine->name, qd,
                     ours.errors);
    }
    if (!ref.failed && ref.ios) {
        emit_fio(engine->name, qd, &ref);
    }
    if (!ours.failed && ours.ios && !ref.failed && ref.ios) {
        char extra[200];
        snprintf(extra, sizeof(extra), ", \"engine\": \"%s\", \"backend\": "
                 "\"%s\", \"iodepth\": %d, \"bs\": %d, \"slices\": %d",
                 engine->name, fdmon_name, qd, BS, slices);
        emit("io_randread", "aio", extra, "iops_ratio_to_fio",
             (ours.ios / ours.elapsed_s) / (ref.ios / ref.elapsed_s));
        emit_slice_ratios(extra, ratios);
    }
    g_array_free(ratios, TRUE);
    g_array_free(ours.lat_ns, TRUE);
}

/* ---------------------------------------------------------------------- */
/* Thread pool                                                             */

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
    double t0 = now_s(), c0 = cpu_s(), end = t0 + pool_seconds;
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
             load_average());
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
    r.end = t0 + pool_seconds;
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
             job_kind(), POOL_OUTSTANDING, load_average());
    if (!r.done) {
        check_failed("libuv (%s %d us jobs) ran no job", job_kind(), us);
    }
    emit("thread_pool", "libuv", extra, "jobs_per_s", r.done / elapsed);
    emit("thread_pool", "libuv", extra, "cpu_us_per_job", cpu / r.done * 1e6);
    g_free(works);
}
#endif

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            quick = true;
        } else if (!strcmp(argv[i], "--file") && i + 1 < argc) {
            file_path = argv[++i];
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = g_ascii_strtod(argv[++i], NULL);
        } else if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
            only_engine = argv[++i];
        } else if (!strcmp(argv[i], "--qd") && i + 1 < argc) {
            only_qd = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--poll-max-ns") && i + 1 < argc) {
            char *end;
            poll_max_ns = g_ascii_strtoll(argv[++i], &end, 10);
            if (*end || end == argv[i] || poll_max_ns < 0) {
                fprintf(stderr, "io-bench: --poll-max-ns wants a number "
                        ">= 0, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--slices") && i + 1 < argc) {
            slices = atoi(argv[++i]);
            if (slices <= 0) {
                fprintf(stderr, "io-bench: --slices must be positive\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--no-pool")) {
            skip_pool = true;
        } else if (!strcmp(argv[i], "--no-disk")) {
            skip_disk = true;
        } else if (!strcmp(argv[i], "--no-fio")) {
            skip_fio = true;
        } else {
            fprintf(stderr, "usage: io-bench [--quick] [--file PATH] "
                    "[--seconds N] [--engine linux-aio|io_uring] [--qd N] "
                    "[--poll-max-ns N] [--slices N] [--no-pool] [--no-disk] "
                    "[--no-fio]\n");
            return 2;
        }
    }
    if (poll_max_ns < 0) {
        poll_max_ns = IOTHREAD_POLL_MAX_NS;
    }
    if (!slices) {
        slices = quick ? 1 : 5;
    }
    if (only_engine && strcmp(only_engine, "linux-aio") &&
        strcmp(only_engine, "io_uring")) {
        fprintf(stderr, "io-bench: --engine must be linux-aio or io_uring, "
                "not '%s'\n", only_engine);
        return 2;
    }
    if (quick) {
        seconds = 1;
        pool_seconds = 0.5;
    }
    if (seconds <= 0) {
        fprintf(stderr, "io-bench: --seconds must be positive\n");
        return 2;
    }
    file_size = quick ? 64ull << 20 : 1ull << 30;
    if (!file_path) {
        file_path = quick ? "/var/tmp/iothreadd-io-bench-64M.dat"
                          : "/var/tmp/iothreadd-io-bench-1G.dat";
    }
#ifdef HAVE_LIBUV
    /* libuv reads it once, at its pool's first use. */
    setenv("UV_THREADPOOL_SIZE", "4", 1);
#endif
    if (!prepare_file()) {
        return 1;
    }

    static const struct { const AioDiskEngine *e; const char *fio; } engines[] = {
        { &aio_disk_engine_linux_aio, "libaio" },
        { &aio_disk_engine_io_uring, "io_uring" },
    };
    const int qds[] = { 1, 32 };
    for (unsigned e = 0; !skip_disk && e < G_N_ELEMENTS(engines); e++) {
        if (only_engine && strcmp(only_engine, engines[e].e->name)) {
            continue;
        }
        for (unsigned q = 0; q < G_N_ELEMENTS(qds); q++) {
            if (only_qd && only_qd != qds[q]) {
                continue;
            }
            bench_engine(engines[e].e, engines[e].fio, qds[q]);
        }
    }

    /* Null jobs, 10 us of CPU, 1 ms asleep (blocking, fsync-like). */
    const struct { int us; bool sleeps; } jobs[] = {
        { 0, false }, { 10, false }, { 1000, true },
    };
    const int pool_sizes[] = { 0, 4, 64 };      /* 0: the default */
    for (unsigned j = 0; !skip_pool && j < G_N_ELEMENTS(jobs); j++) {
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
    return failed_checks ? 1 : 0;
}
