/*
 * test-bh: bottom-half semantics of one AioContext, single-threaded.
 *
 * Schedule once / several times (one run per aio_poll round), cancel,
 * delete (before running, from its own callback, many BHs deleting each
 * other), oneshot, flushing, the slice rule (a BH scheduled by a BH runs in
 * the next aio_bh_poll), idle BHs, and nested aio_poll() inside a BH.
 * Freed-ness is checked by the ASan build (leaks, use after free).
 */
#include "aio-test.h"

typedef struct BHData {
    AioBH *bh;
    int n;          /* times the callback ran */
    int max;        /* reschedule itself while n < max */
    bool delete_at_max;
} BHData;

static void counting_cb(void *opaque)
{
    BHData *d = opaque;
    if (++d->n < d->max) {
        aio_bh_schedule(d->bh);
    } else if (d->delete_at_max) {
        aio_bh_delete(d->bh);
        d->bh = NULL;
    }
}

static void test_schedule_once(AioContext *ctx)
{
    BHData d = { 0 };
    d.bh = aio_bh_new(ctx, counting_cb, &d);
    aio_bh_schedule(d.bh);
    ok(d.n == 0, "schedule: callback does not run before aio_poll");
    ok(aio_poll(ctx, false), "schedule: aio_poll reports progress");
    is_int(d.n, 1, "schedule: callback ran once");
    ok(!aio_poll(ctx, false), "schedule: next aio_poll has nothing to do");
    is_int(d.n, 1, "schedule: callback did not run again");
    aio_bh_delete(d.bh);
}

static void test_schedule_ten_times(AioContext *ctx)
{
    BHData d = { 0 };
    d.bh = aio_bh_new(ctx, counting_cb, &d);
    for (int i = 0; i < 10; i++) {
        aio_bh_schedule(d.bh);
    }
    ok(aio_poll(ctx, false), "schedule x10: aio_poll reports progress");
    is_int(d.n, 1, "schedule x10 before one poll: runs once");
    ok(!aio_poll(ctx, false), "schedule x10: nothing left afterwards");

    /* Ten schedules, each followed by a poll: ten runs. */
    d.n = 0;
    int progress = 0;
    for (int i = 0; i < 10; i++) {
        aio_bh_schedule(d.bh);
        progress += aio_poll(ctx, false);
    }
    is_int(d.n, 10, "schedule+poll x10: ten runs");
    is_int(progress, 10, "schedule+poll x10: every poll made progress");
    aio_bh_delete(d.bh);
}

static void test_one_run_per_round(AioContext *ctx)
{
    /* A BH that reschedules itself runs exactly once per aio_poll round. */
    BHData d = { .max = 10 };
    d.bh = aio_bh_new(ctx, counting_cb, &d);
    aio_bh_schedule(d.bh);
    bool each_once = true;
    for (int i = 1; i <= 10; i++) {
        bool progress = aio_poll(ctx, false);
        if (!progress || d.n != i) {
            each_once = false;
            diag("round %d: progress %d, n %d", i, progress, d.n);
        }
    }
    ok(each_once, "self-rescheduling BH: one run per aio_poll round");
    ok(!aio_poll(ctx, false), "self-rescheduling BH: stops at max");
    aio_bh_delete(d.bh);
}

static void test_cancel(AioContext *ctx)
{
    BHData d = { 0 };
    d.bh = aio_bh_new(ctx, counting_cb, &d);
    aio_bh_schedule(d.bh);
    aio_bh_cancel(d.bh);
    ok(!aio_poll(ctx, false), "cancel: aio_poll makes no progress");
    is_int(d.n, 0, "cancel: callback did not run");
    aio_bh_schedule(d.bh);
    ok(aio_poll(ctx, false) && d.n == 1, "cancel: a later schedule runs");
    aio_bh_delete(d.bh);
}

static void test_delete(AioContext *ctx)
{
    BHData d = { 0 };
    d.bh = aio_bh_new(ctx, counting_cb, &d);
    aio_bh_schedule(d.bh);
    aio_bh_delete(d.bh);
    ok(!aio_poll(ctx, false), "delete: aio_poll makes no progress");
    is_int(d.n, 0, "delete: scheduled-then-deleted BH never runs");

    /* Never scheduled, deleted: freed by the loop or at finalize (ASan). */
    aio_bh_delete(aio_bh_new(ctx, counting_cb, &d));
}

static void test_delete_from_own_cb(AioContext *ctx)
{
    /* The callback reschedules itself and then deletes itself: the delete
     * must win, and the BH must not be touched after it is freed. */
    BHData d = { .max = 1, .delete_at_max = true };
    d.bh = aio_bh_new(ctx, counting_cb, &d);
    aio_bh_schedule(d.bh);
    ok(aio_poll(ctx, false), "delete from own cb: progress");
    ok(d.n == 1 && d.bh == NULL, "delete from own cb: ran once, deleted");
    ok(!aio_poll(ctx, false), "delete from own cb: never runs again");
}

static void test_delete_many_self(AioContext *ctx)
{
    /* QEMU's pattern: BHs rescheduling themselves a different number of
     * times and deleting themselves at the end, all in the same rounds. */
    BHData d[4] = {
        { .max = 1, .delete_at_max = true },
        { .max = 3, .delete_at_max = true },
        { .max = 2, .delete_at_max = true },
        { .max = 4, .delete_at_max = true },
    };
    for (int i = 0; i < 4; i++) {
        d[i].bh = aio_bh_new(ctx, counting_cb, &d[i]);
        aio_bh_schedule(d[i].bh);
    }
    int rounds = 0;
    while (aio_poll(ctx, false)) {
        rounds++;
        if (rounds > 100) {
            break;
        }
    }
    is_int(rounds, 4, "many self-deleting BHs: four rounds of progress");
    ok(d[0].n == 1 && d[1].n == 3 && d[2].n == 2 && d[3].n == 4,
       "many self-deleting BHs: each ran max times (%d %d %d %d)",
       d[0].n, d[1].n, d[2].n, d[3].n);
    ok(!d[0].bh && !d[1].bh && !d[2].bh && !d[3].bh,
       "many self-deleting BHs: all deleted");
}

/* Sixteen BHs, each deleting itself and the next live one when it runs. */
#define NCROSS 16
typedef struct CrossBH {
    AioBH *bh[NCROSS];
    bool deleted[NCROSS];
    int ran[NCROSS];
    bool ran_after_delete;
    int index_of[NCROSS];
} CrossBH;
static CrossBH cross;

static void cross_delete_cb(void *opaque)
{
    int self = *(int *)opaque;
    if (cross.deleted[self]) {
        cross.ran_after_delete = true;
    }
    cross.ran[self]++;
    cross.deleted[self] = true;
    aio_bh_delete(cross.bh[self]);
    for (int k = 1; k < NCROSS; k++) {
        int other = (self + k) % NCROSS;
        if (!cross.deleted[other]) {
            cross.deleted[other] = true;
            aio_bh_delete(cross.bh[other]);
            break;
        }
    }
}

static void test_delete_each_other(AioContext *ctx)
{
    for (int i = 0; i < NCROSS; i++) {
        cross.index_of[i] = i;
        cross.bh[i] = aio_bh_new(ctx, cross_delete_cb, &cross.index_of[i]);
    }
    for (int i = 0; i < NCROSS; i++) {
        aio_bh_schedule(cross.bh[i]);
    }
    while (aio_poll(ctx, false)) {
    }
    int ran = 0, all_deleted = 1, twice = 0;
    for (int i = 0; i < NCROSS; i++) {
        ran += cross.ran[i];
        all_deleted &= cross.deleted[i];
        twice += cross.ran[i] > 1;
    }
    ok(!cross.ran_after_delete,
       "BHs deleting each other: no callback after its BH was deleted");
    ok(ran == NCROSS / 2 && twice == 0,
       "BHs deleting each other: exactly half ran, once each (ran %d)", ran);
    ok(all_deleted, "BHs deleting each other: all deleted");
}

static void plain_count_cb(void *opaque)
{
    (*(int *)opaque)++;
}

static void test_oneshot(AioContext *ctx)
{
    int n = 0;
    aio_bh_schedule_oneshot(ctx, plain_count_cb, &n);
    aio_bh_schedule_oneshot(ctx, plain_count_cb, &n);
    aio_bh_schedule_oneshot_full(ctx, plain_count_cb, &n, "named-oneshot");
    ok(aio_poll(ctx, false), "oneshot: progress");
    is_int(n, 3, "oneshot: three distinct oneshots ran once each");
    ok(!aio_poll(ctx, false), "oneshot: gone after running");
}

static void test_flush(AioContext *ctx)
{
    BHData d = { .max = 5 };
    d.bh = aio_bh_new(ctx, counting_cb, &d);
    aio_bh_schedule(d.bh);
    int rounds = 0;
    while (aio_poll(ctx, false)) {
        rounds++;
    }
    ok(d.n == 5 && rounds == 5,
       "flush: polling until no progress ran the chain (n %d, rounds %d)",
       d.n, rounds);
    aio_bh_delete(d.bh);
}

typedef struct ChainBH {
    AioBH *first, *second;
    int first_n, second_n;
} ChainBH;

static void chain_first_cb(void *opaque)
{
    ChainBH *c = opaque;
    c->first_n++;
    aio_bh_schedule(c->second);
}

static void chain_second_cb(void *opaque)
{
    ((ChainBH *)opaque)->second_n++;
}

static void test_scheduled_by_bh_runs_next_slice(AioContext *ctx)
{
    ChainBH c = { 0 };
    c.first = aio_bh_new(ctx, chain_first_cb, &c);
    c.second = aio_bh_new(ctx, chain_second_cb, &c);
    aio_bh_schedule(c.first);
    int r1 = aio_bh_poll(ctx);
    ok(r1 == 1 && c.first_n == 1 && c.second_n == 0,
       "BH scheduled by a BH: not run in the same aio_bh_poll (r %d)", r1);
    int r2 = aio_bh_poll(ctx);
    ok(r2 == 1 && c.second_n == 1,
       "BH scheduled by a BH: runs in the next aio_bh_poll (r %d)", r2);
    is_int(aio_bh_poll(ctx), 0, "BH scheduled by a BH: then nothing");
    aio_bh_delete(c.first);
    aio_bh_delete(c.second);
    while (aio_poll(ctx, false)) {
    }
}

static void test_idle(AioContext *ctx)
{
    BHData d = { 0 };
    d.bh = aio_bh_new(ctx, counting_cb, &d);

    aio_bh_schedule_idle(d.bh);
    int64_t timeout = aio_compute_timeout(ctx);
    ok(timeout >= 0 && timeout <= 10 * AIO_SCALE_MS,
       "idle BH: aio_compute_timeout capped at 10 ms (%" PRId64 " ns)",
       timeout);
    ok(!aio_poll(ctx, false), "idle BH: non-blocking poll is no progress");
    is_int(d.n, 1, "idle BH: ran in the non-blocking poll");

    /* A blocking poll with only an idle BH must not sleep forever: the
     * timeout cap brings the loop back to run it (watchdog at 5 s). */
    aio_bh_schedule_idle(d.bh);
    TestWatchdog wd;
    test_watchdog_arm(ctx, &wd, 5000);
    bool progress = aio_poll(ctx, true);
    ok(d.n == 2 && !wd.fired, "idle BH: one blocking aio_poll runs it");
    ok(!progress, "idle BH: not counted as progress");
    test_watchdog_disarm(&wd);
    aio_bh_delete(d.bh);
}

/* Three BHs in one slice; the first to run polls the context (nested).
 * The nested poll must run the other two: slices chain across nesting. */
typedef struct NestData {
    AioContext *ctx;
    AioBH *bh[3];
    int ran[3];
    int idx[3];
    bool nested_done;
    bool others_ran_in_nested;
    bool nested_progress;
} NestData;
static NestData nest;

static void nest_cb(void *opaque)
{
    int self = *(int *)opaque;
    nest.ran[self]++;
    if (!nest.nested_done) {
        nest.nested_done = true;
        nest.nested_progress = aio_poll(nest.ctx, false);
        int others = 0;
        for (int i = 0; i < 3; i++) {
            others += (i != self) && nest.ran[i] == 1;
        }
        nest.others_ran_in_nested = others == 2;
    }
}

static void test_nested_poll(AioContext *ctx)
{
    nest.ctx = ctx;
    for (int i = 0; i < 3; i++) {
        nest.idx[i] = i;
        nest.bh[i] = aio_bh_new(ctx, nest_cb, &nest.idx[i]);
    }
    for (int i = 0; i < 3; i++) {
        aio_bh_schedule(nest.bh[i]);
    }
    ok(aio_poll(ctx, false), "nested poll: outer aio_poll made progress");
    ok(nest.nested_progress, "nested poll: inner aio_poll made progress");
    ok(nest.others_ran_in_nested,
       "nested poll: the inner poll ran the outer slice's other BHs");
    ok(nest.ran[0] == 1 && nest.ran[1] == 1 && nest.ran[2] == 1,
       "nested poll: each BH ran exactly once");
    ok(!aio_poll(ctx, false), "nested poll: nothing left");
    for (int i = 0; i < 3; i++) {
        aio_bh_delete(nest.bh[i]);
    }
}

/* A BH that schedules another and then waits for it with a blocking
 * nested aio_poll. */
typedef struct NestBlock {
    AioContext *ctx;
    AioBH *inner;
    int inner_n;
    bool inner_ran_in_nested;
} NestBlock;

static void nest_block_inner_cb(void *opaque)
{
    ((NestBlock *)opaque)->inner_n++;
}

static void nest_block_outer_cb(void *opaque)
{
    NestBlock *nb = opaque;
    aio_bh_schedule(nb->inner);
    nb->inner_ran_in_nested = POLL_UNTIL(nb->ctx, nb->inner_n == 1, 5000);
}

static void test_nested_blocking_poll(AioContext *ctx)
{
    NestBlock nb = { .ctx = ctx };
    nb.inner = aio_bh_new(ctx, nest_block_inner_cb, &nb);
    aio_bh_schedule_oneshot(ctx, nest_block_outer_cb, &nb);
    aio_poll(ctx, false);
    ok(nb.inner_ran_in_nested,
       "nested blocking poll: a BH scheduled inside a BH runs in it");
    is_int(nb.inner_n, 1, "nested blocking poll: inner ran once");
    aio_bh_delete(nb.inner);
    while (aio_poll(ctx, false)) {
    }
}

int main(void)
{
    AioContext *ctx = test_context_new();
    test_schedule_once(ctx);
    test_schedule_ten_times(ctx);
    test_one_run_per_round(ctx);
    test_cancel(ctx);
    test_delete(ctx);
    test_delete_from_own_cb(ctx);
    test_delete_many_self(ctx);
    test_delete_each_other(ctx);
    test_oneshot(ctx);
    test_flush(ctx);
    test_scheduled_by_bh_runs_next_slice(ctx);
    test_idle(ctx);
    test_nested_poll(ctx);
    test_nested_blocking_poll(ctx);
    aio_context_unref(ctx);
    return done_testing();
}
