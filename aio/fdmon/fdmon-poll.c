/*
 * fd monitoring with ppoll(2): the portable baseline, and what a context
 * uses until it has more than FDMON_POLL_UPGRADE_THRESHOLD handlers (then
 * aio_set_fd_handler switches it to epoll).
 *
 * Under a GLib main loop each handler's GPollFD is added to the GSource
 * itself, so GLib polls the fds and fills pfd.revents for gsource_dispatch.
 */
#include "core/aio-internal.h"

#include <errno.h>
#include <poll.h>

typedef struct {
    GArray *pollfds;            /* struct pollfd, rebuilt for each wait */
    GPtrArray *nodes;           /* the AioHandler of each pollfd */
} FdmonPoll;

static bool fdmon_poll_init(AioContext *ctx, GError **error)
{
    FdmonPoll *p = g_new0(FdmonPoll, 1);

    p->pollfds = g_array_new(FALSE, FALSE, sizeof(struct pollfd));
    p->nodes = g_ptr_array_new();
    ctx->fdmon_data = p;
    return true;
}

static void gsource_remove_poll(AioContext *ctx, AioHandler *node)
{
    /* GLib asserts if a destroyed source is changed; it drops its poll
     * records itself then. */
    if (!g_source_is_destroyed(&ctx->source)) {
        g_source_remove_poll(&ctx->source, &node->pfd);
    }
}

static void fdmon_poll_destroy(AioContext *ctx)
{
    FdmonPoll *p = ctx->fdmon_data;
    AioHandler *node;

    LIST_FOREACH(node, &ctx->aio_handlers, node) {
        gsource_remove_poll(ctx, node);
    }
    g_array_free(p->pollfds, TRUE);
    g_ptr_array_free(p->nodes, TRUE);
    g_free(p);
    ctx->fdmon_data = NULL;
}

static void fdmon_poll_update(AioContext *ctx, AioHandler *old_node,
                              AioHandler *new_node)
{
    if (old_node) {
        gsource_remove_poll(ctx, old_node);
    }
    if (new_node) {
        g_source_add_poll(&ctx->source, &new_node->pfd);
    }
}

static int fdmon_poll_wait(AioContext *ctx, AioHandlerList *ready_list,
                           int64_t timeout)
{
    FdmonPoll *p = ctx->fdmon_data;
    struct timespec ts, *tsp = NULL;
    AioHandler *node;
    int ret;

    g_array_set_size(p->pollfds, 0);
    g_ptr_array_set_size(p->nodes, 0);
    LIST_FOREACH(node, &ctx->aio_handlers, node) {
        /* GLib's G_IO_* values are poll(2)'s on Linux. */
        struct pollfd pfd = { .fd = node->pfd.fd, .events = node->pfd.events };

        g_array_append_val(p->pollfds, pfd);
        g_ptr_array_add(p->nodes, node);
    }

    if (timeout >= 0) {
        ts.tv_sec = timeout / 1000000000LL;
        ts.tv_nsec = timeout % 1000000000LL;
        tsp = &ts;
    }
    ret = ppoll((struct pollfd *)p->pollfds->data, p->pollfds->len, tsp, NULL);
    if (ret < 0) {
        /* EINTR: a spurious wake-up; the caller loops. */
        return errno == EINTR ? 0 : -errno;
    }
    for (guint i = 0; i < p->pollfds->len && ret > 0; i++) {
        struct pollfd *pfd = &g_array_index(p->pollfds, struct pollfd, i);

        if (pfd->revents) {
            aio_add_ready_handler(ready_list, p->nodes->pdata[i], pfd->revents);
        }
    }
    return ret;
}

/* poll(2) cannot tell readiness without a syscall, so busy-polling is only
 * allowed when every handler can be polled from userspace. */
static bool fdmon_poll_need_wait(AioContext *ctx)
{
    return ctx->poll_disable_cnt > 0;
}

static void fdmon_poll_gsource_prepare(AioContext *ctx)
{
    /* GLib polls our GPollFDs itself. */
}

static bool fdmon_poll_gsource_check(AioContext *ctx)
{
    AioHandler *node;

    LIST_FOREACH(node, &ctx->aio_handlers, node) {
        if (node->pfd.revents & node->pfd.events) {
            return true;
        }
    }
    return false;
}

static void fdmon_poll_gsource_dispatch(AioContext *ctx,
                                        AioHandlerList *ready_list)
{
    AioHandler *node;

    LIST_FOREACH(node, &ctx->aio_handlers, node) {
        int revents = node->pfd.revents & node->pfd.events;

        node->pfd.revents = 0;
        if (revents) {
            aio_add_ready_handler(ready_list, node, revents);
        }
    }
}

const FDMonOps fdmon_poll_ops = {
    .name = "poll",
    .init = fdmon_poll_init,
    .destroy = fdmon_poll_destroy,
    .update = fdmon_poll_update,
    .wait = fdmon_poll_wait,
    .need_wait = fdmon_poll_need_wait,
    .gsource_prepare = fdmon_poll_gsource_prepare,
    .gsource_check = fdmon_poll_gsource_check,
    .gsource_dispatch = fdmon_poll_gsource_dispatch,
};
