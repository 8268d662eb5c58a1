// threads.c: a pool of workers owned by the context, for ffqrt_parallel_for.
//
// One 64-bit atomic word `state` carries the current generation (high 32 bits), a closed
// flag and the number of workers inside the current job (low bits). A call writes the job
// (fn, arg, units, the unit counter), then publishes a new generation with count 0
// (release) and wakes sleeping workers. A worker enters a job by incrementing the count
// with a CAS that also checks the generation and that the job is not closed; it then takes
// units until none are left and decrements the count. The caller takes units too; when
// they run out it sets the closed flag (so late workers stay out) and waits until the
// count drops to 0. The job lives on the caller's stack only as long as someone is inside.
// Waiting spins briefly and then sleeps on a condition variable, so an idle pool costs no
// CPU on a shared machine.
//
// A pool can instead hand its jobs to an OpenMP runtime that the process has loaded already
// (torch's): ffqrt_pool_use_openmp looks up that runtime's GOMP_parallel, the entry point
// GCC compiles `#pragma omp parallel` to, which LLVM's and Intel's runtimes provide too.
// The runtime's threads keep spinning for a while after each of torch's parallel regions;
// work handed to our own workers then competes with them for the cores, while work handed
// to them starts at once on threads that are already running. The same unit counter
// shares the work, so a thread that starts late takes fewer units.
#include "threads.h"

#include <assert.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { SPIN = 2000 };  // polls before sleeping (a few microseconds)

#define CLOSED     ((uint64_t)1 << 31)
#define COUNT_MASK (CLOSED - 1)
#define GEN_OF(s)  ((s) >> 32)

typedef struct job {
    ffqrt_unit_fn fn;
    void *arg;
    size_t units;
    atomic_size_t next;
} job;

typedef struct slot {
    struct ffqrt_pool *p;
} slot;

struct ffqrt_pool {
    pthread_mutex_t mu;  // guards the sleeping paths, `sleepers`, `caller_waits`
    pthread_cond_t wake, done;
    pthread_mutex_t busy;  // held by the call using the workers
    atomic_uint_fast64_t state;
    atomic_size_t limit;  // workers allowed into the current job (nthreads - 1)
    job *current;         // written before the generation is published
    int stop;
    size_t sleepers;
    int caller_waits;
    size_t nworkers;
    pthread_t *threads;
    slot *slots;
    _Atomic(ffqrt_gomp_parallel_fn) omp;   // set by ffqrt_pool_use_openmp, or NULL
    atomic_uint_fast64_t omp_pause_until;  // CLOCK_MONOTONIC ns: the pool's threads until then
    atomic_uint_fast64_t omp_pause_ns;     // the length of the next pause (0: none yet)
    pid_t owner;                           // the process that started the workers
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Threads do not survive a fork, and GNU libgomp is not usable in a child forked after its
// threads ran (its parallel regions wait for threads the child does not have). In a forked
// child every call runs on the calling thread: no OpenMP hand-off, and no pool state
// (locks, counters) inherited mid-use from the parent is touched.
static atomic_int forked_child;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void) { atomic_store_explicit(&forked_child, 1, memory_order_relaxed); }

static void register_atfork(void) { pthread_atfork(NULL, NULL, on_fork_child); }

static void run_units(job *j) {
    for (;;) {
        size_t u = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (u >= j->units) return;
        j->fn(j->arg, u);
    }
}

// Waits for a generation other than `seen`; returns the state.
static uint64_t wait_gen(ffqrt_pool *p, uint64_t seen) {
    for (int i = 0; i < SPIN; i++) {
        uint64_t s = atomic_load_explicit(&p->state, memory_order_acquire);
        if (GEN_OF(s) != seen) return s;
        cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    uint64_t s;
    while (GEN_OF(s = atomic_load_explicit(&p->state, memory_order_acquire)) == seen) {
        p->sleepers++;
        pthread_cond_wait(&p->wake, &p->mu);
        p->sleepers--;
    }
    pthread_mutex_unlock(&p->mu);
    return s;
}

static void *worker(void *arg) {
    ffqrt_pool *p = ((slot *)arg)->p;
    uint64_t seen = 0;
    for (;;) {
        uint64_t s = wait_gen(p, seen);
        seen = GEN_OF(s);
        // enter, unless the job is closed or already replaced by a newer one
        int in = 0;
        size_t limit = atomic_load_explicit(&p->limit, memory_order_relaxed);
        while (GEN_OF(s) == seen && !(s & CLOSED) && (s & COUNT_MASK) < limit) {
            if (atomic_compare_exchange_weak_explicit(&p->state, &s, s + 1, memory_order_acquire,
                                                      memory_order_acquire)) {
                in = 1;
                break;
            }
        }
        if (!in) continue;
        if (p->stop) return NULL;  // (stop is published with its own generation)
        run_units(p->current);
        uint64_t before = atomic_fetch_sub_explicit(&p->state, 1, memory_order_acq_rel);
        if ((before & CLOSED) && (before & COUNT_MASK) == 1) {  // the last one out of a closed job
            pthread_mutex_lock(&p->mu);
            if (p->caller_waits) pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

// Publishes job j (or, with stop, the order to exit) as the next generation.
static void publish(ffqrt_pool *p, job *j, size_t workers, int stop) {
    pthread_mutex_lock(&p->mu);
    p->current = j;
    p->stop = stop;
    atomic_store_explicit(&p->limit, workers, memory_order_relaxed);
    uint64_t gen = GEN_OF(atomic_load_explicit(&p->state, memory_order_relaxed)) + 1;
    atomic_store_explicit(&p->state, (gen & 0xffffffffu) << 32, memory_order_release);
    if (p->sleepers) pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
}

// Closes the current job and waits until no worker is inside.
static void close_and_wait(ffqrt_pool *p) {
    uint64_t s = atomic_fetch_or_explicit(&p->state, CLOSED, memory_order_acq_rel) | CLOSED;
    for (int i = 0; i < SPIN && (s & COUNT_MASK); i++) {
        cpu_relax();
        s = atomic_load_explicit(&p->state, memory_order_acquire);
    }
    if (!(s & COUNT_MASK)) return;
    pthread_mutex_lock(&p->mu);
    while (atomic_load_explicit(&p->state, memory_order_acquire) & COUNT_MASK) {
        p->caller_waits = 1;
        pthread_cond_wait(&p->done, &p->mu);
    }
    p->caller_waits = 0;
    pthread_mutex_unlock(&p->mu);
}

ffqrt_pool *ffqrt_pool_new(size_t nthreads) {
    if (nthreads == 0 || nthreads > FFQRT_MAX_THREADS) return NULL;
    pthread_once(&atfork_once, register_atfork);
    ffqrt_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = calloc(nthreads, sizeof *p->threads);
    p->slots = calloc(nthreads, sizeof *p->slots);
    int ok = p->threads && p->slots && pthread_mutex_init(&p->mu, NULL) == 0;
    ok = ok && pthread_mutex_init(&p->busy, NULL) == 0 && pthread_cond_init(&p->wake, NULL) == 0;
    ok = ok && pthread_cond_init(&p->done, NULL) == 0;
    if (!ok) {
        free(p->threads), free(p->slots), free(p);
        return NULL;
    }
    atomic_init(&p->state, 0);
    atomic_init(&p->limit, 0);
    atomic_init(&p->omp, (ffqrt_gomp_parallel_fn)NULL);
    atomic_init(&p->omp_pause_until, 0);
    atomic_init(&p->omp_pause_ns, 0);
    p->owner = getpid();
    for (; p->nworkers < nthreads - 1; p->nworkers++) {
        p->slots[p->nworkers].p = p;
        if (pthread_create(&p->threads[p->nworkers], NULL, worker, &p->slots[p->nworkers]) != 0) {
            ffqrt_pool_free(p);
            return NULL;
        }
    }
    return p;
}

// Stopping: every worker must see the stop generation, so the caller waits until each has
// entered it (stop jobs are never closed early) and then joins them.
void ffqrt_pool_free(ffqrt_pool *p) {
    if (!p) return;
    if (p->owner != getpid()) {  // a copy made by fork: its workers live in the parent only
        free(p->threads), free(p->slots), free(p);
        return;
    }
    if (p->nworkers) {
        job none = {NULL, NULL, 0, 0};
        publish(p, &none, p->nworkers, 1);
        for (size_t i = 0; i < p->nworkers; i++) pthread_join(p->threads[i], NULL);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->busy);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads), free(p->slots), free(p);
}

size_t ffqrt_pool_size(const ffqrt_pool *p) { return p ? p->nworkers + 1 : 1; }

// The OpenMP hand-off backs off while the machine is oversubscribed. An OpenMP thread that
// spun while other processes wanted the CPU has used up its share and waits for a time
// slice before it can start (milliseconds), and GOMP_parallel returns only when every
// thread of the team has been through the job, started late or not. So each call notes
// when the last team thread started; when that was more than LATE_NS after the call began,
// the pool's own threads (which sleep when idle, are woken promptly, and are never waited
// for before they start) take the calls for a while: PAUSE_MIN_NS after a first late start,
// twice the last pause after each further one (up to PAUSE_MAX_NS), halving again with each
// call whose team starts on time. A machine that stays oversubscribed so ends up on the
// pool nearly all the time, while one late start on a quiet machine (a virtual CPU held
// up by its host) costs a few milliseconds on the pool, where the calls compete with the
// host's spinning OpenMP threads.
enum { LATE_NS = 1000000 };
#define PAUSE_MIN_NS 8000000u
#define PAUSE_MAX_NS 256000000u

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

typedef struct omp_job {
    job j;
    atomic_uint_fast64_t last_start;
} omp_job;

static void omp_body(void *arg) {
    omp_job *o = arg;
    uint64_t t = now_ns(), seen = atomic_load_explicit(&o->last_start, memory_order_relaxed);
    while (t > seen && !atomic_compare_exchange_weak_explicit(&o->last_start, &seen, t, memory_order_relaxed,
                                                              memory_order_relaxed)) {
    }
    run_units(&o->j);
}

int ffqrt_pool_use_openmp(ffqrt_pool *p, const char *library) {
    if (!p) return 0;
    pthread_once(&atfork_once, register_atfork);
    ffqrt_gomp_parallel_fn fn = NULL;
    if (library) {
        // RTLD_NOLOAD: only a runtime that is loaded already; the reference is dropped at
        // once (the process keeps it loaded for the library that loaded it).
        void *h = dlopen(library, RTLD_NOW | RTLD_NOLOAD);
        if (!h) return 0;
        *(void **)&fn = dlsym(h, "GOMP_parallel");
        dlclose(h);
        if (!fn) return 0;
    }
    atomic_store_explicit(&p->omp, fn, memory_order_release);
    return 1;
}

int ffqrt_pool_uses_openmp(const ffqrt_pool *p) {
    return p && atomic_load_explicit(&p->omp, memory_order_acquire) != NULL;
}

void ffqrt_parallel_for(ffqrt_pool *p, size_t nthreads, size_t units, ffqrt_unit_fn fn, void *arg) {
    job j = {fn, arg, units, 0};
    if (atomic_load_explicit(&forked_child, memory_order_relaxed)) {
        run_units(&j);
        return;
    }
    ffqrt_gomp_parallel_fn omp = p ? atomic_load_explicit(&p->omp, memory_order_acquire) : NULL;
    if (omp && nthreads > 1 && units > 1) {
        uint64_t t0 = now_ns();
        if (t0 >= atomic_load_explicit(&p->omp_pause_until, memory_order_relaxed)) {
            size_t team = nthreads < units ? nthreads : units;
            omp_job o = {{fn, arg, units, 0}, 0};
            atomic_init(&o.last_start, t0);
            omp(omp_body, &o, (unsigned)team, 0);
            uint64_t pause = atomic_load_explicit(&p->omp_pause_ns, memory_order_relaxed);
            if (atomic_load_explicit(&o.last_start, memory_order_relaxed) - t0 > LATE_NS) {
                pause = pause < PAUSE_MIN_NS        ? PAUSE_MIN_NS
                        : pause >= PAUSE_MAX_NS / 2 ? PAUSE_MAX_NS
                                                    : 2 * pause;
                atomic_store_explicit(&p->omp_pause_ns, pause, memory_order_relaxed);
                atomic_store_explicit(&p->omp_pause_until, now_ns() + pause, memory_order_relaxed);
            } else if (pause) {
                atomic_store_explicit(&p->omp_pause_ns, pause / 2, memory_order_relaxed);
            }
            return;
        }
    }
    if (nthreads <= 1 || units <= 1 || !p || p->nworkers == 0 || pthread_mutex_trylock(&p->busy) != 0) {
        run_units(&j);
        return;
    }
    size_t workers = nthreads - 1 < p->nworkers ? nthreads - 1 : p->nworkers;
    publish(p, &j, workers, 0);
    run_units(&j);
    close_and_wait(p);
    pthread_mutex_unlock(&p->busy);
}

typedef struct parts_arg {
    ffqrt_task_fn fn;
    void *arg;
    size_t parts;
} parts_arg;

static void run_part(void *arg, size_t u) {
    const parts_arg *a = arg;
    a->fn(a->arg, u, a->parts);
}

void ffqrt_parallel_parts(ffqrt_pool *p, size_t nthreads, size_t parts, ffqrt_task_fn fn, void *arg) {
    parts_arg a = {fn, arg, parts};
    ffqrt_parallel_for(p, nthreads, parts, run_part, &a);
}

void ffqrt_split(size_t n, size_t align, size_t part, size_t parts, size_t *begin, size_t *end) {
    assert(align > 0 && part < parts);
    size_t units = (n + align - 1) / align;
    size_t b = units * part / parts * align, e = units * (part + 1) / parts * align;
    *begin = b < n ? b : n;
    *end = e < n ? e : n;
}
