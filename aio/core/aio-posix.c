/*
 * The loop: fd handlers, aio_poll() and adaptive busy-polling.
 *
 * One aio_poll() iteration, top to bottom:
 *   1. compute how long we may wait (0 if a BH is scheduled or a timer
 *      expired);
 *   2. if we may wait, busy-poll the handlers' io_poll callbacks for up to
 *      the current polling time (per handler, AioPolledEvent);
 *   3. if polling found nothing, wait in the fd-monitoring backend
 *      (FDMonOps->wait) with notify_me raised so aio_notify() wakes us;
 *   4. run BHs, then ready fd handlers, then the backend's own completions,
 *      then expired timers.
 * Handlers are only ever touched by the home thread; removal while a
 * dispatch is walking them is deferred through ctx->deleted_aio_handlers.
 */
#include "core/aio-internal.h"

#include <errno.h>

/* A handler that found no work by polling for this long leaves the poll
 * set (it comes back when its fd fires). */
#define POLL_IDLE_INTERVAL_NS (7LL * 1000 * 1000 * 1000)

/* Polling starts at this many ns when it first pays off. */
#define POLL_INITIAL_NS 4000

/* After this many consecutive iterations that had work without waiting,
 * look at the fds anyway (non-blocking) so BHs that keep rescheduling
 * themselves cannot starve fd handlers forever. */
#define MAX_WAITLESS_ITERATIONS 128

static int64_t now_ns(void)
{
    return aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
}

/* ---------------------------------------------------------------------- */
/* Handler registration                                                    */

void aio_add_ready_handler(AioHandlerList *ready_list, AioHandler *node,
                           int revents)
{
    node->ready_events |= revents;
    if (!node->on_ready_list) {
        node->on_ready_list = true;
        LIST_INSERT_HEAD(ready_list, node, node_ready);
    }
}

static void poll_set_remove(AioContext *ctx, AioHandler *node)
{
    if (node->on_poll_list) {
        LIST_REMOVE(node, node_poll);
        node->on_poll_list = false;
        ctx->poll_windows_dirty = true;
    }
}

static void poll_set_add(AioContext *ctx, AioHandler *node)
{
    if (!node->on_poll_list && node->io_poll && ctx->params.poll_max_ns) {
        node->on_poll_list = true;
        node->poll_idle_timeout = 0;
        LIST_INSERT_HEAD(&ctx->poll_aio_handlers, node, node_poll);
        ctx->poll_windows_dirty = true;
    }
}

void aio_free_deleted_handler(AioContext *ctx, AioHandler *node)
{
    node->backend_owns = false;
    if (ctx->walking_handlers) {
        /* Someone may hold it on a ready list: free at the walk's end. */
        if (!node->on_deleted_list) {
            node->on_deleted_list = true;
            LIST_INSERT_HEAD(&ctx->deleted_aio_handlers, node, node_deleted);
        }
    } else {
        if (node->on_deleted_list) {
            LIST_REMOVE(node, node_deleted);
        }
        g_free(node);
    }
}

void aio_free_deleted_handlers(AioContext *ctx)
{
    AioHandler *node;

    while ((node = LIST_FIRST(&ctx->deleted_aio_handlers))) {
        LIST_REMOVE(node, node_deleted);
        g_free(node);
    }
}

/* Unlink a handler that was replaced or removed; free it now or later. */
static void remove_handler(AioContext *ctx, AioHandler *node)
{
    poll_set_remove(ctx, node);
    LIST_REMOVE(node, node);
    node->deleted = true;
    node->pfd.revents = 0;
    if (!node->io_poll) {
        ctx->poll_disable_cnt--;
    }
    ctx->handler_count--;
    if (node->backend_owns) {
        return;     /* the backend calls aio_free_deleted_handler() */
    }
    aio_free_deleted_handler(ctx, node);
}

static AioHandler *find_handler(AioContext *ctx, int fd)
{
    AioHandler *node;

    LIST_FOREACH(node, &ctx->aio_handlers, node) {
        if (node->pfd.fd == fd) {
            return node;
        }
    }
    return NULL;
}

void aio_set_fd_handler_full(AioContext *ctx, int fd,
                             IOHandler *io_read, IOHandler *io_write,
                             AioPollFn *io_poll, IOHandler *io_poll_ready,
                             void *opaque, const char *name)
{
    AioHandler *node = find_handler(ctx, fd);
    AioHandler *new_node = NULL;

    if (!io_read && !io_write) {
        if (!node) {
            return;
        }
    } else {
        new_node = g_new0(AioHandler, 1);
        new_node->pfd.fd = fd;
        new_node->pfd.events = (io_read ? G_IO_IN | G_IO_HUP | G_IO_ERR : 0) |
                               (io_write ? G_IO_OUT | G_IO_ERR : 0);
        new_node->io_read = io_read;
        new_node->io_write = io_write;
        new_node->io_poll = io_poll;
        new_node->io_poll_ready = io_poll_ready;
        new_node->opaque = opaque;
        new_node->name = name;
        if (node) {
            /* Keep the learnt polling time across a handler change. */
            new_node->poll = node->poll;
        }
        LIST_INSERT_HEAD(&ctx->aio_handlers, new_node, node);
        if (!io_poll) {
            ctx->poll_disable_cnt++;
        }
        ctx->handler_count++;
        if (node && node->on_poll_list) {
            poll_set_add(ctx, new_node);
        }
    }

    ctx->fdmon_ops->update(ctx, node, new_node);
    if (node) {
        remove_handler(ctx, node);
    }
    AIO_STAT_SET(ctx, fd_handlers, ctx->handler_count);

    if (ctx->fdmon_ops == &fdmon_poll_ops &&
        ctx->fdmon_forced != AIO_FDMON_POLL &&
        ctx->handler_count > FDMON_POLL_UPGRADE_THRESHOLD) {
        fdmon_epoll_try_upgrade(ctx);
    }
    /* A concurrent wait (GSource) must pick up the new fd set. */
    aio_notify(ctx);
}

static AioHandler *find_notifier_handler(AioContext *ctx, EventNotifier *e)
{
    return find_handler(ctx, event_notifier_get_fd(e));
}

void aio_set_event_notifier_full(AioContext *ctx, EventNotifier *notifier,
                                 EventNotifierHandler *io_read,
                                 AioPollFn *io_poll,
                                 EventNotifierHandler *io_poll_ready,
                                 const char *name)
{
    /* EventNotifierHandler takes the notifier, IOHandler the opaque: the
     * notifier is the opaque, so the call signatures agree. */
    aio_set_fd_handler_full(ctx, event_notifier_get_fd(notifier),
                            (IOHandler *)io_read, NULL, io_poll,
                            (IOHandler *)io_poll_ready, notifier, name);
}

void aio_set_event_notifier_poll(AioContext *ctx, EventNotifier *notifier,
                                 EventNotifierHandler *io_poll_begin,
                                 EventNotifierHandler *io_poll_end)
{
    AioHandler *node = find_notifier_handler(ctx, notifier);

    if (node) {
        node->io_poll_begin = (IOHandler *)io_poll_begin;
        node->io_poll_end = (IOHandler *)io_poll_end;
    }
}

bool aio_fdmon_reports_each_write(AioContext *ctx)
{
    return ctx->fdmon_ops->reports_each_write &&
           ctx->fdmon_ops->reports_each_write(ctx);
}

void aio_set_event_notifier_drains(AioContext *ctx, EventNotifier *notifier)
{
    AioHandler *node = find_notifier_handler(ctx, notifier);

    if (node) {
        node->io_read_drains = true;
    }
}

/* ---------------------------------------------------------------------- */
/* Dispatch                                                                */

/* Polling time follows how long this iteration waited for the handler's
 * event: inside the window, keep it; longer than poll-max-ns,
 * shrink; in between, grow. */
static void adjust_polling_time(AioContext *ctx, AioPolledEvent *poll,
                                int64_t block_ns)
{
    if (block_ns <= poll->ns) {
        return;
    }
    if (block_ns > ctx->params.poll_max_ns) {
        if (poll->ns == 0) {
            return;
        }
        poll->ns = ctx->params.poll_shrink ? poll->ns / ctx->params.poll_shrink : 0;
        AIO_STAT_ADD(ctx, poll_shrinks, 1);
        ctx->poll_windows_dirty = true;
    } else if (poll->ns < ctx->params.poll_max_ns) {
        int64_t grow = aio_params_effective(&ctx->params, AIO_PARAM_POLL_GROW);
        int64_t ns;

        if (poll->ns == 0) {
            ns = POLL_INITIAL_NS;
        } else if (__builtin_mul_overflow(poll->ns, grow, &ns)) {
            ns = ctx->params.poll_max_ns;
        }
        poll->ns = ns > ctx->params.poll_max_ns ? ctx->params.poll_max_ns : ns;
        AIO_STAT_ADD(ctx, poll_grows, 1);
        ctx->poll_windows_dirty = true;
    }
}

/* Run one of @node's callbacks, accounted under the handler's name. */
static void handler_call(AioContext *ctx, AioHandler *node, IOHandler *cb)
{
    AioCallFrame frame;
    bool begun = aio_call_begin(&ctx->calls, ctx->last_block_ns != 0,
                                AIO_CALL_FD, node->name, &node->call_entry,
                                &frame);

    cb(node->opaque);
    aio_call_end(&ctx->calls, begun, &frame);
}

static bool dispatch_handler(AioContext *ctx, AioHandler *node)
{
    bool progress = false;
    bool poll_ready = node->poll_ready;
    int revents = node->ready_events & node->pfd.events;
    /* The context's own notifier only wakes the loop: not progress. */
    bool counts = node->opaque != &ctx->notifier;
    uint64_t calls = 0;

    node->poll_ready = false;
    node->ready_events = 0;
    if (node->deleted) {
        return false;
    }

    if (ctx->last_block_ns && node->on_poll_list) {
        adjust_polling_time(ctx, &node->poll, ctx->last_block_ns);
    }

    if (poll_ready) {
        if (node->io_poll_ready) {
            calls++;
            handler_call(ctx, node, node->io_poll_ready);
            progress = counts;
        }
        /* An fd event may have been reported too: fall through. */
    } else if (revents) {
        /* Work came through the fd: it may pay to poll it next time. */
        poll_set_add(ctx, node);
    }

    if (!node->deleted && (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) &&
        node->io_read) {
        calls++;
        handler_call(ctx, node, node->io_read);
        progress |= counts;
    }
    if (!node->deleted && (revents & (G_IO_OUT | G_IO_ERR)) && node->io_write) {
        calls++;
        handler_call(ctx, node, node->io_write);
        progress |= counts;
    }
    if (calls && counts) {
        AIO_STAT_ADD(ctx, fd_dispatches, calls);
    }
    return progress;
}

static bool dispatch_ready_handlers(AioContext *ctx, AioHandlerList *ready_list)
{
    bool progress = false;
    AioHandler *node;

    while ((node = LIST_FIRST(ready_list))) {
        LIST_REMOVE(node, node_ready);
        node->on_ready_list = false;
        progress |= dispatch_handler(ctx, node);
    }
    return progress;
}


bool aio_dispatch_ready(AioContext *ctx, AioHandlerList *ready_list)
{
    bool progress = aio_bh_poll(ctx) > 0;

    progress |= dispatch_ready_handlers(ctx, ready_list);
    if (ctx->fdmon_ops->dispatch) {
        progress |= ctx->fdmon_ops->dispatch(ctx);
    }
    if (--ctx->walking_handlers == 0) {
        aio_free_deleted_handlers(ctx);
    }
    progress |= aio_timerlists_run_expired(ctx);
    return progress;
}

/* ---------------------------------------------------------------------- */
/* Adaptive polling                                                        */

/* One pass over the poll set.  Handlers with work go on @ready_list. */
static bool run_poll_handlers_once(AioContext *ctx, AioHandlerList *ready_list,
                                   int64_t now)
{
    bool progress = false;
    AioHandler *node, *tmp;

    for (node = LIST_FIRST(&ctx->poll_aio_handlers); node; node = tmp) {
        tmp = LIST_NEXT(node, node_poll);
        if (node->io_poll(node->opaque)) {
            node->poll_ready = true;
            node->poll_idle_timeout = now + POLL_IDLE_INTERVAL_NS;
            aio_add_ready_handler(ready_list, node, 0);
            /* The context's notifier only wakes us; keep polling the rest
             * in this pass but report it as a find. */
            progress = true;
        } else if (node->poll_idle_timeout == 0) {
            node->poll_idle_timeout = now + POLL_IDLE_INTERVAL_NS;
        } else if (now >= node->poll_idle_timeout) {
            poll_set_remove(ctx, node);
        }
    }
    return progress;
}

/* io_poll_begin/end around a polling window.  After end, poll once more:
 * an event may have slipped in while notifications were off. */
static bool poll_set_started(AioContext *ctx, AioHandlerList *ready_list,
                             bool started)
{
    bool progress = false;
    AioHandler *node;

    if (started == ctx->poll_started) {
        return false;
    }
    ctx->poll_started = started;
    LIST_FOREACH(node, &ctx->poll_aio_handlers, node_poll) {
        if (started) {
            if (node->io_poll_begin) {
                node->io_poll_begin(node->opaque);
            }
        } else if (node->io_poll_end) {
            node->io_poll_end(node->opaque);
            if (node->io_poll(node->opaque)) {
                node->poll_ready = true;
                aio_add_ready_handler(ready_list, node, 0);
                progress = true;
            }
        }
    }
    return progress;
}

static int64_t poll_window_ns(AioContext *ctx)
{
    int64_t max_ns = 0;
    AioHandler *node;

    LIST_FOREACH(node, &ctx->poll_aio_handlers, node_poll) {
        if (node->poll.ns > max_ns) {
            max_ns = node->poll.ns;
        }
    }
    return max_ns;
}

/* Poll the set until work is found, @window ns from @start pass, or the
 * fdmon has events.  Returns whether work was found; counts the window in
 * the stats and for the governor. */
static bool poll_window_run(AioContext *ctx, AioHandlerList *ready_list,
                            int64_t start, int64_t window)
{
    int64_t now = start;
    bool progress;
    bool first_pass = true;

    poll_set_started(ctx, ready_list, true);
    AIO_STAT_ADD(ctx, poll_attempts, 1);
    for (;;) {
        progress = run_poll_handlers_once(ctx, ready_list, now);
        /* Found work: the loop is busy from this clock read on; a miss
         * stays in the polling phase until the wait. */
        now = progress ? aio_loop_enter_phase(ctx, AIO_PHASE_BUSY)
                       : now_ns();
        if (progress || now - start >= window ||
            ctx->fdmon_ops->need_wait(ctx)) {
            break;
        }
        first_pass = false;
    }
    AIO_STAT_ADD(ctx, poll_hits, progress ? 1 : 0);
    AIO_STAT_ADD(ctx, poll_misses, progress ? 0 : 1);
    aio_poll_governor_account_window(ctx, progress,
                                     progress && first_pass ? 0 : now - start);
    return progress;
}

/*
 * Busy-poll for up to the current polling time (bounded by *timeout),
 * unless the governor skips it.  Returns true if work was found; then
 * *timeout is 0 so the backend is only asked non-blockingly.  A handler
 * that has never shown work has poll.ns 0, and the window is the largest
 * of them, so a fresh context polls once (cheaply) and learns from the
 * first events.  A skipped window publishes poll_ns_current 0.
 */
static bool try_poll_mode(AioContext *ctx, AioHandlerList *ready_list,
                          int64_t *timeout, int64_t start)
{
    int64_t window;
    bool progress = false;

    if (LIST_EMPTY(&ctx->poll_aio_handlers)) {
        return false;
    }
    if (aio_poll_governor_skips(ctx)) {
        AIO_STAT_SET(ctx, poll_ns_current, 0);
        return false;
    }
    if (ctx->fdmon_ops->need_wait(ctx)) {
        return false;
    }
    window = poll_window_ns(ctx);
    AIO_STAT_SET(ctx, poll_ns_current, window);
    if (*timeout >= 0 && *timeout < window) {
        window = *timeout;
    }
    if (window > 0) {
        progress = poll_window_run(ctx, ready_list, start, window);
    }
    if (poll_set_started(ctx, ready_list, false)) {
        progress = true;
    }
    if (progress) {
        *timeout = 0;
    }
    return progress;
}

/* ---------------------------------------------------------------------- */
/* aio_poll                                                                */

/* The fdmon's wait; a blocking one (@timeout != 0) is the loop's blocked
 * phase, counted and timed from @start for the handlers' windows. */
static void fdmon_wait_counted(AioContext *ctx, AioHandlerList *ready_list,
                               int64_t timeout, int64_t start)
{
    if (timeout != 0) {
        /* A no-op for a loop with nothing to poll: blocked since @start. */
        aio_loop_enter_phase(ctx, AIO_PHASE_BLOCKED);
    }
    ctx->fdmon_ops->wait(ctx, ready_list, timeout);
    if (timeout != 0) {
        int64_t t1 = aio_loop_enter_phase(ctx, AIO_PHASE_BUSY);

        AIO_STAT_ADD(ctx, blocking_waits, 1);
        ctx->last_block_ns = t1 - start;
    }
}

bool aio_poll(AioContext *ctx, bool blocking)
{
    AioHandlerList ready_list = LIST_HEAD_INITIALIZER(ready_list);
    bool use_notify_me;
    int64_t timeout, start = 0;

    AIO_STAT_ADD(ctx, iterations, 1);
    ctx->walking_handlers++;
    ctx->last_block_ns = 0;
    if (!atomic_load_explicit(&ctx->loop_start_ns, memory_order_relaxed)) {
        /* The wall time the time figures cover starts here. */
        atomic_store_explicit(&ctx->loop_start_ns, now_ns(),
                              memory_order_relaxed);
    }

    timeout = blocking ? aio_compute_timeout(ctx) : 0;
    if (timeout != 0) {
        /* Only a loop that may wait reads the clock: a busy loop of BHs
         * pays nothing for polling or accounting. */
        start = aio_loop_enter_phase(ctx,
            LIST_EMPTY(&ctx->poll_aio_handlers) ? AIO_PHASE_BLOCKED
                                                : AIO_PHASE_POLLING);
        aio_loop_wait_begin(ctx, start);
        /* What polling found is dispatched below; only that counts. */
        try_poll_mode(ctx, &ready_list, &timeout, start);
    }

    /* aio_notify() may skip the eventfd write while nobody waits; from
     * here until the wait ends somebody might, so raise notify_me. */
    use_notify_me = timeout != 0;
    if (use_notify_me) {
        atomic_fetch_add(&ctx->mailbox->notify_me, 2);   /* seq_cst: before 'notified' */
        if (atomic_load(&ctx->mailbox->notified)) {
            timeout = 0;
        }
    }

    if (timeout != 0 || ctx->fdmon_ops->need_wait(ctx) ||
        ++ctx->waitless_iterations >= MAX_WAITLESS_ITERATIONS) {
        ctx->waitless_iterations = 0;
        fdmon_wait_counted(ctx, &ready_list, timeout, start);
    }
    if (start && atomic_load_explicit(&ctx->time.phase, memory_order_relaxed) !=
                 AIO_PHASE_BUSY) {
        /* Polling missed, then a notify came before the wait: rare. */
        aio_loop_enter_phase(ctx, AIO_PHASE_BUSY);
    }
    if (start) {
        /* The wait ended when the loop turned busy (stats.c stamps it). */
        aio_poll_governor_note_wait(ctx, ctx->time.busy_since_ns - start);
    }

    if (use_notify_me) {
        /* Finish the wait before allowing aio_notify() to skip writes. */
        atomic_fetch_sub_explicit(&ctx->mailbox->notify_me, 2, memory_order_release);
    }
    aio_notify_accept(ctx);

    return aio_dispatch_ready(ctx, &ready_list);
}
