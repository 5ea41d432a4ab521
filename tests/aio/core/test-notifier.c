/*
 * test-notifier: EventNotifier and event-notifier handlers on an AioContext.
 *
 * The notifier itself (init active/inactive, set, test_and_clear), then a
 * registered notifier: add/remove, wait (non-blocking and blocking polls),
 * flush (a handler that re-arms itself until done), and waiting while
 * another, unrelated notifier is registered ("wait without a flush
 * callback": only the signalled handler runs, the poll does not block).
 */
#include "aio-test.h"

typedef struct NotifierData {
    EventNotifier e;
    int n;
    int active;     /* re-arm while > 0 (flush test) */
    bool auto_set;
} NotifierData;

static void notifier_ready_cb(EventNotifier *e)
{
    NotifierData *d = (NotifierData *)e;   /* e is the first member */
    g_assert(event_notifier_test_and_clear(e));
    d->n++;
    if (d->active > 0) {
        d->active--;
    }
    if (d->auto_set && d->active > 0) {
        event_notifier_set(e);
    }
}

static void test_notifier_basics(void)
{
    EventNotifier e;
    is_int(event_notifier_init(&e, false), 0, "notifier: init inactive");
    ok(event_notifier_get_fd(&e) >= 0, "notifier: has an fd");
    ok(!event_notifier_test_and_clear(&e), "notifier: starts clear");
    is_int(event_notifier_set(&e), 0, "notifier: set");
    is_int(event_notifier_set(&e), 0, "notifier: set twice");
    ok(event_notifier_test_and_clear(&e), "notifier: test_and_clear sees set");
    ok(!event_notifier_test_and_clear(&e), "notifier: two sets clear at once");
    event_notifier_cleanup(&e);

    is_int(event_notifier_init(&e, true), 0, "notifier: init active");
    ok(event_notifier_test_and_clear(&e), "notifier: active init is set");
    event_notifier_cleanup(&e);
}

static void test_add_remove(AioContext *ctx)
{
    NotifierData d = { 0 };
    event_notifier_init(&d.e, false);
    aio_set_event_notifier(ctx, &d.e, notifier_ready_cb, NULL, NULL);
    ok(!aio_poll(ctx, false), "add: unsignalled notifier is no progress");
    is_int(d.n, 0, "add: handler not called");

    aio_set_event_notifier(ctx, &d.e, NULL, NULL, NULL);
    event_notifier_set(&d.e);
    ok(!aio_poll(ctx, false), "remove: signalled but removed: no progress");
    is_int(d.n, 0, "remove: handler not called after removal");
    event_notifier_cleanup(&d.e);
}

static void test_wait(AioContext *ctx)
{
    NotifierData d = { 0 };
    event_notifier_init(&d.e, true);
    aio_set_event_notifier(ctx, &d.e, notifier_ready_cb, NULL, NULL);
    ok(aio_poll(ctx, false), "wait: active notifier dispatched");
    is_int(d.n, 1, "wait: handler ran once");
    ok(!aio_poll(ctx, false), "wait: cleared, no more progress");

    event_notifier_set(&d.e);
    ok(aio_poll(ctx, false), "wait: set again, dispatched");
    is_int(d.n, 2, "wait: handler ran again");

    event_notifier_set(&d.e);
    TestWatchdog wd;
    test_watchdog_arm(ctx, &wd, 5000);
    ok(aio_poll(ctx, true) && d.n == 3 && !wd.fired,
       "wait: blocking poll returns for the signalled notifier");
    test_watchdog_disarm(&wd);

    aio_set_event_notifier(ctx, &d.e, NULL, NULL, NULL);
    ok(!aio_poll(ctx, false), "wait: removed, no progress");
    event_notifier_cleanup(&d.e);
}

static void test_flush(AioContext *ctx)
{
    NotifierData d = { .active = 10, .auto_set = true };
    event_notifier_init(&d.e, false);
    aio_set_event_notifier(ctx, &d.e, notifier_ready_cb, NULL, NULL);
    event_notifier_set(&d.e);
    bool done = POLL_UNTIL(ctx, d.active == 0, 5000);
    ok(done, "flush: re-arming handler drained by blocking polls");
    is_int(d.n, 10, "flush: handler ran ten times");
    ok(!aio_poll(ctx, false), "flush: nothing left");

    /* Same with the non-blocking "poll until no progress" idiom. */
    d.active = 10;
    d.n = 0;
    event_notifier_set(&d.e);
    int rounds = 0;
    while (aio_poll(ctx, false) && rounds < 100) {
        rounds++;
    }
    ok(d.n == 10 && rounds == 10,
       "flush: poll-until-no-progress ran it ten times (n %d, rounds %d)",
       d.n, rounds);
    aio_set_event_notifier(ctx, &d.e, NULL, NULL, NULL);
    event_notifier_cleanup(&d.e);
}

static void test_wait_noflush(AioContext *ctx)
{
    NotifierData data = { 0 };
    NotifierData dummy = { .active = 1 };
    event_notifier_init(&data.e, false);
    aio_set_event_notifier(ctx, &data.e, notifier_ready_cb, NULL, NULL);
    ok(!aio_poll(ctx, false), "noflush: nothing signalled");

    /* A set notifier makes even a blocking poll return at once. */
    event_notifier_set(&data.e);
    TestWatchdog wd;
    test_watchdog_arm(ctx, &wd, 5000);
    ok(aio_poll(ctx, true) && !wd.fired && data.n == 1,
       "noflush: blocking poll does not block on a set notifier");
    test_watchdog_disarm(&wd);

    /* Another registered, unsignalled notifier does not get called. */
    event_notifier_init(&dummy.e, false);
    aio_set_event_notifier(ctx, &dummy.e, notifier_ready_cb, NULL, NULL);
    event_notifier_set(&data.e);
    ok(aio_poll(ctx, false), "noflush: signalled one dispatched");
    ok(data.n == 2 && dummy.n == 0, "noflush: only the signalled handler ran");
    ok(!aio_poll(ctx, false), "noflush: then no progress");

    event_notifier_set(&dummy.e);
    bool done = POLL_UNTIL(ctx, dummy.active == 0, 5000);
    ok(done && dummy.n == 1 && data.n == 2,
       "noflush: the other one dispatched alone");

    aio_set_event_notifier(ctx, &dummy.e, NULL, NULL, NULL);
    aio_set_event_notifier(ctx, &data.e, NULL, NULL, NULL);
    ok(!aio_poll(ctx, false), "noflush: both removed, no progress");
    event_notifier_cleanup(&dummy.e);
    event_notifier_cleanup(&data.e);
}

/* A notifier handler that removes itself: never called again even though
 * the notifier stays signalled. */
static AioContext *self_remove_ctx;
static void self_remove_cb(EventNotifier *e)
{
    NotifierData *d = (NotifierData *)e;
    d->n++;
    aio_set_event_notifier(self_remove_ctx, e, NULL, NULL, NULL);
}

static void test_remove_from_own_cb(AioContext *ctx)
{
    NotifierData d = { 0 };
    self_remove_ctx = ctx;
    event_notifier_init(&d.e, true);
    aio_set_event_notifier(ctx, &d.e, self_remove_cb, NULL, NULL);
    ok(aio_poll(ctx, false), "self-remove: dispatched");
    ok(!aio_poll(ctx, false), "self-remove: still signalled, no progress");
    is_int(d.n, 1, "self-remove: handler ran once");
    event_notifier_cleanup(&d.e);
}

int main(void)
{
    AioContext *ctx = test_context_new();
    test_notifier_basics();
    test_add_remove(ctx);
    test_wait(ctx);
    test_flush(ctx);
    test_wait_noflush(ctx);
    test_remove_from_own_cb(ctx);
    aio_context_unref(ctx);
    return done_testing();
}
