/* bench_time.h - how the bench programs time things (docs/performance.md, "Method"): a
 * monotonic clock, and the median ms per call of a number of samples, each a loop of calls
 * lasting at least 20 ms, after one untimed warm-up call. Outputs are checked against a
 * reference before any of this runs. */
#ifndef FERC_BENCH_TIME_H
#define FERC_BENCH_TIME_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* BENCH_CLOCK=cpu times with the process's CPU time instead: on a loaded machine a
 * one-thread run's CPU time is still what it costs, where wall time counts the waits. */
static inline double bench_now(void)
{
    static int cpu = -1;
    if (cpu < 0) {
        const char *e = getenv("BENCH_CLOCK");
        cpu = e && !strcmp(e, "cpu");
    }
    struct timespec t;
    clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts s. */
static inline double bench_median(double *s, int n)
{
    qsort(s, (size_t)n, sizeof *s, bench_cmp_double);
    return s[n / 2];
}

/* Seconds of one call, after one untimed warm-up call. */
static inline double bench_once(void (*fn)(void *), void *arg)
{
    fn(arg);
    const double t0 = bench_now();
    fn(arg);
    return bench_now() - t0;
}

/* Calls per sample: as many as fill 20 ms, given the time of one. */
static inline long bench_calls(double once) { return once > 0.02 ? 1 : (long)(0.02 / (once + 1e-7)) + 1; }

static inline double bench_sample_ms(void (*fn)(void *), void *arg, long calls)
{
    const double t0 = bench_now();
    for (long c = 0; c < calls; c++) fn(arg);
    return (bench_now() - t0) / (double)calls * 1e3;
}

/* Median ms per call over `samples` samples (at most 1000). */
static inline double bench_median_ms(void (*fn)(void *), void *arg, int samples)
{
    double s[1000];
    if (samples > 1000) samples = 1000;
    const long calls = bench_calls(bench_once(fn, arg));
    for (int r = 0; r < samples; r++) s[r] = bench_sample_ms(fn, arg, calls);
    return bench_median(s, samples);
}

#endif
