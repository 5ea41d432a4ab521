/*
 * fdmon-io_uring: io_uring(7) file-descriptor monitoring for an AioContext,
 * plus the aio_add_sqe() passthrough that lets other code (the io_uring
 * disk engine) submit arbitrary requests through the context's own ring.
 *
 * Behaviour follows QEMU's util/fdmon-io_uring.c (seed 001):
 *  - every handler has one one-shot IORING_OP_POLL_ADD in flight, re-armed
 *    after each completion;
 *  - a removed handler gets an IORING_OP_POLL_REMOVE, and the node is only
 *    freed once its POLL_ADD completion was reaped (the kernel still holds
 *    the node pointer as user_data until then): ->update() sets
 *    node->backend_owns and we call aio_free_deleted_handler() later;
 *  - a removed handler is never dispatched, even when its POLL_ADD
 *    completed with events before the removal reached the kernel;
 *  - blocking waits with a timeout add an IORING_OP_TIMEOUT sqe with
 *    count 1, so it cancels itself as soon as anything else completes.
 *
 * The sq ring is only filled from ->wait() and ->gsource_prepare() (pending
 * handler changes sit on st->submit_list until then) and from add_sqe().
 * Re-arming after a completion also goes through the submit list, so no
 * sqe is ever taken while the cq ring is being walked.
 *
 * user_data encodes what a cqe is for in its two low bits (every pointer
 * stored is at least 4-byte aligned): a handler's POLL_ADD (the node
 * itself, tag 0, which is also what POLL_REMOVE names), a CqeHandler, a
 * POLL_REMOVE, or a timeout (with a sequence number above the tag).
 *
 * Threads: home thread only, like every FDMonOps.
 */
#include "aio-internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

enum {
    URING_ENTRIES = 128,            /* sq ring; the cq ring is twice that */

    /* AioHandler::uring_flags */
    UF_PENDING = 1 << 0,            /* on st->submit_list */
    UF_ADD = 1 << 1,                /* needs a POLL_ADD sqe */
    UF_INFLIGHT = 1 << 2,           /* POLL_ADD queued, cqe not reaped yet */
    UF_REMOVE = 1 << 3,             /* removed by ->update(); sticky */
    UF_REMOVE_SENT = 1 << 4,        /* POLL_REMOVE queued */
};

enum {
    UD_POLL_ADD = 0,
    UD_CQE_HANDLER = 1,
    UD_POLL_REMOVE = 2,
    UD_TIMEOUT = 3,
    UD_TAG_MASK = 3,
};

/* A cqe copied out of the ring when the sq ring had to be flushed while the
 * kernel refused submissions because of a cq overflow backlog. */
typedef struct StashedCqe {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
} StashedCqe;

typedef struct UringState {
    struct io_uring ring;
    gpointer gsource_tag;           /* g_source_add_unix_fd() of ring_fd */
    AioHandlerSList submit_list;    /* nodes with UF_PENDING */
    GHashTable *owned;              /* removed nodes we still hold */
    GArray *stash;                  /* StashedCqe, processed first */

    /* Completed CqeHandlers waiting for ->dispatch(), FIFO via ->next. */
    CqeHandler *cqe_ready_head;
    CqeHandler **cqe_ready_tail;

    /* The timeout of the wait in progress: its sequence number and whether
     * it expired (-ETIME) or was cancelled by another completion. */
    uint64_t timeout_seq;
    bool timeout_armed;
    bool timeout_expired;
    struct __kernel_timespec timeout_ts;
} UringState;

static inline int poll_events_from_pfd(int pfd_events)
{
    return (pfd_events & G_IO_IN ? POLLIN : 0) |
           (pfd_events & G_IO_OUT ? POLLOUT : 0) |
           (pfd_events & G_IO_PRI ? POLLPRI : 0) |
           (pfd_events & G_IO_HUP ? POLLHUP : 0) |
           (pfd_events & G_IO_ERR ? POLLERR : 0);
}

static inline int pfd_events_from_poll(int poll_events)
{
    return (poll_events & POLLIN ? G_IO_IN : 0) |
           (poll_events & POLLOUT ? G_IO_OUT : 0) |
           (poll_events & POLLPRI ? G_IO_PRI : 0) |
           (poll_events & POLLHUP ? G_IO_HUP : 0) |
           (poll_events & POLLERR ? G_IO_ERR : 0);
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline UringState *uring_state(AioContext *ctx)
{
    return ctx->fdmon_data;
}

/* Copy every cqe out of the ring (and the kernel's overflow list) so the
 * kernel accepts submissions again. */
static void stash_cqes(UringState *st)
{
    struct io_uring_cqe *cqe;
    unsigned head, n;

    do {
        n = 0;
        io_uring_for_each_cqe(&st->ring, head, cqe) {
            StashedCqe s = { cqe->user_data, cqe->res, cqe->flags };
            g_array_append_val(st->stash, s);
            n++;
        }
        io_uring_cq_advance(&st->ring, n);
        if (io_uring_cq_has_overflow(&st->ring)) {
            io_uring_get_events(&st->ring);
        }
    } while (n > 0 || io_uring_cq_ready(&st->ring));
}

/* Submit what is queued, retrying on EINTR and on a cq overflow backlog.
 * Returns the io_uring_submit() result of the last try. */
static int submit_pending(UringState *st)
{
    int ret;

    for (int tries = 0; tries < 64; tries++) {
        ret = io_uring_submit(&st->ring);
        if (ret == -EINTR) {
            continue;
        }
        if (ret == -EBUSY || ret == -EAGAIN) {
            stash_cqes(st);
            continue;
        }
        return ret;
    }
    return ret;
}

/* An sqe, submitting what is queued first when the sq ring is full.
 * NULL only if the kernel keeps refusing submissions. */
static struct io_uring_sqe *get_sqe(UringState *st)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&st->ring);

    if (G_LIKELY(sqe)) {
        return sqe;
    }
    submit_pending(st);
    return io_uring_get_sqe(&st->ring);
}

static void enqueue(UringState *st, AioHandler *node, unsigned flags)
{
    if (!(node->uring_flags & UF_PENDING)) {
        SLIST_INSERT_HEAD(&st->submit_list, node, node_submitted);
    }
    node->uring_flags |= UF_PENDING | flags;
}

static void dequeue_one(UringState *st, AioHandler *node)
{
    SLIST_REMOVE(&st->submit_list, node, AioHandler, node_submitted);
    node->uring_flags &= ~UF_PENDING;
}

/* The kernel holds no reference to @node any more: hand it back. */
static void release_node(AioContext *ctx, UringState *st, AioHandler *node)
{
    g_hash_table_remove(st->owned, node);
    node->uring_flags = 0;
    aio_free_deleted_handler(ctx, node);
}

static void fdmon_io_uring_update(AioContext *ctx, AioHandler *old_node,
                                  AioHandler *new_node)
{
    UringState *st = uring_state(ctx);

    if (new_node) {
        new_node->uring_flags = 0;
        enqueue(st, new_node, UF_ADD);
    }
    if (!old_node) {
        return;
    }
    if (!(old_node->uring_flags & UF_INFLIGHT)) {
        /* The kernel never saw it (or its poll failed): the core can free
         * it right away.  O(n) unlink, but only for a node added and
         * removed between two waits. */
        if (old_node->uring_flags & UF_PENDING) {
            dequeue_one(st, old_node);
        }
        old_node->uring_flags = 0;
        return;
    }
    /* Its POLL_ADD may complete at any time, even with events before the
     * POLL_REMOVE is seen: keep the node until that cqe is reaped. */
    old_node->uring_flags &= ~UF_ADD;
    enqueue(st, old_node, UF_REMOVE);
    old_node->backend_owns = true;
    g_hash_table_add(st->owned, old_node);
}

static bool queue_poll_add(UringState *st, AioHandler *node)
{
    struct io_uring_sqe *sqe = get_sqe(st);

    if (!sqe) {
        return false;
    }
    io_uring_prep_poll_add(sqe, node->pfd.fd,
                           poll_events_from_pfd(node->pfd.events));
    io_uring_sqe_set_data64(sqe, (uintptr_t)node | UD_POLL_ADD);
    node->uring_flags |= UF_INFLIGHT;
    return true;
}

static bool queue_poll_remove(UringState *st, AioHandler *node)
{
    struct io_uring_sqe *sqe = get_sqe(st);

    if (!sqe) {
        return false;
    }
    io_uring_prep_poll_remove(sqe, (uintptr_t)node | UD_POLL_ADD);
    io_uring_sqe_set_data64(sqe, UD_POLL_REMOVE);
    node->uring_flags |= UF_REMOVE_SENT;
    return true;
}

/* Turn the submit list into sqes.  A node whose sqe cannot be had stays on
 * the list for the next try. */
static void fill_sq_ring(AioContext *ctx, UringState *st)
{
    AioHandlerSList retry = SLIST_HEAD_INITIALIZER(retry);
    AioHandler *node;

    while ((node = SLIST_FIRST(&st->submit_list))) {
        bool ok = true;

        SLIST_REMOVE_HEAD(&st->submit_list, node_submitted);
        node->uring_flags &= ~UF_PENDING;

        if (node->uring_flags & UF_REMOVE) {
            if (!(node->uring_flags & UF_INFLIGHT)) {
                release_node(ctx, st, node);    /* its cqe came meanwhile */
                continue;
            }
            if (!(node->uring_flags & UF_REMOVE_SENT)) {
                ok = queue_poll_remove(st, node);
            }
        } else if (node->uring_flags & UF_ADD) {
            ok = queue_poll_add(st, node);
            if (ok) {
                node->uring_flags &= ~UF_ADD;
            }
        }
        if (!ok) {
            SLIST_INSERT_HEAD(&retry, node, node_submitted);
            node->uring_flags |= UF_PENDING;
        }
    }
    st->submit_list = retry;
}

static void cqe_handler_complete(UringState *st, CqeHandler *handler,
                                 int32_t res, uint32_t flags)
{
    handler->cqe_res = res;
    handler->cqe_flags = flags;
    handler->next = NULL;
    *st->cqe_ready_tail = handler;
    st->cqe_ready_tail = &handler->next;
}

/* Returns whether a handler was put on @ready_list. */
static bool process_cqe(AioContext *ctx, UringState *st,
                        AioHandlerList *ready_list,
                        uint64_t user_data, int32_t res, uint32_t flags)
{
    AioHandler *node;

    switch (user_data & UD_TAG_MASK) {
    case UD_TIMEOUT:
        if (st->timeout_armed && (user_data >> 2) == st->timeout_seq) {
            st->timeout_armed = false;
            st->timeout_expired = res == -ETIME;
        }
        return false;
    case UD_POLL_REMOVE:
        return false;           /* -ENOENT when the POLL_ADD won the race */
    case UD_CQE_HANDLER:
        cqe_handler_complete(st, (CqeHandler *)(uintptr_t)
                             (user_data & ~(uint64_t)UD_TAG_MASK), res, flags);
        return false;
    }

    node = (AioHandler *)(uintptr_t)user_data;
    node->uring_flags &= ~UF_INFLIGHT;

    if (node->uring_flags & UF_REMOVE) {
        if (node->uring_flags & UF_PENDING) {
            dequeue_one(st, node);
        }
        release_node(ctx, st, node);
        return false;
    }
    if (res < 0) {
        /* -EBADF: the fd was closed while registered.  Re-arming would spin
         * on the same error; the handler stays silent until re-set. */
        g_warning("io_uring poll of fd %d failed: %s; not re-armed",
                  node->pfd.fd, g_strerror(-res));
        return false;
    }
    aio_add_ready_handler(ready_list, node, pfd_events_from_poll(res));
    enqueue(st, node, UF_ADD);  /* one-shot: re-arm */
    return true;
}

/* Reap every cqe (stashed ones first, then the ring and its overflow).
 * Returns the number of handlers made ready. */
static int process_cq_ring(AioContext *ctx, UringState *st,
                           AioHandlerList *ready_list)
{
    struct io_uring_cqe *cqe;
    unsigned head, n;
    int ready = 0;

    if (st->stash->len) {
        /* Swap the array out: processing cannot stash again (no sqes are
         * taken here), but keep it simple to reason about. */
        GArray *stash = st->stash;
        st->stash = g_array_new(FALSE, FALSE, sizeof(StashedCqe));
        for (unsigned i = 0; i < stash->len; i++) {
            StashedCqe *s = &g_array_index(stash, StashedCqe, i);
            ready += process_cqe(ctx, st, ready_list, s->user_data, s->res,
                                 s->flags);
        }
        g_array_free(stash, TRUE);
    }

    /* Bounded: a fast producer must not keep this loop from returning. */
    for (int round = 0; round < 16; round++) {
        n = 0;
        io_uring_for_each_cqe(&st->ring, head, cqe) {
            ready += process_cqe(ctx, st, ready_list, cqe->user_data,
                                 cqe->res, cqe->flags);
            n++;
        }
        io_uring_cq_advance(&st->ring, n);
        if (io_uring_cq_has_overflow(&st->ring)) {
            /* The cq ring was full: pull the kernel's backlog in. */
            io_uring_get_events(&st->ring);
        } else if (n == 0) {
            break;
        }
    }
    return ready;
}

static int fdmon_io_uring_wait(AioContext *ctx, AioHandlerList *ready_list,
                               int64_t timeout)
{
    UringState *st = uring_state(ctx);
    int64_t deadline = timeout > 0 ? monotonic_ns() + timeout : 0;
    int ready = 0;

    st->timeout_armed = false;
    st->timeout_expired = false;

    for (;;) {
        unsigned wait_nr = timeout != 0 ? 1 : 0;
        int ret;

        fill_sq_ring(ctx, st);

        if (ready > 0 || st->cqe_ready_head || st->stash->len) {
            wait_nr = 0;        /* already have something to report */
        }
        if (wait_nr && timeout > 0 && !st->timeout_armed) {
            int64_t left = deadline - monotonic_ns();
            struct io_uring_sqe *sqe = left > 0 ? get_sqe(st) : NULL;

            if (sqe) {
                st->timeout_ts.tv_sec = left / 1000000000;
                st->timeout_ts.tv_nsec = left % 1000000000;
                io_uring_prep_timeout(sqe, &st->timeout_ts, 1, 0);
                io_uring_sqe_set_data64(sqe,
                                        (++st->timeout_seq << 2) | UD_TIMEOUT);
                st->timeout_armed = true;
            } else {
                wait_nr = 0;    /* deadline passed (or no sqe: do not hang) */
            }
        }

        /* EINTR comes back as -EINTR only when nothing was submitted; the
         * loop below re-checks the cq ring in every case. */
        ret = io_uring_submit_and_wait(&st->ring, wait_nr);
        if (ret == -EBUSY || ret == -EAGAIN) {
            stash_cqes(st);
        } else if (ret < 0 && ret != -EINTR && ret != -ETIME) {
            g_warning("io_uring_submit_and_wait failed: %s", g_strerror(-ret));
            ready += process_cq_ring(ctx, st, ready_list);
            return ready ? ready : ret;
        }

        ready += process_cq_ring(ctx, st, ready_list);

        if (!wait_nr || ready > 0 || st->cqe_ready_head ||
            st->timeout_expired) {
            break;
        }
        if (timeout > 0 && monotonic_ns() >= deadline) {
            break;
        }
        /* Only internal completions (POLL_REMOVE, a stale timeout, our own
         * timeout cancelled by one of them): keep waiting. */
    }
    return ready;
}

static bool fdmon_io_uring_need_wait(AioContext *ctx)
{
    UringState *st = uring_state(ctx);

    /* Pending POLL_ADDs (every fd dispatch re-arms one) would make aio_poll
     * skip busy-polling on the iteration right after each fd event, so the
     * polling time could never be learnt.  Submit them now, without
     * waiting: the syscall is due before any blocking wait anyway. */
    if (!SLIST_EMPTY(&st->submit_list) || io_uring_sq_ready(&st->ring)) {
        fill_sq_ring(ctx, st);
        if (io_uring_sq_ready(&st->ring) && submit_pending(st) < 0) {
            return true;        /* let ->wait() retry and report */
        }
        if (!SLIST_EMPTY(&st->submit_list)) {
            return true;        /* no sqe could be had */
        }
    }
    return io_uring_cq_ready(&st->ring) || st->cqe_ready_head ||
           st->stash->len;
}

static bool fdmon_io_uring_dispatch(AioContext *ctx)
{
    UringState *st = uring_state(ctx);
    CqeHandler *handler;
    bool progress = false;

    /* One at a time: a callback may run a nested aio_poll() that must see
     * the handlers still queued. */
    while ((handler = st->cqe_ready_head)) {
        st->cqe_ready_head = handler->next;
        if (!st->cqe_ready_head) {
            st->cqe_ready_tail = &st->cqe_ready_head;
        }
        handler->next = NULL;
        handler->cb(handler);
        progress = true;
    }
    return progress;
}

static void fdmon_io_uring_gsource_prepare(AioContext *ctx)
{
    UringState *st = uring_state(ctx);

    fill_sq_ring(ctx, st);
    if (io_uring_sq_ready(&st->ring)) {
        submit_pending(st);
    }
}

static bool fdmon_io_uring_gsource_check(AioContext *ctx)
{
    UringState *st = uring_state(ctx);

    return (g_source_query_unix_fd(&ctx->source, st->gsource_tag) & G_IO_IN) ||
           io_uring_cq_ready(&st->ring) || st->cqe_ready_head ||
           st->stash->len;
}

static void fdmon_io_uring_gsource_dispatch(AioContext *ctx,
                                            AioHandlerList *ready_list)
{
    process_cq_ring(ctx, uring_state(ctx), ready_list);
}

static void fdmon_io_uring_add_sqe(AioContext *ctx,
                                   void (*prep_sqe)(struct io_uring_sqe *sqe,
                                                    void *opaque),
                                   void *opaque, CqeHandler *cqe_handler)
{
    UringState *st = uring_state(ctx);
    struct io_uring_sqe *sqe;

    g_assert(((uintptr_t)cqe_handler & UD_TAG_MASK) == 0);
    sqe = get_sqe(st);
    if (!sqe) {
        /* The kernel refuses submissions; fail the request through the
         * normal completion path rather than dropping it. */
        cqe_handler_complete(st, cqe_handler, -EAGAIN, 0);
        return;
    }
    prep_sqe(sqe, opaque);
    io_uring_sqe_set_data64(sqe, (uintptr_t)cqe_handler | UD_CQE_HANDLER);
}

static bool fdmon_io_uring_init(AioContext *ctx, GError **error)
{
    UringState *st = g_new0(UringState, 1);
    int ret = io_uring_queue_init(URING_ENTRIES, &st->ring, 0);

    if (ret < 0) {
        g_set_error(error, AIO_ERROR, AIO_ERROR_UNSUPPORTED,
                    "io_uring_queue_init failed: %s", g_strerror(-ret));
        g_free(st);
        return false;
    }
    SLIST_INIT(&st->submit_list);
    st->owned = g_hash_table_new(NULL, NULL);
    st->stash = g_array_new(FALSE, FALSE, sizeof(StashedCqe));
    st->cqe_ready_tail = &st->cqe_ready_head;
    st->gsource_tag = g_source_add_unix_fd(&ctx->source, st->ring.ring_fd,
                                           G_IO_IN);
    ctx->fdmon_data = st;
    return true;
}

static void fdmon_io_uring_destroy(AioContext *ctx)
{
    UringState *st = uring_state(ctx);
    GHashTableIter iter;
    gpointer key;

    if (!st) {
        return;
    }
    if (!g_source_is_destroyed(&ctx->source)) {
        g_source_remove_unix_fd(&ctx->source, st->gsource_tag);
    }
    /* Cancels everything in flight: no cqe will name a node again. */
    io_uring_queue_exit(&st->ring);

    while (!SLIST_EMPTY(&st->submit_list)) {
        AioHandler *node = SLIST_FIRST(&st->submit_list);
        SLIST_REMOVE_HEAD(&st->submit_list, node_submitted);
        node->uring_flags = 0;
    }
    /* Pending CqeHandlers are dropped without a callback (aio.h). */
    g_hash_table_iter_init(&iter, st->owned);
    while (g_hash_table_iter_next(&iter, &key, NULL)) {
        AioHandler *node = key;
        g_hash_table_iter_remove(&iter);
        node->uring_flags = 0;
        aio_free_deleted_handler(ctx, node);
    }
    g_hash_table_unref(st->owned);
    g_array_free(st->stash, TRUE);
    g_free(st);
    ctx->fdmon_data = NULL;
}

const FDMonOps fdmon_io_uring_ops = {
    .name = "io_uring",
    .init = fdmon_io_uring_init,
    .destroy = fdmon_io_uring_destroy,
    .update = fdmon_io_uring_update,
    .wait = fdmon_io_uring_wait,
    .need_wait = fdmon_io_uring_need_wait,
    .dispatch = fdmon_io_uring_dispatch,
    .gsource_prepare = fdmon_io_uring_gsource_prepare,
    .gsource_check = fdmon_io_uring_gsource_check,
    .gsource_dispatch = fdmon_io_uring_gsource_dispatch,
    .add_sqe = fdmon_io_uring_add_sqe,
};

/* ---------------------------------------------------------------------- */
/* Public passthrough (aio.h)                                              */

bool aio_has_io_uring(AioContext *ctx)
{
    return ctx->fdmon_ops && ctx->fdmon_ops->add_sqe;
}

static void fail_unsupported_sqe(void *opaque)
{
    CqeHandler *handler = opaque;

    handler->cqe_res = -EOPNOTSUPP;
    handler->cqe_flags = 0;
    handler->cb(handler);
}

void aio_add_sqe(AioContext *ctx,
                 void (*prep_sqe)(struct io_uring_sqe *sqe, void *opaque),
                 void *opaque, CqeHandler *cqe_handler)
{
    if (!aio_has_io_uring(ctx)) {
        /* Misuse, but a caller-visible failure beats a crash: complete the
         * request from the loop with -EOPNOTSUPP. */
        g_warning("aio_add_sqe on a context without io_uring (%s); failing "
                  "the request",
                  aio_context_backend_name(ctx));
        aio_bh_schedule_oneshot(ctx, fail_unsupported_sqe, cqe_handler);
        return;
    }
    ctx->fdmon_ops->add_sqe(ctx, prep_sqe, opaque, cqe_handler);
}
