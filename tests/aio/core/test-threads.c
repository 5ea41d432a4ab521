/*
 * test-threads: the thread-safe entry points, exercised from other threads.
 *
 * aio_notify() and aio_bh_schedule() from another thread wake a blocking
 * aio_poll() (and a blocking g_main_context_iteration() on the GSource),
 * aio_bh_schedule_idle() does not;
 * four threads scheduling 100k oneshot BHs each at once: every one runs
 * exactly once; aio_context_get_stats() read concurrently with the loop
 * sees monotonic counters.
 *
 * Cross-thread synchronisation uses C11 atomics and pthreads only (the
 * ThreadSanitizer build does not see GLib's own primitives).
 */
#include "aio-test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static void sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

typedef struct WakeArg {
    AioContext *ctx;
    AioBH *bh;          /* NULL: aio_notify only */
    bool idle;          /* schedule @bh with aio_bh_schedule_idle() */
    bool via_gsource;   /* the loop waits in g_main_context_iteration() */
    atomic_bool done;
} WakeArg;

/* Returns once the main thread is (very likely) in its blocking wait: an
 * aio_poll() wait shows in the stats (10 s at most, a hang guard); a wait
 * in g_main_context_iteration() does not, so that one gets 20 ms.  Either
 * way the checks hold if the wake-up comes earlier; only the path taken
 * differs. */
static void wait_for_blocking_wait(WakeArg *w)
{
    if (w->via_gsource) {
        sleep_ms(20);
        return;
    }
    for (int i = 0; i < 100000 && !test_loop_is_waiting(w->ctx, NULL); i++) {
        g_usleep(100);
    }
}

static void *waker_thread(void *opaque)
{
    WakeArg *w = opaque;
    wait_for_blocking_wait(w);
    if (w->bh && w->idle) {
        aio_bh_schedule_idle(w->bh);
    } else if (w->bh) {
        aio_bh_schedule(w->bh);
    } else {
        /* The flag first: a notify that arrives after the main thread
         * already saw the flag is harmless, the other order could lose
         * the wake-up the test waits for. */
        atomic_store(&w->done, true);
        aio_notify(w->ctx);
    }
    return NULL;
}

static void count_cb(void *opaque)
{
    (*(int *)opaque)++;
}

static void test_notify_self(AioContext *ctx)
{
    /* aio.h: a notify forces "a concurrent or the next" blocking poll to
     * return, so this must not block until the watchdog. */
    TestWatchdog wd;
    test_watchdog_arm(ctx, &wd, 5000);
    aio_notify(ctx);
    aio_poll(ctx, true);
    ok(!wd.fired, "notify before a blocking aio_poll makes it return");
    test_watchdog_disarm(&wd);
}

static void test_notify_from_thread(AioContext *ctx)
{
    WakeArg w = { .ctx = ctx };
    AioStats before, after;
    aio_context_get_stats(ctx, &before);
    pthread_t th;
    pthread_create(&th, NULL, waker_thread, &w);
    bool woke = POLL_UNTIL(ctx, atomic_load(&w.done), 5000);
    pthread_join(th, NULL);
    ok(woke, "aio_notify from another thread wakes a blocking aio_poll");
    aio_context_get_stats(ctx, &after);
    ok(after.iterations > before.iterations,
       "cross-thread notify: loop iterations counted");
}

static void test_bh_from_thread(AioContext *ctx)
{
    int n = 0;
    WakeArg w = { .ctx = ctx };
    w.bh = aio_bh_new(ctx, count_cb, &n);
    pthread_t th;
    pthread_create(&th, NULL, waker_thread, &w);
    bool ran = POLL_UNTIL(ctx, n == 1, 5000);
    pthread_join(th, NULL);
    ok(ran, "BH scheduled from another thread wakes a blocking aio_poll");
    aio_bh_delete(w.bh);
    while (aio_poll(ctx, false)) {
    }
}

/* An idle BH does not wake the loop (aio.h): scheduled from another
 * thread while the loop sleeps, it runs when something else ends the wait
 * (here the 200 ms watchdog), and the context's notifier is never found
 * set for it. */
static void test_idle_bh_from_thread_does_not_wake(AioContext *ctx)
{
    int n = 0;
    WakeArg w = { .ctx = ctx, .idle = true };
    AioStats before, after;
    pthread_t th;

    w.bh = aio_bh_new(ctx, count_cb, &n);
    while (aio_poll(ctx, false)) {
    }
    aio_context_get_stats(ctx, &before);
    pthread_create(&th, NULL, waker_thread, &w);
    POLL_UNTIL(ctx, n == 1, 200);
    pthread_join(th, NULL);
    aio_poll(ctx, false);       /* a waker later than the watchdog */
    aio_context_get_stats(ctx, &after);
    ok(n == 1 && after.notify_wakeups == before.notify_wakeups,
       "an idle BH from another thread runs without waking the loop through "
       "its notifier (%" PRIu64 " notifier wake-ups)",
       after.notify_wakeups - before.notify_wakeups);
    aio_bh_delete(w.bh);
}

static gboolean glib_watchdog_cb(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

static void test_bh_from_thread_gsource(AioContext *ctx)
{
    GMainContext *gctx = g_main_context_new();
    GSource *src = aio_get_g_source(ctx);
    g_source_attach(src, gctx);

    int n = 0;
    WakeArg w = { .ctx = ctx, .via_gsource = true };
    w.bh = aio_bh_new(ctx, count_cb, &n);
    bool fired = false;
    GSource *wd = g_timeout_source_new(5000);
    g_source_set_callback(wd, glib_watchdog_cb, &fired, NULL);
    g_source_attach(wd, gctx);

    pthread_t th;
    pthread_create(&th, NULL, waker_thread, &w);
    while (n == 0 && !fired) {
        g_main_context_iteration(gctx, TRUE);
    }
    pthread_join(th, NULL);
    ok(n == 1 && !fired,
       "BH from another thread wakes a blocking g_main_context_iteration");

    g_source_destroy(wd);
    g_source_unref(wd);
    aio_bh_delete(w.bh);
    g_main_context_iteration(gctx, FALSE);
    g_source_destroy(src);
    g_source_unref(src);
    g_main_context_unref(gctx);
}

/* ---- 4 threads x 100k oneshot BHs ---------------------------------- */

#define NTHREADS 4
#define PER_THREAD 100000

static uint8_t runs[NTHREADS][PER_THREAD];   /* written by the home thread */
static int total_runs;                       /* home thread */

typedef struct Scheduler {
    AioContext *ctx;
    int index;
    atomic_int *start;
} Scheduler;

static void mark_cb(void *opaque)
{
    uint8_t *slot = opaque;
    (*slot)++;
    total_runs++;
}

static void *scheduler_thread(void *opaque)
{
    Scheduler *s = opaque;
    /* Start together so the enqueues really race. */
    atomic_fetch_add(s->start, 1);
    while (atomic_load(s->start) < NTHREADS) {
    }
    for (int i = 0; i < PER_THREAD; i++) {
        aio_bh_schedule_oneshot(s->ctx, mark_cb, &runs[s->index][i]);
    }
    return NULL;
}

typedef struct StatsReader {
    AioContext *ctx;
    atomic_bool stop;
    bool monotonic;
    uint64_t reads;
} StatsReader;

static void *stats_reader_thread(void *opaque)
{
    StatsReader *r = opaque;
    AioStats prev = { 0 }, cur;
    r->monotonic = true;
    while (!atomic_load(&r->stop)) {
        aio_context_get_stats(r->ctx, &cur);
        if (cur.bh_calls < prev.bh_calls || cur.iterations < prev.iterations) {
            r->monotonic = false;
        }
        prev = cur;
        r->reads++;
        struct timespec ts = { 0, 100000 };    /* leave the CPUs to the test */
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void test_bh_from_four_threads(AioContext *ctx)
{
    atomic_int start = 0;
    Scheduler s[NTHREADS];
    pthread_t th[NTHREADS];
    StatsReader reader = { .ctx = ctx };
    pthread_t reader_th;
    AioStats before, after;

    aio_context_get_stats(ctx, &before);
    pthread_create(&reader_th, NULL, stats_reader_thread, &reader);
    for (int i = 0; i < NTHREADS; i++) {
        s[i] = (Scheduler){ .ctx = ctx, .index = i, .start = &start };
        pthread_create(&th[i], NULL, scheduler_thread, &s[i]);
    }
    bool all = POLL_UNTIL(ctx, total_runs == NTHREADS * PER_THREAD, 120000);
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
    }
    /* Anything scheduled after the count was reached would be a bug too. */
    while (aio_poll(ctx, false)) {
    }
    atomic_store(&reader.stop, true);
    pthread_join(reader_th, NULL);

    int missing = 0, dup = 0;
    for (int t = 0; t < NTHREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            missing += runs[t][i] == 0;
            dup += runs[t][i] > 1;
        }
    }
    ok(all, "4 threads x 100k oneshot BHs: all ran (%d)", total_runs);
    ok(missing == 0 && dup == 0,
       "4 threads x 100k: each exactly once (missing %d, duplicated %d)",
       missing, dup);
    aio_context_get_stats(ctx, &after);
    is_int((int64_t)(after.bh_calls - before.bh_calls), NTHREADS * PER_THREAD,
           "4 threads x 100k: bh_calls counted every one");
    ok(reader.monotonic && reader.reads > 0,
       "stats read concurrently from another thread are monotonic (%" PRIu64
       " reads)", reader.reads);
}

static void *current_context_thread(void *opaque)
{
    *(AioContext **)opaque = aio_get_current_context();
    return NULL;
}

int main(void)
{
    AioContext *ctx = test_context_new();
    aio_set_current_context(ctx);
    ok(aio_get_current_context() == ctx, "current context: set in this thread");
    AioContext *seen = ctx;
    pthread_t cth;
    pthread_create(&cth, NULL, current_context_thread, &seen);
    pthread_join(cth, NULL);
    ok(seen == NULL, "current context: another thread sees none (thread-local)");
    test_notify_self(ctx);
    test_notify_from_thread(ctx);
    test_bh_from_thread(ctx);
    test_idle_bh_from_thread_does_not_wake(ctx);
    test_bh_from_thread_gsource(ctx);
    test_bh_from_four_threads(ctx);
    aio_set_current_context(NULL);
    aio_context_unref(ctx);
    return done_testing();
}
