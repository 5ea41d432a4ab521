/*
 * Coroutine core: stacks (mmap + guard page), the per-thread pool, the
 * switch (x86_64 assembly, or ucontext + sigsetjmp elsewhere), sanitizer
 * annotations, and create / enter / yield.  Why the switch is what it is:
 * see coroutine.h.
 *
 * Thread state (CoThread) is thread-local and reached only through
 * co_thread(), a function the optimizer cannot see through: a coroutine
 * that resumed in another thread must not use a thread-local address
 * computed before it yielded.
 */
#include "coroutine/coroutine-internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef __has_feature
#if __has_feature(address_sanitizer)
#define CO_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define CO_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(CO_ASAN)
#define CO_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(CO_TSAN)
#define CO_TSAN 1
#endif
#ifdef CO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef CO_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#if (defined(CO_ASAN) || defined(CO_TSAN)) && !defined(AIO_COROUTINE_ASM_SWITCH)
#error "sanitizer annotations are implemented for the x86_64 switch only"
#endif

typedef struct CoThread {
    Coroutine leader;           /* the thread's own stack */
    Coroutine *current;         /* running coroutine; &leader outside any */
    Coroutine *switched_from;   /* who switched to the running one */
    Coroutine *pool;            /* terminated default-size coroutines */
    unsigned pool_size;
    unsigned pool_max;
    bool initialized;
#ifndef AIO_COROUTINE_ASM_SWITCH
    Coroutine *creating;        /* handed to co_uc_start */
    sigjmp_buf *creator_env;
#endif
} CoThread;

static __thread CoThread co_thread_state;
static pthread_key_t co_thread_key;
static pthread_once_t co_thread_key_once = PTHREAD_ONCE_INIT;

static void co_unmap(Coroutine *co);

/* Thread exit: free the pool (the key's destructor). */
static void co_thread_exit(void *opaque)
{
    CoThread *t = opaque;
    Coroutine *co;

    while ((co = t->pool)) {
        t->pool = co->pool_next;
        co_unmap(co);
    }
    t->pool_size = 0;
}

static void co_thread_key_create(void)
{
    if (pthread_key_create(&co_thread_key, co_thread_exit) != 0) {
        co_die("coroutine: pthread_key_create failed");
    }
}

static void co_thread_init(CoThread *t)
{
    t->current = &t->leader;
    t->pool_max = AIO_COROUTINE_POOL_MAX;
#ifdef CO_TSAN
    t->leader.tsan_fiber = __tsan_get_current_fiber();
#endif
    pthread_once(&co_thread_key_once, co_thread_key_create);
    pthread_setspecific(co_thread_key, t);
    t->initialized = true;
}

/* The calling thread's state, its address computed afresh at each call. */
static __attribute__((noinline, noclone)) CoThread *co_thread(void)
{
    CoThread *t = &co_thread_state;
    __asm__ volatile("" : "+r"(t));
    if (!t->initialized) {
        co_thread_init(t);
    }
    return t;
}

/* ---------------------------------------------------------------------- */
/* Sanitizer annotations                                                   */

static inline void co_asan_start(Coroutine *from, Coroutine *to,
                                 CoAction action)
{
#ifdef CO_ASAN
    if (action == CO_ACTION_TERMINATE) {
        from->asan_fake_stack = NULL;   /* ASan frees it: leaving for good */
    }
    __sanitizer_start_switch_fiber(
        action == CO_ACTION_TERMINATE ? NULL : &from->asan_fake_stack,
        to->stack_bottom, to->stack_size);
#endif
}

/* In the coroutine that just got control: learn the stack we came from
 * (the only way to know a thread's own stack, for the switch back). */
static inline void co_asan_finish(Coroutine *self)
{
#ifdef CO_ASAN
    CoThread *t = co_thread();
    Coroutine *prev = t->switched_from;
    const void *bottom;
    size_t size;

    __sanitizer_finish_switch_fiber(self->asan_fake_stack, &bottom, &size);
    if (prev == &t->leader) {
        prev->stack_bottom = (void *)bottom;
        prev->stack_size = size;
    }
#else
    (void)self;
#endif
}

static inline void co_tsan_switch(Coroutine *to)
{
#ifdef CO_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#else
    (void)to;
#endif
}

/* ---------------------------------------------------------------------- */
/* The switch                                                              */

static void co_trampoline(void) __attribute__((noreturn, used));

#ifdef AIO_COROUTINE_ASM_SWITCH
/* co_arch_switch(&from->sp, to->sp): push the callee-saved registers, swap
 * stack pointers, pop the other side's registers, return into it. */
void co_arch_switch(void **save_sp, void *new_sp)
    __attribute__((visibility("hidden")));
__asm__(".text\n"
        ".globl co_arch_switch\n"
        ".hidden co_arch_switch\n"
        ".type co_arch_switch, @function\n"
        "co_arch_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size co_arch_switch, .-co_arch_switch\n");

/* A first frame that co_arch_switch "returns" into: six zero registers
 * (rbp 0 ends backtraces), co_trampoline as return address, and a zero
 * return address above it, so co_trampoline starts with the stack
 * alignment of a called function (rsp + 8 a multiple of 16). */
static void co_arch_prepare(Coroutine *co)
{
    uintptr_t top = ((uintptr_t)co->stack_bottom + co->stack_size) & ~(uintptr_t)15;
    void **sp = (void **)top;

    *--sp = NULL;
    *--sp = (void *)co_trampoline;
    for (int i = 0; i < 6; i++) {
        *--sp = NULL;
    }
    co->sp = sp;
}

static inline void co_arch_switch_to(Coroutine *from, Coroutine *to)
{
    co_arch_switch(&from->sp, to->sp);
}
#else
/* makecontext builds the first frame; co_uc_start saves it in co->env and
 * jumps back to the creator; every later switch is a sigsetjmp/siglongjmp
 * pair that leaves the signal mask alone (no syscall). */
static void co_uc_start(void)
{
    CoThread *t = co_thread();
    Coroutine *self = t->creating;

    if (!sigsetjmp(self->env, 0)) {
        siglongjmp(*t->creator_env, 1);
    }
    co_trampoline();
}

static void co_arch_prepare(Coroutine *co)
{
    CoThread *t = co_thread();
    ucontext_t uc, old_uc;
    sigjmp_buf old_env;

    if (getcontext(&uc) != 0) {
        co_die("coroutine: getcontext failed: %s", strerror(errno));
    }
    uc.uc_link = NULL;
    uc.uc_stack.ss_sp = co->stack_bottom;
    uc.uc_stack.ss_size = co->stack_size;
    uc.uc_stack.ss_flags = 0;
    makecontext(&uc, co_uc_start, 0);
    t->creating = co;
    t->creator_env = &old_env;
    if (!sigsetjmp(old_env, 0)) {
        swapcontext(&old_uc, &uc);
    }
}

static inline void co_arch_switch_to(Coroutine *from, Coroutine *to)
{
    if (!sigsetjmp(from->env, 0)) {
        siglongjmp(to->env, 1);
    }
}
#endif

/* Switch from the running coroutine @from to @to; returns when something
 * switches back to @from.  @action says why @from leaves. */
static void co_switch(Coroutine *from, Coroutine *to, CoAction action)
{
    CoThread *t = co_thread();

    from->action = action;
    t->current = to;
    t->switched_from = from;
    co_asan_start(from, to, action);
    co_tsan_switch(to);
    co_arch_switch_to(from, to);
    co_asan_finish(from);
}

/* Every coroutine's bottom frame.  A pooled coroutine is parked in the
 * terminating co_switch and reused by the next entry. */
static void co_trampoline(void)
{
    Coroutine *self = co_thread()->current;

    co_asan_finish(self);
    for (;;) {
        self->entry(self->entry_arg);
        co_switch(self, self->caller, CO_ACTION_TERMINATE);
    }
}

/* ---------------------------------------------------------------------- */
/* Stacks and the pool                                                     */

static size_t co_page_size(void)
{
    /* Any thread may be first: every one stores the same value. */
    static _Atomic size_t page;
    size_t p = atomic_load_explicit(&page, memory_order_relaxed);
    if (!p) {
        p = (size_t)sysconf(_SC_PAGESIZE);
        atomic_store_explicit(&page, p, memory_order_relaxed);
    }
    return p;
}

static size_t co_round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* The usable stack size a request gets. */
static size_t co_stack_size(size_t requested)
{
    if (requested == 0) {
        requested = AIO_COROUTINE_STACK_SIZE;
    } else if (requested < AIO_COROUTINE_MIN_STACK_SIZE) {
        requested = AIO_COROUTINE_MIN_STACK_SIZE;
    }
    return co_round_up(requested, co_page_size());
}

/* [guard page][stack ... | Coroutine]: the struct shares the stack's top
 * page, so a running coroutine touches one page less (its first frames are
 * just below it). */
static Coroutine *co_map(size_t stack_size)
{
    size_t page = co_page_size();
    size_t map_size = page + co_round_up(stack_size + sizeof(Coroutine), page);
    char *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                     -1, 0);

    if (map == MAP_FAILED) {
        co_die("aio_coroutine_create: cannot map a %zu-byte stack: %s",
               stack_size, strerror(errno));
    }
    if (mprotect(map, page, PROT_NONE) != 0) {
        co_die("aio_coroutine_create: cannot protect the guard page: %s",
               strerror(errno));
    }
    uintptr_t top = (uintptr_t)map + map_size - sizeof(Coroutine);
    Coroutine *co = (Coroutine *)(top & ~(uintptr_t)63);
    co->map = map;
    co->map_size = map_size;
    co->stack_bottom = map + page;
    co->stack_size = (size_t)((char *)co - (char *)co->stack_bottom);
#ifdef CO_TSAN
    co->tsan_fiber = __tsan_create_fiber(0);
#endif
    co_arch_prepare(co);
    return co;
}

static void co_unmap(Coroutine *co)
{
#ifdef CO_TSAN
    __tsan_destroy_fiber(co->tsan_fiber);
#endif
#ifdef CO_ASAN
    /* Frames left poisoned must not haunt the next mapping there. */
    ASAN_UNPOISON_MEMORY_REGION(co->stack_bottom, co->stack_size);
#endif
    munmap(co->map, co->map_size);
}

static Coroutine *co_pool_pop(CoThread *t)
{
    Coroutine *co = t->pool;
    if (co) {
        t->pool = co->pool_next;
        t->pool_size--;
    }
    return co;
}

/* A coroutine that terminated (it switched back for good). */
static void co_release(Coroutine *co)
{
    CoThread *t = co_thread();

    co->caller = NULL;
    if (co->pooled_size && t->pool_size < t->pool_max) {
        co->pool_next = t->pool;
        t->pool = co;
        t->pool_size++;
    } else {
        co_unmap(co);
    }
}

void aio_coroutine_set_pool_max(unsigned max)
{
    CoThread *t = co_thread();

    t->pool_max = max;
    while (t->pool_size > max) {
        co_unmap(co_pool_pop(t));
    }
}

/* ---------------------------------------------------------------------- */
/* Create, enter, yield                                                    */

Coroutine *aio_coroutine_create_named(CoroutineEntry *fn, void *opaque,
                                      size_t stack_size, const char *name)
{
    size_t size = co_stack_size(stack_size);
    bool pooled_size = size == co_stack_size(0);
    Coroutine *co = pooled_size ? co_pool_pop(co_thread()) : NULL;

    if (!co) {
        co = co_map(size);
        co->pooled_size = pooled_size;
    }
    co->entry = fn;
    co->entry_arg = opaque;
    co->name = name;
    co->call_entry = NULL;
    atomic_store_explicit(&co->ctx, NULL, memory_order_relaxed);
    return co;
}


static void co_check_enterable(Coroutine *co)
{
    const char *scheduled = atomic_load(&co->scheduled);

    if (scheduled) {
        co_die("aio_coroutine_enter: coroutine %p is scheduled (by %s): "
               "entering it too would run it twice", (void *)co, scheduled);
    }
    if (co->caller) {
        co_die("aio_coroutine_enter: coroutine %p is already running",
               (void *)co);
    }
}

/* After @co switched back to the entering side. */
static void co_switched_back(Coroutine *co)
{
    if (co->action == CO_ACTION_TERMINATE) {
        if (co->locks_held) {
            co_die("coroutine %p terminated holding %u CoMutex lock(s)",
                   (void *)co, co->locks_held);
        }
        co_release(co);
    } else if (co->move_to) {
        AioContext *dest = co->move_to;
        co->move_to = NULL;
        co_schedule_moved(co, dest);
    }
}

/* Enter @to until it switches back, accounted as one call of its name in
 * @ctx (none without a context). */
static void co_switch_accounted(AioContext *ctx, Coroutine *from,
                                Coroutine *to)
{
    AioCallFrame frame;
    bool begun = ctx && aio_call_begin(&ctx->calls, ctx->last_block_ns != 0,
                                       AIO_CALL_COROUTINE, to->name,
                                       &to->call_entry, &frame);

    co_switch(from, to, CO_ACTION_ENTER);
    if (ctx) {
        aio_call_end(&ctx->calls, begun, &frame);
    }
}

void co_enter_in(AioContext *ctx, Coroutine *co)
{
    Coroutine *from = co_thread()->current;
    CoList pending = { NULL, NULL };
    Coroutine *to;

    co_list_push(&pending, co);
    while ((to = co_list_pop(&pending))) {
        co_check_enterable(to);
        to->caller = from;
        atomic_store_explicit(&to->ctx, ctx, memory_order_release);
        co_switch_accounted(ctx, from, to);
        /* What it queued runs first, depth-first, as in QEMU. */
        co_list_prepend(&pending, &to->co_queue_wakeup);
        co_switched_back(to);
    }
}

void aio_coroutine_enter(Coroutine *co)
{
    co_enter_in(aio_get_current_context(), co);
}

void aio_coroutine_yield(void)
{
    Coroutine *self = co_thread()->current;
    Coroutine *to = self->caller;

    if (!to) {
        co_die("aio_coroutine_yield: called outside a coroutine");
    }
    self->caller = NULL;
    co_switch(self, to, CO_ACTION_YIELD);
}

Coroutine *aio_coroutine_self(void)
{
    CoThread *t = co_thread();
    return t->current == &t->leader ? NULL : t->current;
}

bool aio_in_coroutine(void)
{
    return aio_coroutine_self() != NULL;
}

Coroutine *co_self_or_die(const char *fn)
{
    Coroutine *self = aio_coroutine_self();
    if (!self) {
        co_die("%s: called outside a coroutine", fn);
    }
    return self;
}
