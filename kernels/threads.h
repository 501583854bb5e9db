/* threads.h - the thread index and count inside a parallel region, and 0 / 1 when ferc is
 * built without OpenMP (the fuzz build, or a port without it): the static split of work by
 * thread index then degenerates to one thread doing all parts, with the same results. */
#ifndef FERC_KERNELS_THREADS_H
#define FERC_KERNELS_THREADS_H

#ifdef _OPENMP
#include <omp.h>
static inline int ferc_thread_id(void) { return omp_get_thread_num(); }
static inline int ferc_thread_count(void) { return omp_get_num_threads(); }
#else
static inline int ferc_thread_id(void) { return 0; }
static inline int ferc_thread_count(void) { return 1; }
#endif

#endif
