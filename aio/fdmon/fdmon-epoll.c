/*
 * fdmon-epoll: epoll(7) file-descriptor monitoring for an AioContext.
 *
 * One epoll instance per context, its fd registered with the context's
 * GSource (so a GLib main loop wakes when any handler is ready) and waited on
 * directly by aio_poll() through ->wait().  Every AioHandler is registered
 * with its node pointer as epoll data; aio_set_fd_handler() never changes a
 * node in place, so ->update() swaps the pointer with EPOLL_CTL_MOD.
 *
 * epoll has no request in flight once epoll_ctl() returned, so a removed
 * node is forgotten at once and the core frees it (no backend_owns).
 *
 * epoll refuses regular files and directories (EPERM), which poll(2) and
 * io_uring report as always ready; such nodes are kept on an "always
 * ready" list and reported by every wait, so all fdmons agree.
 *
 * Timeouts have ns resolution through epoll_pwait2() when the kernel has it;
 * otherwise they are rounded *up* to whole ms so that a wait never ends
 * before the timer it was computed for is due.
 *
 * Threads: everything here runs in the context's home thread, except the
 * process-wide "epoll_pwait2 missing" flag, which is an atomic.
 */
#include "core/aio-internal.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

enum { EPOLL_EVENTS_PER_WAIT = 128 };

typedef struct EpollState {
    int epfd;
    gpointer gsource_tag;       /* g_source_add_unix_fd() of epfd */
    GPtrArray *always_ready;    /* nodes whose fd epoll refused (EPERM) */
} EpollState;

/* Set once epoll_pwait2() answered ENOSYS; then ms-rounded epoll_wait(). */
static atomic_bool epoll_pwait2_missing;

static uint32_t epoll_events_from_pfd(int pfd_events)
{
    /* EPOLLHUP and EPOLLERR are always reported; no need to ask. */
    return (pfd_events & G_IO_IN ? EPOLLIN : 0) |
           (pfd_events & G_IO_OUT ? EPOLLOUT : 0) |
           (pfd_events & G_IO_PRI ? EPOLLPRI : 0);
}

static int pfd_events_from_epoll(uint32_t events)
{
    return (events & EPOLLIN ? G_IO_IN : 0) |
           (events & EPOLLOUT ? G_IO_OUT : 0) |
           (events & EPOLLPRI ? G_IO_PRI : 0) |
           (events & EPOLLHUP ? G_IO_HUP : 0) |
           (events & EPOLLERR ? G_IO_ERR : 0);
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Register (or re-point) @node; tolerates the fd being registered already
 * (upgrade racing with update) or not yet (MOD of a node never added). */
static int epoll_register(int epfd, AioHandler *node, bool replace)
{
    struct epoll_event ev = {
        .events = epoll_events_from_pfd(node->pfd.events),
        .data.ptr = node,
    };
    int op = replace ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

    if (epoll_ctl(epfd, op, node->pfd.fd, &ev) == 0) {
        return 0;
    }
    if (op == EPOLL_CTL_ADD && errno == EEXIST) {
        op = EPOLL_CTL_MOD;
    } else if (op == EPOLL_CTL_MOD && errno == ENOENT) {
        op = EPOLL_CTL_ADD;
    } else {
        return -errno;
    }
    return epoll_ctl(epfd, op, node->pfd.fd, &ev) == 0 ? 0 : -errno;
}

/* Register @node, or put it on the always-ready list when epoll refuses
 * its fd.  Returns 0 or the epoll_ctl() error. */
static int epoll_add_node(EpollState *st, AioHandler *node, bool replace)
{
    int ret = epoll_register(st->epfd, node, replace);

    if (ret == -EPERM) {
        g_ptr_array_add(st->always_ready, node);
        return 0;
    }
    return ret;
}

static void fdmon_epoll_update(AioContext *ctx, AioHandler *old_node,
                               AioHandler *new_node)
{
    EpollState *st = ctx->fdmon_data;
    int ret;

    if (old_node && g_ptr_array_remove_fast(st->always_ready, old_node)) {
        old_node = NULL;        /* never was in the epoll set */
    }
    if (new_node) {
        ret = epoll_add_node(st, new_node, old_node != NULL);
        if (ret < 0) {
            /* ENOMEM, ENOSPC (max_user_watches), EBADF: report, not abort. */
            g_warning("epoll_ctl(fd %d) failed: %s; the fd is not monitored",
                      new_node->pfd.fd, g_strerror(-ret));
        }
    } else if (old_node) {
        /* ENOENT/EBADF: the caller closed the fd first, which already took
         * it out of the epoll set.  Nothing left to do either way. */
        epoll_ctl(st->epfd, EPOLL_CTL_DEL, old_node->pfd.fd, NULL);
    }
}

/* One epoll wait of up to @timeout ns (-1 forever).  EINTR is retried with
 * the time that is left. */
static int epoll_wait_ns(int epfd, struct epoll_event *events, int64_t timeout)
{
    int64_t deadline = timeout > 0 ? monotonic_ns() + timeout : 0;
    int ret;

    for (;;) {
        if (timeout > 0 &&
            !atomic_load_explicit(&epoll_pwait2_missing,
                                  memory_order_relaxed)) {
            struct timespec ts = {
                .tv_sec = timeout / 1000000000,
                .tv_nsec = timeout % 1000000000,
            };
            ret = epoll_pwait2(epfd, events, EPOLL_EVENTS_PER_WAIT, &ts, NULL);
            if (ret < 0 && errno == ENOSYS) {
                atomic_store_explicit(&epoll_pwait2_missing, true,
                                      memory_order_relaxed);
                continue;
            }
        } else {
            int ms;
            if (timeout < 0) {
                ms = -1;
            } else if (timeout == 0) {
                ms = 0;
            } else {
                /* Round up: waking before the timer is due would only cost
                 * another loop iteration and a second syscall. */
                int64_t ms64 = (timeout + 999999) / 1000000;
                ms = ms64 > INT_MAX ? INT_MAX : (int)ms64;
            }
            ret = epoll_wait(epfd, events, EPOLL_EVENTS_PER_WAIT, ms);
        }
        if (ret >= 0 || errno != EINTR) {
            return ret < 0 ? -errno : ret;
        }
        if (timeout > 0) {
            timeout = deadline - monotonic_ns();
            if (timeout <= 0) {
                return 0;
            }
        }
    }
}

static int fdmon_epoll_collect(AioContext *ctx, AioHandlerList *ready_list,
                               int64_t timeout)
{
    EpollState *st = ctx->fdmon_data;
    struct epoll_event events[EPOLL_EVENTS_PER_WAIT];
    int ret, n = st->always_ready->len;

    for (guint i = 0; i < st->always_ready->len; i++) {
        AioHandler *node = g_ptr_array_index(st->always_ready, i);
        aio_add_ready_handler(ready_list, node,
                              node->pfd.events & (G_IO_IN | G_IO_OUT));
    }
    ret = epoll_wait_ns(st->epfd, events, n ? 0 : timeout);
    for (int i = 0; i < ret; i++) {
        aio_add_ready_handler(ready_list, events[i].data.ptr,
                              pfd_events_from_epoll(events[i].events));
    }
    if (ret < 0) {
        return n ? n : ret;
    }
    return ret + n;
}

static int fdmon_epoll_wait(AioContext *ctx, AioHandlerList *ready_list,
                            int64_t timeout)
{
    return fdmon_epoll_collect(ctx, ready_list, timeout);
}

static bool fdmon_epoll_need_wait(AioContext *ctx)
{
    /* Readiness is not visible from user space, so busy-polling could
     * starve handlers that cannot be polled: stop polling when any exists
     * (as QEMU's aio_poll_disabled()). */
    return ctx->poll_disable_cnt > 0 ||
           ((EpollState *)ctx->fdmon_data)->always_ready->len > 0;
}

static void fdmon_epoll_gsource_prepare(AioContext *ctx)
{
    /* epoll_ctl() already applied every change; nothing to flush.  But an
     * always-ready node is invisible to GLib's poll of the epoll fd: make
     * that poll return at once through the context's notifier. */
    if (((EpollState *)ctx->fdmon_data)->always_ready->len > 0) {
        aio_notify(ctx);
    }
}

static bool fdmon_epoll_gsource_check(AioContext *ctx)
{
    EpollState *st = ctx->fdmon_data;

    return (g_source_query_unix_fd(&ctx->source, st->gsource_tag) & G_IO_IN) ||
           st->always_ready->len > 0;
}

static void fdmon_epoll_gsource_dispatch(AioContext *ctx,
                                         AioHandlerList *ready_list)
{
    fdmon_epoll_collect(ctx, ready_list, 0);
}

/* Builds the state without touching ctx->fdmon_data. */
static EpollState *epoll_state_new(AioContext *ctx, GError **error)
{
    EpollState *st;
    int epfd = epoll_create1(EPOLL_CLOEXEC);

    if (epfd < 0) {
        g_set_error(error, AIO_ERROR, AIO_ERROR_FAILED,
                    "epoll_create1 failed: %s", g_strerror(errno));
        return NULL;
    }
    st = g_new0(EpollState, 1);
    st->epfd = epfd;
    st->always_ready = g_ptr_array_new();
    st->gsource_tag = g_source_add_unix_fd(&ctx->source, epfd, G_IO_IN);
    return st;
}

static void epoll_state_free(AioContext *ctx, EpollState *st)
{
    /* A destroyed GSource (finalize after g_source_destroy) refuses
     * g_source_remove_unix_fd(); GLib frees the fd record itself then. */
    if (!g_source_is_destroyed(&ctx->source)) {
        g_source_remove_unix_fd(&ctx->source, st->gsource_tag);
    }
    close(st->epfd);
    g_ptr_array_free(st->always_ready, TRUE);
    g_free(st);
}

static bool fdmon_epoll_init(AioContext *ctx, GError **error)
{
    EpollState *st = epoll_state_new(ctx, error);

    if (!st) {
        return false;
    }
    ctx->fdmon_data = st;
    return true;
}

static void fdmon_epoll_destroy(AioContext *ctx)
{
    EpollState *st = ctx->fdmon_data;

    if (st) {
        epoll_state_free(ctx, st);
        ctx->fdmon_data = NULL;
    }
}

const FDMonOps fdmon_epoll_ops = {
    .name = "epoll",
    .init = fdmon_epoll_init,
    .destroy = fdmon_epoll_destroy,
    .update = fdmon_epoll_update,
    .wait = fdmon_epoll_wait,
    .need_wait = fdmon_epoll_need_wait,
    .dispatch = NULL,
    .gsource_prepare = fdmon_epoll_gsource_prepare,
    .gsource_check = fdmon_epoll_gsource_check,
    .gsource_dispatch = fdmon_epoll_gsource_dispatch,
    .add_sqe = NULL,
};

bool fdmon_epoll_try_upgrade(AioContext *ctx)
{
    GError *error = NULL;
    EpollState *st;
    AioHandler *node;

    g_assert(ctx->fdmon_ops == &fdmon_poll_ops);

    st = epoll_state_new(ctx, &error);
    if (!st) {
        g_info("staying on poll: %s", error->message);
        g_error_free(error);
        return false;
    }
    LIST_FOREACH(node, &ctx->aio_handlers, node) {
        int ret;

        if (node->on_deleted_list) {
            continue;           /* removed, waiting for its walker to end */
        }
        ret = epoll_add_node(st, node, false);
        if (ret < 0) {
            g_info("staying on poll: epoll_ctl(fd %d) failed: %s",
                   node->pfd.fd, g_strerror(-ret));
            epoll_state_free(ctx, st);
            return false;
        }
    }

    /* poll's destroy reads its own state through ctx->fdmon_data. */
    fdmon_poll_ops.destroy(ctx);
    ctx->fdmon_data = st;
    aio_context_set_fdmon(ctx, &fdmon_epoll_ops);
    return true;
}
