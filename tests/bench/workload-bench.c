/*
 * workload-bench: a disk workload (workload/, coroutines on an iothread)
 * against fio with the same parameters on the same file: 4 KiB random
 * reads, O_DIRECT, uniform offsets over the whole file, QD 1 and 32, on
 * linux-aio and io_uring.  The two alternate in --slices slice pairs of
 * --seconds/--slices each, so device drift cancels; each row prints ours,
 * fio's and the whole-run ratio with the min/median/max of the per-slice
 * ratios and the load average (JSON lines).
 *
 * Usage: workload-bench [--quick] [--file PATH] [--seconds N] [--slices N]
 *                       [--poll-max-ns N] [--poll-mode fixed|auto]
 *                       [--engine linux-aio|io_uring] [--iodepth 1|32]
 * The iothread has its default properties unless --poll-* are given;
 * --engine and --iodepth run only the matching rows.
 * The data file (1 GiB, 64 MiB with --quick) is made once and reused
 * (io-bench uses the same paths).  --quick is a test: exit status 1 when
 * a row is missing or a run did no I/O.
 *
 * Thread rules: the main thread owns the iothread and the workloads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-util.h"
#include "fio-ref.h"
#include "iothread.h"
#include "workload.h"

#define BS 4096

static bool quick;
static double seconds = 10;
static AioParams iothread_params;       /* --poll-max-ns, --poll-mode */
static int slices;
static const char *file_path;
static const char *only_engine;         /* --engine: one engine's rows */
static unsigned only_iodepth;           /* --iodepth: one depth's rows */
static uint64_t file_size;
static unsigned failures;

typedef struct Engine {
    WorkloadEngine ours;
    const char *fio;        /* fio's ioengine */
} Engine;

static const Engine engines[] = {
    { WORKLOAD_ENGINE_LINUX_AIO, "libaio" },
    { WORKLOAD_ENGINE_IO_URING, "io_uring" },
};

/* Sums over the slices of one implementation. */
typedef struct Totals {
    uint64_t ios;
    double elapsed_s, cpu_s;
    double lat_mean_x_ios, p99_x_ios;
    /* ours only: the iothread's polling over the slices */
    uint64_t poll_windows, poll_hits;
    double polling_s;
} Totals;

static void on_end(Workload *w, void *opaque)
{
    /* No runtime is set: a workload here ends only by failing. */
    const char *error;
    workload_state(w, &error);
    fprintf(stderr, "workload-bench: %s\n", error ? error : "ended");
}

/* One slice of ours: start, let it run @secs, sample, stop. */
static double run_ours(IOThread *t, AioContext *owner, const Engine *e,
                       unsigned qd, double secs, Totals *tot)
{
    WorkloadConfig cfg;
    GError *err = NULL;
    WorkloadSample *a = g_new(WorkloadSample, 1), *b = g_new(WorkloadSample, 1);
    WorkloadInterval *iv = g_new(WorkloadInterval, 1);
    AioStats s0, s1;
    double iops = 0;

    workload_config_init(&cfg);
    cfg.filename = file_path;
    cfg.engine = e->ours;
    cfg.iodepth = qd;
    cfg.bs = BS;
    Workload *w = workload_start("bench", t, owner, &cfg, on_end, NULL, &err);
    if (!w) {
        fprintf(stderr, "workload-bench: %s\n", err->message);
        g_error_free(err);
        failures++;
    } else {
        aio_context_get_stats(iothread_get_aio_context(t), &s0);
        workload_sample(w, a);
        g_usleep((gulong)(secs * 1e6));
        workload_sample(w, b);
        aio_context_get_stats(iothread_get_aio_context(t), &s1);
        workload_stop(w);
        tot->poll_windows += s1.poll_attempts - s0.poll_attempts;
        tot->poll_hits += s1.poll_hits - s0.poll_hits;
        tot->polling_s += (s1.polling_ns - s0.polling_ns) / 1e9;
        workload_interval(b, a, iv);
        tot->ios += iv->ops;
        tot->elapsed_s += iv->wall_ns / 1e9;
        tot->cpu_s += iv->cpu * iv->wall_ns / 1e9;
        tot->lat_mean_x_ios += aio_histogram_mean(&iv->latency_ns) * iv->ops;
        tot->p99_x_ios += aio_histogram_percentile(&iv->latency_ns, 99) *
                          iv->ops;
        iops = iv->iops;
        failures += iv->ops == 0 || iv->errors > 0;
    }
    g_free(iv);
    g_free(b);
    g_free(a);
    return iops;
}

static double run_fio(const char *fio, const Engine *e, unsigned qd,
                      double secs, Totals *tot)
{
    FioJob job = { .filename = file_path, .ioengine = e->fio,
                   .rw = "randread", .rwmixread = 100, .bs = BS,
                   .iodepth = qd, .size = file_size, .direct = true,
                   .seconds = secs };
    FioResult r;
    GError *err = NULL;

    if (!fio_ref_run(fio, &job, &r, &err)) {
        fprintf(stderr, "workload-bench: fio %s QD %u: %s\n", e->fio, qd,
                err->message);
        g_error_free(err);
        failures++;
        return 0;
    }
    tot->ios += r.ios;
    tot->elapsed_s += r.runtime_s;
    tot->cpu_s += r.cpu_s;
    tot->lat_mean_x_ios += r.lat_mean_ns * r.ios;
    tot->p99_x_ios += r.lat_p99_ns * r.ios;
    return r.ios / r.runtime_s;
}

static void emit_impl(const char *impl, const Engine *e, unsigned qd,
                      const Totals *t)
{
    double ios = MAX(t->ios, 1);
    printf("{\"bench\": \"workload_randread\", \"impl\": \"%s\", "
           "\"engine\": \"%s\", \"iodepth\": %u, \"bs\": %d, "
           "\"iops\": %.0f, \"mean_us\": %.1f, \"p99_us\": %.1f, "
           "\"cpu_s_per_100k_io\": %.2f", impl,
           workload_engine_name(e->ours), qd, BS,
           t->elapsed_s > 0 ? t->ios / t->elapsed_s : 0,
           t->lat_mean_x_ios / ios / 1e3, t->p99_x_ios / ios / 1e3,
           t->cpu_s / ios * 1e5);
    if (!strcmp(impl, "workload")) {
        /* Where the iothread's CPU went: polling per I/O, and how often a
         * polling window found work. */
        printf(", \"polling_us_per_io\": %.2f, \"poll_windows_per_io\": "
               "%.2f, \"poll_hit_rate\": %.3f", t->polling_s / ios * 1e6,
               t->poll_windows / ios,
               t->poll_windows ? (double)t->poll_hits / t->poll_windows : 0);
    }
    printf(", \"load\": %.2f}\n", bench_load_average());
}

static void emit_ratio(const Engine *e, unsigned qd, const Totals *ours,
                       const Totals *ref, GArray *ratios)
{
    double min, median, max;
    double a = ours->elapsed_s > 0 ? ours->ios / ours->elapsed_s : 0;
    double b = ref->elapsed_s > 0 ? ref->ios / ref->elapsed_s : 0;

    fio_ref_spread(ratios, &min, &median, &max);
    printf("{\"bench\": \"workload_randread\", \"impl\": \"workload\", "
           "\"engine\": \"%s\", \"iodepth\": %u, \"iops_ratio_to_fio\": "
           "%.3f, \"slice_ratio_min\": %.3f, \"slice_ratio_median\": %.3f, "
           "\"slice_ratio_max\": %.3f, \"load\": %.2f}\n",
           workload_engine_name(e->ours), qd, b > 0 ? a / b : 0, min, median,
           max, bench_load_average());
}

/* Ours and fio alternately, @slices pairs. */
static void bench_row(IOThread *t, AioContext *owner, const char *fio,
                      const Engine *e, unsigned qd)
{
    Totals ours = { 0 }, ref = { 0 };
    GArray *ratios = g_array_new(FALSE, FALSE, sizeof(double));
    double secs = seconds / slices;

    for (int i = 0; i < slices; i++) {
        double a = run_ours(t, owner, e, qd, secs, &ours);
        double b = fio ? run_fio(fio, e, qd, secs, &ref) : 0;
        if (a > 0 && b > 0) {
            double r = a / b;
            g_array_append_val(ratios, r);
        }
    }
    emit_impl("workload", e, qd, &ours);
    if (fio) {
        emit_impl("fio", e, qd, &ref);
        emit_ratio(e, qd, &ours, &ref, ratios);
    }
    g_array_unref(ratios);
}

static bool parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            quick = true;
        } else if (!strcmp(argv[i], "--file") && i + 1 < argc) {
            file_path = argv[++i];
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = g_ascii_strtod(argv[++i], NULL);
        } else if (!strcmp(argv[i], "--slices") && i + 1 < argc) {
            slices = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
            only_engine = argv[++i];
        } else if (!strcmp(argv[i], "--iodepth") && i + 1 < argc) {
            only_iodepth = (unsigned)atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--poll-max-ns") && i + 1 < argc) {
            aio_params_set(&iothread_params, AIO_PARAM_POLL_MAX_NS,
                           g_ascii_strtoll(argv[++i], NULL, 10));
        } else if (!strcmp(argv[i], "--poll-mode") && i + 1 < argc) {
            const char *mode = argv[++i];
            int64_t value;
            if (!aio_param_value_parse(aio_param_info(AIO_PARAM_POLL_MODE),
                                       mode, &value)) {
                fprintf(stderr, "workload-bench: '%s' is not a poll-mode\n",
                        mode);
                return false;
            }
            aio_params_set(&iothread_params, AIO_PARAM_POLL_MODE, value);
        } else {
            fprintf(stderr, "usage: workload-bench [--quick] [--file PATH] "
                    "[--seconds N] [--slices N] [--poll-max-ns N] "
                    "[--poll-mode fixed|auto] [--engine linux-aio|io_uring] "
                    "[--iodepth 1|32]\n");
            return false;
        }
    }
    if (quick) {
        seconds = 1;
    }
    slices = slices > 0 ? slices : quick ? 1 : 5;
    file_size = quick ? 64ull << 20 : 1ull << 30;
    if (!file_path) {
        file_path = quick ? "/var/tmp/iothreadd-io-bench-64M.dat"
                          : "/var/tmp/iothreadd-io-bench-1G.dat";
    }
    return seconds > 0;
}

int main(int argc, char **argv)
{
    GError *err = NULL;

    if (!parse_args(argc, argv)) {
        return 2;
    }
    if (!fio_ref_prepare_file(file_path, file_size)) {
        return 1;
    }
    AioContext *owner = aio_context_new(&err);
    /* The iothread's properties: its defaults unless given. */
    IOThread *t = owner ? iothread_new("bench", &iothread_params, &err) : NULL;
    if (!t) {
        fprintf(stderr, "workload-bench: %s\n", err->message);
        return 1;
    }
    char *fio = fio_ref_find();
    if (!fio) {
        printf("{\"bench\": \"workload_randread\", \"impl\": \"fio\", "
               "\"skipped\": \"fio not found in PATH\"}\n");
    }
    for (size_t i = 0; i < G_N_ELEMENTS(engines); i++) {
        static const unsigned depths[] = { 1, 32 };
        const char *name = workload_engine_name(engines[i].ours);
        if (only_engine && strcmp(only_engine, name)) {
            continue;
        }
        for (size_t j = 0; j < G_N_ELEMENTS(depths); j++) {
            if (!only_iodepth || only_iodepth == depths[j]) {
                bench_row(t, owner, fio, &engines[i], depths[j]);
            }
        }
    }
    g_free(fio);
    iothread_free(t);
    while (aio_poll(owner, false)) {
    }
    aio_context_unref(owner);
    return failures ? 1 : 0;
}
