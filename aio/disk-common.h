/*
 * What the two disk engines (linux-aio.c, io_uring-engine.c) share: their
 * counters and how a kernel result becomes the callback's ret.  Internal to
 * aio/.
 *
 * Thread rules: counters are written by the engine's home thread only,
 * with relaxed stores (no read-modify-write atomics on the I/O path), and
 * read from any thread by aio_disk_counters_read().
 */
#ifndef AIO_DISK_COMMON_H
#define AIO_DISK_COMMON_H

#include "disk-io.h"

#include <stdatomic.h>
#include <sys/types.h>

typedef struct AioDiskCounters {
    _Atomic uint64_t submitted, submit_calls, in_flight, completed, errors,
                     requeues, max_batch;
} AioDiskCounters;

#define DISK_STAT_ADD(c, f, n) atomic_store_explicit(&(c)->f, \
    atomic_load_explicit(&(c)->f, memory_order_relaxed) + (n), \
    memory_order_relaxed)
#define DISK_STAT_SET(c, f, v) \
    atomic_store_explicit(&(c)->f, (v), memory_order_relaxed)

/* Record a submission of @n requests (keeps the largest batch seen). */
void aio_disk_note_batch(AioDiskCounters *c, uint64_t n);

/* Thread-safe snapshot. */
void aio_disk_counters_read(AioDiskCounters *c, AioDiskStats *out);

/*
 * The callback's ret for a request of @nbytes whose kernel result is @res
 * (bytes or -errno), per disk-io.h: the full length is 0, a short read is
 * zero-padded (so 0), a short write is -ENOSPC, an fsync's non-negative
 * result is 0.  Counts the completion (and the error) in @c.
 */
int aio_disk_complete_result(AioDiskCounters *c, AioDiskOp op,
                             const struct iovec *iov, int iovcnt,
                             size_t nbytes, ssize_t res);

#endif /* AIO_DISK_COMMON_H */
