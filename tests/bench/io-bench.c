/*
 * io-bench: disk engines and thread pool, each next to its reference in the
 * same run.  One JSON object per line (README "Figures" gives them).
 *
 *  - 4 KiB O_DIRECT random reads at QD 1 and 32 on a file filled with real
 *    data (1 GiB, or 64 MiB with --quick), through an AioContext with the
 *    linux-aio and the io_uring engine, then fio with the same ioengine,
 *    file and parameters: IOPS, mean and p99 latency, CPU seconds per 100k
 *    I/Os, and our IOPS as a ratio of fio's.
 *  - Thread pool: null jobs, 10 us CPU jobs and 1 ms blocking jobs (a
 *    sleep) with 64 outstanding, at the default size, with 4 and with 64
 *    workers, and libuv's uv_queue_work with its 4 workers, alternated in
 *    --slices slices per job kind (io-bench-pool.c).
 *
 *  - --poll-sweep: QD 1 on both engines with poll-max-ns 0, 4096 and
 *    32768 (poll-mode fixed) and 32768 with poll-mode auto, interleaved
 *    slice by slice: CPU per I/O and p50/mean/p99 latency of each.
 *
 * The engines' context is configured like an iothread's (poll-max-ns and
 * poll-mode: the parameter table's iothread defaults, 32768 and auto,
 * unless given): that is how the engines run in the daemon.
 *
 * The engine and fio each run for --seconds in total, alternately in
 * --slices slices (5 by default, 1 with --quick): the device's throughput
 * drifts by several percent over tens of seconds, which two back-to-back
 * 10 s runs would put into the ratio.  Which of the two runs first
 * alternates from pair to pair (--order ours-first: always ours), and the
 * per-slice ratios are printed by order too, so a first-runner bias shows.
 * Offsets: uniform random with replacement (--offsets replace, the
 * default) or a random permutation of the file's blocks (--offsets
 * permutation: without replacement, as fio's default random map).
 * --cpu N pins ours and fio to CPU N.
 *
 * Usage: io-bench [--quick] [--file PATH] [--seconds N] [--slices N]
 *                 [--engine NAME] [--qd N] [--poll-max-ns N]
 *                 [--poll-mode fixed|auto] [--poll-sweep]
 *                 [--offsets replace|permutation] [--order alternate|ours-first]
 *                 [--cpu N] [--no-pool] [--no-disk] [--no-fio]
 * (--engine/--qd/--no-pool/--no-disk/--no-fio narrow a run down while
 * investigating; the figures to compare come from a full run.)
 */
#include "io-bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>


IoBenchOptions opt = {
    .seconds = 10, .pool_seconds = 3, .poll_max_ns = -1, .cpu = -1,
};

double now_s(void)
{
    return aio_clock_get_ns(AIO_CLOCK_MONOTONIC) / 1e9;
}

double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The run's own checks (the --quick run is a test: its exit status is the
 * result): every row of ours present with no I/O error, and every
 * reference ran or printed a "skipped" line because it is not installed. */
static unsigned failed_checks;

void check_failed(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "io-bench: FAILED: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failed_checks++;
}

void emit(const char *bench, const char *impl, const char *extra,
          const char *metric, double value)
{
    printf("{\"bench\": \"%s\", \"impl\": \"%s\"%s, \"metric\": \"%s\", "
           "\"value\": %.6g}\n", bench, impl, extra, metric, value);
    fflush(stdout);
}

/* ---------------------------------------------------------------------- */
/* Test file                                                               */

static bool prepare_file(void)
{
    struct stat st;
    if (stat(opt.file_path, &st) == 0 && (uint64_t)st.st_size == opt.file_size) {
        return true;    /* reuse: already filled by an earlier run */
    }
    int fd = open(opt.file_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        fprintf(stderr, "io-bench: cannot create %s: %s\n", opt.file_path,
                strerror(errno));
        return false;
    }
    enum { CHUNK = 1 << 20 };
    uint64_t *buf = g_malloc(CHUNK);
    uint64_t x = 88172645463325252ull;
    for (uint64_t off = 0; off < opt.file_size; off += CHUNK) {
        for (size_t i = 0; i < CHUNK / 8; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            buf[i] = x;
        }
        if (write(fd, buf, CHUNK) != CHUNK) {
            fprintf(stderr, "io-bench: writing %s failed\n", opt.file_path);
            close(fd);
            g_free(buf);
            return false;
        }
    }
    fsync(fd);
    close(fd);
    g_free(buf);
    return true;
}

/* ---------------------------------------------------------------------- */
/* Options                                                                 */

static const char usage[] =
    "usage: io-bench [--quick] [--file PATH] [--seconds N] "
    "[--engine linux-aio|io_uring] [--qd N] [--poll-max-ns N] "
    "[--poll-mode fixed|auto] [--poll-sweep] [--offsets replace|permutation] "
    "[--order alternate|ours-first] [--cpu N] [--slices N] [--no-pool] "
    "[--no-disk] [--no-fio]\n";

static bool bad_value(const char *option, const char *value, const char *want)
{
    fprintf(stderr, "io-bench: %s wants %s, not '%s'\n", option, want, value);
    return false;
}

static bool parse_count(const char *option, const char *value, int64_t min,
                        int64_t *out)
{
    char *end;
    *out = g_ascii_strtoll(value, &end, 10);
    return (*end || end == value || *out < min)
           ? bad_value(option, value, min ? "a positive number"
                                          : "a number >= 0")
           : true;
}

/* Options with a value; false (said) when @value is not one. */
static bool parse_value_option(const char *o, const char *v)
{
    int64_t n = 0;
    if (!strcmp(o, "--file")) {
        opt.file_path = v;
    } else if (!strcmp(o, "--seconds")) {
        opt.seconds = g_ascii_strtod(v, NULL);
    } else if (!strcmp(o, "--engine")) {
        opt.only_engine = v;
        return !strcmp(v, "linux-aio") || !strcmp(v, "io_uring") ||
               bad_value(o, v, "linux-aio or io_uring");
    } else if (!strcmp(o, "--qd")) {
        opt.only_qd = atoi(v);
    } else if (!strcmp(o, "--poll-max-ns")) {
        if (!parse_count(o, v, 0, &opt.poll_max_ns)) {
            return false;
        }
    } else if (!strcmp(o, "--cpu")) {
        if (!parse_count(o, v, 0, &n)) {
            return false;
        }
        opt.cpu = (int)n;
    } else if (!strcmp(o, "--slices")) {
        if (!parse_count(o, v, 1, &n)) {
            return false;
        }
        opt.slices = (int)n;
    } else if (!strcmp(o, "--poll-mode")) {
        opt.poll_mode = !strcmp(v, "auto") ? AIO_POLL_MODE_AUTO
                                           : AIO_POLL_MODE_FIXED;
        opt.poll_mode_given = true;
        return !strcmp(v, "auto") || !strcmp(v, "fixed") ||
               bad_value(o, v, "fixed or auto");
    } else if (!strcmp(o, "--offsets")) {
        opt.offsets_without_replacement = !strcmp(v, "permutation");
        return !strcmp(v, "permutation") || !strcmp(v, "replace") ||
               bad_value(o, v, "replace or permutation");
    } else if (!strcmp(o, "--order")) {
        opt.ours_first = !strcmp(v, "ours-first");
        return !strcmp(v, "ours-first") || !strcmp(v, "alternate") ||
               bad_value(o, v, "alternate or ours-first");
    }
    return true;
}

static bool is_value_option(const char *o)
{
    static const char *const names[] = {
        "--file", "--seconds", "--engine", "--qd", "--poll-max-ns", "--cpu",
        "--slices", "--poll-mode", "--offsets", "--order", NULL,
    };
    for (int i = 0; names[i]; i++) {
        if (!strcmp(o, names[i])) {
            return true;
        }
    }
    return false;
}

/* Flags; false for an unknown option. */
static bool parse_flag(const char *o)
{
    bool *flag = !strcmp(o, "--quick") ? &opt.quick :
                 !strcmp(o, "--poll-sweep") ? &opt.poll_sweep :
                 !strcmp(o, "--no-pool") ? &opt.skip_pool :
                 !strcmp(o, "--no-disk") ? &opt.skip_disk :
                 !strcmp(o, "--no-fio") ? &opt.skip_fio : NULL;
    if (flag) {
        *flag = true;
    }
    return flag != NULL;
}

/* The defaults that depend on other options. */
static bool finish_options(void)
{
    /* An iothread's defaults, from the parameter table. */
    if (opt.poll_max_ns < 0) {
        opt.poll_max_ns = aio_param_info(AIO_PARAM_POLL_MAX_NS)->default_value;
    }
    if (!opt.poll_mode_given) {
        opt.poll_mode =
            (AioPollMode)aio_param_info(AIO_PARAM_POLL_MODE)->default_value;
    }
    if (!opt.slices) {
        opt.slices = opt.quick ? 1 : 5;
    }
    if (opt.quick) {
        opt.seconds = 1;
        opt.pool_seconds = 0.5;
    }
    if (opt.seconds <= 0) {
        fprintf(stderr, "io-bench: --seconds must be positive\n");
        return false;
    }
    opt.file_size = opt.quick ? 64ull << 20 : 1ull << 30;
    if (!opt.file_path) {
        opt.file_path = opt.quick ? "/var/tmp/iothreadd-io-bench-64M.dat"
                                  : "/var/tmp/iothreadd-io-bench-1G.dat";
    }
    return true;
}

static bool parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (is_value_option(argv[i]) && i + 1 < argc) {
            if (!parse_value_option(argv[i], argv[i + 1])) {
                return false;
            }
            i++;
        } else if (!parse_flag(argv[i])) {
            fputs(usage, stderr);
            return false;
        }
    }
    return finish_options();
}

/* --cpu: this process and what it spawns (fio) run on that CPU only. */
static bool pin_cpu(void)
{
    cpu_set_t set;

    if (opt.cpu < 0) {
        return true;
    }
    CPU_ZERO(&set);
    CPU_SET(opt.cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0) {
        fprintf(stderr, "io-bench: --cpu %d: %s\n", opt.cpu, strerror(errno));
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    if (!parse_args(argc, argv)) {
        return 2;
    }
    if (!pin_cpu()) {
        return 2;
    }
    if (!prepare_file()) {
        return 1;
    }
    if (!opt.skip_disk) {
        io_bench_disk();
    }
    if (!opt.skip_pool) {
        io_bench_pool();
    }
    return failed_checks ? 1 : 0;
}
