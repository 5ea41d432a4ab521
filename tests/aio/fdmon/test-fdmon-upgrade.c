/*
 * test-fdmon-upgrade: a poll context switches itself to epoll once it has
 * more than FDMON_POLL_UPGRADE_THRESHOLD handlers, unless poll was forced.
 *
 * An AUTO context only lands on poll when io_uring and epoll both failed to
 * initialise, which cannot be provoked here; so the test builds a forced
 * poll context and clears its "forced" mark (white box, aio-internal.h) to
 * get exactly that state.  Handlers registered before, during (from inside
 * a callback) and after the switch must all keep working, under aio_poll()
 * and under a GMainContext.
 */
#include "aio-test.h"
#include "core/aio-internal.h"

#include <sys/eventfd.h>
#include <unistd.h>

enum { NFDS = FDMON_POLL_UPGRADE_THRESHOLD + 40 };

typedef struct Slot {
    int fd;
    unsigned calls;
} Slot;

static Slot slots[NFDS];
static AioContext *cur_ctx;
static int register_from_cb_upto;   /* slot 0's callback registers up to it */

static void slot_read(void *opaque);

static void slot_add(AioContext *ctx, int i)
{
    aio_set_fd_handler(ctx, slots[i].fd, slot_read, NULL, NULL, NULL,
                       &slots[i]);
}

static void slot_read(void *opaque)
{
    Slot *s = opaque;
    uint64_t v;

    s->calls++;
    if (read(s->fd, &v, sizeof(v)) < 0) {
        /* drained */
    }
    if (s == &slots[0] && register_from_cb_upto) {
        for (int i = 1; i < register_from_cb_upto; i++) {
            slot_add(cur_ctx, i);
        }
        register_from_cb_upto = 0;
    }
}

static void signal_all(int n)
{
    uint64_t one = 1;

    for (int i = 0; i < n; i++) {
        slots[i].calls = 0;
        g_assert(write(slots[i].fd, &one, sizeof(one)) == sizeof(one));
    }
}

static bool all_called(int n)
{
    for (int i = 0; i < n; i++) {
        if (!slots[i].calls) {
            return false;
        }
    }
    return true;
}

static void remove_all(AioContext *ctx, int n)
{
    for (int i = 0; i < n; i++) {
        aio_set_fd_handler(ctx, slots[i].fd, NULL, NULL, NULL, NULL, NULL);
    }
}

static AioContext *poll_context(bool forced)
{
    AioContext *ctx = aio_context_new_full(AIO_FDMON_POLL, NULL);

    g_assert(ctx);
    if (!forced) {
        ctx->fdmon_forced = AIO_FDMON_AUTO;
    }
    cur_ctx = ctx;
    return ctx;
}

/* A context forced to poll never upgrades, and dispatches all its
 * handlers. */
static void test_forced_poll_never_upgrades(void)
{
    AioContext *ctx = poll_context(true);

    for (int i = 0; i < NFDS; i++) {
        slot_add(ctx, i);
    }
    ok(!strcmp(aio_context_fdmon_name(ctx), "poll"),
       "forced poll context keeps poll with %d handlers (%s)", NFDS,
       aio_context_fdmon_name(ctx));
    signal_all(NFDS);
    ok(POLL_UNTIL(ctx, all_called(NFDS), 2000), "all %d dispatched", NFDS);
    remove_all(ctx, NFDS);
    aio_context_unref(ctx);
}

/* An unforced poll context upgrades to epoll past the threshold; handlers
 * from before and after the switch run, removed ones stay silent. */
static void test_unforced_poll_upgrades_past_threshold(void)
{
    AioContext *ctx = poll_context(false);
    int n;

    n = FDMON_POLL_UPGRADE_THRESHOLD - 2;   /* + the context's notifier */
    for (int i = 0; i < n; i++) {
        slot_add(ctx, i);
    }
    ok(!strcmp(aio_context_fdmon_name(ctx), "poll"),
       "still poll with %d handlers", n + 1);
    signal_all(n);
    ok(POLL_UNTIL(ctx, all_called(n), 2000), "all dispatched on poll");
    for (int i = n; i < NFDS; i++) {
        slot_add(ctx, i);
    }
    ok(!strcmp(aio_context_fdmon_name(ctx), "epoll"),
       "upgraded to epoll with %d handlers (%s)", NFDS + 1,
       aio_context_fdmon_name(ctx));
    signal_all(NFDS);
    ok(POLL_UNTIL(ctx, all_called(NFDS), 2000),
       "handlers from before and after the switch all dispatched");
    remove_all(ctx, NFDS / 2);
    signal_all(NFDS);
    for (int i = 0; i < 4; i++) {
        aio_poll(ctx, false);
    }
    n = 0;
    for (int i = 0; i < NFDS / 2; i++) {
        n += slots[i].calls;
    }
    bool rest = true;
    for (int i = NFDS / 2; i < NFDS; i++) {
        rest &= slots[i].calls > 0;
    }
    ok(n == 0 && rest, "after the switch, removed handlers are silent and "
       "the others run");
    remove_all(ctx, NFDS);
    aio_context_unref(ctx);
}

/* The upgrade triggered by registrations from inside a callback, under a
 * GMainContext: the GLib loop dispatches every handler after it. */
static void test_upgrade_from_callback_under_glib(void)
{
    AioContext *ctx = poll_context(false);
    GMainContext *gctx = g_main_context_new();
    GSource *src = aio_get_g_source(ctx);

    g_source_attach(src, gctx);
    slot_add(ctx, 0);
    register_from_cb_upto = NFDS;
    signal_all(1);
    for (int i = 0; i < 50 && register_from_cb_upto; i++) {
        g_main_context_iteration(gctx, TRUE);
    }
    ok(!strcmp(aio_context_fdmon_name(ctx), "epoll"),
       "registering from a callback under GLib switched to epoll (%s)",
       aio_context_fdmon_name(ctx));
    signal_all(NFDS);
    for (int i = 0; i < 100 && !all_called(NFDS); i++) {
        g_main_context_iteration(gctx, TRUE);
    }
    ok(all_called(NFDS), "all %d handlers dispatched by the GLib loop "
       "after the switch", NFDS);
    remove_all(ctx, NFDS);
    g_source_destroy(src);
    g_source_unref(src);
    g_main_context_unref(gctx);
    aio_context_unref(ctx);
}

int main(void)
{
    for (int i = 0; i < NFDS; i++) {
        slots[i].fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        g_assert(slots[i].fd >= 0);
    }
    test_forced_poll_never_upgrades();
    test_unforced_poll_upgrades_past_threshold();
    test_upgrade_from_callback_under_glib();
    for (int i = 0; i < NFDS; i++) {
        close(slots[i].fd);
    }
    return done_testing();
}
