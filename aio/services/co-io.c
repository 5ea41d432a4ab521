/*
 * Coroutine I/O on the callback APIs: the request's completion callback
 * stores the result and wakes the coroutine that yielded for it (QEMU's
 * laio_co_submit pattern).  Both disk engines and the thread pool
 * call their callbacks in the home context and never from inside the
 * submitting call, so the coroutine has always yielded when it is woken.
 */
#include "coroutine/coroutine-internal.h"

#include <errno.h>

typedef struct CoIOWait {
    Coroutine *co;
    int ret;                    /* -EINPROGRESS until the completion */
} CoIOWait;

static void co_io_complete(void *opaque, int ret)
{
    CoIOWait *w = opaque;

    w->ret = ret;
    aio_co_wake(w->co);
}

static int co_io_wait(CoIOWait *w)
{
    if (w->ret == -EINPROGRESS) {
        aio_coroutine_yield();
    }
    return w->ret;
}

static int co_disk_submit(const AioDiskEngine *engine, void *state,
                          AioDiskOp op, int fd, const struct iovec *iov,
                          int iovcnt, uint64_t offset, const char *fn)
{
    CoIOWait w = { .co = co_self_or_die(fn), .ret = -EINPROGRESS };
    int ret = engine->submit(state, op, fd, iov, iovcnt, offset, 0,
                             co_io_complete, &w);

    return ret < 0 ? ret : co_io_wait(&w);
}

int aio_disk_co_preadv(const AioDiskEngine *engine, void *state, int fd,
                       const struct iovec *iov, int iovcnt, uint64_t offset)
{
    return co_disk_submit(engine, state, AIO_DISK_READ, fd, iov, iovcnt,
                          offset, "aio_disk_co_preadv");
}

int aio_disk_co_pwritev(const AioDiskEngine *engine, void *state, int fd,
                        const struct iovec *iov, int iovcnt, uint64_t offset)
{
    return co_disk_submit(engine, state, AIO_DISK_WRITE, fd, iov, iovcnt,
                          offset, "aio_disk_co_pwritev");
}

int aio_disk_co_flush(const AioDiskEngine *engine, void *state, int fd)
{
    return co_disk_submit(engine, state, AIO_DISK_FSYNC, fd, NULL, 0, 0,
                          "aio_disk_co_flush");
}

int thread_pool_co_submit(ThreadPool *pool, ThreadPoolFunc *func, void *arg)
{
    CoIOWait w = { .co = co_self_or_die("thread_pool_co_submit"),
                   .ret = -EINPROGRESS };

    if (!thread_pool_submit(pool, func, arg, co_io_complete, &w)) {
        return -ESHUTDOWN;
    }
    return co_io_wait(&w);
}
