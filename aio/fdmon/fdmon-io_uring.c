/*
 * fdmon-io_uring: io_uring(7) file-descriptor monitoring for an AioContext,
 * plus the aio_add_sqe() passthrough that lets other code (the io_uring
 * disk engine) submit arbitrary requests through the context's own ring.
 *
 * Handlers are watched with multishot polls (IORING_POLL_ADD_MULTI): one
 * IORING_OP_POLL_ADD per handler, armed once, posting a cqe (with
 * IORING_CQE_F_MORE) on every wake-up of the file.  No syscall per event,
 * so a busy-polling loop can run without re-arming anything, and
 * ->need_wait() is a user-space look at the cq ring.  A cqe without F_MORE
 * means the kernel ended the poll (cq overflow, cancellation): re-armed.
 * Kernels that refuse multishot (-EINVAL on the first cqe) switch the
 * context to one-shot polls, re-armed after every completion (QEMU 7.2's
 * behaviour).
 *
 * Level-triggered semantics, as poll/epoll give: multishot poll is
 * edge-like (no new cqe for an fd that stays readable because its handler
 * did not drain it), so every handler reported from an event is put on the
 * "attention" list and its fd is re-checked with one non-blocking poll(2)
 * (all such fds in one call) before the next wait; still ready, it is
 * reported again.  Events of handlers in the busy-poll set are likewise
 * re-checked rather than trusted: their io_poll callback has usually
 * consumed the work already (poll/epoll would not report a drained fd).
 * A handler that always drains its fd (io_read_drains: the context's own
 * notifier, the linux-aio eventfd) is not re-checked.
 *
 * Parking: while a handler is in the busy-poll set, its io_poll callback
 * finds its work, and an armed poll only costs: every write to the fd runs
 * the poll's wake-up and task work (in the writer, then in this thread's
 * next syscall).  So a handler of the poll set whose poll fires is
 * "parked": its poll is cancelled and it stays on the attention list, its
 * fd checked by poll(2) whenever the loop looks at fds without blocking.
 * Before any blocking wait (and when it leaves the poll set) it is
 * re-armed; the arming itself reports an fd that is already ready.  Only
 * cqes reaped by ->need_wait() (an aio_poll() loop that busy-polls) park:
 * the GLib path re-arms before every g_poll() anyway.
 *
 * The ring is set up with IORING_SETUP_COOP_TASKRUN: a wake-up does not
 * interrupt the loop thread with an IPI (several µs in a VM) to post its
 * cqe; the cqe is posted when the thread next enters the kernel, or wakes
 * it if it sleeps.  IORING_SQ_TASKRUN shows such pending completions; a
 * busy-polling ->need_wait() flushes them (one syscall) only for what
 * polling cannot find: disk-engine requests in flight, handlers without
 * io_poll.  Caveat: the cqes of a poll are posted through the thread that
 * submitted it; polls are armed by the thread running the loop, so a
 * context that changes home thread keeps working as long as the old
 * thread enters the kernel now and then, or has exited.
 *
 * Removal: a removed handler's poll is cancelled (IORING_OP_ASYNC_CANCEL,
 * see queue_poll_remove()) and the node is only freed once no cqe can name
 * it any more (the kernel holds the node pointer as user_data): the final
 * cqe, without F_MORE (-ECANCELED after the cancel).  ->update() sets
 * node->backend_owns and we call aio_free_deleted_handler() then.  A
 * removed handler is never dispatched.  A changed handler (new events) is
 * a remove of the old node plus an add of the new one.
 *
 * Blocking waits with a timeout add an IORING_OP_TIMEOUT sqe with count 1,
 * so it cancels itself as soon as anything else completes.
 *
 * The sq ring is filled from ->need_wait(), ->wait() and
 * ->gsource_prepare() (pending handler changes sit on st->submit_list
 * until then) and from add_sqe().  It goes to the kernel with the next
 * wait (io_uring_submit_and_wait: one syscall for both), or at once when
 * a caller of aio_add_sqe() asks with aio_submit_sqes(): a disk engine
 * whose completion callbacks resubmit must not leave its new requests in
 * the sq ring while the loop runs the other callbacks (the device would
 * idle; see io_uring-engine.c).  No sqe is ever taken while the cq ring
 * is being walked.
 *
 * user_data encodes what a cqe is for in its two low bits (every pointer
 * stored is at least 4-byte aligned): a handler's POLL_ADD (the node
 * itself, tag 0, which is also what a cancel names), a CqeHandler, an
 * internal request whose cqe is ignored (cancel, NOP), or a timeout
 * (with a sequence number above the tag).
 *
 * Test hook: AIO_IO_URING_TEST_REFUSE_MULTISHOT=1 in the environment when
 * a context is created makes its multishot POLL_ADDs carry an invalid
 * flag, so the kernel answers -EINVAL exactly as an old kernel does and
 * the one-shot fallback runs.  Only tests set it.
 *
 * Threads: home thread only, like every FDMonOps.
 */
#include "fdmon/fdmon-io_uring.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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

/* ---------------------------------------------------------------------- */
/* Handler changes and sqes                                                */

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
        uring_enqueue(st, new_node, UF_ADD);
    }
    if (!old_node) {
        return;
    }
    uring_attention_forget(st, old_node);     /* never reported again */
    if (!(old_node->uring_flags & UF_INFLIGHT)) {
        /* The kernel never saw it (or its poll ended): the core can free
         * it right away.  O(n) unlink, but only for a node added and
         * removed between two waits. */
        if (old_node->uring_flags & UF_PENDING) {
            uring_dequeue_one(st, old_node);
        }
        old_node->uring_flags = 0;
        return;
    }
    /* Its poll may post cqes at any time, even with events before the
     * cancel is seen: keep the node until the final cqe is reaped. */
    old_node->uring_flags &= ~UF_ADD;
    uring_enqueue(st, old_node, UF_REMOVE);
    old_node->backend_owns = true;
    g_hash_table_add(st->owned, old_node);
}

static bool queue_poll_add(UringState *st, AioHandler *node)
{
    struct io_uring_sqe *sqe = get_sqe(st);
    int events = poll_events_from_pfd(node->pfd.events);

    if (!sqe) {
        return false;
    }
    if (st->multishot) {
        io_uring_prep_poll_multishot(sqe, node->pfd.fd, events);
        if (st->test_refuse_multishot) {
            sqe->len |= POLL_ADD_INVALID_FLAG;
        }
        node->uring_flags |= UF_MULTI;
    } else {
        io_uring_prep_poll_add(sqe, node->pfd.fd, events);
        node->uring_flags &= ~UF_MULTI;
    }
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
    /* IORING_OP_ASYNC_CANCEL, not POLL_REMOVE: POLL_REMOVE fails with
     * -EALREADY while a wake-up's task work owns the poll, which ends a
     * one-shot poll anyway but leaves a multishot one armed for ever
     * (holding the file open).  A cancel marks the poll and its owner
     * ends it with -ECANCELED. */
    io_uring_prep_cancel64(sqe, (uintptr_t)node | UD_POLL_ADD, 0);
    io_uring_sqe_set_data64(sqe, UD_INTERNAL);
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
                release_node(ctx, st, node);    /* final cqe came meanwhile */
                continue;
            }
            if (!(node->uring_flags & UF_REMOVE_SENT)) {
                ok = queue_poll_remove(st, node);
            }
        } else if (node->uring_flags & UF_PARK) {
            if ((node->uring_flags & (UF_PARKED | UF_INFLIGHT)) ==
                (UF_PARKED | UF_INFLIGHT)) {
                ok = queue_poll_remove(st, node);
            }
            if (ok) {
                node->uring_flags &= ~UF_PARK;
            }
        } else if ((node->uring_flags & UF_ADD) &&
                   !(node->uring_flags & UF_INFLIGHT)) {
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

/* Flush the submit list and the sq ring without waiting. */
static void submit_changes(AioContext *ctx, UringState *st)
{
    if (!SLIST_EMPTY(&st->submit_list)) {
        fill_sq_ring(ctx, st);
    }
    if (io_uring_sq_ready(&st->ring)) {
        submit_pending(st);
    }
}

/* ---------------------------------------------------------------------- */
/* Completions                                                             */

static void cqe_handler_complete(UringState *st, CqeHandler *handler,
                                 int32_t res, uint32_t flags)
{
    handler->cqe_res = res;
    handler->cqe_flags = flags;
    handler->next = NULL;
    *st->cqe_ready_tail = handler;
    st->cqe_ready_tail = &handler->next;
}

/* A cqe of @node's poll that is not a removed node's. */
static void process_poll_cqe(UringState *st, AioHandler *node, int32_t res,
                             bool final)
{
    if (final && (node->uring_flags & UF_PARKED)) {
        /* Our parking cancel (or the poll ended meanwhile): stay unarmed,
         * on the attention list, which checks the fd. */
        uring_attention_add(st, node, res > 0 ? res : 0);
        return;
    }
    if (res >= 0) {
        uring_attention_add(st, node, res);
        if (final) {
            /* one-shot, or the kernel ended it */
            uring_enqueue(st, node, UF_ADD);
        } else if (st->busy_polling && node->on_poll_list &&
                   !(node->uring_flags & UF_PARKED)) {
            /* Busy-polling finds this handler's work: stop paying for
             * wake-ups (see "Parking" above).  Only when reaped by
             * ->need_wait(), i.e. by a loop that busy-polls: a GLib-driven
             * context would re-arm before every g_poll(). */
            node->uring_flags |= UF_PARKED;
            uring_enqueue(st, node, UF_PARK);
        }
        return;
    }
    if (res == -EINVAL && (node->uring_flags & UF_MULTI)) {
        if (st->multishot) {
            g_info("io_uring: the kernel refuses multishot poll; "
                   "using one-shot polls");
            st->multishot = false;
        }
        uring_enqueue(st, node, UF_ADD);
    } else if (res == -ECANCELED) {
        /* A parking cancel of a handler unparked meanwhile, or the
         * kernel dropped the poll (not a removal: UF_REMOVE is handled
         * before): arm it again. */
        uring_enqueue(st, node, UF_ADD);
    } else {
        /* -EBADF: the fd was closed while registered.  Re-arming would spin
         * on the same error; the handler stays silent until re-set. */
        g_warning("io_uring poll of fd %d failed: %s; not re-armed",
                  node->pfd.fd, g_strerror(-res));
    }
}

static void process_cqe(AioContext *ctx, UringState *st,
                        uint64_t user_data, int32_t res, uint32_t flags)
{
    AioHandler *node;
    bool final;

    switch (user_data & UD_TAG_MASK) {
    case UD_TIMEOUT:
        if (st->timeout_armed && (user_data >> 2) == st->timeout_seq) {
            st->timeout_armed = false;
            st->timeout_expired = res == -ETIME;
        }
        return;
    case UD_INTERNAL:
        return;                 /* cancel: -ENOENT if the poll had ended */
    case UD_CQE_HANDLER:
        if (!(flags & IORING_CQE_F_MORE)) {
            st->cqe_inflight--;
        }
        cqe_handler_complete(st, (CqeHandler *)(uintptr_t)
                             (user_data & ~(uint64_t)UD_TAG_MASK), res, flags);
        return;
    }

    node = (AioHandler *)(uintptr_t)user_data;
    final = !(flags & IORING_CQE_F_MORE);
    if (final) {
        node->uring_flags &= ~UF_INFLIGHT;
    }
    if (node->uring_flags & UF_REMOVE) {
        if (final) {
            if (node->uring_flags & UF_PENDING) {
                uring_dequeue_one(st, node);
            }
            release_node(ctx, st, node);
        }
        return;
    }
    process_poll_cqe(st, node, res, final);
}

/* Reap every cqe (stashed ones first, then the ring and its overflow) into
 * the attention list and the CqeHandler queue.  User space only, unless
 * the kernel has an overflow backlog to flush. */
static void process_cq_ring(AioContext *ctx, UringState *st)
{
    struct io_uring_cqe *cqe;
    unsigned head, n;

    if (st->stash->len) {
        /* Swap the array out: processing takes no sqes so cannot stash
         * again, but keep it simple to reason about. */
        GArray *stash = st->stash;
        st->stash = g_array_new(FALSE, FALSE, sizeof(StashedCqe));
        for (unsigned i = 0; i < stash->len; i++) {
            StashedCqe *s = &g_array_index(stash, StashedCqe, i);
            process_cqe(ctx, st, s->user_data, s->res, s->flags);
        }
        g_array_free(stash, TRUE);
    }

    /* Bounded: a fast producer must not keep this loop from returning. */
    for (int round = 0; round < 16; round++) {
        n = 0;
        io_uring_for_each_cqe(&st->ring, head, cqe) {
            process_cqe(ctx, st, cqe->user_data, cqe->res, cqe->flags);
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
}

static bool cq_has_work(UringState *st)
{
    return io_uring_cq_ready(&st->ring) || io_uring_cq_has_overflow(&st->ring);
}

/* With IORING_SETUP_COOP_TASKRUN, completions wait as task work until this
 * thread enters the kernel; IORING_SQ_TASKRUN says some are waiting. */
static bool taskrun_pending(UringState *st)
{
    return st->coop_taskrun &&
           (IO_URING_READ_ONCE(*st->ring.sq.kflags) & IORING_SQ_TASKRUN);
}

/* ---------------------------------------------------------------------- */
/* FDMonOps                                                                */

/* Arm the wait's IORING_OP_TIMEOUT for what is left until @deadline.
 * Returns false when the deadline passed (or no sqe could be had: better
 * return early than hang). */
static bool arm_timeout(UringState *st, int64_t deadline)
{
    int64_t left = deadline - monotonic_ns();
    struct io_uring_sqe *sqe = left > 0 ? get_sqe(st) : NULL;

    if (!sqe) {
        return false;
    }
    st->timeout_ts.tv_sec = left / 1000000000;
    st->timeout_ts.tv_nsec = left % 1000000000;
    io_uring_prep_timeout(sqe, &st->timeout_ts, 1, 0);
    io_uring_sqe_set_data64(sqe, (++st->timeout_seq << 2) | UD_TIMEOUT);
    st->timeout_armed = true;
    return true;
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
        int ret;

        process_cq_ring(ctx, st);
        ready += uring_attention_collect(st, ready_list, false, timeout != 0);
        fill_sq_ring(ctx, st);

        if (ready > 0 || st->cqe_ready_head || st->stash->len ||
            timeout == 0 || st->timeout_expired ||
            (timeout > 0 && !st->timeout_armed && !arm_timeout(st, deadline))) {
            /* Something to report, or no waiting: flush changes (and, in
             * a non-blocking wait, completions still in task work). */
            if (io_uring_sq_ready(&st->ring) ||
                (!ready && timeout == 0 && taskrun_pending(st))) {
                submit_pending(st);     /* also runs pending task work */
                process_cq_ring(ctx, st);
                ready += uring_attention_collect(st, ready_list, false, false);
            }
            break;
        }

        /* EINTR comes back as -EINTR only when nothing was submitted; the
         * loop re-checks the cq ring in every case. */
        ret = io_uring_submit_and_wait(&st->ring, 1);
        if (ret == -EBUSY || ret == -EAGAIN) {
            stash_cqes(st);
        } else if (ret < 0 && ret != -EINTR && ret != -ETIME) {
            g_warning("io_uring_submit_and_wait failed: %s", g_strerror(-ret));
            process_cq_ring(ctx, st);
            ready += uring_attention_collect(st, ready_list, false, false);
            return ready ? ready : ret;
        }
        /* Loop: reap and report.  Only internal completions (a cancel,
         * a stale timeout, our own timeout cancelled by one of them) make
         * it wait again. */
    }
    return ready;
}

static bool fdmon_io_uring_need_wait(AioContext *ctx)
{
    UringState *st = uring_state(ctx);

    /* Handler changes (rare: adds, removals, re-arms after the kernel
     * ended a poll) and disk-engine sqes go to the kernel now: the syscall
     * is due before any blocking wait anyway. */
    if (G_UNLIKELY(!SLIST_EMPTY(&st->submit_list) ||
                   io_uring_sq_ready(&st->ring))) {
        submit_changes(ctx, st);
        if (!SLIST_EMPTY(&st->submit_list)) {
            return true;        /* no sqe could be had: let ->wait() retry */
        }
    }
    /* Completions still in task work only become visible with a syscall.
     * Worth one only for what busy-polling cannot find: disk-engine
     * requests, handlers without io_poll.  Handler events otherwise show
     * up at the next syscall or wait, as epoll's do. */
    if (taskrun_pending(st) &&
        (st->cqe_inflight || ctx->poll_disable_cnt > 0)) {
        io_uring_get_events(&st->ring);
    }
    /* The common case: a look at the cq ring tail, no syscall. */
    if (cq_has_work(st)) {
        st->busy_polling = true;
        process_cq_ring(ctx, st);
        st->busy_polling = false;
    }
    return st->cqe_ready_head || st->stash->len ||
           uring_attention_needs_wait(st);
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

    if (st->attention->len) {
        /* g_poll() only watches the ring fd, which a still-ready fd does
         * not make readable: ask the fds now (re-arming parked ones) and,
         * if one is ready, make the ring readable with a NOP so g_poll()
         * returns at once. */
        uring_attention_recheck(st, true, true);
        if (st->attention->len) {
            struct io_uring_sqe *sqe = get_sqe(st);
            if (sqe) {
                io_uring_prep_nop(sqe);
                io_uring_sqe_set_data64(sqe, UD_INTERNAL);
            }
        }
    }
    fill_sq_ring(ctx, st);
    if (io_uring_sq_ready(&st->ring)) {
        submit_pending(st);
    }
}

static bool fdmon_io_uring_gsource_check(AioContext *ctx)
{
    UringState *st = uring_state(ctx);

    return (g_source_query_unix_fd(&ctx->source, st->gsource_tag) & G_IO_IN) ||
           cq_has_work(st) || st->cqe_ready_head || st->stash->len ||
           st->attention->len;
}

static void fdmon_io_uring_gsource_dispatch(AioContext *ctx,
                                            AioHandlerList *ready_list)
{
    UringState *st = uring_state(ctx);

    process_cq_ring(ctx, st);
    /* No busy-polling on this path: what the cqes say is current. */
    uring_attention_collect(st, ready_list, true, false);
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
    st->cqe_inflight++;
}

static bool fdmon_io_uring_init(AioContext *ctx, GError **error)
{
    UringState *st = g_new0(UringState, 1);
    const char *refuse = g_getenv("AIO_IO_URING_TEST_REFUSE_MULTISHOT");
    /* COOP_TASKRUN: an event does not interrupt this thread with an IPI
     * (costly, in a VM especially) to post its cqe; the cqe is posted when
     * the thread next enters the kernel, or wakes it if it sleeps. */
    int ret = io_uring_queue_init(URING_ENTRIES, &st->ring,
                                  IORING_SETUP_COOP_TASKRUN |
                                  IORING_SETUP_TASKRUN_FLAG);

    st->coop_taskrun = ret == 0;
    if (ret == -EINVAL) {       /* before Linux 5.19 */
        ret = io_uring_queue_init(URING_ENTRIES, &st->ring, 0);
    }
    if (ret < 0) {
        g_set_error(error, AIO_ERROR, AIO_ERROR_UNSUPPORTED,
                    "io_uring_queue_init failed: %s", g_strerror(-ret));
        g_free(st);
        return false;
    }
    SLIST_INIT(&st->submit_list);
    st->owned = g_hash_table_new(NULL, NULL);
    st->stash = g_array_new(FALSE, FALSE, sizeof(StashedCqe));
    st->attention = g_ptr_array_new();
    st->pollfds = g_array_new(FALSE, FALSE, sizeof(struct pollfd));
    st->multishot = true;
    st->test_refuse_multishot = refuse && *refuse && strcmp(refuse, "0") != 0;
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

    while (st->attention->len) {
        uring_attention_drop_index(st, st->attention->len - 1);
    }
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
    g_ptr_array_free(st->attention, TRUE);
    g_array_free(st->pollfds, TRUE);
    g_array_free(st->stash, TRUE);
    g_free(st);
    ctx->fdmon_data = NULL;
}

/* A multishot poll posts a cqe at every wake-up of the file, that is at
 * every write, whatever the fd's level; a one-shot poll is re-armed on
 * the level. */
static bool fdmon_io_uring_reports_each_write(AioContext *ctx)
{
    return uring_state(ctx)->multishot;
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
    .reports_each_write = fdmon_io_uring_reports_each_write,
    .add_sqe = fdmon_io_uring_add_sqe,
};

bool fdmon_io_uring_uses_multishot(AioContext *ctx)
{
    return ctx->fdmon_ops == &fdmon_io_uring_ops &&
           uring_state(ctx)->multishot;
}

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
                  aio_context_fdmon_name(ctx));
        aio_bh_schedule_oneshot(ctx, fail_unsupported_sqe, cqe_handler);
        return;
    }
    ctx->fdmon_ops->add_sqe(ctx, prep_sqe, opaque, cqe_handler);
}

int aio_submit_sqes(AioContext *ctx)
{
    UringState *st;
    int ret;

    if (ctx->fdmon_ops != &fdmon_io_uring_ops) {
        return 0;               /* aio_add_sqe() queued nothing here */
    }
    st = uring_state(ctx);
    if (!io_uring_sq_ready(&st->ring)) {
        return 0;
    }
    ret = submit_pending(st);
    if (!io_uring_sq_ready(&st->ring)) {
        return 0;
    }
    /* The kernel stopped early (a refused sqe ends the batch, or the cq
     * backlog would not drain): the rest stays queued for the wait. */
    return ret < 0 ? ret : -EAGAIN;
}
