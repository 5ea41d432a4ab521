/*
 * The workload API in process (what the daemon and a tuner use): a sample
 * interval's rates and shares come from the two samples; a timer workload
 * with a runtime ends FINISHED and calls on_end in the owner's context; a
 * disk workload whose requests fail ends FAILED with the errno text and
 * the file's name; stop returns with the file closed; rate-iops caps the
 * ops a disk workload starts; a created file is laid out (written) before
 * the measured run, and a stop during the layout returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "iothread.h"
#include "tap.h"
#include "workload.h"

#define WAIT_US (10 * 1000 * 1000)   /* guards against a hang only */

static AioContext *owner;
static IOThread *io;
static int ends;

static void count_end(Workload *w, void *opaque)
{
    ends++;
}

/* Poll the owner's context until on_end ran @n times. */
static bool wait_ends(int n)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_US;
    while (ends < n && g_get_monotonic_time() < deadline) {
        aio_poll(owner, false);
        g_usleep(1000);
    }
    return ends >= n;
}

static void test_interval_rates(void)
{
    WorkloadSample *a = g_new0(WorkloadSample, 1);
    WorkloadSample *b = g_new0(WorkloadSample, 1);
    WorkloadInterval *iv = g_new(WorkloadInterval, 1);

    aio_histogram_init(&a->latency_ns);
    aio_histogram_init(&b->latency_ns);
    a->time_ns = 1000000000;
    b->time_ns = 3000000000;            /* 2 s later */
    a->ops = 100;
    b->ops = 100 + 5000;
    b->bytes = 5000 * 4096;
    a->ctx.thread_cpu_ns = 7;
    b->ctx.thread_cpu_ns = 7 + 500000000;   /* 0.5 s of CPU */
    b->ctx.polling_ns = 200000000;
    for (int i = 0; i < 10; i++) {
        aio_histogram_record(&a->latency_ns, 50);
        aio_histogram_record(&b->latency_ns, 50);
    }
    aio_histogram_record(&b->latency_ns, 90);
    workload_interval(b, a, iv);
    ok(iv->wall_ns == 2000000000 && iv->ops == 5000 && iv->iops == 2500 &&
       iv->bytes == 5000 * 4096 && iv->cpu == 0.25 && iv->polling == 0.1 &&
       iv->latency_ns.count == 1 && iv->latency_ns.max == 90,
       "an interval's ops, IOPS, CPU and polling shares and latencies are "
       "the differences of its samples (iops %.1f cpu %.3f)", iv->iops,
       iv->cpu);
    g_free(iv);
    g_free(b);
    g_free(a);
}

static void test_runtime_ends_finished(void)
{
    WorkloadConfig cfg;
    GError *err = NULL;

    workload_config_init(&cfg);
    cfg.type = WORKLOAD_TIMER;
    cfg.period_ns = 100000;
    cfg.runtime_ns = 50000000;
    int before = ends;
    Workload *w = workload_start("t", io, owner, &cfg, count_end, NULL, &err);
    if (!ok(w != NULL, "a timer workload starts")) {
        g_clear_error(&err);
        return;
    }
    ok(wait_ends(before + 1) && workload_state(w, NULL) ==
       WORKLOAD_STATE_FINISHED && workload_end_ns(w) - workload_start_ns(w)
       >= cfg.runtime_ns, "its runtime ends it FINISHED, on_end called in "
       "the owner's context");
    workload_stop(w);
}

/* The fd a process has open on @path, or -1. */
static int fd_of(const char *path)
{
    for (int fd = 0; fd < 1024; fd++) {
        char link[64], target[PATH_MAX];
        g_snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n > 0) {
            target[n] = '\0';
            if (!strcmp(target, path)) {
                return fd;
            }
        }
    }
    return -1;
}

static void test_failed_request_ends_failed(const char *dir)
{
    char *path = g_build_filename(dir, "fails", NULL);
    WorkloadConfig cfg;
    GError *err = NULL;
    const char *error = NULL;

    workload_config_init(&cfg);
    cfg.filename = path;
    cfg.engine = WORKLOAD_ENGINE_THREAD_POOL;
    cfg.rw = WORKLOAD_RW_RANDWRITE;
    cfg.create = true;
    cfg.size = 1 << 20;
    cfg.direct = false;
    int before = ends;
    Workload *w = workload_start("f", io, owner, &cfg, count_end, NULL, &err);
    int fd = fd_of(path);
    /* Writes through a read-only descriptor fail with EBADF. */
    int ro = open("/dev/null", O_RDONLY);
    ok(w && fd >= 0 && ro >= 0 && dup2(ro, fd) == fd,
       "a writing workload runs; its fd now reads only");
    bool ended = wait_ends(before + 1);
    WorkloadState state = w ? workload_state(w, &error) : WORKLOAD_STATE__MAX;
    ok(ended && state == WORKLOAD_STATE_FAILED && error &&
       strstr(error, path) && strstr(error, g_strerror(EBADF)),
       "a failed request ends it FAILED naming the file and the errno text "
       "(%s)", error ? error : "no error");
    if (w) {
        workload_stop(w);
    }
    ok(fd < 0 || fcntl(fd, F_GETFD) < 0, "stop closed its fd");
    if (ro >= 0) {
        close(ro);
    }
    unlink(path);
    g_free(path);
}

/* A disk workload config on @path (created, @size bytes, buffered). */
static void created_file_config(WorkloadConfig *cfg, const char *path,
                                uint64_t size)
{
    workload_config_init(cfg);
    cfg->filename = path;
    cfg->create = true;
    cfg->size = size;
    cfg->direct = false;
}

/* Sample @w every @step_us into @s until it did @ops ops (or WAIT_US). */
static void sample_until_ops(Workload *w, WorkloadSample *s, uint64_t ops,
                             gulong step_us)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_US;
    do {
        g_usleep(step_us);
        if (w) {
            workload_sample(w, s);
        }
    } while (w && s->ops < ops && g_get_monotonic_time() < deadline);
}

/* rate-iops spaces request starts 1/rate apart, so at most rate x elapsed
 * + iodepth requests have completed at any time. */
static void test_rate_iops_caps(const char *dir)
{
    char *path = g_build_filename(dir, "rated", NULL);
    WorkloadConfig cfg;
    GError *err = NULL;
    WorkloadSample *s = g_new(WorkloadSample, 1);

    created_file_config(&cfg, path, 1 << 20);
    cfg.iodepth = 4;
    cfg.rate_iops = 200;
    Workload *w = workload_start("r", io, owner, &cfg, count_end, NULL, &err);
    sample_until_ops(w, s, 40, 10 * 1000);
    double elapsed_s = w ? (s->time_ns - workload_start_ns(w)) / 1e9 : 0;
    ok(w && s->ops >= 40 && s->ops <= 200 * elapsed_s + cfg.iodepth,
       "rate-iops 200: %" G_GUINT64_FORMAT " ops in %.3f s", w ? s->ops : 0,
       elapsed_s);
    if (w) {
        workload_stop(w);
    }
    g_clear_error(&err);
    unlink(path);
    g_free(s);
    g_free(path);
}

/* Whether the @bs bytes at @off of @path hold anything but zeros. */
static bool block_has_data(const char *path, uint64_t off, size_t bs)
{
    uint8_t *buf = g_malloc(bs);
    int fd = open(path, O_RDONLY);
    bool data = false;

    if (fd >= 0 && pread(fd, buf, bs, (off_t)off) == (ssize_t)bs) {
        for (size_t i = 0; i < bs && !data; i++) {
            data = buf[i] != 0;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    g_free(buf);
    return data;
}

/* A created file is written once before the reads are measured: only
 * allocated, its blocks would read back zeros without reaching the
 * device.  The owner sees it PREPARING at first, RUNNING after. */
static void test_created_file_is_laid_out_before_running(const char *dir)
{
    char *path = g_build_filename(dir, "laid-out", NULL);
    const uint64_t size = 3 << 20, bs = 4096;
    WorkloadConfig cfg;
    GError *err = NULL;
    WorkloadSample *s = g_new(WorkloadSample, 1);

    created_file_config(&cfg, path, size);
    Workload *w = workload_start("l", io, owner, &cfg, count_end, NULL, &err);
    WorkloadState first = w ? workload_state(w, NULL) : WORKLOAD_STATE__MAX;
    sample_until_ops(w, s, 10, 1000);
    WorkloadState later = w ? workload_state(w, NULL) : WORKLOAD_STATE__MAX;
    ok(w && (first == WORKLOAD_STATE_PREPARING ||
             first == WORKLOAD_STATE_RUNNING) &&
       later == WORKLOAD_STATE_RUNNING && s->ops >= 10,
       "a created file's workload is %s at first, then %s with %"
       G_GUINT64_FORMAT " ops", workload_state_name(first),
       workload_state_name(later), w ? s->ops : 0);
    if (w) {
        workload_stop(w);
    }
    ok(block_has_data(path, 0, bs) && block_has_data(path, size / 2, bs) &&
       block_has_data(path, size - bs, bs),
       "the created file was written front to back (first, middle and last "
       "blocks hold data, not zeros)");
    g_clear_error(&err);
    unlink(path);
    g_free(s);
    g_free(path);
}

/* A stop while the layout runs returns (the layout coroutine lets go)
 * and closes the file; the workload did not fail. */
static void test_stop_during_layout_returns(const char *dir)
{
    char *path = g_build_filename(dir, "stopped-layout", NULL);
    WorkloadConfig cfg;
    GError *err = NULL;

    created_file_config(&cfg, path, 64 << 20);
    Workload *w = workload_start("sl", io, owner, &cfg, count_end, NULL, &err);
    int fd = fd_of(path);
    WorkloadState state = w ? workload_state(w, NULL) : WORKLOAD_STATE__MAX;
    if (w) {
        workload_stop(w);
    }
    ok(w && fd >= 0 && state != WORKLOAD_STATE_FAILED &&
       fcntl(fd, F_GETFD) < 0,
       "a stop at once after start (state %s) returned and closed the file",
       workload_state_name(state));
    g_clear_error(&err);
    unlink(path);
    g_free(path);
}

int main(void)
{
    GError *err = NULL;
    char *dir = g_dir_make_tmp("workload-api-XXXXXX", NULL);

    owner = aio_context_new(&err);
    aio_set_current_context(owner);
    io = iothread_new("io-api", NULL, &err);
    if (!ok(io != NULL, "an iothread")) {
        return done_testing();
    }
    test_interval_rates();
    test_runtime_ends_finished();
    test_failed_request_ends_failed(dir);
    test_rate_iops_caps(dir);
    test_created_file_is_laid_out_before_running(dir);
    test_stop_during_layout_returns(dir);
    iothread_free(io);
    while (aio_poll(owner, false)) {
    }
    aio_set_current_context(NULL);
    aio_context_unref(owner);
    rmdir(dir);
    g_free(dir);
    return done_testing();
}
