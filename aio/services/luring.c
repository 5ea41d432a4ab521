/*
 * io_uring disk engine of an AioContext.  Contract in disk-io.h.
 *
 * Two submission paths behind one API:
 *  - fdmon ring: on a context whose fd monitoring is io_uring, requests go
 *    through aio_add_sqe() and complete through their CqeHandler; each
 *    batch (at most max_batch sqes) is handed to the kernel at once with
 *    aio_submit_sqes(), one io_uring_enter per batch, as on the own ring.
 *  - own ring: elsewhere the engine owns a ring whose fd is registered with
 *    aio_set_fd_handler (io_poll peeks the completion queue, so adaptive
 *    polling covers it) and calls io_uring_submit once per batch.
 * Completions are taken in bursts: the callbacks of the completions at
 * hand run plugged, and what they resubmit reaches the kernel together
 * when the burst ends (one io_uring_enter, one device kick), before the
 * loop waits again (see fdmon_cqe_cb and own_process_cqes).
 *
 * Threads: home thread only; stats counters are written by the home thread
 * and read anywhere with relaxed loads.
 */
#include "aioctx/disk-io.h"
#include "core/aio-internal.h"
#include "services/disk-common.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#define MAX_IN_FLIGHT AIO_DISK_MAX_IN_FLIGHT
#define OWN_SQ_ENTRIES 256
#define OWN_CQ_ENTRIES (2 * MAX_IN_FLIGHT)  /* never overflows */

typedef struct LuringRequest {
    AioDiskRequest common;      /* first: the queue's view */
    LuringState *s;
    CqeHandler cqe;             /* fdmon path */
    int fd;
    uint64_t offset;
} LuringRequest;

#define LURING_REQUEST(r) container_of((r), LuringRequest, common)

struct LuringState {
    AioDiskQueue q;             /* ctx, pending, in_flight, plug, stats */
    bool use_fdmon;
    struct io_uring ring;       /* own path only */
    AioBH *resume_bh;           /* continue submitting in a later iteration */
    AioBH *burst_bh;            /* fdmon path: ends a completion burst */
    bool in_burst;              /* fdmon path: plugged until burst_bh */
    /* own path: sqes prepared but not accepted by io_uring_submit. */
    unsigned unsubmitted;
};

#define STAT_ADD(s, f, n) DISK_STAT_ADD(&(s)->q.stats, f, n)

static void ioq_submit(LuringState *s);

static void prep_request(struct io_uring_sqe *sqe, void *opaque)
{
    LuringRequest *req = opaque;
    const AioDiskRequest *c = &req->common;

    switch (c->op) {
    case AIO_DISK_READ:
        io_uring_prep_readv(sqe, req->fd, c->iov, c->iovcnt, req->offset);
        break;
    case AIO_DISK_WRITE:
        io_uring_prep_writev(sqe, req->fd, c->iov, c->iovcnt, req->offset);
        break;
    case AIO_DISK_FSYNC:
        io_uring_prep_fsync(sqe, req->fd, 0);
        break;
    }
}

/* fdmon path: the first completion of a dispatch pass plugs the queue
 * until burst_bh, which runs first thing in the loop's next iteration
 * (a scheduled BH keeps it from waiting), after the pass's other
 * completion callbacks: what they resubmit goes to the kernel in one
 * batch.  One request per io_uring_enter cost one device kick (a VM exit
 * here) each: at QD 32 the batch is ~30 and the CPU per I/O a third. */
static void fdmon_cqe_cb(CqeHandler *handler)
{
    LuringRequest *req = container_of(handler, LuringRequest, cqe);
    LuringState *s = req->s;

    if (!s->in_burst) {
        s->in_burst = true;
        aio_disk_queue_plug(&s->q);
        aio_bh_schedule(s->burst_bh);
    }
    aio_disk_request_finished(&s->q, &req->common, handler->cqe_res);
}

static void burst_end_bh(void *opaque)
{
    LuringState *s = opaque;

    s->in_burst = false;
    if (aio_disk_queue_unplug(&s->q)) {
        ioq_submit(s);
    }
}

/* fdmon ring: add the queue in batches of at most max_batch sqes, each
 * handed to the kernel at once with aio_submit_sqes().  Left to the loop's
 * next wait, the requests resubmitted by the completion callbacks of one
 * dispatch reached the kernel together after the last callback, in one
 * io_uring_enter (one block plug, one device kick): the device sat idle
 * from its last completion until then, and at QD 32 the queue ran in
 * lock-step rounds of 32 (~80% of fio's IOPS). */
static void fdmon_submit(LuringState *s)
{
    while (!STAILQ_EMPTY(&s->q.pending) && s->q.in_flight < MAX_IN_FLIGHT) {
        unsigned limit = aio_disk_queue_batch_limit(&s->q);
        unsigned n = 0;
        AioDiskRequest *c;

        while (n < limit && (c = aio_disk_queue_pop(&s->q))) {
            LuringRequest *req = LURING_REQUEST(c);
            aio_add_sqe(s->q.ctx, prep_request, req, &req->cqe);
            n++;
        }
        aio_disk_queue_started(&s->q, n);
        STAT_ADD(s, submit_calls, 1);
        aio_disk_queue_note_batch(&s->q, n);
        if (aio_submit_sqes(s->q.ctx) < 0) {
            /* The kernel did not take them all now; the loop's wait
             * submits the rest.  Add no more on top (the next batch
             * would exceed the bound): continue from a BH. */
            STAT_ADD(s, requeues, 1);
            if (!STAILQ_EMPTY(&s->q.pending)) {
                aio_bh_schedule(s->resume_bh);
            }
            return;
        }
    }
}

/* Own ring: hand prepared sqes to the kernel; false when it refused for
 * now (they stay in the sq ring and a BH retries). */
static bool own_flush(LuringState *s)
{
    while (s->unsubmitted) {
        int ret = io_uring_submit(&s->ring);
        STAT_ADD(s, submit_calls, 1);
        if (ret == -EINTR) {
            continue;
        }
        if (ret < 0) {
            if (ret != -EAGAIN && ret != -EBUSY) {
                g_warning("io_uring engine: io_uring_submit failed: %s",
                          g_strerror(-ret));
            }
            STAT_ADD(s, requeues, 1);
            aio_bh_schedule(s->resume_bh);
            return false;
        }
        aio_disk_queue_note_batch(&s->q, ret);
        s->unsubmitted -= (unsigned)ret < s->unsubmitted ? (unsigned)ret
                                                          : s->unsubmitted;
        if (ret == 0) {
            aio_bh_schedule(s->resume_bh);
            return false;
        }
    }
    return true;
}

static void own_submit(LuringState *s)
{
    if (!own_flush(s)) {
        return;
    }
    while (!STAILQ_EMPTY(&s->q.pending) && s->q.in_flight < MAX_IN_FLIGHT) {
        unsigned limit = aio_disk_queue_batch_limit(&s->q);
        unsigned n = 0;
        while (n < limit && !STAILQ_EMPTY(&s->q.pending)) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
            if (!sqe) {
                break;
            }
            LuringRequest *req = LURING_REQUEST(aio_disk_queue_pop(&s->q));
            prep_request(sqe, req);
            io_uring_sqe_set_data(sqe, req);
            n++;
        }
        aio_disk_queue_started(&s->q, n);
        s->unsubmitted += n;
        if (!own_flush(s)) {
            return;
        }
    }
}

static void ioq_submit(LuringState *s)
{
    if (s->use_fdmon) {
        fdmon_submit(s);
    } else {
        own_submit(s);
    }
    aio_disk_queue_submit_end(&s->q);
}

static void resume_bh(void *opaque)
{
    LuringState *s = opaque;
    /* Scheduled when the kernel took fewer sqes than offered: by now the
     * loop has waited (and submitted the rest) or a completion came. */
    if (!s->q.plugged) {
        ioq_submit(s);
    }
}

/* Own ring: reap the cqes at hand as one burst, plugged (see
 * fdmon_cqe_cb), then submit what their callbacks queued; again while
 * more arrived. */
static void own_process_cqes(LuringState *s)
{
    struct io_uring_cqe *cqe;
    unsigned taken = 0, burst;

    /* At most MAX_IN_FLIGHT per call: a callback that resubmits a request
     * the kernel completes inline (buffered I/O) would otherwise keep this
     * loop going forever and starve the context's BHs.  The ring fd stays
     * readable while cqes wait, so the next loop iteration takes the rest. */
    while (taken < MAX_IN_FLIGHT && (burst = io_uring_cq_ready(&s->ring))) {
        aio_disk_queue_plug(&s->q);
        for (unsigned i = 0; i < burst && taken < MAX_IN_FLIGHT &&
                             io_uring_peek_cqe(&s->ring, &cqe) == 0; i++) {
            LuringRequest *req = io_uring_cqe_get_data(cqe);
            int res = cqe->res;
            /* Release the slot before the callback: a nested aio_poll()
             * must not see this cqe again. */
            io_uring_cqe_seen(&s->ring, cqe);
            taken++;
            aio_disk_request_finished(&s->q, &req->common, res);
        }
        if (aio_disk_queue_unplug(&s->q)) {
            ioq_submit(s);
        }
    }
    if (!s->q.plugged && (s->unsubmitted || !STAILQ_EMPTY(&s->q.pending))) {
        ioq_submit(s);
    }
}

static void own_ring_readable(void *opaque)
{
    own_process_cqes(opaque);
}

static bool own_ring_poll(void *opaque)
{
    LuringState *s = opaque;
    return io_uring_cq_ready(&s->ring) > 0;
}

int luring_submit(LuringState *s, AioDiskOp op, int fd,
                  const struct iovec *iov, int iovcnt, uint64_t offset,
                  uint64_t dev_max_batch, AioIOCompletionFunc *cb,
                  void *opaque)
{
    int ret = aio_disk_queue_check(&s->q, op, iov, iovcnt, cb);

    if (ret < 0) {
        return ret;
    }
    LuringRequest *req = LURING_REQUEST(aio_disk_request_new(&s->q, op, iov,
                                                             iovcnt, cb,
                                                             opaque));
    req->s = s;
    req->fd = fd;
    req->offset = offset;
    req->cqe.cb = fdmon_cqe_cb;
    if (aio_disk_queue_push(&s->q, &req->common, dev_max_batch)) {
        ioq_submit(s);
    }
    return 0;
}

void luring_io_plug(LuringState *s)
{
    aio_disk_queue_plug(&s->q);
}

void luring_io_unplug(LuringState *s)
{
    if (aio_disk_queue_unplug(&s->q)) {
        ioq_submit(s);
    }
}

bool luring_uses_fdmon_ring(LuringState *s)
{
    return s->use_fdmon;
}

LuringState *aio_get_io_uring_engine(AioContext *ctx)
{
    return ctx->luring;
}

LuringState *aio_setup_io_uring_engine(AioContext *ctx, GError **error)
{
    if (ctx->luring) {
        return ctx->luring;
    }
    LuringState *s = g_new0(LuringState, 1);
    aio_disk_queue_init(&s->q, ctx, sizeof(LuringRequest));
    s->use_fdmon = aio_has_io_uring(ctx);
    if (!s->use_fdmon) {
        struct io_uring_params params = {
            .flags = IORING_SETUP_CQSIZE,
            .cq_entries = OWN_CQ_ENTRIES,
        };
        int rc = io_uring_queue_init_params(OWN_SQ_ENTRIES, &s->ring, &params);
        if (rc < 0) {
            g_set_error(error, AIO_ERROR,
                        rc == -ENOSYS || rc == -EPERM ? AIO_ERROR_UNSUPPORTED
                                                      : AIO_ERROR_FAILED,
                        "io_uring engine: cannot create a ring: %s",
                        g_strerror(-rc));
            g_free(s);
            return NULL;
        }
        aio_set_fd_handler(ctx, s->ring.ring_fd, own_ring_readable, NULL,
                           own_ring_poll, own_ring_readable, s);
    }
    s->resume_bh = aio_bh_new_full(ctx, resume_bh, s, "io_uring-engine-resume");
    s->burst_bh = aio_bh_new_full(ctx, burst_end_bh, s,
                                  "io_uring-engine-burst");
    __atomic_store_n(&ctx->luring, s, __ATOMIC_RELEASE);
    return s;
}

/* Own ring at finalization: submit what is prepared and reap every
 * request still in the kernel (their buffers are in use). */
static void own_wait_in_flight(LuringState *s)
{
    while (s->q.in_flight > 0) {
        struct io_uring_cqe *cqe;
        if (s->unsubmitted) {
            int ret = io_uring_submit(&s->ring);
            if (ret > 0) {
                s->unsubmitted -= (unsigned)ret < s->unsubmitted
                                  ? (unsigned)ret : s->unsubmitted;
            }
        }
        int rc = io_uring_wait_cqe(&s->ring, &cqe);
        if (rc == -EINTR) {
            continue;
        }
        if (rc < 0) {
            g_critical("io_uring engine: waiting for %u requests failed: "
                       "%s", s->q.in_flight, g_strerror(-rc));
            break;
        }
        LuringRequest *req = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&s->ring, cqe);
        aio_disk_request_finished(&s->q, &req->common, res);
    }
}

void luring_cleanup(LuringState *s)
{
    AioContext *ctx = s->q.ctx;

    aio_disk_queue_cancel_pending(&s->q);
    if (s->use_fdmon) {
        /* The context is intact during finalization: let its loop reap our
         * cqes (the fdmon ring is destroyed after the services). */
        while (s->q.in_flight > 0) {
            aio_poll(ctx, true);
        }
    } else {
        own_wait_in_flight(s);
        aio_set_fd_handler(ctx, s->ring.ring_fd, NULL, NULL, NULL, NULL,
                           NULL);
        io_uring_queue_exit(&s->ring);
    }
    aio_bh_delete(s->resume_bh);
    aio_bh_delete(s->burst_bh);
    aio_disk_queue_destroy(&s->q);
    ctx->luring = NULL;
    g_free(s);
}

void luring_get_stats(LuringState *s, AioDiskStats *out)
{
    aio_disk_counters_read(&s->q.stats, out);
}

static void *luring_setup_generic(AioContext *ctx, GError **error)
{
    return aio_setup_io_uring_engine(ctx, error);
}

static int luring_submit_generic(void *engine, AioDiskOp op, int fd,
                                 const struct iovec *iov, int iovcnt,
                                 uint64_t offset, uint64_t dev_max_batch,
                                 AioIOCompletionFunc *cb, void *opaque)
{
    return luring_submit(engine, op, fd, iov, iovcnt, offset, dev_max_batch,
                         cb, opaque);
}

static void luring_plug_generic(void *engine)
{
    luring_io_plug(engine);
}

static void luring_unplug_generic(void *engine)
{
    luring_io_unplug(engine);
}

const AioDiskEngine aio_disk_engine_io_uring = {
    .name = "io_uring",
    .setup = luring_setup_generic,
    .submit = luring_submit_generic,
    .plug = luring_plug_generic,
    .unplug = luring_unplug_generic,
};
