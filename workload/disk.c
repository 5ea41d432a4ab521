/*
 * The disk workload's driver: iodepth coroutines in the iothread, each
 * running one request at a time through coroutine disk I/O (linux-aio,
 * io_uring) or a pread/pwrite job in the iothread's thread pool.  A file
 * the workload created is first laid out by one coroutine (the region
 * written front to back in DISK_LAYOUT_CHUNK writes, same engine), which
 * then starts the others: see workload.h for why.
 *
 * Thread rules: everything in Disk but the `drained` handshake belongs to
 * the iothread once started (start and stop reach it through
 * iothread_run_sync); the owner waits for `drained` under `lock`.
 */
#include "disk.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "aioctx/coroutine.h"
#include "aioctx/disk-io.h"
#include "aioctx/thread-pool.h"

/* A rate-limited coroutine sleeps in steps of at most this, so a stop
 * never waits longer for it. */
#define DISK_RATE_SLEEP_STEP_NS (10 * 1000 * 1000)

/* Layout write size (rounded down to a multiple of bs, at least bs): big
 * enough that a 256 MiB file is laid out in well under a second. */
#define DISK_LAYOUT_CHUNK (1u << 20)

typedef struct Disk Disk;

typedef struct DiskWorker {
    Disk *disk;
    void *buf;
    struct iovec iov;
} DiskWorker;

struct Disk {
    Workload *w;
    int fd;
    const AioDiskEngine *engine;    /* NULL: the thread pool */
    void *engine_state;
    ThreadPool *pool;
    DiskWorker *workers;

    /* Iothread only. */
    bool stopping;                  /* the owner asked, or one failed */
    bool failed;
    char *error;                    /* the first failure's text */
    unsigned active;                /* coroutines still running */
    uint64_t rng;
    uint64_t seq_next;              /* read / write: the next offset */
    int64_t next_slot_ns;           /* rate-iops: the next request's time */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool drained;                   /* every coroutine has returned */
};

/* One pread/pwrite in a pool worker. */
typedef struct DiskPoolJob {
    int fd;
    bool write;
    void *buf;
    uint64_t len, offset;
} DiskPoolJob;

static int disk_pool_job(void *arg)
{
    DiskPoolJob *j = arg;
    ssize_t n = j->write ? pwrite(j->fd, j->buf, j->len, (off_t)j->offset)
                         : pread(j->fd, j->buf, j->len, (off_t)j->offset);
    if (n < 0) {
        return -errno;
    }
    return (uint64_t)n == j->len || !j->write ? 0 : -ENOSPC;
}

static uint64_t next_random(Disk *d)
{
    /* xorshift64*: cheap, and good enough to spread offsets. */
    d->rng ^= d->rng >> 12;
    d->rng ^= d->rng << 25;
    d->rng ^= d->rng >> 27;
    return d->rng * 2685821657736338717ull;
}

static bool next_is_write(Disk *d)
{
    switch (d->w->cfg.rw) {
    case WORKLOAD_RW_RANDWRITE:
    case WORKLOAD_RW_WRITE:
        return true;
    case WORKLOAD_RW_RANDRW:
        return (int)(next_random(d) % 100) >= d->w->cfg.rwmixread;
    default:
        return false;
    }
}

/* Random: a uniform block of the region; sequential: the next block,
 * wrapping at the region's end. */
static uint64_t next_offset(Disk *d)
{
    const WorkloadConfig *cfg = &d->w->cfg;
    uint64_t blocks = cfg->size / cfg->bs;

    if (cfg->rw == WORKLOAD_RW_READ || cfg->rw == WORKLOAD_RW_WRITE) {
        uint64_t off = d->seq_next;
        d->seq_next = off + cfg->bs + cfg->bs > cfg->size ? 0 : off + cfg->bs;
        return off;
    }
    return (next_random(d) % blocks) * cfg->bs;
}

static bool may_continue(Disk *d)
{
    return !d->stopping && !workload_runtime_over(d->w, workload_now_ns());
}

/* rate-iops: wait for this request's slot; false when stopped meanwhile. */
static bool wait_rate_slot(Disk *d)
{
    uint64_t rate = d->w->cfg.rate_iops;
    int64_t now = workload_now_ns();

    if (!rate) {
        return true;
    }
    int64_t slot = MAX(d->next_slot_ns, now);
    d->next_slot_ns = slot + (int64_t)(1000000000ull / rate);
    while (now < slot) {
        aio_co_sleep_ns(d->w->ctx, AIO_CLOCK_MONOTONIC,
                        MIN(slot - now, DISK_RATE_SLEEP_STEP_NS));
        if (!may_continue(d)) {
            return false;
        }
        now = workload_now_ns();
    }
    return true;
}

static int do_request(Disk *d, struct iovec *iov, bool write, uint64_t off)
{
    if (!d->engine) {
        DiskPoolJob job = { d->fd, write, iov->iov_base, iov->iov_len, off };
        return thread_pool_co_submit(d->pool, disk_pool_job, &job);
    }
    return write
        ? aio_disk_co_pwritev(d->engine, d->engine_state, d->fd, iov, 1, off)
        : aio_disk_co_preadv(d->engine, d->engine_state, d->fd, iov, 1, off);
}

/* The first failure ends the workload with its text; the others stop. */
static void request_failed(Disk *d, bool write, uint64_t len, uint64_t off,
                           int ret)
{
    workload_record_error(d->w);
    if (d->failed) {
        return;
    }
    d->failed = true;
    d->stopping = true;
    d->error = g_strdup_printf("%s of %" G_GUINT64_FORMAT " bytes at offset "
                                "%" G_GUINT64_FORMAT " of '%s' failed: %s",
                                write ? "write" : "read", len, off,
                                d->w->cfg.filename, g_strerror(-ret));
}

/* The last coroutine out ends the workload (unless the owner stopped it)
 * and tells a waiting owner. */
static void worker_exit(Disk *d)
{
    if (--d->active > 0) {
        return;
    }
    if (d->failed) {
        workload_end(d->w, d->error);
    } else if (!d->stopping) {
        workload_end(d->w, NULL);
    }
    pthread_mutex_lock(&d->lock);
    d->drained = true;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

static void disk_worker(void *opaque)
{
    DiskWorker *dw = opaque;
    Disk *d = dw->disk;

    while (may_continue(d) && wait_rate_slot(d)) {
        bool write = next_is_write(d);
        uint64_t off = next_offset(d);
        int64_t t0 = workload_now_ns();
        int ret = do_request(d, &dw->iov, write, off);

        if (ret < 0) {
            request_failed(d, write, dw->iov.iov_len, off, ret);
            break;
        }
        workload_record(d->w, dw->iov.iov_len, workload_now_ns() - t0);
    }
    worker_exit(d);
}

static void start_workers(Disk *d)
{
    d->active += d->w->cfg.iodepth;
    for (unsigned i = 0; i < d->w->cfg.iodepth; i++) {
        aio_coroutine_enter(aio_coroutine_create(disk_worker,
                                                 &d->workers[i]));
    }
}

/* Write the region [0, blocks x bs) once, front to back, then begin the
 * measured run.  Counts as one active coroutine until it returns. */
static void disk_layout(void *opaque)
{
    Disk *d = opaque;
    const WorkloadConfig *cfg = &d->w->cfg;
    uint64_t end = cfg->size / cfg->bs * cfg->bs;
    uint64_t chunk = MAX(cfg->bs, DISK_LAYOUT_CHUNK / cfg->bs * cfg->bs);
    struct iovec iov = { workload_disk_buffer(chunk), chunk };

    for (uint64_t off = 0; off < end && !d->stopping; off += iov.iov_len) {
        iov.iov_len = MIN(chunk, end - off);
        int ret = do_request(d, &iov, true, off);
        if (ret < 0) {
            request_failed(d, true, iov.iov_len, off, ret);
        }
    }
    free(iov.iov_base);
    if (!d->stopping) {
        workload_begin(d->w);
        start_workers(d);
    }
    worker_exit(d);
}

/* ---------------------------------------------------------------------- */
/* Start and stop (owner, through the iothread)                            */

typedef struct DiskStart {
    Disk *d;
    GError *error;
} DiskStart;

static const AioDiskEngine *engine_of(WorkloadEngine e)
{
    return e == WORKLOAD_ENGINE_LINUX_AIO ? &aio_disk_engine_linux_aio :
           e == WORKLOAD_ENGINE_IO_URING ? &aio_disk_engine_io_uring : NULL;
}

/* In the iothread: the engine, then every coroutine to its first yield. */
static void start_in_iothread(void *opaque)
{
    DiskStart *st = opaque;
    Disk *d = st->d;
    AioContext *ctx = d->w->ctx;

    d->engine = engine_of(d->w->cfg.engine);
    if (d->engine) {
        d->engine_state = d->engine->setup(ctx, &st->error);
        if (!d->engine_state) {
            return;
        }
    } else {
        d->pool = aio_get_thread_pool(ctx);
    }
    if (d->w->cfg.create) {
        d->active = 1;
        aio_coroutine_enter(aio_coroutine_create(disk_layout, d));
    } else {
        start_workers(d);
    }
}

static void disk_free(Disk *d)
{
    for (unsigned i = 0; i < d->w->cfg.iodepth; i++) {
        free(d->workers[i].buf);
    }
    g_free(d->workers);
    g_free(d->error);
    if (d->fd >= 0) {
        close(d->fd);
    }
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->lock);
    g_free(d);
}

static Disk *disk_new(Workload *w, int fd)
{
    Disk *d = g_new0(Disk, 1);

    d->w = w;
    d->fd = fd;
    d->rng = g_str_hash(w->id) | 1;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    d->workers = g_new0(DiskWorker, w->cfg.iodepth);
    for (unsigned i = 0; i < w->cfg.iodepth; i++) {
        DiskWorker *dw = &d->workers[i];
        dw->disk = d;
        dw->buf = workload_disk_buffer(w->cfg.bs);
        dw->iov = (struct iovec){ dw->buf, w->cfg.bs };
    }
    return d;
}

static bool disk_start(Workload *w, GError **error)
{
    int fd = workload_disk_open(&w->cfg, error);
    DiskStart st = { 0 };

    if (fd < 0) {
        return false;
    }
    st.d = disk_new(w, fd);
    if (w->cfg.create) {
        workload_prepare(w);
    }
    iothread_run_sync(w->iothread, start_in_iothread, &st);
    if (st.error) {
        g_propagate_prefixed_error(error, st.error, "'%s': ",
                                   w->cfg.filename);
        disk_free(st.d);
        return false;
    }
    w->data = st.d;
    return true;
}

static void stop_in_iothread(void *opaque)
{
    Disk *d = opaque;
    d->stopping = true;
}

static void disk_stop(Workload *w)
{
    Disk *d = w->data;

    iothread_run_sync(w->iothread, stop_in_iothread, d);
    pthread_mutex_lock(&d->lock);
    while (!d->drained) {
        pthread_cond_wait(&d->cond, &d->lock);
    }
    pthread_mutex_unlock(&d->lock);
    disk_free(d);
}

const WorkloadOps workload_disk_ops = {
    .start = disk_start,
    .stop = disk_stop,
};
