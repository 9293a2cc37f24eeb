#include "sppack/parallel.h"

#include <pthread.h>
#include <unistd.h>

struct shared {
    sp_parallel_fn fn;
    void *ctx;
    size_t n;
    size_t next; /* the next index to claim, atomically */
};

struct worker {
    struct shared *s;
    int id;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&w->s->next, 1, __ATOMIC_RELAXED);
        if (i >= w->s->n)
            return NULL;
        w->s->fn(w->s->ctx, w->id, i);
    }
}

void sp_parallel_for(size_t n, int jobs, sp_parallel_fn fn, void *ctx)
{
    if (jobs > SP_MAX_THREADS)
        jobs = SP_MAX_THREADS;
    if ((size_t)jobs > n)
        jobs = (int)n;
    if (jobs < 1)
        jobs = 1;
    struct shared s = {fn, ctx, n, 0};
    struct worker w[SP_MAX_THREADS];
    pthread_t ids[SP_MAX_THREADS];
    int started = 0;
    for (int i = 1; i < jobs; i++) {
        w[started + 1] = (struct worker){&s, started + 1};
        if (pthread_create(&ids[started], NULL, work, &w[started + 1]) == 0)
            started++;
    }
    w[0] = (struct worker){&s, 0};
    work(&w[0]);
    for (int i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
}

int sp_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > SP_MAX_THREADS ? SP_MAX_THREADS : (int)n;
}
