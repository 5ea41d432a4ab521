/*
 * Workloads: names, configuration, the lifecycle shared by every type,
 * counters and samples.  The types' own halves are in disk.c, pingpong.c
 * and timer.c.  See workload.h for the contracts and thread rules.
 */
#include "workload-internal.h"

#include <string.h>

static const char *const type_names[WORKLOAD_TYPE__MAX] = {
    [WORKLOAD_DISK] = "disk",
    [WORKLOAD_BH_PINGPONG] = "bh-pingpong",
    [WORKLOAD_FD_PINGPONG] = "fd-pingpong",
    [WORKLOAD_TIMER] = "timer",
};

static const char *const engine_names[WORKLOAD_ENGINE__MAX] = {
    [WORKLOAD_ENGINE_LINUX_AIO] = "linux-aio",
    [WORKLOAD_ENGINE_IO_URING] = "io_uring",
    [WORKLOAD_ENGINE_THREAD_POOL] = "thread-pool",
};

static const char *const rw_names[WORKLOAD_RW__MAX] = {
    [WORKLOAD_RW_RANDREAD] = "randread",
    [WORKLOAD_RW_RANDWRITE] = "randwrite",
    [WORKLOAD_RW_RANDRW] = "randrw",
    [WORKLOAD_RW_READ] = "read",
    [WORKLOAD_RW_WRITE] = "write",
};

static const char *const state_names[WORKLOAD_STATE__MAX] = {
    [WORKLOAD_STATE_RUNNING] = "running",
    [WORKLOAD_STATE_FINISHED] = "finished",
    [WORKLOAD_STATE_FAILED] = "failed",
    [WORKLOAD_STATE_PREPARING] = "preparing",
};

static const WorkloadOps *const type_ops[WORKLOAD_TYPE__MAX] = {
    [WORKLOAD_DISK] = &workload_disk_ops,
    [WORKLOAD_BH_PINGPONG] = &workload_bh_pingpong_ops,
    [WORKLOAD_FD_PINGPONG] = &workload_fd_pingpong_ops,
    [WORKLOAD_TIMER] = &workload_timer_ops,
};

static int index_of(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

const char *workload_type_name(WorkloadType type)
{
    return type_names[type];
}

const char *workload_engine_name(WorkloadEngine engine)
{
    return engine_names[engine];
}

const char *workload_rw_name(WorkloadRw rw)
{
    return rw_names[rw];
}

const char *workload_state_name(WorkloadState state)
{
    return state_names[state];
}

int workload_type_from_name(const char *name)
{
    return index_of(type_names, WORKLOAD_TYPE__MAX, name);
}

int workload_engine_from_name(const char *name)
{
    return index_of(engine_names, WORKLOAD_ENGINE__MAX, name);
}

int workload_rw_from_name(const char *name)
{
    return index_of(rw_names, WORKLOAD_RW__MAX, name);
}

void workload_config_init(WorkloadConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->type = WORKLOAD_DISK;
    cfg->engine = WORKLOAD_ENGINE_IO_URING;
    cfg->rw = WORKLOAD_RW_RANDREAD;
    cfg->rwmixread = WORKLOAD_DEFAULT_RWMIXREAD;
    cfg->bs = WORKLOAD_DEFAULT_BS;
    cfg->iodepth = WORKLOAD_DEFAULT_IODEPTH;
    cfg->direct = true;
    cfg->period_ns = WORKLOAD_DEFAULT_PERIOD_NS;
}

/* ---------------------------------------------------------------------- */
/* Driver side                                                             */

/* Single writer: a relaxed load + store is an increment nobody races. */
static void counter_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

void workload_record(Workload *w, uint64_t bytes, uint64_t latency_ns)
{
    aio_histogram_record(&w->latency_ns, latency_ns);
    counter_add(&w->bytes_done, bytes);
    counter_add(&w->ops_done, 1);
}

void workload_record_error(Workload *w)
{
    counter_add(&w->errors, 1);
}

void workload_end(Workload *w, const char *error)
{
    w->error = error ? g_strdup(error) : NULL;
    atomic_store_explicit(&w->end_ns, workload_now_ns(),
                          memory_order_relaxed);
    atomic_store_explicit(&w->state, error ? WORKLOAD_STATE_FAILED
                                           : WORKLOAD_STATE_FINISHED,
                          memory_order_release);
    aio_bh_schedule(w->end_bh);
}

static void set_start(Workload *w, int64_t now)
{
    w->deadline_ns = w->cfg.runtime_ns > 0 ? now + w->cfg.runtime_ns
                                           : INT64_MAX;
    atomic_store_explicit(&w->start_ns, now, memory_order_release);
}

void workload_prepare(Workload *w)
{
    /* Relaxed: the driver is started after this, through the iothread. */
    atomic_store_explicit(&w->state, WORKLOAD_STATE_PREPARING,
                          memory_order_relaxed);
}

void workload_begin(Workload *w)
{
    set_start(w, workload_now_ns());
    atomic_store_explicit(&w->state, WORKLOAD_STATE_RUNNING,
                          memory_order_release);
}

bool workload_runtime_over(const Workload *w, int64_t now)
{
    return now >= w->deadline_ns;
}

/* ---------------------------------------------------------------------- */
/* Owner side                                                              */

static void end_bh_cb(void *opaque)
{
    Workload *w = opaque;
    w->on_end(w, w->on_end_opaque);
}

static void workload_free(Workload *w)
{
    if (w->end_bh) {
        aio_bh_delete(w->end_bh);
    }
    g_free((char *)w->cfg.filename);
    g_free(w->error);
    g_free(w->id);
    g_free(w);
}

Workload *workload_start(const char *id, IOThread *t, AioContext *owner_ctx,
                         const WorkloadConfig *cfg, WorkloadEndFunc *on_end,
                         void *opaque, GError **error)
{
    Workload *w = g_new0(Workload, 1);

    w->id = g_strdup(id);
    w->iothread = t;
    w->ctx = iothread_get_aio_context(t);
    w->cfg = *cfg;
    w->cfg.filename = g_strdup(cfg->filename);
    w->ops = type_ops[cfg->type];
    w->on_end = on_end;
    w->on_end_opaque = opaque;
    w->end_bh = aio_bh_new(owner_ctx, end_bh_cb, w);
    aio_histogram_init(&w->latency_ns);
    set_start(w, workload_now_ns());
    if (!w->ops->start(w, error)) {
        workload_free(w);
        return NULL;
    }
    return w;
}

void workload_stop(Workload *w)
{
    w->ops->stop(w);
    workload_free(w);
}

const char *workload_id(const Workload *w)
{
    return w->id;
}

IOThread *workload_iothread(const Workload *w)
{
    return w->iothread;
}

const WorkloadConfig *workload_config(const Workload *w)
{
    return &w->cfg;
}

WorkloadState workload_state(const Workload *w, const char **error)
{
    WorkloadState s = atomic_load_explicit(&((Workload *)w)->state,
                                           memory_order_acquire);
    if (error) {
        *error = s == WORKLOAD_STATE_FAILED ? w->error : NULL;
    }
    return s;
}

int64_t workload_start_ns(const Workload *w)
{
    return atomic_load_explicit(&((Workload *)w)->start_ns,
                                memory_order_acquire);
}

int64_t workload_end_ns(const Workload *w)
{
    return atomic_load_explicit(&((Workload *)w)->end_ns,
                                memory_order_relaxed);
}

void workload_sample(Workload *w, WorkloadSample *out)
{
    out->time_ns = workload_now_ns();
    out->ops = atomic_load_explicit(&w->ops_done, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&w->bytes_done, memory_order_relaxed);
    out->errors = atomic_load_explicit(&w->errors, memory_order_relaxed);
    aio_histogram_snapshot(&w->latency_ns, &out->latency_ns);
    iothread_get_stats(w->iothread, &out->ctx);
}

static double share(uint64_t part_ns, int64_t wall_ns)
{
    return wall_ns > 0 ? (double)part_ns / (double)wall_ns : 0;
}

void workload_interval(const WorkloadSample *newer,
                       const WorkloadSample *older, WorkloadInterval *out)
{
    out->wall_ns = newer->time_ns - older->time_ns;
    out->ops = newer->ops - older->ops;
    out->bytes = newer->bytes - older->bytes;
    out->errors = newer->errors - older->errors;
    out->iops = out->wall_ns > 0 ? out->ops * 1e9 / out->wall_ns : 0;
    out->cpu = share(newer->ctx.thread_cpu_ns - older->ctx.thread_cpu_ns,
                     out->wall_ns);
    out->polling = share(newer->ctx.polling_ns - older->ctx.polling_ns,
                         out->wall_ns);
    aio_histogram_subtract(&out->latency_ns, &newer->latency_ns,
                           &older->latency_ns);
}
