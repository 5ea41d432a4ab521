/*
 * bench-util.h: what every benchmark under tests/bench prints beside its
 * figures.  Header-only; any thread.
 *
 *  - bench_load_average(): the 1-minute load average (/proc/loadavg), -1
 *    when unreadable.  Other work on the machine moves every figure, so a
 *    figure is printed with the load it was measured under.
 */
#ifndef TESTS_BENCH_UTIL_H
#define TESTS_BENCH_UTIL_H

#include <stdio.h>

static inline double bench_load_average(void)
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

#endif /* TESTS_BENCH_UTIL_H */
