/*
 * Shared pieces of the disk engines: counters and result mapping (see
 * disk-common.h).
 */
#include "disk-common.h"

#include <errno.h>
#include <string.h>

void aio_disk_note_batch(AioDiskCounters *c, uint64_t n)
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

int aio_disk_complete_result(AioDiskCounters *c, AioDiskOp op,
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
