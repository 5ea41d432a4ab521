/*
 * test-fdmon-many: 1000 eventfds registered, signalled and removed on the
 * backend named by AIO_FDMON (registered for epoll and io_uring).
 *
 * The invariant checked throughout: a handler runs only while it is
 * registered (never after its removal, even when its fd was already ready
 * and, for io_uring, its POLL_ADD completion was already queued), and every
 * registered, signalled fd is dispatched.  With io_uring, 1000 completions
 * at once overflow the 256-entry cq ring, so the overflow path runs too.
 *
 * The last phase has a writer thread signalling random fds while the main
 * thread keeps adding and removing handlers.
 */
#include "aio-test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

enum { NFDS = 1000 };

typedef struct Slot {
    int fd;
    bool registered;
    unsigned calls;
    AioContext *ctx;
    struct Slot *victim;        /* removed from inside this slot's callback */
} Slot;

static Slot slots[NFDS];
static unsigned violations;     /* a callback of an unregistered slot ran */

static void slot_read(void *opaque)
{
    Slot *s = opaque;
    uint64_t v;

    if (!s->registered) {
        violations++;
    }
    if (read(s->fd, &v, sizeof(v)) < 0) {
        /* EAGAIN: already drained, fine */
    }
    s->calls++;
    if (s->victim && s->victim->registered) {
        aio_set_fd_handler(s->ctx, s->victim->fd, NULL, NULL, NULL, NULL,
                           NULL);
        s->victim->registered = false;
    }
}

static void slot_set(AioContext *ctx, Slot *s, bool on)
{
    aio_set_fd_handler(ctx, s->fd, on ? slot_read : NULL, NULL, NULL, NULL,
                       on ? s : NULL);
    s->registered = on;
}

static void signal_fd(int fd)
{
    uint64_t one = 1;

    if (write(fd, &one, sizeof(one)) != sizeof(one)) {
        abort();                /* eventfd cannot refuse 1 */
    }
}

static void reset_calls(void)
{
    for (int i = 0; i < NFDS; i++) {
        slots[i].calls = 0;
    }
}

/* Polls until every slot in [first, NFDS) step @step has been called. */
static bool all_called(int first, int step)
{
    for (int i = first; i < NFDS; i += step) {
        if (slots[i].calls == 0) {
            return false;
        }
    }
    return true;
}

static void drain(AioContext *ctx)
{
    for (int i = 0; i < 8; i++) {
        aio_poll(ctx, false);
    }
}

static uint64_t base_handlers;  /* the context's own, before any slot */

/* Each case starts from no ready fd, no call counted and the slots
 * [first, NFDS) step @step registered (drained, so io_uring has armed
 * them), and ends with every slot removed. */
static void case_begin(AioContext *ctx, int first, int step)
{
    uint64_t v;

    for (int i = 0; i < NFDS; i++) {
        slots[i].victim = NULL;
        while (read(slots[i].fd, &v, sizeof(v)) > 0) {
        }
    }
    for (int i = first; i < NFDS; i += step) {
        slot_set(ctx, &slots[i], true);
    }
    drain(ctx);
    reset_calls();
    violations = 0;
}

static void case_end(AioContext *ctx)
{
    for (int i = 0; i < NFDS; i++) {
        if (slots[i].registered) {
            slot_set(ctx, &slots[i], false);
        }
    }
    drain(ctx);
}

static unsigned calls_of(int first, int step)
{
    unsigned total = 0;

    for (int i = first; i < NFDS; i += step) {
        total += slots[i].calls;
    }
    return total;
}

static uint64_t handler_count(AioContext *ctx)
{
    AioStats st;

    aio_context_get_stats(ctx, &st);
    return st.fd_handlers;
}

/* ---- concurrent phase ---------------------------------------------- */

static atomic_bool writer_stop;

static void *writer_main(void *arg)
{
    unsigned seed = 1;

    while (!atomic_load(&writer_stop)) {
        seed = seed * 1103515245 + 12345;
        signal_fd(slots[(seed >> 8) % NFDS].fd);
    }
    return NULL;
}

/* A writer thread signals random fds while this thread adds and removes
 * handlers (starting from all registered): no removed handler runs, and
 * every handler still registered afterwards is dispatched. */
static void test_churn_under_concurrent_signals_never_runs_removed(AioContext *ctx)
{
    pthread_t writer;
    unsigned seed = 7;
    int64_t end;

    case_begin(ctx, 0, 1);
    atomic_store(&writer_stop, false);
    pthread_create(&writer, NULL, writer_main, NULL);

    end = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 300 * 1000000LL;
    while (aio_clock_get_ns(AIO_CLOCK_MONOTONIC) < end) {
        for (int k = 0; k < 50; k++) {
            seed = seed * 1103515245 + 12345;
            Slot *s = &slots[(seed >> 8) % NFDS];
            slot_set(ctx, s, !s->registered);
        }
        aio_poll(ctx, false);
    }
    atomic_store(&writer_stop, true);
    pthread_join(writer, NULL);

    ok(violations == 0,
       "writer thread + 50 add/remove per iteration: no removed handler ran "
       "(%u violations)", violations);

    /* Whatever is registered now still works. */
    reset_calls();
    int registered = 0;
    for (int i = 0; i < NFDS; i++) {
        if (slots[i].registered) {
            registered++;
            signal_fd(slots[i].fd);
        }
    }
    bool done = POLL_UNTIL(ctx, ({
        bool all = true;
        for (int i = 0; i < NFDS; i++) {
            if (slots[i].registered && !slots[i].calls) {
                all = false;
                break;
            }
        }
        all;
    }), 5000);
    ok(done, "after the churn all %d registered fds are dispatched",
       registered);
    ok(violations == 0, "and still no removed handler ran");
    case_end(ctx);
}

/* All registered, all signalled at once (io_uring: the 256-entry cq ring
 * overflows): every fd dispatched exactly once. */
static void test_all_signalled_fds_dispatched_once(AioContext *ctx)
{
    bool ok_all = true;

    case_begin(ctx, 0, 1);
    is_int(handler_count(ctx), base_handlers + NFDS, "%d handlers registered",
           NFDS);
    for (int i = 0; i < NFDS; i++) {
        signal_fd(slots[i].fd);
    }
    ok(POLL_UNTIL(ctx, all_called(0, 1), 5000),
       "all %d signalled fds dispatched", NFDS);
    drain(ctx);
    for (int i = 0; i < NFDS; i++) {
        ok_all &= slots[i].calls == 1;
    }
    ok(ok_all, "each exactly once (%u calls in total)", calls_of(0, 1));
    case_end(ctx);
}

/* Signal all, remove the even ones before the loop sees them: those never
 * run, the odd ones do. */
static void test_fds_removed_while_ready_never_dispatched(AioContext *ctx)
{
    case_begin(ctx, 0, 1);
    for (int i = 0; i < NFDS; i++) {
        signal_fd(slots[i].fd);
    }
    for (int i = 0; i < NFDS; i += 2) {
        slot_set(ctx, &slots[i], false);
    }
    ok(POLL_UNTIL(ctx, all_called(1, 2), 5000), "odd fds dispatched");
    drain(ctx);
    is_int(calls_of(0, 2), 0, "removed (even) fds never dispatched although ready");
    is_int(handler_count(ctx), base_handlers + NFDS / 2, "%d handlers left",
           NFDS / 2);
    case_end(ctx);
}

static bool registered_all_called(void)
{
    for (int i = 0; i < NFDS; i++) {
        if (slots[i].registered && !slots[i].calls) {
            return false;
        }
    }
    return true;
}

/* Every odd slot's callback removes the next odd slot, all ready in the
 * same batch: a victim may run before its killer, never after. */
static void test_handler_removed_by_batch_peer_never_runs_after(AioContext *ctx)
{
    bool ok_all = true;

    case_begin(ctx, 1, 2);
    for (int i = 1; i < NFDS; i += 2) {
        slots[i].victim = i + 2 < NFDS ? &slots[i + 2] : NULL;
        signal_fd(slots[i].fd);
    }
    ok(POLL_UNTIL(ctx, registered_all_called(), 5000),
       "every odd fd still registered was dispatched");
    drain(ctx);
    for (int i = 1; i < NFDS; i += 2) {
        ok_all &= slots[i].calls <= 1;
    }
    ok(violations == 0 && ok_all,
       "handlers removed by another callback of the same batch never ran "
       "after removal (%u violations)", violations);
    case_end(ctx);
}

/* Removed and registered again (new nodes on reused fds), signalled: all
 * dispatched. */
static void test_reregistered_fds_all_dispatched(AioContext *ctx)
{
    case_begin(ctx, 0, 1);
    case_end(ctx);
    for (int i = 0; i < NFDS; i++) {
        slot_set(ctx, &slots[i], true);
        signal_fd(slots[i].fd);
    }
    ok(POLL_UNTIL(ctx, all_called(0, 1), 5000),
       "re-registered: all %d fds dispatched", NFDS);
    case_end(ctx);
}

/* Remove all while signalled: nothing is dispatched, the count is back. */
static void test_removed_while_signalled_dispatches_nothing(AioContext *ctx)
{
    case_begin(ctx, 0, 1);
    for (int i = 0; i < NFDS; i++) {
        signal_fd(slots[i].fd);
        slot_set(ctx, &slots[i], false);
    }
    drain(ctx);
    is_int(calls_of(0, 1), 0, "after removing all, nothing is dispatched");
    is_int(handler_count(ctx), base_handlers, "handler count back to %d",
           (int)base_handlers);
}

/* Half registered at unref, a quarter removed while ready: the backend
 * frees what it still holds (checked by ASan/LSan, no TAP result). */
static void unref_with_removals_in_flight(AioContext *ctx)
{
    case_begin(ctx, 0, 2);
    for (int i = 0; i < NFDS; i += 4) {
        signal_fd(slots[i].fd);
        slot_set(ctx, &slots[i], false);
    }
    aio_context_unref(ctx);
}

int main(void)
{
    struct rlimit rl;
    AioContext *ctx;

    /* 1000 eventfds + the context's own fds. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < NFDS + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    ctx = test_context_new();
    base_handlers = handler_count(ctx);
    for (int i = 0; i < NFDS; i++) {
        slots[i].fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        slots[i].ctx = ctx;
        if (slots[i].fd < 0) {
            printf("Bail out! eventfd %d: %s\n", i, g_strerror(errno));
            return 1;
        }
    }
    test_all_signalled_fds_dispatched_once(ctx);
    test_fds_removed_while_ready_never_dispatched(ctx);
    test_handler_removed_by_batch_peer_never_runs_after(ctx);
    test_reregistered_fds_all_dispatched(ctx);
    test_churn_under_concurrent_signals_never_runs_removed(ctx);
    test_removed_while_signalled_dispatches_nothing(ctx);
    unref_with_removals_in_flight(ctx);
    for (int i = 0; i < NFDS; i++) {
        close(slots[i].fd);
    }
    return done_testing();
}
