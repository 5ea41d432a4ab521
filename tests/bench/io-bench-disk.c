/*
 * io-bench's disk part: 4 KiB O_DIRECT random reads through an AioContext
 * with each engine, against fio with the same ioengine, file and
 * parameters in alternating slices; and the poll sweep (QD 1 per polling
 * setting).  See io-bench.c for the options.
 */
#include "io-bench.h"
#include "bench-util.h"
#include "aioctx/disk-io.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *fdmon_name = "?";

/* How a context polls: poll-max-ns and poll-mode. */
typedef struct PollSetting {
    int64_t max_ns;
    AioPollMode mode;
} PollSetting;

static const char *mode_name(AioPollMode mode)
{
    return aio_param_value_name(aio_param_info(AIO_PARAM_POLL_MODE), mode);
}

/* ---------------------------------------------------------------------- */
/* Engines through an AioContext                                          */

typedef struct IoSlot {
    struct iovec iov;
    int64_t start_ns;
    struct IoRun *run;
} IoSlot;

typedef struct IoRun {
    const AioDiskEngine *engine;
    void *eng;
    int fd;
    uint64_t rng;
    uint64_t blocks;
    uint32_t *perm;             /* --offsets permutation: block order */
    uint64_t next;              /* its next index */
    bool stop;
    int outstanding;
    uint64_t done;
    uint64_t errors;
    uint32_t *lat_ns;
    size_t nlat, cap;
} IoRun;

static void io_submit_slot(IoRun *r, IoSlot *s);

static void io_done(void *opaque, int ret)
{
    IoSlot *s = opaque;
    IoRun *r = s->run;
    int64_t lat = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) - s->start_ns;
    r->outstanding--;
    r->done++;
    if (ret < 0) {
        r->errors++;
    }
    if (r->nlat == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1 << 20;
        r->lat_ns = g_renew(uint32_t, r->lat_ns, r->cap);
    }
    r->lat_ns[r->nlat++] = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
    if (!r->stop) {
        io_submit_slot(r, s);
    }
}

static uint64_t next_random(IoRun *r)
{
    r->rng ^= r->rng << 13; r->rng ^= r->rng >> 7; r->rng ^= r->rng << 17;
    return r->rng;
}

/* --offsets permutation: every block once, in a random order (Fisher-Yates),
 * as fio's random map reads a file; a new order each pass. */
static void shuffle_blocks(IoRun *r)
{
    if (!r->perm) {
        r->perm = g_new(uint32_t, r->blocks);
        for (uint64_t i = 0; i < r->blocks; i++) {
            r->perm[i] = (uint32_t)i;
        }
    }
    for (uint64_t i = r->blocks - 1; i > 0; i--) {
        uint64_t j = next_random(r) % (i + 1);
        uint32_t t = r->perm[i];
        r->perm[i] = r->perm[j];
        r->perm[j] = t;
    }
    r->next = 0;
}

/* The next offset: uniform with replacement, or the permutation's next. */
static uint64_t next_offset(IoRun *r)
{
    if (!opt.offsets_without_replacement) {
        return (next_random(r) % r->blocks) * BS;
    }
    if (!r->perm || r->next == r->blocks) {
        shuffle_blocks(r);
    }
    return (uint64_t)r->perm[r->next++] * BS;
}

static void io_submit_slot(IoRun *r, IoSlot *s)
{
    uint64_t off = next_offset(r);
    s->start_ns = aio_clock_get_ns(AIO_CLOCK_MONOTONIC);
    r->outstanding++;
    if (r->engine->submit(r->eng, AIO_DISK_READ, r->fd, &s->iov, 1, off, 0,
                          io_done, s) < 0) {
        r->outstanding--;
        r->errors++;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* One implementation's figures, summed over its slices. */
typedef struct Acc {
    bool failed;
    double elapsed_s, cpu_s;
    uint64_t ios, errors;
    GArray *lat_ns;             /* ours: every latency (uint32_t ns) */
    double lat_mean_x_ios;      /* fio: per-slice mean latency x I/Os */
    double p50_x_ios;           /* fio: per-slice p50 x I/Os */
    double p99_x_ios;           /* fio: per-slice p99 x I/Os */
    /* ours: loop counters */
    uint64_t iterations, blocking_waits, polling_ns, poll_attempts, poll_hits;
    uint64_t submitted, submit_calls;
} Acc;

/* A context polling as @ps; NULL (said) on failure. */
static AioContext *slice_context_new(PollSetting ps)
{
    GError *err = NULL;
    AioParams mode = { 0 };
    AioContext *ctx = aio_context_new(&err);

    if (ctx) {
        fdmon_name = aio_context_fdmon_name(ctx);
        aio_params_set(&mode, AIO_PARAM_POLL_MODE, ps.mode);
        if (!aio_context_set_poll_params(ctx, ps.max_ns, 0, 0, &err) ||
            !aio_context_set_params(ctx, &mode, &err)) {
            aio_context_unref(ctx);
            ctx = NULL;
        }
    }
    if (!ctx) {
        fprintf(stderr, "io-bench: %s\n", err->message);
        g_clear_error(&err);
    }
    return ctx;
}

/* The engine and the file of @r on @ctx; false (said) on failure. */
static bool io_run_open(IoRun *r, AioContext *ctx)
{
    GError *err = NULL;

    r->eng = r->engine->setup(ctx, &err);
    r->fd = open(opt.file_path, O_RDONLY | O_DIRECT);
    if (r->eng && r->fd >= 0) {
        return true;
    }
    fprintf(stderr, "io-bench: %s: %s\n", r->engine->name,
            err ? err->message : strerror(errno));
    g_clear_error(&err);
    if (r->fd >= 0) {
        close(r->fd);
    }
    return false;
}

/* @qd requests kept in flight for @secs, then drained. */
static void io_run_loop(IoRun *r, AioContext *ctx, IoSlot *slots, int qd,
                        double secs)
{
    double end = now_s() + secs;
    unsigned n = 0;

    for (int i = 0; i < qd; i++) {
        io_submit_slot(r, &slots[i]);
    }
    while (!r->stop) {
        aio_poll(ctx, true);
        if ((++n & 15) == 0 && now_s() >= end) {
            r->stop = true;
        }
    }
    while (r->outstanding > 0) {
        aio_poll(ctx, true);
    }
}

static void acc_add_stats(Acc *acc, const IoRun *r, AioContext *ctx)
{
    AioStats st;

    aio_context_get_stats(ctx, &st);
    acc->ios += r->done;
    acc->errors += r->errors;
    acc->iterations += st.iterations;
    acc->blocking_waits += st.blocking_waits;
    acc->polling_ns += st.polling_ns;
    acc->poll_attempts += st.poll_attempts;
    acc->poll_hits += st.poll_hits;
    acc->submitted += st.io_submitted;
    acc->submit_calls += st.io_submit_calls;
    g_array_append_vals(acc->lat_ns, r->lat_ns, r->nlat);
}

/* One slice of @secs through a fresh AioContext polling as @ps; false on
 * a set-up failure (reported). */
static bool run_engine_slice(const AioDiskEngine *engine, int qd, double secs,
                             PollSetting ps, Acc *acc)
{
    AioContext *ctx = slice_context_new(ps);
    IoRun r = { .engine = engine, .blocks = opt.file_size / BS };
    void *bufs;

    /* A different offset sequence per slice, same for every build. */
    r.rng = 0x9e3779b97f4a7c15ull + acc->ios;
    if (!ctx || !io_run_open(&r, ctx)) {
        if (ctx) {
            aio_context_unref(ctx);
        }
        return false;
    }
    IoSlot *slots = g_new0(IoSlot, qd);
    if (posix_memalign(&bufs, BS, (size_t)qd * BS)) {
        abort();
    }
    for (int i = 0; i < qd; i++) {
        slots[i].run = &r;
        slots[i].iov = (struct iovec){ (char *)bufs + (size_t)i * BS, BS };
    }
    double t0 = now_s(), c0 = cpu_s();
    io_run_loop(&r, ctx, slots, qd, secs);
    acc->elapsed_s += now_s() - t0;
    acc->cpu_s += cpu_s() - c0;
    acc_add_stats(acc, &r, ctx);
    close(r.fd);
    aio_context_unref(ctx);
    free(bufs);
    g_free(slots);
    g_free(r.lat_ns);
    g_free(r.perm);
    return true;
}

/* The @q quantile (0..1) of sorted latencies, in µs. */
static double lat_quantile_us(GArray *lat, double q)
{
    return lat->len ? g_array_index(lat, uint32_t, (guint)(lat->len * q)) / 1e3
                    : 0;
}

/* Where the loop's time goes: iterations and waits per I/O, and the
 * busy-polling it did. */
static void emit_loop_figures(const char *extra, Acc *acc)
{
    double per_io = acc->ios ? 1.0 / acc->ios : 0;

    emit("io_randread", "aio", extra, "mean_batch",
         acc->submit_calls ? (double)acc->submitted / acc->submit_calls : 0);
    emit("io_randread", "aio", extra, "blocking_waits_per_io",
         acc->blocking_waits * per_io);
    emit("io_randread", "aio", extra, "iterations_per_io",
         acc->iterations * per_io);
    emit("io_randread", "aio", extra, "polling_us_per_io",
         acc->polling_ns / 1e3 * per_io);
    emit("io_randread", "aio", extra, "poll_hit_ratio",
         acc->poll_attempts ? (double)acc->poll_hits / acc->poll_attempts : 0);
}

static void emit_engine(const AioDiskEngine *engine, int qd, PollSetting ps,
                        Acc *acc)
{
    GArray *lat = acc->lat_ns;
    double sum = 0;
    char extra[320];

    g_array_sort(lat, cmp_u32);
    for (guint i = 0; i < lat->len; i++) {
        sum += g_array_index(lat, uint32_t, i);
    }
    snprintf(extra, sizeof(extra), ", \"engine\": \"%s\", \"backend\": \"%s\","
             " \"iodepth\": %d, \"bs\": %d, \"poll_max_ns\": %" PRId64
             ", \"poll_mode\": \"%s\", \"offsets\": \"%s\", \"load\": %.2f",
             engine->name, fdmon_name, qd, BS, ps.max_ns, mode_name(ps.mode),
             opt.offsets_without_replacement ? "permutation" : "replace",
             bench_load_average());
    emit("io_randread", "aio", extra, "iops", acc->ios / acc->elapsed_s);
    emit("io_randread", "aio", extra, "mean_us",
         lat->len ? sum / lat->len / 1e3 : 0);
    emit("io_randread", "aio", extra, "p50_us", lat_quantile_us(lat, 0.5));
    emit("io_randread", "aio", extra, "p99_us", lat_quantile_us(lat, 0.99));
    emit("io_randread", "aio", extra, "cpu_s_per_100k_io",
         acc->ios ? acc->cpu_s / acc->ios * 1e5 : 0);
    emit_loop_figures(extra, acc);
    if (acc->errors) {
        emit("io_randread", "aio", extra, "errors", acc->errors);
    }
}

/* ---------------------------------------------------------------------- */
/* fio reference                                                           */

static double json_double(JsonObject *o, const char *member)
{
    return o && json_object_has_member(o, member)
           ? json_object_get_double_member(o, member) : 0;
}

static void fio_extra(char *buf, size_t size, const char *engine_name, int qd)
{
    snprintf(buf, size, ", \"engine\": \"%s\", \"iodepth\": %d, \"bs\": %d, "
             "\"load\": %.2f", engine_name, qd, BS, bench_load_average());
}

/* fio's command line for one slice (NULL-terminated, all strings owned). */
static GPtrArray *fio_argv(char *fio, const char *ioengine, int qd,
                           double secs)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(argv, fio);
    g_ptr_array_add(argv, g_strdup("--name=io-bench"));
    g_ptr_array_add(argv, g_strdup_printf("--filename=%s", opt.file_path));
    g_ptr_array_add(argv, g_strdup_printf("--ioengine=%s", ioengine));
    g_ptr_array_add(argv, g_strdup_printf("--iodepth=%d", qd));
    g_ptr_array_add(argv, g_strdup_printf("--size=%" PRIu64, opt.file_size));
    g_ptr_array_add(argv, g_strdup_printf("--runtime=%g", secs));
    if (opt.cpu >= 0) {
        g_ptr_array_add(argv, g_strdup_printf("--cpus_allowed=%d", opt.cpu));
    }
    static const char *const fixed[] = {
        "--direct=1", "--rw=randread", "--bs=4k", "--time_based=1",
        "--numjobs=1", "--thread=0", "--lat_percentiles=1",
        "--output-format=json",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++) {
        g_ptr_array_add(argv, g_strdup(fixed[i]));
    }
    g_ptr_array_add(argv, NULL);
    return argv;
}

/* Add fio's JSON report @json to @acc; false if it shows no I/O. */
static bool fio_parse_into(Acc *acc, JsonParser *parser)
{
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    JsonObject *job = json_array_get_object_element(
        json_object_get_array_member(root, "jobs"), 0);
    JsonObject *rd = json_object_get_object_member(job, "read");
    /* Total latency (lat_ns), as ours is timed from before the submit:
     * fio's default percentiles (clat_ns) leave out the io_submit. */
    JsonObject *lat = json_object_get_object_member(rd, "lat_ns");
    JsonObject *pct = lat && json_object_has_member(lat, "percentile")
                      ? json_object_get_object_member(lat, "percentile")
                      : NULL;
    double total = json_double(rd, "total_ios");
    double runtime_s = json_double(rd, "runtime") / 1e3;

    acc->ios += (uint64_t)total;
    acc->elapsed_s += runtime_s;
    acc->cpu_s += (json_double(job, "usr_cpu") +
                   json_double(job, "sys_cpu")) / 100 * runtime_s;
    acc->lat_mean_x_ios += json_double(lat, "mean") * total;
    acc->p50_x_ios += json_double(pct, "50.000000") * total;
    acc->p99_x_ios += json_double(pct, "99.000000") * total;
    return total > 0 && runtime_s > 0;
}

/* One fio slice of @secs; false (and a "skipped" line) when fio is absent
 * or fails. */
static bool run_fio_slice(const char *ioengine, const char *engine_name,
                          int qd, double secs, Acc *acc)
{
    char extra[256];
    fio_extra(extra, sizeof(extra), engine_name, qd);
    char *fio = g_find_program_in_path("fio");
    if (!fio) {
        printf("{\"bench\": \"io_randread\", \"impl\": \"fio\"%s, "
               "\"skipped\": \"fio not found in PATH\"}\n", extra);
        return false;
    }
    GPtrArray *argv = fio_argv(fio, ioengine, qd, secs);
    char *out = NULL, *errout = NULL;
    int status = 0;
    GError *err = NULL;
    bool ok = false;
    bool ran = g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT,
                            NULL, NULL, &out, &errout, &status, &err);
    JsonParser *parser = json_parser_new();
    /* fio may print notes before the JSON document. */
    const char *json = out ? strchr(out, '{') : NULL;
    if (!ran || !g_spawn_check_wait_status(status, NULL) || !json ||
        !json_parser_load_from_data(parser, json, -1, NULL)) {
        check_failed("fio (installed) failed for %s QD %d: %s", engine_name,
                     qd, err ? err->message
                             : (errout ? g_strstrip(errout) : "?"));
    } else if (!(ok = fio_parse_into(acc, parser))) {
        check_failed("fio reported no I/O for %s QD %d", engine_name, qd);
    }
    g_object_unref(parser);
    g_clear_error(&err);
    g_free(out);
    g_free(errout);
    g_ptr_array_free(argv, TRUE);
    return ok;
}

/* fio's p50 and p99 are the I/O-weighted means of its slices' (fio reports
 * percentiles per run only); with one slice they are fio's own figures. */
static void emit_fio(const char *engine_name, int qd, Acc *acc)
{
    char extra[256];
    fio_extra(extra, sizeof(extra), engine_name, qd);
    emit("io_randread", "fio", extra, "iops", acc->ios / acc->elapsed_s);
    emit("io_randread", "fio", extra, "mean_us",
         acc->lat_mean_x_ios / acc->ios / 1e3);
    emit("io_randread", "fio", extra, "p50_us", acc->p50_x_ios / acc->ios / 1e3);
    emit("io_randread", "fio", extra, "p99_us", acc->p99_x_ios / acc->ios / 1e3);
    emit("io_randread", "fio", extra, "cpu_s_per_100k_io",
         acc->cpu_s / acc->ios * 1e5);
}

/* One slice of ours polling as @ps (@fio_engine NULL) or of fio into
 * @acc; its IOPS, or 0 when it failed (then acc->failed is set). */
static double slice_iops(Acc *acc, const AioDiskEngine *engine, int qd,
                         double secs, PollSetting ps, const char *fio_engine)
{
    uint64_t ios = acc->ios;
    double elapsed = acc->elapsed_s;
    acc->failed = fio_engine
        ? !run_fio_slice(fio_engine, engine->name, qd, secs, acc)
        : !run_engine_slice(engine, qd, secs, ps, acc);
    if (acc->failed || acc->elapsed_s <= elapsed) {
        return 0;
    }
    return (acc->ios - ios) / (acc->elapsed_s - elapsed);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(GArray *values)
{
    g_array_sort(values, compare_doubles);
    return g_array_index(values, double, values->len / 2);
}

/* Per-slice ratios (ours / fio in one slice pair), all of them and split
 * by which of the two ran first in the pair. */
typedef struct SliceRatios {
    GArray *all, *ours_first, *fio_first;
} SliceRatios;

/* The spread of the per-slice ratios and the machine load now: a whole-run
 * ratio far from 1 with a wide spread is noise from other work on the
 * machine, not a difference of engines; medians that differ by order are
 * a bias of whoever runs first. */
static void emit_slice_ratios(const char *extra, SliceRatios *sr)
{
    char more[400];

    if (!sr->all->len) {
        return;
    }
    snprintf(more, sizeof(more), "%s, \"load\": %.2f", extra,
             bench_load_average());
    double mid = median(sr->all);      /* sorts sr->all */
    emit("io_randread", "aio", more, "slice_ratio_min",
         g_array_index(sr->all, double, 0));
    emit("io_randread", "aio", more, "slice_ratio_median", mid);
    emit("io_randread", "aio", more, "slice_ratio_max",
         g_array_index(sr->all, double, sr->all->len - 1));
    if (sr->ours_first->len) {
        emit("io_randread", "aio", more, "slice_ratio_median_ours_first",
             median(sr->ours_first));
    }
    if (sr->fio_first->len) {
        emit("io_randread", "aio", more, "slice_ratio_median_fio_first",
             median(sr->fio_first));
    }
}

/* Slice pair @i: ours and fio, in the order of the pair; the pair's ratio
 * goes into @sr. */
static void run_slice_pair(int i, const AioDiskEngine *engine,
                           const char *fio_engine, int qd, Acc *ours,
                           Acc *ref, SliceRatios *sr)
{
    double secs = opt.seconds / opt.slices;
    PollSetting ps = { opt.poll_max_ns, opt.poll_mode };
    bool fio_first = !opt.ours_first && !ref->failed && (i & 1);
    double ref_iops = fio_first
        ? slice_iops(ref, engine, qd, secs, ps, fio_engine) : 0;
    double ours_iops = slice_iops(ours, engine, qd, secs, ps, NULL);

    if (!fio_first && !ref->failed) {
        ref_iops = slice_iops(ref, engine, qd, secs, ps, fio_engine);
    }
    if (ours_iops > 0 && ref_iops > 0) {
        double ratio = ours_iops / ref_iops;
        g_array_append_val(sr->all, ratio);
        g_array_append_val(fio_first ? sr->fio_first : sr->ours_first, ratio);
    }
}

static void check_engine_rows(const AioDiskEngine *engine, int qd, Acc *ours)
{
    if (ours->failed || !ours->ios) {
        check_failed("no %s QD %d row: the engine %s", engine->name, qd,
                     ours->failed ? "could not be set up"
                                  : "completed no I/O");
    }
    if (ours->errors) {
        check_failed("%s QD %d: %" PRIu64 " I/O errors", engine->name, qd,
                     ours->errors);
    }
}

/* Ours and fio alternately, --slices times each: the device's throughput
 * drifts by several percent over tens of seconds here, and alternating
 * keeps that drift out of the ratio. */
static void bench_engine(const AioDiskEngine *engine, const char *fio_engine,
                         int qd)
{
    Acc ours = { .lat_ns = g_array_new(FALSE, FALSE, sizeof(uint32_t)) };
    Acc ref = { .failed = opt.skip_fio };
    SliceRatios sr = {
        g_array_new(FALSE, FALSE, sizeof(double)),
        g_array_new(FALSE, FALSE, sizeof(double)),
        g_array_new(FALSE, FALSE, sizeof(double)),
    };

    for (int i = 0; i < opt.slices && !ours.failed; i++) {
        run_slice_pair(i, engine, fio_engine, qd, &ours, &ref, &sr);
    }
    check_engine_rows(engine, qd, &ours);
    if (!ours.failed && ours.ios) {
        emit_engine(engine, qd, (PollSetting){ opt.poll_max_ns, opt.poll_mode },
                    &ours);
    }
    if (!ref.failed && ref.ios) {
        emit_fio(engine->name, qd, &ref);
    }
    if (!ours.failed && ours.ios && !ref.failed && ref.ios) {
        char extra[200];
        snprintf(extra, sizeof(extra), ", \"engine\": \"%s\", \"backend\": "
                 "\"%s\", \"iodepth\": %d, \"bs\": %d, \"slices\": %d",
                 engine->name, fdmon_name, qd, BS, opt.slices);
        emit("io_randread", "aio", extra, "iops_ratio_to_fio",
             (ours.ios / ours.elapsed_s) / (ref.ios / ref.elapsed_s));
        emit_slice_ratios(extra, &sr);
    }
    g_array_free(sr.all, TRUE);
    g_array_free(sr.ours_first, TRUE);
    g_array_free(sr.fio_first, TRUE);
    g_array_free(ours.lat_ns, TRUE);
}

/* ---------------------------------------------------------------------- */
/* Poll sweep                                                              */

/* QD 1 with each polling setting, interleaved: slice i runs every setting
 * once, starting from setting i (so none is always first), and each
 * setting's rows sum its slices. */
static void bench_poll_sweep(const AioDiskEngine *engine)
{
    static const PollSetting settings[] = {
        { 0, AIO_POLL_MODE_FIXED }, { 4096, AIO_POLL_MODE_FIXED },
        { 32768, AIO_POLL_MODE_FIXED }, { 32768, AIO_POLL_MODE_AUTO },
    };
    enum { N = G_N_ELEMENTS(settings) };
    Acc acc[N] = { 0 };
    double secs = opt.seconds / opt.slices;

    for (int k = 0; k < N; k++) {
        acc[k].lat_ns = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    }
    for (int i = 0; i < opt.slices; i++) {
        for (int j = 0; j < N; j++) {
            int k = (i + j) % N;
            if (!acc[k].failed) {
                slice_iops(&acc[k], engine, 1, secs, settings[k], NULL);
            }
        }
    }
    for (int k = 0; k < N; k++) {
        check_engine_rows(engine, 1, &acc[k]);
        if (!acc[k].failed && acc[k].ios) {
            emit_engine(engine, 1, settings[k], &acc[k]);
        }
        g_array_free(acc[k].lat_ns, TRUE);
    }
}

void io_bench_disk(void)
{
    static const struct { const AioDiskEngine *e; const char *fio; } engines[] = {
        { &aio_disk_engine_linux_aio, "libaio" },
        { &aio_disk_engine_io_uring, "io_uring" },
    };
    const int qds[] = { 1, 32 };

    for (unsigned e = 0; e < G_N_ELEMENTS(engines); e++) {
        if (opt.only_engine && strcmp(opt.only_engine, engines[e].e->name)) {
            continue;
        }
        if (opt.poll_sweep) {
            bench_poll_sweep(engines[e].e);
            continue;
        }
        for (unsigned q = 0; q < G_N_ELEMENTS(qds); q++) {
            if (opt.only_qd && opt.only_qd != qds[q]) {
                continue;
            }
            bench_engine(engines[e].e, engines[e].fio, qds[q]);
        }
    }
}
