// threads.h: run a task on one or two threads (the helper pinned to another CPU).
#ifndef FFQRT_THREADS_H
#define FFQRT_THREADS_H

#include <stddef.h>

typedef void (*ffqrt_task_fn)(void *arg, size_t tid, size_t nthreads);

// Calls fn(arg, t, nthreads) for t < nthreads (nthreads is 1 or 2) and returns when all
// are done. Thread 0 is the caller. If a thread cannot be started, the caller runs its share.
void ffqrt_parallel(size_t nthreads, ffqrt_task_fn fn, void *arg);

// Splits [0, n) into nthreads parts whose inner boundaries are multiples of align.
void ffqrt_split(size_t n, size_t align, size_t tid, size_t nthreads, size_t *begin,
                 size_t *end);

#endif // FFQRT_THREADS_H
