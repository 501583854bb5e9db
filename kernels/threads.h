/* threads.h - the default thread count, and the thread index and count inside a parallel
 * region: 0 / 1 when ferc is built without OpenMP (the fuzz build, or a port without it):
 * the static split of work by thread index then degenerates to one thread doing all parts,
 * with the same results. */
#ifndef FERC_KERNELS_THREADS_H
#define FERC_KERNELS_THREADS_H

#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
static inline int ferc_thread_id(void) { return omp_get_thread_num(); }
static inline int ferc_thread_count(void) { return omp_get_num_threads(); }
static inline int ferc_processor_count(void) { return omp_get_num_procs(); }
#else
static inline int ferc_thread_id(void) { return 0; }
static inline int ferc_thread_count(void) { return 1; }
static inline int ferc_processor_count(void) { return 1; }
#endif

/* Threads for a call that asks for 0: FERC_THREADS from the environment, else the number
 * of processors. */
static inline int ferc_default_threads(void)
{
    const char *e = getenv("FERC_THREADS");
    if (e && atoi(e) > 0) return atoi(e);
    return ferc_processor_count();
}

#endif
