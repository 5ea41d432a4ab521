/*
 * test-fd: fd handlers (aio_set_fd_handler) on pipes.
 *
 * Read and write readiness, replacing a handler, and the removal rules: a
 * handler removing itself or other handlers from inside a callback is never
 * called again, even when its fd was already reported ready in the same
 * round.
 */
#include "aio-test.h"

#include <fcntl.h>
#include <unistd.h>

#define NPIPES 8

typedef struct Pipe {
    int rfd, wfd;
    int reads, writes, replaced_reads;
} Pipe;

static AioContext *the_ctx;
static Pipe pipes[NPIPES];
static bool ran_after_removal;
static bool removed[NPIPES];

static void pipe_open(Pipe *p)
{
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        printf("Bail out! pipe2 failed\n");
        exit(1);
    }
    *p = (Pipe){ .rfd = fds[0], .wfd = fds[1] };
}

static void pipe_close(Pipe *p)
{
    close(p->rfd);
    close(p->wfd);
}

static void pipe_fill(Pipe *p)
{
    char c = 'x';
    if (write(p->wfd, &c, 1) != 1) {
        printf("Bail out! pipe write failed\n");
        exit(1);
    }
}

static int index_of(void *opaque)
{
    return (int)((Pipe *)opaque - pipes);
}

static void read_drain_cb(void *opaque)
{
    Pipe *p = opaque;
    char buf[64];
    while (read(p->rfd, buf, sizeof(buf)) > 0) {
    }
    p->reads++;
}

static void write_once_cb(void *opaque)
{
    Pipe *p = opaque;
    p->writes++;
    aio_set_fd_handler(the_ctx, p->wfd, NULL, NULL, NULL, NULL, NULL);
}

static void test_read_write(AioContext *ctx)
{
    Pipe *p = &pipes[0];
    pipe_open(p);
    aio_set_fd_handler(ctx, p->rfd, read_drain_cb, NULL, NULL, NULL, p);
    ok(!aio_poll(ctx, false), "read: empty pipe, no progress");
    pipe_fill(p);
    ok(aio_poll(ctx, false) && p->reads == 1, "read: readable pipe dispatched");
    ok(!aio_poll(ctx, false), "read: drained, no progress");
    pipe_fill(p);
    TestWatchdog wd;
    test_watchdog_arm(ctx, &wd, 5000);
    ok(aio_poll(ctx, true) && p->reads == 2 && !wd.fired,
       "read: blocking poll returns for a readable fd");
    test_watchdog_disarm(&wd);
    aio_set_fd_handler(ctx, p->rfd, NULL, NULL, NULL, NULL, NULL);
    pipe_fill(p);
    ok(!aio_poll(ctx, false) && p->reads == 2, "read: removed, not called");

    aio_set_fd_handler(ctx, p->wfd, NULL, write_once_cb, NULL, NULL, p);
    ok(aio_poll(ctx, false) && p->writes == 1, "write: writable pipe dispatched");
    ok(!aio_poll(ctx, false) && p->writes == 1,
       "write: handler removed itself, not called again");
    pipe_close(p);
}

static void replaced_read_cb(void *opaque)
{
    Pipe *p = opaque;
    p->replaced_reads++;
    aio_set_fd_handler(the_ctx, p->rfd, NULL, NULL, NULL, NULL, NULL);
}

static void replace_self_cb(void *opaque)
{
    Pipe *p = opaque;
    p->reads++;
    aio_set_fd_handler(the_ctx, p->rfd, replaced_read_cb, NULL, NULL, NULL, p);
}

static void test_replace(AioContext *ctx)
{
    Pipe *p = &pipes[0];
    pipe_open(p);
    aio_set_fd_handler(ctx, p->rfd, replace_self_cb, NULL, NULL, NULL, p);
    pipe_fill(p);   /* never drained: stays readable */
    ok(aio_poll(ctx, false) && p->reads == 1 && p->replaced_reads == 0,
       "replace from cb: old handler ran once");
    ok(aio_poll(ctx, false) && p->reads == 1 && p->replaced_reads == 1,
       "replace from cb: the new handler runs next round");
    ok(!aio_poll(ctx, false), "replace from cb: new one removed itself");
    pipe_close(p);
}

static void remove_self_cb(void *opaque)
{
    Pipe *p = opaque;
    int i = index_of(opaque);
    if (removed[i]) {
        ran_after_removal = true;
    }
    p->reads++;
    removed[i] = true;
    aio_set_fd_handler(the_ctx, p->rfd, NULL, NULL, NULL, NULL, NULL);
}

static void test_remove_self(AioContext *ctx)
{
    Pipe *p = &pipes[0];
    pipe_open(p);
    ran_after_removal = false;
    removed[0] = false;
    aio_set_fd_handler(ctx, p->rfd, remove_self_cb, NULL, NULL, NULL, p);
    pipe_fill(p);   /* not drained by the callback */
    ok(aio_poll(ctx, false), "remove self: dispatched");
    ok(!aio_poll(ctx, false), "remove self: fd still readable, no progress");
    ok(p->reads == 1 && !ran_after_removal, "remove self: ran exactly once");
    pipe_close(p);
}

/* Removes its own handler and every other one. */
static void remove_all_cb(void *opaque)
{
    int self = index_of(opaque);
    if (removed[self]) {
        ran_after_removal = true;
    }
    pipes[self].reads++;
    for (int i = 0; i < NPIPES; i++) {
        if (!removed[i]) {
            removed[i] = true;
            aio_set_fd_handler(the_ctx, pipes[i].rfd, NULL, NULL, NULL, NULL,
                               NULL);
        }
    }
}

static void test_remove_others(AioContext *ctx)
{
    ran_after_removal = false;
    for (int i = 0; i < NPIPES; i++) {
        pipe_open(&pipes[i]);
        removed[i] = false;
        aio_set_fd_handler(ctx, pipes[i].rfd, remove_all_cb, NULL, NULL, NULL,
                           &pipes[i]);
    }
    /* All readable before the poll, so the backend reports all of them in
     * the same round; only the first callback may run. */
    for (int i = 0; i < NPIPES; i++) {
        pipe_fill(&pipes[i]);
    }
    ok(aio_poll(ctx, false), "remove others: dispatched");
    int total = 0;
    for (int i = 0; i < NPIPES; i++) {
        total += pipes[i].reads;
    }
    is_int(total, 1, "remove others: only the first ready handler ran");
    ok(!ran_after_removal, "remove others: no callback after its removal");
    ok(!aio_poll(ctx, false), "remove others: all gone");
    for (int i = 0; i < NPIPES; i++) {
        pipe_close(&pipes[i]);
    }
}

/* Two handlers; each removes the other (not itself). */
static void remove_partner_cb(void *opaque)
{
    int self = index_of(opaque);
    int partner = self ^ 1;
    if (removed[self]) {
        ran_after_removal = true;
    }
    pipes[self].reads++;
    removed[partner] = true;
    aio_set_fd_handler(the_ctx, pipes[partner].rfd, NULL, NULL, NULL, NULL,
                       NULL);
}

static void test_remove_partner(AioContext *ctx)
{
    ran_after_removal = false;
    for (int i = 0; i < 2; i++) {
        pipe_open(&pipes[i]);
        removed[i] = false;
        aio_set_fd_handler(ctx, pipes[i].rfd, remove_partner_cb, NULL, NULL,
                           NULL, &pipes[i]);
        pipe_fill(&pipes[i]);
    }
    aio_poll(ctx, false);
    ok(pipes[0].reads + pipes[1].reads == 1 && !ran_after_removal,
       "remove partner: the removed partner never runs");
    /* The survivor is still registered and still readable. */
    int survivor = removed[0] ? 1 : 0;
    ok(aio_poll(ctx, false) && pipes[survivor].reads == 2,
       "remove partner: the survivor keeps running");
    aio_set_fd_handler(ctx, pipes[survivor].rfd, NULL, NULL, NULL, NULL, NULL);
    ok(!aio_poll(ctx, false), "remove partner: all gone");
    for (int i = 0; i < 2; i++) {
        pipe_close(&pipes[i]);
    }
}

int main(void)
{
    AioContext *ctx = test_context_new();
    the_ctx = ctx;
    test_read_write(ctx);
    test_replace(ctx);
    test_remove_self(ctx);
    test_remove_others(ctx);
    test_remove_partner(ctx);
    aio_context_unref(ctx);
    return done_testing();
}
