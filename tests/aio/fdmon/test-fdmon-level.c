/*
 * test-fdmon-level: fd handlers are level-triggered on every backend.
 *
 * An fd whose handler did not consume its readiness must be reported again
 * by the next aio_poll(), as poll(2) and epoll (level mode) do by nature.
 * io_uring's multishot poll only posts a cqe when the file wakes up, so the
 * backend must re-check the fds it reported; this program pins that down
 * for the aio_poll() path (non-blocking and blocking, with and without the
 * handler in the busy-poll set) and for the GSource path, and checks that
 * the multishot poll stays armed afterwards (a later write is reported).
 *
 * Run once per backend (AIO_FDMON), and on io_uring once more with
 * AIO_IO_URING_TEST_REFUSE_MULTISHOT=1, which makes the kernel reject the
 * multishot polls so the one-shot fallback is what gets tested.
 */
#include "aio-test.h"
#include "core/aio-internal.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct Probe {
    int fd;
    unsigned calls;
    bool drain;                 /* read the eventfd when called */
    bool poll_ready;            /* what io_poll returns */
} Probe;

static void probe_read(void *opaque)
{
    Probe *p = opaque;
    uint64_t v;

    p->calls++;
    if (p->drain && read(p->fd, &v, sizeof(v)) < 0) {
        /* already drained */
    }
}

static bool probe_poll(void *opaque)
{
    return ((Probe *)opaque)->poll_ready;
}

static void probe_write(void *opaque)
{
    ((Probe *)opaque)->calls++;
}

static void signal_efd(int fd)
{
    uint64_t one = 1;
    g_assert(write(fd, &one, sizeof(one)) == sizeof(one));
}

static Probe probe_new(void)
{
    Probe p = { .fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };

    g_assert(p.fd >= 0);
    return p;
}

/* Several non-blocking iterations: enough for any backend to look. */
static void spin(AioContext *ctx, int n)
{
    for (int i = 0; i < n; i++) {
        aio_poll(ctx, false);
    }
}

/* Handler without io_poll, driven by aio_poll(ctx, false). */
static void test_nonblocking(AioContext *ctx)
{
    Probe p = probe_new();
    unsigned before;

    aio_set_fd_handler(ctx, p.fd, probe_read, NULL, NULL, NULL, &p);
    spin(ctx, 3);
    is_int(p.calls, 0, "nonblocking: not called before a write");

    signal_efd(p.fd);
    ok(POLL_UNTIL(ctx, p.calls >= 1, 10000), "nonblocking: called on write");
    before = p.calls;
    aio_poll(ctx, false);
    ok(p.calls == before + 1,
       "nonblocking: undrained eventfd reported by the next aio_poll "
       "(%u -> %u)", before, p.calls);
    aio_poll(ctx, false);
    ok(p.calls == before + 2, "nonblocking: and the one after (%u)", p.calls);

    p.drain = true;
    aio_poll(ctx, false);       /* drains */
    before = p.calls;
    spin(ctx, 3);
    is_int(p.calls, before, "nonblocking: silent once drained");

    signal_efd(p.fd);
    ok(POLL_UNTIL(ctx, p.calls > before, 10000),
       "nonblocking: a later write is reported (poll still armed)");
    before = p.calls;
    spin(ctx, 3);
    is_int(p.calls, before, "nonblocking: once per write when drained");

    aio_set_fd_handler(ctx, p.fd, NULL, NULL, NULL, NULL, NULL);
    close(p.fd);
}

/* Blocking aio_poll: a still-ready fd must not let the loop sleep. */
static void test_blocking(AioContext *ctx, bool with_io_poll)
{
    const char *what = with_io_poll ? "blocking+io_poll" : "blocking";
    Probe p = probe_new();
    unsigned before;

    aio_set_fd_handler(ctx, p.fd, probe_read, NULL,
                       with_io_poll ? probe_poll : NULL, NULL, &p);
    signal_efd(p.fd);
    ok(POLL_UNTIL(ctx, p.calls >= 1, 10000), "%s: called on write", what);
    /* Three more calls without any new write: each blocking aio_poll must
     * find the fd still ready (the watchdog fails a sleeping loop). */
    before = p.calls;
    ok(POLL_UNTIL(ctx, p.calls >= before + 3, 10000),
       "%s: undrained eventfd keeps being reported (%u -> %u)", what,
       before, p.calls);

    p.drain = true;
    ok(POLL_UNTIL(ctx, p.calls >= before + 4, 10000), "%s: drained", what);
    before = p.calls;
    signal_efd(p.fd);
    ok(POLL_UNTIL(ctx, p.calls > before, 10000),
       "%s: a later write is reported", what);

    aio_set_fd_handler(ctx, p.fd, NULL, NULL, NULL, NULL, NULL);
    close(p.fd);
}

typedef struct LateWriter {
    AioContext *ctx;
    int fd;
} LateWriter;

/* Writes once the loop is inside a blocking wait (or after 10 s, so a
 * loop that never waits fails the check instead of hanging it). */
static void *late_writer(void *opaque)
{
    LateWriter *w = opaque;
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!test_loop_is_waiting(w->ctx, NULL) &&
           g_get_monotonic_time() < end) {
        g_usleep(100);
    }
    signal_efd(w->fd);
    return NULL;
}

/* A handler in the busy-poll set whose io_poll finds its work: on io_uring
 * its poll gets parked (cancelled) once polling has found the work; a
 * blocking wait must re-arm it so a write from another thread still wakes
 * the loop. */
static void test_parked_wakes(AioContext *ctx)
{
    Probe p = probe_new();
    pthread_t thr;
    unsigned before;

    p.drain = true;
    aio_set_fd_handler(ctx, p.fd, probe_read, NULL, probe_poll, probe_read,
                       &p);
    for (int i = 0; i < 20; i++) {      /* fd path, then found by polling */
        before = p.calls;
        p.poll_ready = true;
        signal_efd(p.fd);
        if (!POLL_UNTIL(ctx, p.calls > before, 10000)) {
            break;
        }
        p.poll_ready = false;
    }
    ok(p.calls >= 20, "parked: 20 events handled (%u calls)", p.calls);
    spin(ctx, 3);
    before = p.calls;
    LateWriter w = { ctx, p.fd };
    pthread_create(&thr, NULL, late_writer, &w);
    ok(POLL_UNTIL(ctx, p.calls > before, 10000),
       "parked: a write from another thread wakes the blocked loop");
    pthread_join(thr, NULL);
    aio_set_fd_handler(ctx, p.fd, NULL, NULL, NULL, NULL, NULL);
    close(p.fd);
}

/* An always-writable fd: its write handler runs on every iteration. */
static void test_writable(AioContext *ctx)
{
    Probe p = { 0 };
    int fds[2];

    g_assert(pipe(fds) == 0);
    aio_set_fd_handler(ctx, fds[1], NULL, probe_write, NULL, NULL, &p);
    ok(POLL_UNTIL(ctx, p.calls >= 1, 10000), "writable: called");
    spin(ctx, 5);
    ok(p.calls >= 6, "writable: called on each of 5 more iterations (%u)",
       p.calls);
    aio_set_fd_handler(ctx, fds[1], NULL, NULL, NULL, NULL, NULL);
    close(fds[0]);
    close(fds[1]);
}

/* Removed while its fd is still ready: never called again. */
static void test_remove_while_ready(AioContext *ctx)
{
    Probe p = probe_new();
    unsigned before;

    aio_set_fd_handler(ctx, p.fd, probe_read, NULL, NULL, NULL, &p);
    signal_efd(p.fd);
    ok(POLL_UNTIL(ctx, p.calls >= 1, 10000), "remove: called on write");
    aio_set_fd_handler(ctx, p.fd, NULL, NULL, NULL, NULL, NULL);
    before = p.calls;
    spin(ctx, 5);
    is_int(p.calls, before, "remove: not called after removal while ready");

    /* Re-added with the fd still ready: reported at once. */
    aio_set_fd_handler(ctx, p.fd, probe_read, NULL, NULL, NULL, &p);
    ok(POLL_UNTIL(ctx, p.calls > before, 10000),
       "remove: re-added handler sees the still-ready fd");
    aio_set_fd_handler(ctx, p.fd, NULL, NULL, NULL, NULL, NULL);
    spin(ctx, 2);
    close(p.fd);
}

static gboolean tick(gpointer opaque)
{
    (*(unsigned *)opaque)++;
    return G_SOURCE_CONTINUE;
}

/* The GLib path: g_main_context_iteration() on the context's GSource. */
static void test_gsource(AioContext *ctx)
{
    GMainContext *gctx = g_main_context_new();
    GSource *src = aio_get_g_source(ctx);
    /* A hang guard: a loop that sleeps on a ready fd sleeps until this
     * fires, and the checks below see the tick.  Nothing else would end
     * such a sleep, so any tick means the loop slept on a ready fd (the
     * guard is far above any scheduling delay of a working loop). */
    GSource *watchdog = g_timeout_source_new_seconds(10);
    unsigned ticks = 0;
    Probe p = probe_new();
    unsigned before;
    int n = 0;

    g_source_attach(src, gctx);
    g_source_set_callback(watchdog, tick, &ticks, NULL);
    g_source_attach(watchdog, gctx);
    aio_set_fd_handler(ctx, p.fd, probe_read, NULL, NULL, NULL, &p);
    g_main_context_iteration(gctx, FALSE);
    signal_efd(p.fd);
    while (p.calls == 0 && ticks == 0) {
        g_main_context_iteration(gctx, TRUE);
    }
    ok(p.calls >= 1, "gsource: called on write");
    /* Blocking iterations must not sleep while the fd is ready; a few
     * iterations may be spent on internal wake-ups. */
    before = p.calls;
    for (n = 0; n < 20 && p.calls < before + 2; n++) {
        g_main_context_iteration(gctx, TRUE);
    }
    ok(p.calls >= before + 2 && ticks == 0,
       "gsource: undrained eventfd reported again without sleeping "
       "(%u -> %u in %d iterations, %u watchdog ticks)",
       before, p.calls, n, ticks);

    p.drain = true;
    g_main_context_iteration(gctx, TRUE);
    before = p.calls;
    for (n = 0; n < 5; n++) {
        g_main_context_iteration(gctx, FALSE);
    }
    is_int(p.calls, before, "gsource: silent once drained");

    aio_set_fd_handler(ctx, p.fd, NULL, NULL, NULL, NULL, NULL);
    g_main_context_iteration(gctx, FALSE);
    close(p.fd);
    g_source_destroy(watchdog);
    g_source_unref(watchdog);
    g_source_destroy(src);
    g_source_unref(src);
    g_main_context_unref(gctx);
}

int main(void)
{
    const char *refuse = getenv("AIO_IO_URING_TEST_REFUSE_MULTISHOT");
    const char *want = test_requested_backend();
    AioContext *ctx = test_context_new();
    GError *err = NULL;

    test_nonblocking(ctx);
    test_blocking(ctx, false);

    /* Put handlers into the busy-poll set: their fd events are then
     * re-checked rather than trusted, and must still be reported. */
    ok(aio_context_set_poll_params(ctx, 32768, 0, 0, &err),
       "poll-max-ns 32768");
    test_blocking(ctx, true);
    test_blocking(ctx, true);   /* now in the poll set from the start */
    test_parked_wakes(ctx);
    ok(aio_context_set_poll_params(ctx, 0, 0, 0, &err), "poll-max-ns 0");

    test_writable(ctx);
    test_remove_while_ready(ctx);
    test_gsource(ctx);

    if (want && strcmp(want, "io_uring") == 0) {
        bool expect_multi = !(refuse && *refuse && strcmp(refuse, "0") != 0);
        ok(fdmon_io_uring_uses_multishot(ctx) == expect_multi,
           "io_uring polls are %s", expect_multi ? "multishot"
                                                 : "one-shot (fallback)");
    }
    aio_context_unref(ctx);
    return done_testing();
}
