/*
 * test-fdmon-inflight: removing a handler whose fd is already ready.
 *
 * On io_uring the removed node's POLL_ADD is still in flight (often already
 * completed in the cq ring) when aio_set_fd_handler(..., NULL) returns, so
 * the backend keeps the node until that completion is reaped and then hands
 * it back for freeing.  The handler must never be called after its removal,
 * and the node must be freed (run under ASan/LSan to see a leak or a use
 * after free).  The same scenarios run on every backend.
 */
#include "aio-test.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct Probe {
    int fd;
    unsigned calls;
    bool removed;               /* set when the test removed the handler */
    unsigned after_removal;     /* calls while removed: must stay 0 */
    bool consume;               /* read the eventfd (else it stays ready) */
    AioContext *ctx;
    bool remove_self;
    struct Probe *victim;
} Probe;

static void probe_read(void *opaque)
{
    Probe *p = opaque;
    uint64_t v;

    p->calls++;
    if (p->removed) {
        p->after_removal++;
    }
    if (p->consume && read(p->fd, &v, sizeof(v)) < 0) {
        /* already drained */
    }
    if (p->remove_self) {
        aio_set_fd_handler(p->ctx, p->fd, NULL, NULL, NULL, NULL, NULL);
        p->removed = true;
    }
    if (p->victim && !p->victim->removed) {
        aio_set_fd_handler(p->ctx, p->victim->fd, NULL, NULL, NULL, NULL,
                           NULL);
        p->victim->removed = true;
    }
}

/* Regular-file probe: removes itself on its third call. */
static void file_read(void *opaque)
{
    Probe *p = opaque;

    if (++p->calls == 3) {
        aio_set_fd_handler(p->ctx, p->fd, NULL, NULL, NULL, NULL, NULL);
    }
}

static void probe_init(Probe *p, AioContext *ctx)
{
    *p = (Probe){ .fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), .ctx = ctx,
                  .consume = true };
    g_assert(p->fd >= 0);
}

static void probe_add(Probe *p)
{
    p->removed = false;
    aio_set_fd_handler(p->ctx, p->fd, probe_read, NULL, NULL, NULL, p);
}

static void probe_remove(Probe *p)
{
    aio_set_fd_handler(p->ctx, p->fd, NULL, NULL, NULL, NULL, NULL);
    p->removed = true;
}

static void probe_signal(Probe *p)
{
    uint64_t one = 1;
    g_assert(write(p->fd, &one, sizeof(one)) == sizeof(one));
}

static void spin(AioContext *ctx, int n)
{
    for (int i = 0; i < n; i++) {
        aio_poll(ctx, false);
    }
}

/* Let the kernel see the fd ready and complete the in-flight poll. */
static void settle(void)
{
    g_usleep(2000);
}

static void probe_close(Probe *p)
{
    close(p->fd);
}

/* Armed, signalled (the poll completes in the kernel), removed before the
 * loop reaps it: never called. */
static void test_ready_handler_removed_before_dispatch(AioContext *ctx)
{
    Probe a;

    probe_init(&a, ctx);
    probe_add(&a);
    spin(ctx, 2);
    probe_signal(&a);
    settle();
    probe_remove(&a);
    spin(ctx, 4);
    is_int(a.calls, 0, "ready handler removed before dispatch is not called");
    probe_close(&a);
}

/* The same fd re-registered with a new opaque right after the removal:
 * only the new handler runs. */
static void test_reregistered_fd_runs_only_new_handler(AioContext *ctx)
{
    Probe a, b;

    probe_init(&a, ctx);
    probe_init(&b, ctx);
    probe_add(&a);
    probe_signal(&a);
    probe_remove(&a);
    probe_add(&b);              /* another fd, to keep the loop busy */
    Probe a2 = a;               /* same fd, different handler identity */
    a2.calls = 0;
    a2.removed = false;
    aio_set_fd_handler(ctx, a.fd, probe_read, NULL, NULL, NULL, &a2);
    ok(POLL_UNTIL(ctx, a2.calls > 0, 2000), "re-registered fd dispatched");
    is_int(a.calls, 0, "old handler of the re-registered fd never called");
    aio_set_fd_handler(ctx, a.fd, NULL, NULL, NULL, NULL, NULL);
    probe_remove(&b);
    probe_close(&a);
    probe_close(&b);
}

/* A handler removes itself while its fd stays ready (not read): exactly
 * one call. */
static void test_self_removal_with_fd_still_ready_runs_once(AioContext *ctx)
{
    Probe a;

    probe_init(&a, ctx);
    a.consume = false;
    a.remove_self = true;
    probe_add(&a);
    probe_signal(&a);
    ok(POLL_UNTIL(ctx, a.calls > 0, 2000), "self-removing handler ran");
    spin(ctx, 4);
    settle();
    spin(ctx, 4);
    is_int(a.calls, 1, "and ran exactly once although its fd stays ready");
    probe_close(&a);
}

/* b and c ready in the same batch, whichever runs first removes the other:
 * exactly one of them runs. */
static void test_handler_removed_by_batch_peer_never_runs(AioContext *ctx)
{
    Probe b, c;

    probe_init(&b, ctx);
    probe_init(&c, ctx);
    probe_add(&b);
    probe_add(&c);
    b.victim = &c;
    c.victim = &b;
    spin(ctx, 2);
    probe_signal(&b);
    probe_signal(&c);
    settle();
    ok(POLL_UNTIL(ctx, b.calls + c.calls > 0, 2000), "one of b/c ran");
    spin(ctx, 4);
    is_int(b.calls + c.calls, 1,
           "the other, removed by it in the same batch, never ran");
    is_int(b.after_removal + c.after_removal, 0, "no call after removal");
    b.victim = c.victim = NULL;
    if (!b.removed) {
        probe_remove(&b);
    }
    if (!c.removed) {
        probe_remove(&c);
    }
    probe_close(&b);
    probe_close(&c);
}

/* Many add/remove cycles of one ready fd between polls: no stale call, and
 * the removed nodes are freed (ASan). */
static void test_add_remove_cycles_leave_no_stale_call(AioContext *ctx)
{
    Probe a;

    probe_init(&a, ctx);
    a.consume = false;
    probe_signal(&a);
    for (int i = 0; i < 200; i++) {
        probe_add(&a);
        if (i % 3 == 0) {
            spin(ctx, 1);
        }
        probe_remove(&a);
    }
    spin(ctx, 4);
    is_int(a.after_removal, 0, "200 add/remove cycles: no call after removal");
    probe_close(&a);
}

/* A regular file is always ready (poll(2) semantics, which epoll does not
 * have natively); a handler removing itself on its 3rd call runs exactly 3
 * times. */
static void test_regular_file_is_always_ready(AioContext *ctx)
{
    char path[] = "/tmp/test-fdmon-XXXXXX";
    Probe f;

    probe_init(&f, ctx);
    close(f.fd);
    f.fd = mkstemp(path);
    g_assert(f.fd >= 0);
    unlink(path);
    f.consume = false;
    aio_set_fd_handler(ctx, f.fd, file_read, NULL, NULL, NULL, &f);
    ok(POLL_UNTIL(ctx, f.calls >= 3, 2000),
       "regular file handler dispatched as always ready");
    spin(ctx, 4);
    is_int(f.calls, 3, "and never after it removed itself");
    close(f.fd);
}

/* Changing the events of a registered fd (read -> write -> read) replaces
 * the node; only the current handler runs. */
static void test_event_change_runs_only_current_handler(AioContext *ctx)
{
    int sv[2];
    Probe rd, wr;

    g_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    rd = (Probe){ .fd = sv[0], .ctx = ctx };
    wr = (Probe){ .fd = sv[0], .ctx = ctx };
    aio_set_fd_handler(ctx, sv[0], probe_read, NULL, NULL, NULL, &rd);
    spin(ctx, 2);
    g_assert(write(sv[1], "x", 1) == 1);
    settle();
    aio_set_fd_handler(ctx, sv[0], NULL, probe_read, NULL, NULL, &wr);
    rd.removed = true;
    ok(POLL_UNTIL(ctx, wr.calls > 0, 2000),
       "write handler runs after read -> write change");
    is_int(rd.calls, 0, "the replaced read handler never ran although "
           "data was pending");
    aio_set_fd_handler(ctx, sv[0], probe_read, NULL, NULL, NULL, &rd);
    rd.removed = false;
    wr.removed = true;
    wr.after_removal = 0;
    ok(POLL_UNTIL(ctx, rd.calls > 0, 2000),
       "read handler runs again after write -> read change");
    spin(ctx, 4);
    is_int(wr.after_removal, 0, "the replaced write handler is silent");
    aio_set_fd_handler(ctx, sv[0], NULL, NULL, NULL, NULL, NULL);
    close(sv[0]);
    close(sv[1]);
}

/* Destroyed with a removed handler still in flight and a live one: the
 * backend gives both back (LSan would report the leak). */
static void test_destroy_with_removal_in_flight_frees_all(void)
{
    AioContext *ctx = test_context_new();
    Probe a, b;

    probe_init(&a, ctx);
    probe_init(&b, ctx);
    probe_add(&a);
    probe_add(&b);
    spin(ctx, 2);
    probe_signal(&a);
    settle();
    probe_remove(&a);
    aio_context_unref(ctx);
    is_int(a.after_removal, 0, "no call after removal during destruction");
    probe_close(&a);
    probe_close(&b);
}

int main(void)
{
    AioContext *ctx = test_context_new();

    test_ready_handler_removed_before_dispatch(ctx);
    test_reregistered_fd_runs_only_new_handler(ctx);
    test_self_removal_with_fd_still_ready_runs_once(ctx);
    test_handler_removed_by_batch_peer_never_runs(ctx);
    test_add_remove_cycles_leave_no_stale_call(ctx);
    test_regular_file_is_always_ready(ctx);
    test_event_change_runs_only_current_handler(ctx);
    aio_context_unref(ctx);
    test_destroy_with_removal_in_flight_frees_all();
    return done_testing();
}
