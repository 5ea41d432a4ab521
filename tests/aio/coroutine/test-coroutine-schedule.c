/*
 * test-coroutine-schedule: coroutines across contexts and threads:
 * aio_co_schedule from 4 threads into one context, aio_co_reschedule_self
 * ping-pong between two iothreads, aio_co_wake from a thread-pool worker,
 * aio_co_enter's three rules, scheduling twice stopping the program (in a
 * child), and what a context's finalization does to coroutines scheduled or
 * sleeping in it.  Run once per fd backend (AIO_FDMON).
 */
#include "aioctx/coroutine.h"
#include "aio-test.h"
#include "co-test.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>


static AioContext *ctx;     /* driven by the main thread */

/* ---------------------------------------------------------------------- */
/* Scheduling twice: a programming error, stops naming the first caller    */

static void never_runs(void *opaque)
{
}

static void schedule_first_here(Coroutine *co)
{
    aio_co_schedule(ctx, co);
}

static void schedule_again(Coroutine *co)
{
    aio_co_schedule(ctx, co);
}

static void test_double_schedule_aborts_naming_first(void)
{
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        abort();
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 2);
        Coroutine *co = aio_coroutine_create(never_runs, NULL);
        schedule_first_here(co);
        schedule_again(co);
        _exit(0);
    }
    close(pipefd[1]);
    char msg[512] = "";
    ssize_t n, len = 0;
    while ((n = read(pipefd[0], msg + len, sizeof(msg) - 1 - len)) > 0) {
        len += n;
    }
    while (len > 0 && msg[len - 1] == '\n') {
        len--;              /* one TAP line */
    }
    msg[len] = '\0';
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
       strstr(msg, "schedule_again") && strstr(msg, "first by schedule_first_here"),
       "scheduling a scheduled coroutine aborts naming both schedulers "
       "(status %#x, stderr: %s)", status, msg);
}

/* ---------------------------------------------------------------------- */
/* aio_co_schedule from 4 threads                                          */

#define SCHED_THREADS 4

typedef struct SchedLog {
    int runs[SCHED_THREADS][1000];      /* times each coroutine ran */
    int last_seq[SCHED_THREADS];        /* home thread only */
    int out_of_order;
    int wrong_thread;
    int total;
    pthread_t home;
} SchedLog;

typedef struct SchedJob {
    SchedLog *log;
    int thread, seq;
} SchedJob;

typedef struct Scheduler {
    pthread_t thread;
    SchedLog *log;
    int index, count;
    SchedJob *jobs;
} Scheduler;

static void sched_entry(void *opaque)
{
    SchedJob *j = opaque;
    SchedLog *log = j->log;

    log->runs[j->thread][j->seq]++;
    if (j->seq != log->last_seq[j->thread] + 1) {
        log->out_of_order++;
    }
    log->last_seq[j->thread] = j->seq;
    if (!pthread_equal(pthread_self(), log->home)) {
        log->wrong_thread++;
    }
    log->total++;
}

static void *scheduler_thread(void *opaque)
{
    Scheduler *s = opaque;
    for (int i = 0; i < s->count; i++) {
        s->jobs[i] = (SchedJob){ s->log, s->index, i };
        aio_co_schedule(ctx, aio_coroutine_create(sched_entry, &s->jobs[i]));
    }
    return NULL;
}

static void test_schedule_from_four_threads(void)
{
    static SchedLog log;
    Scheduler s[SCHED_THREADS];
    int per_thread = (int)co_test_scaled(1000, 10);   /* 100 under sanitizers */

    log.home = pthread_self();
    for (int t = 0; t < SCHED_THREADS; t++) {
        log.last_seq[t] = -1;
        s[t] = (Scheduler){ .log = &log, .index = t, .count = per_thread,
                            .jobs = g_new(SchedJob, per_thread) };
        pthread_create(&s[t].thread, NULL, scheduler_thread, &s[t]);
    }
    bool all = POLL_UNTIL(ctx, log.total == SCHED_THREADS * per_thread, 30000);
    for (int t = 0; t < SCHED_THREADS; t++) {
        pthread_join(s[t].thread, NULL);
    }
    aio_poll(ctx, false);
    int not_once = 0;
    for (int t = 0; t < SCHED_THREADS; t++) {
        for (int i = 0; i < per_thread; i++) {
            not_once += log.runs[t][i] != 1;
        }
        g_free(s[t].jobs);
    }
    ok(all && not_once == 0 && log.out_of_order == 0 && log.wrong_thread == 0,
       "%d coroutines scheduled from %d threads each ran once, in the home "
       "thread, in per-thread order (not once: %d, out of order: %d, wrong "
       "thread: %d)", SCHED_THREADS * per_thread, SCHED_THREADS, not_once,
       log.out_of_order, log.wrong_thread);
}

/* ---------------------------------------------------------------------- */
/* aio_co_reschedule_self ping-pong between two iothreads                  */

typedef struct IoThread {
    pthread_t thread;
    AioContext *ctx;
    atomic_bool stop;
} IoThread;

static void *iothread_run(void *opaque)
{
    IoThread *t = opaque;
    aio_set_current_context(t->ctx);
    while (!atomic_load(&t->stop)) {
        aio_poll(t->ctx, true);
    }
    return NULL;
}

static void iothread_start(IoThread *t)
{
    t->ctx = aio_context_new(NULL);
    atomic_init(&t->stop, false);
    pthread_create(&t->thread, NULL, iothread_run, t);
}

/* Both threads are joined before either context is freed: the last hop's
 * scheduler may still be inside aio_co_schedule on the other context. */
static void iothreads_stop(IoThread *a, IoThread *b)
{
    atomic_store(&a->stop, true);
    atomic_store(&b->stop, true);
    aio_notify(a->ctx);
    aio_notify(b->ctx);
    pthread_join(a->thread, NULL);
    pthread_join(b->thread, NULL);
    aio_context_unref(a->ctx);
    aio_context_unref(b->ctx);
}

typedef struct PingPong {
    IoThread *a, *b;
    int hops;
    int misplaced;              /* hops that did not land where asked */
    atomic_bool done;
} PingPong;

static void ping_pong_entry(void *opaque)
{
    PingPong *p = opaque;
    for (int i = 0; i < p->hops; i++) {
        IoThread *dest = (i & 1) ? p->a : p->b;
        aio_co_reschedule_self(dest->ctx);
        if (aio_get_current_context() != dest->ctx ||
            !pthread_equal(pthread_self(), dest->thread)) {
            p->misplaced++;
        }
    }
    atomic_store(&p->done, true);
}

static void test_reschedule_self_ping_pong(void)
{
    IoThread a, b;
    /* 10,000 hops under sanitizers. */
    PingPong p = { &a, &b, (int)co_test_scaled(100000, 10), 0, false };

    iothread_start(&a);
    iothread_start(&b);
    aio_co_schedule(a.ctx, aio_coroutine_create(ping_pong_entry, &p));
    int64_t deadline = aio_clock_get_ns(AIO_CLOCK_MONOTONIC) + 60 * 1000000000LL;
    while (!atomic_load(&p.done) && aio_clock_get_ns(AIO_CLOCK_MONOTONIC) < deadline) {
        g_usleep(1000);
    }
    bool done = atomic_load(&p.done);
    iothreads_stop(&a, &b);
    ok(done && p.misplaced == 0,
       "a coroutine moved itself between two iothreads %d times, each time "
       "continuing in the thread asked for (misplaced: %d)", p.hops,
       p.misplaced);
}

/* ---------------------------------------------------------------------- */
/* aio_co_wake from a thread-pool worker                                   */

typedef struct PoolWake {
    Coroutine *co;
    pthread_t home;
    bool resumed_home;
    bool resumed;
    bool job_done;
} PoolWake;

static int wake_from_worker(void *arg)
{
    PoolWake *w = arg;
    aio_co_wake(w->co);         /* any thread: schedules into the context */
    return 0;
}

static void pool_job_done(void *opaque, int ret)
{
    ((PoolWake *)opaque)->job_done = true;
}

static void pool_wake_entry(void *opaque)
{
    PoolWake *w = opaque;
    w->co = aio_coroutine_self();
    thread_pool_submit(aio_get_thread_pool(ctx), wake_from_worker, w,
                       pool_job_done, w);
    aio_coroutine_yield();
    w->resumed_home = pthread_equal(pthread_self(), w->home) &&
                      aio_get_current_context() == ctx;
    w->resumed = true;
}

static void test_wake_from_pool_worker(void)
{
    PoolWake w = { .home = pthread_self() };

    aio_coroutine_enter(aio_coroutine_create(pool_wake_entry, &w));
    bool resumed = POLL_UNTIL(ctx, w.resumed && w.job_done, 10000);
    ok(resumed && w.resumed_home,
       "aio_co_wake from a pool worker resumes the coroutine in its home "
       "context's thread");
}

/* ---------------------------------------------------------------------- */
/* aio_co_enter's rules                                                    */

typedef struct EnterRules {
    int order[4];
    int n;
    Coroutine *b;
} EnterRules;

static void rules_b(void *opaque)
{
    EnterRules *r = opaque;
    r->order[r->n++] = 3;
}

static void rules_a(void *opaque)
{
    EnterRules *r = opaque;
    r->order[r->n++] = 1;
    aio_co_enter(ctx, r->b);    /* queued: runs when A yields */
    r->order[r->n++] = 2;
}

static void test_enter_from_coroutine_queues(void)
{
    EnterRules r = { .n = 0 };
    r.b = aio_coroutine_create(rules_b, &r);

    aio_co_enter(ctx, aio_coroutine_create(rules_a, &r));
    ok(r.n == 3 && r.order[0] == 1 && r.order[1] == 2 && r.order[2] == 3,
       "aio_co_enter inside a coroutine of the context queues the other "
       "one until the running one yields (no nesting)");
}

static void mark_ran(void *opaque)
{
    (*(int *)opaque)++;
}

static void test_enter_other_context_schedules(void)
{
    AioContext *other = aio_context_new(NULL);
    int ran = 0;

    aio_co_enter(other, aio_coroutine_create(mark_ran, &ran));
    int before_poll = ran;
    while (aio_poll(other, false)) {
    }
    ok(before_poll == 0 && ran == 1,
       "aio_co_enter for another context schedules it there: it runs from "
       "that context's loop, not at once");
    aio_context_unref(other);
}

static void test_enter_outside_coroutine_runs_now(void)
{
    int ran = 0;
    aio_co_enter(ctx, aio_coroutine_create(mark_ran, &ran));
    ok(ran == 1, "aio_co_enter from outside any coroutine, in the context's "
       "thread, enters at once");
}

/* ---------------------------------------------------------------------- */
/* Finalization                                                            */

static void test_finalize_runs_scheduled(void)
{
    AioContext *dying = aio_context_new(NULL);
    int ran = 0;

    aio_co_schedule(dying, aio_coroutine_create(mark_ran, &ran));
    aio_context_unref(dying);
    ok(ran == 1, "a coroutine scheduled into a context finalized before it "
       "ran is entered by the finalization");
}

typedef struct Sleeper {
    AioContext *ctx;
    int ret;
    bool returned;
} Sleeper;

static void long_sleep_entry(void *opaque)
{
    Sleeper *s = opaque;
    s->ret = aio_co_sleep_ns(s->ctx, AIO_CLOCK_MONOTONIC, 3600 * 1000000000LL);
    s->returned = true;
}

static void test_finalize_cancels_sleepers(void)
{
    Sleeper s = { .ctx = aio_context_new(NULL) };

    aio_set_current_context(s.ctx);
    aio_coroutine_enter(aio_coroutine_create(long_sleep_entry, &s));
    aio_set_current_context(ctx);
    bool slept = !s.returned;
    aio_context_unref(s.ctx);
    ok(slept && s.returned && s.ret == -ECANCELED,
       "a coroutine sleeping in a finalized context is resumed, its "
       "aio_co_sleep_ns returning -ECANCELED (got %d)", s.ret);
}

int main(void)
{
    ctx = test_context_new();
    aio_set_current_context(ctx);

    test_double_schedule_aborts_naming_first();
    test_schedule_from_four_threads();
    test_reschedule_self_ping_pong();
    test_wake_from_pool_worker();
    test_enter_from_coroutine_queues();
    test_enter_other_context_schedules();
    test_enter_outside_coroutine_runs_now();
    test_finalize_runs_scheduled();
    test_finalize_cancels_sleepers();

    aio_context_unref(ctx);
    return done_testing();
}
