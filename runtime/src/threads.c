// threads.c: a fork/join pool owned by the context. Workers are started once and then
// wait for generations: ffqrt_parallel publishes (fn, arg, nthreads), bumps the
// generation and wakes them; every worker acknowledges every generation (those with an
// id >= nthreads without running anything), so a new call never overlaps an old one.
// Waiting spins briefly (a call right after another is common) and then sleeps on a
// condition variable, so an idle pool costs no CPU on a shared machine.
#include "threads.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

enum { SPIN = 4000 }; // polls before sleeping (a few microseconds)

struct ffqrt_pool {
  pthread_mutex_t mu;       // guards the sleeping paths and `sleepers` / `caller_waits`
  pthread_cond_t start, done;
  pthread_mutex_t busy;     // held by the call using the workers
  atomic_uint_fast64_t gen; // bumped (release) after fn / arg / nt are written
  atomic_size_t pending;    // workers that have not acknowledged this generation
  ffqrt_task_fn fn;
  void *arg;
  size_t nt;
  int stop;
  size_t sleepers;
  int caller_waits;
  size_t nworkers;
  pthread_t *threads;
  struct slot *slots;
};

typedef struct slot {
  ffqrt_pool *p;
  size_t id; // 1 .. nworkers
} slot;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// The next generation after `seen` (waits for it).
static uint64_t wait_gen(ffqrt_pool *p, uint64_t seen) {
  for (int i = 0; i < SPIN; i++) {
    uint64_t g = atomic_load_explicit(&p->gen, memory_order_acquire);
    if (g != seen) return g;
    cpu_relax();
  }
  pthread_mutex_lock(&p->mu);
  uint64_t g;
  while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen) {
    p->sleepers++;
    pthread_cond_wait(&p->start, &p->mu);
    p->sleepers--;
  }
  pthread_mutex_unlock(&p->mu);
  return g;
}

static void *worker(void *arg) {
  ffqrt_pool *p = ((slot *)arg)->p;
  size_t id = ((slot *)arg)->id;
  uint64_t seen = 0;
  for (;;) {
    seen = wait_gen(p, seen);
    if (p->stop) return NULL;
    if (id < p->nt) p->fn(p->arg, id, p->nt);
    if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&p->mu);
      if (p->caller_waits) pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->mu);
    }
  }
}

// Publishes a generation to every worker; with stop set they exit instead.
static void publish(ffqrt_pool *p, ffqrt_task_fn fn, void *arg, size_t nt, int stop) {
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->arg = arg;
  p->nt = nt;
  p->stop = stop;
  atomic_store_explicit(&p->pending, p->nworkers, memory_order_relaxed);
  atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
  if (p->sleepers) pthread_cond_broadcast(&p->start);
  pthread_mutex_unlock(&p->mu);
}

static void wait_done(ffqrt_pool *p) {
  for (int i = 0; i < SPIN; i++) {
    if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0) return;
    cpu_relax();
  }
  pthread_mutex_lock(&p->mu);
  while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0) {
    p->caller_waits = 1;
    pthread_cond_wait(&p->done, &p->mu);
  }
  p->caller_waits = 0;
  pthread_mutex_unlock(&p->mu);
}

ffqrt_pool *ffqrt_pool_new(size_t nthreads) {
  if (nthreads == 0 || nthreads > FFQRT_MAX_THREADS) return NULL;
  ffqrt_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->nworkers = nthreads - 1;
  p->threads = calloc(nthreads, sizeof *p->threads);
  p->slots = calloc(nthreads, sizeof *p->slots);
  int ok = p->threads && p->slots && pthread_mutex_init(&p->mu, NULL) == 0;
  ok = ok && pthread_mutex_init(&p->busy, NULL) == 0 && pthread_cond_init(&p->start, NULL) == 0;
  ok = ok && pthread_cond_init(&p->done, NULL) == 0;
  if (!ok) {
    free(p->threads), free(p->slots), free(p);
    return NULL;
  }
  atomic_init(&p->gen, 0);
  atomic_init(&p->pending, 0);
  size_t started = 0;
  for (; started < p->nworkers; started++) {
    p->slots[started] = (slot){p, started + 1};
    if (pthread_create(&p->threads[started], NULL, worker, &p->slots[started]) != 0) break;
  }
  if (started < p->nworkers) {
    p->nworkers = started;
    ffqrt_pool_free(p);
    return NULL;
  }
  return p;
}

void ffqrt_pool_free(ffqrt_pool *p) {
  if (!p) return;
  if (p->nworkers) {
    publish(p, NULL, NULL, 0, 1);
    for (size_t i = 0; i < p->nworkers; i++) pthread_join(p->threads[i], NULL);
  }
  pthread_mutex_destroy(&p->mu);
  pthread_mutex_destroy(&p->busy);
  pthread_cond_destroy(&p->start);
  pthread_cond_destroy(&p->done);
  free(p->threads), free(p->slots), free(p);
}

size_t ffqrt_pool_size(const ffqrt_pool *p) { return p ? p->nworkers + 1 : 1; }

void ffqrt_parallel(ffqrt_pool *p, size_t nthreads, ffqrt_task_fn fn, void *arg) {
  size_t nt = nthreads ? nthreads : 1;
  assert(nt <= ffqrt_pool_size(p));
  if (nt == 1 || pthread_mutex_trylock(&p->busy) != 0) {
    for (size_t t = 0; t < nt; t++) fn(arg, t, nt);
    return;
  }
  publish(p, fn, arg, nt, 0);
  fn(arg, 0, nt);
  wait_done(p);
  pthread_mutex_unlock(&p->busy);
}

void ffqrt_split(size_t n, size_t align, size_t tid, size_t nthreads, size_t *begin,
                 size_t *end) {
  assert(align > 0 && tid < nthreads);
  size_t units = (n + align - 1) / align;
  size_t b = units * tid / nthreads * align, e = units * (tid + 1) / nthreads * align;
  *begin = b < n ? b : n;
  *end = e < n ? e : n;
}
