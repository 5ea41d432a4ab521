/*
 * Shared pieces of the disk engines: the request queue, counters and
 * result mapping (see disk-common.h).
 */
#include "services/disk-common.h"
#include "core/aio-internal.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* Recycled requests kept per engine. */
#define FREE_LIST_MAX 256

static void note_batch(AioDiskCounters *c, uint64_t n)
{
    if (n > atomic_load_explicit(&c->max_batch, memory_order_relaxed)) {
        DISK_STAT_SET(c, max_batch, n);
    }
}

void aio_disk_counters_read(AioDiskCounters *c, AioDiskStats *out)
{
    out->submitted = atomic_load_explicit(&c->submitted, memory_order_relaxed);
    out->submit_calls = atomic_load_explicit(&c->submit_calls,
                                             memory_order_relaxed);
    out->in_flight = atomic_load_explicit(&c->in_flight, memory_order_relaxed);
    out->completed = atomic_load_explicit(&c->completed, memory_order_relaxed);
    out->errors = atomic_load_explicit(&c->errors, memory_order_relaxed);
    out->requeues = atomic_load_explicit(&c->requeues, memory_order_relaxed);
    out->max_batch = atomic_load_explicit(&c->max_batch, memory_order_relaxed);
}

/* Zero @iov from byte @from to its end (EOF padding of a short read). */
static void iov_zero_from(const struct iovec *iov, int iovcnt, size_t from)
{
    for (int i = 0; i < iovcnt; i++) {
        if (from >= iov[i].iov_len) {
            from -= iov[i].iov_len;
            continue;
        }
        memset((char *)iov[i].iov_base + from, 0, iov[i].iov_len - from);
        from = 0;
    }
}

/* The callback's ret for a request of @nbytes whose kernel result is @res
 * (bytes or -errno), per disk-io.h: the full length is 0, a short read is
 * zero-padded (so 0), a short write is -ENOSPC, an fsync's non-negative
 * result is 0.  Counts the completion (and the error) in @c. */
static int complete_result(AioDiskCounters *c, AioDiskOp op,
                             const struct iovec *iov, int iovcnt,
                             size_t nbytes, ssize_t res)
{
    int ret;

    if (res < 0) {
        ret = (int)res;
    } else if (op == AIO_DISK_FSYNC || (size_t)res == nbytes) {
        ret = 0;
    } else if (op == AIO_DISK_READ) {
        iov_zero_from(iov, iovcnt, (size_t)res);
        ret = 0;
    } else {
        ret = -ENOSPC;
    }
    if (ret < 0) {
        DISK_STAT_ADD(c, errors, 1);
    }
    DISK_STAT_ADD(c, completed, 1);
    return ret;
}

/* ---------------------------------------------------------------------- */
/* The request queue                                                       */

void aio_disk_queue_init(AioDiskQueue *q, AioContext *ctx,
                         size_t request_size)
{
    memset(q, 0, sizeof(*q));
    q->ctx = ctx;
    q->request_size = request_size;
    STAILQ_INIT(&q->pending);
}

int aio_disk_queue_check(AioDiskQueue *q, AioDiskOp op,
                         const struct iovec *iov, int iovcnt,
                         AioIOCompletionFunc *cb)
{
    if (!cb || (op != AIO_DISK_READ && op != AIO_DISK_WRITE &&
                op != AIO_DISK_FSYNC) ||
        (op != AIO_DISK_FSYNC && (!iov || iovcnt <= 0 || iovcnt > IOV_MAX))) {
        return -EINVAL;
    }
    return q->shutting_down ? -ESHUTDOWN : 0;
}

AioDiskRequest *aio_disk_request_new(AioDiskQueue *q, AioDiskOp op,
                                     const struct iovec *iov, int iovcnt,
                                     AioIOCompletionFunc *cb, void *opaque)
{
    AioDiskRequest *req = q->free_list;

    if (req) {
        q->free_list = STAILQ_NEXT(req, next);
        q->free_count--;
        memset(req, 0, q->request_size);
    } else {
        req = g_malloc0(q->request_size);
    }
    req->op = op;
    req->iov = iov;
    req->iovcnt = iovcnt;
    req->cb = cb;
    req->opaque = opaque;
    for (int i = 0; op != AIO_DISK_FSYNC && i < iovcnt; i++) {
        req->nbytes += iov[i].iov_len;
    }
    return req;
}

bool aio_disk_queue_push(AioDiskQueue *q, AioDiskRequest *req,
                         uint64_t dev_max_batch)
{
    STAILQ_INSERT_TAIL(&q->pending, req, next);
    q->in_queue++;
    if (dev_max_batch && (!q->dev_max_batch ||
                          dev_max_batch < q->dev_max_batch)) {
        q->dev_max_batch = dev_max_batch;
    }
    return !q->plugged || q->in_queue >= aio_disk_queue_batch_limit(q);
}

AioDiskRequest *aio_disk_queue_pop(AioDiskQueue *q)
{
    AioDiskRequest *req = STAILQ_FIRST(&q->pending);

    if (req) {
        STAILQ_REMOVE_HEAD(&q->pending, next);
        q->in_queue--;
    }
    return req;
}

unsigned aio_disk_queue_batch_limit(AioDiskQueue *q)
{
    uint64_t max = (uint64_t)aio_context_max_batch(q->ctx);

    if (q->dev_max_batch && q->dev_max_batch < max) {
        max = q->dev_max_batch;
    }
    if (max > AIO_DISK_MAX_IN_FLIGHT - q->in_flight) {
        max = AIO_DISK_MAX_IN_FLIGHT - q->in_flight;
    }
    return (unsigned)max;
}

void aio_disk_queue_started(AioDiskQueue *q, unsigned n)
{
    q->in_flight += n;
    DISK_STAT_SET(&q->stats, in_flight, q->in_flight);
}

void aio_disk_queue_note_batch(AioDiskQueue *q, unsigned n)
{
    DISK_STAT_ADD(&q->stats, submitted, n);
    note_batch(&q->stats, n);
    aio_context_record_io_batch(q->ctx, n);
}

void aio_disk_queue_submit_end(AioDiskQueue *q)
{
    if (STAILQ_EMPTY(&q->pending)) {
        q->dev_max_batch = 0;
    }
}

void aio_disk_request_complete(AioDiskQueue *q, AioDiskRequest *req,
                               ssize_t res)
{
    int ret = complete_result(&q->stats, req->op, req->iov, req->iovcnt,
                              req->nbytes, res);
    AioIOCompletionFunc *cb = req->cb;
    void *opaque = req->opaque;

    if (q->free_count < FREE_LIST_MAX) {
        STAILQ_NEXT(req, next) = q->free_list;
        q->free_list = req;
        q->free_count++;
    } else {
        g_free(req);
    }
    cb(opaque, ret);
}

void aio_disk_request_finished(AioDiskQueue *q, AioDiskRequest *req,
                               ssize_t res)
{
    q->in_flight--;
    DISK_STAT_SET(&q->stats, in_flight, q->in_flight);
    aio_disk_request_complete(q, req, res);
}

void aio_disk_queue_plug(AioDiskQueue *q)
{
    q->plugged++;
}

bool aio_disk_queue_unplug(AioDiskQueue *q)
{
    g_return_val_if_fail(q->plugged > 0, false);
    return --q->plugged == 0 && !STAILQ_EMPTY(&q->pending);
}

void aio_disk_queue_cancel_pending(AioDiskQueue *q)
{
    AioDiskRequest *req;

    q->shutting_down = true;
    while ((req = aio_disk_queue_pop(q))) {
        aio_disk_request_complete(q, req, -ECANCELED);
    }
}

void aio_disk_queue_destroy(AioDiskQueue *q)
{
    DISK_STAT_SET(&q->stats, in_flight, q->in_flight);
    while (q->free_list) {
        AioDiskRequest *req = q->free_list;
        q->free_list = STAILQ_NEXT(req, next);
        g_free(req);
    }
}
