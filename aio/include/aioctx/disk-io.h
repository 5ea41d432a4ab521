/*
 * Disk I/O engines of an AioContext: linux-aio (libaio, after QEMU's
 * block/linux-aio.c) and io_uring.  Both share one completion-callback API.
 *
 * Common contract of every engine call below:
 *  - Home thread only.
 *  - A request is queued and later handed to the kernel in batches of at
 *    most aio_max_batch (context value, 0 = 32), further bounded by the
 *    request's @dev_max_batch when non-zero, and never more than
 *    AIO_DISK_MAX_IN_FLIGHT requests are in the kernel at once.
 *  - @cb(@opaque, ret) runs exactly once, in the home context, never from
 *    inside the submitting call: ret is 0 on success (the whole length was
 *    transferred; a short read is zero-padded up to the requested length),
 *    -ENOSPC for a short write, -ECANCELED when the context is finalized
 *    before the request reached the kernel, else a negative errno (e.g.
 *    -EBADF for a bad fd).
 *  - The iovec array and the buffers must stay valid until @cb runs.
 *  - The call itself returns 0, or a negative errno without queueing
 *    anything (then @cb is never called): -EINVAL for a bad argument,
 *    -ESHUTDOWN while the context is being finalized.
 *  - plug()/unplug() bracket a burst of submissions so they go in one batch
 *    (nestable).  Completions are delivered in bursts (those at hand when
 *    the engine looks), their callbacks plugged: a request submitted from
 *    a callback reaches the kernel with the others of its burst, in one
 *    batch, before the loop waits again (never at its next wait: the
 *    device would idle meanwhile).
 *  - At context finalization, queued requests complete with -ECANCELED and
 *    in-flight ones are waited for and complete with their result (callbacks
 *    then run in the finalizing thread; they must not use the context).
 *
 * Counters (summed over both engines) appear in AioStats io_* fields.
 */
#ifndef AIO_DISK_IO_H
#define AIO_DISK_IO_H

#include "aioctx/aio.h"

#include <stdint.h>
#include <sys/uio.h>

G_BEGIN_DECLS

typedef void AioIOCompletionFunc(void *opaque, int ret);

#define AIO_DISK_MAX_IN_FLIGHT 1024

typedef enum {
    AIO_DISK_READ,
    AIO_DISK_WRITE,
    AIO_DISK_FSYNC,
} AioDiskOp;

/* ---------------------------------------------------------------------- */
/* linux-aio                                                               */

typedef struct LinuxAioState LinuxAioState;

/* Create (once) and return the context's libaio engine; NULL + @error
 * (AIO_ERROR_UNSUPPORTED / FAILED) when io_setup or the eventfd fails.
 * Later calls return the same state. */
LinuxAioState *aio_setup_linux_aio(AioContext *ctx, GError **error);
/* The engine, or NULL if aio_setup_linux_aio() was never called. */
LinuxAioState *aio_get_linux_aio(AioContext *ctx);

/* READ / WRITE go to the kernel; FSYNC runs fsync(2) in the context's thread
 * pool (libaio's IOCB_CMD_FSYNC is unsupported on most filesystems);
 * @iov/@iovcnt/@offset are ignored for FSYNC. */
int laio_submit(LinuxAioState *s, AioDiskOp op, int fd,
                const struct iovec *iov, int iovcnt, uint64_t offset,
                uint64_t dev_max_batch, AioIOCompletionFunc *cb, void *opaque);
void laio_io_plug(LinuxAioState *s);
/* Submits what was queued while plugged once the outermost unplug runs (or
 * earlier, as soon as a full batch is queued). */
void laio_io_unplug(LinuxAioState *s);

/* ---------------------------------------------------------------------- */
/* io_uring                                                                */

typedef struct LuringState LuringState;

/* Create (once) and return the context's io_uring engine.  On a context
 * whose fd monitoring is io_uring (aio_has_io_uring) requests go through
 * aio_add_sqe(); elsewhere the engine owns a ring registered as an fd
 * handler.  NULL + @error when no ring can be created. */
LuringState *aio_setup_io_uring_engine(AioContext *ctx, GError **error);
LuringState *aio_get_io_uring_engine(AioContext *ctx);
/* Whether requests go through the context's own fdmon ring. */
bool luring_uses_fdmon_ring(LuringState *s);

int luring_submit(LuringState *s, AioDiskOp op, int fd,
                  const struct iovec *iov, int iovcnt, uint64_t offset,
                  uint64_t dev_max_batch, AioIOCompletionFunc *cb,
                  void *opaque);
void luring_io_plug(LuringState *s);
void luring_io_unplug(LuringState *s);

/* ---------------------------------------------------------------------- */
/* Engine-neutral table, so callers (tests, benchmarks, iothreads) can pick
 * an engine at run time. */

typedef struct AioDiskEngine {
    const char *name;           /* "linux-aio" or "io_uring" */
    void *(*setup)(AioContext *ctx, GError **error);
    int (*submit)(void *engine, AioDiskOp op, int fd, const struct iovec *iov,
                  int iovcnt, uint64_t offset, uint64_t dev_max_batch,
                  AioIOCompletionFunc *cb, void *opaque);
    void (*plug)(void *engine);
    void (*unplug)(void *engine);
} AioDiskEngine;

extern const AioDiskEngine aio_disk_engine_linux_aio;
extern const AioDiskEngine aio_disk_engine_io_uring;

G_END_DECLS

#endif /* AIO_DISK_IO_H */
