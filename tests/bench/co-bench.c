/*
 * co-bench: coroutine figures, one JSON object per line (like aio-bench).
 *
 *  co_lifecycle     create + enter + terminate per second, with the
 *                   per-thread pool ("pooled") and without it ("unpooled":
 *                   every coroutine maps and unmaps its stack).
 *  co_switch        one enter + yield round trip, ns.
 *  co_schedule_rtt  the controller thread aio_co_schedule()s a coroutine
 *                   into a thread blocked in (or polling in) aio_poll; the
 *                   coroutine answers through an atomic the controller
 *                   spins on, then yields.  Median and p99 µs, poll-max-ns
 *                   0 and 32768.  Reference in the same run, same
 *                   controller: a bottom half answering instead
 *                   (aio-bench's xthread_wake_rtt), so the difference is
 *                   what the coroutine costs.
 *  co_randread      4 KiB O_DIRECT random reads at QD 32 on one file, per
 *                   engine: a callback chain (each completion submits the
 *                   next read) against 32 coroutines looping on
 *                   aio_disk_co_preadv, alternating in 1 s slices (who
 *                   goes first alternates too) so device drift cancels;
 *                   IOPS and CPU µs per I/O of each, and the IOPS ratio.
 *
 * Options: --quick (a few seconds; the test suite runs it to prove the
 * benchmark works), --file PATH (default /var/tmp/iothreadd-co-bench.dat,
 * 256 MiB, created once and reused).
 */
#include "aioctx/coroutine.h"
#include "bench-util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BS 4096
#define QD 32
/* An iothread's default poll-max-ns, from the parameter table. */
#define IOTHREAD_POLL_MAX_NS \
    (aio_param_info(AIO_PARAM_POLL_MAX_NS)->default_value)

static bool quick;
static const char *file_path = "/var/tmp/iothreadd-co-bench.dat";
static const uint64_t file_size = 256ull << 20;

static int64_t now_ns(void)
{
    return aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
}

/* CPU time of the calling thread: the in-thread figures are given in it
 * too, since on a shared machine wall time includes other processes. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "co-bench: %s\n", what);
    exit(1);
}

/* {"bench": B, "impl": I[, extra], "metric": M, "value": V} */
static void emit(const char *bench, const char *impl, const char *extra,
                 const char *metric, double value)
{
    printf("{\"bench\": \"%s\", \"impl\": \"%s\"%s%s, \"metric\": \"%s\", "
           "\"value\": %.*f}\n", bench, impl, extra ? ", " : "",
           extra ? extra : "", metric, value >= 1000 ? 0 : 3, value);
    fflush(stdout);
}

/* ---------------------------------------------------------------------- */
/* In-thread: lifecycle and switch                                         */

static void count_up(void *opaque)
{
    (*(uint64_t *)opaque)++;
}

static void bench_lifecycle(bool pooled)
{
    uint64_t count = 0;
    int64_t budget = quick ? 100000000 : 1000000000;

    aio_coroutine_set_pool_max(pooled ? AIO_COROUTINE_POOL_MAX : 0);
    int64_t start = now_ns(), cpu_start = thread_cpu_ns(), elapsed;
    do {
        for (int i = 0; i < (pooled ? 1000 : 10); i++) {
            aio_coroutine_enter(aio_coroutine_create(count_up, &count));
        }
        elapsed = now_ns() - start;
    } while (elapsed < budget);
    int64_t cpu = thread_cpu_ns() - cpu_start;
    aio_coroutine_set_pool_max(AIO_COROUTINE_POOL_MAX);
    const char *impl = pooled ? "pooled" : "unpooled";
    emit("co_lifecycle", impl, NULL, "per_s", count * 1e9 / elapsed);
    emit("co_lifecycle", impl, NULL, "per_cpu_s", count * 1e9 / cpu);
}

static void yield_until_told(void *opaque)
{
    while (!*(bool *)opaque) {
        aio_coroutine_yield();
    }
}

static void bench_switch(void)
{
    bool stop = false;
    long n = quick ? 1000000 : 20000000;
    Coroutine *co = aio_coroutine_create(yield_until_told, &stop);

    aio_coroutine_enter(co);        /* first entry: the frame is set up */
    int64_t start = now_ns(), cpu_start = thread_cpu_ns();
    for (long i = 0; i < n; i++) {
        aio_coroutine_enter(co);
    }
    double ns = (double)(now_ns() - start) / n;
    double cpu = (double)(thread_cpu_ns() - cpu_start) / n;
    stop = true;
    aio_coroutine_enter(co);
    emit("co_switch", "enter_yield", NULL, "ns", ns);
    emit("co_switch", "enter_yield", NULL, "cpu_ns", cpu);
}

/* ---------------------------------------------------------------------- */
/* Cross-thread schedule round trip                                        */

typedef struct Loop {
    BenchLoop b;
    atomic_bool co_exit;
} Loop;

#define EXIT_ANSWER UINT64_MAX

/* The controller may schedule it again before it yielded: the scheduling
 * BH runs in this same thread, so only after the yield. */
static void answering_coroutine(void *opaque)
{
    Loop *l = opaque;
    while (!atomic_load(&l->co_exit)) {
        atomic_store_explicit(&l->b.answer,
                              atomic_load_explicit(&l->b.request, memory_order_relaxed),
                              memory_order_release);
        aio_coroutine_yield();
    }
    atomic_store_explicit(&l->b.answer, EXIT_ANSWER, memory_order_release);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Round trips of one kind; @co NULL: through the BH instead. */
static void sample_rtt(Loop *l, Coroutine *co, AioBH *bh, uint64_t *samples,
                       int n, int warm)
{
    for (int i = 0; i < warm + n; i++) {
        uint64_t seq = atomic_load(&l->b.answer) + 1;
        int64_t t0 = now_ns();
        atomic_store_explicit(&l->b.request, seq, memory_order_release);
        if (co) {
            aio_co_schedule(l->b.ctx, co);
        } else {
            aio_bh_schedule(bh);
        }
        bench_spin_until(&l->b.answer, seq);
        if (i >= warm) {
            samples[i - warm] = now_ns() - t0;
        }
    }
}

static void emit_rtt(const char *impl, int64_t poll_max_ns, uint64_t *s, int n)
{
    char extra[96];
    qsort(s, n, sizeof(*s), cmp_u64);
    snprintf(extra, sizeof(extra), "\"poll_max_ns\": %" PRId64 ", \"samples\": %d",
             poll_max_ns, n);
    emit("co_schedule_rtt", impl, extra, "median_us", s[n / 2] / 1000.0);
    emit("co_schedule_rtt", impl, extra, "p99_us", s[(int64_t)n * 99 / 100] / 1000.0);
}

static void bench_schedule_rtt(int64_t poll_max_ns)
{
    Loop l = { .b.ctx = aio_context_new(NULL) };
    int n = quick ? 2000 : 100000, warm = n / 10;
    uint64_t *samples = g_new(uint64_t, n);

    if (!l.b.ctx || !aio_context_set_poll_params(l.b.ctx, poll_max_ns, 0, 0, NULL)) {
        die("context set-up failed");
    }
    AioBH *bh = aio_bh_new(l.b.ctx, bench_answer_bh, &l.b);
    Coroutine *co = aio_coroutine_create(answering_coroutine, &l);
    bench_loop_start(&l.b);

    sample_rtt(&l, NULL, bh, samples, n, warm);
    emit_rtt("bh", poll_max_ns, samples, n);
    sample_rtt(&l, co, NULL, samples, n, warm);
    emit_rtt("coroutine", poll_max_ns, samples, n);

    atomic_store(&l.co_exit, true);
    aio_co_schedule(l.b.ctx, co);
    bench_spin_until(&l.b.answer, EXIT_ANSWER);
    bench_loop_stop(&l.b);
    aio_bh_delete(bh);
    aio_poll(l.b.ctx, false);
    aio_context_unref(l.b.ctx);
    g_free(samples);
}

/* ---------------------------------------------------------------------- */
/* Disk random reads: callbacks against coroutines                         */

static bool prepare_file(void)
{
    struct stat st;
    if (stat(file_path, &st) == 0 && (uint64_t)st.st_size >= file_size) {
        return true;
    }
    int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        return false;
    }
    enum { CHUNK = 1 << 20 };
    uint64_t *chunk = g_malloc(CHUNK);
    bool ok = true;
    /* Real data, distinct per block: a hole or a zeroed extent would be
     * answered without touching the device. */
    for (uint64_t off = 0; ok && off < file_size; off += CHUNK) {
        for (size_t i = 0; i < CHUNK / 8; i++) {
            chunk[i] = (off / 8 + i) * 0x9e3779b97f4a7c15ull;
        }
        ok = write(fd, chunk, CHUNK) == CHUNK;
    }
    g_free(chunk);
    ok = ok && fsync(fd) == 0;
    close(fd);
    return ok;
}

typedef struct DiskRun {
    const AioDiskEngine *engine;
    void *state;
    int fd;
    uint64_t rng, blocks;
    bool stop;
    int active;                 /* callback slots or coroutines running */
    uint64_t done, errors;
} DiskRun;

typedef struct DiskSlot {
    DiskRun *run;
    struct iovec iov;
} DiskSlot;

static uint64_t next_offset(DiskRun *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return r->rng % r->blocks * BS;
}

static void callback_read_done(void *opaque, int ret);

static void callback_submit(DiskSlot *s)
{
    DiskRun *r = s->run;
    if (r->engine->submit(r->state, AIO_DISK_READ, r->fd, &s->iov, 1,
                          next_offset(r), 0, callback_read_done, s) < 0) {
        r->errors++;
        r->active--;
    }
}

static void callback_read_done(void *opaque, int ret)
{
    DiskSlot *s = opaque;
    DiskRun *r = s->run;

    r->done++;
    r->errors += ret < 0;
    if (r->stop) {
        r->active--;
    } else {
        callback_submit(s);
    }
}

static void coroutine_reader(void *opaque)
{
    DiskSlot *s = opaque;
    DiskRun *r = s->run;

    while (!r->stop) {
        int ret = aio_disk_co_preadv(r->engine, r->state, r->fd, &s->iov, 1,
                                     next_offset(r));
        r->done++;
        r->errors += ret < 0;
    }
    r->active--;
}

typedef struct SliceResult {
    double ios, secs, cpu_secs;
    uint64_t submit_calls, iterations;      /* AioStats over the slice */
} SliceResult;

/* One slice through a context set up like an iothread's, added to @acc. */
static void randread_slice(const AioDiskEngine *engine, bool coroutines,
                           double secs, uint64_t seed, SliceResult *acc)
{
    AioContext *ctx = aio_context_new(NULL);
    DiskRun r = { .engine = engine, .rng = seed, .blocks = file_size / BS };
    DiskSlot slots[QD];
    void *bufs = NULL;

    if (!ctx || !aio_context_set_poll_params(ctx, IOTHREAD_POLL_MAX_NS, 0, 0, NULL) ||
        !(r.state = engine->setup(ctx, NULL)) ||
        (r.fd = open(file_path, O_RDONLY | O_DIRECT)) < 0 ||
        posix_memalign(&bufs, BS, (size_t)QD * BS) != 0) {
        die("disk set-up failed (engine, O_DIRECT open or buffers)");
    }
    aio_set_current_context(ctx);
    int64_t start = now_ns(), end = start + (int64_t)(secs * 1e9);
    int64_t cpu_start = thread_cpu_ns();
    for (int i = 0; i < QD; i++) {
        slots[i] = (DiskSlot){ &r, { (char *)bufs + (size_t)i * BS, BS } };
        r.active++;
        if (coroutines) {
            aio_coroutine_enter(aio_coroutine_create(coroutine_reader, &slots[i]));
        } else {
            callback_submit(&slots[i]);
        }
    }
    while (now_ns() < end) {
        aio_poll(ctx, true);
    }
    acc->ios += r.done;
    acc->secs += (now_ns() - start) / 1e9;
    acc->cpu_secs += (thread_cpu_ns() - cpu_start) / 1e9;
    r.stop = true;
    while (r.active > 0) {
        aio_poll(ctx, true);
    }
    if (r.errors) {
        die("read errors");
    }
    AioStats st;
    aio_context_get_stats(ctx, &st);
    acc->submit_calls += st.io_submit_calls;
    acc->iterations += st.iterations;
    aio_set_current_context(NULL);
    close(r.fd);
    aio_context_unref(ctx);
    free(bufs);
}

static void bench_randread(const AioDiskEngine *engine)
{
    int slices = quick ? 1 : 10;
    double secs = quick ? 0.3 : 1.0;
    SliceResult res[2];
    memset(res, 0, sizeof(res));

    for (int s = 0; s < slices; s++) {
        /* Same offsets for both in a slice, new ones per slice; who goes
         * first alternates, so a drift favours neither. */
        for (int k = 0; k < 2; k++) {
            int co = (s + k) % 2;
            randread_slice(engine, co, secs, 0x2545f4914f6cdd1dull + s, &res[co]);
        }
    }
    char extra[96];
    snprintf(extra, sizeof(extra), "\"engine\": \"%s\", \"qd\": %d, \"slices\": %d",
             engine->name, QD, slices);
    for (int co = 0; co < 2; co++) {
        const char *impl = co ? "coroutine" : "callback";
        emit("co_randread", impl, extra, "iops", res[co].ios / res[co].secs);
        emit("co_randread", impl, extra, "cpu_us_per_io",
             res[co].cpu_secs * 1e6 / res[co].ios);
        emit("co_randread", impl, extra, "ios_per_submit_call",
             res[co].ios / res[co].submit_calls);
        emit("co_randread", impl, extra, "ios_per_loop_iteration",
             res[co].ios / res[co].iterations);
    }
    emit("co_randread", "coroutine", extra, "ratio_to_callback",
         (res[1].ios / res[1].secs) / (res[0].ios / res[0].secs));
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            quick = true;
        } else if (!strcmp(argv[i], "--file") && i + 1 < argc) {
            file_path = argv[++i];
        } else {
            fprintf(stderr, "usage: co-bench [--quick] [--file PATH]\n");
            return 2;
        }
    }
    bench_lifecycle(true);
    bench_lifecycle(false);
    bench_switch();
    bench_schedule_rtt(0);
    bench_schedule_rtt(IOTHREAD_POLL_MAX_NS);
    if (!prepare_file()) {
        fprintf(stderr, "co-bench: cannot create %s (%s): co_randread left out\n",
                file_path, strerror(errno));
        return 0;
    }
    bench_randread(&aio_disk_engine_linux_aio);
    bench_randread(&aio_disk_engine_io_uring);
    return 0;
}
