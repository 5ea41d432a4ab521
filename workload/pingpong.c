/*
 * The ping-pong workloads: a driver thread of the workload's own wakes the
 * iothread and blocks until the iothread answers, one round trip per op.
 *  - bh-pingpong: the wake-up is aio_bh_schedule() of a BH of the
 *    iothread's context.
 *  - fd-pingpong: the wake-up is a write to an eventfd the iothread
 *    watches with an fd handler; its poll function reads a flag the driver
 *    sets first, so adaptive polling can find the request without a
 *    system call.
 * The iothread answers by writing the driver's reply eventfd.
 *
 * Thread rules: the driver thread writes the counters and the histogram
 * (it measures the round trip); the BH and the fd handler run in the
 * iothread and touch only `kicked` and the eventfds; `stopping` is set by
 * the owner and read by the driver (atomics).
 */
#include "workload-internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct PingPong {
    Workload *w;
    bool fd_mode;
    int reply_fd;               /* iothread -> driver (blocking reads) */
    int kick_fd;                /* driver -> iothread (fd-pingpong) */
    AioBH *bh;                  /* bh-pingpong */
    _Atomic bool kicked;        /* fd-pingpong: a request is waiting */
    _Atomic bool stopping;
    pthread_t thread;
} PingPong;

static void answer(PingPong *pp)
{
    uint64_t one = 1;
    if (write(pp->reply_fd, &one, sizeof(one)) != sizeof(one)) {
        /* An eventfd write fails only on counter overflow, which one
         * pending answer at a time cannot reach. */
        g_warning("workload %s: cannot answer: %s", pp->w->id,
                  g_strerror(errno));
    }
}

static void pingpong_bh(void *opaque)
{
    answer(opaque);
}

static bool pingpong_poll(void *opaque)
{
    PingPong *pp = opaque;
    return atomic_load_explicit(&pp->kicked, memory_order_acquire);
}

/* The eventfd may be readable without a request (its write came after an
 * answer by polling) and a request may be found before its write: answer
 * the flag, drain the eventfd. */
static void pingpong_fd_read(void *opaque)
{
    PingPong *pp = opaque;
    uint64_t n;

    if (read(pp->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN) {
        g_warning("workload %s: eventfd read: %s", pp->w->id,
                  g_strerror(errno));
    }
    if (atomic_exchange_explicit(&pp->kicked, false, memory_order_acq_rel)) {
        answer(pp);
    }
}

static void kick(PingPong *pp)
{
    uint64_t one = 1;

    if (!pp->fd_mode) {
        aio_bh_schedule(pp->bh);
        return;
    }
    atomic_store_explicit(&pp->kicked, true, memory_order_release);
    if (write(pp->kick_fd, &one, sizeof(one)) != sizeof(one)) {
        g_warning("workload %s: eventfd write: %s", pp->w->id,
                  g_strerror(errno));
    }
}

static bool wait_answer(PingPong *pp)
{
    uint64_t n;

    for (;;) {
        if (read(pp->reply_fd, &n, sizeof(n)) == sizeof(n)) {
            return true;
        }
        if (errno != EINTR) {
            return false;
        }
    }
}

static void *pingpong_driver(void *opaque)
{
    PingPong *pp = opaque;
    Workload *w = pp->w;

    for (;;) {
        int64_t t0 = workload_now_ns();
        if (atomic_load(&pp->stopping)) {
            return NULL;
        }
        if (workload_runtime_over(w, t0)) {
            workload_end(w, NULL);
            return NULL;
        }
        kick(pp);
        if (!wait_answer(pp)) {
            char *msg = g_strdup_printf("reading the answer eventfd failed: "
                                        "%s", g_strerror(errno));
            workload_end(w, msg);
            g_free(msg);
            return NULL;
        }
        workload_record(w, 0, workload_now_ns() - t0);
    }
}

/* ---------------------------------------------------------------------- */

static void watch_in_iothread(void *opaque)
{
    PingPong *pp = opaque;
    aio_set_fd_handler(pp->w->ctx, pp->kick_fd, pingpong_fd_read, NULL,
                       pingpong_poll, pingpong_fd_read, pp);
}

static void unwatch_in_iothread(void *opaque)
{
    PingPong *pp = opaque;
    aio_set_fd_handler(pp->w->ctx, pp->kick_fd, NULL, NULL, NULL, NULL, NULL);
}

static void pingpong_free(PingPong *pp)
{
    if (pp->bh) {
        aio_bh_delete(pp->bh);
    }
    if (pp->kick_fd >= 0) {
        close(pp->kick_fd);
    }
    if (pp->reply_fd >= 0) {
        close(pp->reply_fd);
    }
    g_free(pp);
}

static bool start_driver(PingPong *pp, GError **error)
{
    sigset_t all, old;
    int err;

    /* Signals belong to the daemon's main thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&pp->thread, NULL, pingpong_driver, pp);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "cannot start the workload's driver thread: %s",
                    g_strerror(err));
        return false;
    }
    return true;
}

static bool pingpong_start(Workload *w, bool fd_mode, GError **error)
{
    PingPong *pp = g_new0(PingPong, 1);

    pp->w = w;
    pp->fd_mode = fd_mode;
    pp->kick_fd = fd_mode ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
    pp->reply_fd = eventfd(0, EFD_CLOEXEC);
    if (pp->reply_fd < 0 || (fd_mode && pp->kick_fd < 0)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                    "eventfd: %s", g_strerror(errno));
        pingpong_free(pp);
        return false;
    }
    if (fd_mode) {
        iothread_run_sync(w->iothread, watch_in_iothread, pp);
    } else {
        pp->bh = aio_bh_new(w->ctx, pingpong_bh, pp);
    }
    if (!start_driver(pp, error)) {
        if (fd_mode) {
            iothread_run_sync(w->iothread, unwatch_in_iothread, pp);
        }
        pingpong_free(pp);
        return false;
    }
    w->data = pp;
    return true;
}

static bool bh_pingpong_start(Workload *w, GError **error)
{
    return pingpong_start(w, false, error);
}

static bool fd_pingpong_start(Workload *w, GError **error)
{
    return pingpong_start(w, true, error);
}

/* The driver finishes its round trip (the iothread always answers), then
 * the iothread lets go of the BH or the fd. */
static void pingpong_stop(Workload *w)
{
    PingPong *pp = w->data;

    atomic_store(&pp->stopping, true);
    pthread_join(pp->thread, NULL);
    if (pp->fd_mode) {
        iothread_run_sync(w->iothread, unwatch_in_iothread, pp);
    }
    pingpong_free(pp);
}

const WorkloadOps workload_bh_pingpong_ops = {
    .start = bh_pingpong_start,
    .stop = pingpong_stop,
};

const WorkloadOps workload_fd_pingpong_ops = {
    .start = fd_pingpong_start,
    .stop = pingpong_stop,
};
