/*
 * aio-bench: event-loop core figures, one JSON object per line (README
 * "Figures" gives them).
 *
 *  bh_throughput     in-thread: one BH rescheduling itself, the loop
 *                    calling aio_poll(ctx, true); callbacks/s, with
 *                    poll-max-ns 0 and 32768 (polling must cost nothing
 *                    when there is always work).
 *  bh_instrument_cost  bh_throughput (polling off) with the callback
 *                    instrumentation off, with stats-detail 1, and with
 *                    stall-threshold-ns 100 ms (the heartbeat), measured
 *                    back to back in each of 15 rounds in one context: the
 *                    best of each, its ratio to the best "off", the median
 *                    of the rounds' ratios and the load average; rates are
 *                    per second of the loop thread's CPU time, so other
 *                    processes' load does not decide the ratio.
 *  xthread_wake_rtt  the main thread schedules a BH into a thread blocked
 *                    in (or polling in) aio_poll(ctx, true); the BH answers
 *                    through an atomic the main thread spins on.  Median
 *                    and p99 µs per backend and poll-max-ns 0 / 32768
 *                    (poll-mode fixed) / 32768 with poll-mode auto.
 *  fd_dispatch_rtt   the same with an eventfd fd handler: the main thread
 *                    posts a sequence number in memory and writes the
 *                    eventfd (the doorbell); the handler (io_read, or
 *                    io_poll_ready when polling sees the posted number)
 *                    answers through the atomic.
 *  poll_find_ratio   single-threaded: a device makes work visible in
 *                    memory 20 µs after it is armed and rings its doorbell
 *                    20 µs later; the share of events busy-polling finds
 *                    (io_poll_ready) before the doorbell, per backend, with
 *                    poll-max-ns 64 µs and grow 2.  A speed figure: it
 *                    falls when the thread is descheduled.
 *  references, measured in the same run for each of the two round trips:
 *    raw-eventfd     a thread blocked in read(2) on an eventfd, woken by a
 *                    write, answering through the atomic (the blocking
 *                    wake-up an event loop without polling cannot beat);
 *    raw-spin        a thread spinning on one atomic, answering through
 *                    another (the physical floor).  Every polled aio cell
 *                    also carries the floor measured just before it
 *                    (spin_floor_us) and its median's ratio to it
 *                    (median_to_floor): the floor moves within a run.
 *
 * Every row carries the 1-minute load average it was measured under.
 * Options: --quick (a few seconds, used by the test suite to prove the
 * benchmark runs); the default run takes under a minute.
 * Rows of a backend the context cannot use (the library fell back) are
 * left out with a note on stderr, so no row is mislabelled.
 */
#include "aioctx/aio.h"
#include "bench-util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static bool quick;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "aio-bench: %s\n", what);
    exit(1);
}

/* ---------------------------------------------------------------------- */
/* Output                                                                  */

typedef struct Row {
    const char *bench, *impl, *fdmon;      /* fdmon NULL: not applicable */
    int64_t poll_max_ns;                   /* -1: not applicable */
    const char *poll_mode;                 /* NULL: fixed or not applicable */
} Row;

static void emit(const Row *r, const char *metric, double value,
                 const char *extra_json)
{
    printf("{\"bench\": \"%s\", \"impl\": \"%s\"", r->bench, r->impl);
    if (r->fdmon) {
        printf(", \"backend\": \"%s\"", r->fdmon);
    }
    if (r->poll_max_ns >= 0) {
        printf(", \"poll_max_ns\": %" PRId64, r->poll_max_ns);
    }
    if (r->poll_mode) {
        printf(", \"poll_mode\": \"%s\"", r->poll_mode);
    }
    printf(", \"load\": %.2f", bench_load_average());
    printf(", \"metric\": \"%s\", \"value\": %.*f%s%s}\n", metric,
           value >= 1000 ? 0 : 3, value, extra_json ? ", " : "",
           extra_json ? extra_json : "");
    fflush(stdout);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void emit_rtt(const Row *r, uint64_t *samples, int n,
                     const char *extra_json)
{
    char extra[256];
    qsort(samples, n, sizeof(*samples), cmp_u64);
    snprintf(extra, sizeof(extra), "\"samples\": %d%s%s", n,
             extra_json ? ", " : "", extra_json ? extra_json : "");
    emit(r, "median_us", samples[n / 2] / 1000.0, extra);
    emit(r, "p99_us", samples[(int64_t)n * 99 / 100] / 1000.0, extra);
}

static int warmup_samples(void) { return quick ? 200 : 2000; }
static int rtt_samples(void) { return quick ? 1000 : 100000; }
/* A cell stops early past this budget (a machine where every wake-up
 * costs ~50 µs must still finish the default run within a minute). */
static int64_t rtt_budget_ns(void) { return quick ? 200000000 : 3000000000LL; }
#define MIN_SAMPLES 100

/* Whether sampling (started at @start, @done samples taken) should stop. */
static bool rtt_over_budget(int64_t start, int done)
{
    return done >= MIN_SAMPLES && (done & 63) == 0 &&
           now_ns() - start > rtt_budget_ns();
}

/* ---------------------------------------------------------------------- */
/* In-thread BH throughput                                                 */

typedef struct Throughput {
    AioBH *bh;
    uint64_t calls;
} Throughput;

static void throughput_cb(void *opaque)
{
    Throughput *t = opaque;
    t->calls++;
    aio_bh_schedule(t->bh);
}

static int64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Callbacks per second of @clock (CLOCK_MONOTONIC: wall time; a thread
 * CPU clock: time the loop thread ran, which preemption does not add to). */
static double bh_rate(AioContext *ctx, int64_t duration_ns, clockid_t clock)
{
    Throughput t = { 0 };
    t.bh = aio_bh_new(ctx, throughput_cb, &t);
    aio_bh_schedule(t.bh);
    for (int i = 0; i < 10000; i++) {      /* warm caches */
        aio_poll(ctx, true);
    }
    t.calls = 0;
    int64_t start = clock_ns(clock), elapsed;
    do {
        for (int i = 0; i < 4096; i++) {
            aio_poll(ctx, true);
        }
        elapsed = clock_ns(clock) - start;
    } while (elapsed < duration_ns);
    double rate = t.calls * 1e9 / elapsed;
    aio_bh_delete(t.bh);
    aio_poll(ctx, false);
    return rate;
}

static void bench_bh_throughput(void)
{
    static const int64_t polls[] = { 0, 32768 };
    int reps = quick ? 1 : 3;
    int64_t duration = quick ? 100000000 : 700000000;
    for (size_t p = 0; p < 2; p++) {
        AioContext *ctx = aio_context_new(NULL);
        if (!ctx || !aio_context_set_poll_params(ctx, polls[p], 0, 0, NULL)) {
            die("cannot create a context");
        }
        double best = 0;
        for (int r = 0; r < reps; r++) {   /* best of: noise only slows */
            double rate = bh_rate(ctx, duration, CLOCK_MONOTONIC);
            best = rate > best ? rate : best;
        }
        Row row = { "bh_throughput", "aio", aio_context_fdmon_name(ctx),
                    polls[p], NULL };
        emit(&row, "callbacks_per_s", best, "\"bhs\": 1");
        aio_context_unref(ctx);
    }
}

/* ---------------------------------------------------------------------- */
/* What the callback instrumentation costs a BH loop                       */

typedef struct Instrument {
    const char *name;
    int64_t stats_detail, stall_threshold_ns;
} Instrument;

static void instrument_set(AioContext *ctx, const Instrument *in)
{
    AioParams p = { 0 };

    aio_params_set(&p, AIO_PARAM_STATS_DETAIL, in->stats_detail);
    aio_params_set(&p, AIO_PARAM_STALL_THRESHOLD_NS, in->stall_threshold_ns);
    if (!aio_context_set_params(ctx, &p, NULL)) {
        die("cannot set the instrumentation parameters");
    }
}

#define INSTRUMENT_ROUNDS_MAX 15

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Rows of bench_instrument_cost: the best rate of each mode, its ratio to
 * the best "off", and the median of the per-round ratios (each round
 * measures every mode back to back, so drift between rounds cancels). */
static void emit_instrument_rows(AioContext *ctx, const Instrument *modes,
                                 int n_modes, double rates[][3], int rounds)
{
    for (int m = 0; m < n_modes; m++) {
        double best = 0, best_off = 0, ratios[INSTRUMENT_ROUNDS_MAX];
        char extra[200];

        for (int r = 0; r < rounds; r++) {
            best = rates[r][m] > best ? rates[r][m] : best;
            best_off = rates[r][0] > best_off ? rates[r][0] : best_off;
            ratios[r] = rates[r][m] / rates[r][0];
        }
        qsort(ratios, rounds, sizeof(ratios[0]), cmp_double);
        Row row = { "bh_instrument_cost", modes[m].name,
                    aio_context_fdmon_name(ctx), 0, NULL };
        snprintf(extra, sizeof(extra), "\"ratio_best\": %.4f, "
                 "\"ratio_median\": %.4f, \"rounds\": %d, \"load\": %.2f",
                 best / best_off, ratios[rounds / 2], rounds, bench_load_average());
        emit(&row, "callbacks_per_cpu_s", best, extra);
    }
}

static void bench_instrument_cost(void)
{
    static const Instrument modes[] = {
        { "off", 0, 0 }, { "stats-detail", 1, 0 },
        { "stall-heartbeat", 0, 100000000 },
    };
    double rates[INSTRUMENT_ROUNDS_MAX][3];
    int rounds = quick ? 1 : INSTRUMENT_ROUNDS_MAX;
    int64_t duration = quick ? 50000000 : 200000000;
    AioContext *ctx = aio_context_new(NULL);

    if (!ctx) {
        die("cannot create a context");
    }
    for (int r = 0; r < rounds; r++) {
        for (int m = 0; m < 3; m++) {
            instrument_set(ctx, &modes[m]);
            rates[r][m] = bh_rate(ctx, duration, CLOCK_THREAD_CPUTIME_ID);
        }
    }
    emit_instrument_rows(ctx, modes, 3, rates, rounds);
    aio_context_unref(ctx);
}

/* ---------------------------------------------------------------------- */
/* Cross-thread round trips through an AioContext                          */

typedef struct Loop {
    BenchLoop b;
    /* fd_dispatch_rtt */
    int efd;
    uint64_t consumed;          /* loop thread only */
} Loop;

static void fd_consume(Loop *l)
{
    uint64_t v;
    while (read(l->efd, &v, sizeof(v)) > 0) {
    }
    uint64_t posted = atomic_load_explicit(&l->b.request, memory_order_acquire);
    if (posted != l->consumed) {
        l->consumed = posted;
        atomic_store_explicit(&l->b.answer, posted, memory_order_release);
    }
}

static void fd_read_cb(void *opaque)
{
    fd_consume(opaque);
}

static bool fd_poll_cb(void *opaque)
{
    Loop *l = opaque;
    return atomic_load_explicit(&l->b.request, memory_order_relaxed) != l->consumed;
}

static const char *kind_name(AioFdmonKind k)
{
    return k == AIO_FDMON_POLL ? "poll" : k == AIO_FDMON_EPOLL ? "epoll"
                                                               : "io_uring";
}

/* A context on backend @kind with polling parameters @poll_max_ns and
 * @grow (shrink 0) and poll-mode @mode, or NULL (said on stderr) when the library would fall
 * back to another backend, so no row is mislabelled. */
static AioContext *bench_context_new(AioFdmonKind kind, int64_t poll_max_ns,
                                     int64_t grow, AioPollMode mode)
{
    AioParams mode_param = { 0 };
    GError *err = NULL;
    AioContext *ctx = aio_context_new_full(kind, &err);
    if (!ctx) {
        fprintf(stderr, "aio-bench: %s backend unavailable: %s\n",
                kind_name(kind), err ? err->message : "?");
        g_clear_error(&err);
        return NULL;
    }
    const char *backend = aio_context_fdmon_name(ctx);
    if (strcmp(backend, kind_name(kind)) != 0) {
        fprintf(stderr, "aio-bench: asked for %s, context uses %s; rows left out\n",
                kind_name(kind), backend);
        aio_context_unref(ctx);
        return NULL;
    }
    aio_params_set(&mode_param, AIO_PARAM_POLL_MODE, mode);
    if (!aio_context_set_poll_params(ctx, poll_max_ns, grow, 0, &err) ||
        !aio_context_set_params(ctx, &mode_param, &err)) {
        die(err->message);
    }
    return ctx;
}

/* One matrix cell: @fd selects fd_dispatch_rtt over xthread_wake_rtt. */
static void bench_aio_rtt(AioFdmonKind kind, int64_t poll_max_ns,
                          AioPollMode mode, bool fd, double floor_us)
{
    Loop l = { .efd = -1 };
    l.b.ctx = bench_context_new(kind, poll_max_ns, 0, mode);
    if (!l.b.ctx) {
        return;
    }
    const char *backend = aio_context_fdmon_name(l.b.ctx);
    AioBH *bh = NULL;
    if (fd) {
        l.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (l.efd < 0) {
            die("eventfd");
        }
        aio_set_fd_handler(l.b.ctx, l.efd, fd_read_cb, NULL, fd_poll_cb,
                           fd_read_cb, &l);
    } else {
        bh = aio_bh_new(l.b.ctx, bench_answer_bh, &l.b);
    }
    AioStats before, after;
    bench_loop_start(&l.b);

    int warm = warmup_samples(), n = rtt_samples();
    uint64_t *samples = g_new(uint64_t, n);
    int64_t start = now_ns();
    for (int i = 0; i < warm + n; i++) {
        if (i == warm) {
            aio_context_get_stats(l.b.ctx, &before);
        }
        if (i > warm && rtt_over_budget(start, i - warm)) {
            n = i - warm;
            break;
        }
        uint64_t seq = i + 1;
        int64_t t0 = now_ns();
        atomic_store_explicit(&l.b.request, seq, memory_order_release);
        if (fd) {
            uint64_t one = 1;
            if (write(l.efd, &one, sizeof(one)) != sizeof(one)) {
                die("eventfd write");
            }
        } else {
            aio_bh_schedule(bh);
        }
        bench_spin_until(&l.b.answer, seq);
        int64_t t1 = now_ns();
        if (i >= warm) {
            samples[i - warm] = t1 - t0;
        }
    }
    aio_context_get_stats(l.b.ctx, &after);
    bench_loop_stop(&l.b);

    char extra[200];
    int len = snprintf(extra, sizeof(extra),
                       "\"poll_hits\": %" PRIu64 ", \"blocking_waits\": %" PRIu64,
                       after.poll_hits - before.poll_hits,
                       after.blocking_waits - before.blocking_waits);
    if (floor_us > 0) {
        /* The floor measured just before this cell: the machine's state
         * (which CPUs the two threads share) moves it 3x within a run. */
        qsort(samples, n, sizeof(*samples), cmp_u64);
        snprintf(extra + len, sizeof(extra) - len,
                 ", \"spin_floor_us\": %.3f, \"median_to_floor\": %.2f",
                 floor_us, samples[n / 2] / 1000.0 / floor_us);
    }
    Row row = { fd ? "fd_dispatch_rtt" : "xthread_wake_rtt", "aio", backend,
                poll_max_ns, mode == AIO_POLL_MODE_AUTO ? "auto" : NULL };
    emit_rtt(&row, samples, n, extra);
    g_free(samples);

    /* The loop thread has stopped: this thread may now drive the context. */
    if (fd) {
        aio_set_fd_handler(l.b.ctx, l.efd, NULL, NULL, NULL, NULL, NULL);
        close(l.efd);
    } else {
        aio_bh_delete(bh);
    }
    aio_poll(l.b.ctx, false);
    aio_context_unref(l.b.ctx);
}

/* ---------------------------------------------------------------------- */
/* References                                                              */

typedef struct Peer {
    pthread_t thread;
    atomic_bool stop;
    _Atomic uint64_t request;
    _Atomic uint64_t answer;
    int efd;                    /* blocking eventfd; -1 for raw-spin */
} Peer;

static void *eventfd_peer(void *opaque)
{
    Peer *p = opaque;
    uint64_t v;
    for (;;) {
        if (read(p->efd, &v, sizeof(v)) != sizeof(v) && errno != EINTR) {
            die("eventfd read");
        }
        if (atomic_load(&p->stop)) {
            return NULL;
        }
        atomic_store_explicit(&p->answer,
                              atomic_load_explicit(&p->request, memory_order_acquire),
                              memory_order_release);
    }
}

static void *spin_peer(void *opaque)
{
    Peer *p = opaque;
    uint64_t last = 0;
    while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
        uint64_t r = atomic_load_explicit(&p->request, memory_order_acquire);
        if (r != last) {
            last = r;
            atomic_store_explicit(&p->answer, r, memory_order_release);
        }
    }
    return NULL;
}

/* Round trips to a raw peer (spinning, or blocked in an eventfd read):
 * @n samples (fewer if over budget); returns them, sets *n. */
static uint64_t *reference_samples(bool spin, int *n_out)
{
    Peer p = { .efd = -1 };
    if (!spin) {
        p.efd = eventfd(0, EFD_CLOEXEC);
        if (p.efd < 0) {
            die("eventfd");
        }
    }
    pthread_create(&p.thread, NULL, spin ? spin_peer : eventfd_peer, &p);
    int warm = warmup_samples(), n = *n_out;
    uint64_t *samples = g_new(uint64_t, n);
    int64_t start = now_ns();
    for (int i = 0; i < warm + n; i++) {
        if (i > warm && rtt_over_budget(start, i - warm)) {
            n = i - warm;
            break;
        }
        uint64_t seq = i + 1;
        int64_t t0 = now_ns();
        atomic_store_explicit(&p.request, seq, memory_order_release);
        if (!spin) {
            uint64_t one = 1;
            if (write(p.efd, &one, sizeof(one)) != sizeof(one)) {
                die("eventfd write");
            }
        }
        bench_spin_until(&p.answer, seq);
        int64_t t1 = now_ns();
        if (i >= warm) {
            samples[i - warm] = t1 - t0;
        }
    }
    atomic_store(&p.stop, true);
    if (!spin) {
        uint64_t one = 1;
        if (write(p.efd, &one, sizeof(one)) != sizeof(one)) {
            die("eventfd write");
        }
    }
    pthread_join(p.thread, NULL);
    if (!spin) {
        close(p.efd);
    }
    *n_out = n;
    return samples;
}

static void bench_reference(const char *bench, bool spin)
{
    int n = rtt_samples();
    uint64_t *samples = reference_samples(spin, &n);
    Row row = { bench, spin ? "raw-spin" : "raw-eventfd", NULL, -1, NULL };
    emit_rtt(&row, samples, n, NULL);
    g_free(samples);
}

/* The spin floor now: the median of a quarter of a cell's samples. */
static double spin_floor_us(void)
{
    int n = rtt_samples() / 4;
    uint64_t *samples = reference_samples(true, &n);
    qsort(samples, n, sizeof(*samples), cmp_u64);
    double median = samples[n / 2] / 1000.0;
    g_free(samples);
    return median;
}

/* ---------------------------------------------------------------------- */
/* poll_find_ratio                                                         */

/* A device that posts work in memory @ahead_ns after it is armed and rings
 * its doorbell (a timerfd) KICK_LAG_NS later still: busy-polling can find
 * the work before the doorbell, if the learnt window covers the wait and
 * the thread is not descheduled meanwhile.  Polling that finds the work
 * cancels the doorbell.  Single-threaded: the loop itself is measured. */
#define KICK_LAG_NS 20000

typedef struct LateDevice {
    int doorbell;
    int64_t due_ns;         /* when io_poll starts seeing the work */
    bool consumed;
    int by_polling, by_fd;
} LateDevice;

static void late_doorbell_set(LateDevice *d, int64_t delay_ns)
{
    struct itimerspec its = { .it_value = { .tv_sec = delay_ns / 1000000000,
                                            .tv_nsec = delay_ns % 1000000000 } };
    timerfd_settime(d->doorbell, 0, &its, NULL);
}

static void late_doorbell_drain(LateDevice *d)
{
    uint64_t ticks;
    while (read(d->doorbell, &ticks, sizeof(ticks)) > 0) {
    }
}

static bool late_io_poll(void *opaque)
{
    LateDevice *d = opaque;
    return !d->consumed && now_ns() >= d->due_ns;
}

static void late_poll_ready(void *opaque)
{
    LateDevice *d = opaque;
    late_doorbell_set(d, 0);
    late_doorbell_drain(d);
    if (!d->consumed) {
        d->consumed = true;
        d->by_polling++;
    }
}

static void late_read(void *opaque)
{
    LateDevice *d = opaque;
    late_doorbell_drain(d);
    if (!d->consumed && now_ns() >= d->due_ns) {
        d->consumed = true;
        d->by_fd++;
    }
}

/* Share of @rounds events, each due 20 µs after it is armed, that
 * busy-polling finds with poll-max-ns 64 µs (grow 2). */
static void bench_poll_find_ratio(AioFdmonKind kind)
{
    const int64_t ahead_ns = 20000, poll_max_ns = 64000;
    int rounds = quick ? 200 : 5000;
    AioContext *ctx = bench_context_new(kind, poll_max_ns, 2,
                                        AIO_POLL_MODE_FIXED);
    LateDevice d = { 0 };
    if (!ctx) {
        return;
    }
    d.doorbell = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (d.doorbell < 0) {
        die("timerfd_create");
    }
    aio_set_fd_handler(ctx, d.doorbell, late_read, NULL, late_io_poll,
                       late_poll_ready, &d);
    for (int i = 0; i < rounds; i++) {
        d.consumed = false;
        d.due_ns = now_ns() + ahead_ns;
        late_doorbell_set(&d, ahead_ns + KICK_LAG_NS);
        while (!d.consumed) {
            aio_poll(ctx, true);
        }
    }
    char extra[128];
    snprintf(extra, sizeof(extra), "\"events\": %d, \"by_polling\": %d, "
             "\"by_fd\": %d, \"ahead_us\": 20", rounds, d.by_polling, d.by_fd);
    Row row = { "poll_find_ratio", "aio", kind_name(kind), poll_max_ns, NULL };
    emit(&row, "found_by_polling_pct", 100.0 * d.by_polling / rounds, extra);
    aio_set_fd_handler(ctx, d.doorbell, NULL, NULL, NULL, NULL, NULL);
    close(d.doorbell);
    aio_context_unref(ctx);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else {
            fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
            return 2;
        }
    }
    static const AioFdmonKind kinds[] = { AIO_FDMON_POLL, AIO_FDMON_EPOLL,
                                          AIO_FDMON_IO_URING };
    /* The round trips' polling cells: off, QEMU's default, and the
     * default window under the governor. */
    static const struct { int64_t max_ns; AioPollMode mode; } polls[] = {
        { 0, AIO_POLL_MODE_FIXED }, { 32768, AIO_POLL_MODE_FIXED },
        { 32768, AIO_POLL_MODE_AUTO },
    };

    bench_bh_throughput();
    bench_instrument_cost();
    for (size_t k = 0; k < 3; k++) {
        bench_poll_find_ratio(kinds[k]);
    }
    for (int fd = 0; fd <= 1; fd++) {
        const char *bench = fd ? "fd_dispatch_rtt" : "xthread_wake_rtt";
        bench_reference(bench, true);
        bench_reference(bench, false);
        for (size_t k = 0; k < 3; k++) {
            for (size_t p = 0; p < G_N_ELEMENTS(polls); p++) {
                /* Polled cells carry the floor measured just before. */
                double floor = polls[p].max_ns ? spin_floor_us() : 0;
                bench_aio_rtt(kinds[k], polls[p].max_ns, polls[p].mode, fd,
                              floor);
            }
        }
    }
    return 0;
}
