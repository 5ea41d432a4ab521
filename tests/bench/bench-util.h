/*
 * bench-util.h: what every benchmark under tests/bench prints beside its
 * figures.  Header-only; any thread.
 *
 *  - bench_load_average(): the 1-minute load average (/proc/loadavg), -1
 *    when unreadable.  Other work on the machine moves every figure, so a
 *    figure is printed with the load it was measured under.
 *  - BenchLoop: a context driven by its own thread (aio_poll until
 *    stopped), and the request/answer words of a cross-thread round trip:
 *    the controller stores a request and wakes the loop, a callback in the
 *    loop copies it to the answer (bench_answer_bh), the controller spins
 *    until it sees it (bench_spin_until, which ends the program after 5 s
 *    without an answer rather than hang on a lost wake-up).
 * Thread rules: request is written by the controller, answer by the loop
 * thread; the rest of a BenchLoop belongs to the controller.
 */
#ifndef TESTS_BENCH_UTIL_H
#define TESTS_BENCH_UTIL_H

#include "aioctx/aio.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static inline double bench_load_average(void)
{
    double load = -1;
    FILE *f = fopen("/proc/loadavg", "r");

    if (f) {
        if (fscanf(f, "%lf", &load) != 1) {
            load = -1;
        }
        fclose(f);
    }
    return load;
}

typedef struct BenchLoop {
    AioContext *ctx;
    pthread_t thread;
    atomic_bool stop;
    _Atomic uint64_t request;   /* controller -> loop */
    _Atomic uint64_t answer;    /* loop -> controller */
} BenchLoop;

static inline void *bench_loop_thread(void *opaque)
{
    BenchLoop *l = opaque;

    aio_set_current_context(l->ctx);
    while (!atomic_load(&l->stop)) {
        aio_poll(l->ctx, true);
    }
    return NULL;
}

static inline void bench_loop_start(BenchLoop *l)
{
    if (pthread_create(&l->thread, NULL, bench_loop_thread, l) != 0) {
        fprintf(stderr, "bench: cannot start the loop thread\n");
        exit(1);
    }
}

/* After it, the controller may drive the context itself. */
static inline void bench_loop_stop(BenchLoop *l)
{
    atomic_store(&l->stop, true);
    aio_notify(l->ctx);
    pthread_join(l->thread, NULL);
}

/* A BH (opaque: the BenchLoop) answering the request. */
static inline void bench_answer_bh(void *opaque)
{
    BenchLoop *l = opaque;

    atomic_store_explicit(&l->answer,
                          atomic_load_explicit(&l->request, memory_order_relaxed),
                          memory_order_release);
}

static inline void bench_spin_until(_Atomic uint64_t *word, uint64_t want)
{
    int64_t start = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    unsigned spins = 0;

    while (atomic_load_explicit(word, memory_order_acquire) != want) {
        if (++spins % (1u << 20) == 0 &&
            aio_clock_get_ns(AIO_CLOCK_MONOTONIC) - start > 5000000000LL) {
            fprintf(stderr, "bench: no answer within 5 s (lost wake-up?)\n");
            exit(1);
        }
    }
}

#endif /* TESTS_BENCH_UTIL_H */
