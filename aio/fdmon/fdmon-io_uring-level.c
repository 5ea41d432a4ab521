/*
 * fdmon-io_uring-level: the io_uring fdmon's attention list, which gives
 * fd handlers level-triggered semantics on top of multishot polls and
 * parks the polls of busy-polled handlers (see the "Level-triggered" and
 * "Parking" paragraphs at the top of fdmon-io_uring.c).
 *
 * Threads: home thread only, like every FDMonOps.
 */
#include "fdmon/fdmon-io_uring.h"

#include <errno.h>

void uring_attention_add(UringState *st, AioHandler *node, int poll_revents)
{
    if (!(node->uring_flags & UF_ATTN)) {
        node->uring_flags |= UF_ATTN;
        g_ptr_array_add(st->attention, node);
    }
    node->uring_flags |= ((unsigned)poll_revents << UF_REVENTS_SHIFT) &
                         UF_REVENTS_MASK;
}

/* Forget @node's attention state (index @i in st->attention).  Order of
 * the list does not matter: swap-remove. */
void uring_attention_drop_index(UringState *st, guint i)
{
    AioHandler *node = g_ptr_array_index(st->attention, i);

    node->uring_flags &= ~(UF_ATTN | UF_RECHECK | UF_REVENTS_MASK);
    g_ptr_array_remove_index_fast(st->attention, i);
}

/* O(n), for a node being removed: the list holds only nodes that had an
 * event since the last wait, so it is short. */
void uring_attention_forget(UringState *st, AioHandler *node)
{
    if (node->uring_flags & UF_ATTN) {
        for (guint i = 0; i < st->attention->len; i++) {
            if (g_ptr_array_index(st->attention, i) == node) {
                uring_attention_drop_index(st, i);
                break;
            }
        }
    }
}

/* Whether @node's unreported events may be reported without asking the
 * fd again.  Not for a node already reported (level re-check), nor for one
 * in the busy-poll set unless @trust_poll_set: its io_poll callback has
 * probably consumed what the cqe announced.  A draining handler's fd
 * (io_read_drains) stays readable until its io_read runs, whatever its
 * io_poll consumed; at worst a stale cqe costs one io_read that finds
 * nothing, as the poll(2) that would have asked costs one syscall. */
static bool attention_trusted(AioHandler *node, bool trust_poll_set)
{
    return (node->uring_flags & UF_REVENTS_MASK) &&
           !(node->uring_flags & UF_RECHECK) &&
           (trust_poll_set || !node->on_poll_list || node->io_read_drains);
}

/* Ask the fds of the attention nodes that cannot be trusted whether they
 * are ready, in one non-blocking poll(2).  Ready ones get the answer as
 * their unreported events (now trusted); the others leave the list: the
 * multishot poll still armed reports their next wake-up.  A parked node
 * stays parked on the list while it is in the poll set, unless the loop is
 * @about_to_block: then it is re-armed. */
static void unpark(UringState *st, AioHandler *node)
{
    node->uring_flags &= ~(UF_PARKED | UF_PARK);
    if (!(node->uring_flags & UF_INFLIGHT)) {
        uring_enqueue(st, node, UF_ADD);
    }
    /* else the parking cancel is in flight: its final cqe re-arms */
}

void uring_attention_recheck(UringState *st, bool trust_poll_set,
                              bool about_to_block)
{
    GArray *pfds = st->pollfds;
    guint i, j;
    int ret;

    g_array_set_size(pfds, 0);
    for (i = 0; i < st->attention->len; i++) {
        AioHandler *node = g_ptr_array_index(st->attention, i);
        if (!attention_trusted(node, trust_poll_set)) {
            struct pollfd p = { node->pfd.fd,
                                poll_events_from_pfd(node->pfd.events), 0 };
            g_array_append_val(pfds, p);
        }
    }
    if (pfds->len == 0) {
        return;
    }
    do {
        ret = poll((struct pollfd *)pfds->data, pfds->len, 0);
    } while (ret < 0 && errno == EINTR);
    /* Same order as the loop above; dropping swaps the last element in,
     * so walk both arrays from the end. */
    j = pfds->len;
    for (i = st->attention->len; i-- > 0;) {
        AioHandler *node = g_ptr_array_index(st->attention, i);
        struct pollfd *p;
        int revents;

        if (attention_trusted(node, trust_poll_set)) {
            continue;
        }
        p = &g_array_index(pfds, struct pollfd, --j);
        if (G_UNLIKELY(ret < 0)) {
            /* Only ENOMEM is possible: keep what the cqes said, if any,
             * rather than lose an event. */
            revents = (node->uring_flags & UF_REVENTS_MASK) >> UF_REVENTS_SHIFT;
        } else {
            revents = p->revents & (p->events | POLLERR | POLLHUP);
        }
        if (revents) {
            node->uring_flags &= ~(UF_RECHECK | UF_REVENTS_MASK);
            node->uring_flags |= (unsigned)revents << UF_REVENTS_SHIFT;
        } else if ((node->uring_flags & UF_PARKED) && node->on_poll_list &&
                   !about_to_block) {
            node->uring_flags &= ~UF_REVENTS_MASK;
            node->uring_flags |= UF_RECHECK;
        } else {
            if (node->uring_flags & UF_PARKED) {
                unpark(st, node);
            }
            /* swaps in an already seen one */
            uring_attention_drop_index(st, i);
        }
    }
}

/* Re-check what needs it, then put every node with events on @ready_list.
 * A reported node stays on the list, marked for re-checking, while its
 * multishot poll is armed (level-triggered emulation); a one-shot poll is
 * re-armed instead, and the re-arm looks at the fd itself.  Returns the
 * number of handlers put on @ready_list. */
int uring_attention_collect(UringState *st, AioHandlerList *ready_list,
                             bool trust_poll_set, bool about_to_block)
{
    int ready = 0;

    if (st->attention->len == 0) {
        return 0;
    }
    uring_attention_recheck(st, trust_poll_set, about_to_block);
    for (guint i = st->attention->len; i-- > 0;) {
        AioHandler *node = g_ptr_array_index(st->attention, i);
        int revents = (node->uring_flags & UF_REVENTS_MASK) >> UF_REVENTS_SHIFT;

        if (!revents) {
            continue;
        }
        aio_add_ready_handler(ready_list, node, pfd_events_from_poll(revents));
        ready++;
        /* A handler that drains its fd (io_read_drains: the context's own
         * notifier, the linux-aio eventfd) is not re-checked: its armed
         * multishot poll reports the next write.  That keeps a wake-up
         * (aio_notify, a disk completion) at one syscall, not two. */
        if ((node->uring_flags & UF_PARKED) ||
            ((node->uring_flags & (UF_INFLIGHT | UF_MULTI)) ==
             (UF_INFLIGHT | UF_MULTI) && !node->io_read_drains)) {
            node->uring_flags &= ~UF_REVENTS_MASK;
            node->uring_flags |= UF_RECHECK;
        } else {
            uring_attention_drop_index(st, i);
        }
    }
    return ready;
}

/* Whether an attention node needs the loop to stop busy-polling: one that
 * polling cannot find (not in the poll set). */
bool uring_attention_needs_wait(UringState *st)
{
    for (guint i = 0; i < st->attention->len; i++) {
        AioHandler *node = g_ptr_array_index(st->attention, i);
        if (!node->on_poll_list) {
            return true;
        }
    }
    return false;
}
