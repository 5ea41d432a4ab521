/*
 * fio as a benchmark reference: the data file both sides read, one fio
 * run with given parameters and its figures, and the spread of per-slice
 * ratios.  For benchmarks that alternate an implementation of ours with
 * fio on the same file so that device drift cancels.
 *
 * Thread rules: none (plain functions; fio runs as a child process).
 */
#ifndef TESTS_BENCH_FIO_REF_H
#define TESTS_BENCH_FIO_REF_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Make @path a file of @size bytes of random data, unless it already is
 * one of that size (reused between runs).  false + message on stderr. */
bool fio_ref_prepare_file(const char *path, uint64_t size);

typedef struct FioJob {
    const char *filename;
    const char *ioengine;   /* fio's name: libaio, io_uring, psync */
    const char *rw;         /* randread, randwrite, randrw, read, write */
    int rwmixread;
    unsigned bs;
    unsigned iodepth;
    uint64_t size;          /* the region [0, size) */
    bool direct;
    double seconds;
} FioJob;

typedef struct FioResult {
    uint64_t ios;           /* reads + writes */
    double runtime_s;
    double cpu_s;           /* fio's user + system CPU */
    double lat_mean_ns;     /* I/O-weighted over reads and writes */
    /* Total latency (submission + completion, like ours) of reads (of
     * writes for write-only). */
    double lat_p50_ns, lat_p99_ns;
} FioResult;

/* The fio binary, or NULL when it is not in PATH (caller frees). */
char *fio_ref_find(void);
/* Run @job with the fio at @fio; false + @error (fio's message) if it
 * failed or did no I/O. */
bool fio_ref_run(const char *fio, const FioJob *job, FioResult *out,
                 GError **error);

/* min, median and max of @ratios (sorted in place); all 0 when empty. */
void fio_ref_spread(GArray *ratios, double *min, double *median,
                    double *max);

#endif /* TESTS_BENCH_FIO_REF_H */
