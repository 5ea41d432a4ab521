/*
 * test-linux-aio: linux-aio engine behaviours that need a kernel answer the
 * test controls, or the loop's polling counters:
 *  - io_submit refusing with EAGAIN: the refused requests stay queued, are
 *    submitted again later (io_requeues counts each refusal) and complete
 *    with success, never with -EAGAIN; with requests in flight (retried
 *    when they complete) and with nothing in flight (retried from a BH).
 *  - ring-peek polling: with a polling window, the completion of a QD 1
 *    read is found by busy-polling the completion ring (a poll hit), not by
 *    blocking on the engine's eventfd.
 *  - a completion's wake-up costs no fd re-check: on the io_uring fdmon,
 *    the engine's eventfd is reported by its multishot poll and drained by
 *    its handler, so no poll(2) asks it again (a re-check per wake-up was
 *    one extra syscall per I/O beside io_submit and the wait).
 *  - nor a read(2) of the eventfd: io_uring's multishot poll reports every
 *    write, so the handler leaves the counter while it finds completions.
 *  - on every fdmon, a context whose reads all completed dispatches nothing
 *    while it waits (an eventfd counter left non-zero must not make a
 *    level-triggered fdmon report it again).
 * io_submit, poll and read are wrapped at link time (-Wl,--wrap, see
 * meson.build): the test says how many io_submit calls to refuse before
 * passing them to libaio, and counts the loop's poll(2) and read(2) calls.
 * Buffered I/O on a temporary file (IO_TEST_DIR, else /var/tmp).
 */
#include "aioctx/aio.h"
#include "aioctx/disk-io.h"
#include "../aio/aio-test.h"
#include "core/aio-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libaio.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define BS 4096
#define NBLOCKS 16

/* ---- io_submit wrapper (home thread only: the engine submits there) ---- */

int __real_io_submit(io_context_t ctx, long nr, struct iocb *iocbs[]);
int __wrap_io_submit(io_context_t ctx, long nr, struct iocb *iocbs[]);

static int refuse_next;         /* io_submit calls still to refuse */

int __wrap_io_submit(io_context_t ctx, long nr, struct iocb *iocbs[])
{
    if (refuse_next > 0) {
        refuse_next--;
        return -EAGAIN;
    }
    return __real_io_submit(ctx, nr, iocbs);
}

/* ---- poll wrapper: counts the loop's poll(2) calls ---------------------- */

int __real_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t nfds, int timeout);

static unsigned poll_calls;

int __wrap_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    poll_calls++;
    return __real_poll(fds, nfds, timeout);
}

/* ---- read wrapper: counts read(2) calls (the eventfd's) ------------------ */

ssize_t __real_read(int fd, void *buf, size_t count);
ssize_t __wrap_read(int fd, void *buf, size_t count);

static unsigned read_calls;

ssize_t __wrap_read(int fd, void *buf, size_t count)
{
    read_calls++;
    return __real_read(fd, buf, count);
}

/* ---- helpers ------------------------------------------------------------ */

static int fd = -1;

typedef struct Read {
    struct iovec iov;
    uint8_t buf[BS];
    uint64_t block;
    int ret;
    int calls;
} Read;

static int pending;

static void read_done(void *opaque, int ret)
{
    Read *r = opaque;
    r->ret = ret;
    r->calls++;
    pending--;
}

static uint8_t pattern_byte(uint64_t block, size_t i)
{
    return (uint8_t)(block * 37 + i);
}

static void open_test_file(void)
{
    const char *dir = g_getenv("IO_TEST_DIR");
    char *path = g_build_filename(dir ? dir : "/var/tmp",
                                  "test-linux-aio-XXXXXX", NULL);
    uint8_t block[BS];

    fd = g_mkstemp(path);
    if (fd < 0) {
        printf("Bail out! mkstemp %s: %s\n", path, g_strerror(errno));
        exit(1);
    }
    unlink(path);
    g_free(path);
    for (uint64_t b = 0; b < NBLOCKS; b++) {
        for (size_t i = 0; i < BS; i++) {
            block[i] = pattern_byte(b, i);
        }
        if (pwrite(fd, block, BS, (off_t)(b * BS)) != BS) {
            printf("Bail out! writing the test file\n");
            exit(1);
        }
    }
}

static AioContext *new_laio_ctx_on(AioFdmonKind fdmon, LinuxAioState **s)
{
    GError *err = NULL;
    AioContext *ctx = aio_context_new_full(fdmon, &err);

    if (!ctx || !(*s = aio_setup_linux_aio(ctx, &err))) {
        printf("Bail out! linux-aio context: %s\n", err ? err->message : "?");
        exit(1);
    }
    return ctx;
}

static AioContext *new_laio_ctx(LinuxAioState **s)
{
    return new_laio_ctx_on(AIO_FDMON_AUTO, s);
}

static void submit_read(LinuxAioState *s, Read *r, uint64_t block)
{
    r->block = block;
    r->iov = (struct iovec){ .iov_base = r->buf, .iov_len = BS };
    r->ret = 1;
    r->calls = 0;
    pending++;
    g_assert(laio_submit(s, AIO_DISK_READ, fd, &r->iov, 1, block * BS, 0,
                         read_done, r) == 0);
}

/* How many of @n reads completed once, with 0 and the right bytes. */
static int reads_good(const Read *r, int n)
{
    int good = 0;
    for (int i = 0; i < n; i++) {
        bool same = r[i].calls == 1 && r[i].ret == 0;
        for (size_t j = 0; same && j < BS; j++) {
            same = r[i].buf[j] == pattern_byte(r[i].block, j);
        }
        good += same;
    }
    return good;
}

static uint64_t stat_requeues(AioContext *ctx)
{
    AioStats st;
    aio_context_get_stats(ctx, &st);
    return st.io_requeues;
}

/* ---- EAGAIN requeue ------------------------------------------------------ */

/* Refused with nothing in flight: no completion will come to retry them,
 * so the engine must retry by itself. */
static void test_eagain_with_nothing_in_flight_is_retried(void)
{
    LinuxAioState *s;
    AioContext *ctx = new_laio_ctx(&s);
    Read r[4];

    refuse_next = 1;
    laio_io_plug(s);
    for (int i = 0; i < 4; i++) {
        submit_read(s, &r[i], (uint64_t)i);
    }
    laio_io_unplug(s);
    bool all = POLL_UNTIL(ctx, pending == 0, 10000);
    ok(all && refuse_next == 0, "EAGAIN with nothing in flight: the refused "
       "batch was retried and completed (%d pending)", pending);
    is_int(reads_good(r, 4), 4, "EAGAIN with nothing in flight: every read "
           "completed once with 0 and its data, none with -EAGAIN");
    is_int(stat_requeues(ctx), 1, "EAGAIN with nothing in flight: "
           "io_requeues counts the one refusal");
    aio_context_unref(ctx);
}

/* Refused while earlier requests are in flight: retried once they
 * complete. */
static void test_eagain_with_requests_in_flight_is_retried(void)
{
    LinuxAioState *s;
    AioContext *ctx = new_laio_ctx(&s);
    Read r[NBLOCKS];

    laio_io_plug(s);
    for (int i = 0; i < NBLOCKS / 2; i++) {
        submit_read(s, &r[i], (uint64_t)i);
    }
    laio_io_unplug(s);
    refuse_next = 2;
    laio_io_plug(s);
    for (int i = NBLOCKS / 2; i < NBLOCKS; i++) {
        submit_read(s, &r[i], (uint64_t)i);
    }
    laio_io_unplug(s);
    bool all = POLL_UNTIL(ctx, pending == 0, 10000);
    ok(all && refuse_next == 0, "EAGAIN with requests in flight: the "
       "refused requests were retried and completed (%d pending)", pending);
    is_int(reads_good(r, NBLOCKS), NBLOCKS, "EAGAIN with requests in "
           "flight: every read completed once with 0 and its data");
    is_int(stat_requeues(ctx), 2, "EAGAIN with requests in flight: "
           "io_requeues counts both refusals");
    aio_context_unref(ctx);
}

/* ---- ring-peek polling --------------------------------------------------- */

enum { WARMUP_READS = 20, MEASURED_READS = 20 };

/* With a polling window far above the file's latency, a QD 1 read's
 * completion is seen in the completion ring while busy-polling.  The
 * window is 100 ms, so only a thread stalled that long could miss one;
 * the check asks for one poll hit (the path works), not a share of them
 * (how often polling wins is a benchmark figure, not a unit test's). */
static void test_completions_found_by_ring_peek_polling(void)
{
    LinuxAioState *s;
    AioContext *ctx = new_laio_ctx(&s);
    AioStats before, after;
    Read r;
    int good = 0;

    g_assert(aio_context_set_poll_params(ctx, 100 * 1000 * 1000, 0, 0, NULL));
    for (int i = 0; i < WARMUP_READS + MEASURED_READS; i++) {
        if (i == WARMUP_READS) {
            aio_context_get_stats(ctx, &before);
        }
        submit_read(s, &r, (uint64_t)(i % NBLOCKS));
        POLL_UNTIL(ctx, pending == 0, 10000);
        good += i >= WARMUP_READS && reads_good(&r, 1) == 1;
    }
    aio_context_get_stats(ctx, &after);
    is_int(good, MEASURED_READS, "ring-peek polling: every read completed");
    uint64_t hits = after.poll_hits - before.poll_hits;
    ok(hits >= 1, "ring-peek polling: completions found by "
       "busy-polling the ring (%" PRIu64 " poll hits, %" PRIu64 " blocking "
       "waits for %d reads)", hits,
       after.blocking_waits - before.blocking_waits, MEASURED_READS);
    aio_context_unref(ctx);
}

/* ---- the cost of a wake-up ---------------------------------------------- */

enum { WAKE_READS = 40 };

/* @n QD 1 reads one after the other, each waited for by blocking
 * aio_poll(); returns how many completed once with the right bytes. */
static int run_qd1_reads(AioContext *ctx, LinuxAioState *s, int n)
{
    Read r;
    int good = 0;

    for (int i = 0; i < n; i++) {
        submit_read(s, &r, (uint64_t)(i % NBLOCKS));
        POLL_UNTIL(ctx, pending == 0, 10000);
        good += reads_good(&r, 1);
    }
    return good;
}

/* A linux-aio context on the io_uring fdmon with multishot polls and
 * polling off (each completion wakes a blocking wait through the
 * eventfd), warmed up; NULL, with @n tests skipped, where there is none. */
static AioContext *new_multishot_wake_ctx(LinuxAioState **s, int n,
                                          const char *what)
{
    AioContext *ctx = new_laio_ctx(s);

    g_assert(aio_context_set_poll_params(ctx, 0, 0, 0, NULL));
    /* After the warm-up: a kernel refusing multishot says so in its
     * first cqe. */
    run_qd1_reads(ctx, *s, WARMUP_READS);
    if (!aio_fdmon_reports_each_write(ctx)) {
        skip(n, "%s: only the io_uring fdmon's multishot polls (this context "
             "uses %s)", what, aio_context_fdmon_name(ctx));
        aio_context_unref(ctx);
        return NULL;
    }
    return ctx;
}

/* WAKE_READS QD 1 reads on new_multishot_wake_ctx(), checked; @calls =
 * how much *@counter grew meanwhile.  False (tests skipped) where there
 * is no such context. */
static bool count_during_wake_reads(const char *what, const unsigned *counter,
                                    unsigned *calls)
{
    LinuxAioState *s;
    AioContext *ctx = new_multishot_wake_ctx(&s, 2, what);

    if (!ctx) {
        return false;
    }
    unsigned before = *counter;
    int good = run_qd1_reads(ctx, s, WAKE_READS);
    *calls = *counter - before;
    is_int(good, WAKE_READS, "%s: every read completed", what);
    aio_context_unref(ctx);
    return true;
}

/* The io_uring fdmon trusts the cqe of a handler that drains its fd, so
 * no poll(2) runs; with a re-check per wake-up there would be one per
 * read. */
static void test_completion_wake_up_needs_no_poll_recheck(void)
{
    unsigned polls;

    if (count_during_wake_reads("wake-up re-check", &poll_calls, &polls)) {
        ok(polls < WAKE_READS / 4, "wake-up re-check: the eventfd's wake-ups "
           "ran no poll(2) re-check (%u poll(2) calls for %d reads)", polls,
           WAKE_READS);
    }
}

/* The multishot poll reports every write to the eventfd, so the handler
 * need not read it while wake-ups find completions: with a read(2) per
 * wake-up there would be one per I/O. */
static void test_completion_wake_up_reads_no_eventfd(void)
{
    unsigned reads;

    if (count_during_wake_reads("eventfd read", &read_calls, &reads)) {
        ok(reads < WAKE_READS / 4, "eventfd read: the wake-ups read the "
           "eventfd %u times for %d I/Os", reads, WAKE_READS);
    }
}

static uint64_t stat_fd_dispatches(AioContext *ctx)
{
    AioStats st;
    aio_context_get_stats(ctx, &st);
    return st.fd_dispatches;
}

/* Whatever the handler left in the eventfd counter, once every read has
 * completed a blocking wait has nothing to dispatch: a level-triggered
 * fdmon reporting a non-empty eventfd would run the handler again.
 * Polling off, so every completion came through the eventfd. */
static void test_idle_context_dispatches_nothing_after_reads(void)
{
    static const AioFdmonKind fdmons[] = {
        AIO_FDMON_POLL, AIO_FDMON_EPOLL, AIO_FDMON_IO_URING,
    };

    for (size_t i = 0; i < G_N_ELEMENTS(fdmons); i++) {
        LinuxAioState *s;
        AioContext *ctx = new_laio_ctx_on(fdmons[i], &s);

        g_assert(aio_context_set_poll_params(ctx, 0, 0, 0, NULL));
        int good = run_qd1_reads(ctx, s, WAKE_READS);
        uint64_t before = stat_fd_dispatches(ctx);
        POLL_UNTIL(ctx, false, 20);      /* blocking waits for 20 ms */
        uint64_t after = stat_fd_dispatches(ctx);
        ok(good == WAKE_READS && after == before,
           "idle after reads (%s fdmon): %d of %d reads done, then 20 ms of "
           "blocking waits dispatched %" PRIu64 " handlers",
           aio_context_fdmon_name(ctx), good, WAKE_READS, after - before);
        aio_context_unref(ctx);
    }
}

int main(void)
{
    open_test_file();
    test_eagain_with_nothing_in_flight_is_retried();
    test_eagain_with_requests_in_flight_is_retried();
    test_completions_found_by_ring_peek_polling();
    test_completion_wake_up_needs_no_poll_recheck();
    test_completion_wake_up_reads_no_eventfd();
    test_idle_context_dispatches_nothing_after_reads();
    close(fd);
    return done_testing();
}
