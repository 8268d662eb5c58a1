// threads.h: the context's thread pool. Workers are created once by ffqrt_pool_new and
// sleep between calls; ffqrt_parallel hands them a task without allocating.
#ifndef FFQRT_THREADS_H
#define FFQRT_THREADS_H

#include <stddef.h>

// More threads than this are clamped (documented in ffqrt.h).
#define FFQRT_MAX_THREADS 256

typedef void (*ffqrt_task_fn)(void *arg, size_t tid, size_t nthreads);
typedef struct ffqrt_pool ffqrt_pool;

// A pool of nthreads - 1 workers (the caller is thread 0). NULL if nthreads is 0 or
// above FFQRT_MAX_THREADS, or on allocation / thread creation failure.
ffqrt_pool *ffqrt_pool_new(size_t nthreads);
void ffqrt_pool_free(ffqrt_pool *p);
size_t ffqrt_pool_size(const ffqrt_pool *p);

// Calls fn(arg, t, nthreads) for every t < nthreads and returns when all are done.
// Thread 0 is the caller. Precondition: 1 <= nthreads <= ffqrt_pool_size(p). With 1, or
// when another call is using the pool at that moment (two callers sharing a context),
// the caller runs every t itself, in order: fn must not wait for another part.
void ffqrt_parallel(ffqrt_pool *p, size_t nthreads, ffqrt_task_fn fn, void *arg);

// Splits [0, n) into nthreads parts whose inner boundaries are multiples of align.
void ffqrt_split(size_t n, size_t align, size_t tid, size_t nthreads, size_t *begin,
                 size_t *end);

#endif // FFQRT_THREADS_H
