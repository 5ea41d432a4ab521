/*
 * io-bench's parts: the run's options and output, shared by the disk part
 * (io-bench-disk.c: the engines against fio) and the thread-pool part
 * (io-bench-pool.c: the pool against libuv).  Single-threaded: only the
 * main thread touches these.
 */
#ifndef TESTS_BENCH_IO_BENCH_H
#define TESTS_BENCH_IO_BENCH_H

#include "aioctx/aio.h"

#include <stdbool.h>
#include <stdint.h>

#define BS 4096

typedef struct IoBenchOptions {
    bool quick;
    double seconds;             /* disk: per implementation, all slices */
    double pool_seconds;        /* per pool row */
    const char *file_path;
    uint64_t file_size;
    const char *only_engine;    /* --engine: run just this one */
    int only_qd;                /* --qd: just this queue depth */
    bool skip_pool;             /* --no-pool */
    bool skip_disk;             /* --no-disk: the pool rows only */
    bool skip_fio;              /* --no-fio (investigation only) */
    int slices;                 /* --slices */
    int64_t poll_max_ns;        /* --poll-max-ns */
    AioPollMode poll_mode;      /* --poll-mode */
    bool poll_mode_given;
    bool poll_sweep;            /* --poll-sweep: QD 1 per polling setting */
    bool offsets_without_replacement;   /* --offsets permutation */
    bool ours_first;            /* --order ours-first */
    int cpu;                    /* --cpu N; -1: not pinned */
} IoBenchOptions;

extern IoBenchOptions opt;

double now_s(void);
/* CPU seconds of this process, and separately of its children that have
 * been waited for (fio). */
double cpu_s(void);
/* Print one figure as a JSON line; @extra is ", member: value..." or "". */
void emit(const char *bench, const char *impl, const char *extra,
          const char *metric, double value);
/* A failed check of the run (the --quick run's exit status counts them). */
G_GNUC_PRINTF(1, 2) void check_failed(const char *fmt, ...);

/* The disk rows (engines and fio), and the poll sweep. */
void io_bench_disk(void);
/* The thread-pool rows (ours and libuv). */
void io_bench_pool(void);

#endif /* TESTS_BENCH_IO_BENCH_H */
