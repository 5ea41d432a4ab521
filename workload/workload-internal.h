/*
 * What the workload types (disk.c, pingpong.c, timer.c) share with the
 * lifecycle in workload.c.  Thread rules as in workload.h: the owner runs
 * WorkloadOps; the driver calls workload_record() and workload_end().
 */
#ifndef WORKLOAD_WORKLOAD_INTERNAL_H
#define WORKLOAD_WORKLOAD_INTERNAL_H

#include <stdatomic.h>

#include "workload.h"

/* One type's half of the lifecycle.  Owner thread. */
typedef struct WorkloadOps {
    /* Check the type's options and resources and start the driver; false
     * + @error with nothing started (everything acquired released). */
    bool (*start)(Workload *w, GError **error);
    /* Make the driver stop (if it still runs), wait until it has let go
     * of everything, release everything.  After start() succeeded. */
    void (*stop)(Workload *w);
} WorkloadOps;

extern const WorkloadOps workload_disk_ops;
extern const WorkloadOps workload_bh_pingpong_ops;
extern const WorkloadOps workload_fd_pingpong_ops;
extern const WorkloadOps workload_timer_ops;

struct Workload {
    char *id;
    IOThread *iothread;
    AioContext *ctx;            /* the iothread's */
    WorkloadConfig cfg;         /* filename points to a copy we own */
    const WorkloadOps *ops;
    void *data;                 /* the type's state */
    /* Set by workload_start(), then by the driver's workload_begin(). */
    _Atomic int64_t start_ns;   /* release-stored, acquire-loaded */
    int64_t deadline_ns;        /* start + runtime; INT64_MAX without;
                                 * read by the driver only */

    /* Driver-written, owner-read (see workload.h). */
    _Atomic uint64_t ops_done, bytes_done, errors;
    AioHistogram latency_ns;
    _Atomic int state;          /* WorkloadState, release-stored */
    _Atomic int64_t end_ns;
    char *error;                /* set before state turns FAILED */

    /* Owner side of the end notification. */
    AioBH *end_bh;
    WorkloadEndFunc *on_end;
    void *on_end_opaque;
};

/* Driver: one op of @bytes that took @latency_ns. */
void workload_record(Workload *w, uint64_t bytes, uint64_t latency_ns);
/* Driver: the op failed (counted, not in the histogram). */
void workload_record_error(Workload *w);
/* Driver, once: the workload ended on its own; @error (copied) for FAILED,
 * NULL for FINISHED.  Schedules the owner's callback. */
void workload_end(Workload *w, const char *error);
/* Owner, from the type's start before its driver runs: the workload is
 * PREPARING (not measured) until the driver calls workload_begin(). */
void workload_prepare(Workload *w);
/* Driver, once, for a workload started PREPARING: the measured run
 * begins now (start time, runtime) and the state turns RUNNING. */
void workload_begin(Workload *w);
/* Whether the runtime is over at monotonic time @now. */
bool workload_runtime_over(const Workload *w, int64_t now);

static inline int64_t workload_now_ns(void)
{
    return aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
}

#endif /* WORKLOAD_WORKLOAD_INTERNAL_H */
