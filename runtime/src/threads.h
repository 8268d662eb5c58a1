// threads.h: the context's thread pool. Workers are created once by ffqrt_pool_new and
// wait between calls; ffqrt_parallel_for hands them units of work without allocating.
#ifndef FFQRT_THREADS_H
#define FFQRT_THREADS_H

#include <stddef.h>

// More threads than this are clamped (documented in ffqrt.h).
#define FFQRT_MAX_THREADS 256

typedef void (*ffqrt_unit_fn)(void *arg, size_t unit);
typedef struct ffqrt_pool ffqrt_pool;

// A pool of nthreads - 1 workers (the caller is the other one). NULL if nthreads is 0 or
// above FFQRT_MAX_THREADS, or on allocation / thread creation failure.
ffqrt_pool *ffqrt_pool_new(size_t nthreads);
void ffqrt_pool_free(ffqrt_pool *p);
size_t ffqrt_pool_size(const ffqrt_pool *p);

// Calls fn(arg, u) once for every u < units and returns when all calls are done. Up to
// nthreads threads (the caller and nthreads - 1 workers) take the units in increasing
// order from a shared counter, so a worker that the OS does not schedule in time simply
// gets fewer (or no) units: the call never waits for a thread that has not started.
// With nthreads <= 1, or when another call is using the pool at that moment (two callers
// sharing a context), the caller runs every unit itself. Units may run concurrently and in
// any order: fn must not depend on another unit.
void ffqrt_parallel_for(ffqrt_pool *p, size_t nthreads, size_t units, ffqrt_unit_fn fn, void *arg);

// Hands the pool's jobs to the OpenMP runtime `library` (a path or soname as loaded in
// the process; see threads.c), or back to the pool's own workers with NULL. Returns 1, or
// 0 (nothing changed) when that runtime is not loaded or has no GOMP_parallel.
typedef void (*ffqrt_gomp_parallel_fn)(void (*fn)(void *), void *data, unsigned nthreads, unsigned flags);
int ffqrt_pool_use_openmp(ffqrt_pool *p, const char *library);
int ffqrt_pool_uses_openmp(const ffqrt_pool *p);

typedef void (*ffqrt_task_fn)(void *arg, size_t part, size_t parts);
#define FFQRT_MAX_PARTS 64

// fn(arg, part, parts) for every part < parts, each part one unit of ffqrt_parallel_for.
void ffqrt_parallel_parts(ffqrt_pool *p, size_t nthreads, size_t parts, ffqrt_task_fn fn, void *arg);

// Parts for nthreads threads: a few per thread, so a late thread's share is taken by the
// others; at most FFQRT_MAX_PARTS.
static inline size_t ffqrt_parts_for(size_t nthreads) {
    size_t p = nthreads <= 1 ? 1 : 4 * nthreads;
    return p < FFQRT_MAX_PARTS ? p : FFQRT_MAX_PARTS;
}

// Splits [0, n) into `parts` parts whose inner boundaries are multiples of align.
void ffqrt_split(size_t n, size_t align, size_t part, size_t parts, size_t *begin, size_t *end);

#endif  // FFQRT_THREADS_H
