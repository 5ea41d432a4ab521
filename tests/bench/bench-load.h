/*
 * bench-load.h: the machine's load average, printed by the benchmarks
 * beside each figure, since other work on the machine moves them.
 * Header-only; any thread.
 */
#ifndef TESTS_BENCH_LOAD_H
#define TESTS_BENCH_LOAD_H

#include <stdio.h>

/* The 1-minute load average (/proc/loadavg), -1 if unreadable. */
static inline double load_average(void)
{
    double load = -1;
    FILE *f = fopen("/proc/loadavg", "r");

    if (f) {
        if (fscanf(f, "%lf", &load) != 1) {
            load = -1;
        }
        fclose(f);
    }
    return load;
}

#endif /* TESTS_BENCH_LOAD_H */
