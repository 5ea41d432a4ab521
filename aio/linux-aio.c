/*
 * linux-aio disk engine: libaio requests of one AioContext (behaviour of
 * QEMU's block/linux-aio.c).  Contract in disk-io.h.
 *
 * - Requests wait on a pending queue and go to io_submit() in batches of at
 *   most laio_max_batch(); at most AIO_DISK_MAX_IN_FLIGHT are in the kernel.
 * - io_submit() -EAGAIN leaves them queued ("blocked") until a completion
 *   frees room; any other error fails only the first request of the batch.
 * - Completions signal an eventfd registered with aio_set_event_notifier;
 *   its io_poll peeks the completion ring that the kernel maps into our
 *   address space (the io_context_t *is* that ring), so adaptive polling
 *   sees disk completions without a syscall.  We consume events by moving
 *   the ring head ourselves, one event at a time, so a callback that runs a
 *   nested aio_poll() never sees an event twice.
 * - Callbacks never run inside laio_submit(): failures found while
 *   submitting are completed from a BH.
 *
 * Threads: home thread only; the stats counters are written by the home
 * thread and read anywhere with relaxed loads.
 */
#include "disk-io.h"
#include "thread-pool.h"
#include "aio-internal.h"
#include "disk-common.h"

#include <errno.h>
#include <libaio.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define MAX_EVENTS AIO_DISK_MAX_IN_FLIGHT
#define FREE_LIST_MAX 256
#define AIO_RING_MAGIC 0xa10a10a1

typedef struct LaioRequest {
    LinuxAioState *s;
    struct iocb iocb;
    const struct iovec *iov;
    int iovcnt;
    size_t nbytes;
    bool is_read;
    uint64_t dev_max_batch;
    AioIOCompletionFunc *cb;
    void *opaque;
    STAILQ_ENTRY(LaioRequest) next;
} LaioRequest;

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
    AioContext *ctx;
    io_context_t io_ctx;
    bool ring_readable;         /* the mapped ring has the expected magic */
    EventNotifier e;
    AioBH *completion_bh;

    STAILQ_HEAD(, LaioRequest) pending;   /* not yet in the kernel */
    STAILQ_HEAD(, LaioRequest) failed;    /* to complete from the BH */
    unsigned in_queue;
    unsigned in_flight;
    uint64_t queue_dev_max_batch;         /* min non-zero over pending */
    int plugged;
    bool blocked;                         /* io_submit said EAGAIN */
    bool shutting_down;

    LaioRequest *free_list;
    unsigned free_count;
    AioDiskCounters stats;
};

#define STAT_ADD(s, f, n) DISK_STAT_ADD(&(s)->stats, f, n)
#define STAT_SET(s, f, v) DISK_STAT_SET(&(s)->stats, f, v)

static void ioq_submit(LinuxAioState *s);

static void release_request(LinuxAioState *s, LaioRequest *req)
{
    if (s->free_count < FREE_LIST_MAX) {
        STAILQ_NEXT(req, next) = s->free_list;
        s->free_list = req;
        s->free_count++;
    } else {
        g_free(req);
    }
}

/* @res: the kernel's result (bytes or -errno).  Runs the callback. */
static void complete_request(LinuxAioState *s, LaioRequest *req, ssize_t res)
{
    int ret = aio_disk_complete_result(&s->stats,
                                       req->is_read ? AIO_DISK_READ : AIO_DISK_WRITE,
                                       req->iov, req->iovcnt, req->nbytes, res);
    AioIOCompletionFunc *cb = req->cb;
    void *opaque = req->opaque;
    release_request(s, req);
    cb(opaque, ret);
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
        return s->in_flight > 0;    /* cannot tell: let the caller look */
    }
    struct aio_ring *ring = (struct aio_ring *)s->io_ctx;
    return __atomic_load_n(&ring->head, __ATOMIC_RELAXED) !=
           __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
}

/* Complete everything the kernel finished and the submit failures, then
 * submit what waits.  Callbacks are not plugged: a request a callback
 * submits goes to the kernel at once, which keeps the device queue full
 * (batching resubmissions cost ~25% IOPS at QD 32 in io-bench). */
static void process_completions(LinuxAioState *s)
{
    struct io_event ev;
    bool any = false;

    while (!STAILQ_EMPTY(&s->failed)) {
        LaioRequest *req = STAILQ_FIRST(&s->failed);
        STAILQ_REMOVE_HEAD(&s->failed, next);
        complete_request(s, req, (ssize_t)(intptr_t)req->iocb.data);
    }
    while (ring_take(s, &ev)) {
        LaioRequest *req = container_of(ev.obj, LaioRequest, iocb);
        s->in_flight--;
        STAT_SET(s, in_flight, s->in_flight);
        any = true;
        complete_request(s, req, io_event_result(&ev));
    }
    if (any) {
        s->blocked = false;
    }
    if (!s->plugged && !s->blocked && !STAILQ_EMPTY(&s->pending)) {
        ioq_submit(s);
    } else if (s->blocked && s->in_flight == 0 && !s->shutting_down) {
        /* EAGAIN with nothing in flight: no completion will wake us. */
        s->blocked = false;
        aio_bh_schedule(s->completion_bh);
    }
}

static void completion_bh(void *opaque)
{
    process_completions(opaque);
}

static void completion_notifier_cb(EventNotifier *e)
{
    LinuxAioState *s = container_of(e, LinuxAioState, e);
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

static unsigned laio_max_batch(LinuxAioState *s)
{
    uint64_t max = (uint64_t)aio_context_max_batch(s->ctx);
    if (s->queue_dev_max_batch && s->queue_dev_max_batch < max) {
        max = s->queue_dev_max_batch;
    }
    if (max > MAX_EVENTS - s->in_flight) {
        max = MAX_EVENTS - s->in_flight;
    }
    return (unsigned)max;
}

static void ioq_submit(LinuxAioState *s)
{
    struct iocb *iocbs[MAX_EVENTS];

    while (!STAILQ_EMPTY(&s->pending) && s->in_flight < MAX_EVENTS) {
        unsigned limit = laio_max_batch(s);
        unsigned len = 0;
        LaioRequest *req;

        STAILQ_FOREACH(req, &s->pending, next) {
            iocbs[len++] = &req->iocb;
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
            /* The first request is the culprit: fail it, retry the rest. */
            req = STAILQ_FIRST(&s->pending);
            STAILQ_REMOVE_HEAD(&s->pending, next);
            s->in_queue--;
            req->iocb.data = (void *)(intptr_t)ret;
            STAILQ_INSERT_TAIL(&s->failed, req, next);
            aio_bh_schedule(s->completion_bh);
            continue;
        }
        for (int i = 0; i < ret; i++) {
            STAILQ_REMOVE_HEAD(&s->pending, next);
        }
        s->in_queue -= ret;
        s->in_flight += ret;
        STAT_ADD(s, submitted, ret);
        STAT_SET(s, in_flight, s->in_flight);
        aio_disk_note_batch(&s->stats, (uint64_t)ret);
        if ((unsigned)ret < len) {
            /* The kernel took fewer: the rest waits for completions. */
            s->blocked = true;
            break;
        }
    }
    if (STAILQ_EMPTY(&s->pending)) {
        s->queue_dev_max_batch = 0;
    }
    if (s->blocked && s->in_flight == 0) {
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

int laio_submit(LinuxAioState *s, AioDiskOp op, int fd,
                const struct iovec *iov, int iovcnt, uint64_t offset,
                uint64_t dev_max_batch, AioIOCompletionFunc *cb, void *opaque)
{
    if (!cb || (op != AIO_DISK_FSYNC &&
                (!iov || iovcnt <= 0 || iovcnt > IOV_MAX))) {
        return -EINVAL;
    }
    if (s->shutting_down) {
        return -ESHUTDOWN;
    }
    if (op == AIO_DISK_FSYNC) {
        LaioFsync *f = g_new(LaioFsync, 1);
        *f = (LaioFsync){ fd, cb, opaque };
        if (!thread_pool_submit(aio_get_thread_pool(s->ctx), fsync_job, f,
                                fsync_done, f)) {
            g_free(f);
            return -ESHUTDOWN;
        }
        return 0;
    }
    if (op != AIO_DISK_READ && op != AIO_DISK_WRITE) {
        return -EINVAL;
    }

    LaioRequest *req = s->free_list;
    if (req) {
        s->free_list = STAILQ_NEXT(req, next);
        s->free_count--;
    } else {
        req = g_new(LaioRequest, 1);
    }
    size_t nbytes = 0;
    for (int i = 0; i < iovcnt; i++) {
        nbytes += iov[i].iov_len;
    }
    *req = (LaioRequest){
        .s = s, .iov = iov, .iovcnt = iovcnt, .nbytes = nbytes,
        .is_read = op == AIO_DISK_READ, .dev_max_batch = dev_max_batch,
        .cb = cb, .opaque = opaque,
    };
    if (req->is_read) {
        io_prep_preadv(&req->iocb, fd, (struct iovec *)iov, iovcnt, offset);
    } else {
        io_prep_pwritev(&req->iocb, fd, (struct iovec *)iov, iovcnt, offset);
    }
    io_set_eventfd(&req->iocb, event_notifier_get_fd(&s->e));

    STAILQ_INSERT_TAIL(&s->pending, req, next);
    s->in_queue++;
    if (dev_max_batch && (!s->queue_dev_max_batch ||
                          dev_max_batch < s->queue_dev_max_batch)) {
        s->queue_dev_max_batch = dev_max_batch;
    }
    if (!s->blocked && (!s->plugged || s->in_queue >= laio_max_batch(s))) {
        ioq_submit(s);
    }
    return 0;
}

void laio_io_plug(LinuxAioState *s)
{
    s->plugged++;
}

void laio_io_unplug(LinuxAioState *s)
{
    g_return_if_fail(s->plugged > 0);
    if (--s->plugged == 0 && !s->blocked && !STAILQ_EMPTY(&s->pending)) {
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
    s->ctx = ctx;
    STAILQ_INIT(&s->pending);
    STAILQ_INIT(&s->failed);
    s->completion_bh = aio_bh_new_full(ctx, completion_bh, s,
                                       "linux-aio-completion");
    aio_set_event_notifier(ctx, &s->e, completion_notifier_cb,
                           completion_poll_cb, completion_poll_ready);
    __atomic_store_n(&ctx->linux_aio, s, __ATOMIC_RELEASE);
    return s;
}

void laio_cleanup(LinuxAioState *s)
{
    s->shutting_down = true;
    /* Never handed to the kernel: cancelled. */
    while (!STAILQ_EMPTY(&s->pending)) {
        LaioRequest *req = STAILQ_FIRST(&s->pending);
        STAILQ_REMOVE_HEAD(&s->pending, next);
        s->in_queue--;
        complete_request(s, req, -ECANCELED);
    }
    while (!STAILQ_EMPTY(&s->failed)) {
        LaioRequest *req = STAILQ_FIRST(&s->failed);
        STAILQ_REMOVE_HEAD(&s->failed, next);
        complete_request(s, req, (ssize_t)(intptr_t)req->iocb.data);
    }
    /* In the kernel: the buffers are still in use, so wait. */
    while (s->in_flight > 0) {
        struct io_event events[64];
        int n = io_getevents(s->io_ctx, 1, 64, events, NULL);
        if (n == -EINTR) {
            continue;
        }
        if (n < 0) {
            g_critical("linux-aio: io_getevents failed with %u requests in "
                       "flight: %s", s->in_flight, g_strerror(-n));
            break;
        }
        for (int i = 0; i < n; i++) {
            LaioRequest *req = container_of(events[i].obj, LaioRequest, iocb);
            s->in_flight--;
            complete_request(s, req, io_event_result(&events[i]));
        }
    }
    STAT_SET(s, in_flight, s->in_flight);
    aio_set_event_notifier(s->ctx, &s->e, NULL, NULL, NULL);
    aio_bh_delete(s->completion_bh);
    io_destroy(s->io_ctx);
    event_notifier_cleanup(&s->e);
    while (s->free_list) {
        LaioRequest *req = s->free_list;
        s->free_list = STAILQ_NEXT(req, next);
        g_free(req);
    }
    s->ctx->linux_aio = NULL;
    g_free(s);
}

void laio_get_stats(LinuxAioState *s, AioDiskStats *out)
{
    aio_disk_counters_read(&s->stats, out);
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
