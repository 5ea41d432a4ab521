/*
 * Workloads: load generators that run on an iothread, so the effect of
 * its tunables can be measured.  Plain C API (no JSON, no QMP); the daemon
 * serves it as workload-add / workload-del / query-workloads, a tuner
 * drives it through the same calls.
 *
 * Types:
 *  - disk: `iodepth` coroutines in the iothread, each doing one request
 *    at a time (coroutine disk I/O on linux-aio or io_uring, or a pread/
 *    pwrite job in the iothread's thread pool) in a loop: one op is one
 *    request of `bs` bytes; latency is submission to completion.
 *  - bh-pingpong: a driver thread schedules a bottom half on the iothread
 *    and waits for the BH to answer (an eventfd): one op is one round trip
 *    (cross-thread wake-up latency).
 *  - fd-pingpong: the same through an eventfd the iothread watches with an
 *    fd handler (with a poll function, so adaptive polling applies).
 *  - timer: a periodic timer in the iothread; one op is one expiry, its
 *    latency how late it fired.
 *
 * Lifecycle: workload_start() checks everything (options, the file) and
 * starts; a workload runs until stopped, its runtime ends (FINISHED) or a
 * request fails (FAILED, with an error naming the file and the errno
 * text).  Either end schedules the @on_end callback in the owner's
 * context.  workload_stop() ends it and frees it whatever its state.
 *
 * Thread rules:
 *  - A Workload is created, sampled, stopped and freed by one thread, its
 *    *owner* (the daemon's main loop thread), which also owns the IOThread
 *    object; the IOThread must outlive the workload (the daemon refuses to
 *    delete an iothread a workload uses).
 *  - The workload's *driver* runs the load: the iothread for disk and
 *    timer, a thread of its own for the ping-pongs.  The driver is the only
 *    writer of the counters and of the latency histogram (relaxed atomics,
 *    aioctx/histogram.h's single-writer rule); workload_sample() reads
 *    them from the owner at any time.
 *  - The state and the error text are published by the driver with a
 *    release store of the state, read by the owner with an acquire load.
 */
#ifndef WORKLOAD_WORKLOAD_H
#define WORKLOAD_WORKLOAD_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "aioctx/aio.h"
#include "aioctx/histogram.h"
#include "iothread.h"

G_BEGIN_DECLS

/* The one spelling of each enum on the wire, in the schema's order. */
typedef enum {
    WORKLOAD_DISK,
    WORKLOAD_BH_PINGPONG,
    WORKLOAD_FD_PINGPONG,
    WORKLOAD_TIMER,
    WORKLOAD_TYPE__MAX,
} WorkloadType;

typedef enum {
    WORKLOAD_ENGINE_LINUX_AIO,
    WORKLOAD_ENGINE_IO_URING,
    WORKLOAD_ENGINE_THREAD_POOL,
    WORKLOAD_ENGINE__MAX,
} WorkloadEngine;

typedef enum {
    WORKLOAD_RW_RANDREAD,
    WORKLOAD_RW_RANDWRITE,
    WORKLOAD_RW_RANDRW,
    WORKLOAD_RW_READ,
    WORKLOAD_RW_WRITE,
    WORKLOAD_RW__MAX,
} WorkloadRw;

typedef enum {
    WORKLOAD_STATE_RUNNING,
    WORKLOAD_STATE_FINISHED,    /* its runtime ended */
    WORKLOAD_STATE_FAILED,      /* a request failed; see the error */
    WORKLOAD_STATE_PREPARING,   /* laying out a created file (disk) */
    WORKLOAD_STATE__MAX,
} WorkloadState;

const char *workload_type_name(WorkloadType type);
const char *workload_engine_name(WorkloadEngine engine);
const char *workload_rw_name(WorkloadRw rw);
const char *workload_state_name(WorkloadState state);
/* The value named @name, or -1. */
int workload_type_from_name(const char *name);
int workload_engine_from_name(const char *name);
int workload_rw_from_name(const char *name);

/* Defaults of the optional members (the schema's docs state the same). */
#define WORKLOAD_DEFAULT_BS          4096
#define WORKLOAD_DEFAULT_IODEPTH     1
#define WORKLOAD_DEFAULT_RWMIXREAD   50
#define WORKLOAD_DEFAULT_PERIOD_NS   (1000 * 1000)
#define WORKLOAD_MAX_IODEPTH         1024

/* What to run.  Members of other types are ignored. */
typedef struct WorkloadConfig {
    WorkloadType type;
    int64_t runtime_ns;         /* 0: until stopped */
    /* disk */
    const char *filename;
    WorkloadEngine engine;
    WorkloadRw rw;
    int rwmixread;              /* percent of reads for randrw */
    uint64_t bs;                /* request size, bytes */
    unsigned iodepth;           /* requests in flight (coroutines) */
    uint64_t size;              /* region [0, size); 0: the whole file */
    bool direct;                /* O_DIRECT */
    uint64_t rate_iops;         /* cap, 0: none */
    bool create;                /* make the file (must not exist) */
    bool allow_overwrite;       /* writes to an existing file/device */
    /* timer */
    int64_t period_ns;
} WorkloadConfig;

/* A config with every default (type disk, no filename). */
void workload_config_init(WorkloadConfig *cfg);

/*
 * What a workload did up to one instant, for the owner to difference.
 * Counters and histogram are since the start; ctx holds the iothread's
 * context counters at the same instant (thread_cpu_ns, polling_ns, ...).
 */
typedef struct WorkloadSample {
    int64_t time_ns;            /* monotonic clock */
    uint64_t ops, bytes, errors;
    AioHistogram latency_ns;
    AioStats ctx;
} WorkloadSample;

/* Between two samples of one workload (@older taken first). */
typedef struct WorkloadInterval {
    int64_t wall_ns;
    uint64_t ops, bytes, errors;
    double iops;
    double cpu;                 /* iothread CPU time / wall time (0..1) */
    double polling;             /* iothread busy-polling time / wall time */
    AioHistogram latency_ns;    /* the values recorded in between */
} WorkloadInterval;

typedef struct Workload Workload;

/* Runs in the owner's context (a BH) once the workload has ended on its
 * own (FINISHED or FAILED); not after workload_stop(). */
typedef void WorkloadEndFunc(Workload *w, void *opaque);

/*
 * Check @cfg (and, for disk, the file: see the write rules below) and
 * start @cfg on @t.  @owner_ctx: the owner's context, where @on_end runs.
 * NULL + @error (a message naming the option or the file) when anything is
 * wrong; then nothing was started or written.  Owner thread.
 *
 * Write rules (disk): a workload that writes (randwrite, randrw, write)
 * writes only to a file it creates (create with size; refused if the path
 * exists) or, with allow_overwrite, to an existing regular file or block
 * device.  create also works for reading workloads.  A created file is
 * laid out before the measured run, as fio does: allocated, then written
 * once front to back (state PREPARING; no op counted, the start time and
 * the runtime begin when it ends), because reading blocks that were only
 * allocated never reaches the device (the file system answers zeros) and
 * writing them first converts extents.  Refused with an
 * error naming the file: a missing file without create, a directory or
 * other non-file, a file smaller than size or than bs, bs not a multiple
 * of 512 with direct, O_DIRECT refused by the file system, a failing
 * first read (EIO: one read of the first block, with the workload's bs and
 * O_DIRECT, before anything starts).  Test hook: with the environment
 * variable IOTHREADD_TEST_DISK_PROBE_EIO set to a filename, that read of
 * that file fails with EIO.
 */
Workload *workload_start(const char *id, IOThread *t, AioContext *owner_ctx,
                         const WorkloadConfig *cfg, WorkloadEndFunc *on_end,
                         void *opaque, GError **error);

/*
 * Stop (if running) and free.  Returns once every request has completed or
 * been cancelled, the driver has let go of everything and the file is
 * closed; a request already in the kernel is waited for (a stop takes at
 * most one request's latency, plus up to 10 ms for a rate-limited
 * coroutine).  Owner thread.
 */
void workload_stop(Workload *w);

const char *workload_id(const Workload *w);
IOThread *workload_iothread(const Workload *w);
/* The config as started (filename owned by the workload; defaults and the
 * size of the file filled in). */
const WorkloadConfig *workload_config(const Workload *w);
/* The state, and for FAILED the error (borrowed, valid until stop). */
WorkloadState workload_state(const Workload *w, const char **error);
/* Monotonic time of the start (for a created file, of the end of its
 * layout: what elapsed and the runtime count from), and of the end (0
 * while running). */
int64_t workload_start_ns(const Workload *w);
int64_t workload_end_ns(const Workload *w);

/* Take a sample now.  Owner thread (any time, also after the end). */
void workload_sample(Workload *w, WorkloadSample *out);
/* @out = what happened between @older and @newer.  Any thread. */
void workload_interval(const WorkloadSample *newer,
                       const WorkloadSample *older, WorkloadInterval *out);

G_END_DECLS

#endif /* WORKLOAD_WORKLOAD_H */
