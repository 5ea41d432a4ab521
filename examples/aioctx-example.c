/*
 * A program that embeds libaioctx, built against an install with
 *     cc aioctx-example.c $(pkg-config --cflags --libs libaioctx)
 *
 * One coroutine on one AioContext does three things the way an I/O
 * component would: hands a CPU job to the context's thread pool and waits
 * for its result, sleeps on a timer, and is woken by a bottom half that
 * another thread schedules.  main() drives the loop with aio_poll() until
 * the coroutine is done.  Each step prints one line; the install test
 * checks them.
 */
#include <aioctx/aio.h>
#include <aioctx/coroutine.h>
#include <aioctx/thread-pool.h>

#include <pthread.h>
#include <stdio.h>

typedef struct Example {
    AioContext *ctx;
    Coroutine *co;
    bool done;
} Example;

/* Runs in a pool worker: a job whose result the coroutine waits for. */
static int sum_to(void *arg)
{
    int n = *(const int *)arg, sum = 0;

    for (int i = 1; i <= n; i++) {
        sum += i;
    }
    return sum;
}

/* Runs in the context's thread, scheduled from another thread. */
static void wake_from_bh(void *opaque)
{
    Example *ex = opaque;
    aio_co_wake(ex->co);
}

static void *other_thread(void *opaque)
{
    Example *ex = opaque;
    aio_bh_schedule_oneshot(ex->ctx, wake_from_bh, ex);
    return NULL;
}

/* The coroutine: pool job, timer, cross-thread wake-up, in order. */
static void example_coroutine(void *opaque)
{
    Example *ex = opaque;
    pthread_t thread;

    int n = 100;
    int sum = thread_pool_co_submit(aio_get_thread_pool(ex->ctx), sum_to, &n);
    printf("pool job: 1 + ... + %d = %d\n", n, sum);

    int64_t start = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    aio_co_sleep_ns(ex->ctx, AIO_CLOCK_MONOTONIC, 1000000);
    printf("slept at least 1 ms: %s\n",
           aio_clock_get_ns(AIO_CLOCK_MONOTONIC) - start >= 1000000
           ? "yes" : "no");

    pthread_create(&thread, NULL, other_thread, ex);
    aio_coroutine_yield();              /* until wake_from_bh */
    pthread_join(thread, NULL);
    printf("woken by a bottom half from another thread\n");
    ex->done = true;
}

int main(void)
{
    GError *error = NULL;
    Example ex = { 0 };

    ex.ctx = aio_context_new(&error);
    if (!ex.ctx) {
        fprintf(stderr, "aio_context_new: %s\n", error->message);
        g_error_free(error);
        return 1;
    }
    aio_set_current_context(ex.ctx);
    printf("context uses fdmon %s\n", aio_context_fdmon_name(ex.ctx));
    ex.co = aio_coroutine_create(example_coroutine, &ex);
    aio_co_enter(ex.ctx, ex.co);
    while (!ex.done) {
        aio_poll(ex.ctx, true);
    }
    aio_set_current_context(NULL);
    aio_context_unref(ex.ctx);
    printf("done\n");
    return 0;
}
