/*
 * test-fdmon-cancel: removing a handler whose fd keeps waking up releases
 * the backend's hold on the file.
 *
 * io_uring keeps a reference to the file of every armed poll.  A removed
 * handler's multishot poll must really end, even when a wake-up from
 * another thread races with the removal (IORING_OP_POLL_REMOVE loses that
 * race with -EALREADY and leaves the poll armed for ever; the backend
 * cancels instead).  Observable from user space: after the handler is
 * removed and its socket closed, the peer's writes must fail with EPIPE
 * once the loop has run a little, because the socket is really gone.
 * A writer thread hammers the peer the whole time to make the race likely.
 * Registered for io_uring only (multishot and one-shot polls): poll and
 * epoll hold no reference to a removed handler's file, so there it could
 * not fail.
 */
#include "aio-test.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

enum { ROUNDS = 1000 };
/* The rounds only make the race likely; none is needed for the checks to
 * hold.  On a loaded machine (the writer thread competes for the CPUs
 * with everything else) no new round starts after this long, so the
 * program ends well inside meson's timeout. */
#define ROUNDS_BUDGET_NS (30LL * 1000 * 1000 * 1000)

typedef struct Writer {
    _Atomic int fd;             /* peer end; -1: idle */
    atomic_bool busy;           /* using the fd it loaded (seq_cst) */
    atomic_bool stop;
} Writer;

static void *writer_thread(void *opaque)
{
    Writer *w = opaque;

    static const char chunk[4096];

    while (!atomic_load(&w->stop)) {
        atomic_store(&w->busy, true);
        int fd = atomic_load(&w->fd);
        if (fd >= 0 &&
            send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
            errno != EAGAIN) {
            atomic_compare_exchange_strong(&w->fd, &fd, -1);
        }
        atomic_store(&w->busy, false);
    }
    return NULL;
}

typedef struct Conn {
    int fd;
    unsigned calls;
} Conn;

static void drain(void *opaque)
{
    Conn *c = opaque;
    char buf[65536];

    c->calls++;
    while (recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
    }
}

/* Take the fd away from the writer; it will not touch it afterwards. */
static void writer_idle(Writer *w)
{
    atomic_store(&w->fd, -1);
    while (atomic_load(&w->busy)) {
    }
}

/* Whether @fd's peer is gone, polling @ctx meanwhile (up to ~1 s). */
static bool peer_closed(AioContext *ctx, int fd)
{
    for (int i = 0; i < 1000; i++) {
        if (send(fd, "y", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
            (errno == EPIPE || errno == ECONNRESET)) {
            return true;
        }
        aio_poll(ctx, false);
        g_usleep(1000);
    }
    return false;
}

int main(void)
{
    AioContext *ctx = test_context_new();
    Writer w = { .fd = -1 };
    pthread_t thr;
    int leaked = 0, handled = 0, rounds = 0;
    int64_t end = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + ROUNDS_BUDGET_NS;

    pthread_create(&thr, NULL, writer_thread, &w);
    for (int r = 0; r < ROUNDS && !leaked &&
         aio_clock_get_ns(AIO_CLOCK_MONOTONIC) < end; r++) {
        int sv[2];
        Conn c = { 0 };

        rounds++;
        g_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        c.fd = sv[0];
        aio_set_fd_handler(ctx, c.fd, drain, NULL, NULL, NULL, &c);
        atomic_store(&w.fd, sv[1]);
        /* Let wake-ups flow, then remove while the writer keeps going. */
        handled += POLL_UNTIL(ctx, c.calls > 0, 1000);
        for (int i = 0; i < r % 5; i++) {
            aio_poll(ctx, false);
        }
        aio_set_fd_handler(ctx, c.fd, NULL, NULL, NULL, NULL, NULL);
        close(c.fd);
        aio_poll(ctx, false);           /* submits the cancel */
        writer_idle(&w);
        if (!peer_closed(ctx, sv[1])) {
            leaked++;
        }
        close(sv[1]);
    }
    atomic_store(&w.stop, true);
    pthread_join(thr, NULL);

    is_int(leaked, 0, "every removed handler's socket was really closed "
           "(peer got EPIPE)");
    diag("%d of %d rounds run", rounds, ROUNDS);
    is_int(handled, rounds, "in every round the handler ran before its "
           "removal, so the removal raced with live wake-ups");
    aio_poll(ctx, false);
    aio_context_unref(ctx);
    return done_testing();
}
