/*
 * linux-aio disk engine: libaio requests of one AioContext (behaviour of
 * QEMU's block/linux-aio.c).  Contract in disk-io.h.
 *
 * - Requests wait on the shared queue (disk-common.h) and go to io_submit()
 *   in batches of at most aio_disk_queue_batch_limit(); at most
 *   AIO_DISK_MAX_IN_FLIGHT are in the kernel.
 * - io_submit() -EAGAIN leaves them queued ("blocked") until a completion
 *   frees room; any other error fails only the first request of the batch.
 * - Completions signal an eventfd registered with aio_set_event_notifier;
 *   its io_poll peeks the completion ring that the kernel maps into our
 *   address space (the io_context_t *is* that ring), so adaptive polling
 *   sees disk completions without a syscall.  On an fdmon that reports
 *   every write (io_uring multishot polls) the eventfd is read only when a
 *   wake-up found no completion: see completion_notifier_cb().  We consume
 *   events by moving the ring head ourselves, one event at a time, so a
 *   callback that runs a nested aio_poll() never sees an event twice.
 * - Callbacks never run inside laio_submit(): failures found while
 *   submitting are completed from a BH.
 *
 * Threads: home thread only; the stats counters are written by the home
 * thread and read anywhere with relaxed loads.
 */
#include "aioctx/disk-io.h"
#include "aioctx/thread-pool.h"
#include "core/aio-internal.h"
#include "services/disk-common.h"

#include <errno.h>
#include <libaio.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define MAX_EVENTS AIO_DISK_MAX_IN_FLIGHT
#define AIO_RING_MAGIC 0xa10a10a1

typedef struct LaioRequest {
    AioDiskRequest common;      /* first: the queue's view */
    struct iocb iocb;
} LaioRequest;

#define LAIO_REQUEST(r) container_of((r), LaioRequest, common)

/* Kernel ABI of the completion ring (linux/fs/aio.c struct aio_ring); there
 * is no uapi header for it, but it has not changed since 2.6. */
struct aio_ring {
    unsigned id;
    unsigned nr;
    unsigned head;      /* consumer index: we advance it */
    unsigned tail;      /* producer index: the kernel advances it */
    unsigned magic;
    unsigned compat_features;
    unsigned incompat_features;
    unsigned header_length;
    struct io_event io_events[];
};

struct LinuxAioState {
    AioDiskQueue q;             /* ctx, pending, in_flight, plug, stats */
    io_context_t io_ctx;
    bool ring_readable;         /* the mapped ring has the expected magic */
    EventNotifier e;
    AioBH *completion_bh;
    AioDiskRequestList failed;  /* to complete from the BH */
    bool blocked;               /* io_submit said EAGAIN */
};

#define STAT_ADD(s, f, n) DISK_STAT_ADD(&(s)->q.stats, f, n)

static void ioq_submit(LinuxAioState *s);

/* Complete the submit failures (their -errno is in iocb.data). */
static void complete_failed(LinuxAioState *s)
{
    while (!STAILQ_EMPTY(&s->failed)) {
        AioDiskRequest *req = STAILQ_FIRST(&s->failed);
        STAILQ_REMOVE_HEAD(&s->failed, next);
        aio_disk_request_complete(&s->q, req,
                                  (ssize_t)(intptr_t)LAIO_REQUEST(req)->iocb.data);
    }
}

static inline ssize_t io_event_result(const struct io_event *ev)
{
    return (ssize_t)(((uint64_t)ev->res2 << 32) | ev->res);
}

/* Take one event from the ring without a syscall; false if empty. */
static bool ring_take(LinuxAioState *s, struct io_event *out)
{
    if (!s->ring_readable) {
        struct timespec zero = { 0, 0 };
        return io_getevents(s->io_ctx, 0, 1, out, &zero) == 1;
    }
    struct aio_ring *ring = (struct aio_ring *)s->io_ctx;
    unsigned head = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
    unsigned tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
    if (head == tail) {
        return false;
    }
    *out = ring->io_events[head];
    /* The slot may be reused by the kernel once head moves past it. */
    __atomic_store_n(&ring->head, (head + 1) % ring->nr, __ATOMIC_RELEASE);
    return true;
}

static bool ring_peek(LinuxAioState *s)
{
    if (!s->ring_readable) {
        return s->q.in_flight > 0;    /* cannot tell: let the caller look */
    }
    struct aio_ring *ring = (struct aio_ring *)s->io_ctx;
    return __atomic_load_n(&ring->head, __ATOMIC_RELAXED) !=
           __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
}

/* How many events the ring holds now (1 if it cannot be read: events
 * are then taken one io_getevents at a time). */
static unsigned ring_burst(LinuxAioState *s)
{
    if (!s->ring_readable) {
        return 1;
    }
    struct aio_ring *ring = (struct aio_ring *)s->io_ctx;
    unsigned head = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
    unsigned tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
    return (tail + ring->nr - head) % ring->nr;
}

/* Complete one burst: the events the ring holds now, their callbacks
 * plugged, then one io_submit for what they resubmitted.  Returns how
 * many were taken. */
static unsigned complete_burst(LinuxAioState *s, unsigned max)
{
    unsigned burst = MIN(ring_burst(s), max), taken = 0;
    struct io_event ev;

    aio_disk_queue_plug(&s->q);
    while (taken < burst && ring_take(s, &ev)) {
        LaioRequest *req = container_of(ev.obj, LaioRequest, iocb);
        taken++;
        aio_disk_request_finished(&s->q, &req->common, io_event_result(&ev));
    }
    if (taken) {
        s->blocked = false;
    }
    if (aio_disk_queue_unplug(&s->q) && !s->blocked) {
        ioq_submit(s);
    }
    return taken;
}

/* Complete everything the kernel finished and the submit failures, then
 * submit what waits.  Completions are taken in bursts (what the ring
 * holds when the burst starts): the requests a burst's callbacks submit
 * go to the kernel together when the burst ends, one io_submit (and one
 * device doorbell) for all of them, and the next burst is what arrived
 * meanwhile.  Not all completions of the pass at once: that kept the
 * device queue empty while a long pass ran (25% fewer IOPS at QD 32). */
static unsigned process_completions(LinuxAioState *s)
{
    unsigned taken = 0, n;

    complete_failed(s);
    /* At most one ring's worth per call: a callback that resubmits a
     * request the kernel completes inside io_submit (buffered I/O) would
     * otherwise keep this loop going forever and starve the context's
     * BHs.  The rest is taken from the BH, after the loop's other work. */
    while (taken < MAX_EVENTS && (n = complete_burst(s, MAX_EVENTS - taken))) {
        taken += n;
    }
    if (taken == MAX_EVENTS) {
        aio_bh_schedule(s->completion_bh);
    }
    if (!s->q.plugged && !s->blocked && !STAILQ_EMPTY(&s->q.pending)) {
        ioq_submit(s);
    } else if (s->blocked && s->q.in_flight == 0 && !s->q.shutting_down) {
        /* EAGAIN with nothing in flight: no completion will wake us. */
        s->blocked = false;
        aio_bh_schedule(s->completion_bh);
    }
    return taken;
}

static void completion_bh(void *opaque)
{
    process_completions(opaque);
}

/* The eventfd is a wake-up, not a count: completions are taken from the
 * ring.  A level-triggered fdmon (poll, epoll, one-shot io_uring polls)
 * reports it for as long as it is non-zero, so it is emptied before the
 * ring is looked at (emptied after, a completion posted in between would
 * be lost).  An fdmon that reports every write (io_uring multishot polls)
 * wakes us for the next completion whatever the counter holds, so while
 * wake-ups find completions the read(2) is saved: one syscall per QD 1
 * I/O, as fio spends (io_submit, the wait).  A wake-up that finds none
 * (the counter left non-zero made a level check report it: a parked
 * poll's poll(2), a re-armed poll) empties it, then looks again. */
static void completion_notifier_cb(EventNotifier *e)
{
    LinuxAioState *s = container_of(e, LinuxAioState, e);

    if (aio_fdmon_reports_each_write(s->q.ctx) && process_completions(s)) {
        return;
    }
    event_notifier_test_and_clear(e);
    process_completions(s);
}

static bool completion_poll_cb(void *opaque)
{
    EventNotifier *e = opaque;
    LinuxAioState *s = container_of(e, LinuxAioState, e);
    return ring_peek(s) || !STAILQ_EMPTY(&s->failed);
}

static void completion_poll_ready(EventNotifier *e)
{
    process_completions(container_of(e, LinuxAioState, e));
}

/* io_submit() -errno other than EAGAIN: the first request is the
 * culprit; it completes with that error from the BH. */
static void fail_first(LinuxAioState *s, int ret)
{
    AioDiskRequest *req = aio_disk_queue_pop(&s->q);

    LAIO_REQUEST(req)->iocb.data = (void *)(intptr_t)ret;
    STAILQ_INSERT_TAIL(&s->failed, req, next);
    aio_bh_schedule(s->completion_bh);
}

static void ioq_submit(LinuxAioState *s)
{
    struct iocb *iocbs[MAX_EVENTS];

    while (!STAILQ_EMPTY(&s->q.pending) && s->q.in_flight < MAX_EVENTS) {
        unsigned limit = aio_disk_queue_batch_limit(&s->q);
        unsigned len = 0;
        AioDiskRequest *req;

        STAILQ_FOREACH(req, &s->q.pending, next) {
            iocbs[len++] = &LAIO_REQUEST(req)->iocb;
            if (len == limit) {
                break;
            }
        }
        int ret = io_submit(s->io_ctx, len, iocbs);
        STAT_ADD(s, submit_calls, 1);
        if (ret == -EAGAIN) {
            STAT_ADD(s, requeues, 1);
            s->blocked = true;
            break;
        }
        if (ret < 0) {
            fail_first(s, ret);
            continue;
        }
        for (int i = 0; i < ret; i++) {
            aio_disk_queue_pop(&s->q);
        }
        aio_disk_queue_started(&s->q, ret);
        aio_disk_queue_note_batch(&s->q, ret);
        if ((unsigned)ret < len) {
            /* The kernel took fewer: the rest waits for completions. */
            s->blocked = true;
            break;
        }
    }
    aio_disk_queue_submit_end(&s->q);
    if (s->blocked && s->q.in_flight == 0) {
        s->blocked = false;
        aio_bh_schedule(s->completion_bh);
    }
}

/* fsync runs in the thread pool: libaio cannot do it on most filesystems. */
typedef struct LaioFsync {
    int fd;
    AioIOCompletionFunc *cb;
    void *opaque;
} LaioFsync;

static int fsync_job(void *arg)
{
    LaioFsync *f = arg;
    return fsync(f->fd) < 0 ? -errno : 0;
}

static void fsync_done(void *opaque, int ret)
{
    LaioFsync *f = opaque;
    AioIOCompletionFunc *cb = f->cb;
    void *cb_opaque = f->opaque;
    g_free(f);
    cb(cb_opaque, ret);
}

static int submit_fsync(LinuxAioState *s, int fd, AioIOCompletionFunc *cb,
                        void *opaque)
{
    LaioFsync *f = g_new(LaioFsync, 1);

    *f = (LaioFsync){ fd, cb, opaque };
    if (!thread_pool_submit(aio_get_thread_pool(s->q.ctx), fsync_job, f,
                            fsync_done, f)) {
        g_free(f);
        return -ESHUTDOWN;
    }
    return 0;
}

int laio_submit(LinuxAioState *s, AioDiskOp op, int fd,
                const struct iovec *iov, int iovcnt, uint64_t offset,
                uint64_t dev_max_batch, AioIOCompletionFunc *cb, void *opaque)
{
    int ret = aio_disk_queue_check(&s->q, op, iov, iovcnt, cb);

    if (ret < 0) {
        return ret;
    }
    if (op == AIO_DISK_FSYNC) {
        return submit_fsync(s, fd, cb, opaque);
    }
    LaioRequest *req = LAIO_REQUEST(aio_disk_request_new(&s->q, op, iov,
                                                         iovcnt, cb, opaque));
    if (op == AIO_DISK_READ) {
        io_prep_preadv(&req->iocb, fd, (struct iovec *)iov, iovcnt, offset);
    } else {
        io_prep_pwritev(&req->iocb, fd, (struct iovec *)iov, iovcnt, offset);
    }
    io_set_eventfd(&req->iocb, event_notifier_get_fd(&s->e));
    if (aio_disk_queue_push(&s->q, &req->common, dev_max_batch) &&
        !s->blocked) {
        ioq_submit(s);
    }
    return 0;
}

void laio_io_plug(LinuxAioState *s)
{
    aio_disk_queue_plug(&s->q);
}

void laio_io_unplug(LinuxAioState *s)
{
    if (aio_disk_queue_unplug(&s->q) && !s->blocked) {
        ioq_submit(s);
    }
}

LinuxAioState *aio_get_linux_aio(AioContext *ctx)
{
    return ctx->linux_aio;
}

LinuxAioState *aio_setup_linux_aio(AioContext *ctx, GError **error)
{
    if (ctx->linux_aio) {
        return ctx->linux_aio;
    }
    LinuxAioState *s = g_new0(LinuxAioState, 1);
    int rc = event_notifier_init(&s->e, false);
    if (rc < 0) {
        g_set_error(error, AIO_ERROR, AIO_ERROR_FAILED,
                    "linux-aio: cannot create an eventfd: %s", g_strerror(-rc));
        g_free(s);
        return NULL;
    }
    rc = io_setup(MAX_EVENTS, &s->io_ctx);
    if (rc < 0) {
        g_set_error(error, AIO_ERROR,
                    rc == -ENOSYS ? AIO_ERROR_UNSUPPORTED : AIO_ERROR_FAILED,
                    "linux-aio: io_setup(%d) failed: %s (see "
                    "/proc/sys/fs/aio-max-nr)", MAX_EVENTS, g_strerror(-rc));
        event_notifier_cleanup(&s->e);
        g_free(s);
        return NULL;
    }
    s->ring_readable =
        ((struct aio_ring *)s->io_ctx)->magic == AIO_RING_MAGIC;
    aio_disk_queue_init(&s->q, ctx, sizeof(LaioRequest));
    STAILQ_INIT(&s->failed);
    s->completion_bh = aio_bh_new_full(ctx, completion_bh, s,
                                       "linux-aio-completion");
    aio_set_event_notifier(ctx, &s->e, completion_notifier_cb,
                           completion_poll_cb, completion_poll_ready);
    /* completion_notifier_cb clears the eventfd, or the fdmon reports
     * each write: either way no level re-check is needed. */
    aio_set_event_notifier_drains(ctx, &s->e);
    __atomic_store_n(&ctx->linux_aio, s, __ATOMIC_RELEASE);
    return s;
}

/* In the kernel: the buffers are still in use, so wait for them all. */
static void wait_in_flight(LinuxAioState *s)
{
    while (s->q.in_flight > 0) {
        struct io_event events[64];
        int n = io_getevents(s->io_ctx, 1, 64, events, NULL);
        if (n == -EINTR) {
            continue;
        }
        if (n < 0) {
            g_critical("linux-aio: io_getevents failed with %u requests in "
                       "flight: %s", s->q.in_flight, g_strerror(-n));
            break;
        }
        for (int i = 0; i < n; i++) {
            LaioRequest *req = container_of(events[i].obj, LaioRequest, iocb);
            aio_disk_request_finished(&s->q, &req->common,
                                      io_event_result(&events[i]));
        }
    }
}

void laio_cleanup(LinuxAioState *s)
{
    AioContext *ctx = s->q.ctx;

    aio_disk_queue_cancel_pending(&s->q);
    complete_failed(s);
    wait_in_flight(s);
    aio_set_event_notifier(ctx, &s->e, NULL, NULL, NULL);
    aio_bh_delete(s->completion_bh);
    io_destroy(s->io_ctx);
    event_notifier_cleanup(&s->e);
    aio_disk_queue_destroy(&s->q);
    ctx->linux_aio = NULL;
    g_free(s);
}

void laio_get_stats(LinuxAioState *s, AioDiskStats *out)
{
    aio_disk_counters_read(&s->q.stats, out);
}

static void *laio_setup_generic(AioContext *ctx, GError **error)
{
    return aio_setup_linux_aio(ctx, error);
}

static int laio_submit_generic(void *engine, AioDiskOp op, int fd,
                               const struct iovec *iov, int iovcnt,
                               uint64_t offset, uint64_t dev_max_batch,
                               AioIOCompletionFunc *cb, void *opaque)
{
    return laio_submit(engine, op, fd, iov, iovcnt, offset, dev_max_batch,
                       cb, opaque);
}

static void laio_plug_generic(void *engine)
{
    laio_io_plug(engine);
}

static void laio_unplug_generic(void *engine)
{
    laio_io_unplug(engine);
}

const AioDiskEngine aio_disk_engine_linux_aio = {
    .name = "linux-aio",
    .setup = laio_setup_generic,
    .submit = laio_submit_generic,
    .plug = laio_plug_generic,
    .unplug = laio_unplug_generic,
};
