/*
 * cpu-affinity without QMP: the cpulist parser (each refusal and the
 * canonical form), the check against the allowed CPUs, and an IOThread
 * whose thread and pool workers (alive and created later) run on the set
 * it was given, read back with sched_getaffinity on each thread's tid.
 * The IOThread checks need two CPUs and are skipped, with the reason, on
 * one.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu-affinity.h"
#include "iothread.h"
#include "aioctx/thread-pool.h"
#include "tap.h"

/* The canonical text of @text, or NULL with the error in *@message. */
static char *canonical(const char *text, char **message)
{
    cpu_set_t set;
    GError *err = NULL;

    if (!cpu_affinity_parse(text, &set, &err)) {
        *message = g_strdup(err->message);
        g_error_free(err);
        return NULL;
    }
    *message = NULL;
    return cpu_affinity_format(&set);
}

static void expect_refused(const char *text, const char *needle)
{
    g_autofree char *message = NULL;
    g_autofree char *got = canonical(text, &message);

    ok(!got && message && strstr(message, needle),
       "'%s' is refused naming the problem (%s)", text,
       message ? message : got);
}

static void test_parser_refuses_malformed_lists(void)
{
    expect_refused("3-1", "'3-1' is a decreasing range");
    expect_refused("x", "'x' is not a CPU number");
    expect_refused("1,,2", "has an empty element");
    expect_refused("1,", "has an empty element");
    expect_refused("-1", "'-1' is not a CPU number");
    expect_refused("1-", "'1-' is not a CPU number");
    expect_refused(" 1", "is not a CPU number");
    expect_refused("+1", "is not a CPU number");
    expect_refused("0x1", "is not a CPU number");
    expect_refused("1024", "0 to 1023");
    expect_refused("1-2-3", "is not a CPU number");
}

static void test_parser_gives_canonical_form(void)
{
    static const char *const cases[][2] = {
        { "", "" }, { "0", "0" }, { "3,0,1,2", "0-3" }, { "0-3,8", "0-3,8" },
        { "8,0-3", "0-3,8" }, { "1-1", "1" }, { "2,2,2", "2" },
        { "0-2,1-4", "0-4" }, { "1023", "1023" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *message = NULL;
        g_autofree char *got = canonical(cases[i][0], &message);
        ok(got && strcmp(got, cases[i][1]) == 0, "'%s' reads back as '%s' "
           "(got '%s')", cases[i][0], cases[i][1], got ? got : message);
    }
}

static void test_check_refuses_cpus_outside_allowed(void)
{
    cpu_set_t allowed;
    GError *err = NULL;
    g_autofree char *text = NULL;

    CPU_ZERO(&allowed);
    CPU_SET(0, &allowed);
    CPU_SET(1, &allowed);
    bool refused = !cpu_affinity_check("1-3", &allowed, NULL, NULL, &err);
    ok(refused && strstr(err->message, "CPU 2-3 are not in the daemon's "
                         "allowed set 0-1"),
       "CPUs outside the allowed set are named (%s)",
       refused ? err->message : "accepted");
    g_clear_error(&err);
    bool passed = cpu_affinity_check("1,0", &allowed, &text, NULL, &err);
    ok(passed && strcmp(text, "0-1") == 0,
       "CPUs inside it pass, canonical '%s'", passed ? text : err->message);
    g_clear_error(&err);
}

/* The CPUs thread @tid of this process may run on, as a cpulist. */
static char *thread_cpus(pid_t tid)
{
    cpu_set_t set;

    if (sched_getaffinity(tid, sizeof(set), &set) < 0) {
        return g_strdup("(gone)");
    }
    return cpu_affinity_format(&set);
}

/* The tids of this process's pool workers (threads named aiopool*). */
static GArray *pool_worker_tids(void)
{
    GArray *tids = g_array_new(FALSE, FALSE, sizeof(pid_t));
    GDir *dir = g_dir_open("/proc/self/task", 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("/proc/self/task/%s/comm",
                                                name);
        g_autofree char *comm = NULL;
        if (g_file_get_contents(path, &comm, NULL, NULL) &&
            g_str_has_prefix(comm, "aiopool")) {
            pid_t tid = (pid_t)atoi(name);
            g_array_append_val(tids, tid);
        }
    }
    if (dir) {
        g_dir_close(dir);
    }
    return tids;
}

/* Every pool worker runs on @want; @n_min of them at least. */
static bool workers_on_now(const char *want, guint n_min, char **seen)
{
    g_autoptr(GArray) tids = pool_worker_tids();
    GString *s = g_string_new(NULL);
    bool all = tids->len >= n_min;

    for (guint i = 0; i < tids->len; i++) {
        g_autofree char *cpus = thread_cpus(g_array_index(tids, pid_t, i));
        g_string_append_printf(s, "%s%s", s->len ? " " : "", cpus);
        all = all && strcmp(cpus, want) == 0;
    }
    *seen = g_string_free(s, FALSE);
    return all;
}

/* workers_on_now, waited for: a new worker names itself (aiopool*) only
 * once it runs.  The deadline only guards against a hang. */
static bool workers_on(const char *want, guint n_min, char **seen)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    for (;;) {
        bool all = workers_on_now(want, n_min, seen);
        if (all || g_get_monotonic_time() > deadline) {
            return all;
        }
        g_free(*seen);
        g_usleep(1000);
    }
}

static IOThread *start_iothread(int64_t pool_min)
{
    AioParams p = { 0 };
    GError *err = NULL;

    aio_params_set(&p, AIO_PARAM_THREAD_POOL_MIN, pool_min);
    IOThread *t = iothread_new("aff", &p, &err);
    if (!t) {
        diag("iothread_new: %s", err->message);
        g_error_free(err);
    }
    return t;
}

static void test_iothread_thread_follows_affinity(void)
{
    IOThread *t = start_iothread(0);
    GError *err = NULL;
    bool changed = false;
    cpu_set_t allowed;

    if (!ok(t != NULL, "an iothread starts")) {
        return;
    }
    bool applied = iothread_set_cpu_affinity(t, "1", &changed, &err);
    ok(applied && changed, "cpu-affinity '1' is applied");
    g_autofree char *now = thread_cpus(iothread_get_thread_id(t));
    ok(strcmp(now, "1") == 0, "the iothread's thread runs on CPU 1 (%s)", now);
    ok(strcmp(iothread_get_cpu_affinity(t), "1") == 0, "and reads back '1' (%s)", iothread_get_cpu_affinity(t));
    ok(!iothread_set_cpu_affinity(t, "0-1023", NULL, &err) && err,
       "a set beyond the allowed CPUs is refused");
    g_clear_error(&err);
    g_autofree char *after = thread_cpus(iothread_get_thread_id(t));
    ok(strcmp(after, "1") == 0, "and changes nothing (%s)", after);
    applied = iothread_set_cpu_affinity(t, "", &changed, &err);
    ok(applied && changed, "'' (inherit) is applied");
    cpu_affinity_allowed(&allowed);
    g_autofree char *all = cpu_affinity_format(&allowed);
    g_autofree char *back = thread_cpus(iothread_get_thread_id(t));
    ok(strcmp(back, all) == 0, "the thread is back on the allowed CPUs %s (%s)",
       all, back);
    iothread_free(t);
}

static void raise_pool_min(void *opaque)
{
    AioContext *ctx = opaque;
    AioParams p = { 0 };

    aio_params_set(&p, AIO_PARAM_THREAD_POOL_MIN, 4);
    aio_context_set_params(ctx, &p, NULL);
}

static void test_pool_workers_follow_affinity(void)
{
    IOThread *t = start_iothread(2);
    GError *err = NULL;
    g_autofree char *seen = NULL;
    g_autofree char *later = NULL;
    g_autofree char *back = NULL;

    if (!ok(t != NULL, "an iothread with 2 pool workers starts")) {
        return;
    }
    ok(iothread_set_cpu_affinity(t, "1", NULL, &err), "cpu-affinity '1'");
    bool moved = workers_on("1", 2, &seen);
    ok(moved, "both workers alive moved to CPU 1 (%s)", seen);
    iothread_run_sync(t, raise_pool_min, iothread_get_aio_context(t));
    bool started_on = workers_on("1", 4, &later);
    ok(started_on, "workers created later start on CPU 1 (%s)", later);
    ok(iothread_set_cpu_affinity(t, "0", NULL, &err), "cpu-affinity '0'");
    bool followed = workers_on("0", 4, &back);
    ok(followed, "every worker follows to CPU 0 (%s)", back);
    iothread_free(t);
}

int main(void)
{
    cpu_set_t allowed;

    test_parser_refuses_malformed_lists();
    test_parser_gives_canonical_form();
    test_check_refuses_cpus_outside_allowed();
    cpu_affinity_allowed(&allowed);
    if (!CPU_ISSET(0, &allowed) || !CPU_ISSET(1, &allowed)) {
        skip(2, "the IOThread checks need CPUs 0 and 1 (allowed: %d CPUs)",
             CPU_COUNT(&allowed));
        return done_testing();
    }
    test_iothread_thread_follows_affinity();
    test_pool_workers_follow_affinity();
    return done_testing();
}
