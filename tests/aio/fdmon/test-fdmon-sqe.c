/*
 * test-fdmon-sqe: aio_add_sqe() / CqeHandler on an io_uring context.
 *
 * A NOP, a read from a pipe that already has data, a read that completes
 * only when data is written later (from a timer, i.e. from the loop), more
 * requests at once than the sq and cq rings hold (the "sq full: submit
 * first" and cq overflow paths), the GLib main-loop path, and the refusal
 * on a context that is not io_uring.  Skipped when the kernel has no
 * io_uring.
 */
#include "aio-test.h"

#include <errno.h>
#include <unistd.h>

typedef struct Req {
    CqeHandler h;               /* first, so the cb can cast back */
    unsigned calls;
    int32_t res;
    void *buf;
    size_t len;
    int fd;
} Req;

static void req_cb(CqeHandler *h)
{
    Req *r = (Req *)h;

    r->calls++;
    r->res = h->cqe_res;
}

static void prep_nop(struct io_uring_sqe *sqe, void *opaque)
{
    io_uring_prep_nop(sqe);
}

static void prep_read(struct io_uring_sqe *sqe, void *opaque)
{
    Req *r = opaque;

    io_uring_prep_read(sqe, r->fd, r->buf, r->len, 0);
}

static void req_init(Req *r)
{
    memset(r, 0, sizeof(*r));
    r->h.cb = req_cb;
    r->res = INT32_MIN;
}

static int pipe_write_fd;

static void write_later_cb(void *opaque)
{
    g_assert(write(pipe_write_fd, "later", 5) == 5);
}

static void test_gsource_nop(AioContext *ctx)
{
    GMainContext *gctx = g_main_context_new();
    GSource *src = aio_get_g_source(ctx);
    Req r;
    int iter = 0;

    g_source_attach(src, gctx);
    req_init(&r);
    aio_add_sqe(ctx, prep_nop, &r, &r.h);
    while (!r.calls && iter++ < 100) {
        g_main_context_iteration(gctx, TRUE);
    }
    ok(r.calls == 1 && r.res == 0,
       "NOP completes through the GLib main loop (calls %u, res %d)", r.calls,
       r.res);
    g_source_destroy(src);
    g_source_unref(src);
    g_main_context_unref(gctx);
}

static void test_not_io_uring(void)
{
    AioContext *ctx = aio_context_new_full(AIO_FDMON_EPOLL, NULL);
    Req r;

    ok(ctx && !aio_has_io_uring(ctx), "an epoll context has no io_uring");
    req_init(&r);
    aio_add_sqe(ctx, prep_nop, &r, &r.h);
    bool done = POLL_UNTIL(ctx, r.calls > 0, 2000);
    ok(done && r.calls == 1 && r.res == -EOPNOTSUPP,
       "aio_add_sqe there fails the request with -EOPNOTSUPP (res %d)", r.res);
    aio_context_unref(ctx);
}

/* A NOP: its callback runs from the loop, not from inside aio_add_sqe,
 * once, with res 0. */
static void test_nop_completes_from_the_loop(AioContext *ctx)
{
    Req r;

    req_init(&r);
    aio_add_sqe(ctx, prep_nop, &r, &r.h);
    is_int(r.calls, 0, "callback not run from inside aio_add_sqe");
    ok(POLL_UNTIL(ctx, r.calls > 0, 2000), "NOP completed");
    ok(r.calls == 1 && r.res == 0, "NOP: one call, res 0 (res %d)", r.res);
}

static void req_read(Req *r, int fd, char *buf, size_t len)
{
    req_init(r);
    memset(buf, 0, len);
    r->fd = fd;
    r->buf = buf;
    r->len = len;
}

/* A read with data present returns it. */
static void test_read_returns_data_present(AioContext *ctx, int p[2])
{
    Req r;
    char buf[16];

    g_assert(write(p[1], "hello", 5) == 5);
    req_read(&r, p[0], buf, sizeof(buf));
    aio_add_sqe(ctx, prep_read, &r, &r.h);
    ok(POLL_UNTIL(ctx, r.calls > 0, 2000), "pipe read completed");
    ok(r.res == 5 && memcmp(buf, "hello", 5) == 0,
       "pipe read returned the 5 bytes written (res %d)", r.res);
}

/* A read of an empty pipe stays pending until a timer in the loop writes
 * data, then completes with it. */
static void test_read_waits_for_data(AioContext *ctx, int p[2])
{
    Req r;
    char buf[16];
    bool done;

    pipe_write_fd = p[1];
    req_read(&r, p[0], buf, sizeof(buf));
    aio_add_sqe(ctx, prep_read, &r, &r.h);
    AioTimer *t = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_MS,
                                write_later_cb, NULL);
    aio_timer_mod(t, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) / AIO_SCALE_MS + 5);
    aio_poll(ctx, false);
    is_int(r.calls, 0, "read of an empty pipe is pending");
    done = POLL_UNTIL(ctx, r.calls > 0, 2000);
    ok(done && r.res == 5 && memcmp(buf, "later", 5) == 0,
       "it completes once a timer wrote data (res %d)", r.res);
    aio_timer_free(t);
}

static bool all_completed(const Req *reqs, int n)
{
    for (int i = 0; i < n; i++) {
        if (reqs[i].calls == 0) {
            return false;
        }
    }
    return true;
}

/* More requests than the rings hold: each completes exactly once. */
static void test_more_requests_than_the_ring_all_complete(AioContext *ctx)
{
    enum { MANY = 600 };
    Req *many = g_new(Req, MANY);
    bool all = true;

    for (int i = 0; i < MANY; i++) {
        req_init(&many[i]);
        aio_add_sqe(ctx, prep_nop, &many[i], &many[i].h);
    }
    ok(POLL_UNTIL(ctx, all_completed(many, MANY), 5000),
       "%d NOPs queued at once all completed", MANY);
    aio_poll(ctx, false);
    for (int i = 0; i < MANY; i++) {
        all &= many[i].calls == 1 && many[i].res == 0;
    }
    ok(all, "each exactly once with res 0");
    g_free(many);
}

/* A request pending when its context is destroyed is dropped without a
 * callback (and freed: LSan). */
static void test_pending_at_destruction_gets_no_callback(void)
{
    AioContext *ctx = aio_context_new_full(AIO_FDMON_IO_URING, NULL);
    Req r;
    char buf[16];
    int p[2];

    g_assert(ctx && pipe(p) == 0);
    req_read(&r, p[0], buf, sizeof(buf));
    aio_add_sqe(ctx, prep_read, &r, &r.h);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
    is_int(r.calls, 0, "request pending at destruction: no callback");
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    AioContext *ctx;
    int p[2];

    if (!test_kernel_has_io_uring()) {
        printf("1..0 # SKIP io_uring_queue_init fails on this kernel\n");
        return 0;
    }
    ctx = aio_context_new_full(AIO_FDMON_IO_URING, NULL);
    ok(ctx && aio_has_io_uring(ctx), "io_uring context has io_uring");
    g_assert(pipe(p) == 0);
    test_nop_completes_from_the_loop(ctx);
    test_read_returns_data_present(ctx, p);
    test_read_waits_for_data(ctx, p);
    test_more_requests_than_the_ring_all_complete(ctx);
    test_gsource_nop(ctx);
    aio_context_unref(ctx);
    test_pending_at_destruction_gets_no_callback();
    test_not_io_uring();
    close(p[0]);
    close(p[1]);
    return done_testing();
}
