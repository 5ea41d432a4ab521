/*
 * What the two disk engines (linux-aio.c, io_uring-engine.c) share: the
 * request queue with its batching and plugging, the counters, and how a
 * kernel result becomes the callback's ret.  Internal to aio/.
 *
 * Thread rules: counters are written by the engine's home thread only,
 * with relaxed stores (no read-modify-write atomics on the I/O path), and
 * read from any thread by aio_disk_counters_read().
 */
#ifndef AIO_DISK_COMMON_H
#define AIO_DISK_COMMON_H

#include "aioctx/disk-io.h"

#include <stdatomic.h>
#include <sys/queue.h>
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

typedef struct AioDiskStats {
    uint64_t submitted, submit_calls, in_flight, completed, errors, requeues;
    uint64_t max_batch;
} AioDiskStats;

/* Thread-safe snapshot. */
void aio_disk_counters_read(AioDiskCounters *c, AioDiskStats *out);

/*
 * The request queue, batching and plugging both engines share.  An
 * engine's request type embeds AioDiskRequest as its first member; the
 * engine's state embeds an AioDiskQueue.  Requests wait on `pending` until
 * the engine hands a batch of at most aio_disk_queue_batch_limit() to the
 * kernel; plug/unplug defer that (nestable).  Home thread only, except the
 * counters (see above).
 */
typedef struct AioDiskRequest {
    AioDiskOp op;
    const struct iovec *iov;
    int iovcnt;
    size_t nbytes;              /* sum of the iov lengths (0 for FSYNC) */
    AioIOCompletionFunc *cb;
    void *opaque;
    STAILQ_ENTRY(AioDiskRequest) next;  /* pending, or an engine's list */
} AioDiskRequest;

typedef STAILQ_HEAD(AioDiskRequestList, AioDiskRequest) AioDiskRequestList;

typedef struct AioDiskQueue {
    AioContext *ctx;
    size_t request_size;        /* of the engine's request type */
    AioDiskRequestList pending; /* not yet handed to the kernel */
    unsigned in_queue;
    unsigned in_flight;         /* handed to the kernel, not completed */
    uint64_t dev_max_batch;     /* smallest non-zero bound over pending */
    int plugged;
    bool shutting_down;
    AioDiskRequest *free_list;  /* recycled requests */
    unsigned free_count;
    AioDiskCounters stats;
} AioDiskQueue;

void aio_disk_queue_init(AioDiskQueue *q, AioContext *ctx,
                         size_t request_size);
/* The arguments against disk-io.h's contract: 0, -EINVAL or -ESHUTDOWN. */
int aio_disk_queue_check(AioDiskQueue *q, AioDiskOp op,
                         const struct iovec *iov, int iovcnt,
                         AioIOCompletionFunc *cb);
/* A zeroed request of request_size with the shared part filled. */
AioDiskRequest *aio_disk_request_new(AioDiskQueue *q, AioDiskOp op,
                                     const struct iovec *iov, int iovcnt,
                                     AioIOCompletionFunc *cb, void *opaque);
/* Queue @req (whose batches must not exceed @dev_max_batch, 0: no bound);
 * returns whether to submit now: not plugged, or a full batch waits. */
bool aio_disk_queue_push(AioDiskQueue *q, AioDiskRequest *req,
                         uint64_t dev_max_batch);
/* Take the first pending request (NULL if none). */
AioDiskRequest *aio_disk_queue_pop(AioDiskQueue *q);
/* The next batch's size bound: aio-max-batch in effect, the pending
 * requests' device bound, the room left under AIO_DISK_MAX_IN_FLIGHT. */
unsigned aio_disk_queue_batch_limit(AioDiskQueue *q);
/* @n requests entered the kernel (in_flight). */
void aio_disk_queue_started(AioDiskQueue *q, unsigned n);
/* One submit call handed @n requests over (submitted, batch size). */
void aio_disk_queue_note_batch(AioDiskQueue *q, unsigned n);
/* After a submission round: forget the device bound once nothing waits. */
void aio_disk_queue_submit_end(AioDiskQueue *q);
/* Complete @req with the kernel result @res (recycles it, runs the
 * callback); _finished also takes it off in_flight. */
void aio_disk_request_complete(AioDiskQueue *q, AioDiskRequest *req,
                               ssize_t res);
void aio_disk_request_finished(AioDiskQueue *q, AioDiskRequest *req,
                               ssize_t res);
void aio_disk_queue_plug(AioDiskQueue *q);
/* Returns whether to submit now (the outermost unplug, something waits). */
bool aio_disk_queue_unplug(AioDiskQueue *q);
/* Finalization: shutting_down, and every pending request -ECANCELED. */
void aio_disk_queue_cancel_pending(AioDiskQueue *q);
/* Free the recycled requests. */
void aio_disk_queue_destroy(AioDiskQueue *q);

/* Service hooks (aio/services.c): finalization and stats. */
void laio_cleanup(LinuxAioState *s);
void laio_get_stats(LinuxAioState *s, AioDiskStats *out);
void luring_cleanup(LuringState *s);
void luring_get_stats(LuringState *s, AioDiskStats *out);

#endif /* AIO_DISK_COMMON_H */
