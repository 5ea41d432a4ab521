/*
 * test-callstats-threads: the call table and the heartbeat read from
 * another thread while the loop runs (suite threads, so TSan checks the
 * discipline of callstats.h), once per fdmon.
 *
 *  - A BH blocked in read(2) is visible in the heartbeat from another
 *    thread while it is blocked, and gone once it returned.
 *  - Snapshots taken while the loop keeps adding new names always see a
 *    consistent table, and in the end every call is counted.
 * Waits are for conditions, with deadlines that only guard against hangs.
 */
#include "aio-test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define DEADLINE_NS (10LL * 1000000000)

typedef struct Loop {
    AioContext *ctx;
    pthread_t thread;
    atomic_bool stop;
} Loop;

static void *loop_run(void *opaque)
{
    Loop *l = opaque;

    aio_set_current_context(l->ctx);
    while (!atomic_load(&l->stop)) {
        aio_poll(l->ctx, true);
    }
    return NULL;
}

static void loop_start(Loop *l, AioParamId id, int64_t value)
{
    AioParams p = { 0 };

    l->ctx = test_context_new();
    aio_params_set(&p, id, value);
    if (!aio_context_set_params(l->ctx, &p, NULL)) {
        printf("Bail out! cannot set %s\n", aio_param_info(id)->name);
        exit(1);
    }
    atomic_store(&l->stop, false);
    pthread_create(&l->thread, NULL, loop_run, l);
}

static void loop_stop(Loop *l)
{
    atomic_store(&l->stop, true);
    aio_notify(l->ctx);
    pthread_join(l->thread, NULL);
    aio_context_unref(l->ctx);
}

static bool past(int64_t deadline)
{
    return aio_clock_get_ns(AIO_CLOCK_MONOTONIC) > deadline;
}

/* ---------------------------------------------------------------------- */

static void blocked_read(void *opaque)
{
    char byte;

    while (read(*(int *)opaque, &byte, 1) < 0) {
    }
}

static bool heartbeat_shows(AioContext *ctx, const char *name)
{
    AioHeartbeat hb;

    aio_context_get_heartbeat(ctx, &hb);
    return hb.in_call && hb.kind == AIO_CALL_BH && strcmp(hb.name, name) == 0;
}

static void test_stuck_call_visible_while_stuck(void)
{
    Loop l;
    int fds[2];
    int64_t deadline = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + DEADLINE_NS;
    bool seen = false, gone = false;

    if (pipe(fds) < 0) {
        printf("Bail out! pipe\n");
        exit(1);
    }
    loop_start(&l, AIO_PARAM_STALL_THRESHOLD_NS, 1000000);
    aio_bh_schedule_oneshot_full(l.ctx, blocked_read, &fds[0], "bh-stuck");
    while (!(seen = heartbeat_shows(l.ctx, "bh-stuck")) && !past(deadline)) {
        g_usleep(1000);
    }
    ok(seen, "the heartbeat shows bh 'bh-stuck' while it is blocked");
    if (write(fds[1], "x", 1) != 1) {
        diag("write to the pipe failed");
    }
    while (!(gone = !heartbeat_shows(l.ctx, "bh-stuck")) && !past(deadline)) {
        g_usleep(1000);
    }
    ok(gone, "once released it no longer does");
    loop_stop(&l);
    close(fds[0]);
    close(fds[1]);
}

/* ---------------------------------------------------------------------- */

#define NAMES 64
#define ROUNDS 20

static void count_run(void *opaque)
{
    atomic_fetch_add((atomic_int *)opaque, 1);
}

static uint64_t total_calls(AioContext *ctx, bool *sorted)
{
    AioCallStats *all;
    guint n = aio_context_get_call_stats(ctx, &all);
    uint64_t sum = 0;

    for (guint i = 0; i < n; i++) {
        if (all[i].kind == AIO_CALL_BH && g_str_has_prefix(all[i].name, "n")) {
            sum += all[i].calls;
        }
        if (i > 0 && all[i].total_ns > all[i - 1].total_ns) {
            *sorted = false;
        }
    }
    g_free(all);
    return sum;
}

static void test_snapshots_while_names_added(void)
{
    static char names[NAMES][8];
    Loop l;
    atomic_int runs = 0;
    bool sorted = true;
    uint64_t seen = 0;
    int64_t deadline = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + DEADLINE_NS;

    /* Names are written once, before the loop may read them. */
    for (int i = 0; i < NAMES; i++) {
        snprintf(names[i], sizeof(names[i]), "n%d", i);
    }
    loop_start(&l, AIO_PARAM_STATS_DETAIL, 1);
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < NAMES; i++) {
            aio_bh_schedule_oneshot_full(l.ctx, count_run, &runs, names[i]);
        }
        total_calls(l.ctx, &sorted);
    }
    while ((seen = total_calls(l.ctx, &sorted)) < NAMES * ROUNDS &&
           !past(deadline)) {
        g_usleep(1000);
    }
    is_int((int64_t)seen, NAMES * ROUNDS,
           "every call of %d names x %d rounds is counted", NAMES, ROUNDS);
    ok(sorted, "every snapshot came sorted by total_ns");
    loop_stop(&l);
}

int main(void)
{
    test_stuck_call_visible_while_stuck();
    test_snapshots_while_names_added();
    return done_testing();
}
