// threads.c: a fork/join of at most two threads per call. No pool, no global state.
#define _GNU_SOURCE
#include "threads.h"

#include <assert.h>
#include <pthread.h>
#include <sched.h>

typedef struct task {
  ffqrt_task_fn fn;
  void *arg;
  size_t tid, nthreads;
} task;

static void *task_main(void *p) {
  const task *t = p;
  t->fn(t->arg, t->tid, t->nthreads);
  return NULL;
}

// Pins the helper to an allowed CPU other than the one the caller is running on.
static void pin_helper(pthread_attr_t *attr) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  int self = sched_getcpu();
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (cpu == self || !CPU_ISSET(cpu, &allowed)) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_attr_setaffinity_np(attr, sizeof one, &one);
    return;
  }
}

void ffqrt_parallel(size_t nthreads, ffqrt_task_fn fn, void *arg) {
  assert(nthreads == 1 || nthreads == 2);
  if (nthreads == 1) {
    fn(arg, 0, 1);
    return;
  }
  task helper = {fn, arg, 1, 2};
  pthread_attr_t attr;
  pthread_t th;
  int started = 0;
  if (pthread_attr_init(&attr) == 0) {
    pin_helper(&attr);
    started = pthread_create(&th, &attr, task_main, &helper) == 0;
    pthread_attr_destroy(&attr);
  }
  fn(arg, 0, 2);
  if (started)
    pthread_join(th, NULL);
  else
    fn(arg, 1, 2);
}

void ffqrt_split(size_t n, size_t align, size_t tid, size_t nthreads, size_t *begin,
                 size_t *end) {
  assert(align > 0 && tid < nthreads);
  size_t units = (n + align - 1) / align;
  size_t b = units * tid / nthreads * align, e = units * (tid + 1) / nthreads * align;
  *begin = b < n ? b : n;
  *end = e < n ? e : n;
}
