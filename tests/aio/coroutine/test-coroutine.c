/*
 * test-coroutine: the coroutine core in one thread: create / enter / yield
 * / terminate, nesting, self and in-coroutine, 1,000,000 lifecycles without
 * RSS growth (pooled; and 10,000 unpooled, each mapping and unmapping its
 * stack), stack sizes,
 * and a stack overflow faulting on the guard page (in a child process).
 */
#include "aioctx/coroutine.h"
#include "tap.h"
#include "co-test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


/* ---------------------------------------------------------------------- */

typedef struct Steps {
    int step;
    int order[8];
    int n;
} Steps;

static void record(Steps *s, int what)
{
    s->order[s->n++] = what;
}

static void yield_twice(void *opaque)
{
    Steps *s = opaque;
    record(s, 1);
    aio_coroutine_yield();
    record(s, 2);
    aio_coroutine_yield();
    record(s, 3);
}

static void test_enter_yield_terminate(void)
{
    Steps s = { 0 };
    Coroutine *co = aio_coroutine_create(yield_twice, &s);

    aio_coroutine_enter(co);
    record(&s, 10);
    aio_coroutine_enter(co);
    record(&s, 20);
    aio_coroutine_enter(co);    /* runs to the end: terminates */
    int want[] = { 1, 10, 2, 20, 3 };
    ok(s.n == 5 && memcmp(s.order, want, sizeof(want)) == 0,
       "enter runs to the yield, the next enter resumes after it, the last "
       "runs to the end");
}

/* ---------------------------------------------------------------------- */

typedef struct Nest {
    Steps steps;
    Coroutine *inner;
    Coroutine *outer_self, *inner_self;
} Nest;

static void nest_inner(void *opaque)
{
    Nest *n = opaque;
    n->inner_self = aio_coroutine_self();
    record(&n->steps, 2);
    aio_coroutine_yield();
    record(&n->steps, 4);
}

static void nest_outer(void *opaque)
{
    Nest *n = opaque;
    n->outer_self = aio_coroutine_self();
    record(&n->steps, 1);
    n->inner = aio_coroutine_create(nest_inner, n);
    aio_coroutine_enter(n->inner);      /* B yields back to A */
    record(&n->steps, 3);
    aio_coroutine_enter(n->inner);      /* B terminates, back to A */
    record(&n->steps, 5);
}

static void test_nesting(void)
{
    Nest n;
    memset(&n, 0, sizeof(n));
    Coroutine *outer = aio_coroutine_create(nest_outer, &n);

    aio_coroutine_enter(outer);
    int want[] = { 1, 2, 3, 4, 5 };
    ok(n.steps.n == 5 && memcmp(n.steps.order, want, sizeof(want)) == 0,
       "A enters B, B's yield returns to A, A resumes B to its end");
    ok(n.outer_self == outer && n.inner_self == n.inner,
       "aio_coroutine_self names the running coroutine at each level");
}

/* ---------------------------------------------------------------------- */

static void note_in_coroutine(void *opaque)
{
    *(bool *)opaque = aio_in_coroutine();
}

static void test_in_coroutine(void)
{
    bool inside = false;

    aio_coroutine_enter(aio_coroutine_create(note_in_coroutine, &inside));
    ok(inside && !aio_in_coroutine() && aio_coroutine_self() == NULL,
       "aio_in_coroutine is true inside a coroutine only");
}

/* ---------------------------------------------------------------------- */

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) {
            resident = 0;
        }
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void count_up(void *opaque)
{
    (*(long *)opaque)++;
}

static void run_lifecycles(long n, long *count)
{
    for (long i = 0; i < n; i++) {
        aio_coroutine_enter(aio_coroutine_create(count_up, count));
    }
}

static void test_lifecycles_pooled_rss(void)
{
    /* 200,000 under sanitizers: still far more than a leak could hide in
     * (a leaked page each would be 800 MiB). */
    long n = co_test_scaled(1000000, 5), warm = n / 4, count = 0;

    /* Warm the pool, the allocator and ThreadSanitizer's own bookkeeping
     * (it grows by ~4 MiB over the first 50,000 fiber switches). */
    run_lifecycles(warm, &count);
    long before = rss_kib();
    run_lifecycles(n, &count);
    long grown = rss_kib() - before;
    ok(count == n + warm && grown < 2048,
       "%ld pooled create+enter+terminate cycles all ran, RSS grew %ld KiB "
       "(< 2 MiB)", n, grown);
}

static void test_lifecycles_unpooled_rss(void)
{
    /* Each costs ~100 us here; 200 under sanitizers. */
    long n = co_test_scaled(10000, 50), count = 0;

    aio_coroutine_set_pool_max(0);
    run_lifecycles(100, &count);
    long before = rss_kib();
    run_lifecycles(n, &count);
    long grown = rss_kib() - before;
    aio_coroutine_set_pool_max(AIO_COROUTINE_POOL_MAX);
    ok(count == n + 100 && grown < 2048,
       "%ld unpooled cycles (stack mapped and unmapped each time) all ran, "
       "RSS grew %ld KiB (< 2 MiB)", n, grown);
}

/* ---------------------------------------------------------------------- */

/* Touch @kib KiB of stack, one page at a time, from inside a frame. */
static __attribute__((noinline)) long touch_stack(int kib)
{
    volatile char frame[1024];
    frame[0] = (char)kib;
    frame[sizeof(frame) - 1] = 1;
    if (kib <= 1) {
        return frame[0] + frame[sizeof(frame) - 1];
    }
    return touch_stack(kib - 1) + frame[0];
}

typedef struct Touch {
    int kib;
    long sum;
} Touch;

static void touch_entry(void *opaque)
{
    Touch *t = opaque;
    t->sum = touch_stack(t->kib);
}

static void test_stack_size_is_usable(void)
{
    /* 128 KiB of frames (more with sanitizer redzones) in a 256 KiB stack. */
    Touch t = { .kib = 128 };
    aio_coroutine_enter(aio_coroutine_create_full(touch_entry, &t, 256 << 10));
    ok(t.sum > 0, "a coroutine created with a 256 KiB stack can use 128 KiB "
       "of it");
}

static void overflow_entry(void *opaque)
{
    Touch *t = opaque;
    t->sum = touch_stack(1 << 20);      /* 1 GiB of frames: overflows */
}

static void test_guard_page_faults(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* The kernel's default action, not a sanitizer's report: the
         * fault itself is what this checks. */
        signal(SIGSEGV, SIG_DFL);
        Touch t = { 0 };
        aio_coroutine_enter(aio_coroutine_create_full(overflow_entry, &t,
                                                      64 << 10));
        _exit(0);   /* reached only if the overflow went unnoticed */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
       "overflowing a 64 KiB coroutine stack dies with SIGSEGV on the guard "
       "page (status %#x)", status);
}

int main(void)
{
    test_enter_yield_terminate();
    test_nesting();
    test_in_coroutine();
    test_lifecycles_pooled_rss();
    test_lifecycles_unpooled_rss();
    test_stack_size_is_usable();
    test_guard_page_faults();
    return done_testing();
}
