/*
 * test-disk-io: one disk engine (IO_ENGINE=linux-aio|io_uring) on one fd
 * backend (AIO_FDMON): pattern write + verified read back at QD 1 and 64
 * with O_DIRECT (buffered where the filesystem refuses it), batch sizes
 * bounded by aio_max_batch and the per-request device limit, errors reaching
 * the callback (bad fd, reads past EOF zero-padded), fsync, a request
 * submitted from a completion callback reaching the kernel before the loop
 * waits, the resubmissions of one completion burst sharing one submit
 * call, the in-flight cap, and finalization with many requests in flight.
 */
#include "aioctx/aio.h"
#include "aioctx/disk-io.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BS 4096
#define NBLOCKS 256             /* 1 MiB test file */
#define FILE_SIZE ((uint64_t)NBLOCKS * BS)

static const AioDiskEngine *engine;
static char path[256];
static int fd = -1;
static bool direct;

typedef struct Req {
    struct iovec iov[2];
    uint8_t *buf;
    uint64_t block;
    int ret;
    int calls;
} Req;

static int outstanding;

static void req_done(void *opaque, int ret)
{
    Req *r = opaque;
    r->ret = ret;
    r->calls++;
    outstanding--;
}

static bool watchdog_fired;
static void watchdog_cb(void *opaque)
{
    watchdog_fired = true;
}

/* Blocking loop until @cond, bounded by a 20 s watchdog timer (so a lost
 * wake-up fails the test instead of hanging it). */
#define POLL_UNTIL(ctx, cond) do { \
        AioTimer *wd_ = aio_timer_new((ctx), AIO_CLOCK_MONOTONIC, \
                                      AIO_SCALE_MS, watchdog_cb, NULL); \
        watchdog_fired = false; \
        aio_timer_mod(wd_, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) / 1000000 \
                      + 20000); \
        while (!(cond) && !watchdog_fired) { \
            aio_poll((ctx), true); \
        } \
        aio_timer_free(wd_); \
    } while (0)

static uint8_t pattern_byte(uint64_t block, size_t i)
{
    return (uint8_t)(block * 131 + i * 7 + (i >> 8));
}

static Req *reqs_new(int n)
{
    Req *reqs = g_new0(Req, n);
    for (int i = 0; i < n; i++) {
        if (posix_memalign((void **)&reqs[i].buf, BS, BS * 2)) {
            abort();
        }
    }
    return reqs;
}

static void reqs_free(Req *reqs, int n)
{
    for (int i = 0; i < n; i++) {
        free(reqs[i].buf);
    }
    g_free(reqs);
}

static AioContext *new_ctx(void **eng)
{
    GError *err = NULL;
    AioContext *ctx = aio_context_new(&err);
    if (!ctx) {
        printf("Bail out! cannot create a context: %s\n", err->message);
        exit(1);
    }
    *eng = engine->setup(ctx, &err);
    if (!*eng) {
        printf("Bail out! %s setup failed: %s\n", engine->name, err->message);
        exit(1);
    }
    return ctx;
}

/* Submit @n requests (op on blocks [first, first + n)) keeping at most @qd
 * in flight; returns the number that failed. */
static int run_blocks(AioContext *ctx, void *eng, AioDiskOp op, int qd,
                      Req *reqs, int n)
{
    int next = 0, bad = 0;
    while (next < n || outstanding > 0) {
        while (next < n && outstanding < qd) {
            Req *r = &reqs[next];
            r->block = next;
            /* Two iovecs per request: exercises vectored I/O. */
            r->iov[0] = (struct iovec){ r->buf, BS / 2 };
            r->iov[1] = (struct iovec){ r->buf + BS / 2, BS / 2 };
            if (op == AIO_DISK_WRITE) {
                for (size_t i = 0; i < BS; i++) {
                    r->buf[i] = pattern_byte(r->block, i);
                }
            } else {
                memset(r->buf, 0xee, BS);
            }
            r->calls = 0;
            outstanding++;
            if (engine->submit(eng, op, fd, r->iov, 2, r->block * BS, 0,
                               req_done, r) < 0) {
                outstanding--;
                bad++;
            }
            next++;
        }
        POLL_UNTIL(ctx, next < n ? outstanding < qd : outstanding == 0);
        if (watchdog_fired) {
            diag("watchdog: %d requests never completed", outstanding);
            return n;
        }
    }
    for (int i = 0; i < n; i++) {
        if (reqs[i].calls != 1 || reqs[i].ret != 0) {
            bad++;
        }
    }
    return bad;
}

static int verify(Req *reqs, int n)
{
    int bad = 0;
    for (int i = 0; i < n; i++) {
        for (size_t j = 0; j < BS; j++) {
            if (reqs[i].buf[j] != pattern_byte(reqs[i].block, j)) {
                bad++;
                break;
            }
        }
    }
    return bad;
}

static void test_write_read(void)
{
    void *eng;
    AioContext *ctx = new_ctx(&eng);
    Req *reqs = reqs_new(NBLOCKS);
    AioStats st;

    is_int(run_blocks(ctx, eng, AIO_DISK_WRITE, 64, reqs, NBLOCKS), 0,
           "%s: wrote %d blocks at QD 64", engine->name, NBLOCKS);
    is_int(run_blocks(ctx, eng, AIO_DISK_READ, 1, reqs, NBLOCKS), 0,
           "read them back at QD 1");
    is_int(verify(reqs, NBLOCKS), 0, "QD 1 data matches the pattern");
    is_int(run_blocks(ctx, eng, AIO_DISK_READ, 64, reqs, NBLOCKS), 0,
           "read them back at QD 64");
    is_int(verify(reqs, NBLOCKS), 0, "QD 64 data matches the pattern");

    aio_context_get_stats(ctx, &st);
    is_int(st.io_completed, 3 * NBLOCKS, "stats: io_completed");
    is_int(st.io_submitted, 3 * NBLOCKS, "stats: io_submitted");
    is_int(st.io_in_flight, 0, "stats: nothing in flight");
    ok(st.io_max_batch <= AIO_DISK_DEFAULT_MAX_BATCH && st.io_submit_calls &&
       st.io_submitted / st.io_submit_calls <= AIO_DISK_DEFAULT_MAX_BATCH,
       "default batches stay <= 32 (max %" PRIu64 ", mean %.1f)",
       st.io_max_batch, (double)st.io_submitted / st.io_submit_calls);

    /* fsync */
    Req *r = &reqs[0];
    r->calls = 0;
    outstanding = 1;
    ok(engine->submit(eng, AIO_DISK_FSYNC, fd, NULL, 0, 0, 0, req_done, r)
       == 0, "fsync submitted");
    POLL_UNTIL(ctx, outstanding == 0);
    ok(r->calls == 1 && r->ret == 0, "fsync completed with 0 (%d)", r->ret);

    reqs_free(reqs, NBLOCKS);
    aio_context_unref(ctx);
}

/* Plugged bursts with a small aio_max_batch, then a device limit. */
static void test_batch_bound(int64_t max_batch, uint64_t dev_max)
{
    void *eng;
    AioContext *ctx = new_ctx(&eng);
    GError *err = NULL;
    Req *reqs = reqs_new(64);
    AioStats st;

    ok(aio_context_set_aio_params(ctx, max_batch, &err),
       "aio-max-batch=%" PRId64, max_batch);
    uint64_t bound = (uint64_t)max_batch;
    if (dev_max && dev_max < bound) {
        bound = dev_max;
    }
    for (int round = 0; round < 4; round++) {
        engine->plug(eng);
        for (int i = 0; i < 64; i++) {
            reqs[i].iov[0] = (struct iovec){ reqs[i].buf, BS };
            outstanding++;
            engine->submit(eng, AIO_DISK_READ, fd, reqs[i].iov, 1,
                           (uint64_t)i * BS, dev_max, req_done, &reqs[i]);
        }
        engine->unplug(eng);
        POLL_UNTIL(ctx, outstanding == 0);
    }
    aio_context_get_stats(ctx, &st);
    is_int(st.io_completed, 256, "256 plugged reads completed");
    ok(st.io_max_batch <= bound && st.io_max_batch > 0,
       "largest batch %" PRIu64 " <= bound %" PRIu64, st.io_max_batch, bound);
    ok(st.io_submit_calls * bound >= st.io_submitted,
       "mean batch %.2f <= bound (%" PRIu64 " requests, %" PRIu64 " calls)",
       (double)st.io_submitted / st.io_submit_calls, st.io_submitted,
       st.io_submit_calls);
    bool set = aio_context_set_aio_params(ctx, -1, &err);
    ok(!set && err, "aio-max-batch=-1 refused: %s", err ? err->message : "-");
    g_clear_error(&err);
    is_int(aio_context_get_aio_max_batch(ctx), max_batch, "value unchanged");
    reqs_free(reqs, 64);
    aio_context_unref(ctx);
}

/* The io_batch histogram records each batch handed to the kernel: its
 * values add up to the requests submitted, its largest is the largest
 * batch, within aio-max-batch. */
static void test_io_batch_histogram_records_each_batch(void)
{
    void *eng;
    AioContext *ctx = new_ctx(&eng);
    Req *reqs = reqs_new(64);
    AioContextHistograms h;
    AioStats st;

    ok(aio_context_set_aio_params(ctx, 8, NULL), "aio-max-batch=8");
    engine->plug(eng);
    for (int i = 0; i < 64; i++) {
        reqs[i].iov[0] = (struct iovec){ reqs[i].buf, BS };
        outstanding++;
        engine->submit(eng, AIO_DISK_READ, fd, reqs[i].iov, 1,
                       (uint64_t)i * BS, 0, req_done, &reqs[i]);
    }
    engine->unplug(eng);
    POLL_UNTIL(ctx, outstanding == 0);
    aio_context_get_stats(ctx, &st);
    aio_context_get_histograms(ctx, &h);
    is_int((int64_t)h.io_batch.sum, (int64_t)st.io_submitted,
           "batch sizes add up to the requests submitted (%" PRIu64 ")",
           st.io_submitted);
    ok(h.io_batch.count >= 64 / 8, "%" PRIu64 " batches for 64 requests",
       h.io_batch.count);
    ok(h.io_batch.max == st.io_max_batch && h.io_batch.max <= 8,
       "the largest batch is io_max_batch, within the bound (%" PRIu64 ")",
       h.io_batch.max);
    reqs_free(reqs, 64);
    aio_context_unref(ctx);
}

static void test_errors(void)
{
    void *eng;
    AioContext *ctx = new_ctx(&eng);
    Req *reqs = reqs_new(3);
    AioStats st;

    int badfd = open("/dev/null", O_RDONLY);
    close(badfd);
    reqs[0].iov[0] = (struct iovec){ reqs[0].buf, BS };
    outstanding = 1;
    ok(engine->submit(eng, AIO_DISK_READ, badfd, reqs[0].iov, 1, 0, 0,
                      req_done, &reqs[0]) == 0,
       "a read on a closed fd is accepted for submission");
    POLL_UNTIL(ctx, outstanding == 0);
    ok(reqs[0].calls == 1 && reqs[0].ret == -EBADF,
       "bad fd: callback got -EBADF (%d)", reqs[0].ret);

    /* Straddling EOF: the first half is data, the rest zero padding. */
    memset(reqs[1].buf, 0xee, 2 * BS);
    reqs[1].iov[0] = (struct iovec){ reqs[1].buf, 2 * BS };
    memset(reqs[2].buf, 0xee, 2 * BS);
    reqs[2].iov[0] = (struct iovec){ reqs[2].buf, BS };
    reqs[2].iov[1] = (struct iovec){ reqs[2].buf + BS, BS };
    outstanding = 2;
    engine->submit(eng, AIO_DISK_READ, fd, reqs[1].iov, 1, FILE_SIZE - BS,
                   0, req_done, &reqs[1]);
    engine->submit(eng, AIO_DISK_READ, fd, reqs[2].iov, 2, FILE_SIZE + BS,
                   0, req_done, &reqs[2]);
    POLL_UNTIL(ctx, outstanding == 0);
    bool data_ok = true, zero_ok = true, zero2_ok = true;
    for (size_t j = 0; j < BS; j++) {
        data_ok &= reqs[1].buf[j] == pattern_byte(NBLOCKS - 1, j);
        zero_ok &= reqs[1].buf[BS + j] == 0;
    }
    for (size_t j = 0; j < 2 * BS; j++) {
        zero2_ok &= reqs[2].buf[j] == 0;
    }
    ok(reqs[1].calls == 1 && reqs[1].ret == 0 && data_ok && zero_ok,
       "read across EOF: 0, data then zero padding (ret %d)", reqs[1].ret);
    ok(reqs[2].calls == 1 && reqs[2].ret == 0 && zero2_ok,
       "read past EOF: 0 and all zeros (ret %d)", reqs[2].ret);

    is_int(engine->submit(eng, AIO_DISK_READ, fd, reqs[0].iov, 0, 0, 0,
                          req_done, &reqs[0]), -EINVAL,
           "iovcnt 0 refused synchronously with -EINVAL");
    aio_context_get_stats(ctx, &st);
    is_int(st.io_errors, 1, "stats: one error counted");
    reqs_free(reqs, 3);
    aio_context_unref(ctx);
}

/* More requests than the in-flight cap, then finalize mid-flight. */
static void test_finalize_in_flight(void)
{
    enum { N = 1100 };
    void *eng;
    AioContext *ctx = new_ctx(&eng);
    Req *reqs = reqs_new(N);
    AioStats st;

    outstanding = 0;
    for (int i = 0; i < N; i++) {
        reqs[i].iov[0] = (struct iovec){ reqs[i].buf, BS };
        outstanding++;
        engine->submit(eng, AIO_DISK_READ, fd, reqs[i].iov, 1,
                       (uint64_t)(i % NBLOCKS) * BS, 0, req_done, &reqs[i]);
    }
    aio_context_get_stats(ctx, &st);
    ok(st.io_in_flight <= AIO_DISK_MAX_IN_FLIGHT,
       "in flight %" PRIu64 " <= cap %d", st.io_in_flight,
       AIO_DISK_MAX_IN_FLIGHT);
    aio_context_unref(ctx);
    int once = 0, good = 0;
    for (int i = 0; i < N; i++) {
        once += reqs[i].calls == 1;
        good += reqs[i].ret == 0 || reqs[i].ret == -ECANCELED;
    }
    is_int(once, N, "finalize: every request called back exactly once");
    is_int(good, N, "finalize: each got its result or -ECANCELED");
    reqs_free(reqs, N);
}

/* A request submitted from a completion callback must reach the kernel
 * before the loop waits again (at the end of the completions' burst, see
 * disk-io.h), not at its next wait: the device would idle meanwhile
 * (io_uring on the fdmon ring at QD 32 ran in lock-step rounds).
 * Observed with writes to a pipe, which the kernel performs during the
 * submission itself: after A's callback, the loop runs only non-blocking
 * iterations, and B's byte must be in the pipe. */
typedef struct PipeWrite {
    void *eng;
    int wfd, rfd;
    struct iovec iov_a, iov_b;
    Req a, b;
    bool in_callback;
    int b_submit_ret;
    bool b_called_inside;
} PipeWrite;

static void pipe_b_done(void *opaque, int ret)
{
    PipeWrite *pw = opaque;
    pw->b_called_inside |= pw->in_callback;
    req_done(&pw->b, ret);
}

static void pipe_a_done(void *opaque, int ret)
{
    PipeWrite *pw = opaque;
    char buf[8];

    req_done(&pw->a, ret);
    if (ret < 0) {
        return;
    }
    /* Drain A's byte, then submit B. */
    if (read(pw->rfd, buf, sizeof(buf)) != 1) {
        pw->b_submit_ret = -EIO;
        return;
    }
    pw->in_callback = true;
    outstanding++;
    pw->b_submit_ret = engine->submit(pw->eng, AIO_DISK_WRITE, pw->wfd,
                                      &pw->iov_b, 1, 0, 0, pipe_b_done, pw);
    pw->in_callback = false;
    if (pw->b_submit_ret < 0) {
        outstanding--;
    }
}

static void test_callback_submit_goes_before_the_loop_waits(void)
{
    PipeWrite pw = { 0 };
    AioContext *ctx = new_ctx(&pw.eng);
    int p[2];

    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
        printf("Bail out! pipe2: %s\n", strerror(errno));
        exit(1);
    }
    pw.rfd = p[0];
    pw.wfd = p[1];
    pw.iov_a = (struct iovec){ "A", 1 };
    pw.iov_b = (struct iovec){ "B", 1 };
    outstanding = 1;
    engine->submit(pw.eng, AIO_DISK_WRITE, pw.wfd, &pw.iov_a, 1, 0, 0,
                   pipe_a_done, &pw);
    POLL_UNTIL(ctx, pw.a.calls == 1);
    while (aio_poll(ctx, false)) {
        /* the iterations the loop runs before it would wait */
    }
    char buf[8];
    ssize_t seen = pw.a.ret < 0 ? -1 : read(pw.rfd, buf, sizeof(buf));
    POLL_UNTIL(ctx, outstanding == 0);
    if (pw.a.ret < 0) {
        /* linux-aio may refuse pipes; the contract is about the engine's
         * queueing, which the other engine's run covers. */
        skip(3, "%s cannot write to a pipe (%s)", engine->name,
             strerror(-pw.a.ret));
    } else {
        is_int(pw.b_submit_ret, 0, "submit from a completion callback "
               "accepted");
        is_int(seen, 1, "its write reached the kernel before the loop "
               "waited (only non-blocking iterations ran)");
        ok(pw.b.calls == 1 && pw.b.ret == 0 && !pw.b_called_inside,
           "it completed once, later, with 0 (%d calls, ret %d)",
           pw.b.calls, pw.b.ret);
    }
    close(p[0]);
    close(p[1]);
    aio_context_unref(ctx);
}

/* Completions that arrive together are one burst: what their callbacks
 * submit goes to the kernel in one call (one device kick), not one call
 * each.  Buffered reads of cached blocks complete during their own
 * submission, so BURST reads submitted plugged (one call) complete
 * together; each callback submits one more read: one more call in all. */
#define BURST 4

typedef struct BurstRead {
    void *eng;
    int fd;
    char buf[BURST * 2][BS];
    struct iovec iov[BURST * 2];
    Req done;                   /* every read's completion, counted */
    int short_reads;
    int next;
} BurstRead;

static void burst_read_done(void *opaque, int ret);

static void burst_read_submit(BurstRead *br)
{
    int i = br->next++;

    br->iov[i] = (struct iovec){ br->buf[i], BS };
    outstanding++;
    if (engine->submit(br->eng, AIO_DISK_READ, br->fd, &br->iov[i], 1,
                       (uint64_t)i * BS, 0, burst_read_done, br) < 0) {
        outstanding--;
    }
}

static void burst_read_done(void *opaque, int ret)
{
    BurstRead *br = opaque;

    req_done(&br->done, ret);
    br->short_reads += ret != 0;     /* 0: the whole block read */
    if (br->next < BURST * 2) {
        burst_read_submit(br);
    }
}

static void test_callback_resubmits_of_one_burst_share_a_submit(void)
{
    static BurstRead br;
    AioContext *ctx = new_ctx(&br.eng);
    AioStats before, after;
    char warm[BS];

    char self[64];

    /* The file is unlinked: reopen it through /proc, without O_DIRECT. */
    snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
    br.fd = open(self, O_RDONLY | O_CLOEXEC);
    br.next = br.short_reads = 0;
    br.done = (Req){ 0 };
    for (int i = 0; i < BURST * 2; i++) {
        /* In the page cache: each read completes during its submission. */
        if (pread(br.fd, warm, BS, (off_t)i * BS) != BS) {
            printf("Bail out! pread of the test file failed\n");
            exit(1);
        }
    }
    aio_context_get_stats(ctx, &before);
    engine->plug(br.eng);
    for (int i = 0; i < BURST; i++) {
        burst_read_submit(&br);
    }
    engine->unplug(br.eng);
    POLL_UNTIL(ctx, outstanding == 0);
    aio_context_get_stats(ctx, &after);
    ok(br.done.calls == BURST * 2 && br.short_reads == 0,
       "%s: %d buffered reads completed with 0 (%d calls, %d failed)",
       engine->name, BURST * 2, br.done.calls, br.short_reads);
    is_int((int64_t)(after.io_submit_calls - before.io_submit_calls), 2,
           "the %d reads submitted by one burst's callbacks went in one "
           "call (%d submit calls for the %d reads in all)", BURST,
           (int)(after.io_submit_calls - before.io_submit_calls), BURST * 2);
    close(br.fd);
    aio_context_unref(ctx);
}

/* aio_submit_sqes() directly: what aio_add_sqe() queued is in the kernel
 * when it returns (a pipe write happens during submission); a no-op
 * returning 0 on contexts without io_uring. */
typedef struct SqeWrite {
    CqeHandler cqe;
    int fd;
    int calls;
    int32_t res;
} SqeWrite;

static void prep_pipe_write(struct io_uring_sqe *sqe, void *opaque)
{
    SqeWrite *w = opaque;
    io_uring_prep_write(sqe, w->fd, "S", 1, 0);
}

static void sqe_write_done(CqeHandler *cqe)
{
    SqeWrite *w = (SqeWrite *)cqe;      /* first member */
    w->calls++;
    w->res = cqe->cqe_res;
}

static void test_submit_sqes(void)
{
    GError *err = NULL;
    AioContext *ctx = aio_context_new(&err);
    SqeWrite w = { .cqe.cb = sqe_write_done };
    int p[2];
    char c;

    if (!ctx || pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
        printf("Bail out! context or pipe\n");
        exit(1);
    }
    if (!aio_has_io_uring(ctx)) {
        /* Only where io_uring was not asked for: a context that silently
         * fell back is caught by test_backend_is_the_requested_one. */
        is_int(aio_submit_sqes(ctx), 0, "aio_submit_sqes without io_uring: "
               "no-op, 0");
        ok(g_strcmp0(g_getenv("AIO_FDMON"), "io_uring") != 0,
           "the context lacks io_uring only because another backend was "
           "requested");
    } else {
        w.fd = p[1];
        aio_add_sqe(ctx, prep_pipe_write, &w, &w.cqe);
        is_int(aio_submit_sqes(ctx), 0, "aio_submit_sqes: the kernel took "
               "the sqe");
        ok(read(p[0], &c, 1) == 1 && c == 'S' && w.calls == 0,
           "its write happened before any loop iteration, no callback yet");
        outstanding = 0;
        POLL_UNTIL(ctx, w.calls > 0);
        ok(w.calls == 1 && w.res == 1, "then completed once from the loop "
           "(res %d)", w.res);
    }
    close(p[0]);
    close(p[1]);
    aio_context_unref(ctx);
}

static void open_test_file(void)
{
    const char *dir = g_getenv("IO_TEST_DIR");
    if (!dir) {
        dir = "/var/tmp";
    }
    snprintf(path, sizeof(path), "%s/test-disk-io-XXXXXX", dir);
    int tmp = mkstemp(path);
    if (tmp < 0) {
        printf("Bail out! mkstemp %s: %s\n", path, strerror(errno));
        exit(1);
    }
    close(tmp);
    fd = open(path, O_RDWR | O_DIRECT);
    direct = fd >= 0;
    if (fd < 0) {
        diag("O_DIRECT refused on %s (%s): falling back to buffered I/O",
             dir, strerror(errno));
        fd = open(path, O_RDWR);
    }
    unlink(path);
    if (fd < 0) {
        printf("Bail out! open %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* AIO_FDMON names the backend this run is registered for: a context that
 * fell back to another one (logged, not fatal in production) must fail
 * here, or every io_uring-only check below would quietly take its
 * other branch. */
static void test_backend_is_the_requested_one(void)
{
    const char *want = g_getenv("AIO_FDMON");
    void *eng;
    AioContext *ctx = new_ctx(&eng);
    const char *got = aio_context_fdmon_name(ctx);

    diag("fd backend %s", got);
    if (!want) {
        skip(1, "AIO_FDMON not set: the default backend is whatever works");
    } else {
        ok(g_strcmp0(got, want) == 0, "the context uses the requested fd "
           "backend (wanted %s, got %s)", want, got ? got : "(none)");
    }
    if (engine == &aio_disk_engine_io_uring) {
        is_int(luring_uses_fdmon_ring(eng), aio_has_io_uring(ctx),
               "io_uring engine uses the context's ring exactly when "
               "the context has one");
    }
    aio_context_unref(ctx);
}

int main(void)
{
    const char *name = g_getenv("IO_ENGINE");
    engine = name && !strcmp(name, "linux-aio") ? &aio_disk_engine_linux_aio
                                               : &aio_disk_engine_io_uring;
    open_test_file();
    diag("engine %s, %s I/O", engine->name, direct ? "O_DIRECT" : "buffered");
    test_backend_is_the_requested_one();
    test_write_read();
    test_batch_bound(8, 0);
    test_batch_bound(16, 4);
    test_io_batch_histogram_records_each_batch();
    test_errors();
    test_callback_submit_goes_before_the_loop_waits();
    test_callback_resubmits_of_one_burst_share_a_submit();
    test_submit_sqes();
    test_finalize_in_flight();
    close(fd);
    return done_testing();
}
