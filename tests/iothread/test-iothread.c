/*
 * Unit test of the IOThread and registry C API, without QMP: thread name
 * and tid, the property-name map, live changes applied
 * inside the iothread (and never seen torn), draining on delete, the
 * optional GMainContext, id rules, duplicates, paths.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "iothread.h"
#include "registry.h"
#include "aioctx/thread-pool.h"
#include "tap.h"

static char *thread_comm(pid_t tid)
{
    char *path = g_strdup_printf("/proc/self/task/%d/comm", (int)tid);
    char *text = NULL;
    g_file_get_contents(path, &text, NULL, NULL);
    g_free(path);
    if (text) {
        g_strchomp(text);
    }
    return text;
}

/* The wire-name map: every table name on an iothread, the main-loop
 * subset on main-loop, nothing else. */
static void test_param_names(void)
{
    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        const AioParamInfo *info = aio_param_info(id);
        ok(iothread_param_find(info->name, false) == info,
           "%s is an iothread property", info->name);
        ok((iothread_param_find(info->name, true) != NULL) == info->main_loop,
           "%s is %sa main-loop property", info->name,
           info->main_loop ? "" : "not ");
    }
    ok(!iothread_param_find("poll-max", false), "unknown name: no property");
    is_int(iothread_param_mask(false), AIO_PARAMS_ALL,
           "an iothread has all six");
    is_int(iothread_param_mask(true),
           AIO_PARAM_BIT(AIO_PARAM_AIO_MAX_BATCH) |
           AIO_PARAM_BIT(AIO_PARAM_THREAD_POOL_MIN) |
           AIO_PARAM_BIT(AIO_PARAM_THREAD_POOL_MAX),
           "main-loop has batch and pool sizes");
}

typedef struct InsideCheck {
    IOThread *t;
    bool in_context;
    pid_t tid;
    AioParams seen;
} InsideCheck;

static void inside_fn(void *opaque)
{
    InsideCheck *c = opaque;
    c->in_context = aio_get_current_context() == iothread_get_aio_context(c->t);
    c->tid = (pid_t)syscall(SYS_gettid);
    aio_context_get_params(iothread_get_aio_context(c->t), &c->seen);
}

static void test_lifecycle(void)
{
    GError *err = NULL;
    IOThread *t = iothread_new("io0", NULL, &err);
    AioParams p;

    if (!ok(t != NULL, "iothread_new with defaults")) {
        diag("%s", err ? err->message : "?");
        return;
    }
    pid_t tid = iothread_get_thread_id(t);
    ok(tid > 0 && tid != (pid_t)syscall(SYS_gettid), "thread-id is another tid");
    char *comm = thread_comm(tid);
    ok(comm && strcmp(comm, "IO io0") == 0, "thread named 'IO io0' (got %s)",
       comm ? comm : "?");
    g_free(comm);

    InsideCheck c = { .t = t };
    iothread_run_sync(t, inside_fn, &c);
    ok(c.in_context, "run_sync runs with the iothread's current context");
    is_int(c.tid, tid, "run_sync runs in the iothread (tid)");
    is_int(c.seen.poll_max_ns, 32768, "context poll-max-ns is the default");

    /* min/max swap: 0/64 -> 70/80 is only possible as one change. */
    AioParams change = { 0 };
    aio_params_set(&change, AIO_PARAM_THREAD_POOL_MIN, 70);
    aio_params_set(&change, AIO_PARAM_THREAD_POOL_MAX, 80);
    aio_params_set(&change, AIO_PARAM_POLL_MAX_NS, 1000);
    unsigned changed = 0;
    ok(iothread_set_params(t, &change, &changed, &err),
       "min 70 + max 80 together from 0/64");
    is_int(changed, change.mask, "changed mask names the three properties");
    iothread_get_params(t, &p);
    ok(p.thread_pool_min == 70 && p.thread_pool_max == 80 &&
       p.poll_max_ns == 1000, "values read back after the change");
    iothread_run_sync(t, inside_fn, &c);
    ok(c.seen.thread_pool_min == 70 && c.seen.thread_pool_max == 80 &&
       c.seen.poll_max_ns == 1000, "the context itself has the new values");

    /* Back down: max 5 alone would be below min 70. */
    AioParams down = { 0 };
    aio_params_set(&down, AIO_PARAM_THREAD_POOL_MAX, 5);
    ok(!iothread_set_params(t, &down, &changed, &err) && err &&
       strcmp(err->message, "bad thread-pool-min/thread-pool-max values") == 0,
       "max below the current min refused with QEMU's text");
    g_clear_error(&err);
    iothread_get_params(t, &p);
    ok(p.thread_pool_max == 80 && changed == 0, "nothing changed");
    aio_params_set(&down, AIO_PARAM_THREAD_POOL_MIN, 1);
    ok(iothread_set_params(t, &down, NULL, &err), "min 1 + max 5 together");
    iothread_get_params(t, &p);
    ok(p.thread_pool_min == 1 && p.thread_pool_max == 5, "now 1/5");

    iothread_free(t);
    comm = thread_comm(tid);
    ok(comm == NULL, "thread gone after iothread_free");
    g_free(comm);

    t = iothread_new("averyveryverylongid", NULL, NULL);
    comm = thread_comm(iothread_get_thread_id(t));
    ok(comm && strcmp(comm, "IO averyveryver") == 0,
       "long id truncated to 15 chars (got %s)", comm ? comm : "?");
    g_free(comm);
    iothread_free(t);

    AioParams bad = { 0 };
    aio_params_set(&bad, AIO_PARAM_THREAD_POOL_MIN, 65);
    ok(iothread_new("bad", &bad, &err) == NULL && err,
       "iothread_new refuses invalid parameters");
    g_clear_error(&err);
}

/* ---------------------------------------------------------------------- */

static atomic_int bh_runs;

static void count_bh(void *opaque)
{
    atomic_fetch_add(&bh_runs, 1);
}

static void test_drain(void)
{
    IOThread *t = iothread_new("drain", NULL, NULL);
    AioContext *ctx = iothread_get_aio_context(t);

    atomic_store(&bh_runs, 0);
    for (int i = 0; i < 1000; i++) {
        aio_bh_schedule_oneshot(ctx, count_bh, NULL);
    }
    iothread_free(t);
    is_int(atomic_load(&bh_runs), 1000, "BHs pending at delete all ran");
}

/* Thread-pool jobs still running or queued at delete finish normally and
 * their completions run in the iothread before it goes. */
static atomic_int jobs_done, jobs_ok;

static int sleepy_job(void *arg)
{
    g_usleep(30 * 1000);
    return 7;
}

static void job_done(void *opaque, int ret)
{
    atomic_fetch_add(&jobs_done, 1);
    if (ret == 7) {
        atomic_fetch_add(&jobs_ok, 1);
    }
}

static void submit_jobs(void *opaque)
{
    IOThread *t = opaque;
    ThreadPool *pool = aio_get_thread_pool(iothread_get_aio_context(t));
    for (int i = 0; i < 6; i++) {
        thread_pool_submit(pool, sleepy_job, NULL, job_done, NULL);
    }
}

static void test_drain_pool(void)
{
    AioParams p = { 0 };
    aio_params_set(&p, AIO_PARAM_THREAD_POOL_MAX, 2); /* some jobs queue */
    IOThread *t = iothread_new("pool", &p, NULL);

    atomic_store(&jobs_done, 0);
    atomic_store(&jobs_ok, 0);
    iothread_run_sync(t, submit_jobs, t);
    iothread_free(t);
    is_int(atomic_load(&jobs_done), 6, "every pool job completed at delete");
    is_int(atomic_load(&jobs_ok), 6, "none cancelled: all ran to the end");
}

/* A BH that keeps rescheduling itself checks min <= max on every run while
 * the main thread swaps between two valid sets whose halves conflict. */
typedef struct TornCheck {
    AioContext *ctx;
    AioBH *bh;
    atomic_bool stop;
    atomic_int runs;
    atomic_int torn;
} TornCheck;

static void torn_check_bh(void *opaque)
{
    TornCheck *tc = opaque;
    int64_t min, max;

    aio_context_get_thread_pool_params(tc->ctx, &min, &max);
    if (min > max) {
        atomic_fetch_add(&tc->torn, 1);
    }
    atomic_fetch_add(&tc->runs, 1);
    if (!atomic_load(&tc->stop)) {
        aio_bh_schedule(tc->bh);
    }
}

static void start_torn_check(void *opaque)
{
    TornCheck *tc = opaque;
    tc->bh = aio_bh_new(tc->ctx, torn_check_bh, tc);
    aio_bh_schedule(tc->bh);
}

static void stop_torn_check(void *opaque)
{
    TornCheck *tc = opaque;
    aio_bh_delete(tc->bh);
}

static void test_never_torn(void)
{
    IOThread *t = iothread_new("torn", NULL, NULL);
    TornCheck tc = { .ctx = iothread_get_aio_context(t) };
    bool all_ok = true;

    iothread_run_sync(t, start_torn_check, &tc);
    for (int i = 0; i < 400; i++) {
        AioParams c = { 0 };
        int64_t lo = (i & 1) ? 1 : 3, hi = (i & 1) ? 2 : 4;
        aio_params_set(&c, AIO_PARAM_THREAD_POOL_MIN, lo);
        aio_params_set(&c, AIO_PARAM_THREAD_POOL_MAX, hi);
        all_ok &= iothread_set_params(t, &c, NULL, NULL);
    }
    atomic_store(&tc.stop, true);
    iothread_run_sync(t, stop_torn_check, &tc);
    ok(all_ok, "400 alternating min/max swaps accepted");
    ok(atomic_load(&tc.runs) > 0, "checker ran in the iothread (%d runs)",
       atomic_load(&tc.runs));
    is_int(atomic_load(&tc.torn), 0, "the loop never saw min > max");
    iothread_free(t);
}

/* ---------------------------------------------------------------------- */

typedef struct GSourceCheck {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ran;
    pid_t tid;
} GSourceCheck;

static gboolean idle_cb(gpointer opaque)
{
    GSourceCheck *g = opaque;
    pthread_mutex_lock(&g->lock);
    g->ran = true;
    g->tid = (pid_t)syscall(SYS_gettid);
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
    return G_SOURCE_REMOVE;
}

static void test_gcontext(void)
{
    /* Initialized before the iothread starts, so its creation orders
     * these writes before the callback's reads: the source reaches the
     * thread through GLib's own locks, which ThreadSanitizer cannot see. */
    GSourceCheck g = { .lock = PTHREAD_MUTEX_INITIALIZER,
                       .cond = PTHREAD_COND_INITIALIZER };
    IOThread *t = iothread_new("glib", NULL, NULL);
    GMainContext *gctx = iothread_get_g_main_context(t);

    ok(gctx != NULL && gctx == iothread_get_g_main_context(t),
       "GMainContext created once");
    GSource *src = g_idle_source_new();
    g_source_set_callback(src, idle_cb, &g, NULL);
    g_source_attach(src, gctx);
    g_source_unref(src);
    pthread_mutex_lock(&g.lock);
    while (!g.ran) {
        pthread_cond_wait(&g.cond, &g.lock);
    }
    pthread_mutex_unlock(&g.lock);
    is_int(g.tid, iothread_get_thread_id(t), "GLib source ran in the iothread");

    /* The AioContext still works under the GLib loop. */
    atomic_store(&bh_runs, 0);
    aio_bh_schedule_oneshot(iothread_get_aio_context(t), count_bh, NULL);
    InsideCheck c = { .t = t };
    iothread_run_sync(t, inside_fn, &c);
    /* BHs of one slice carry no order, so wait for the first one too. */
    for (int i = 0; i < 5000 && atomic_load(&bh_runs) != 1; i++) {
        g_usleep(1000);
    }
    ok(c.in_context && atomic_load(&bh_runs) == 1,
       "BHs run while the GLib loop drives the iothread");
    iothread_free(t);
}

static void test_registry(void)
{
    AioContext *main_ctx = aio_context_new(NULL);
    aio_set_current_context(main_ctx);
    ObjectRegistry *reg = object_registry_new(main_ctx);
    GError *err = NULL;
    const char *id;

    ok(object_id_validate("io0", NULL) && object_id_validate("a-b.c_d9", NULL),
       "good ids accepted");
    ok(!object_id_validate("0io", &err) && strstr(err->message, "expects an identifier"),
       "id starting with a digit refused, QEMU's text");
    g_clear_error(&err);
    ok(!object_id_validate("", NULL) && !object_id_validate("a b", NULL) &&
       !object_id_validate("a/b", NULL) && !object_id_validate("-a", NULL),
       "empty id, space, slash, leading dash refused");

    ok(object_registry_add_iothread(reg, "io0", NULL, NULL) != NULL, "add io0");
    ok(!object_registry_add_iothread(reg, "io0", NULL, &err) &&
       g_error_matches(err, REGISTRY_ERROR, REGISTRY_ERROR_DUPLICATE) &&
       strstr(err->message, "duplicate property 'io0'"), "duplicate io0");
    g_clear_error(&err);
    ok(!object_registry_add_iothread(reg, "main-loop", NULL, &err) &&
       g_error_matches(err, REGISTRY_ERROR, REGISTRY_ERROR_DUPLICATE),
       "main-loop id taken");
    g_clear_error(&err);
    object_registry_add_iothread(reg, "io1", NULL, NULL);
    guint n;
    IOThread *const *all = object_registry_iothreads(reg, &n);
    ok(n == 2 && strcmp(iothread_get_id(all[0]), "io0") == 0 &&
       strcmp(iothread_get_id(all[1]), "io1") == 0, "creation order kept");

    is_int(object_registry_resolve(reg, "/objects/io1", &id),
           REGISTRY_PATH_IOTHREAD, "/objects/io1 is an iothread");
    ok(id && strcmp(id, "io1") == 0, "resolved id");
    is_int(object_registry_resolve(reg, "/objects/", NULL),
           REGISTRY_PATH_CONTAINER, "/objects/ is the container");
    is_int(object_registry_resolve(reg, "/objects/main-loop", NULL),
           REGISTRY_PATH_MAIN_LOOP, "/objects/main-loop");
    is_int(object_registry_resolve(reg, "/objects/nope", NULL),
           REGISTRY_PATH_NONE, "missing object");
    is_int(object_registry_resolve(reg, "/machine", NULL), REGISTRY_PATH_NONE,
           "other path");

    ok(!object_registry_del(reg, "nope", NULL, &err) &&
       g_error_matches(err, REGISTRY_ERROR, REGISTRY_ERROR_NOT_FOUND),
       "delete unknown id refused");
    g_clear_error(&err);
    ok(!object_registry_del(reg, "main-loop", NULL, &err), "main-loop stays");
    g_clear_error(&err);
    ok(object_registry_del(reg, "io0", NULL, NULL) &&
       !object_registry_find_iothread(reg, "io0"), "io0 deleted");

    AioParams c = { 0 };
    aio_params_set(&c, AIO_PARAM_THREAD_POOL_MIN, 3);
    aio_params_set(&c, AIO_PARAM_THREAD_POOL_MAX, 4);
    AioParams p;
    ok(object_registry_main_loop_set(reg, &c, NULL, NULL), "main-loop set");
    object_registry_main_loop_params(reg, &p);
    ok(p.thread_pool_min == 3 && p.thread_pool_max == 4,
       "main context has the new pool size");

    object_registry_free(reg);
    aio_set_current_context(NULL);
    aio_context_unref(main_ctx);
}

int main(void)
{
    test_param_names();
    test_lifecycle();
    test_drain();
    test_drain_pool();
    test_never_torn();
    test_gcontext();
    test_registry();
    return done_testing();
}
