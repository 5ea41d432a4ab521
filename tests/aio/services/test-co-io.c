/*
 * test-co-io: coroutine I/O on one disk engine (IO_ENGINE=linux-aio|
 * io_uring) and one fd backend (AIO_FDMON): aio_disk_co_preadv returns the
 * bytes pread(2) returns (one coroutine with a two-part iovec, and 32
 * coroutines at once), aio_disk_co_pwritev writes what pread then reads,
 * aio_disk_co_flush succeeds, errors come back as negative errno (from the
 * completion and from the submission), thread_pool_co_submit returns the
 * job's result, and a coroutine waiting for a read when its context is
 * finalized gets the result and runs on.
 */
#include "aioctx/coroutine.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BS 4096
#define NBLOCKS 64
#define QD 32

static const AioDiskEngine *engine;
static void *engine_state;
static AioContext *ctx;
static int fd = -1;

static bool timed_out;
static void timeout_cb(void *opaque)
{
    timed_out = true;
}

/* Run @fn(@opaque) in a coroutine and the loop until *@done (a 20 s
 * timer turns a lost wake-up into a failure, not a hang). */
static bool run_until(CoroutineEntry *fn, void *opaque, const int *done,
                      int want)
{
    AioTimer *t = aio_timer_new(ctx, AIO_CLOCK_MONOTONIC, AIO_SCALE_MS,
                                timeout_cb, NULL);
    timed_out = false;
    aio_timer_mod(t, aio_clock_get_ns(AIO_CLOCK_MONOTONIC) / 1000000 + 20000);
    aio_coroutine_enter(aio_coroutine_create(fn, opaque));
    while (*done < want && !timed_out) {
        aio_poll(ctx, true);
    }
    aio_timer_free(t);
    return *done >= want;
}

static void *block_buffer(int blocks)
{
    void *p = NULL;
    if (posix_memalign(&p, BS, (size_t)blocks * BS) != 0) {
        abort();
    }
    return p;
}

/* The file: O_DIRECT where the filesystem takes it, unlinked at once,
 * filled with a pattern no two blocks share. */
static void open_file(void)
{
    char path[256];
    const char *dir = g_getenv("IO_TEST_DIR");

    snprintf(path, sizeof(path), "%s/test-co-io-XXXXXX", dir ? dir : "/var/tmp");
    int tmp = mkstemp(path);
    fd = tmp < 0 ? -1 : open(path, O_RDWR | O_DIRECT);
    if (fd < 0 && tmp >= 0) {
        fd = open(path, O_RDWR);
    }
    if (tmp >= 0) {
        close(tmp);
        unlink(path);
    }
    if (fd < 0) {
        printf("Bail out! cannot create a file in %s\n", dir ? dir : "/var/tmp");
        exit(1);
    }
    uint8_t *buf = block_buffer(NBLOCKS);
    for (size_t i = 0; i < (size_t)NBLOCKS * BS; i++) {
        buf[i] = (uint8_t)(i * 7 + i / BS * 131);
    }
    if (pwrite(fd, buf, (size_t)NBLOCKS * BS, 0) != NBLOCKS * BS) {
        printf("Bail out! filling the test file failed\n");
        exit(1);
    }
    free(buf);
}

static bool same_as_pread(const void *got, uint64_t offset, size_t len)
{
    uint8_t *want = block_buffer((int)(len / BS));
    bool same = pread(fd, want, len, offset) == (ssize_t)len &&
                memcmp(got, want, len) == 0;
    free(want);
    return same;
}

/* ---------------------------------------------------------------------- */

typedef struct ReadJob {
    uint64_t block;
    uint8_t *buf;
    int ret;
    int *done;
} ReadJob;

/* Two blocks, read through a two-part iovec (second block first in
 * memory, so a swapped iovec would show). */
static void read_two_entry(void *opaque)
{
    ReadJob *j = opaque;
    struct iovec iov[2] = { { j->buf + BS, BS }, { j->buf, BS } };
    j->ret = aio_disk_co_preadv(engine, engine_state, fd, iov, 2,
                                j->block * BS);
    (*j->done)++;
}

static void test_co_preadv_returns_pread_bytes(void)
{
    int done = 0;
    ReadJob j = { 5, block_buffer(2), -1, &done };
    uint8_t *straight = block_buffer(2);

    bool finished = run_until(read_two_entry, &j, &done, 1);
    memcpy(straight, j.buf + BS, BS);
    memcpy(straight + BS, j.buf, BS);
    ok(finished && j.ret == 0 && same_as_pread(straight, 5 * BS, 2 * BS),
       "aio_disk_co_preadv with a two-part iovec returns 0 and the bytes "
       "pread returns (ret %d)", j.ret);
    free(j.buf);
    free(straight);
}

static void read_one_entry(void *opaque)
{
    ReadJob *j = opaque;
    struct iovec iov = { j->buf, BS };
    j->ret = aio_disk_co_preadv(engine, engine_state, fd, &iov, 1,
                                j->block * BS);
    (*j->done)++;
}

/* Starts QD coroutines, each reading its own block, all in flight at
 * once; the loop then runs until every one returned. */
static void start_readers_entry(void *opaque)
{
    ReadJob *jobs = opaque;
    for (int i = 0; i < QD; i++) {
        aio_co_enter(ctx, aio_coroutine_create(read_one_entry, &jobs[i]));
    }
}

static void test_co_preadv_many_coroutines(void)
{
    ReadJob jobs[QD];
    int done = 0;

    for (int i = 0; i < QD; i++) {
        jobs[i] = (ReadJob){ (uint64_t)(i * 37 % NBLOCKS), block_buffer(1), -1,
                             &done };
    }
    bool finished = run_until(start_readers_entry, jobs, &done, QD);
    int bad = 0;
    for (int i = 0; i < QD; i++) {
        bad += jobs[i].ret != 0 || !same_as_pread(jobs[i].buf, jobs[i].block * BS, BS);
        free(jobs[i].buf);
    }
    ok(finished && bad == 0,
       "%d coroutines reading at once each get their block's bytes "
       "(wrong: %d)", QD, bad);
}

/* ---------------------------------------------------------------------- */

typedef struct WriteJob {
    uint8_t *buf;
    int write_ret, flush_ret;
    int done;
} WriteJob;

static void write_flush_entry(void *opaque)
{
    WriteJob *j = opaque;
    struct iovec iov = { j->buf, BS };
    j->write_ret = aio_disk_co_pwritev(engine, engine_state, fd, &iov, 1,
                                       9 * BS);
    j->flush_ret = aio_disk_co_flush(engine, engine_state, fd);
    j->done++;
}

static void test_co_pwritev_then_flush(void)
{
    WriteJob j = { .buf = block_buffer(1) };

    memset(j.buf, 0xa5, BS);
    bool finished = run_until(write_flush_entry, &j, &j.done, 1);
    ok(finished && j.write_ret == 0 && j.flush_ret == 0 &&
       same_as_pread(j.buf, 9 * BS, BS),
       "aio_disk_co_pwritev writes what pread reads back, aio_disk_co_flush "
       "returns 0 (write %d, flush %d)", j.write_ret, j.flush_ret);
    free(j.buf);
}

/* ---------------------------------------------------------------------- */

typedef struct ErrJob {
    int fd;
    int iovcnt;
    int ret;
    int done;
} ErrJob;

static void failing_read_entry(void *opaque)
{
    ErrJob *j = opaque;
    uint8_t *buf = block_buffer(1);
    struct iovec iov = { buf, BS };
    j->ret = aio_disk_co_preadv(engine, engine_state, j->fd, &iov, j->iovcnt, 0);
    free(buf);
    j->done++;
}

static void test_co_read_error_is_negative_errno(void)
{
    ErrJob j = { .fd = open("/dev/null", O_WRONLY), .iovcnt = 1 };

    bool finished = run_until(failing_read_entry, &j, &j.done, 1);
    close(j.fd);
    ok(finished && j.ret == -EBADF,
       "a read from a write-only fd returns -EBADF from its completion "
       "(got %d)", j.ret);
}

static void test_co_bad_argument_is_negative_errno(void)
{
    ErrJob j = { .fd = fd, .iovcnt = 0 };

    bool finished = run_until(failing_read_entry, &j, &j.done, 1);
    ok(finished && j.ret == -EINVAL,
       "a read with no iovec returns -EINVAL from the submission without "
       "yielding (got %d)", j.ret);
}

/* ---------------------------------------------------------------------- */

typedef struct PoolJob {
    int result;
    int ret;
    int done;
} PoolJob;

static int return_arg(void *arg)
{
    return ((PoolJob *)arg)->result;
}

static void pool_entry(void *opaque)
{
    PoolJob *j = opaque;
    j->ret = thread_pool_co_submit(aio_get_thread_pool(ctx), return_arg, j);
    j->done++;
}

static void test_thread_pool_co_submit_returns_job_result(void)
{
    PoolJob ok_job = { .result = 42 }, err_job = { .result = -EIO };

    bool finished = run_until(pool_entry, &ok_job, &ok_job.done, 1) &&
                    run_until(pool_entry, &err_job, &err_job.done, 1);
    ok(finished && ok_job.ret == 42 && err_job.ret == -EIO,
       "thread_pool_co_submit returns the job's result (42 -> %d, -EIO -> %d)",
       ok_job.ret, err_job.ret);
}

/* ---------------------------------------------------------------------- */

typedef struct DyingJob {
    void *state;
    uint8_t *buf;
    int ret;
    int done;
} DyingJob;

static void dying_read_entry(void *opaque)
{
    DyingJob *j = opaque;
    struct iovec iov = { j->buf, BS };
    j->ret = aio_disk_co_preadv(engine, j->state, fd, &iov, 1, 0);
    j->done++;
}

static void test_finalize_completes_waiting_coroutine(void)
{
    AioContext *dying = aio_context_new(NULL);
    DyingJob j = { engine->setup(dying, NULL), block_buffer(1), 1, 0 };

    aio_set_current_context(dying);
    aio_coroutine_enter(aio_coroutine_create(dying_read_entry, &j));
    aio_set_current_context(ctx);
    bool waited = j.done == 0;
    aio_context_unref(dying);   /* the request is in flight or queued */
    ok(waited && j.done == 1 && (j.ret == 0 || j.ret == -ECANCELED),
       "a coroutine waiting for a read when its context is finalized gets "
       "the request's result (0 or -ECANCELED, got %d) and runs on", j.ret);
    free(j.buf);
}

int main(void)
{
    const char *name = g_getenv("IO_ENGINE");
    GError *err = NULL;

    engine = name && !strcmp(name, "linux-aio") ? &aio_disk_engine_linux_aio
                                               : &aio_disk_engine_io_uring;
    ctx = aio_context_new(&err);
    if (!ctx || !(engine_state = engine->setup(ctx, &err))) {
        printf("1..0 # SKIP %s unavailable: %s\n", engine->name,
               err ? err->message : "?");
        return 0;
    }
    aio_set_current_context(ctx);
    open_file();
    diag("engine %s, fd backend %s", engine->name, aio_context_fdmon_name(ctx));

    test_co_preadv_returns_pread_bytes();
    test_co_preadv_many_coroutines();
    test_co_pwritev_then_flush();
    test_co_read_error_is_negative_errno();
    test_co_bad_argument_is_negative_errno();
    test_thread_pool_co_submit_returns_job_result();
    test_finalize_completes_waiting_coroutine();

    aio_context_unref(ctx);
    close(fd);
    return done_testing();
}
