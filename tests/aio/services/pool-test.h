/*
 * pool-test.h: helpers shared by the thread-pool tests under
 * tests/aio/services (test-thread-pool.c, test-pool-sizing.c).
 *
 *  - POLL_UNTIL(ctx, cond): run the loop without blocking until @cond
 *    holds or ~20 s have passed (then the caller's check fails; the
 *    deadline only guards against a hang).  Non-blocking on purpose: a
 *    worker that exits (idle timeout, a lowered max) wakes no loop, so a
 *    blocking aio_poll() would not see pool_threads() fall.  Between idle
 *    passes it sleeps 200 us so the workers get the CPU.  Not the
 *    blocking POLL_UNTIL(ctx, cond, ms) of aio-test.h: a program includes
 *    one of the two.
 *  - pool_threads(ctx): the pool's live workers (AioStats.pool_threads).
 *
 * Header-only; home thread only, like the API it drives (pool_threads()
 * is callable from any thread, as aio_context_get_stats()).
 */
#ifndef TESTS_AIO_POOL_TEST_H
#define TESTS_AIO_POOL_TEST_H

#include "aioctx/aio.h"
#include "tap.h"

#include <stdint.h>

#define POLL_UNTIL(ctx, cond) do { \
        int64_t end_ = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 20000000000LL; \
        while (!(cond) && aio_clock_get_ns(AIO_CLOCK_MONOTONIC) < end_) { \
            if (!aio_poll((ctx), false)) { \
                g_usleep(200); \
            } \
        } \
    } while (0)

static TAP_UNUSED uint64_t pool_threads(AioContext *ctx)
{
    AioStats st;
    aio_context_get_stats(ctx, &st);
    return st.pool_threads;
}

#endif /* TESTS_AIO_POOL_TEST_H */
