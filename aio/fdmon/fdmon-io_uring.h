/*
 * fdmon-io_uring-internal.h: state shared by the io_uring fd-monitoring
 * fdmon's two files: fdmon-io_uring.c (rings, sqes, cqes, FDMonOps) and
 * fdmon-io_uring-level.c (the attention list: level-triggered re-checks
 * and parking).  The design is described at the top of fdmon-io_uring.c.
 *
 * Threads: home thread only, like every FDMonOps.
 */
#ifndef AIO_FDMON_IO_URING_INTERNAL_H
#define AIO_FDMON_IO_URING_INTERNAL_H

#include "core/aio-internal.h"

#include <poll.h>

enum {
    URING_ENTRIES = 128,            /* sq ring; the cq ring is twice that */

    /* AioHandler::uring_flags */
    UF_PENDING = 1 << 0,            /* on st->submit_list */
    UF_ADD = 1 << 1,                /* needs a POLL_ADD sqe */
    UF_INFLIGHT = 1 << 2,           /* POLL_ADD queued, final cqe not reaped */
    UF_REMOVE = 1 << 3,             /* removed by ->update(); sticky */
    UF_REMOVE_SENT = 1 << 4,        /* its cancel queued */
    UF_MULTI = 1 << 5,              /* the POLL_ADD in flight is multishot */
    UF_ATTN = 1 << 6,               /* on st->attention */
    UF_RECHECK = 1 << 7,            /* reported: re-check before trusting */
    UF_PARKED = 1 << 8,             /* busy-polled: poll cancelled (parking) */
    UF_PARK = 1 << 9,               /* needs its poll cancelled (parking) */
    /* poll(2) events of cqes not yet reported, above this shift */
    UF_REVENTS_SHIFT = 16,
    UF_REVENTS_MASK = 0xffff << UF_REVENTS_SHIFT,
};

enum {
    UD_POLL_ADD = 0,
    UD_CQE_HANDLER = 1,
    UD_INTERNAL = 2,                /* cancel, NOP: cqe ignored */
    UD_TIMEOUT = 3,
    UD_TAG_MASK = 3,
};

/* An sqe->len bit no kernel accepts for POLL_ADD (test hook, see above). */
#define POLL_ADD_INVALID_FLAG (1u << 31)

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

    /* Live nodes with UF_ATTN: events not yet reported (revents in
     * uring_flags) or reported and to be re-checked (UF_RECHECK). */
    GPtrArray *attention;
    GArray *pollfds;                /* struct pollfd scratch for re-checks */

    bool multishot;                 /* false once the kernel refused it */
    bool coop_taskrun;              /* IORING_SETUP_COOP_TASKRUN in use */
    unsigned cqe_inflight;          /* add_sqe() requests without final cqe */
    bool test_refuse_multishot;     /* test hook, see fdmon-io_uring.c */
    bool busy_polling;              /* reaping from ->need_wait() */

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

static inline UringState *uring_state(AioContext *ctx)
{
    return ctx->fdmon_data;
}

/* Put @node on the submit list (once) with @flags to act on. */
static inline void uring_enqueue(UringState *st, AioHandler *node,
                                 unsigned flags)
{
    if (!(node->uring_flags & UF_PENDING)) {
        SLIST_INSERT_HEAD(&st->submit_list, node, node_submitted);
    }
    node->uring_flags |= UF_PENDING | flags;
}

/* O(n): take @node off the submit list. */
static inline void uring_dequeue_one(UringState *st, AioHandler *node)
{
    SLIST_REMOVE(&st->submit_list, node, AioHandler, node_submitted);
    node->uring_flags &= ~UF_PENDING;
}

/* ---------------------------------------------------------------------- */
/* The attention list (fdmon-io_uring-level.c)                             */

/* Note unreported poll(2) events @poll_revents of @node (from a cqe). */
void uring_attention_add(UringState *st, AioHandler *node, int poll_revents);

/* Take entry @i off the list (swap-remove: order does not matter). */
void uring_attention_drop_index(UringState *st, guint i);

/* Take @node off the list if it is on it (a node being removed). */
void uring_attention_forget(UringState *st, AioHandler *node);

/* Re-check with one non-blocking poll(2) the fds whose state cannot be
 * trusted; drop the ones that are not ready.  Trust unreported events of
 * busy-polled handlers only if @trust_poll_set; re-arm parked handlers if
 * @about_to_block (or when they left the poll set). */
void uring_attention_recheck(UringState *st, bool trust_poll_set,
                             bool about_to_block);

/* Re-check, then put every node with events on @ready_list; returns how
 * many. */
int uring_attention_collect(UringState *st, AioHandlerList *ready_list,
                            bool trust_poll_set, bool about_to_block);

/* Whether the list holds a node busy-polling cannot find (so the loop
 * must look at fds now).  User space only. */
bool uring_attention_needs_wait(UringState *st);

#endif /* AIO_FDMON_IO_URING_INTERNAL_H */
